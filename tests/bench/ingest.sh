#!/usr/bin/env bash
# Ingest benchmark: routes.dat through the gateway's /produce (acks=all) against `kcat -P` producing the
# same encoded messages to the same broker, in one run. Prints one JSON object per figure on stdout.
#   tests/bench/ingest.sh                      # local throwaway broker
#   KAFKA_BOOTSTRAP_SERVERS=host:9092 tests/bench/ingest.sh
#   BENCH_REPS=5 (default) repetitions; figures are medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../deploy/lib.sh
source deploy/lib.sh
need_packages --tests
obtain_routes
build_project >&2
start_kafka_if_needed >&2
/usr/bin/python3 tests/bench/ingest_bench.py
