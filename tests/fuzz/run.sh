#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (-DFUZZ=ON) in their own build directory and runs each for
# FUZZ_SECONDS (default 20) on a throwaway copy of its seed corpus, so the committed corpus never grows.
# Exits non-zero if a target crashes (the reproducer is kept and its path printed) or does not build.
#   FUZZ_SECONDS=20 tests/fuzz/run.sh            # all targets
#   tests/fuzz/run.sh fuzz_route_codec_decode     # some of them
# Environment: FUZZ_SECONDS, FUZZ_BUILD_DIR (default build-fuzz), CC (default clang), FUZZ_JOBS (make -j).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}
seconds=${FUZZ_SECONDS:-20}
cc=${CC:-clang}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (apt-get install clang libclang-rt-dev, or set CC)" >&2
    exit 2
fi

cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER="$cc" -DFUZZ=ON -DSANITIZE=OFF >/dev/null
make -C "$build" -j"${FUZZ_JOBS:-$(nproc)}" fuzzers >/dev/null

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=()
    for src in "$root"/tests/fuzz/fuzz_*.c; do
        name=$(basename "$src" .c)
        targets+=("$name")
    done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz.XXXXXX")
failed=()
for name in "${targets[@]}"; do
    bin=$(find "$build" -type f -name "$name" -perm -u+x | head -n 1)
    if [ -z "$bin" ]; then
        echo "fuzz: $name was not built" >&2
        failed+=("$name")
        continue
    fi
    corpus="$work/$name/corpus"
    artifacts="$work/$name/artifacts/"
    mkdir -p "$corpus" "$artifacts"
    seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
    if [ -d "$seeds" ]; then
        cp -R "$seeds"/. "$corpus"/
    else
        echo "fuzz: $name has no seed corpus in ${seeds#"$root"/}" >&2
    fi
    echo "fuzz: $name for ${seconds}s ($(find "$corpus" -type f | wc -l) seeds)"
    if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$artifacts" "$corpus" >"$work/$name/log" 2>&1; then
        echo "fuzz: $name FAILED; last lines of $work/$name/log:" >&2
        tail -n 40 "$work/$name/log" >&2
        ls "$artifacts" | sed "s|^|fuzz: reproducer $artifacts|" >&2
        failed+=("$name")
        continue
    fi
    grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$work/$name/log" | sed "s/^/fuzz: $name /"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]} (work dir kept: $work)" >&2
    exit 1
fi
rm -rf "$work"
echo "fuzz: all ${#targets[@]} targets ran ${seconds}s clean"
