"""The query-service's figures, each beside its peer, in one run. Prints one JSON object per figure."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request

import bench_util as b  # first: puts tests/integration on sys.path
import freshness_peer  # noqa: E402
import harness as h  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "3"))
SCALES = [int(x) for x in os.environ.get("BENCH_SCALES", "1,10,50").split(",")]
CONNECTIONS = [int(x) for x in os.environ.get("BENCH_CONNECTIONS", "64,256,1024").split(",")]
ROUTES_EVENTS = b.ROUTES_EVENTS


def wrk(url, connections=64, seconds=10):
    """@returns (requests/s, p99 ms). A run with any error answer or socket error fails: a server answering 403
    or dropping connections is fast at the wrong thing."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url], check=True,
                         capture_output=True, text=True).stdout
    for bad in (r"Non-2xx or 3xx responses:\s+\d+", r"Socket errors:.*"):
        m = re.search(bad, out)
        if m and re.search(r"[1-9]", m.group(0)):
            raise AssertionError(f"wrk on {url} with {connections} connections: {m.group(0)}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    p99_ms = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
    return rps, p99_ms


def start_nginx(files):
    """nginx (Debian's defaults: a worker per core) serving files ({name: bytes}) as static files from a directory
    of its own, readable by its workers' unprivileged user. @returns (process, port, root); each file is checked to
    come back byte for byte."""
    root = tempfile.mkdtemp(prefix="bench-nginx-")
    os.chmod(root, 0o755)
    os.makedirs(os.path.join(root, "www"))
    os.makedirs(os.path.join(root, "tmp"))
    for name, body in files.items():
        with open(os.path.join(root, "www", name), "wb") as f:
            f.write(body)
    port = h.free_port()
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""worker_processes auto;
pid {root}/nginx.pid;
error_log {root}/error.log;
daemon off;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/json;
    client_body_temp_path {root}/tmp; proxy_temp_path {root}/tmp; fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp; scgi_temp_path {root}/tmp;
    server {{ listen 127.0.0.1:{port}; root {root}/www; }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    h.wait_until(lambda: _answers(port), 10, what="nginx up")
    for name, body in files.items():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/{name}", timeout=60) as r:
            got = r.read()
        h.check(got == body, f"nginx serves {len(got)} bytes of /{name}, not the {len(body)} written")
    return proc, port, root


def _answers(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def timed_get(url, size):
    """Seconds for curl to GET url, which must answer 200 with size bytes."""
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
                         check=True, capture_output=True, text=True).stdout.split()
    h.check(out[:2] == ["200", str(size)], f"GET {url} answered {out[0]} with {out[1]} bytes, not 200 with {size}")
    return float(out[2])


def freshness_once(tmp):
    """Event-to-view latency of a query-service consuming 20,000 events/s from a gateway, on a topic of their own:
    histogram snapshots 5 s in (the stream's first batches) and 15 s later. @returns (before, after) of it and of
    the gateway's produce-to-ack latency."""
    topic = h.unique_topic("bench-fresh")
    h.create_topic(topic, partitions=3)
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tmp]) as gw, \
            h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(dir=tmp), "--results-dir", tmp]) as q:
        h.wait_until(lambda: gw.data("/reference")[0]["state"] == "finished", 60, what="reference published")
        h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="query-service ready")
        st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": "20000"})
        job = json.loads(body)["data"][0]["id"]
        time.sleep(5)
        before = b.histogram(q, "query_event_to_view_latency_seconds")
        ack_before = b.histogram(gw, "ingest_produce_ack_latency_seconds")
        time.sleep(15)
        after = b.histogram(q, "query_event_to_view_latency_seconds")
        ack_after = b.histogram(gw, "ingest_produce_ack_latency_seconds")
        gw.request("DELETE", "/jobs/" + job)
        h.wait_until(lambda: gw.data("/jobs/" + job)[0]["state"] == "finished", 60, what="job stopped")
    return (before, after), (ack_before, ack_after)


def freshness(tmp):
    """Ours and the same path without our code (kcat -P into the broker, kcat -C out of it) at 20,000 events/s,
    taking turns, on a broker that holds nothing else yet: medians of REPS each."""
    ours, acks, peers = [], [], []
    for i in range(REPS):
        for side in ("peer", "ours") if i % 2 == 0 else ("ours", "peer"):
            if side == "peer":
                peers.append(freshness_peer.kcat_latencies(20000, 15, 5))
            else:
                e2v, ack = freshness_once(tmp)
                ours.append(e2v)
                acks.append(ack)
    b.figure("query_event_to_view_p99_at_20k_per_s_vs_ack", b.median([b.quantile(*x, 0.99) for x in ours]) * 1000,
             "ms", "broker produce-to-ack p99 (same events)", b.median([b.quantile(*x, 0.99) for x in acks]) * 1000,
             higher_is_better=False)
    for name, q_ in (("p99", 0.99), ("p99_9", 0.999)):
        b.figure(f"query_event_to_view_{name}_at_20k_per_s", b.median([b.quantile(*x, q_) for x in ours]) * 1000,
                 "ms", f"kcat -P | broker | kcat -C {name}",
                 b.median([freshness_peer.quantile(p, q_) for p in peers]) * 1000, higher_is_better=False)
    b.figure("query_event_to_view_max_bucket_at_20k_per_s", max(b.histogram_max(*x) for x in ours) * 1000, "ms",
             "kcat -P | broker | kcat -C max", max(max(p) for p in peers) * 1000, higher_is_better=False)


def main():
    topic = h.unique_topic("bench-query")
    h.create_topic(topic, partitions=3)
    tmp = tempfile.mkdtemp(prefix="bench-query-")
    freshness(tmp)  # first: on a broker not yet busy writing back the catch-up topics
    gw = h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tmp])
    try:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        # Catch-up at each size of the topic: a fresh query-service reads it all; kcat -C reads the same to
        # /dev/null. Per event the cost should stay flat, and RSS flat once retention is reached.
        passes = 0
        for scale in SCALES:
            b.produce_passes(gw, scale - passes)
            passes = scale
            total = h.kcat_count(topic)
            ours, peer, rss, kcat_rss = [], [], [], 0.0
            for _ in range(REPS):
                state = tempfile.mkdtemp(prefix="state-", dir=tmp)
                t0 = time.monotonic()
                q = h.Service("query", ["--topic", topic, "--state-dir", state, "--results-dir", tmp,
                                        "--snapshot-interval-ms", "600000"])
                while b.applied(q) < total:
                    time.sleep(0.005)
                ours.append(total / (time.monotonic() - t0))
                rss.append(b.status_mb(q.pid, "VmRSS"))
                q.stop()
                elapsed, peak, _ = b.run_measured(["kcat", "-C", "-b", h.bootstrap(), "-t", topic, "-o", "beginning",
                                                   "-e", "-q", "-f", "%s"])
                kcat_rss = max(kcat_rss, peak)
                peer.append(total / elapsed)
            b.figure(f"query_catchup_{scale}x_events_per_s", b.median(ours), "events/s", "kcat -C to /dev/null",
                     b.median(peer))
            b.figure(f"query_rss_after_{scale}x_catchup", b.median(rss), "MB", "kcat -C peak RSS", kcat_rss,
                     higher_is_better=False)

        # The long-running query-service for the remaining figures.
        q = h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(dir=tmp), "--results-dir", tmp])
        h.wait_until(lambda: b.applied(q) >= total, 120, what="caught up")

        # HTTP: wrk on /top10_source_airport vs nginx serving the same bytes as a static file, taking turns.
        top = q.get("/top10_source_airport")[2]
        dump = q.get("/dump_table", params={"limit": str(ROUTES_EVENTS)}, timeout=600)[2]
        nginx, nport, nginx_root = start_nginx({"top10_source_airport": top, "dump_table": dump})
        try:
            for c in CONNECTIONS:
                ours, peer = [], []
                for i in range(REPS):
                    for side in ("ours", "peer") if i % 2 == 0 else ("peer", "ours"):
                        if side == "ours":
                            ours.append(wrk(q.url("/top10_source_airport"), c))
                        else:
                            peer.append(wrk(f"http://127.0.0.1:{nport}/top10_source_airport", c))
                b.figure(f"query_top10_req_per_s_{c}_connections", b.median([r for r, _ in ours]), "req/s",
                         "nginx static file", b.median([r for r, _ in peer]))
                b.figure(f"query_top10_p99_latency_{c}_connections", b.median([p for _, p in ours]), "ms",
                         "nginx static file", b.median([p for _, p in peer]), higher_is_better=False)
            rows = len(json.loads(dump)["data"])
            ours_t = b.median([timed_get(q.url(f"/dump_table?limit={ROUTES_EVENTS}"), len(dump)) for _ in range(5)])
            ng_t = b.median([timed_get(f"http://127.0.0.1:{nport}/dump_table", len(dump)) for _ in range(5)])
            b.figure(f"query_dump_table_{rows}_rows", ours_t * 1000, "ms", "nginx static file", ng_t * 1000,
                     higher_is_better=False)
        finally:
            nginx.terminate()
            nginx.wait()
            shutil.rmtree(nginx_root, ignore_errors=True)
        q.stop()
    finally:
        gw.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
