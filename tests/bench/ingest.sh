#!/usr/bin/env bash
# Ingest benchmark: routes.dat through the gateway's /produce (acks=all) against `kcat -P` producing the
# same encoded messages to the same broker, in one run. Prints one JSON object per figure on stdout.
#   tests/bench/ingest.sh                      # local throwaway broker
#   KAFKA_BOOTSTRAP_SERVERS=host:9092 tests/bench/ingest.sh
#   BENCH_REPS=5 (default) repetitions; figures are medians.
# shellcheck source=prepare.sh
source "$(dirname "$0")/prepare.sh"
/usr/bin/python3 tests/bench/ingest_bench.py
