#!/usr/bin/env bash
# Deployment stage 1: the container images, built with podman (no Docker engine here) and checked.
#   tests/deploy/images.sh
# 1. docker.io/library/debian:12-slim: where no registry serves it, a stand-in made with debootstrap (minbase,
#    trimmed the way the official slim image is), built only when podman's storage lacks it.
# 2. The application image, exactly as a user builds it from the repository root:
#      podman build -f deploy/docker/Dockerfile -t flight-route-stream .
#    tagged also docker.io/library/flight-route-stream:{latest,$FRS_IMAGE_TAG}, the names the Docker API
#    (compose) and containerd (Kubernetes) resolve `flight-route-stream:TAG` to.
# 3. docker.io/apache/kafka:3.9.1 (the name deploy/compose.yml uses), also localhost/flight-route-stream-kafka:
#    3.9.1: an equivalent of the official image built from deploy/kafka/image/ and the jars that
#    deploy/kafka/kafka.sh fetch already caches. A real apache/kafka image already present is left alone.
# 4. Checks: the app image runs as a numeric non-root user under tini (PID 1), holds no compiler, both binaries
#    answer --help, log JSON lines on stderr only, and exit 0 on SIGTERM (podman stop) through tini; the Kafka
#    image is non-root and every tool script names a class its jars hold. Each image's size is printed first.
# Environment: FRS_CACHE, FRS_IMAGE_TAG (0.1.0), FRS_REBUILD_BASE=1 (make the base image again).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
# shellcheck source=tests/deploy/lib.sh
source tests/deploy/lib.sh

BASE_IMAGE=docker.io/library/debian:12-slim
APP_IMAGE=flight-route-stream
KAFKA_IMAGE=$FRS_KAFKA_IMAGE
KAFKA_LOCAL_IMAGE=localhost/flight-route-stream-kafka:3.9.1
work=$(mktemp -d "${TMPDIR:-/tmp}/frs-images-XXXXXX")
# debootstrap mounts /proc (and /sys) in its target while it runs: an interrupted run leaves them, and nothing
# is ever deleted through a mount.
remove_work() {
    local m
    awk -v w="$work/" 'index($2, w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$work"
}
frs_on_exit remove_work

# The mirror apt uses here (the first URI of a bookworm suite in the machine's sources), else deb.debian.org.
debian_mirror() {
    local uri
    uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v RS= '
        /(^|\n)Suites:[^\n]*bookworm([ \n]|$)/ && /(^|\n)URIs:/ {
            sub(/.*(^|\n)URIs:[ \t]*/, ""); sub(/[ \t\n].*/, ""); print; exit }')
    [ -n "$uri" ] || uri=$(grep -hE '^deb +(\[[^]]*\] +)?(https?|file):[^ ]+ +bookworm ' /etc/apt/sources.list \
        /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1 | sed -E 's/^deb +(\[[^]]*\] +)?([^ ]+).*/\2/')
    echo "${FRS_DEBIAN_MIRROR:-${uri:-http://deb.debian.org/debian}}"
}

# The official slim image is debootstrap minbase minus documentation, man pages, locales and apt's lists,
# with dpkg told to leave them out of later installs too, and apt told to keep no caches (debuerreotype's
# "slimify" and "minimizing-config").
slim_rootfs() { # dir
    local r=$1
    mkdir -p "$r/etc/dpkg/dpkg.cfg.d" "$r/etc/apt/apt.conf.d"
    cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
    cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    echo 'Acquire::Languages "none";' >"$r/etc/apt/apt.conf.d/docker-no-languages"
    printf 'Acquire::GzipIndexes "true";\nAcquire::CompressionTypes::Order:: "gz";\n' >"$r/etc/apt/apt.conf.d/docker-gzip-indexes"
    echo 'Apt::AutoRemove::SuggestsImportant "false";' >"$r/etc/apt/apt.conf.d/docker-autoremove-suggests"
    printf '#!/bin/sh\n# no service starts during image builds\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
    chmod 0755 "$r/usr/sbin/policy-rc.d"
    find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    find "$r/usr/share/doc" -mindepth 1 -type d -empty -delete
    rm -rf "$r"/usr/share/{groff,info,linda,lintian,man}/* "$r"/usr/share/locale/*
    rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin "$r"/var/cache/apt/archives/*.deb \
        "$r"/var/cache/debconf/*-old "$r"/var/lib/dpkg/*-old "$r"/tmp/* "$r"/var/tmp/*
    find "$r/var/log" -type f -delete
    # The runtime provides these; debootstrap copied the build machine's.
    : >"$r/etc/resolv.conf"
    : >"$r/etc/hostname"
    : >"$r/etc/machine-id"
    rm -f "$r/etc/apt/sources.list"
    cat >"$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $2
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${2%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

build_base_image() {
    if podman image exists "$BASE_IMAGE" && [ "${FRS_REBUILD_BASE:-0}" != 1 ]; then
        frs_log "$BASE_IMAGE present (FRS_REBUILD_BASE=1 makes it again)"
        return 0
    fi
    install_packages debootstrap
    local mirror rootfs=$work/rootfs
    mirror=$(debian_mirror)
    frs_log "debootstrap --variant=minbase bookworm from $mirror"
    if ! debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
        tail -n 30 "$work/debootstrap.log" >&2
        frs_die "debootstrap failed (log above)"
    fi
    slim_rootfs "$rootfs" "$mirror"
    # /dev, /proc and /sys are the runtime's: only the empty directories go into the image.
    tar --numeric-owner --xattrs -C "$rootfs" --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf - . |
        podman import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase bookworm, slimmed" \
            - "$BASE_IMAGE" >"$work/import.log" 2>&1 || { cat "$work/import.log" >&2; frs_die "podman import failed"; }
    rm -rf "$rootfs"
    frs_log "$BASE_IMAGE built from debootstrap"
}

build_app_image() {
    # The documented command, unchanged (--iidfile only records what it built). podman names it
    # localhost/flight-route-stream:latest, unless a local image already answers to the short name, so the
    # names are all set here from the image id.
    podman build -f deploy/docker/Dockerfile -t "$APP_IMAGE" --iidfile "$work/app.iid" . >"$work/app-build.log" 2>&1 ||
        { tail -n 40 "$work/app-build.log" >&2; frs_die "podman build of deploy/docker/Dockerfile failed"; }
    APP_ID=$(cat "$work/app.iid")
    podman tag "$APP_ID" "localhost/$APP_IMAGE:latest" "localhost/$APP_IMAGE:$FRS_IMAGE_TAG" \
        "$FRS_APP_IMAGE:latest" "$FRS_APP_IMAGE:$FRS_IMAGE_TAG"
}

build_kafka_image() {
    local libs ctx=$work/kafka-context
    # The jars deploy/kafka/kafka.sh keeps (under FRS_CACHE too, unless KAFKA_CACHE says otherwise).
    libs=$(KAFKA_CACHE=${KAFKA_CACHE:-$FRS_CACHE/kafka-3.9.1} deploy/kafka/kafka.sh fetch) ||
        frs_die "deploy/kafka/kafka.sh fetch failed"
    if podman image exists "$KAFKA_IMAGE" &&
        ! podman image inspect --format '{{index .Labels "org.opencontainers.image.description"}}' \
            "$KAFKA_IMAGE" | grep -q 'local stand-in'; then
        frs_log "$KAFKA_IMAGE is present and is not the local stand-in: kept as it is"
        return 0
    fi
    mkdir -p "$ctx"
    cp -r deploy/kafka/image/. "$ctx/"
    # Hard links when the cache is on the same file system (no copy of 56 MB), a copy otherwise.
    cp -al "$libs" "$ctx/libs" 2>/dev/null || cp -r "$libs" "$ctx/libs"
    rm -f "$ctx/libs/.complete"
    podman build -t "$KAFKA_LOCAL_IMAGE" "$ctx" >"$work/kafka-build.log" 2>&1 ||
        { tail -n 40 "$work/kafka-build.log" >&2; frs_die "podman build of deploy/kafka/image failed"; }
    podman tag "$KAFKA_LOCAL_IMAGE" "$KAFKA_IMAGE"
    check_kafka_tools "$ctx/libs"
}

# Every script of tools.list names a class that the jars hold (a typo would only show when someone runs it).
check_kafka_tools() { # libs
    python3 - "$1" deploy/kafka/image/tools.list <<'EOF'
import glob, os, sys, zipfile
classes = set()
for jar in glob.glob(os.path.join(sys.argv[1], "*.jar")):
    with zipfile.ZipFile(jar) as z:
        classes.update(n[:-6].replace("/", ".") for n in z.namelist() if n.endswith(".class"))
missing = []
for line in open(sys.argv[2]):
    parts = line.split()
    if parts and not parts[0].startswith("#") and parts[1] not in classes:
        missing.append(f"{parts[0]} -> {parts[1]}")
wanted = {"kafka.Kafka", "kafka.docker.KafkaDockerWrapper", "kafka.tools.StorageTool"}
missing += sorted(wanted - classes)
if missing:
    sys.exit("Kafka image: classes missing from the jars: " + ", ".join(missing))
EOF
}

fail() { frs_die "image check: $*"; }

check_app_image() {
    local img=$APP_ID out user
    user=$(podman image inspect --format '{{.Config.User}}' "$img")
    [[ $user =~ ^[1-9][0-9]*(:[0-9]+)?$ ]] || fail "USER is '$user', not a numeric non-root uid (runAsNonRoot needs one)"
    out=$(podman run --rm "$img" id -u)
    if [ "$out" != "${user%%:*}" ] || [ "$out" = 0 ]; then fail "runs as uid '$out'"; fi
    out=$(podman run --rm "$img" cat /proc/1/comm)
    [ "$out" = tini ] || fail "PID 1 is '$out', not tini"
    out=$(podman run --rm "$img" sh -c 'command -v gcc cc c99 c++ g++ cpp clang tcc ld as make cmake; true')
    [ -z "$out" ] || fail "a compiler or build tool in the runtime image: $out"
    out=$(podman run --rm "$img" sh -c 'find /usr/lib/gcc /usr/libexec/gcc /usr/include -type f 2>/dev/null | head -n 3')
    [ -z "$out" ] || fail "compiler files or headers in the runtime image: $out"
    local svc
    for svc in ingest-gateway query-service; do
        out=$(podman run --rm "$img" "$svc" --help 2>&1) || fail "$svc --help failed: $out"
        grep -q -- '--bootstrap-servers' <<<"$out" || fail "$svc --help does not list --bootstrap-servers"
    done
    check_app_signals "$img"
}

# Both services started with no Kafka to talk to (127.0.0.1:9 refuses), on a read-only root file system as
# Kubernetes runs them: they serve /healthz, write JSON lines on stderr and nothing on stdout, and podman stop
# (SIGTERM to tini, which forwards it) makes each exit 0 well before podman's SIGKILL at 10 s.
check_app_signals() { # image
    local img=$1 svc rc took t0 deadline
    declare -A ports=([ingest-gateway]=5000 [query-service]=5001) pids=()
    for svc in "${!ports[@]}"; do
        frs_on_exit "podman rm -f -t 0 frs-check-$svc-$$ >/dev/null 2>&1"
        podman run --rm --read-only --name "frs-check-$svc-$$" -e KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9 \
            "$img" "$svc" >"$work/$svc.out" 2>"$work/$svc.err" &
        pids[$svc]=$!
    done
    for svc in "${!ports[@]}"; do
        deadline=$((SECONDS + 30))
        until podman exec "frs-check-$svc-$$" curl -fsS -o /dev/null "http://127.0.0.1:${ports[$svc]}/healthz" 2>/dev/null; do
            kill -0 "${pids[$svc]}" 2>/dev/null || { cat "$work/$svc.err" >&2; fail "$svc exited at start"; }
            [ $SECONDS -lt $deadline ] || { cat "$work/$svc.err" >&2; fail "$svc did not serve /healthz"; }
            sleep 0.3
        done
    done
    t0=$EPOCHREALTIME
    podman stop -t 10 "frs-check-ingest-gateway-$$" "frs-check-query-service-$$" >/dev/null
    took=$(frs_elapsed "$t0")
    for svc in "${!ports[@]}"; do
        rc=0
        wait "${pids[$svc]}" || rc=$?
        [ $rc -eq 0 ] || { cat "$work/$svc.err" >&2; fail "$svc exited with status $rc on SIGTERM (137: killed)"; }
        [ ! -s "$work/$svc.out" ] || fail "$svc wrote to stdout: $(head -c 300 "$work/$svc.out")"
        python3 - "$work/$svc.err" "$svc" <<'EOF' || fail "$svc: stderr is not JSON lines"
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines() if l.strip()]
if not lines:
    sys.exit(f"{sys.argv[2]} logged nothing")
for l in lines:
    try:
        ok = isinstance(json.loads(l), dict)
    except ValueError:
        ok = False
    if not ok:
        sys.exit(f"{sys.argv[2]}: a log line on stderr is not a JSON object: {l[:300]}")
EOF
    done
    frs_log "app image: both services stopped by SIGTERM through tini with status 0 in $took s"
}

check_kafka_image() {
    local user
    user=$(podman run --rm --entrypoint id "$KAFKA_IMAGE" -u)
    [ "$user" != 0 ] || fail "the Kafka image runs as root"
    podman run --rm --entrypoint sh "$KAFKA_IMAGE" -c \
        'for s in kafka-server-start.sh kafka-broker-api-versions.sh kafka-topics.sh kafka-storage.sh kafka-run-class.sh; do
             [ -x /opt/kafka/bin/$s ] || { echo "missing /opt/kafka/bin/$s"; exit 1; }; done' ||
        fail "Kafka image scripts"
}

print_sizes() {
    local img
    frs_log "image sizes:"
    for img in "$BASE_IMAGE" "$FRS_APP_IMAGE:$FRS_IMAGE_TAG" "$KAFKA_IMAGE"; do
        printf '  %-48s %s\n' "$img" "$(podman image inspect --format '{{.Size}}' "$img" |
            awk '{ printf "%.0f MB (%d bytes)", $1 / 1e6, $1 }')" >&2
    done
}

frs_time "podman set-up" frs_podman_setup
frs_time "base image $BASE_IMAGE" build_base_image
frs_time "app image (podman build -f deploy/docker/Dockerfile)" build_app_image
frs_time "Kafka image $KAFKA_IMAGE" build_kafka_image
print_sizes
frs_time "app image checks" check_app_image
frs_time "Kafka image checks" check_kafka_image
frs_timings
