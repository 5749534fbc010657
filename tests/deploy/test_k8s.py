#!/usr/bin/env python3
"""The Kubernetes manifests on a real node (tests/deploy/k8s.sh starts it and applies overlays/local-test):
every pod Ready through its own probes; Service names resolve in the pods; the seed's smoke test against the
pods; a query-service pod deleted comes back on its volume with the same views; the same during a Kafka
outage (restarted twice while Kafka is down, then Kafka back: the views are still exact, nothing counted
twice); the gateway is not ready while Kafka is down and recovers by itself; the two query-service replicas
answer identically; memory stays under the limits while 10x routes.dat is replayed.

Environment: KUBECONFIG (and kubectl on PATH) of the node, FRS_K8S_NAMESPACE (flight-route-stream). Runs on
the node itself, as root: memory is read from the containers' cgroups (v1, as on these machines).
HTTP goes from this host to the pods' IPs (the node's bridge), as nothing routes Service IPs here.
"""
import json
import os
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import check, check_eq, http_request, wait_until  # noqa: E402

NS = os.environ.get("FRS_K8S_NAMESPACE", "flight-route-stream")
TOPIC = "routes_data"
ROUTES_OK = 66765  # events of one pass of routes.dat (67,663 lines, 898 rejected)
SEED_SUMMARY = (
    b'{"data":[{"Total count":67663},{"Total count (%)":100.0},{"Total success":66765},'
    b'{"Total success (%)":98.67},{"Total errors by var transform":898},'
    b'{"Total errors by var transform (%)":1.33},{"Total errors by invalid schema":0},'
    b'{"Total errors by invalid schema (%)":0.0}],"error":false,"message":"produce","statusCode":200}\n')
T0 = time.monotonic()


def log(msg):
    print(f"[{time.monotonic() - T0:6.1f}s] {msg}", flush=True)


# ---- kubectl ----------------------------------------------------------------------------------------

def kubectl(*args, timeout=120, ok=True):
    argv = ["kubectl", "-n", NS, *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if ok:
        check(proc.returncode == 0, f"{' '.join(argv)}: exit {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout


def get(kind, name=None, selector=None):
    args = ["get", kind] + ([name] if name else []) + (["-l", selector] if selector else []) + ["-o", "json"]
    return json.loads(kubectl(*args))


def pods(app):
    items = get("pods", selector=f"app.kubernetes.io/name={app}")["items"]
    return sorted((p for p in items if not p["metadata"].get("deletionTimestamp")),
                  key=lambda p: p["metadata"]["name"])


def pod(name):
    return get("pod", name)


def is_ready(p):
    conds = {c["type"]: c["status"] for c in p.get("status", {}).get("conditions", [])}
    return p.get("status", {}).get("phase") == "Running" and conds.get("Ready") == "True"


def ready_pods(app, n):
    """The app's n pods once all of them are Ready (else a false value, for wait_until)."""
    ps = pods(app)
    return ps if len(ps) == n and all(is_ready(p) for p in ps) else None


def pod_ip(name):
    ip = pod(name)["status"].get("podIP")
    check(bool(ip), f"{name} has no IP")
    return ip


def restarts(p):
    return {c["name"]: c.get("restartCount", 0) for c in p["status"].get("containerStatuses", [])}


# ---- HTTP to a pod ----------------------------------------------------------------------------------

def http_get(ip, port, path, params=None, timeout=30):
    """(status, body bytes) of GET path on a pod."""
    status, _, body = http_request(ip, port, "GET", path, params, timeout=timeout)
    return status, body


def data(ip, port, path, params=None):
    status, body = http_get(ip, port, path, params)
    check(status == 200, f"GET {ip}:{port}{path} {params}: {status} {body[:300]!r}")
    doc = json.loads(body)
    check_eq(list(doc), ["data", "error", "message", "statusCode"], f"{path}: envelope keys")
    return doc["data"]


def q_status(name):
    return data(pod_ip(name), 5001, "/status")[0]


def views(name):
    """Every view of a query-service pod, as the bytes it serves."""
    ip = pod_ip(name)
    out = {}
    for path, params in (("/top10_source_airport", None), ("/top10_source_airport", {"n": "1000"}),
                         ("/top10_equipment_30min_window", {"n": "1000"}), ("/dump_table", {"limit": "100000"})):
        status, body = http_get(ip, 5001, path, params, timeout=60)
        check(status == 200, f"{name} {path}: {status} {body[:300]!r}")
        out[path + ("?" + urllib.parse.urlencode(params) if params else "")] = body
    return out


def check_same_views(got, want, what):
    for k in want:
        if got[k] != want[k]:
            raise AssertionError(f"{what}: {k} differs ({len(got[k])} vs {len(want[k])} bytes): "
                                 f"{got[k][:300]!r} vs {want[k][:300]!r}")


def check_replicas_agree(v0, v1, whole_topic=True):
    """The aggregated views byte for byte. /dump_table is in consumption order, which interleaves the partitions
    as each replica happened to fetch them: while it holds the whole topic (whole_topic), the same rows;
    past its capacity, the most recent events of each replica's own interleaving, so as many rows."""
    for k in v0:
        if k.startswith("/dump_table"):
            r0 = json.loads(v0[k])["data"]
            r1 = json.loads(v1[k])["data"]
            check_eq(len(r1), len(r0), "dump_table rows of the two replicas")
            if whole_topic:
                key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
                check(sorted(map(key, r0)) == sorted(map(key, r1)), "dump_table rows differ between the replicas")
        else:
            check(v0[k] == v1[k], f"replicas differ on {k}: {v0[k][:300]!r} vs {v1[k][:300]!r}")


# ---- the topic, read by Kafka's own tool in the broker's pod --------------------------------------------

def topic_end_offsets():
    # A small, quick JVM beside the broker (the container's KAFKA_HEAP_OPTS are the broker's).
    out = kubectl("exec", "kafka-0", "-c", "kafka", "--", "env", "KAFKA_HEAP_OPTS=-Xms32m -Xmx64m",
                  "KAFKA_JVM_PERFORMANCE_OPTS=-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto",
                  "/opt/kafka/bin/kafka-get-offsets.sh", "--bootstrap-server", "localhost:9092",
                  "--topic", TOPIC, "--time", "-1", timeout=120)
    offsets = {}
    for line in out.split():
        topic, part, off = line.rsplit(":", 2)
        if topic == TOPIC:
            offsets[int(part)] = int(off)
    check(len(offsets) > 0, f"no end offsets for {TOPIC}: {out!r}")
    return offsets


def caught_up(name, offsets):
    st = q_status(name)
    got = {p["partition"]: p["next_offset"] for p in st["partitions"]}
    return st if got == offsets else None


def check_exact(name, offsets, want_events, want_atl):
    """name has consumed the topic to its end and holds each event exactly once."""
    st = wait_until(lambda: caught_up(name, offsets), 120, 0.5, f"{name} caught up with {offsets}")
    check_eq(st["events_applied"], want_events, f"{name}: events_applied (the topic holds {sum(offsets.values())})")
    check_eq(sum(offsets.values()), want_events, "events on the topic")
    top = data(pod_ip(name), 5001, "/top10_source_airport")
    check_eq(top[0], {"count": want_atl, "source_airport": "ATL"}, f"{name}: first of /top10_source_airport")
    # The reference files, published by the gateway's pod from its volume, joined in on every replica.
    wait_until(lambda: data(pod_ip(name), 5001, "/reference")[0]["loaded"], 60, 0.5, f"{name}: reference loaded")
    atl = data(pod_ip(name), 5001, "/source_airports", {"n": "1"})[0]
    check_eq((atl["count"], atl["name"]), (want_atl, "Hartsfield Jackson Atlanta International Airport"),
             f"{name}: joined ATL")
    rows = data(pod_ip(name), 5001, "/dump_table", {"limit": "100000"})
    check_eq(len(rows), min(want_events, 100000), f"{name}: /dump_table rows")
    return st


# ---- memory (cgroup v1 of each container) ------------------------------------------------------------

def parse_quantity(q):
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "": 1}
    for u in sorted(units, key=len, reverse=True):
        if u and q.endswith(u):
            return int(float(q[:-len(u)]) * units[u])
    return int(float(q))


def container_cgroup(p, cname):
    uid = p["metadata"]["uid"]
    cid = next(c["containerID"] for c in p["status"]["containerStatuses"] if c["name"] == cname).split("//", 1)[1]
    for qos in ("", "burstable/", "besteffort/"):
        path = f"/sys/fs/cgroup/memory/kubepods/{qos}pod{uid}/{cid}"
        if os.path.isdir(path):
            return path
    raise AssertionError(f"no memory cgroup for {p['metadata']['name']}/{cname} ({uid}, {cid})")


def read_int(path):
    with open(path) as f:
        return int(f.read().strip())


def memory_report():
    """(pod, container, peak, failcnt, request, limit) of every container of the namespace."""
    rows = []
    for p in get("pods")["items"]:
        for c in p["spec"]["containers"]:
            res = c.get("resources", {})
            limit = parse_quantity(res.get("limits", {}).get("memory", "0"))
            request = parse_quantity(res.get("requests", {}).get("memory", "0"))
            cg = container_cgroup(p, c["name"])
            rows.append((p["metadata"]["name"], c["name"], read_int(f"{cg}/memory.max_usage_in_bytes"),
                         read_int(f"{cg}/memory.failcnt"), request, limit, read_int(f"{cg}/memory.limit_in_bytes")))
    return rows


def check_no_restarts():
    """No container restarted or was OOM-killed in any pod this test did not delete itself."""
    for p in get("pods")["items"]:
        for cs in p["status"].get("containerStatuses", []):
            name = f"{p['metadata']['name']}/{cs['name']}"
            last = (cs.get("lastState") or {}).get("terminated") or {}
            check(last.get("reason") != "OOMKilled", f"{name} was OOMKilled")
            check_eq(cs.get("restartCount", 0), 0, f"{name} restarts")


# ---- the test ---------------------------------------------------------------------------------------

def wait_all_ready():
    gw = wait_until(lambda: ready_pods("ingest-gateway", 1), 240, 1, "the ingest-gateway pod Ready")
    qs = wait_until(lambda: ready_pods("query-service", 2), 240, 1, "both query-service pods Ready")
    kf = wait_until(lambda: ready_pods("kafka", 1), 240, 1, "the kafka pod Ready")
    for p in gw + qs + kf:
        for c in p["spec"]["containers"]:
            check("readinessProbe" in c and "livenessProbe" in c,
                  f"{p['metadata']['name']}/{c['name']}: Ready through probes of its own")
        check(all(cs["ready"] for cs in p["status"]["containerStatuses"]), f"{p['metadata']['name']} containers ready")
    for p in qs:
        check("startupProbe" in p["spec"]["containers"][0], "query-service has a startup probe")
    return gw[0]["metadata"]["name"], [p["metadata"]["name"] for p in qs]


def check_dns(qname):
    """Service names resolve in the pods as on any cluster (cluster DNS)."""
    kafka_ip = pod_ip("kafka-0")
    for host in ("kafka", f"kafka.{NS}.svc.cluster.local", f"kafka-0.kafka.{NS}.svc"):
        out = kubectl("exec", qname, "--", "getent", "hosts", host, timeout=30).split()
        check(out and out[0] == kafka_ip, f"{host} resolves in {qname} to {out} (kafka-0 is {kafka_ip})")
    out = kubectl("exec", qname, "--", "getent", "ahostsv4", "query-service-headless", timeout=30)
    ips = {line.split()[0] for line in out.splitlines() if line.strip()}
    check_eq(ips, {pod_ip(n) for n in ("query-service-0", "query-service-1")}, "query-service-headless addresses")


def service_endpoints(service):
    """{pod IP: ready} of the Service's EndpointSlices, and the ports they name."""
    slices = get("endpointslices", selector=f"kubernetes.io/service-name={service}")["items"]
    eps, ports = {}, set()
    for sl in slices:
        ports |= {(p.get("name"), p.get("port")) for p in sl.get("ports") or []}
        for ep in sl.get("endpoints") or []:
            for addr in ep["addresses"]:
                eps[addr] = bool((ep.get("conditions") or {}).get("ready"))
    return eps, ports


def check_services(gw, qnames):
    """Each Service selects its pods, on the named port (the controllers resolve targetPort: http)."""
    for service, names, port in (("ingest-gateway", [gw], 5000), ("query-service", qnames, 5001),
                                 ("query-service-headless", qnames, 5001), ("kafka", ["kafka-0"], 9092)):
        want = {pod_ip(n): True for n in names}
        eps, ports = wait_until(lambda: (lambda r: r if r[0] == want else None)(service_endpoints(service)),
                                30, 0.5, f"the endpoints of Service {service}: {want}")
        check(any(p == port for _, p in ports), f"Service {service}: endpoint ports {ports}, want {port}")


def check_metrics(names):
    """The Prometheus annotations of each pod name an endpoint that serves metrics."""
    for name in names:
        p = pod(name)
        ann = p["metadata"].get("annotations") or {}
        check_eq(ann.get("prometheus.io/scrape"), "true", f"{name}: prometheus.io/scrape")
        status, body = http_get(p["status"]["podIP"], int(ann["prometheus.io/port"]), ann["prometheus.io/path"])
        check(status == 200 and b"# TYPE " in body, f"{name}: {ann['prometheus.io/path']}: {status} {body[:200]!r}")


def delete_and_wait(name, what):
    """Deletes the StatefulSet pod name; returns once its successor (same name, new uid) is Ready."""
    before = pod(name)
    claim = next(v["persistentVolumeClaim"]["claimName"] for v in before["spec"]["volumes"]
                 if "persistentVolumeClaim" in v)
    volume = get("pvc", claim)["spec"]["volumeName"]
    kubectl("delete", "pod", name, "--wait=true", timeout=120)
    t = time.monotonic()
    p = wait_until(lambda: (lambda x: x if x["metadata"]["uid"] != before["metadata"]["uid"] and is_ready(x)
                            else None)(pod(name)), 180, 0.5, f"{name} back and Ready ({what})")
    log(f"{name} deleted and back Ready in {time.monotonic() - t:.1f} s ({what})")
    check_eq(get("pvc", claim)["spec"]["volumeName"], volume, f"{name}: the volume of claim {claim}")
    st = q_status(name)
    check("snapshot" in st["snapshot"] and "restored" in st["snapshot"],
          f"{name} restored its state from its snapshot: {st['snapshot']!r}")
    return p


def scale_kafka(n):
    kubectl("scale", "statefulset", "kafka", f"--replicas={n}")
    if n == 0:
        wait_until(lambda: not get("pods", selector="app.kubernetes.io/name=kafka")["items"], 120, 0.5,
                   "the kafka pod gone")
    else:
        wait_until(lambda: ready_pods("kafka", n), 180, 0.5, "the kafka pod Ready again")


def phase_ready():
    gw, qnames = wait_all_ready()
    log(f"every pod Ready through its probes: {gw}, {', '.join(qnames)}, kafka-0")
    check_dns(qnames[0])
    log("cluster DNS: kafka, kafka-0.kafka and query-service-headless resolve in the pods")
    check_services(gw, qnames)
    check_metrics([gw] + qnames)
    log("every Service has its pods as ready endpoints; the Prometheus annotations lead to /metrics")
    return gw, qnames


def phase_smoke(gw, qnames):
    """The seed's smoke test, against the pods; returns each replica's views."""
    status, body = http_get(pod_ip(gw), 5000, "/produce", timeout=300)
    check(status == 200 and body == SEED_SUMMARY, f"/produce: {status} {body!r}")
    offsets = topic_end_offsets()
    for q in qnames:
        check_exact(q, offsets, ROUTES_OK, 915)
    before = {q: views(q) for q in qnames}
    check_replicas_agree(before[qnames[0]], before[qnames[1]])
    log(f"smoke test: /produce answered the seed's summary; both replicas hold {ROUTES_OK} events, ATL 915 first, "
        f"{ROUTES_OK} rows in /dump_table, and agree")
    return before, offsets


def phase_restart(qnames, before, offsets):
    """A query-service pod deleted comes back on the same volume with the same views."""
    delete_and_wait(qnames[0], "Kafka up")
    check_same_views(views(qnames[0]), before[qnames[0]], f"{qnames[0]} after its restart")
    check_exact(qnames[0], offsets, ROUTES_OK, 915)
    log(f"{qnames[0]} restarted: the same views, byte for byte")


def phase_kafka_outage(gw, qnames, before):
    """Kafka down: the gateway leaves the Service; a query-service pod restarted (twice: the second start
    restores what the first one snapshotted while Kafka was unreachable) serves its last state; Kafka back:
    the gateway is ready again by itself and the views are still exact."""
    gw_uid = pod(gw)["metadata"]["uid"]
    gw_restarts = restarts(pod(gw))
    scale_kafka(0)
    log("Kafka scaled to 0")
    wait_until(lambda: not is_ready(pod(gw)), 90, 0.5, "the gateway not Ready while Kafka is down")
    status, body = http_get(pod_ip(gw), 5000, "/readyz")
    check_eq(status, 503, f"gateway /readyz while Kafka is down ({body[:200]!r})")
    wait_until(lambda: service_endpoints("ingest-gateway")[0] == {pod_ip(gw): False}, 30, 0.5,
               "the gateway not ready in its Service's endpoints")
    log("gateway not Ready (/readyz 503), out of its Service")
    for i in (1, 2):
        delete_and_wait(qnames[1], f"Kafka down, restart {i}")
        check_same_views(views(qnames[1]), before[qnames[1]], f"{qnames[1]} restarted while Kafka is down ({i})")
    check_same_views(views(qnames[0]), before[qnames[0]], f"{qnames[0]} while Kafka is down")
    log(f"{qnames[1]} restarted twice while Kafka was down: Ready, the same views")
    scale_kafka(1)
    wait_until(lambda: is_ready(pod(gw)), 120, 0.5, "the gateway Ready again once Kafka is back")
    check_eq(pod(gw)["metadata"]["uid"], gw_uid, "the gateway pod (recovered in place)")
    check_eq(restarts(pod(gw)), gw_restarts, "gateway restarts (it recovered by itself)")
    wait_until(lambda: service_endpoints("ingest-gateway")[0] == {pod_ip(gw): True}, 30, 0.5,
               "the gateway ready in its Service's endpoints again")
    log("Kafka back: the gateway is Ready again by itself, back in its Service")
    offsets = topic_end_offsets()
    check_eq(sum(offsets.values()), ROUTES_OK, "events on the topic after the outage")
    for q in qnames:
        check_exact(q, offsets, ROUTES_OK, 915)
        check_same_views(views(q), before[q], f"{q} after the Kafka outage")
    check_replicas_agree(views(qnames[0]), views(qnames[1]))
    log("after the outage: both replicas exact (each event once), the same views as before, and agree")


def phase_memory(gw, qnames):
    """Memory under the limits while 10x routes.dat is replayed; then both replicas exact."""
    limit = 10 * 67663
    t = time.monotonic()
    status, body = http_get(pod_ip(gw), 5000, "/produce", {"loop": "1", "limit": str(limit)}, timeout=900)
    check_eq(status, 200, f"/produce of 10x routes.dat: {body[:300]!r}")
    summary = {k: v for e in json.loads(body)["data"] for k, v in e.items()}
    check_eq(summary["Total count"], limit, "10x: Total count")
    check_eq(summary["Total success"], 10 * ROUTES_OK, "10x: Total success")
    log(f"/produce of 10x routes.dat: {summary['Total success']} delivered in {time.monotonic() - t:.1f} s")
    offsets = topic_end_offsets()
    for q in qnames:
        check_exact(q, offsets, 11 * ROUTES_OK, 11 * 915)
    check_replicas_agree(views(qnames[0]), views(qnames[1]), whole_topic=False)
    log(f"both replicas applied all {11 * ROUTES_OK} events exactly once and agree")
    rows = memory_report()
    print(f"{'pod/container':40} {'peak':>10} {'request':>10} {'limit':>10} {'peak/limit':>10}  hit limit")
    for pname, cname, peak, failcnt, request, lim, cg_limit in rows:
        print(f"{pname + '/' + cname:40} {peak / 2**20:8.1f}Mi {request / 2**20:8.0f}Mi {lim / 2**20:8.0f}Mi "
              f"{peak / lim if lim else 0:10.0%}  {failcnt}")
    for pname, cname, peak, failcnt, request, lim, cg_limit in rows:
        check(lim > 0, f"{pname}/{cname} has a memory limit")
        check_eq(cg_limit, lim, f"{pname}/{cname}: the cgroup's limit is the manifest's")
        check(peak < lim, f"{pname}/{cname}: peak memory {peak} reached the limit {lim}")
        check_eq(failcnt, 0, f"{pname}/{cname}: times memory hit the limit")
    check_no_restarts()
    log("memory: every container stayed under its limit; no restart, no OOM kill")


def main():
    gw, qnames = phase_ready()
    before, offsets = phase_smoke(gw, qnames)
    phase_restart(qnames, before, offsets)
    phase_kafka_outage(gw, qnames, before)
    phase_memory(gw, qnames)
    print("test_k8s: passed")


if __name__ == "__main__":
    main()
