#!/usr/bin/env bash
# kafka-server-start.sh [-daemon] server.properties [--override key=value]...
# The broker (and/or controller), with the broker's logging (config/log4j.properties) and a 1 GB heap unless
# KAFKA_LOG4J_OPTS or KAFKA_HEAP_OPTS say otherwise.
set -eu
bin=$(dirname "$0")
[ $# -ge 1 ] || { echo "usage: $0 [-daemon] server.properties [--override property=value]*" >&2; exit 1; }
export KAFKA_LOG4J_OPTS=${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:$bin/../config/log4j.properties}
export KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx1G -Xms1G}
extra=(-name kafkaServer -loggc)
if [ "$1" = -daemon ]; then
    extra=(-daemon "${extra[@]}")
    shift
fi
exec "$bin/kafka-run-class.sh" "${extra[@]}" kafka.Kafka "$@"
