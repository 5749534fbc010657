#!/usr/bin/env bash
# Query-service benchmark, each figure beside its peer in the same run (see query_bench.py):
# catch-up vs kcat -C, event-to-view p99 at 20,000 events/s, wrk on /top10_source_airport vs nginx,
# a full /dump_table vs nginx serving the same bytes, RSS after 1,000,000 events vs kcat -C.
#   tests/bench/query.sh            KAFKA_BOOTSTRAP_SERVERS=host:9092 tests/bench/query.sh
# shellcheck source=prepare.sh
source "$(dirname "$0")/prepare.sh"
/usr/bin/python3 tests/bench/query_bench.py
