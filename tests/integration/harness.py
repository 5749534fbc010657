"""Helpers for the integration tests: the real binaries against the real broker, stdlib only.

Environment (tests/run.sh sets it): KAFKA_BOOTSTRAP_SERVERS, ROUTES_FILE, BUILD_DIR, SOURCE_DIR, KAFKA_LIBS
(the Kafka jars, for create_topic), KCAT_ARGS (extra kcat options, e.g. "-X security.protocol=SSL").

The kcat and topic helpers talk to KAFKA_BOOTSTRAP_SERVERS unless given bootstrap_servers=...; KafkaBroker and
KafkaCluster start a test's own private broker(s) with deploy/kafka/kafka.sh (fault tests kill them).
"""
import atexit
import ctypes
import http.client
import itertools
import json
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

SOURCE_DIR = os.path.abspath(os.environ.get("SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")))
BINARIES = {
    "gateway": os.path.join("services", "ingest-gateway", "ingest-gateway"),
    "query": os.path.join("services", "query-service", "query-service"),
}
_counter = itertools.count(1)
_live = set()


# ---- assertions -------------------------------------------------------------------------------------

def check(cond, msg="check failed"):
    """Raises AssertionError(msg) when cond is false."""
    if not cond:
        raise AssertionError(msg)


def check_eq(got, want, what="value"):
    if got != want:
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def check_in(needle, haystack, what="value"):
    if needle not in haystack:
        raise AssertionError(f"{what}: {needle!r} not in {haystack!r:.500}")


def wait_until(fn, timeout=30, interval=0.2, what="condition"):
    """Calls fn until it returns a true value (returned) or timeout seconds pass (AssertionError).
    An exception from fn counts as "not yet" and is reported if time runs out."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = f"returned {value!r}"
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = f"raised {type(e).__name__}: {e}"
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what} (last call {last})")
        time.sleep(interval)


# ---- environment ------------------------------------------------------------------------------------

def bootstrap():
    value = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    check(bool(value), "KAFKA_BOOTSTRAP_SERVERS is not set: run the tests through tests/run.sh")
    return value


def routes_file():
    path = os.environ.get("ROUTES_FILE") or os.path.join(SOURCE_DIR, "data", "routes.dat")
    check(os.path.isfile(path), f"routes file {path} not found (set ROUTES_FILE)")
    return path


def build_dir():
    return os.path.abspath(os.environ.get("BUILD_DIR") or os.path.join(SOURCE_DIR, "build"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique_topic(prefix="test"):
    """A topic name no other call, test or run uses: prefix-pid-counter-random."""
    return f"{prefix}-{os.getpid()}-{next(_counter)}-{random.getrandbits(32):08x}"


# ---- kcat and topics --------------------------------------------------------------------------------

def _kcat(*args, bootstrap_servers=None):
    return ["kcat", "-b", bootstrap_servers or bootstrap(), *shlex.split(os.environ.get("KCAT_ARGS", "")), *args]


def _run(argv, timeout, what, input=None, env=None):
    try:
        proc = subprocess.run(argv, input=input, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{what}: timed out after {timeout} s: {shlex.join(argv)}") from e
    check(proc.returncode == 0,
          f"{what}: exit {proc.returncode}: {shlex.join(argv)}\n{proc.stderr.decode(errors='replace')[-2000:]}")
    return proc.stdout


def kcat_consume(topic, fmt="%s\n", timeout=120, binary=False, bootstrap_servers=None):
    """Everything on topic (all partitions, from the beginning to the current end), formatted by kcat -f."""
    out = _run(_kcat("-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", fmt, bootstrap_servers=bootstrap_servers),
               timeout, f"consume {topic}")
    return out if binary else out.decode("utf-8", errors="surrogateescape")


def kcat_count(topic, timeout=120, bootstrap_servers=None):
    """Number of messages on topic, over all partitions, read with kcat and held to the broker's count of each
    partition (avro_check.read_whole_topic); 0 when the topic does not exist."""
    import avro_check
    if topic_partitions(topic, bootstrap_servers=bootstrap_servers) == 0:
        return 0
    return len(avro_check.read_whole_topic(
        bootstrap_servers or bootstrap(), topic,
        lambda: kcat_consume(topic, "%p\n", timeout, binary=True, bootstrap_servers=bootstrap_servers).split(),
        int, timeout))


def kcat_produce(topic, values, key=None, partition=None, timeout=120, bootstrap_servers=None):
    """Produces each bytes value as one message (any bytes: each is a file given to kcat -P). kcat skips
    empty files, so an empty value is refused here rather than silently dropped."""
    check(all(len(v) > 0 for v in values), "kcat_produce: kcat cannot produce an empty value")
    with tempfile.TemporaryDirectory(prefix="kcat-produce-") as tmp:
        paths = []
        for i, value in enumerate(values):
            path = os.path.join(tmp, f"{i:08d}")
            with open(path, "wb") as f:
                f.write(value)
            paths.append(path)
        extra = []
        if key is not None:
            extra += ["-k", key.decode() if isinstance(key, bytes) else key]
        if partition is not None:
            extra += ["-p", str(partition)]
        for i in range(0, len(paths), 500):  # keep argv short
            _run(_kcat("-P", "-t", topic, "-X", "acks=all", *extra, *paths[i:i + 500],
                       bootstrap_servers=bootstrap_servers), timeout, f"produce {topic}")


def topic_partitions(topic, bootstrap_servers=None):
    """Number of partitions of topic with a leader, 0 if the broker does not know it."""
    out = subprocess.run(_kcat("-L", "-t", topic, "-m", "5", bootstrap_servers=bootstrap_servers),
                         capture_output=True, timeout=30).stdout.decode()
    if f'topic "{topic}" with' not in out or "error" in out.split(f'topic "{topic}"', 1)[1].split("\n", 1)[0]:
        return 0
    return sum(1 for line in out.splitlines() if line.strip().startswith("partition ") and "leader -1" not in line)


def kafka_libs():
    libs = os.environ.get("KAFKA_LIBS")
    if libs and os.path.isdir(libs):
        return libs
    out = _run([os.path.join(SOURCE_DIR, "deploy", "kafka", "kafka.sh"), "fetch"], 600, "fetch the Kafka jars")
    return out.decode().strip()


def create_topic(name, partitions=3, replication_factor=None, config=None, timeout=60, bootstrap_servers=None):
    """Creates a topic with the broker's own TopicCommand (broker-side auto-creation is off) and waits until
    every partition has a leader. replication_factor None: the cluster's default."""
    argv = [os.path.join(SOURCE_DIR, "deploy", "kafka", "kafka.sh"), "create-topic", "--bootstrap",
            bootstrap_servers or bootstrap(),
            "--topic", name, "--partitions", str(partitions)]
    if replication_factor is not None:
        argv += ["--replication-factor", str(replication_factor)]
    for k, v in (config or {}).items():
        argv += ["--config", f"{k}={v}"]
    env = dict(os.environ, KAFKA_LIBS=kafka_libs())
    proc = subprocess.run(argv, capture_output=True, timeout=timeout, env=env)
    check(proc.returncode == 0, f"create topic {name}: {proc.stderr.decode(errors='replace')[-2000:]}")
    wait_until(lambda: topic_partitions(name, bootstrap_servers=bootstrap_servers) == partitions, timeout, 0.3,
               f"topic {name} with {partitions} leaders")
    return name


def _kafka_tool(what, *args, timeout=60):
    env = dict(os.environ, KAFKA_LIBS=kafka_libs())
    proc = subprocess.run([os.path.join(SOURCE_DIR, "deploy", "kafka", "kafka.sh"), *[str(a) for a in args]],
                          capture_output=True, timeout=timeout, env=env)
    check(proc.returncode == 0, f"{what}: {proc.stderr.decode(errors='replace')[-2000:]}")
    return proc.stdout.decode(errors="replace")


def topic_configs(name, timeout=60, bootstrap_servers=None):
    """The topic-level configs of name that differ from the broker's defaults, as TopicCommand --describe
    prints them ({"cleanup.policy": "compact", ...})."""
    out = _kafka_tool(f"describe topic {name}", "describe-topic", "--bootstrap", bootstrap_servers or bootstrap(),
                      "--topic", name, timeout=timeout)
    m = re.search(r"Configs:\s*(\S*)", out)
    check(m is not None, f"TopicCommand --describe printed no Configs: {out[:500]!r}")
    return dict(kv.split("=", 1) for kv in m.group(1).split(",") if "=" in kv)


def delete_topic(name, timeout=60, bootstrap_servers=None):
    """Deletes a topic with the broker's TopicCommand and waits until the broker no longer knows it."""
    _kafka_tool(f"delete topic {name}", "delete-topic", "--bootstrap", bootstrap_servers or bootstrap(),
                "--topic", name, timeout=timeout)
    wait_until(lambda: topic_partitions(name, bootstrap_servers=bootstrap_servers) == 0, timeout, 0.3,
               f"topic {name} gone")


def add_partitions(name, total, timeout=60, bootstrap_servers=None):
    """Grows topic name to total partitions and waits until each has a leader."""
    _kafka_tool(f"add partitions to {name}", "add-partitions", "--bootstrap", bootstrap_servers or bootstrap(),
                "--topic", name, "--partitions", total, timeout=timeout)
    wait_until(lambda: topic_partitions(name, bootstrap_servers=bootstrap_servers) == total, timeout, 0.3,
               f"topic {name} with {total} leaders")


def delete_records(name, partition, before, timeout=60, bootstrap_servers=None):
    """Deletes the records of name [partition] before offset `before`, as retention would."""
    _kafka_tool(f"delete records of {name} [{partition}]", "delete-records", "--bootstrap",
                bootstrap_servers or bootstrap(), "--topic", name, "--partition", partition, "--offset", before,
                timeout=timeout)


def partition_offsets(name, partition, bootstrap_servers=None, timeout=30):
    """(low, high) watermarks of name [partition], as kcat -Q answers them (-2: beginning, -1: end)."""
    def query(ts):
        out = _run(_kcat("-Q", "-t", f"{name}:{partition}:{ts}", bootstrap_servers=bootstrap_servers), timeout,
                   f"offsets of {name} [{partition}]").decode()
        m = re.search(rf"\[{partition}\]\s+offset\s+(-?\d+)", out)
        check(m is not None, f"kcat -Q answered {out!r}")
        return int(m.group(1))
    return query(-2), query(-1)


def topic_metadata(topic, bootstrap_servers=None, timeout=10):
    """{partition: {"leader": id, "replicas": [ids], "isrs": [ids]}} of topic as kcat -L reports it ({} if the
    broker does not know it). leader -1: none."""
    out = subprocess.run(_kcat("-L", "-t", topic, "-m", "5", bootstrap_servers=bootstrap_servers),
                         capture_output=True, timeout=timeout).stdout.decode()
    parts = {}
    for m in re.finditer(r"partition (\d+), leader (-?\d+), replicas: ([\d,]*), isrs: ([\d,]*)", out):
        ids = lambda s: [int(x) for x in s.split(",") if x]  # noqa: E731
        parts[int(m.group(1))] = {"leader": int(m.group(2)), "replicas": ids(m.group(3)), "isrs": ids(m.group(4))}
    return parts


# ---- HTTP ---------------------------------------------------------------------------------------------

def http_request(host, port, method, path, params=None, body=None, headers=None, timeout=60):
    """One request over a fresh connection: (status, headers with lower-case names, body bytes)."""
    target = path + ("?" + urllib.parse.urlencode(params) if params else "")
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        try:
            conn.request(method, target, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            # The server answered (e.g. 413) and closed before reading the whole body: read its answer.
            pass
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


# ---- private brokers (fault tests) ------------------------------------------------------------------

KAFKA_SH = os.path.join(SOURCE_DIR, "deploy", "kafka", "kafka.sh")
_live_kafka = set()


def _kafka_sh(*args, timeout=180, what="kafka.sh"):
    env = dict(os.environ, KAFKA_LIBS=kafka_libs())
    return _run([KAFKA_SH, *[str(a) for a in args]], timeout, what, env=env).decode().strip()


def _non_ephemeral_ports():
    """(low, high): ports outside the kernel's ephemeral range, which is never handed to an outgoing connection,
    so a killed broker's port is still free when it restarts."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            first, last = (int(x) for x in f.read().split()[:2])
    except (OSError, ValueError):
        first, last = 32768, 60999
    return (20000, first) if first >= 25000 else (last + 1, 65536)


def free_port_range(n, tries=200):
    """A base port P with P..P+n-1 all free on 127.0.0.1, outside the ephemeral range (kafka.sh start-cluster
    takes consecutive ports)."""
    rng = random.Random()
    low, high = _non_ephemeral_ports()
    for _ in range(tries):
        base = rng.randrange(low, high - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError(f"no {n} consecutive free ports found")


def free_ports(n):
    """n distinct (consecutive) free ports of 127.0.0.1, outside the ephemeral range (see free_port_range)."""
    base = free_port_range(n)
    return list(range(base, base + n))


class _PrivateKafka:
    """What a private broker and a private cluster share: SIGKILL and removal at close, the with-statement
    (keeping the directory when the block failed, for its logs). Subclasses set dir, bootstrap, _kill_cmd."""
    _kill_cmd = "kill"

    def close(self, keep=False):
        """Stops it (SIGKILL: it is thrown away) and removes its directory unless keep."""
        if self not in _live_kafka:
            return
        _live_kafka.discard(self)
        subprocess.run([KAFKA_SH, self._kill_cmd, "--dir", self.dir], capture_output=True, timeout=60)
        if keep:
            sys.stderr.write(f"{type(self).__name__} {getattr(self, 'bootstrap', '')} kept in {self.dir}\n")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(keep=exc_type is not None)
        return False


class KafkaBroker(_PrivateKafka):
    """A private single-node KRaft broker (kafka.sh start) under its own directory, on free ports unless given.
    start=False only chooses the ports (a test can point services at a port where nothing listens yet).

        with h.KafkaBroker() as kb:
            kb.kill9(); kb.start()          # same directory and ports: the same broker, restarted
    """

    def __init__(self, port=None, controller_port=None, start=True):
        ports = [p for p in free_ports(3) if p != port]
        self.port = port or ports[0]
        self.controller_port = controller_port or ports[1]
        self.dir = tempfile.mkdtemp(prefix="test-kafka-")
        self.bootstrap = f"127.0.0.1:{self.port}"
        _live_kafka.add(self)
        if start:
            self.start()

    def start(self):
        """Starts (or restarts) the broker; returns once it answers metadata requests."""
        _kafka_sh("start", "--dir", self.dir, "--port", self.port, "--controller-port", self.controller_port,
                  what=f"start broker on {self.bootstrap}")

    def kill9(self):
        _kafka_sh("kill", "--dir", self.dir, timeout=60, what=f"kill -9 broker on {self.bootstrap}")

    def pid(self):
        try:
            with open(os.path.join(self.dir, "kafka.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None


class KafkaCluster(_PrivateKafka):
    """A private 3-node KRaft cluster (kafka.sh start-cluster: nodes 1..3, replication 3, min.insync.replicas 2)
    on 6 consecutive free ports. Node n's broker port is base_port + n - 1."""
    _kill_cmd = "kill-cluster"

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="test-kafka-cluster-")
        self.base_port = free_port_range(6)
        _live_kafka.add(self)
        try:
            self.bootstrap = _kafka_sh("start-cluster", "--dir", self.dir, "--base-port", self.base_port,
                                       timeout=240, what="start a 3-node cluster").splitlines()[-1]
        except BaseException:
            self.close(keep=True)
            raise

    def node_port(self, node):
        return self.base_port + node - 1

    def kill9(self, node):
        _kafka_sh("kill-node", "--dir", self.dir, "--node", node, timeout=60, what=f"kill -9 node {node}")

    def restart(self, node):
        _kafka_sh("restart-node", "--dir", self.dir, "--node", node, what=f"restart node {node}")


def produce_routes(gw_args, env=None, limit=None):
    """Replays the routes file (its first `limit` lines) through a gateway started for it with gw_args; returns
    the summary's Total success (the events delivered)."""
    with Service("gateway", gw_args, env=env) as gw:
        wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        status, _, body = gw.get("/produce", params={"limit": str(limit)} if limit else None, timeout=120)
        check(status == 200, f"/produce: status {status}: {body[:300]!r}")
        return {k: v for item in json.loads(body)["data"] for k, v in item.items()}["Total success"]


# ---- services ---------------------------------------------------------------------------------------

def _die_with_parent():
    # The service gets SIGKILL if the test process dies (a ctest timeout), so no orphan holds a port.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Service:
    """A service binary on a free port of 127.0.0.1, started and waited for (GET /healthz 200).

        with Service("gateway", ["--topic", t, "--routes-file", routes_file()]) as gw:
            status, headers, body = gw.get("/produce", params={"limit": "10"})

    kind: "gateway" or "query" (or a path). env: extra environment. Its stderr/stdout go to self.log_path.
    """

    def __init__(self, kind, args=(), env=None, port=None, listen="127.0.0.1", wait=True, timeout=30):
        self.kind = kind
        rel = BINARIES.get(kind, kind)
        self.binary = rel if os.path.isabs(rel) else os.path.join(build_dir(), rel)
        check(os.access(self.binary, os.X_OK), f"{self.binary} not built (BUILD_DIR={build_dir()})")
        self.args = [str(a) for a in args]
        full_env = dict(os.environ)
        full_env.update(env or {})
        # --listen, --port and --bootstrap-servers are added unless args already give them (also as --x=v).
        given = {a.split("=", 1)[0]: (a.split("=", 1)[1] if "=" in a else
                                      (self.args[i + 1] if i + 1 < len(self.args) else ""))
                 for i, a in enumerate(self.args) if a.startswith("--")}
        extra = []
        self.host = given.get("--listen", listen)
        if "--listen" not in given:
            extra += ["--listen", listen]
        if "--port" in given:
            self.port = int(given["--port"])
        else:
            self.port = port or free_port()
            extra += ["--port", str(self.port)]
        if "--bootstrap-servers" not in given:
            # An env given to this call wins over the test's own (e.g. a broker that does not answer).
            extra += ["--bootstrap-servers", (env or {}).get("KAFKA_BOOTSTRAP_SERVERS") or bootstrap()]
        if self.host in ("0.0.0.0", "::", ""):
            self.host = "127.0.0.1"
        self.workdir = tempfile.mkdtemp(prefix=f"{os.path.basename(self.binary)}-")
        self.log_path = os.path.join(self.workdir, "service.log")
        self.argv = [self.binary, *self.args, *extra]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log,
                                     env=full_env, cwd=self.workdir, preexec_fn=_die_with_parent)
        _live.add(self)
        if wait:
            try:
                self.wait_healthy(timeout)
            except BaseException:
                self.kill9()
                raise

    # -- life cycle
    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc.poll() is None

    def log(self):
        """Everything the service wrote to stdout and stderr so far."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode(errors="replace")
        except OSError:
            return ""

    def wait_healthy(self, timeout=30):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if not self.running():
                raise AssertionError(f"{self.kind} exited with {self.proc.returncode} during start-up: "
                                     f"{shlex.join(self.argv)}\n--- log tail ---\n{self.log_tail()}")
            try:
                status = self.get("/healthz", timeout=2)[0]
                if status == 200:
                    return
                last = f"status {status}"
            except OSError as e:
                last = str(e)
            time.sleep(0.1)
        raise AssertionError(f"{self.kind} not healthy within {timeout} s (last: {last}): {shlex.join(self.argv)}"
                             f"\n--- log tail ---\n{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Sends sig and returns the exit code; AssertionError (after SIGKILL) if it does not exit in time."""
        if self.running():
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
                raise AssertionError(f"{self.kind} did not exit within {timeout} s of signal {sig}\n"
                                     f"--- log tail ---\n{self.log_tail()}")
        self._close()
        return self.proc.returncode

    def kill9(self):
        if self.running():
            self.proc.kill()
        self.proc.wait()
        self._close()
        return self.proc.returncode

    def _close(self):
        _live.discard(self)
        if not self._log.closed:
            self._log.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            # The reason goes before the tails: a CI summary keeps the head of the output, not its end.
            if exc is not None and not getattr(exc, "_frs_told", False):
                sys.stderr.write(f"--- failed: {exc_type.__name__}: {exc}\n")
                try:
                    exc._frs_told = True
                except AttributeError:
                    pass
            sys.stderr.write(f"--- {self.kind} (port {self.port}) log tail, {self.log_path} ---\n"
                             f"{self.log_tail(60)}\n")
        if self.running():
            try:
                self.stop()
            except AssertionError:
                if exc_type is None:
                    raise
        return False

    # -- HTTP
    def url(self, path="/", params=None):
        query = "?" + urllib.parse.urlencode(params) if params else ""
        return f"http://{self.host}:{self.port}{path}{query}"

    def request(self, method, path, params=None, data=None, headers=None, timeout=60):
        """Returns (status, headers with lower-case names, body bytes). data: bytes, str or a dict (JSON)."""
        if isinstance(data, (dict, list)):
            data = json.dumps(data).encode()
            headers = {"content-type": "application/json", **(headers or {})}
        elif isinstance(data, str):
            data = data.encode()
        return http_request(self.host, self.port, method, path, params, data, headers, timeout)

    def get(self, path, params=None, **kw):
        return self.request("GET", path, params=params, **kw)

    def post(self, path, params=None, data=None, **kw):
        return self.request("POST", path, params=params, data=data, **kw)

    def delete(self, path, params=None, **kw):
        return self.request("DELETE", path, params=params, **kw)

    def data(self, path, params=None, **kw):
        """The envelope's data of a GET that must answer 200."""
        return self.json(path, params=params, **kw)["data"]

    def metric(self, name):
        """The value of the unlabelled Prometheus sample name in GET /metrics (AssertionError when absent)."""
        status, _, body = self.get("/metrics")
        check(status == 200, f"/metrics: status {status}")
        m = re.search(rf"^{re.escape(name)} (\S+)$", body.decode(), re.M)
        check(m is not None, f"/metrics has no {name}")
        return float(m.group(1))

    def json(self, path, params=None, method="GET", expect=200, **kw):
        """The parsed JSON body; AssertionError unless the status is expect (None: any)."""
        status, _, body = self.request(method, path, params=params, **kw)
        check(expect is None or status == expect, f"{method} {path} {params}: status {status}: {body[:500]!r}")
        try:
            return json.loads(body)
        except ValueError as e:
            raise AssertionError(f"{method} {path}: not JSON: {body[:500]!r}") from e


@atexit.register
def _kill_leftovers():
    for svc in list(_live):
        svc.kill9()
    for kafka in list(_live_kafka):
        kafka.close(keep=True)
