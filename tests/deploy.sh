#!/usr/bin/env bash
# The deployment tests: the project run where its users run it (issue 8).
#   1. images: the app image from deploy/docker/Dockerfile and a Kafka image, built with podman on a local base
#      image and checked (tests/deploy/images.sh);
#   2. compose: deploy/compose.yml driven by Docker Compose v2 against podman's Docker API
#      (tests/deploy/compose.sh; it builds the images of stage 1 while Compose itself compiles);
#   3. k8s: the Kustomize manifests checked offline and by a real API server, then run on a real single
#      Kubernetes node (tests/deploy/k8s.sh).
# Installs what it needs itself (as root), keeps what it builds under FRS_CACHE (base image and images in
# podman's storage, Compose and the Kubernetes binaries, Go's caches) and prints each stage's time.
#   tests/deploy.sh                  # every stage
#   tests/deploy.sh k8s              # some of them: compose (with the images), k8s
# Environment: ROUTES_FILE (as tests/run.sh), FRS_CACHE, DEPLOY_STAGE_TIMEOUT (seconds a stage may take, 1800).
set -euo pipefail
export FRS_CALLER_PWD=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=deploy/lib.sh
source deploy/lib.sh # obtain_routes
# shellcheck source=tests/deploy/lib.sh
source tests/deploy/lib.sh # its exit trap runs deploy/lib.sh's too

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(compose k8s)
obtain_routes
export ROUTES_FILE

# A stage runs in its own process group, so that a timeout stops all of it (a script's trap would wait for
# its current foreground command first), and its own cleanup still runs (SIGTERM before SIGKILL).
run_stage() { # name command...
    local name=$1 pid rc=0 limit=${DEPLOY_STAGE_TIMEOUT:-1800} t0=$EPOCHREALTIME
    shift
    frs_log "stage $name: $*"
    setsid "$@" &
    pid=$!
    stage_pid=$pid
    (
        sleep "$limit"
        echo "error: stage $name still running after $limit s: stopping it" >&2
        kill -TERM -- "-$pid" 2>/dev/null
        sleep 30
        kill -KILL -- "-$pid" 2>/dev/null
    ) &
    local watchdog=$!
    wait "$pid" || rc=$?
    stage_pid=""
    kill "$watchdog" 2>/dev/null || true
    wait "$watchdog" 2>/dev/null || true
    FRS_TIMES+=("stage $name|$(frs_elapsed "$t0")|$rc")
    [ $rc -eq 0 ] || { failed+=("$name"); return 1; }
}

failed=() stage_pid=""
# Interrupted (Ctrl-C, CI's timeout): the stage running stops too, with its own cleanup.
frs_on_exit '[ -z "$stage_pid" ] || kill -TERM -- "-$stage_pid" 2>/dev/null'
images_built=0
# The Kubernetes binaries take the longest to build (minutes of Go, once per machine): started at once, they
# compile while the image builds wait on the network and the compose stage runs; the k8s stage waits for them.
if [[ " ${stages[*]} " == *" k8s "* ]]; then
    mkdir -p "$FRS_CACHE"
    setsid tests/deploy/k8s_node.sh build >"$FRS_CACHE/k8s-build.log" 2>&1 &
    prebuild=$!
    frs_on_exit "kill -TERM -- -$prebuild 2>/dev/null"
    frs_log "building the Kubernetes binaries in the background (pid $prebuild, log $FRS_CACHE/k8s-build.log)"
fi
for stage in "${stages[@]}"; do
    case $stage in
        compose) run_stage compose tests/deploy/compose.sh && images_built=1 ;;
        # The compose stage built the images (and checked them): the Kubernetes stage imports those.
        k8s) run_stage k8s env FRS_K8S_BUILD_IMAGES=$((1 - images_built)) tests/deploy/k8s.sh || true ;;
        *) frs_die "unknown stage $stage (compose, k8s)" ;;
    esac
done
frs_timings
if [ ${#failed[@]} -gt 0 ]; then
    frs_log "deployment tests FAILED: ${failed[*]}"
    exit 1
fi
frs_log "deployment tests passed"
