"""deploy/compose.yml with Docker Compose v2, as a user runs it: the real images, a real broker, real HTTP.

tests/deploy/compose.sh sets the scene (compose as a docker CLI plugin, DOCKER_HOST at podman's API, a
healthcheck ticker) and runs this. Steps, each timed:
  1. `docker compose -f deploy/compose.yml up -d --wait`: every service healthy through its own healthcheck;
  2. Kafka's host listener answers from the host and advertises localhost:KAFKA_HOST_PORT; the image's
     kafka-topics.sh sees the gateway's topic;
  3. `GET /produce` on the gateway answers the seed's summary (66,765 delivered for routes.dat);
  4. the query-service serves the seed's views: ATL 915 first, 66,765 rows in /dump_table;
  5. `docker compose stop`: the services exit 0 on SIGTERM; `up -d --wait` again: Kafka restarts on its
     formatted storage, the query-service restores its snapshot and serves the same bytes;
  6. `docker compose down -v`: no container, volume or network of the project is left (asked of podman).
Any failure: the services' logs (`docker compose logs`), then down -v, exit 1.

Environment: COMPOSE_PROJECT_NAME, INGEST_PORT, QUERY_PORT, KAFKA_HOST_PORT, ROUTES_DIR (compose.sh sets them),
FRS_TIMINGS_FILE (each step's "label|seconds" appended for compose.sh's summary).
"""
import json
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness as h  # noqa: E402  (check, check_eq, check_in, wait_until)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE = ["docker", "compose", "-f", "deploy/compose.yml"]
PROJECT = os.environ["COMPOSE_PROJECT_NAME"]
INGEST_PORT = int(os.environ["INGEST_PORT"])
QUERY_PORT = int(os.environ["QUERY_PORT"])
KAFKA_HOST_PORT = int(os.environ["KAFKA_HOST_PORT"])
SERVICES = ("kafka", "ingest-gateway", "query-service")

# The seed's answers for routes.dat (../shared/seed, README).
SEED_SUMMARY = [{"Total count": 67663}, {"Total count (%)": 100.0}, {"Total success": 66765},
                {"Total success (%)": 98.67}, {"Total errors by var transform": 898},
                {"Total errors by var transform (%)": 1.33}, {"Total errors by invalid schema": 0},
                {"Total errors by invalid schema (%)": 0.0}]
SEED_TOP10 = [("ATL", 915), ("ORD", 558), ("PEK", 535), ("LHR", 525), ("CDG", 524), ("FRA", 497), ("LAX", 492),
              ("DFW", 469), ("JFK", 456), ("AMS", 453)]
EVENTS = 66765
VIEWS = ("/top10_source_airport", "/top10_equipment_30min_window", "/dump_table?limit=100000")


def log(msg):
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


def step(label, fn, *args):
    t0 = time.monotonic()
    result = fn(*args)
    took = time.monotonic() - t0
    log(f"time: {label}: {took:.1f} s")
    if os.environ.get("FRS_TIMINGS_FILE"):
        with open(os.environ["FRS_TIMINGS_FILE"], "a") as f:
            f.write(f"{label}|{took:.1f}\n")
    return result


def run(argv, timeout=300, check=True):
    """Runs argv from the repository root; returns stdout (text). Fails with its output unless check=False."""
    try:
        proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"timed out after {timeout} s: {' '.join(argv)}") from e
    if check:
        h.check(proc.returncode == 0,
                f"exit {proc.returncode}: {' '.join(argv)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc.stdout


def compose(*args, timeout=300, check=True):
    return run([*COMPOSE, *args], timeout=timeout, check=check)


def containers():
    """{service: container state} of the project, stopped ones included (compose ps -a --format json)."""
    out = compose("ps", "-a", "--format", "json")
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    if len(rows) == 1 and isinstance(rows[0], list):  # older compose printed one array
        rows = rows[0]
    return {r["Service"]: r for r in rows}


def podman_leftovers():
    """What podman still holds of the project: containers, volumes, networks (labels set by compose)."""
    label = f"label=com.docker.compose.project={PROJECT}"
    found = {}
    for kind, argv in (("containers", ["podman", "ps", "-a", "--filter", label, "--format", "{{.Names}}"]),
                       ("volumes", ["podman", "volume", "ls", "--filter", label, "--format", "{{.Name}}"]),
                       ("networks", ["podman", "network", "ls", "--filter", label, "--format", "{{.Name}}"])):
        names = run(argv).split()
        # And by name, should a label be missing: compose prefixes everything with the project name.
        every = run(argv[:argv.index("--filter")] + argv[argv.index("--format"):]).split()
        names += [n for n in every if n.startswith(PROJECT + "_") or n.startswith(PROJECT + "-")]
        if names:
            found[kind] = sorted(set(names))
    return found


class Http:
    """Real HTTP to a port that compose published on 127.0.0.1."""

    def __init__(self, port):
        self.port = port

    def get(self, path, params=None, timeout=60):
        """(status, body bytes) of GET path."""
        status, _, body = h.http_request("127.0.0.1", self.port, "GET", path, params, timeout=timeout)
        return status, body

    def raw(self, path, params=None, timeout=60):
        status, body = self.get(path, params, timeout)
        h.check_eq(status, 200, f"GET {path} {params or ''} status ({body[:300]!r})")
        return body

    def json(self, path, params=None, timeout=60):
        return json.loads(self.raw(path, params, timeout))

    def data(self, path, params=None, timeout=60):
        return self.json(path, params, timeout)["data"]


gateway = Http(INGEST_PORT)
query = Http(QUERY_PORT)


# ---- Kafka from the host: a Metadata request (v0) on the published port ----------------------------------

def kafka_metadata_brokers(port):
    """[(node_id, host, port)] that the broker advertises on 127.0.0.1:port (Kafka's wire protocol)."""
    client = b"frs-compose-test"
    body = struct.pack(">hhih", 3, 0, 7, len(client)) + client + struct.pack(">i", 0)  # v0: 0 topics = all
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _recv(s, 4))[0]
        resp = _recv(s, size)
    corr, n = struct.unpack(">ii", resp[:8])
    h.check_eq(corr, 7, "Kafka correlation id")
    brokers, off = [], 8
    for _ in range(n):
        node, hlen = struct.unpack(">ih", resp[off:off + 6])
        host = resp[off + 6:off + 6 + hlen].decode()
        (bport,) = struct.unpack(">i", resp[off + 6 + hlen:off + 10 + hlen])
        brokers.append((node, host, bport))
        off += 10 + hlen
    return brokers


def _recv(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        h.check(chunk, "Kafka closed the connection")
        buf += chunk
    return buf


# ---- the steps ------------------------------------------------------------------------------------------

def up():
    compose("up", "-d", "--wait", "--wait-timeout", "240", timeout=300)
    state = containers()
    h.check_eq(sorted(state), sorted(SERVICES), "services of the project")
    for name in SERVICES:
        h.check_eq((state[name]["State"], state[name].get("Health")), ("running", "healthy"), f"{name} state")
    h.check_eq(gateway.get("/readyz")[0], 200, "gateway /readyz")
    h.check_eq(query.get("/readyz")[0], 200, "query-service /readyz")


def kafka_checks():
    brokers = kafka_metadata_brokers(KAFKA_HOST_PORT)
    h.check_eq(brokers, [(1, "localhost", KAFKA_HOST_PORT)], "brokers advertised on the host listener")
    out = compose("exec", "-T", "kafka", "/opt/kafka/bin/kafka-topics.sh", "--bootstrap-server", "localhost:9092",
                  "--describe", "--topic", "routes_data", timeout=120)
    h.check_in("PartitionCount: 3", out, "kafka-topics.sh --describe routes_data")


def produce():
    body = gateway.json("/produce", timeout=300)
    h.check_eq(body, {"data": SEED_SUMMARY, "error": False, "message": "produce", "statusCode": 200},
               "/produce answer")


def seed_views():
    h.wait_until(lambda: query.data("/status")[0]["events_applied"] == EVENTS, 120, 0.5,
                 f"query-service to apply {EVENTS} events")
    status = query.data("/status")[0]
    h.check_eq(status["lag"], 0, "lag after catching up")
    h.check(not from_snapshot(status), f"/status on new volumes: restored from a snapshot? {status}")
    top = query.data("/top10_source_airport")
    h.check_eq([(r["source_airport"], r["count"]) for r in top], SEED_TOP10, "/top10_source_airport")
    windows = query.data("/top10_equipment_30min_window")
    h.check(len(windows) == 10 and all(set(w) == {"count", "end", "equipment", "start"} for w in windows),
            f"/top10_equipment_30min_window: {windows[:2]}")
    rows = query.data("/dump_table", {"limit": "100000"})
    h.check_eq(len(rows), EVENTS, "/dump_table rows")
    h.check_eq(len({r["id"] for r in rows}), EVENTS, "distinct ids in /dump_table")
    # The reference files, published by the gateway's container from the mounted directory, joined in.
    h.wait_until(lambda: query.data("/reference")[0]["loaded"], 60, 0.5, "the reference tables loaded")
    atl = query.data("/source_airports", {"n": "1"})[0]
    h.check_eq((atl["source_airport"], atl["count"], atl["name"], atl["country"]),
               ("ATL", 915, "Hartsfield Jackson Atlanta International Airport", "United States"), "joined ATL")
    # A snapshot holding all of it is on the volume before the stop (the stop writes a final one anyway).
    h.wait_until(lambda: query.data("/status")[0]["snapshots_written"] >= 1, 30, 0.5, "a snapshot written")
    return {path: query.raw(path) for path in VIEWS}


def stop():
    compose("stop", timeout=120)
    state = containers()
    for name in SERVICES:
        h.check_eq(state[name]["State"], "exited", f"{name} after stop")
    for name in ("ingest-gateway", "query-service"):
        h.check_eq(state[name]["ExitCode"], 0, f"{name} exit code on SIGTERM (through tini)")


def from_snapshot(status):
    """Whether /status says the state was restored from a snapshot: its "snapshot" text ("restored from
    snapshot", "no snapshot: rebuilt from the start of the topic", ...) and, where the service has it, a
    "restored" field (true, or a text naming the snapshot). Every field present must agree."""
    says = []
    if isinstance(status.get("snapshot"), str):
        says.append(status["snapshot"].startswith("restored from snapshot"))
    if "restored" in status:
        r = status["restored"]
        says.append(r is True or (isinstance(r, str) and "snapshot" in r.lower() and "no snapshot" not in r.lower()))
    h.check(says, f"/status says nothing about a snapshot: {status}")
    h.check(all(says) or not any(says), f"/status contradicts itself about the snapshot: {status}")
    return all(says)


def restored(before):
    status = query.data("/status")[0]
    h.check(from_snapshot(status), f"/status after the restart: not restored from the snapshot: {status}")
    h.check_eq(status["events_applied"], EVENTS, "events applied after the restart (none twice)")
    for path in VIEWS:
        h.check(query.raw(path) == before[path], f"GET {path} after the restart differs from before the stop")
    logs = compose("logs", "--no-color", "kafka")
    h.check_in("Storage already formatted", logs, "Kafka's log after its restart")


def mounted_volumes():
    """Names of the volumes the project's containers mount: the named ones and the anonymous ones that the
    images' VOLUME lines create (those carry no project label)."""
    ids = run(["podman", "ps", "-a", "--filter", f"label=com.docker.compose.project={PROJECT}",
               "--format", "{{.ID}}"]).split()
    h.check(ids, f"no container of project {PROJECT}")
    out = run(["podman", "inspect", "--format", "{{range .Mounts}}{{if .Name}}{{.Name}} {{end}}{{end}}", *ids])
    return sorted(set(out.split()))


def down():
    volumes = mounted_volumes()
    h.check(len(volumes) >= 3, f"volumes mounted by the project: {volumes}")
    compose("down", "-v", "--timeout", "10", timeout=180)
    left = podman_leftovers()
    still = [v for v in volumes if subprocess.run(["podman", "volume", "exists", v]).returncode == 0]
    if still:
        left["volumes mounted by its containers"] = still
    h.check_eq(left, {}, f"what podman still holds of project {PROJECT} after down -v")


def dump_logs():
    sys.stderr.write(f"--- docker compose logs (project {PROJECT}) ---\n")
    sys.stderr.write(compose("ps", "-a", check=False, timeout=60))
    sys.stderr.write(compose("logs", "--no-color", "--timestamps", "--tail", "200", check=False, timeout=120))
    sys.stderr.flush()


def main():
    log(f"compose project {PROJECT}: gateway :{INGEST_PORT}, query-service :{QUERY_PORT}, "
        f"Kafka :{KAFKA_HOST_PORT}")
    passed = False
    try:
        step("up -d --wait (cold: new volumes, Kafka formats its storage)", up)
        step("Kafka host listener + kafka-topics.sh in the image", kafka_checks)
        step("GET /produce (routes.dat)", produce)
        before = step("seed views (ATL 915, 66,765 rows)", seed_views)
        step("stop", stop)
        step("up -d --wait (restart: formatted storage, snapshot)", up)
        step("same views from the snapshot", restored, before)
        step("down -v, nothing left", down)
        passed = True
    except BaseException:
        import traceback
        traceback.print_exc()
        dump_logs()
    finally:
        if not passed:
            compose("down", "-v", "--timeout", "5", check=False, timeout=180)
    log("test_compose: " + ("passed" if passed else "FAILED"))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
