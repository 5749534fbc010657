"""Shared by the benchmark scripts: medians, the one-JSON-object-per-figure output, child RSS, Prometheus
histograms."""
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))


ROUTES_EVENTS = 66765  # events in one pass of routes.dat
ROUTES_LINES = 67663   # its lines
# Producer settings given to both our gateway and kcat -P, so a comparison is of the producers, not their defaults.
# One request in flight per broker is the gateway's default with a librdkafka before 2.3.0, as Debian 12's (and
# kcat's) 2.0.2 (services/ingest-gateway/producer.c says why).
PRODUCER_PROPS = {"acks": "all", "enable.idempotence": "true", "linger.ms": "5", "batch.num.messages": "10000",
                  "batch.size": "1000000", "queue.buffering.max.messages": "100000",
                  "max.in.flight.requests.per.connection": "1"}
KCAT_DELIM = b"\xfe\xfd\xfc\xfb"  # message delimiter of kcat -P input: never in UTF-8, nor in our events


def kcat_input(messages):
    """messages [(key, value)] as kcat -P -K '\\t' -D '\\xfe\\xfd\\xfc\\xfb' input."""
    import harness as h
    out = bytearray()
    for key, value in messages:
        h.check(KCAT_DELIM not in value and b"\t" not in key, "delimiter inside a message")
        out += key + b"\t" + value + KCAT_DELIM
    return bytes(out)


def kcat_producer_argv(bootstrap, topic):
    argv = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-K", "\\t", "-D", "\\xfe\\xfd\\xfc\\xfb"]
    for k, v in PRODUCER_PROPS.items():
        argv += ["-X", f"{k}={v}"]
    return argv


def write_kcat_input(topic, path):
    """Every message of topic, as kcat -P input, to path. @returns how many."""
    import avro_check
    import harness as h
    msgs = [(key, value) for _, _, key, value in avro_check.consume_binary(h.bootstrap(), topic, timeout=600)]
    with open(path, "wb") as f:
        f.write(kcat_input(msgs))
    return len(msgs)


def produce_passes(gw, passes):
    """passes of routes.dat through the gateway gw's /produce, answered once every event is delivered."""
    import harness as h
    st, _, body = gw.get("/produce", params={"loop": "1", "limit": str(passes * ROUTES_LINES)}, timeout=900)
    h.check(st == 200, body)


def applied(q):
    """Events the query-service q has applied."""
    return q.data("/status", timeout=60)[0]["events_applied"]


def median(values):
    return statistics.median(values)


def figure(name, value, unit, peer, peer_value, higher_is_better=True):
    """Prints one figure beside its peer. ratio > 1 means better than the peer."""
    if peer_value:
        ratio = value / peer_value if higher_is_better else peer_value / value
    else:
        ratio = None
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "peer": peer,
                      "peer_value": round(peer_value, 3) if peer_value is not None else None,
                      "ratio": round(ratio, 3) if ratio is not None else None}), flush=True)


def run_measured(argv, stdin_path=None, env=None):
    """Runs argv to completion; returns (seconds, peak RSS in MB, exit status). The peak is the child's own VmHWM,
    read while it runs: the rusage of a child also counts the memory of this process it was forked from."""
    import time
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = 0.0
    while True:
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid != 0:
            break
        try:
            if os.readlink(f"/proc/{proc.pid}/exe") == proc_exe(argv[0]):
                peak = max(peak, status_mb(proc.pid, "VmHWM"))
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    elapsed = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdin_path:
        stdin.close()
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {err[-2000:]}")
    return elapsed, peak, proc.returncode


def proc_exe(name):
    """The resolved path of a program on PATH (what /proc/<pid>/exe reads once it was exec'd)."""
    import shutil
    return os.path.realpath(shutil.which(name) or name)


def status_mb(pid, field):
    """A memory field of /proc/<pid>/status (VmRSS, VmHWM), MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def peak_rss_mb(pid):
    return status_mb(pid, "VmHWM")


def histogram(q, name):
    """Cumulative bucket counts of a Prometheus histogram from /metrics."""
    text = q.get("/metrics")[2].decode()
    buckets = []
    for m in re.finditer(name + r'_bucket\{le="([^"]+)"\} (\d+)', text):
        buckets.append((float("inf") if m.group(1) == "+Inf" else float(m.group(1)), int(m.group(2))))
    return buckets


def quantile(before, after, q):
    """PromQL-style histogram_quantile over the difference of two cumulative snapshots."""
    delta = [(le, a - b_) for (le, a), (_, b_) in zip(after, before)]
    total = delta[-1][1]
    rank = q * total
    prev_le, prev_count = 0.0, 0
    for le, count in delta:
        if count >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_count) / max(count - prev_count, 1)
        prev_le, prev_count = le, count
    return float("nan")


def histogram_max(before, after):
    """The upper bound of the highest bucket that gained an observation between two snapshots (a histogram keeps
    no maximum: the true one lies in that bucket)."""
    prev_le, prev_delta, top = 0.0, 0, 0.0
    for (le, a), (_, b_) in zip(after, before):
        delta = a - b_
        if delta > prev_delta:
            top = le if le != float("inf") else prev_le
        prev_le, prev_delta = le, delta
    return top
