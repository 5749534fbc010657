#!/usr/bin/env bash
# Deployment stage: the Kubernetes manifests (deploy/k8s/, Kustomize) checked offline, then run on a real
# single node started here (tests/deploy/k8s_node.sh) and tested (tests/deploy/test_k8s.py):
#   1. Debian packages, the node's binaries (built once per version from the Go module proxy, cached);
#   2. offline: every overlay rendered, kubernetes-validate --strict on the oldest and newest supported minor
#      versions, references checked (tests/deploy/k8s_check.sh);
#   3. the images (tests/deploy/images.sh, unless FRS_K8S_BUILD_IMAGES=0: the caller built them), imported
#      into the node's containerd under the names overlays/local-test pins;
#   4. `kubectl apply --dry-run=server -k` of every overlay against the node's API server, then
#      `kubectl apply -k deploy/k8s/overlays/local-test` and the test;
#   5. the node stopped and removed whatever happened (FRS_K8S_KEEP=1 leaves it running for a look; stop it
#      with tests/deploy/k8s_node.sh stop). Each step's time is printed.
# Environment: ROUTES_FILE (as tests/run.sh: default data/routes.dat, downloaded; CI: ../shared/data/routes.dat),
# FRS_CACHE, FRS_IMAGE_TAG (the app image's tag, 0.1.0), FRS_K8S_APP_IMAGE (the podman image to test instead of
# docker.io/library/flight-route-stream:$FRS_IMAGE_TAG), FRS_K8S_BUILD_IMAGES, FRS_K8S_KEEP.
# Needs root (the node).
set -euo pipefail
export FRS_CALLER_PWD=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/deploy/lib.sh
source tests/deploy/lib.sh
# shellcheck source=tests/deploy/k8s_lib.sh
source tests/deploy/k8s_lib.sh

NODE=tests/deploy/k8s_node.sh
OVERLAY=deploy/k8s/overlays/local-test
APP_SRC=${FRS_K8S_APP_IMAGE:-docker.io/library/flight-route-stream:$FRS_IMAGE_TAG}
KAFKA_SRC=docker.io/apache/kafka:3.9.1
# The names overlays/local-test pins with its images: transformer.
APP_DST=localhost/flight-route-stream:local-test
KAFKA_DST=localhost/flight-route-stream-kafka:local-test
K8S_OK=0
work=$(mktemp -d "${TMPDIR:-/tmp}/frs-k8s-XXXXXX")
frs_on_exit "rm -rf '$work'"
frs_on_exit frs_timings
[ "$(id -u)" = 0 ] || frs_die "tests/deploy/k8s.sh needs root (it starts a Kubernetes node)"

obtain_routes
ROUTES=$ROUTES_FILE

packages() { install_packages "${K8S_PACKAGES[@]}" python3-venv; }

images() {
    if [ "${FRS_K8S_BUILD_IMAGES:-1}" != 0 ]; then
        tests/deploy/images.sh
    fi
    frs_podman_setup
    local img
    for img in "$APP_SRC" "$KAFKA_SRC"; do
        podman image exists "$img" || frs_die "podman has no image $img (tests/deploy/images.sh builds it)"
    done
}

start_node() {
    local env
    # Registered first: a stage stopped while the node starts still stops it.
    frs_on_exit k8s_stop_node
    env=$("$NODE" start) || return 1
    eval "$env"
}

k8s_stop_node() {
    if [ "${FRS_K8S_KEEP:-0}" = 1 ]; then
        frs_log "FRS_K8S_KEEP=1: the node keeps running (source $FRS_K8S_DIR/env; $NODE stop when done)"
        return 0
    fi
    # The logs stay after a failure (the next start clears them); after a success nothing stays.
    if [ "$K8S_OK" = 1 ]; then
        frs_time "k8s node stop" "$NODE" stop --purge
    else
        frs_time "k8s node stop" "$NODE" stop
    fi
}

import_images() {
    frs_podman_setup
    "$NODE" import "$APP_SRC=$APP_DST" "$KAFKA_SRC=$KAFKA_DST"
}

# The local PersistentVolumes' directories (overlays/local-test/storage.yaml), routes.dat and the reference files
# for the gateway.
volumes() {
    local d
    for d in routes query-state-0 query-state-1 kafka-data-0; do
        mkdir -p "$K8S_VOLUMES_DIR/$d"
    done
    install -m 0644 "$ROUTES" "$K8S_VOLUMES_DIR/routes/routes.dat"
    local kind var
    for kind in airports airlines planes; do # obtain_reference exported those it found
        var=${kind^^}_FILE
        [ -z "${!var:-}" ] || install -m 0644 "${!var}" "$K8S_VOLUMES_DIR/routes/$kind.dat"
    done
    chmod 0755 "$K8S_VOLUMES_DIR/routes"
}

server_dry_run() {
    local dir
    # Namespaced objects need their namespace to exist, also for a dry run.
    kubectl apply -f "$OVERLAY/namespace.yaml" >/dev/null
    for dir in deploy/k8s/overlays/*/; do
        kubectl apply --dry-run=server -k "$dir" >"$work/dry-run.out" 2>&1 ||
            { cat "$work/dry-run.out" >&2; frs_log "kubectl apply --dry-run=server -k $dir failed"; return 1; }
        frs_log "kubectl apply --dry-run=server -k $dir: $(grep -c 'server dry run' "$work/dry-run.out") objects accepted"
    done
}

apply() { kubectl apply -k "$OVERLAY"; }

run_test() { python3 tests/deploy/test_k8s.py; }

# What to read when something failed: the pods, their events and logs, the node's components.
diagnose() {
    [ "$K8S_OK" = 1 ] && return 0
    [ -n "${KUBECONFIG:-}" ] && [ -f "$KUBECONFIG" ] || return 0
    frs_log "k8s stage failed: the state of the node"
    {
        kubectl get nodes,pods,pvc,pv -A -o wide
        kubectl get events -A --sort-by=.lastTimestamp | tail -n 40
        local p c
        for p in $(kubectl -n flight-route-stream get pods -o name 2>/dev/null); do
            for c in $(kubectl -n flight-route-stream get "$p" -o jsonpath='{.spec.initContainers[*].name} {.spec.containers[*].name}'); do
                echo "---- $p/$c (last 40 lines)"
                kubectl -n flight-route-stream logs "$p" -c "$c" --tail=40 2>&1 || true
                kubectl -n flight-route-stream logs "$p" -c "$c" --previous --tail=20 2>/dev/null || true
            done
        done
        for c in kube-apiserver kubelet containerd coredns; do
            echo "---- $c: last errors"
            grep -E '^E|level=error|\[ERROR\]' "$FRS_K8S_DIR/logs/$c.log" 2>/dev/null | tail -n 10 || true
        done
    } >&2 2>&1 || true
}

frs_time "k8s packages" packages
frs_time "k8s build (Kubernetes $K8S_VERSION, CoreDNS $COREDNS_VERSION, pause)" "$NODE" build
frs_time "k8s offline checks (kubernetes-validate ${K8S_SUPPORTED_MINORS[*]}, references)" \
    tests/deploy/k8s_check.sh "$work/rendered"
frs_time "k8s images" images
frs_time "k8s node start" start_node
frs_on_exit diagnose
frs_time "k8s image import" import_images
frs_time "k8s volumes" volumes
frs_time "k8s server dry-run (every overlay)" server_dry_run
frs_time "k8s apply -k $OVERLAY" apply
frs_time "k8s test (tests/deploy/test_k8s.py)" run_test
K8S_OK=1
frs_log "k8s stage passed"
