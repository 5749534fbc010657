#!/usr/bin/env bash
# Every test against a throwaway Kafka: the same set-up as deploy/run.sh, then ctest (unit and integration
# tests) and the fuzz targets. Non-zero exit on any failure; the broker is stopped whatever happened.
#   ./tests/run.sh                                   # local throwaway broker on free ports
#   KAFKA_BOOTSTRAP_SERVERS=host:9092 ./tests/run.sh # an existing cluster
#   SANITIZE=1 ./tests/run.sh                        # the ASan+UBSan build (build-asan) is the one tested
#   ./tests/run.sh -L unit                           # extra arguments go to ctest
# Environment: FUZZ_SECONDS (20), RUN_FUZZ (1), RUN_VALGRIND (1: the unit tests under valgrind memcheck, in the
# non-SANITIZE pass), ROUTES_FILE, BUILD_DIR, CTEST_PARALLEL_LEVEL.
set -euo pipefail
export FRS_CALLER_PWD=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=deploy/lib.sh
source deploy/lib.sh
t0=$SECONDS

need_packages --tests
obtain_routes
if [ "${SANITIZE:-0}" = 1 ]; then
    build_project
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    if [ -f tests/lsan.supp ]; then export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp}; fi
else
    build_project
fi
fetch_kafka # KAFKA_LIBS: the tests create topics with the broker's own TopicCommand
export LOCAL_KAFKA_TMP_PREFIX=test-kafka
start_kafka_if_needed
export BUILD_DIR SOURCE_DIR=$PWD

failed=()
frs_log "ctest in ${BUILD_DIR#"$PWD"/} against $KAFKA_BOOTSTRAP_SERVERS"
ctest --test-dir "$BUILD_DIR" --output-on-failure "$@" || failed+=(ctest)

# valgrind and ASan do not mix: memcheck runs on the normal build only.
if [ "${RUN_VALGRIND:-1}" = 1 ] && [ "${SANITIZE:-0}" != 1 ] && [ $# -eq 0 ]; then
    tests/valgrind.sh || failed+=(valgrind)
fi

if [ "${RUN_FUZZ:-1}" = 1 ] && [ -x tests/fuzz/run.sh ] && [ $# -eq 0 ]; then
    FUZZ_SECONDS=${FUZZ_SECONDS:-20} tests/fuzz/run.sh || failed+=(fuzz)
fi

if [ ${#failed[@]} -gt 0 ]; then
    frs_log "FAILED: ${failed[*]} ($((SECONDS - t0)) s)"
    exit 1
fi
frs_log "all tests passed ($((SECONDS - t0)) s)"
