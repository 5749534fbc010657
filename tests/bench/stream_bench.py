"""Push queries at scale, beside their peer (issue 10): N subscribers of /stream/top10_source_airport while the
gateway replays at a steady rate, against the same N clients polling /top10_source_airport at the stream's rate
(one request per 250 ms each, spread evenly).

Both kinds of client see states named by the events applied (the stream's id, the pull answer's ETag). For each
state first seen by any client in the measured window, each client's delay is the time until it had that state
or a newer one, minus the first client's time (the stream writes to every subscriber as it renders the state,
so the first one is within a millisecond of the change coalesced; a poller waits for its next poll). Figures:
that delay's p99 and maximum, the share of clients that saw every state, and the query-service's RSS growth per
client. The clients are tests/bench/sse_load.c (one C process, one epoll set), so their clock measures the service
rather than themselves. The server's fan-out (its histogram query_stream_fanout_seconds) stands beside the kernel's
floor, tests/bench/fanout_floor.c: as many write()s of a message of the same size to loopback sockets that one
epoll process reads, from one thread, under the same replay. Measured at each count of BENCH_SUBSCRIBERS (largest
first, the headline figures' count), in one query-service, to show how the delay grows with the subscribers.
Prints one JSON object per figure."""
import json
import os
import resource
import subprocess
import tempfile
import time
import types

import bench_util as b  # first: puts tests/integration on sys.path
import harness as h  # noqa: E402

# The headline figures are the largest count's; the smaller ones show how the delay grows with the subscribers.
SWEEP = sorted((int(x) for x in os.environ.get("BENCH_SUBSCRIBERS", "10000,5000,2500").split(",")), reverse=True)
SUBSCRIBERS = SWEEP[0]
RATE = int(os.environ.get("BENCH_RATE", "20000"))
INTERVAL_MS = 250
SETTLE_S = 3
MEASURE_S = int(os.environ.get("BENCH_SECONDS", "15"))
# Events applied before measuring: the ring of recent events (100,000) full, so the RSS growth is the clients'.
FILL_EVENTS = int(os.environ.get("BENCH_FILL_EVENTS", "110000"))


def state_of(ident):
    """Events applied, from a stream id or an ETag: both are <views epoch>-<events applied, hex>[-...]."""
    return int(ident.split(b"-")[1], 16)


def delays_and_coverage(clients, start, end):
    """Every state first seen (by any client) in [start, end): each client's delay until it had that state or a
    newer one, and the share of clients that saw every such state itself."""
    first = {}
    for c in clients:
        for t, a in c.seen:
            if t < first.get(a, float("inf")):
                first[a] = t
    states = sorted(a for a, t in first.items() if start <= t < end)
    delays, complete = [], 0
    for c in clients:
        seen = [(t, a) for t, a in c.seen if t >= start]
        have = {a for _, a in seen}
        complete += all(a in have for a in states)
        k = 0
        for a in states:
            while k < len(seen) and seen[k][1] < a:
                k += 1
            if k < len(seen):
                delays.append(seen[k][0] - first[a])
    return states, delays, complete / len(clients)


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Clients:
    """n clients run by tests/bench/sse_load (C, one epoll set): they record when they saw which state, and stop
    when told. A Python client took about as long to read 10,000 sockets as the service took to write them."""

    def __init__(self, q, mode, path, n, tmp, interval_ms=None):
        self.out = os.path.join(tmp, f"sse_load-{mode}.txt")
        argv = [os.path.join(h.build_dir(), "tests", "sse_load"), q.host, str(q.port), mode, path, str(n), self.out]
        if interval_ms is not None:
            argv.append(str(interval_ms))
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        h.check(line == b"connected\n", f"sse_load did not connect its clients: {line!r}")
        self.n = n

    def finish(self):
        """Stops the clients. @returns (per client its [(time, state)] in time order, the poll response times)."""
        self.proc.stdin.close()
        h.check(self.proc.stdout.readline() == b"done\n", "sse_load did not finish")
        h.check(self.proc.wait(60) == 0, "sse_load failed")
        seen, responses = [[] for _ in range(self.n)], []
        with open(self.out) as f:
            for line in f:
                if line.startswith("# response "):
                    responses.append(float(line.split()[2]))
                else:
                    c, t, state = line.split()
                    seen[int(c)].append((float(t), int(state)))
        return [types.SimpleNamespace(seen=s) for s in seen], responses


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def measure_stream(q, tmp, n):
    base = rss_kb(q.pid)
    clients = Clients(q, "stream", "/stream/top10_source_airport", n, tmp)
    time.sleep(SETTLE_S)
    grown = rss_kb(q.pid) - base
    fanout_before = b.histogram(q, "query_stream_fanout_seconds")
    start = time.monotonic()
    time.sleep(MEASURE_S)
    fanout_after = b.histogram(q, "query_stream_fanout_seconds")
    end = time.monotonic()
    subs, _ = clients.finish()
    # The states of the last second are still being delivered when the window closes.
    states, delays, complete = delays_and_coverage(subs, start, end - 1.0)
    busiest = max(sum(1 for t, _ in c.seen if start <= t < end) for c in subs) / (end - start)
    return {"updates": len(states), "busiest_messages_per_s": busiest, "p99_ms": p(delays, 0.99) * 1000,
            "max_ms": max(delays) * 1000, "complete": complete, "rss_kb_per_client": grown / n,
            "server_fanout_p99_ms": b.quantile(fanout_before, fanout_after, 0.99) * 1000}


def measure_polling(q, tmp, n):
    base = rss_kb(q.pid)
    clients = Clients(q, "poll", "/top10_source_airport", n, tmp, INTERVAL_MS)
    time.sleep(SETTLE_S)
    grown = rss_kb(q.pid) - base
    start = time.monotonic()
    time.sleep(MEASURE_S)
    end = time.monotonic()
    pollers, responses = clients.finish()
    states, delays, complete = delays_and_coverage(pollers, start, end - 1.0)
    polls = sum(1 for c in pollers for t, _ in c.seen if start <= t < end)
    return {"polls_per_s": polls / (end - start), "p99_ms": p(delays, 0.99) * 1000, "max_ms": max(delays) * 1000,
            "response_p99_ms": p(responses, 0.99) * 1000, "states": len(states), "complete": complete,
            "rss_kb_per_client": grown / n}


def measure_floor(n, message_bytes):
    argv = [os.path.join(h.build_dir(), "tests", "fanout_floor"), str(n), "1", str(message_bytes),
            str(MEASURE_S * 1000 // INTERVAL_MS), str(INTERVAL_MS)]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=MEASURE_S + 120)
    h.check(run.returncode == 0, f"fanout_floor failed: {run.stderr.strip()}")
    return json.loads(run.stdout)


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    topic = h.unique_topic("bench-stream")
    h.create_topic(topic, partitions=3)
    tmp = tempfile.mkdtemp(prefix="bench-stream-")
    gw = h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tmp])
    q = h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(dir=tmp), "--results-dir", tmp,
                            "--push-interval-ms", str(INTERVAL_MS), "--max-subscribers", str(SUBSCRIBERS + 10)])
    try:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": str(RATE)})
        h.check(st in (200, 202), body)
        job = json.loads(body)["data"][0]["id"]
        h.wait_until(lambda: b.applied(q) > FILL_EVENTS, 120, 0.5, "the recent events' ring full")
        st, _, body = q.get("/top10_source_airport")
        h.check(st == 200, f"/top10_source_airport answered {st}")
        # A stream message is the pull answer's envelope framed: "id: ...\ndata: ...\n\n" in an HTTP/1.1 chunk.
        message_bytes = len(body) + 40
        # The largest count first, on a heap no client has grown yet: the RSS growth is measured there only.
        stream = measure_stream(q, tmp, SUBSCRIBERS)
        polling = measure_polling(q, tmp, SUBSCRIBERS)
        sweep = {SUBSCRIBERS: (stream, polling, measure_floor(SUBSCRIBERS, message_bytes))}
        for n in SWEEP[1:]:
            sweep[n] = (measure_stream(q, tmp, n), measure_polling(q, tmp, n), measure_floor(n, message_bytes))
        gw.request("DELETE", "/jobs/" + job)
        label = f"{SUBSCRIBERS} clients at {RATE} events/s"
        floor = sweep[SUBSCRIBERS][2]
        floor_label = (f"the kernel's floor: {SUBSCRIBERS} write()s of {message_bytes} bytes to loopback sockets "
                       "read by one epoll process, one thread, same replay (p99 pass)")
        print(json.dumps({"stream": stream, "polling": polling, "floor": floor, "clients": SUBSCRIBERS,
                          "rate": RATE}), flush=True)
        b.figure("stream_change_to_client_p99", stream["p99_ms"], "ms",
                 f"polling at the same rate, change to client p99 ({label})", polling["p99_ms"],
                 higher_is_better=False)
        b.figure("stream_change_to_client_max", stream["max_ms"], "ms",
                 f"polling at the same rate, change to client max ({label})", polling["max_ms"],
                 higher_is_better=False)
        # The server's part of the delay: rendering a state and handing it to every subscriber's socket.
        b.figure("stream_server_fanout_p99", stream["server_fanout_p99_ms"], "ms", floor_label, floor["p99_ms"],
                 higher_is_better=False)
        b.figure("stream_busiest_subscriber_messages_per_s", stream["busiest_messages_per_s"], "messages/s",
                 "one per --push-interval-ms, the most coalescing allows", 1000 / INTERVAL_MS, higher_is_better=False)
        b.figure("stream_subscribers_with_every_update", stream["complete"] * 100, "%",
                 "pollers that saw every state first seen in their window (%)", polling["complete"] * 100)
        b.figure("stream_rss_growth_per_subscriber", stream["rss_kb_per_client"], "KB",
                 "RSS growth per polling connection", polling["rss_kb_per_client"], higher_is_better=False)
        for n, (st, po, fl) in sorted(sweep.items()):
            h.check(st["complete"] == 1.0, f"{n} subscribers: {st['complete']:.1%} received every update")
            b.figure(f"stream_change_to_client_p99_{n}_subscribers", st["p99_ms"], "ms",
                     "the same clients polling", po["p99_ms"], higher_is_better=False)
            b.figure(f"stream_server_fanout_p99_{n}_subscribers", st["server_fanout_p99_ms"], "ms",
                     "raw write()s, one thread (fanout_floor)", fl["p99_ms"], higher_is_better=False)
    finally:
        q.stop()
        gw.stop()


if __name__ == "__main__":
    main()
