"""Shared by the benchmark scripts: medians, the one-JSON-object-per-figure output, child RSS, Prometheus
histograms."""
import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))


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
    """Runs argv to completion; returns (seconds, peak RSS in MB, exit status)."""
    import time
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, rusage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdin_path:
        stdin.close()
    err = proc.stderr.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[0]} exited {proc.returncode}: {err[-2000:]}")
    return elapsed, rusage.ru_maxrss / 1024.0, proc.returncode


def peak_rss_mb(pid):
    """VmHWM of a running process, MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


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
