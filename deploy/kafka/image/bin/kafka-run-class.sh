#!/usr/bin/env bash
# kafka-run-class.sh [-daemon] [-name NAME] [-loggc] CLASS [ARG]...
# Runs a Kafka class on the jars in /opt/kafka/libs, taking the same environment variables as the script of
# Kafka's binary distribution: KAFKA_HEAP_OPTS (default -Xmx256M), KAFKA_JVM_PERFORMANCE_OPTS (G1 defaults),
# KAFKA_GC_LOG_OPTS, KAFKA_JMX_OPTS and JMX_PORT, KAFKA_LOG4J_OPTS (default: config/tools-log4j.properties,
# the tools' console logging), KAFKA_OPTS, LOG_DIR (default /opt/kafka/logs), JAVA_HOME, CLASSPATH (appended).
set -eu
base=$(cd "$(dirname "$0")/.." && pwd)

daemon=0 name="" loggc=0
while [ $# -gt 0 ]; do
    case $1 in
        -daemon) daemon=1; shift ;;
        -name) name=$2; shift 2 ;;
        -loggc) loggc=1; shift ;;
        *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: $0 [-daemon] [-name NAME] [-loggc] CLASS [ARG]..." >&2; exit 1; }

java=java
[ -n "${JAVA_HOME:-}" ] && java=$JAVA_HOME/bin/java
LOG_DIR=${LOG_DIR:-$base/logs}
heap=${KAFKA_HEAP_OPTS:--Xmx256M}
perf=${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true}
jmx=${KAFKA_JMX_OPTS:--Dcom.sun.management.jmxremote -Dcom.sun.management.jmxremote.authenticate=false -Dcom.sun.management.jmxremote.ssl=false}
if [ -n "${JMX_PORT:-}" ]; then
    jmx="$jmx -Dcom.sun.management.jmxremote.port=$JMX_PORT"
    [[ $jmx == *jmxremote.rmi.port=* ]] || jmx="$jmx -Dcom.sun.management.jmxremote.rmi.port=$JMX_PORT"
fi
log4j=${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:$base/config/tools-log4j.properties}
gc=${KAFKA_GC_LOG_OPTS:-}
if [ "$loggc" = 1 ] && [ -z "$gc" ]; then
    mkdir -p "$LOG_DIR"
    gc="-Xlog:gc*:file=$LOG_DIR/${name:-kafka}-gc.log:time,tags:filecount=10,filesize=100M"
fi
cp="$base/libs/*${CLASSPATH:+:$CLASSPATH}"

# shellcheck disable=SC2086 # the *_OPTS variables are lists of words, as in Kafka's own script.
if [ "$daemon" = 1 ]; then
    mkdir -p "$LOG_DIR"
    nohup "$java" $heap $perf $gc $jmx -Dkafka.logs.dir="$LOG_DIR" $log4j -cp "$cp" ${KAFKA_OPTS:-} "$@" \
        >"$LOG_DIR/${name:-kafka}.out" 2>&1 </dev/null &
else
    exec "$java" $heap $perf $gc $jmx -Dkafka.logs.dir="$LOG_DIR" $log4j -cp "$cp" ${KAFKA_OPTS:-} "$@"
fi
