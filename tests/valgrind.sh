#!/usr/bin/env bash
# Runs every unit test executable (tests/unit/test_*.c, built as $BUILD_DIR/tests/test_*) under valgrind
# memcheck; any memory error or definitely lost block fails it. Use the normal build, not the ASan one
# (ASan and valgrind do not mix). tests/run.sh calls it in its non-SANITIZE pass unless RUN_VALGRIND=0.
#   tests/valgrind.sh                     # every unit test of build/
#   tests/valgrind.sh test_buf test_views # some of them
# Environment: BUILD_DIR (default build), VALGRIND_ARGS (extra valgrind options). Some tests talk to the
# broker in KAFKA_BOOTSTRAP_SERVERS when it is set, as under ctest.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD_DIR:-$root/build}
[[ $build == /* ]] || build=$root/$build

if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind: not installed (apt-get install valgrind)" >&2
    exit 2
fi
if grep -qs '^SANITIZE:BOOL=ON' "$build/CMakeCache.txt"; then
    echo "valgrind: $build is the sanitizer build; run it on the normal build (BUILD_DIR=build)" >&2
    exit 2
fi

if [ $# -gt 0 ]; then
    names=("$@")
else
    names=()
    for src in "$root"/tests/unit/test_*.c; do
        names+=("$(basename "$src" .c)")
    done
fi
[ ${#names[@]} -gt 0 ] || { echo "valgrind: no unit tests found" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/valgrind.XXXXXX")
failed=()
# ctest runs the unit tests from $build/tests: so do we, with the same relative paths.
cd "$build/tests"
for name in "${names[@]}"; do
    if [ ! -x "./$name" ]; then
        echo "valgrind: $name was not built in $build/tests" >&2
        failed+=("$name")
        continue
    fi
    log=$work/$name.log
    # shellcheck disable=SC2086  # VALGRIND_ARGS is a list of options
    if valgrind --tool=memcheck --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite \
            --show-leak-kinds=definite --track-origins=yes --num-callers=30 ${VALGRIND_ARGS:-} \
            "./$name" >"$log" 2>&1; then
        echo "valgrind: $name clean"
    else
        echo "valgrind: $name FAILED (exit $?); last lines of $log:" >&2
        tail -n 60 "$log" >&2
        failed+=("$name")
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "valgrind: FAILED: ${failed[*]} (logs kept in $work)" >&2
    exit 1
fi
rm -rf "$work"
echo "valgrind: all ${#names[@]} unit tests clean"
