#!/usr/bin/env bash
# A local Apache Kafka 3.9.1 in KRaft mode, from the official jars on Maven Central (pinned in pom.xml).
#
#   kafka.sh fetch                         jars into the cache (once; reused), prints the libs directory
#   kafka.sh start --dir DIR --port P --controller-port C [--node-id N] [--voters LIST]
#                  [--cluster-id ID] [--set key=value]...
#                                          one combined broker+controller node, data and log under DIR;
#                                          returns when the broker answers, prints 127.0.0.1:P
#   kafka.sh stop --dir DIR                SIGTERM, wait (KAFKA_STOP_TIMEOUT, 15 s), then SIGKILL
#   kafka.sh kill --dir DIR                SIGKILL
#   kafka.sh start-cluster --dir DIR --base-port P
#                                          3 combined nodes (ids 1..3): broker ports P..P+2, controller
#                                          ports P+3..P+5, replication 3, min.insync.replicas 2; prints
#                                          the bootstrap list (also in DIR/bootstrap)
#   kafka.sh stop-cluster --dir DIR | kill-cluster --dir DIR
#   kafka.sh kill-node --dir DIR --node N | stop-node --dir DIR --node N | restart-node --dir DIR --node N
#   kafka.sh create-topic --bootstrap B --topic T [--partitions N] [--replication-factor R] [--config k=v]...
#   kafka.sh delete-topic --bootstrap B --topic T
#   kafka.sh add-partitions --bootstrap B --topic T --partitions N      (N: the new total)
#   kafka.sh describe-topic --bootstrap B --topic T                     (TopicCommand --describe: its Configs)
#   kafka.sh delete-records --bootstrap B --topic T --partition P --offset O
#                                          the partition's records before O are deleted (its log start
#                                          offset becomes O), as retention would
#
#   kafka.sh create-topic BOOTSTRAP TOPIC PARTITIONS    (the same, positional)
#
# Environment: KAFKA_CACHE (default ${XDG_CACHE_HOME:-$HOME/.cache}/flight-route-stream/kafka-3.9.1; the jars
# go to its libs/, reused once its .complete stamp matches pom.xml), KAFKA_LIBS (overrides the libs directory),
# KAFKA_HEAP_OPTS (default -Xms256m -Xmx1g; -Xms256m -Xmx512m per cluster node),
# KAFKA_START_TIMEOUT (60 s), KAFKA_STOP_TIMEOUT (15 s).
set -euo pipefail

KAFKA_VERSION=3.9.1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache_root=${KAFKA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flight-route-stream/kafka-$KAFKA_VERSION}
libs=${KAFKA_LIBS:-$cache_root/libs}
stamp_name=.complete

log() { echo "kafka: $*" >&2; }
die() { echo "kafka: error: $*" >&2; exit 1; }

# The stamp holds the pom's checksum: a changed pom (another version) fetches again.
pom_sum() { sha256sum "$here/pom.xml" | cut -d' ' -f1; }

libs_complete() { [ -f "$libs/$stamp_name" ] && [ "$(cat "$libs/$stamp_name")" = "$(pom_sum)" ]; }

cmd_fetch() {
    if libs_complete; then
        echo "$libs"
        return 0
    fi
    command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
    command -v java >/dev/null || die "java not found (apt-get install default-jre-headless; Java 17+)"
    mkdir -p "$(dirname "$libs")"
    # Two runs fetching at once: the second waits for the first, then finds the stamp.
    exec 9>"$(dirname "$libs")/.fetch.lock"
    flock 9
    if libs_complete; then
        exec 9>&-
        echo "$libs"
        return 0
    fi
    local tmp="$libs.tmp.$$" t0=$SECONDS
    rm -rf "$tmp"
    log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $libs"
    if ! mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$tmp" \
            -DincludeScope=runtime -Dstyle.color=never >&2; then
        rm -rf "$tmp"
        die "could not fetch the Kafka jars with Maven (offline? a proxy needs ~/.m2/settings.xml)"
    fi
    [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; }
    pom_sum >"$tmp/$stamp_name"
    rm -rf "$libs"
    mv "$tmp" "$libs"
    exec 9>&-
    log "fetched $(find "$libs" -name '*.jar' | wc -l) jars in $((SECONDS - t0)) s"
    echo "$libs"
}

ensure_libs() { cmd_fetch >/dev/null; }

java_cp() { java -cp "$libs/*" "$@"; }

random_cluster_id() {
    # Kafka's Uuid: 16 random bytes, URL-safe base64 without padding, never starting with '-'.
    python3 -c 'import base64, os
while True:
    s = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

# A zombie counts as dead: in a container whose PID 1 does not reap, kill -0 succeeds on it forever.
alive() { kill -0 "$1" 2>/dev/null && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

pid_of() { # prints the pid of the node under $1 if it is running
    local pidfile="$1/kafka.pid" pid
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile")
    [ -n "$pid" ] && alive "$pid" || return 1
    echo "$pid"
}

port_in_use() {
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
EOF
}

write_config() { # dir node_id port controller_port voters cluster(0|1) extra...
    local dir=$1 id=$2 port=$3 cport=$4 voters=$5 cluster=$6
    shift 6
    mkdir -p "$dir/data"
    {
        echo "# Written by deploy/kafka/kafka.sh: single combined broker+controller node (KRaft)."
        echo "process.roles=broker,controller"
        echo "node.id=$id"
        echo "controller.quorum.voters=$voters"
        echo "listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
        echo "advertised.listeners=PLAINTEXT://127.0.0.1:$port"
        echo "controller.listener.names=CONTROLLER"
        echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        echo "inter.broker.listener.name=PLAINTEXT"
        echo "log.dirs=$dir/data"
        echo "num.partitions=1"
        echo "auto.create.topics.enable=false"
        echo "delete.topic.enable=true"
        echo "group.initial.rebalance.delay.ms=0"
        echo "log.retention.hours=87600"
        echo "log.retention.bytes=-1"
        echo "log.segment.bytes=268435456"
        echo "message.max.bytes=10485760"
        echo "num.network.threads=3"
        echo "num.io.threads=4"
        if [ "$cluster" = 1 ]; then
            echo "default.replication.factor=3"
            echo "min.insync.replicas=2"
            echo "offsets.topic.replication.factor=3"
            echo "transaction.state.log.replication.factor=3"
            echo "transaction.state.log.min.isr=2"
        else
            echo "offsets.topic.replication.factor=1"
            echo "transaction.state.log.replication.factor=1"
            echo "transaction.state.log.min.isr=1"
        fi
        local kv
        for kv in "$@"; do echo "$kv"; done
    } >"$dir/server.properties"
    cat >"$dir/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
# One INFO line that says the broker is up (handy in kafka.log).
log4j.logger.kafka.server.KafkaRaftServer=INFO
EOF
}

# Launches the node under $dir in the background (its own session, so a Ctrl-C in the calling terminal
# reaches the caller's trap, which stops services before the broker). Does not wait.
launch() { # dir heap
    local dir=$1 heap=$2
    if pid_of "$dir" >/dev/null; then
        log "node in $dir already running (pid $(cat "$dir/kafka.pid"))"
        return 0
    fi
    local port p
    port=$(sed -n 's|^listeners=PLAINTEXT://127.0.0.1:\([0-9]*\),CONTROLLER://127.0.0.1:\([0-9]*\)$|\1 \2|p' \
        "$dir/server.properties")
    for p in $port; do
        port_in_use "$p" && die "port $p on 127.0.0.1 is already in use (another broker?); choose other ports"
    done
    if [ ! -f "$dir/data/meta.properties" ]; then
        local cid
        cid=$(cat "$dir/cluster.id")
        java_cp -Dlog4j.configuration="file:$dir/log4j.properties" kafka.tools.StorageTool format \
            -t "$cid" -c "$dir/server.properties" >"$dir/format.log" 2>&1 ||
            { cat "$dir/format.log" >&2; die "formatting the storage under $dir/data failed"; }
    fi
    # shellcheck disable=SC2016,SC2086 # $$ and the positional parameters expand in the child shell.
    setsid bash -c 'echo $$ >"$1/kafka.pid"; shift; exec "$@"' _ "$dir" \
        java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$dir/log4j.properties" -Dkafka.logs.dir="$dir" \
        -cp "$libs/*" kafka.Kafka "$dir/server.properties" </dev/null >>"$dir/kafka.log" 2>&1 &
    for _ in $(seq 50); do [ -s "$dir/kafka.pid" ] && break; sleep 0.1; done
}

# Waits until the node under $dir answers metadata requests as itself; fails with the log tail.
wait_ready() { # dir node_id port
    local dir=$1 id=$2 port=$3 deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-60}))
    while [ $SECONDS -lt $deadline ]; do
        if ! pid_of "$dir" >/dev/null; then
            tail -n 40 "$dir/kafka.log" >&2 || true
            die "broker $id (port $port) exited during start-up; log: $dir/kafka.log"
        fi
        if kcat -b "127.0.0.1:$port" -L -m 2 2>/dev/null | grep -q "broker $id at 127.0.0.1:$port"; then
            return 0
        fi
        sleep 0.5
    done
    tail -n 40 "$dir/kafka.log" >&2 || true
    die "broker $id did not answer on 127.0.0.1:$port within ${KAFKA_START_TIMEOUT:-60} s; log: $dir/kafka.log"
}

stop_nodes() { # signal dir... : signals all first (a quorum of controllers stays up meanwhile), then waits
    local sig=$1 d pid deadline pids=()
    shift
    for d in "$@"; do
        pid=$(pid_of "$d") || { rm -f "$d/kafka.pid"; continue; }
        kill -"$sig" "$pid" 2>/dev/null || true
        pids+=("$pid")
    done
    deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT:-15}))
    for pid in ${pids[@]+"${pids[@]}"}; do
        while alive "$pid" && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
        if alive "$pid"; then
            log "broker pid $pid did not stop within ${KAFKA_STOP_TIMEOUT:-15} s; SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        while alive "$pid"; do sleep 0.1; done
    done
    for d in "$@"; do rm -f "$d/kafka.pid"; done
}
stop_node() { stop_nodes "$2" "$1"; } # dir signal

# ---- argument parsing: every subcommand takes --name value pairs ----
dir="" port="" cport="" node_id=1 voters="" cluster_id="" base_port="" node="" bootstrap=""
topic="" partitions=3 rf="" partition="" offset="" sets=() configs=()
parse() {
    while [ $# -gt 0 ]; do
        [ $# -ge 2 ] || die "$1 needs a value"
        case $1 in
            --dir) dir=$2 ;;
            --port) port=$2 ;;
            --controller-port) cport=$2 ;;
            --node-id) node_id=$2 ;;
            --voters) voters=$2 ;;
            --cluster-id) cluster_id=$2 ;;
            --base-port) base_port=$2 ;;
            --node) node=$2 ;;
            --set) sets+=("$2") ;;
            --bootstrap) bootstrap=$2 ;;
            --topic) topic=$2 ;;
            --partitions) partitions=$2 ;;
            --replication-factor) rf=$2 ;;
            --config) configs+=("$2") ;;
            --partition) partition=$2 ;;
            --offset) offset=$2 ;;
            *) die "unknown option $1" ;;
        esac
        shift 2
    done
}
need() { local v; for v in "$@"; do [ -n "${!v}" ] || die "--${v//_/-} is required"; done; }
absdir() { mkdir -p "$1" && (cd "$1" && pwd); }

cmd_start() {
    need dir port cport
    dir=$(absdir "$dir")
    ensure_libs
    [ -n "$voters" ] || voters="$node_id@127.0.0.1:$cport"
    if [ ! -f "$dir/cluster.id" ]; then
        [ -n "$cluster_id" ] || cluster_id=$(random_cluster_id)
        echo "$cluster_id" >"$dir/cluster.id"
    fi
    local cluster=0
    [[ $voters == *,* ]] && cluster=1
    write_config "$dir" "$node_id" "$port" "$cport" "$voters" "$cluster" ${sets[@]+"${sets[@]}"}
    local t0=$SECONDS
    launch "$dir" "${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g}"
    wait_ready "$dir" "$node_id" "$port"
    log "broker $node_id ready on 127.0.0.1:$port in $((SECONDS - t0)) s (pid $(cat "$dir/kafka.pid"), log $dir/kafka.log)"
    echo "127.0.0.1:$port"
}

cluster_node_ports() { # base node -> "port cport"
    echo "$(($1 + $2 - 1)) $(($1 + $2 + 2))"
}

cmd_start_cluster() {
    need dir base_port
    dir=$(absdir "$dir")
    ensure_libs
    local cid n p c list="" boot=""
    if [ -f "$dir/cluster.id" ]; then cid=$(cat "$dir/cluster.id"); else cid=${cluster_id:-$(random_cluster_id)}; echo "$cid" >"$dir/cluster.id"; fi
    echo "$base_port" >"$dir/base-port"
    for n in 1 2 3; do
        read -r p c < <(cluster_node_ports "$base_port" "$n")
        list+="${list:+,}$n@127.0.0.1:$c"
        boot+="${boot:+,}127.0.0.1:$p"
    done
    for n in 1 2 3; do
        read -r p c < <(cluster_node_ports "$base_port" "$n")
        mkdir -p "$dir/node-$n"
        echo "$cid" >"$dir/node-$n/cluster.id"
        write_config "$dir/node-$n" "$n" "$p" "$c" "$list" 1 ${sets[@]+"${sets[@]}"}
    done
    local t0=$SECONDS
    # All three first: the controllers need a quorum before any broker is ready.
    for n in 1 2 3; do launch "$dir/node-$n" "${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"; done
    for n in 1 2 3; do
        read -r p c < <(cluster_node_ports "$base_port" "$n")
        wait_ready "$dir/node-$n" "$n" "$p"
    done
    echo "$boot" >"$dir/bootstrap"
    log "3-node cluster ready in $((SECONDS - t0)) s: $boot"
    echo "$boot"
}

cmd_node() { # stop|kill|restart
    need dir node
    local ndir="$dir/node-$node" p c
    [ -d "$ndir" ] || die "no node $node under $dir"
    case $1 in
        stop) stop_node "$ndir" TERM ;;
        kill) stop_node "$ndir" KILL ;;
        restart)
            ensure_libs
            stop_node "$ndir" TERM
            read -r p c < <(cluster_node_ports "$(cat "$dir/base-port")" "$node")
            launch "$ndir" "${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
            wait_ready "$ndir" "$node" "$p"
            log "node $node restarted"
            ;;
    esac
}

# The broker's own command-line tools (kafka-tools), with log4j quiet on stderr.
run_tool() { # class args...
    ensure_libs
    local l4j rc=0
    l4j=$(mktemp)
    printf 'log4j.rootLogger=WARN, stderr\nlog4j.appender.stderr=org.apache.log4j.ConsoleAppender\nlog4j.appender.stderr.Target=System.err\nlog4j.appender.stderr.layout=org.apache.log4j.PatternLayout\nlog4j.appender.stderr.layout.ConversionPattern=%%p %%m%%n\n' >"$l4j"
    # The tool's output goes to stderr, so that a subcommand prints only its result; describe-topic's is its result.
    if [ "${TOOL_STDOUT:-0}" = 1 ]; then
        java_cp -Dlog4j.configuration="file:$l4j" "$@" || rc=$?
    else
        java_cp -Dlog4j.configuration="file:$l4j" "$@" >&2 || rc=$?
    fi
    rm -f "$l4j"
    return "$rc"
}

cmd_create_topic() {
    need bootstrap topic
    local args=(--bootstrap-server "$bootstrap" --create --if-not-exists --topic "$topic" --partitions "$partitions")
    [ -n "$rf" ] && args+=(--replication-factor "$rf")
    local kv
    for kv in ${configs[@]+"${configs[@]}"}; do args+=(--config "$kv"); done
    run_tool org.apache.kafka.tools.TopicCommand "${args[@]}" || die "creating topic $topic failed"
}

cmd_delete_topic() {
    need bootstrap topic
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --delete --topic "$topic" ||
        die "deleting topic $topic failed"
}

cmd_add_partitions() {
    need bootstrap topic
    run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --alter --topic "$topic" \
        --partitions "$partitions" || die "adding partitions to $topic failed"
}

cmd_describe_topic() {
    need bootstrap topic
    TOOL_STDOUT=1 run_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --describe \
        --topic "$topic" ||
        die "describing $topic failed"
}

cmd_delete_records() {
    need bootstrap topic partition offset
    local spec
    spec=$(mktemp)
    printf '{"version":1,"partitions":[{"topic":"%s","partition":%d,"offset":%d}]}\n' "$topic" "$partition" \
        "$offset" >"$spec"
    run_tool org.apache.kafka.tools.DeleteRecordsCommand --bootstrap-server "$bootstrap" --offset-json-file "$spec" ||
        { rm -f "$spec"; die "deleting records of $topic [$partition] before $offset failed"; }
    rm -f "$spec"
}

[ $# -ge 1 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
sub=$1
shift
# create-topic BOOTSTRAP TOPIC PARTITIONS: the positional form.
if [ "$sub" = create-topic ] && [ $# -ge 2 ] && [[ $1 != --* ]]; then
    set -- --bootstrap "$1" --topic "$2" ${3:+--partitions "$3"} "${@:4}"
fi
parse "$@"
case $sub in
    fetch) cmd_fetch ;;
    start) cmd_start ;;
    stop) need dir; stop_node "$dir" TERM ;;
    kill) need dir; stop_node "$dir" KILL ;;
    start-cluster) cmd_start_cluster ;;
    stop-cluster | kill-cluster)
        need dir
        sig=TERM; [ "$sub" = kill-cluster ] && sig=KILL
        nodes=()
        for n in 1 2 3; do if [ -d "$dir/node-$n" ]; then nodes+=("$dir/node-$n"); fi; done
        stop_nodes "$sig" ${nodes[@]+"${nodes[@]}"}
        ;;
    stop-node) cmd_node stop ;;
    kill-node) cmd_node kill ;;
    restart-node) cmd_node restart ;;
    create-topic) cmd_create_topic ;;
    delete-topic) cmd_delete_topic ;;
    add-partitions) cmd_add_partitions ;;
    describe-topic) cmd_describe_topic ;;
    delete-records) cmd_delete_records ;;
    *) die "unknown subcommand $sub (fetch, start, stop, kill, start-cluster, stop-cluster, kill-cluster, stop-node, kill-node, restart-node, create-topic, delete-topic, add-partitions, describe-topic, delete-records)" ;;
esac
