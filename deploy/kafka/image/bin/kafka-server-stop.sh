#!/usr/bin/env bash
# kafka-server-stop.sh: SIGTERM to every broker (kafka.Kafka) of this container; fails when none runs.
# (Kafka's own script greps `ps`; /proc does the same without procps.)
set -u
found=1
for d in /proc/[0-9]*; do
    [ "${d#/proc/}" != $$ ] || continue
    if tr '\0' ' ' <"$d/cmdline" 2>/dev/null | grep -q ' kafka\.Kafka '; then
        kill -TERM "${d#/proc/}" 2>/dev/null && found=0
    fi
done
[ $found = 0 ] || echo "No kafka server to stop" >&2
exit $found
