#!/usr/bin/env bash
# End-to-end benchmark (see e2e_bench.py): /produce of 10x routes.dat until the query-service applied the last
# event, beside kcat -P piped through the broker to kcat -C. Prints one JSON object per figure on stdout.
#   tests/bench/e2e.sh        KAFKA_BOOTSTRAP_SERVERS=host:9092 tests/bench/e2e.sh     BENCH_REPS=3 (default)
# shellcheck source=prepare.sh
source "$(dirname "$0")/prepare.sh"
/usr/bin/python3 tests/bench/e2e_bench.py
