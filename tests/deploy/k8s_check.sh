#!/usr/bin/env bash
# Offline checks of the Kubernetes manifests (no cluster needed), on what `kubectl kustomize` renders for
# every overlay of deploy/k8s/overlays/:
#   - kubernetes-validate --strict (PyPI, in a venv under $FRS_CACHE) against the oldest and the newest
#     supported Kubernetes minor versions (K8S_SUPPORTED_MINORS in k8s_lib.sh);
#   - tests/deploy/k8s_refs.py: named probe ports, Service target ports and selectors, PDB selectors,
#     StatefulSet service names, ConfigMaps and claims that the objects name (after its own self-test);
# The rendered files are left in $1 (default: a temporary directory, removed) for k8s.sh's server dry-run.
#   tests/deploy/k8s_check.sh [OUT_DIR]
set -euo pipefail
# shellcheck source=tests/deploy/k8s_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/k8s_lib.sh"

KUBECTL=$(k8s_bin_dir)/kubectl
[ -x "$KUBECTL" ] || "$K8S_LIB_DIR/k8s_node.sh" build
VENV=$(k8s_validate_venv)
out=${1:-}
if [ -z "$out" ]; then
    out=$(mktemp -d)
    trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

"$VENV/python" "$K8S_LIB_DIR/k8s_refs.py" --self-test
failed=0
for dir in "$FRS_ROOT"/deploy/k8s/overlays/*/; do
    name=$(basename "$dir")
    rendered=$out/$name.yaml
    "$KUBECTL" kustomize "$dir" >"$rendered" || { frs_log "kubectl kustomize $dir failed"; failed=1; continue; }
    objects=$(grep -c '^kind:' "$rendered")
    for v in "${K8S_SUPPORTED_MINORS[@]}"; do
        if "$VENV/kubernetes-validate" --strict --quiet -k "$v" "$rendered" >&2; then
            frs_log "overlays/$name: $objects objects valid for Kubernetes $v (kubernetes-validate --strict)"
        else
            frs_log "overlays/$name: INVALID for Kubernetes $v"
            failed=1
        fi
    done
    "$VENV/python" "$K8S_LIB_DIR/k8s_refs.py" "$rendered" || failed=1
done
[ $failed = 0 ] || frs_die "the manifests failed the offline checks"
frs_log "offline checks passed (rendered: $out)"
