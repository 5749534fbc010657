# shellcheck shell=bash
# Shared set-up for deploy/run.sh, tests/run.sh, tests/bench/*.sh and tests/deploy/. Source it from the
# repository root:
#   cd "$(dirname "$0")/.." && source deploy/lib.sh
# Functions: frs_log, frs_die, install_packages PKG..., need_packages [--tests], obtain_routes (and obtain_reference),
# download_checked, build_project, free_port [N], fetch_kafka,
# start_kafka_if_needed, supervise NAME CMD..., and a trap that stops everything started here on EXIT, INT and TERM.
# Environment read: ROUTES_FILE, AIRPORTS_FILE, AIRLINES_FILE, PLANES_FILE, SANITIZE, BUILD_DIR,
# KAFKA_BOOTSTRAP_SERVERS, LOCAL_KAFKA_DIR, LOCAL_KAFKA_PORT, LOCAL_KAFKA_CONTROLLER_PORT, LOCAL_KAFKA_TMP_PREFIX,
# KCAT_ARGS (extra kcat options, e.g. -X security.protocol=SSL, for a cluster that needs them).

# Sourced once (tests/deploy/lib.sh sources it too).
[ -z "${FRS_DEPLOY_LIB_SOURCED:-}" ] || return 0
FRS_DEPLOY_LIB_SOURCED=1
FRS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Where the user typed the command: a relative ROUTES_FILE is relative to it.
FRS_CALLER_PWD=${FRS_CALLER_PWD:-${OLDPWD:-$PWD}}
OPENFLIGHTS_DATA_URL=https://raw.githubusercontent.com/jpatokal/openflights/master/data
ROUTES_URL=$OPENFLIGHTS_DATA_URL/routes.dat
ROUTES_SHA256=bd373706238134f619c624c606dccc74c05c2582a977c489c81de501735f2390
AIRPORTS_SHA256=9387cdb38df5bd664da823f8ccb69fdd9b33a1888f5b7cca09c34a3cd9ff59f9
AIRLINES_SHA256=39be1a432e8b04ebc12860c29281c974a9cb52169c82b2456a835d66ab1548a1
PLANES_SHA256=04ba419335a6ff1fd0e0383d0454ff5162b9e39fc76c0a02271b5fc57483d3ce
# What building and running need (kcat: kafka.sh asks the local broker whether it is up) ...
FRS_PACKAGES=(libuv1-dev librdkafka-dev libh2o-dev libssl-dev libjson-c-dev libavro-dev uuid-dev pkg-config cmake
    gcc make libc6-dev kcat python3 curl ca-certificates procps)
# ... and what only the tests and benchmarks use (chromium: headless, for the dashboard's browser test, test_query_ui).
FRS_TEST_PACKAGES=(wrk nginx-light python3-avro clang valgrind chromium)
FRS_SERVICE_PIDS=()
FRS_KAFKA_DIRS=()
FRS_REMOVE_DIRS=()
FRS_CLEANED=0

frs_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
frs_die() { echo "error: $*" >&2; exit 1; }

# Installs those of the Debian packages PKG... that are missing: as root with apt-get (the package lists are
# updated only if the install fails without; two installs at once wait for dpkg's lock; no service is started by
# a package's scripts, the project starts what it needs), otherwise it prints the apt-get line to run and fails.
install_packages() {
    local missing=() p
    command -v dpkg-query >/dev/null || { frs_log "not a Debian/Ubuntu system: install $* yourself"; return 0; }
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local line="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    if [ "$(id -u)" != 0 ]; then
        echo "Missing packages. Run as root:" >&2
        echo "  $line" >&2
        exit 1
    fi
    frs_log "installing: ${missing[*]}"
    local made_policy=0 log rc=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
    fi
    log=$(mktemp)
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=600)
    { "${apt[@]}" install -y --no-install-recommends "${missing[@]}" ||
        { "${apt[@]}" update && "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; }; } >"$log" 2>&1 || rc=$?
    [ $made_policy = 0 ] || rm -f /usr/sbin/policy-rc.d
    if [ $rc -ne 0 ]; then
        tail -n 30 "$log" >&2
        rm -f "$log"
        frs_die "package installation failed: $line"
    fi
    rm -f "$log"
}

# The packages building and running need, and with --tests those of the tests and benchmarks too.
need_packages() {
    local wanted=("${FRS_PACKAGES[@]}")
    [ "${1:-}" = --tests ] && wanted+=("${FRS_TEST_PACKAGES[@]}")
    # Java 17+ and Maven: only when absent, so that a JDK installed another way is kept.
    command -v java >/dev/null || wanted+=(default-jre-headless)
    command -v mvn >/dev/null || wanted+=(maven)
    # libFuzzer ships apart from clang on Debian 12 (libclang-rt-14-dev).
    if [ "${1:-}" = --tests ] && [ "$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")" = bookworm ] &&
        { ! command -v clang >/dev/null || [ ! -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)" ]; }; then
        wanted+=(libclang-rt-14-dev)
    fi
    install_packages "${wanted[@]}"
}

# Downloads URL to DEST, checked against SHA256. @returns 0, or 1 with the reason printed (offline, or not the file).
download_checked() { # url dest sha256
    local url=$1 dest=$2 want=$3 sum
    mkdir -p "$(dirname "$dest")"
    frs_log "downloading $url"
    if ! curl -fsSL --connect-timeout 10 --max-time 30 -o "$dest.part" "$url"; then
        rm -f "$dest.part"
        echo "error: the download of $(basename "$dest") from $url failed (offline?)." >&2
        return 1
    fi
    sum=$(sha256sum "$dest.part" | cut -d' ' -f1)
    if [ "$sum" != "$want" ]; then
        rm -f "$dest.part"
        echo "error: the downloaded $(basename "$dest") has SHA-256 $sum, expected $want." >&2
        return 1
    fi
    mv "$dest.part" "$dest"
}

# Sets ROUTES_FILE (exported, absolute) to a readable routes.dat: the one named by ROUTES_FILE, or
# data/routes.dat, downloaded and checked against its SHA-256 when absent. Then obtain_reference.
obtain_routes() {
    if [ -n "${ROUTES_FILE:-}" ]; then
        local f=$ROUTES_FILE
        if [[ $f != /* ]]; then
            if [ -e "$FRS_CALLER_PWD/$f" ]; then f=$FRS_CALLER_PWD/$f; else f=$PWD/$f; fi
        fi
        { [ -f "$f" ] && [ -r "$f" ]; } || frs_die "ROUTES_FILE=$ROUTES_FILE: no such readable file"
        ROUTES_FILE=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
        [ "$(sha256sum "$ROUTES_FILE" | cut -d' ' -f1)" = "$ROUTES_SHA256" ] ||
            frs_log "warning: $ROUTES_FILE is not the reference routes.dat (SHA-256 differs); tests expect it"
        export ROUTES_FILE
        obtain_reference
        return 0
    fi
    local dest=$FRS_ROOT/data/routes.dat
    if ! [ -f "$dest" ] || [ "$(sha256sum "$dest" | cut -d' ' -f1)" != "$ROUTES_SHA256" ]; then
        download_checked "$ROUTES_URL" "$dest" "$ROUTES_SHA256" || {
            echo "       To run offline, point ROUTES_FILE at a local copy: ROUTES_FILE=/path/to/routes.dat $0" >&2
            exit 1
        }
    fi
    export ROUTES_FILE=$dest
    obtain_reference
}

# The reference files the gateway publishes beside the stream (airports.dat, airlines.dat, planes.dat, ODbL like
# routes.dat): AIRPORTS_FILE, AIRLINES_FILE and PLANES_FILE when set, else beside ROUTES_FILE, downloaded there
# with a SHA-256 check when ROUTES_FILE is the project's own data/routes.dat. Each is exported, absolute. One that
# cannot be had is a warning, not an error: the views work without it, its codes show as unknown in the joined ones.
obtain_reference() {
    local kind var f dir sha
    dir=$(dirname "$ROUTES_FILE")
    for kind in airports airlines planes; do
        var=${kind^^}_FILE
        sha=${kind^^}_SHA256
        f=${!var:-$dir/$kind.dat}
        [[ $f == /* ]] || f=$FRS_CALLER_PWD/$f
        if [ ! -f "$f" ] && [ -z "${!var:-}" ] && [ "$dir" = "$FRS_ROOT/data" ]; then
            download_checked "${OPENFLIGHTS_DATA_URL}/$kind.dat" "$f" "${!sha}" || rm -f "$f"
        fi
        if [ -f "$f" ] && [ -r "$f" ]; then
            [ "$(sha256sum "$f" | cut -d' ' -f1)" = "${!sha}" ] ||
                frs_log "warning: $f is not the reference $kind.dat (SHA-256 differs); tests expect it"
            export "$var=$f"
        else
            frs_log "warning: no $kind.dat ($f): set $var; until then the joined views show its codes as unknown"
            unset "$var"
        fi
    done
}

# Configures and builds; exports BUILD_DIR. SANITIZE=1: ASan+UBSan in build-asan. BUILD_DIR overrides.
build_project() {
    local dir args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
    if [ "${SANITIZE:-0}" = 1 ]; then
        dir=${BUILD_DIR:-$FRS_ROOT/build-asan}
        args+=(-DSANITIZE=ON)
    else
        dir=${BUILD_DIR:-$FRS_ROOT/build}
        args+=(-DSANITIZE=OFF)
    fi
    [[ $dir == /* ]] || dir=$FRS_ROOT/$dir
    frs_log "building in ${dir#"$FRS_ROOT"/} (${args[*]})"
    cmake -S "$FRS_ROOT" -B "$dir" "${args[@]}" >/dev/null || frs_die "cmake configure failed"
    cmake --build "$dir" -j"$(nproc)" || frs_die "build failed"
    export BUILD_DIR=$dir
}

# Prints N (default 1) distinct free TCP ports of 127.0.0.1, chosen by the kernel.
free_port() {
    python3 - "${1:-1}" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

# Fetches the Kafka jars once (cached) and exports KAFKA_LIBS, the directory holding them.
fetch_kafka() {
    KAFKA_LIBS=$("$FRS_ROOT/deploy/kafka/kafka.sh" fetch) || frs_die "could not fetch the Kafka jars"
    export KAFKA_LIBS
}

kafka_answers() { # bootstrap timeout_s
    local deadline=$((SECONDS + $2))
    while [ $SECONDS -lt $deadline ]; do
        # shellcheck disable=SC2086 # KCAT_ARGS are words.
        kcat -b "$1" ${KCAT_ARGS:-} -L -m 3 2>/dev/null | grep -q ' broker .* at ' && return 0
        sleep 1
    done
    return 1
}

# With KAFKA_BOOTSTRAP_SERVERS: checks that it answers within 30 s. Without: fetches the jars (exports
# KAFKA_LIBS), starts a local broker (data in DIR, else LOCAL_KAFKA_DIR, else a fresh
# var/<LOCAL_KAFKA_TMP_PREFIX:-kafka-run>-XXXXXX removed at exit; ports LOCAL_KAFKA_PORT or KAFKA_PORT and
# LOCAL_KAFKA_CONTROLLER_PORT or KAFKA_CONTROLLER_PORT, default free ones), exports KAFKA_BOOTSTRAP_SERVERS.
# The trap stops that broker.
# shellcheck disable=SC2120 # DIR is optional.
start_kafka_if_needed() { # [DIR]
    if [ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
        frs_log "using Kafka at $KAFKA_BOOTSTRAP_SERVERS"
        kafka_answers "$KAFKA_BOOTSTRAP_SERVERS" 30 ||
            frs_die "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS does not answer (kcat -L) within 30 s"
        return 0
    fi
    fetch_kafka
    local dir=${1:-${LOCAL_KAFKA_DIR:-}} ports
    local port=${LOCAL_KAFKA_PORT:-${KAFKA_PORT:-}} cport=${LOCAL_KAFKA_CONTROLLER_PORT:-${KAFKA_CONTROLLER_PORT:-}}
    if [ -z "$dir" ]; then
        mkdir -p "$FRS_ROOT/var"
        dir=$(mktemp -d "$FRS_ROOT/var/${LOCAL_KAFKA_TMP_PREFIX:-kafka-run}-XXXXXX")
        FRS_REMOVE_DIRS+=("$dir")
    fi
    if [ -z "$port" ] || [ -z "$cport" ]; then
        ports=$(free_port 2)
        port=${port:-${ports% *}}
        cport=${cport:-${ports#* }}
    fi
    FRS_KAFKA_DIRS+=("$dir")
    frs_log "starting Kafka (KRaft, single node) on 127.0.0.1:$port, data in ${dir#"$FRS_ROOT"/}"
    "$FRS_ROOT/deploy/kafka/kafka.sh" start --dir "$dir" --port "$port" --controller-port "$cport" >/dev/null ||
        frs_die "the local Kafka broker did not start"
    export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$port
}

# Runs a service in the background and keeps it running, as systemd's Restart=on-failure would: when it dies (a
# crash, kill -9, an OOM kill: a status other than 0), a log line says so and it is started again after a back-off
# (1 s, doubling up to 30 s; back to 1 s once it ran for a minute). A service that stops cleanly (status 0: SIGTERM,
# or Ctrl-C, which reaches it directly) stays stopped. The trap stops it for good. Records the pid.
supervise() { # name cmd...
    local name=$1
    shift
    (
        # A background subshell ignores SIGINT (bash does that to asynchronous commands): the trap's SIGTERM ends it.
        stopping=0 child="" pause=""
        trap 'stopping=1; for p in $child $pause; do kill -TERM "$p" 2>/dev/null; done' TERM
        delay=1
        while :; do
            started=$SECONDS
            "$@" &
            child=$!
            status=0
            # wait returns early when the trap ran; the service may still be writing its snapshot.
            while kill -0 "$child" 2>/dev/null; do wait "$child" && status=0 || status=$?; done
            if [ "$stopping" = 1 ] || [ "$status" = 0 ]; then
                [ "$stopping" = 1 ] || frs_log "$name stopped (status 0); not restarted"
                exit 0
            fi
            [ $((SECONDS - started)) -ge 60 ] && delay=1
            frs_log "$name exited (status $status); restarting it in $delay s"
            sleep "$delay" &
            pause=$!
            wait "$pause" 2>/dev/null || true
            pause=""
            [ "$stopping" = 1 ] && exit 0
            delay=$((delay * 2 > 30 ? 30 : delay * 2))
            frs_log "restarting $name"
        done
    ) &
    FRS_SERVICE_PIDS+=("$!")
    frs_log "started $name (supervised, pid $!)"
}

frs_cleanup() {
    [ "$FRS_CLEANED" = 1 ] && return 0
    FRS_CLEANED=1
    local pid d
    for pid in ${FRS_SERVICE_PIDS[@]+"${FRS_SERVICE_PIDS[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in ${FRS_SERVICE_PIDS[@]+"${FRS_SERVICE_PIDS[@]}"}; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for d in ${FRS_KAFKA_DIRS[@]+"${FRS_KAFKA_DIRS[@]}"}; do
        frs_log "stopping Kafka in ${d#"$FRS_ROOT"/}"
        "$FRS_ROOT/deploy/kafka/kafka.sh" stop --dir "$d" || true
    done
    for d in ${FRS_REMOVE_DIRS[@]+"${FRS_REMOVE_DIRS[@]}"}; do rm -rf "$d"; done
}
trap frs_cleanup EXIT
trap 'frs_cleanup; trap - INT; kill -INT $$' INT
trap 'frs_cleanup; exit 143' TERM
