#!/usr/bin/env bash
# Query-service benchmark, each figure beside its peer in the same run (see query_bench.py):
# catch-up at 1x, 10x and 50x routes.dat vs kcat -C (and RSS after each), event-to-view p99 at 20,000 events/s,
# wrk on /top10_source_airport at 64, 256 and 1,024 connections vs nginx,
# a full /dump_table vs nginx serving the same bytes.
#   tests/bench/query.sh            KAFKA_BOOTSTRAP_SERVERS=host:9092 tests/bench/query.sh
# shellcheck source=prepare.sh
source "$(dirname "$0")/prepare.sh"
/usr/bin/python3 tests/bench/query_bench.py
