#!/usr/bin/env bash
# Query-service benchmark, each figure beside its peer in the same run (see query_bench.py):
# catch-up vs kcat -C, event-to-view p99 at 20,000 events/s, wrk on /top10_source_airport vs nginx,
# a full /dump_table vs nginx serving the same bytes, RSS after 1,000,000 events vs kcat -C.
#   tests/bench/query.sh            KAFKA_BOOTSTRAP_SERVERS=host:9092 tests/bench/query.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=../../deploy/lib.sh
source deploy/lib.sh
need_packages --tests
obtain_routes
build_project >&2
start_kafka_if_needed >&2
/usr/bin/python3 tests/bench/query_bench.py
