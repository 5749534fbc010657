# shellcheck shell=bash
# Shared set-up for the deployment test stages (tests/deploy/images.sh, compose.sh, k8s*.sh). Source it:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# It changes no directory and starts nothing by itself. It sources deploy/lib.sh (frs_log, frs_die,
# install_packages, obtain_routes, FRS_ROOT, the repository root) and sets:
#   FRS_CACHE   ${FRS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flight-route-stream} (exported): everything kept
#               between runs on one machine (Kafka jars, Go caches, built tools, podman's containers.conf)
#   FRS_IMAGE_TAG  the version tag of the application image besides latest (0.1.0 unless set)
#   FRS_APP_IMAGE, FRS_KAFKA_IMAGE  the images' fully qualified names (see tests/deploy/images.sh)
# Functions:
#   frs_time LABEL CMD...              runs CMD, logs and records how long it took (a failure exits, logged)
#   frs_timings                        logs every step recorded by frs_time, with the total
#   frs_podman_setup                   podman + runc + netavark installed, CONTAINERS_CONF exported
#   frs_go_env                         Go's module and build caches under FRS_CACHE (exported)
#   frs_podman_service_start DIR       podman's Docker API on DIR/podman.sock, DOCKER_HOST exported
#   frs_healthcheck_ticker_start FILTER...  runs podman's healthchecks of the matching containers (no systemd)
#   frs_on_exit CMD                    CMD (a string, eval'd) runs at exit, last registered first
# The EXIT/INT/TERM trap runs the frs_on_exit commands (and deploy/lib.sh's frs_cleanup if that is sourced too).

[ -z "${FRS_DEPLOY_TESTS_LIB_SOURCED:-}" ] || return 0
FRS_DEPLOY_TESTS_LIB_SOURCED=1
# shellcheck source=deploy/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../deploy/lib.sh"
FRS_CACHE=${FRS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flight-route-stream}
export FRS_CACHE
FRS_IMAGE_TAG=${FRS_IMAGE_TAG:-0.1.0}
# The images tests/deploy/images.sh builds, by the names Docker's API and containerd resolve them to.
# shellcheck disable=SC2034
FRS_APP_IMAGE=docker.io/library/flight-route-stream   # tags latest and $FRS_IMAGE_TAG
# shellcheck disable=SC2034
FRS_KAFKA_IMAGE=docker.io/apache/kafka:3.9.1           # the stand-in unless a real one is there
FRS_ON_EXIT=()
FRS_TIMES=()
FRS_STEP=""
FRS_T0=${FRS_T0:-$EPOCHREALTIME}

frs_elapsed() { # start (an EPOCHREALTIME) -> seconds, one decimal
    local now=$EPOCHREALTIME
    local us=$(( (${now%.*} - ${1%.*}) * 1000000 + 10#${now#*.} - 10#${1#*.} ))
    printf '%d.%d' $((us / 1000000)) $((us % 1000000 / 100000))
}

# Runs CMD... (a command or a function, under the caller's set -e); logs "LABEL: N.N s" and records it for
# frs_timings. When CMD fails the script exits (set -e) and the exit hook logs the step as FAILED with its time.
# Not for use in a condition (if, ||, &&), where bash ignores set -e inside CMD.
frs_time() {
    FRS_STEP=$1 FRS_STEP_T0=$EPOCHREALTIME
    shift
    "$@"
    local took
    took=$(frs_elapsed "$FRS_STEP_T0")
    FRS_TIMES+=("$FRS_STEP|$took|0")
    frs_log "time: $FRS_STEP: $took s"
    FRS_STEP=""
}

frs_timings() {
    local row label took rc
    frs_log "timings (s):"
    for row in ${FRS_TIMES[@]+"${FRS_TIMES[@]}"}; do
        IFS='|' read -r label took rc <<<"$row"
        printf '  %8s  %s%s\n' "$took" "$label" "$([ "$rc" = 0 ] || echo "  (FAILED)")" >&2
    done
    printf '  %8s  total\n' "$(frs_elapsed "$FRS_T0")" >&2
}

frs_on_exit() { FRS_ON_EXIT+=("$1"); }

frs_run_exit_hooks() {
    local i
    if [ -n "${FRS_STEP:-}" ]; then
        FRS_TIMES+=("$FRS_STEP|$(frs_elapsed "$FRS_STEP_T0")|1")
        frs_log "time: $FRS_STEP: $(frs_elapsed "$FRS_STEP_T0") s (FAILED)"
        FRS_STEP=""
    fi
    for ((i = ${#FRS_ON_EXIT[@]} - 1; i >= 0; i--)); do eval "${FRS_ON_EXIT[i]}" || true; done
    FRS_ON_EXIT=()
    if declare -F frs_cleanup >/dev/null; then frs_cleanup; fi
}
trap frs_run_exit_hooks EXIT
trap 'frs_run_exit_hooks; trap - INT; kill -INT $$' INT
trap 'frs_run_exit_hooks; exit 143' TERM

# Podman as root on these machines (see ../shared/DEPLOY-FACTS.md): runc, because crun refuses hybrid cgroups;
# ulimits that fit under the hard limit here; cgroupfs, file events and k8s-file logs, because there is no
# systemd or journald. The containers.conf is kept in FRS_CACHE and named by CONTAINERS_CONF (exported), so the
# machine's own /etc/containers is left alone.
frs_podman_setup() {
    install_packages podman runc netavark aardvark-dns iptables ca-certificates
    local nofile
    nofile=$(ulimit -Hn)
    case $nofile in unlimited | '') nofile=1048576 ;; esac
    [ "$nofile" -gt 1048576 ] && nofile=1048576
    local dir=$FRS_CACHE/podman conf
    mkdir -p "$dir"
    conf=$(
        cat <<EOF
# Written by tests/deploy/lib.sh (frs_podman_setup); used through CONTAINERS_CONF.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
EOF
    )
    [ "$(cat "$dir/containers.conf" 2>/dev/null)" = "$conf" ] || printf '%s\n' "$conf" >"$dir/containers.conf"
    export CONTAINERS_CONF=$dir/containers.conf
}

# Go's caches under FRS_CACHE (one place to keep or to clear; about 5 GB once Compose and Kubernetes are built),
# the local toolchain only (no download of another one), the modules as go.sum pins them, module files writable
# so that the cache can be removed with rm -rf, static binaries.
frs_go_env() {
    command -v go >/dev/null || [ ! -x /usr/local/go/bin/go ] || export PATH=$PATH:/usr/local/go/bin
    command -v go >/dev/null || frs_die "go not found (Go 1.24+ is needed to build the tools; expected at /usr/local/go/bin/go)"
    export GOMODCACHE=${FRS_GOMODCACHE:-$FRS_CACHE/go/mod}
    export GOCACHE=${FRS_GOCACHE:-$FRS_CACHE/go/build}
    export GOTOOLCHAIN=local GOFLAGS="-mod=readonly -modcacherw" CGO_ENABLED=0
}

# Starts `podman system service` on DIR/podman.sock (its log in DIR/podman-service.log), waits until it
# answers, exports DOCKER_HOST, and stops it at exit.
frs_podman_service_start() { # dir
    local dir=$1 sock=$1/podman.sock pid
    mkdir -p "$dir"
    rm -f "$sock"
    podman system service --time=0 "unix://$sock" >"$dir/podman-service.log" 2>&1 &
    pid=$!
    frs_on_exit "frs_stop_pid $pid podman-service"
    local deadline=$((SECONDS + 30))
    until [ -S "$sock" ] && curl -fsS --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || { cat "$dir/podman-service.log" >&2; frs_die "podman system service exited"; }
        [ $SECONDS -lt $deadline ] || { cat "$dir/podman-service.log" >&2; frs_die "podman's API did not answer on $sock"; }
        sleep 0.2
    done
    export DOCKER_HOST=unix://$sock
    frs_log "podman's Docker API on $sock (pid $pid)"
}

# SIGTERM to pid and to its children (a background subshell's commands), up to 10 s, then SIGKILL. Only a pid
# this shell started.
frs_stop_pid() { # pid [name]
    kill -0 "$1" 2>/dev/null || return 0
    local children
    children=$(pgrep -P "$1" 2>/dev/null || true)
    kill -TERM "$1" 2>/dev/null || true
    # shellcheck disable=SC2086 # a list of pids
    [ -z "$children" ] || kill -TERM $children 2>/dev/null || true
    local i
    for i in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# Without systemd, podman starts no timer for a container's healthcheck, so nothing would ever turn it
# "healthy". This runs `podman healthcheck run` for each running container matching the podman-ps filters
# (e.g. label=com.docker.compose.project=NAME): every tick (FRS_HEALTH_TICK, 2 s) while it is not healthy
# yet, then every interval of its own healthcheck, as Docker's engine does. One check per container at a
# time; the checks of different containers run side by side. Stopped at exit.
frs_healthcheck_ticker_start() { # filter...
    local args=() f
    for f in "$@"; do args+=(--filter "$f"); done
    (
        trap 'exit 0' TERM
        declare -A last=() busy=() every=()
        tick=${FRS_HEALTH_TICK:-2}
        while :; do
            while read -r id status; do
                [ -n "$id" ] || continue
                if [ -z "${every[$id]:-}" ]; then
                    # The healthcheck's interval in seconds (in the JSON, a Go duration in nanoseconds).
                    ns=$(podman inspect --format '{{json .Config.Healthcheck}}' "$id" 2>/dev/null |
                        sed -n 's/.*"Interval":\([0-9]*\).*/\1/p')
                    [[ $ns =~ ^[0-9]+$ ]] || ns=0
                    every[$id]=$((ns / 1000000000))
                    [ "${every[$id]}" -ge 1 ] || every[$id]=30
                fi
                if [ -n "${busy[$id]:-}" ] && kill -0 "${busy[$id]}" 2>/dev/null; then continue; fi
                if [[ $status == *"(healthy)"* ]] && [ $((SECONDS - ${last[$id]:-0})) -lt "${every[$id]}" ]; then
                    continue
                fi
                podman healthcheck run "$id" >/dev/null 2>&1 &
                busy[$id]=$!
                last[$id]=$SECONDS
            done < <(podman ps "${args[@]}" --filter health=starting --filter health=healthy \
                --filter health=unhealthy --format '{{.ID}} {{.Status}}' 2>/dev/null)
            # In the background, so that SIGTERM ends the ticker at once (bash runs a trap during `wait`).
            sleep "$tick" &
            wait $!
        done
    ) &
    local pid=$!
    frs_on_exit "frs_stop_pid $pid healthcheck-ticker"
    frs_log "healthcheck ticker for ${*} (pid $pid)"
}
