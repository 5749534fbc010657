# shellcheck shell=bash
# shellcheck disable=SC2034  # constants for the scripts that source it
# Helpers of the Kubernetes stage (tests/deploy/k8s_node.sh, k8s_check.sh, k8s.sh), on top of
# tests/deploy/lib.sh (logging, packages, Go, timings, exit hooks, podman), which it sources. Source it:
#   source "$(dirname "${BASH_SOURCE[0]}")/k8s_lib.sh"
# Environment read: FRS_CACHE (binaries, venv), FRS_K8S_DIR (the node's run directory).

K8S_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/deploy/lib.sh
source "$K8S_LIB_DIR/lib.sh"

# What the node runs. The Go wrapper modules pin the rest (tests/deploy/go/*/go.mod).
K8S_VERSION=v1.30.14
COREDNS_VERSION=v1.11.3
KUBERNETES_VALIDATE_VERSION=1.37.0
# The oldest and the newest Kubernetes minor versions the manifests support (checked offline).
K8S_SUPPORTED_MINORS=(1.30 1.37)

# The run directory of the node (certificates, etcd data, kubeconfigs, containerd, kubelet, logs) and the
# directory of the local-test overlay's PersistentVolumes: fixed, as the overlay names it.
FRS_K8S_DIR=${FRS_K8S_DIR:-/var/lib/flight-route-stream-k8s}
K8S_VOLUMES_DIR=/var/lib/flight-route-stream-k8s-volumes
K8S_NODE_NAME=frs-node
# The pods' bridge and subnet; its gateway address is also the node's address and the cluster DNS.
K8S_BRIDGE=frsk8s0
K8S_POD_SUBNET=10.217.0.0/24
K8S_NODE_IP=10.217.0.1
K8S_SERVICE_CIDR=10.217.128.0/24
K8S_PAUSE_IMAGE=registry.k8s.io/pause:frs-local

# What the node needs from Debian (podman comes with tests/deploy/images.sh).
K8S_PACKAGES=(etcd-server containerd runc containernetworking-plugins iptables openssl iproute2 util-linux
    procps curl python3 gcc libc6-dev)

# A short hash of files and strings: cache keys change when what they are built from changes.
k8s_hash() {
    local a
    for a in "$@"; do
        if [ -f "$a" ]; then cat "$a"; else printf '%s\n' "$a"; fi
    done | sha256sum | cut -c1-12
}

# Where the built binaries live, keyed by version and by what they are built from.
k8s_ldflags() {
    local p flags="-s -w" minor=${K8S_VERSION#v1.}
    minor=${minor%%.*}
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
        flags+=" -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.buildDate=1970-01-01T00:00:00Z"
    done
    echo "$flags"
}
# Static binaries, no cloud providers, no debug information (smaller, and less to compile).
K8S_GO_FLAGS=(-trimpath -tags providerless -gcflags=all=-dwarf=false)
K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kubectl)
k8s_bin_dir() {
    local m=$K8S_LIB_DIR/go/kubernetes
    echo "$FRS_CACHE/kubernetes-$K8S_VERSION-$(k8s_hash "$m/go.mod" "$m/go.sum" "$(k8s_ldflags)" \
        "${K8S_GO_FLAGS[*]}" "${K8S_COMMANDS[*]}")"
}
coredns_bin_dir() {
    local m=$K8S_LIB_DIR/go/coredns
    echo "$FRS_CACHE/coredns-$COREDNS_VERSION-$(k8s_hash "$m/go.mod" "$m/go.sum" "$m/main.go" "${K8S_GO_FLAGS[*]}")"
}

# Waits until "$@" succeeds, at most $K8S_WAIT_TIMEOUT (default 60) seconds; returns 1 on timeout.
k8s_wait() {
    local what=$1 timeout=${K8S_WAIT_TIMEOUT:-60} deadline
    shift
    deadline=$((SECONDS + timeout))
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then
            frs_log "timed out after ${timeout} s waiting for $what"
            return 1
        fi
        sleep 0.2
    done
}

# N distinct free TCP ports of 127.0.0.1, outside the kernel's ephemeral range (which outgoing connections
# take from, so a port stays free between this choice and its listener's start), one a line.
k8s_free_ports() {
    python3 - "$1" <<'EOF'
import random, socket, sys
n = int(sys.argv[1])
try:
    first = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
except (OSError, ValueError, IndexError):
    first = 32768
low, high = (20000, first) if first >= 25000 else (1024, first)
held, ports = [], []
for port in random.sample(range(low, high), min(2000, high - low)):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        s.close()
        continue
    held.append(s)
    ports.append(port)
    if len(ports) == n:
        break
if len(ports) < n:
    sys.exit("no free ports")
print("\n".join(map(str, ports)))
EOF
}

# The virtualenv with kubernetes-validate (PyPI), cached; prints its bin directory. A venv's scripts name its
# path, so it is built in place; the stamp file says it is complete.
k8s_validate_venv() {
    local venv=$FRS_CACHE/venv-kubernetes-validate-$KUBERNETES_VALIDATE_VERSION
    if [ ! -f "$venv/.complete" ]; then
        install_packages python3 python3-venv
        frs_log "creating $venv (kubernetes-validate $KUBERNETES_VALIDATE_VERSION from PyPI)"
        rm -rf "$venv"
        mkdir -p "$FRS_CACHE"
        { python3 -m venv "$venv" >&2 &&
          "$venv/bin/pip" install -q "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" >&2; } ||
            { rm -rf "$venv"; frs_die "pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION failed"; }
        touch "$venv/.complete"
    fi
    echo "$venv/bin"
}
