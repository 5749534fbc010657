#!/usr/bin/env bash
# A real single-node Kubernetes on this machine, for the deployment tests: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler and kubelet with containerd (CRI), the bridge + host-local CNI plugins
# and a cluster DNS (CoreDNS on the node's bridge address). No kube-proxy: the tests reach pods by their IPs and
# the pods find each other through DNS (headless Services), so no ClusterIP has to route.
#
#   tests/deploy/k8s_node.sh build              # the binaries, once per version (cached under $FRS_CACHE)
#   eval "$(tests/deploy/k8s_node.sh start)"    # starts the node, prints the exports kubectl needs
#   tests/deploy/k8s_node.sh import IMAGE[=NAME]...   # podman image -> containerd (k8s.io), re-tagged as NAME
#   tests/deploy/k8s_node.sh kubectl ARGS...    # the node's kubectl with its kubeconfig
#   tests/deploy/k8s_node.sh env | status | stop [--purge]
#
# Everything lives under one run directory, $FRS_K8S_DIR (default /var/lib/flight-route-stream-k8s):
# pki/, etcd/, kubeconfigs/, containerd/, kubelet/, cni/, logs/. `stop` kills everything that start started,
# unmounts, removes the pods' cgroups, network namespaces, bridge, volumes and that directory (its logs/ are
# kept until the next start; --purge removes them too), so the next start is clean. Needs root.
set -eEuo pipefail
# shellcheck source=tests/deploy/k8s_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/k8s_lib.sh"

RUN=$FRS_K8S_DIR
PKI=$RUN/pki
KCFG=$RUN/kubeconfigs
CTRD=$RUN/containerd
SOCK=$CTRD/containerd.sock
LOGS=$RUN/logs
PIDS=$RUN/pids
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler containerd kubelet coredns)

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2; }

# ---- build ------------------------------------------------------------------------------------------

pause_image_tar() { echo "$FRS_CACHE/pause-$(k8s_hash "$K8S_LIB_DIR/k8s_pause.c" "$K8S_LIB_DIR/k8s_image.py" "$K8S_PAUSE_IMAGE").tar"; }

# Builds the packages of the wrapper module in MODULE_DIR into the cached directory OUT, once (its .complete
# stamp): in a temporary directory moved into place whole, so that an interrupted build leaves nothing half
# made; other builds of the same name beside OUT are removed.
go_build_cached() { # out module_dir what ldflags package...
    local out=$1 module=$2 what=$3 ldflags=$4 tmp
    shift 4
    [ -f "$out/.complete" ] && return 0
    frs_go_env
    frs_log "building $what into $out"
    tmp=$out.tmp.$$
    rm -rf "$tmp" && mkdir -p "$tmp"
    (cd "$module" && go build "${K8S_GO_FLAGS[@]}" -ldflags "$ldflags" -o "$tmp/" "$@") >"$tmp.log" 2>&1 ||
        { tail -n 40 "$tmp.log" >&2; rm -rf "$tmp" "$tmp.log"; frs_die "the $what build failed"; }
    rm -f "$tmp.log"
    touch "$tmp/.complete"
    rm -rf "$out" && mv "$tmp" "$out"
    prune_other "$out"
}

# Removes the cached builds of the same version from other inputs beside DIR (only DIR is kept).
prune_other() {
    local d prefix=${1%-*}
    for d in "$prefix"-*; do
        [ "$d" = "$1" ] || [[ $d == *.tmp.* ]] || rm -rf "$d"
    done
}

build_kubernetes() {
    local out
    out=$(k8s_bin_dir)
    go_build_cached "$out" "$K8S_LIB_DIR/go/kubernetes" "Kubernetes $K8S_VERSION (${K8S_COMMANDS[*]}, cold: 5 to 9 minutes)" \
        "$(k8s_ldflags)" "${K8S_COMMANDS[@]/#/k8s.io/kubernetes/cmd/}"
    "$out/kubectl" version --client >/dev/null || { rm -rf "$out"; frs_die "the built kubectl does not run"; }
}

build_coredns() {
    go_build_cached "$(coredns_bin_dir)" "$K8S_LIB_DIR/go/coredns" "CoreDNS $COREDNS_VERSION" \
        "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" .
}

build_pause() {
    local tar tmp
    tar=$(pause_image_tar)
    [ -f "$tar" ] && return 0
    install_packages gcc libc6-dev python3
    tmp=$(mktemp -d)
    gcc -Os -static -Wall -Wextra -Werror -o "$tmp/pause" "$K8S_LIB_DIR/k8s_pause.c"
    mkdir -p "$FRS_CACHE"
    python3 "$K8S_LIB_DIR/k8s_image.py" "$tar.tmp" "$K8S_PAUSE_IMAGE" /pause "$tmp/pause:/pause"
    mv "$tar.tmp" "$tar"
    rm -rf "$tmp"
}

cmd_build() {
    mkdir -p "$FRS_CACHE"
    # One build at a time (tests/deploy.sh may have one running in the background): the second waits for the
    # first and then finds the binaries.
    exec 7>"$FRS_CACHE/.k8s-build.lock"
    flock 7
    build_pause
    build_kubernetes
    build_coredns
    exec 7>&-
    frs_log "binaries: $(k8s_bin_dir), $(coredns_bin_dir)"
}

# ---- helpers ----------------------------------------------------------------------------------------

KBIN=$(k8s_bin_dir)
# kubectl's discovery cache under the run directory, not in ~/.kube (one directory per API server port).
kubectl_() { KUBECACHEDIR=$RUN/kube-cache "$KBIN/kubectl" --kubeconfig "$KCFG/admin.kubeconfig" "$@"; }
ctr_() { ctr --address "$SOCK" --namespace k8s.io "$@"; }

pid_of() { [ -f "$PIDS/$1.pid" ] && cat "$PIDS/$1.pid"; }
# Running, and still the process that was started (its command line names the run directory).
alive() {
    local p
    p=$(pid_of "$1") && [ -n "$p" ] && kill -0 "$p" 2>/dev/null &&
        tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -qF "$RUN/"
}
any_alive() {
    local c
    for c in "${COMPONENTS[@]}"; do alive "$c" && return 0; done
    return 1
}

# Starts NAME detached (its own session) with output to logs/NAME.log and its pid in pids/NAME.pid.
launch() {
    local name=$1
    shift
    setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 &
    echo $! >"$PIDS/$name.pid"
}

# PID exists and is not a zombie (the node's processes outlive the shell that started them: their reaper is
# PID 1, which may take its time).
running() { kill -0 "$1" 2>/dev/null && [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# Stops NAME: SIGTERM, then SIGKILL after $2 seconds (default 10).
terminate() {
    local name=$1 grace=${2:-10} p i
    p=$(pid_of "$name") || return 0
    [ -n "$p" ] || return 0
    if alive "$name"; then
        local t0=$EPOCHREALTIME
        kill -TERM "$p" 2>/dev/null || true
        for ((i = 0; i < grace * 20; i++)); do running "$p" || break; sleep 0.05; done
        running "$p" && { frs_log "$name still running after SIGTERM and $grace s: SIGKILL"; kill -KILL "$p" 2>/dev/null; }
        for ((i = 0; i < 100; i++)); do running "$p" || break; sleep 0.05; done
        [ -z "${K8S_DEBUG:-}" ] || frs_log "$name stopped in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
    fi
    rm -f "$PIDS/$name.pid"
}

# Fails (with the end of its log) unless NAME is still running.
need_alive() {
    alive "$1" && return 0
    frs_log "$1 exited; the end of $LOGS/$1.log:"
    tail -n 30 "$LOGS/$1.log" >&2 || true
    return 1
}

# ---- certificates and kubeconfigs --------------------------------------------------------------------

cert() { # NAME SUBJECT EXTENSIONS: an EC P-256 key and a certificate signed by the node's CA
    local name=$1 subj=$2 ext=$3
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$name.key" 2>/dev/null
    openssl req -new -key "$PKI/$name.key" -subj "$subj" -out "$PKI/$name.csr" 2>/dev/null
    printf '%b\n' "$ext" >"$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
        -set_serial "0x$(openssl rand -hex 12)" -days 7 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
    rm -f "$PKI/$name.csr" "$PKI/$name.ext"
}

make_pki() {
    mkdir -p "$PKI" && chmod 700 "$PKI"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/ca.key" 2>/dev/null
    openssl req -x509 -new -key "$PKI/ca.key" -subj "/CN=flight-route-stream-test-ca" -days 7 \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -out "$PKI/ca.crt" 2>/dev/null
    local client="basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
    local first_service_ip
    first_service_ip=$(python3 -c "import ipaddress; print(ipaddress.ip_network('$K8S_SERVICE_CIDR')[1])")
    cert apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,IP:$K8S_NODE_IP,IP:$first_service_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin "/O=system:masters/CN=kubernetes-admin" "$client"
    cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "$client"
    cert controller-manager "/CN=system:kube-controller-manager" "$client"
    cert scheduler "/CN=system:kube-scheduler" "$client"
    cert kubelet "/O=system:nodes/CN=system:node:$K8S_NODE_NAME" "$client"
    cert kubelet-serving "/CN=$K8S_NODE_NAME" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:$K8S_NODE_IP,DNS:$K8S_NODE_NAME"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/sa.key" 2>/dev/null
    openssl pkey -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
}

kubeconfig() { # NAME CERT: a kubeconfig for the client certificate CERT
    cat >"$KCFG/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: flight-route-stream-test
    cluster:
      certificate-authority: $PKI/ca.crt
      server: https://127.0.0.1:$APISERVER_PORT
users:
  - name: $2
    user:
      client-certificate: $PKI/$2.crt
      client-key: $PKI/$2.key
contexts:
  - name: flight-route-stream-test
    context: {cluster: flight-route-stream-test, user: $2}
current-context: flight-route-stream-test
EOF
}

# ---- configuration files ----------------------------------------------------------------------------

write_configs() {
    mkdir -p "$CTRD" "$RUN/cni/net.d" "$RUN/cni/ipam" "$RUN/kubelet/root" "$RUN/kubelet/pki" "$RUN/coredns"
    # containerd: all its state under the run directory. restrict_oom_score_adj: the sandbox here cannot
    # lower oom_score_adj ("can't get final child's PID from pipe: EOF" otherwise).
    cat >"$CTRD/config.toml" <<EOF
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$K8S_PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CTRD/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$RUN/cni/net.d"
    max_conf_num = 1
EOF
    local gw=$K8S_NODE_IP
    cat >"$RUN/cni/net.d/10-flight-route-stream.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "flight-route-stream-test",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$K8S_BRIDGE",
      "isGateway": false,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": "$K8S_POD_SUBNET", "gateway": "$gw"}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": "$RUN/cni/ipam"
      }
    }
  ]
}
EOF
    cat >"$RUN/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $K8S_NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $PKI/ca.crt}
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$SOCK
cgroupDriver: cgroupfs
clusterDomain: cluster.local
clusterDNS: [$K8S_NODE_IP]
resolvConf: /etc/resolv.conf
failSwapOn: false
podLogsDir: $RUN/kubelet/pod-logs
volumePluginDir: $RUN/kubelet/volume-plugins
rotateCertificates: false
serverTLSBootstrap: false
# No registry here: imported images must never be garbage-collected, and a full disk must not evict.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
nodeStatusUpdateFrequency: 4s
syncFrequency: 10s
EOF
    cat >"$RUN/coredns/Corefile" <<EOF
.:53 {
    bind $K8S_NODE_IP
    errors
    health 127.0.0.1:$COREDNS_HEALTH_PORT
    ready 127.0.0.1:$COREDNS_READY_PORT
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $KCFG/admin.kubeconfig
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    forward . /etc/resolv.conf
    cache 5
}
EOF
}

# ---- host state that the node changes ----------------------------------------------------------------

# The kubelet sets these kernel tunables: put them back at stop. (Forwarding is left alone: the bridge has the
# pods' gateway address from start, not from the plugin's isGateway, so nothing is routed and the plugin does
# not turn on net.ipv4.ip_forward, which podman's networks may need.)
SYSCTLS=(kernel.panic kernel.panic_on_oops vm.overcommit_memory vm.panic_on_oom)
save_host_state() {
    local k
    [ -f "$RUN/host-state" ] && return 0
    {
        for k in "${SYSCTLS[@]}"; do echo "sysctl $k $(sysctl -n "$k")"; done
        # Paths the kubelet, containerd and libcni use whatever their configuration says.
        for k in /var/log/containers /run/containerd /var/lib/kubelet /var/lib/cni; do
            [ -d "$k" ] && echo "had $k"
        done
        true
    } >"$RUN/host-state"
}

restore_host_state() {
    [ -f "$RUN/host-state" ] || return 0
    local kind k v
    while read -r kind k v; do
        [ "$kind" = sysctl ] && sysctl -q -w "$k=$v" >/dev/null 2>&1 || true
    done <"$RUN/host-state"
    if [ -d /var/log/containers ]; then
        find /var/log/containers -maxdepth 1 -type l -lname "$RUN/*" -delete 2>/dev/null || true
        grep -qx 'had /var/log/containers' "$RUN/host-state" || rmdir /var/log/containers 2>/dev/null || true
    fi
    # The shims' sockets (/run/containerd/s: a fixed path, left behind by shims that were killed).
    grep -qx 'had /run/containerd' "$RUN/host-state" || rm -rf /run/containerd
    # The kubelet's device-plugin socket (a fixed path) and libcni's cache of the results of our network and
    # of the loopback network the CRI adds to each pod.
    rm -f /var/lib/kubelet/device-plugins/kubelet.sock
    grep -qx 'had /var/lib/kubelet' "$RUN/host-state" ||
        rmdir /var/lib/kubelet/device-plugins /var/lib/kubelet 2>/dev/null || true
    rm -f /var/lib/cni/results/flight-route-stream-test-* /var/lib/cni/results/cni-loopback-*
    grep -qx 'had /var/lib/cni' "$RUN/host-state" || rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true
    rm -f "$RUN/host-state"
}

# The kubelet's own iptables chains (canary and hint chains; it makes no others since 1.28).
remove_iptables_chains() {
    local ipt table chain
    for ipt in iptables ip6tables; do
        command -v "$ipt" >/dev/null || continue
        for table in filter nat mangle; do
            for chain in $("$ipt" -t "$table" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^KUBE-/ { print $2 }'); do
                # Rules of the built-in chains that jump to it first, then the chain.
                "$ipt" -t "$table" -S 2>/dev/null | awk -v c="$chain" '$1 == "-A" && / -j / && $0 ~ (" -j " c "( |$)")' |
                    while read -r line; do
                        # shellcheck disable=SC2086
                        "$ipt" -t "$table" ${line/-A/-D} 2>/dev/null || true
                    done
                "$ipt" -t "$table" -F "$chain" 2>/dev/null || true
                "$ipt" -t "$table" -X "$chain" 2>/dev/null || true
            done
        done
    done
}

# ---- start ------------------------------------------------------------------------------------------

write_env() {
    cat >"$RUN/env" <<EOF
export KUBECONFIG=$KCFG/admin.kubeconfig
export KUBECACHEDIR=$RUN/kube-cache
export PATH=$KBIN:\$PATH
export FRS_K8S_DIR=$RUN
export FRS_K8S_NODE_NAME=$K8S_NODE_NAME
export FRS_K8S_KUBELET_ROOT=$RUN/kubelet/root
export FRS_K8S_CONTAINERD_SOCK=$SOCK
export FRS_K8S_VOLUMES_DIR=$K8S_VOLUMES_DIR
EOF
}

apiserver_ready() {
    curl -sf --max-time 2 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" \
        "https://127.0.0.1:$APISERVER_PORT/readyz" | grep -qx ok
}
node_ready() {
    [ "$(kubectl_ get node "$K8S_NODE_NAME" \
        -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
default_sa() { kubectl_ -n default get serviceaccount default; }
coredns_ready() { curl -sf --max-time 2 "http://127.0.0.1:$COREDNS_READY_PORT/ready"; }

cmd_start() {
    [ "$(id -u)" = 0 ] || frs_die "the node needs root"
    if [ -d "$PIDS" ] && any_alive; then
        frs_die "a node is already running under $RUN (tests/deploy/k8s_node.sh stop first)"
    fi
    install_packages "${K8S_PACKAGES[@]}"
    cmd_build
    # Whatever a node that died left behind (mounts, cgroups, the bridge...) goes first.
    mkdir -p "$RUN" && chmod 700 "$RUN"
    cleanup quiet
    rm -rf "$LOGS"
    mkdir -p "$LOGS" "$PIDS" "$KCFG" "$K8S_VOLUMES_DIR"
    save_host_state
    trap 'trap - ERR; frs_log "start failed: stopping what was started (logs in $LOGS)"; cleanup quiet' ERR

    local ETCD_PORT ETCD_PEER_PORT ports
    ports=$(k8s_free_ports 7)
    read -r -d '' ETCD_PORT ETCD_PEER_PORT APISERVER_PORT KUBELET_PORT KUBELET_HEALTHZ_PORT COREDNS_HEALTH_PORT \
        COREDNS_READY_PORT <<<"$ports" || true
    echo "APISERVER_PORT=$APISERVER_PORT COREDNS_READY_PORT=$COREDNS_READY_PORT" >"$RUN/ports"

    make_pki
    local k
    for k in admin controller-manager scheduler kubelet; do kubeconfig "$k" "$k"; done
    write_configs

    # The pods' bridge first, with the node's address: CoreDNS listens on it before any pod exists.
    ip link add "$K8S_BRIDGE" type bridge
    ip addr add "$K8S_NODE_IP/${K8S_POD_SUBNET#*/}" dev "$K8S_BRIDGE"
    ip link set "$K8S_BRIDGE" up

    launch etcd etcd --name frs-node --data-dir "$RUN/etcd" \
        --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
        --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
        --initial-cluster "frs-node=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn
    launch containerd containerd --config "$CTRD/config.toml"
    K8S_WAIT_TIMEOUT=30 k8s_wait "etcd" curl -sf --max-time 2 "http://127.0.0.1:$ETCD_PORT/health" ||
        { need_alive etcd; false; }

    launch kube-apiserver "$KBIN/kube-apiserver" \
        --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
        --bind-address 127.0.0.1 --secure-port "$APISERVER_PORT" --advertise-address "$K8S_NODE_IP" \
        --cert-dir "$RUN/apiserver" --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
        --client-ca-file "$PKI/ca.crt" \
        --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
        --kubelet-client-key "$PKI/apiserver-kubelet-client.key" --kubelet-preferred-address-types InternalIP \
        --service-account-issuer https://kubernetes.default.svc.cluster.local \
        --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
        --service-cluster-ip-range "$K8S_SERVICE_CIDR" \
        --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
        --profiling=false --v=1
    K8S_WAIT_TIMEOUT=90 k8s_wait "kube-apiserver /readyz" apiserver_ready || { need_alive kube-apiserver; false; }

    launch kube-controller-manager "$KBIN/kube-controller-manager" --kubeconfig "$KCFG/controller-manager.kubeconfig" \
        --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
        --use-service-account-credentials --leader-elect=false --secure-port 0 --profiling=false --v=1
    launch kube-scheduler "$KBIN/kube-scheduler" --kubeconfig "$KCFG/scheduler.kubeconfig" \
        --leader-elect=false --secure-port 0 --profiling=false --v=1

    K8S_WAIT_TIMEOUT=30 k8s_wait "containerd" ctr_ version || { need_alive containerd; false; }
    ctr_ images import "$(pause_image_tar)" >/dev/null

    launch kubelet "$KBIN/kubelet" --config "$RUN/kubelet/config.yaml" \
        --kubeconfig "$KCFG/kubelet.kubeconfig" --root-dir "$RUN/kubelet/root" --cert-dir "$RUN/kubelet/pki" \
        --hostname-override "$K8S_NODE_NAME" --node-ip "$K8S_NODE_IP" \
        --pod-infra-container-image "$K8S_PAUSE_IMAGE" --v=1
    launch coredns "$(coredns_bin_dir)/coredns" -conf "$RUN/coredns/Corefile"

    K8S_WAIT_TIMEOUT=60 k8s_wait "node $K8S_NODE_NAME Ready" node_ready ||
        { need_alive kubelet; tail -n 20 "$LOGS/kubelet.log" >&2; false; }
    K8S_WAIT_TIMEOUT=30 k8s_wait "CoreDNS ready" coredns_ready || { need_alive coredns; false; }
    K8S_WAIT_TIMEOUT=30 k8s_wait "the default ServiceAccount" default_sa
    for k in "${COMPONENTS[@]}"; do need_alive "$k"; done
    trap - ERR
    write_env
    frs_log "node $K8S_NODE_NAME Ready (Kubernetes $K8S_VERSION, API https://127.0.0.1:$APISERVER_PORT, logs in $LOGS)"
    cat "$RUN/env"
}

# ---- import -----------------------------------------------------------------------------------------

import_one() { # SRC DST TAR
    local src=$1 dst=$2 tar=$3 imported
    podman image exists "$src" || { frs_log "no podman image $src"; return 1; }
    podman save -q -o "$tar" "$src" >&2 || return 1
    # The archive names the image as podman does; re-tag it as the pods name it.
    imported=$(ctr_ images import "$tar" | awk '/^unpacking /{ print $2 }' | tail -n 1)
    rm -f "$tar"
    [ -n "$imported" ] || { frs_log "ctr import of $src named no image"; return 1; }
    [ "$imported" = "$dst" ] || ctr_ images tag --force "$imported" "$dst" >/dev/null || return 1
    frs_log "imported $src as $dst"
}

cmd_import() {
    [ $# -gt 0 ] || frs_die "import IMAGE[=NAME]...: podman images to put into the node's containerd"
    alive containerd || frs_die "the node is not running"
    command -v podman >/dev/null || frs_die "podman not found (tests/deploy/images.sh installs it)"
    # podman's configuration of tests/deploy/lib.sh (runc, ulimits), when the caller did not set it.
    [ -n "${CONTAINERS_CONF:-}" ] || [ ! -f "$FRS_CACHE/podman/containers.conf" ] ||
        export CONTAINERS_CONF=$FRS_CACHE/podman/containers.conf
    local spec src dst i=0 pids=() failed=0 p
    mkdir -p "$RUN/tmp"
    # Side by side: each is mostly podman writing and containerd unpacking layers.
    for spec in "$@"; do
        src=${spec%%=*}
        dst=${spec#*=}
        [ "$spec" = "$src" ] && dst=$src
        i=$((i + 1))
        import_one "$src" "$(normalize_ref "$dst")" "$RUN/tmp/image-$i.tar" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    [ $failed = 0 ] || frs_die "image import failed"
}

# What the kubelet asks containerd for: NAME:TAG -> docker.io/library/NAME:TAG, USER/NAME:TAG -> docker.io/...
normalize_ref() {
    local ref=$1 first=${1%%/*}
    if [[ $ref != */* ]]; then
        ref=docker.io/library/$ref
    elif [[ $first != *.* && $first != *:* && $first != localhost ]]; then
        ref=docker.io/$ref
    fi
    [[ ${ref##*/} == *:* || $ref == *@* ]] || ref=$ref:latest
    echo "$ref"
}

# ---- stop -------------------------------------------------------------------------------------------

# Every mount at or under DIR, deepest first.
mounts_under() {
    findmnt -rn -o TARGET 2>/dev/null | awk -v d="$1" '$0 == d || index($0, d "/") == 1' |
        awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-
}

kill_pod_processes() {
    local f p
    # Every process in a pod's cgroup (all hierarchies), then the shims of our containerd.
    for f in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
        [ -d "$f" ] || continue
        find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null
    done | sort -u | while read -r p; do kill -KILL "$p" 2>/dev/null || true; done
    for p in $(pgrep -f "containerd-shim.* -address $SOCK" 2>/dev/null || true); do kill -KILL "$p" 2>/dev/null || true; done
}

remove_pod_cgroups() {
    local f
    for f in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/kubepods.slice; do
        [ -d "$f" ] || continue
        find "$f" -depth -type d -exec rmdir {} + 2>/dev/null || true
    done
}

# Graceful first (while the API and the kubelet run): no controller recreates anything, every pod is deleted
# and the kubelet stops its containers (SIGTERM: the services snapshot) and tears down their sandboxes.
drain_pods() {
    alive kube-apiserver && alive kubelet && [ -f "$KCFG/admin.kubeconfig" ] || return 0
    terminate kube-controller-manager 5
    terminate kube-scheduler 5
    kubectl_ delete pods --all --all-namespaces --grace-period 10 --wait=false >/dev/null 2>&1 || return 0
    local deadline=$((SECONDS + 40))
    while [ $SECONDS -lt $deadline ]; do
        [ -z "$(kubectl_ get pods --all-namespaces -o name 2>/dev/null)" ] && return 0
        sleep 0.5
    done
    frs_log "pods still there after 40 s: killing them"
}

cleanup() {
    local quiet=${1:-}
    [ -d "$RUN" ] || { [ -n "$quiet" ] || frs_log "no node under $RUN"; return 0; }
    mkdir -p "$PIDS"
    local t0=$EPOCHREALTIME
    drain_pods
    [ -z "${K8S_DEBUG:-}" ] || frs_log "pods drained in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s"
    terminate coredns 5
    terminate kubelet 10
    if alive containerd; then
        local id
        for id in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true; done
    fi
    kill_pod_processes
    terminate containerd 10
    kill_pod_processes
    terminate kube-controller-manager 5
    terminate kube-scheduler 5
    terminate kube-apiserver 10
    terminate etcd 10
    local m i
    for i in 1 2 3; do
        for m in $(mounts_under "$RUN") $(mounts_under "$K8S_VOLUMES_DIR"); do
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done
        [ -z "$(mounts_under "$RUN")$(mounts_under "$K8S_VOLUMES_DIR")" ] && break
        sleep 0.5
    done
    remove_pod_cgroups
    if ip link show "$K8S_BRIDGE" >/dev/null 2>&1; then
        for m in $(ip -o link show master "$K8S_BRIDGE" 2>/dev/null | awk -F': ' '{ print $2 }' | cut -d@ -f1); do
            ip link del "$m" 2>/dev/null || true
        done
        ip link del "$K8S_BRIDGE" 2>/dev/null || true
    fi
    remove_iptables_chains
    restore_host_state
    rm -rf "$K8S_VOLUMES_DIR"
    # Everything but the logs (read them after a failure; the next start clears them).
    find "$RUN" -mindepth 1 -maxdepth 1 ! -name logs -exec rm -rf {} + 2>/dev/null || true
    [ -z "$(mounts_under "$RUN")" ] || frs_log "warning: mounts left under $RUN: $(mounts_under "$RUN" | tr '\n' ' ')"
    [ -n "$quiet" ] || frs_log "node stopped, $RUN removed (logs kept in $LOGS)"
}

cmd_stop() {
    [ "$(id -u)" = 0 ] || frs_die "the node needs root"
    cleanup
    if [ "${1:-}" = --purge ]; then
        rm -rf "$RUN"
        frs_log "$RUN removed with its logs"
    fi
}

cmd_status() {
    local c
    for c in "${COMPONENTS[@]}"; do
        if alive "$c"; then echo "$c running (pid $(pid_of "$c"))"; else echo "$c not running"; fi
    done
    alive kube-apiserver && kubectl_ get nodes -o wide
    return 0
}

case ${1:-} in
    build) cmd_build ;;
    start) cmd_start ;;
    stop) shift; cmd_stop "$@" ;;
    import) shift; cmd_import "$@" ;;
    env) [ -f "$RUN/env" ] || frs_die "the node is not running"; cat "$RUN/env" ;;
    status) cmd_status ;;
    kubectl) shift; kubectl_ "$@" ;;
    *) usage ;;
esac
