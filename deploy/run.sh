#!/usr/bin/env bash
# Quick start: installs what is missing, builds, starts Kafka + ingest-gateway + query-service and keeps them
# running (a service or the local broker that exits is started again after a back-off, with a log line); Ctrl-C
# stops everything it started.
#   ./deploy/run.sh
#   KAFKA_BOOTSTRAP_SERVERS=host:9092 ./deploy/run.sh     # an existing cluster instead of the local broker
#   ROUTES_FILE=/path/to/routes.dat ./deploy/run.sh       # offline
# Environment: LISTEN_ADDR (127.0.0.1), INGEST_PORT (5000), QUERY_PORT (5001), KAFKA_PORT (9092) and
# KAFKA_CONTROLLER_PORT (9093) of the local broker (data in var/kafka), STATE_DIR (var/query-state), RESULTS_DIR
# (results), TOPIC (routes_data), SANITIZE=1 (ASan build).
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
state_dir=${STATE_DIR:-$PWD/var/query-state}
results_dir=${RESULTS_DIR:-$PWD/results}
mkdir -p "$state_dir" "$results_dir"

supervise ingest-gateway "$BUILD_DIR/services/ingest-gateway/ingest-gateway" \
    --listen "$listen" --port "$ingest_port" --bootstrap-servers "$KAFKA_BOOTSTRAP_SERVERS" \
    --routes-file "$ROUTES_FILE" --results-dir "$results_dir"
supervise query-service "$BUILD_DIR/services/query-service/query-service" \
    --listen "$listen" --port "$query_port" --bootstrap-servers "$KAFKA_BOOTSTRAP_SERVERS" \
    --state-dir "$state_dir" --results-dir "$results_dir"

cat >&2 <<MSG

Running. Kafka: $KAFKA_BOOTSTRAP_SERVERS. Try:
  curl http://$listen:$ingest_port/produce                       # replay routes.dat (the seed's summary)
  curl 'http://$listen:$ingest_port/produce?async=1&loop=1&rate=1000'   # a steady stream
  curl http://$listen:$query_port/top10_source_airport
  curl http://$listen:$query_port/top10_equipment_30min_window
  curl 'http://$listen:$query_port/dump_table?limit=10'
  curl http://$listen:$query_port/status
  curl http://$listen:$ingest_port/metrics   http://$listen:$query_port/metrics
Results in $results_dir/*.csv. Ctrl-C stops everything.

MSG
# Runs until Ctrl-C (or SIGTERM): the services are supervised; the local broker, if any, is watched here.
while :; do
    sleep 5 &
    wait $! || true
    [ -n "${LOCAL_KAFKA_DIR:-}" ] || continue
    kafka_pid=$(cat "$LOCAL_KAFKA_DIR/kafka.pid" 2>/dev/null || true)
    if [ -z "$kafka_pid" ] || ! kill -0 "$kafka_pid" 2>/dev/null; then
        frs_log "Kafka exited; restarting it"
        "$FRS_ROOT/deploy/kafka/kafka.sh" start --dir "$LOCAL_KAFKA_DIR" --port "$LOCAL_KAFKA_PORT" \
            --controller-port "$LOCAL_KAFKA_CONTROLLER_PORT" >/dev/null || frs_log "Kafka did not start; trying again"
    fi
done
