#!/usr/bin/env bash
# Deployment stage 2: deploy/compose.yml driven by Docker Compose v2 as a user types it, against podman's
# Docker API (no Docker engine here), then tests/deploy/test_compose.py (up --wait, /produce, the seed's views,
# stop + up restores from the snapshot, down -v leaves nothing).
#   tests/deploy/compose.sh
# Set-up: the images (tests/deploy/images.sh, unless FRS_SKIP_IMAGES=1 because the caller just ran it), while
# Compose v2 is built from the Go module proxy (tests/deploy/go/compose, cached under FRS_CACHE by version)
# and installed as the docker CLI plugin of a private DOCKER_CONFIG; `podman system service` on a private
# socket (DOCKER_HOST); a healthcheck ticker standing in for podman's systemd timers. All stopped at exit.
# Environment: ROUTES_FILE (as tests/run.sh: default data/routes.dat, downloaded; CI: ../shared/data/routes.dat), FRS_CACHE,
# FRS_SKIP_IMAGES=1, COMPOSE_PROJECT_NAME and INGEST_PORT/QUERY_PORT/KAFKA_HOST_PORT (default: unique / free).
set -euo pipefail
export FRS_CALLER_PWD=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/deploy/lib.sh
source tests/deploy/lib.sh

COMPOSE_MODULE=tests/deploy/go/compose
COMPOSE_VERSION=$(awk '$1 == "require" && $2 == "github.com/docker/compose/v2" { print $3 }' "$COMPOSE_MODULE/go.mod")
[ -n "$COMPOSE_VERSION" ] || frs_die "no github.com/docker/compose/v2 version in $COMPOSE_MODULE/go.mod"
work=$(mktemp -d "${TMPDIR:-/tmp}/frs-compose-XXXXXX")
frs_on_exit "rm -rf '$work'"

# Builds docker-compose once per version (and go.sum) into FRS_CACHE; prints its path.
compose_binary() {
    local key bin
    key=$COMPOSE_VERSION-$(sha256sum "$COMPOSE_MODULE/go.sum" | cut -c1-12)
    bin=$FRS_CACHE/compose/$key/docker-compose
    if [ -x "$bin" ]; then
        echo "$bin"
        return 0
    fi
    mkdir -p "$(dirname "$bin")"
    exec 8>"$FRS_CACHE/compose/.build.lock"
    flock 8 # two runs at once: the second waits for the first's binary
    if [ ! -x "$bin" ]; then
        frs_go_env
        frs_log "building Docker Compose $COMPOSE_VERSION from the Go module proxy (once; cached in $(dirname "$bin"))"
        (cd "$COMPOSE_MODULE" && go build -trimpath \
            -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" \
            -o "$bin.tmp" github.com/docker/compose/v2/cmd) >&2 || frs_die "building compose failed"
        mv "$bin.tmp" "$bin"
    fi
    exec 8>&-
    echo "$bin"
}

# The images and the compose binary at the same time: the image builds wait on apt and the network a good
# part of the time, which the compose build (minutes of compiling) fills.
prepare() {
    local pid rc=0 t0=$EPOCHREALTIME
    (compose_binary >"$work/compose-bin" 2>"$work/compose-build.log"; frs_elapsed "$t0" >"$work/compose-build.time") &
    pid=$!
    frs_on_exit "frs_stop_pid $pid"
    if [ "${FRS_SKIP_IMAGES:-0}" != 1 ]; then
        tests/deploy/images.sh || rc=$?
    fi
    wait "$pid" || { cat "$work/compose-build.log" >&2; frs_die "the compose binary could not be built"; }
    [ $rc -eq 0 ] || frs_die "tests/deploy/images.sh failed"
    FRS_TIMES+=("compose binary $COMPOSE_VERSION (beside the images)|$(cat "$work/compose-build.time")|0")
}

install_compose_plugin() {
    command -v docker >/dev/null || frs_die "the docker client is needed (compose runs as its plugin)"
    export DOCKER_CONFIG=$work/docker-config
    mkdir -p "$DOCKER_CONFIG/cli-plugins"
    ln -s "$(cat "$work/compose-bin")" "$DOCKER_CONFIG/cli-plugins/docker-compose"
    # Compose's classic builder through podman's API: BuildKit would be pulled from Docker Hub.
    export DOCKER_BUILDKIT=0 COMPOSE_BAKE=false
    frs_log "$(docker compose version)"
}

# compose.yml mounts the directory holding routes.dat and the reference files beside it (ROUTES_DIR).
routes_dir() {
    obtain_routes
    local kind var here=yes
    for kind in airports airlines planes; do
        var=${kind^^}_FILE
        [ "${!var:-}" = "$(dirname "$ROUTES_FILE")/$kind.dat" ] || here=no
    done
    if [ "$(basename "$ROUTES_FILE")" = routes.dat ] && [ $here = yes ]; then
        ROUTES_DIR=$(dirname "$ROUTES_FILE")
    else
        ROUTES_DIR=$work/data
        mkdir -p "$ROUTES_DIR"
        cp "$ROUTES_FILE" "$ROUTES_DIR/routes.dat"
        for kind in airports airlines planes; do
            var=${kind^^}_FILE
            [ -z "${!var:-}" ] || cp "${!var}" "$ROUTES_DIR/$kind.dat"
        done
    fi
    export ROUTES_DIR
}

frs_time "podman set-up" frs_podman_setup
install_packages python3 curl procps
frs_time "images + compose binary" prepare
install_compose_plugin
routes_dir
frs_time "podman system service" frs_podman_service_start "$work"

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-frs-test-$$-$RANDOM}
read -r p1 p2 p3 < <(python3 -c 'import socket
socks = [socket.socket() for _ in range(3)]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
export INGEST_PORT=${INGEST_PORT:-$p1} QUERY_PORT=${QUERY_PORT:-$p2} KAFKA_HOST_PORT=${KAFKA_HOST_PORT:-$p3}
frs_log "compose project $COMPOSE_PROJECT_NAME: gateway 127.0.0.1:$INGEST_PORT, query-service 127.0.0.1:$QUERY_PORT, Kafka 127.0.0.1:$KAFKA_HOST_PORT, routes from $ROUTES_DIR"
# Whatever the test leaves (it cleans up itself), nothing of the project outlives this script.
frs_on_exit "docker compose -f deploy/compose.yml down -v --timeout 5 >/dev/null 2>&1"
frs_healthcheck_ticker_start "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"

frs_time "docker compose config -q" docker compose -f deploy/compose.yml config -q
rc=0
FRS_TIMINGS_FILE=$work/test-times python3 tests/deploy/test_compose.py || rc=$?
while IFS='|' read -r label took; do FRS_TIMES+=("  test: $label|$took|0"); done <"$work/test-times" 2>/dev/null || true
frs_timings
[ $rc -eq 0 ] || frs_die "tests/deploy/test_compose.py failed"
frs_log "compose stage passed"
