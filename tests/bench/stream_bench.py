"""Push queries at scale, beside their peer (issue 10): N subscribers of /stream/top10_source_airport while the
gateway replays at a steady rate, against the same N clients polling /top10_source_airport at the stream's rate
(one request per 250 ms each, spread evenly).

Both kinds of client see states named by the events applied (the stream's id, the pull answer's ETag). For each
state first seen by any client in the measured window, each client's delay is the time until it had that state
or a newer one, minus the first client's time (the stream writes to every subscriber as it renders the state,
so the first one is within a millisecond of the change coalesced; a poller waits for its next poll). Figures:
that delay's p99 and maximum, the share of clients that saw every state, and the query-service's RSS growth per
client. Prints one JSON object per figure."""
import asyncio
import json
import os
import resource
import tempfile
import time

import bench_util as b  # first: puts tests/integration on sys.path
import harness as h  # noqa: E402

SUBSCRIBERS = int(os.environ.get("BENCH_SUBSCRIBERS", "10000"))
RATE = int(os.environ.get("BENCH_RATE", "20000"))
INTERVAL_MS = 250
SETTLE_S = 3
MEASURE_S = int(os.environ.get("BENCH_SECONDS", "15"))
# Events applied before measuring: the ring of recent events (100,000) full, so the RSS growth is the clients'.
FILL_EVENTS = int(os.environ.get("BENCH_FILL_EVENTS", "110000"))
CONNECT_BATCH = 500


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


class Subscriber(asyncio.Protocol):
    """Records (id, arrival) of every message; the body is chunked, but every chunk holds whole messages."""

    def __init__(self):
        self.buf, self.seen = b"", []

    def data_received(self, data):
        now = time.monotonic()
        buf = self.buf + data
        start = 0
        while True:
            i = buf.find(b"\nid: ", start)
            if i < 0:
                break
            j = buf.find(b"\n", i + 5)
            if j < 0:
                break
            self.seen.append((now, state_of(buf[i + 5:j])))
            start = j
        self.buf = buf[max(start, len(buf) - 64):]


class Poller(asyncio.Protocol):
    """One keep-alive connection: a GET every interval, the ETag of each answer and its response time."""

    def __init__(self, times):
        self.seen, self.times, self.buf, self.sent_at = [], times, b"", None

    def connection_made(self, transport):
        self.transport = transport

    def poll(self):
        self.sent_at = time.monotonic()
        self.transport.write(b"GET /top10_source_airport HTTP/1.1\r\nHost: bench\r\n\r\n")

    def data_received(self, data):
        self.buf += data
        head_end = self.buf.find(b"\r\n\r\n")
        if head_end < 0:
            return
        head = self.buf[:head_end].decode()
        length = int(next(line.split(":")[1] for line in head.split("\r\n") if line.lower().startswith("content-length")))
        if len(self.buf) < head_end + 4 + length:
            return
        now = time.monotonic()
        self.times.append(now - self.sent_at)
        etag = next(line.split(":", 1)[1].strip() for line in head.split("\r\n") if line.lower().startswith("etag"))
        self.seen.append((now, state_of(etag.strip('W/"').encode())))
        self.buf = self.buf[head_end + 4 + length:]


async def connect_all(loop, host, port, factory, request):
    conns = []
    for start in range(0, SUBSCRIBERS, CONNECT_BATCH):
        batch = [loop.create_connection(factory, host, port) for _ in range(min(CONNECT_BATCH, SUBSCRIBERS - start))]
        for transport, proto in await asyncio.gather(*batch):
            if request:
                transport.write(request)
            conns.append((transport, proto))
    return conns


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


async def measure_stream(q):
    loop = asyncio.get_running_loop()
    base = rss_kb(q.pid)
    request = b"GET /stream/top10_source_airport HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
    conns = await connect_all(loop, q.host, q.port, Subscriber, request)
    await asyncio.sleep(SETTLE_S)
    grown = rss_kb(q.pid) - base
    fanout_before = b.histogram(q, "query_stream_fanout_seconds")
    start = time.monotonic()
    await asyncio.sleep(MEASURE_S)
    fanout_after = b.histogram(q, "query_stream_fanout_seconds")
    # The states of the last second are still being delivered when the window closes.
    end = time.monotonic()
    states, delays, complete = delays_and_coverage([proto for _, proto in conns], start, end - 1.0)
    busiest = max(sum(1 for t, _ in proto.seen if t >= start) for _, proto in conns) / (end - start)
    for transport, _ in conns:
        transport.close()
    return {"updates": len(states), "busiest_messages_per_s": busiest, "p99_ms": p(delays, 0.99) * 1000, "max_ms": max(delays) * 1000,
            "complete": complete, "rss_kb_per_client": grown / len(conns),
            "server_fanout_p99_ms": b.quantile(fanout_before, fanout_after, 0.99) * 1000}


async def measure_polling(q):
    loop = asyncio.get_running_loop()
    times = []
    base = rss_kb(q.pid)
    conns = await connect_all(loop, q.host, q.port, lambda: Poller(times), None)

    async def poll_forever(proto, offset):
        await asyncio.sleep(offset)
        while True:
            proto.poll()
            await asyncio.sleep(INTERVAL_MS / 1000)

    tasks = [asyncio.ensure_future(poll_forever(proto, i * INTERVAL_MS / 1000 / len(conns)))
             for i, (_, proto) in enumerate(conns)]
    await asyncio.sleep(SETTLE_S)
    grown = rss_kb(q.pid) - base
    times.clear()
    start = time.monotonic()
    await asyncio.sleep(MEASURE_S)
    for t in tasks:
        t.cancel()
    states, delays, complete = delays_and_coverage([proto for _, proto in conns], start, time.monotonic() - 1.0)
    for transport, _ in conns:
        transport.close()
    return {"polls_per_s": len(times) / MEASURE_S, "p99_ms": p(delays, 0.99) * 1000, "max_ms": max(delays) * 1000,
            "response_p99_ms": p(times, 0.99) * 1000, "states": len(states), "complete": complete,
            "rss_kb_per_client": grown / len(conns)}


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
        h.wait_until(lambda: json.loads(q.get("/status")[2])["data"][0]["events_applied"] > FILL_EVENTS, 120, 0.5,
                     "the recent events' ring full")
        stream = asyncio.run(measure_stream(q))
        polling = asyncio.run(measure_polling(q))
        gw.request("DELETE", "/jobs/" + job)
        label = f"{SUBSCRIBERS} clients at {RATE} events/s"
        print(json.dumps({"stream": stream, "polling": polling, "clients": SUBSCRIBERS, "rate": RATE}), flush=True)
        b.figure("stream_change_to_client_p99", stream["p99_ms"], "ms",
                 f"polling at the same rate, change to client p99 ({label})", polling["p99_ms"],
                 higher_is_better=False)
        b.figure("stream_change_to_client_max", stream["max_ms"], "ms",
                 f"polling at the same rate, change to client max ({label})", polling["max_ms"],
                 higher_is_better=False)
        # The server's part of the delay: rendering a state and handing it to every subscriber's socket.
        b.figure("stream_server_fanout_p99", stream["server_fanout_p99_ms"], "ms",
                 "stream change to client p99 (the same run, clients included)", stream["p99_ms"],
                 higher_is_better=False)
        b.figure("stream_busiest_subscriber_messages_per_s", stream["busiest_messages_per_s"], "messages/s",
                 "one per --push-interval-ms, the most coalescing allows", 1000 / INTERVAL_MS, higher_is_better=False)
        b.figure("stream_subscribers_with_every_update", stream["complete"] * 100, "%",
                 "pollers that saw every state first seen in their window (%)", polling["complete"] * 100)
        b.figure("stream_rss_growth_per_subscriber", stream["rss_kb_per_client"], "KB",
                 "RSS growth per polling connection", polling["rss_kb_per_client"], higher_is_better=False)
    finally:
        q.stop()
        gw.stop()


if __name__ == "__main__":
    main()
