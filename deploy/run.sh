#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts Kafka + ingest-gateway + query-service; Ctrl-C stops
# everything it started.
#   ./deploy/run.sh
#   KAFKA_BOOTSTRAP_SERVERS=host:9092 ./deploy/run.sh     # an existing cluster instead of the local broker
#   ROUTES_FILE=/path/to/routes.dat ./deploy/run.sh       # offline
# Environment: LISTEN_ADDR (127.0.0.1), INGEST_PORT (5000), QUERY_PORT (5001), KAFKA_PORT (9092) and
# KAFKA_CONTROLLER_PORT (9093) of the local broker (data in var/kafka), SANITIZE=1 (ASan build).
set -euo pipefail
export FRS_CALLER_PWD=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=deploy/lib.sh
source deploy/lib.sh

listen=${LISTEN_ADDR:-127.0.0.1}
ingest_port=${INGEST_PORT:-5000}
query_port=${QUERY_PORT:-5001}

need_packages
obtain_routes
build_project
if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
    export LOCAL_KAFKA_DIR=$PWD/var/kafka
    export LOCAL_KAFKA_PORT=${KAFKA_PORT:-9092}
    export LOCAL_KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-9093}
fi
start_kafka_if_needed
mkdir -p var/query-state results

start_service ingest-gateway "$BUILD_DIR/services/ingest-gateway/ingest-gateway" \
    --listen "$listen" --port "$ingest_port" --bootstrap-servers "$KAFKA_BOOTSTRAP_SERVERS" \
    --routes-file "$ROUTES_FILE" --results-dir "$PWD/results"
start_service query-service "$BUILD_DIR/services/query-service/query-service" \
    --listen "$listen" --port "$query_port" --bootstrap-servers "$KAFKA_BOOTSTRAP_SERVERS" \
    --state-dir "$PWD/var/query-state" --results-dir "$PWD/results"

cat >&2 <<MSG

Running. Kafka: $KAFKA_BOOTSTRAP_SERVERS. Try:
  curl http://$listen:$ingest_port/produce                       # replay routes.dat (the seed's summary)
  curl 'http://$listen:$ingest_port/produce?async=1&loop=1&rate=1000'   # a steady stream
  curl http://$listen:$query_port/top10_source_airport
  curl http://$listen:$query_port/top10_equipment_30min_window
  curl 'http://$listen:$query_port/dump_table?limit=10'
  curl http://$listen:$query_port/status
  curl http://$listen:$ingest_port/metrics   http://$listen:$query_port/metrics
Results in results/*.csv. Ctrl-C stops everything.

MSG
# Returns when a service exits on its own (then the trap stops the rest) or on Ctrl-C.
status=0
wait -n "${FRS_SERVICE_PIDS[@]}" || status=$?
frs_log "a service exited (status $status); stopping everything"
exit "$status"
