"""Push queries (issue 10, part 1): /stream/... as server-sent events over real HTTP, against a real broker.

- The view streams open with the current state and end on the same state as the pull endpoint, coalesced to at
  most about one message per --push-interval-ms; /stream/events delivers every event once, in order, and its
  filter keeps exactly the matching ones (ATL: 915).
- Last-Event-ID: /stream/events resumes right after the event named, with no gap and no duplicate, and says so;
  a bad id is told it cannot resume. A view stream is told whether it missed anything.
- Heartbeat comments on an idle stream; --max-subscribers answered 429 with the reason; a client that never
  reads /stream/events is told it was too slow and dropped, while the service keeps serving; SIGTERM ends every
  stream with an `end` event and the process exits 0; the subscriber and message metrics follow."""
import json
import signal
import socket
import tempfile
import threading
import time

import harness as h

INTERVAL_MS = 100


class SseClient:
    """One GET on its own socket; the events are parsed by a thread into self.events (dicts: event, id, data)."""

    def __init__(self, svc, path, headers=None, read=True):
        self.sock = socket.create_connection((svc.host, svc.port), timeout=30)
        lines = [f"GET {path} HTTP/1.1", f"Host: {svc.host}", "Accept: text/event-stream"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.events, self.comments, self.closed = [], 0, False
        self.status, self.headers, self.body = None, {}, b""
        if read:
            self._read_head()
            self.thread = threading.Thread(target=self._read_events, daemon=True)
            self.thread.start()

    def _read_head(self):
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = self.sock.recv(65536)
            h.check(chunk, "the response's head")
            buf += chunk
        head, self.rest = buf.split(b"\r\n\r\n", 1)
        first, *fields = head.decode().split("\r\n")
        self.status = int(first.split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (f.split(":", 1) for f in fields)}

    def _chunks(self):
        """The body, de-chunked (HTTP/1.1 chunked transfer coding), as it arrives."""
        buf = self.rest
        while True:
            while b"\r\n" not in buf:
                more = self.sock.recv(65536)
                if not more:
                    return
                buf += more
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return
            while len(buf) < size + 2:
                more = self.sock.recv(65536)
                if not more:
                    return
                buf += more
            yield buf[:size]
            buf = buf[size + 2:]

    def _read_events(self):
        pending = ""
        try:
            for chunk in self._chunks():
                pending += chunk.decode()
                while "\n\n" in pending:
                    block, pending = pending.split("\n\n", 1)
                    ev = {"event": "message", "id": None, "data": []}
                    for line in block.split("\n"):
                        if line.startswith(":"):
                            self.comments += 1
                            continue
                        name, _, value = line.partition(":")
                        value = value[1:] if value.startswith(" ") else value
                        if name == "data":
                            ev["data"].append(value)
                        elif name in ("event", "id"):
                            ev[name] = value
                    if ev["data"]:
                        ev["data"] = "\n".join(ev["data"])
                        self.events.append(ev)
        except OSError:
            pass
        self.closed = True

    def messages(self, event="message"):
        return [e for e in self.events if e["event"] == event]

    def last_data(self):
        msgs = self.messages()
        return json.loads(msgs[-1]["data"]) if msgs else None

    def close(self):
        self.sock.close()


def applied(q):
    return q.data("/status")[0]["events_applied"]


def metric(q, name, labels=""):
    for line in q.get("/metrics")[2].decode().splitlines():
        if line.startswith(name + labels + " "):
            return float(line.split()[-1])
    raise AssertionError(f"metric {name}{labels} not found")


def event_ids(client):
    return [row["id"] for m in client.messages() for row in json.loads(m["data"])["data"]]


def live_views(env, topic):
    args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
            "--results-dir", tempfile.mkdtemp(), "--push-interval-ms", str(INTERVAL_MS)]
    gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
    with h.Service("query", args, env=env) as q:
        airports = SseClient(q, "/stream/top10_source_airport")
        windows = SseClient(q, "/stream/top10_equipment_30min_window?n=5")
        events = SseClient(q, "/stream/events")
        atl = SseClient(q, "/stream/events?source_airport=ATL")
        for c in (airports, windows, events, atl):
            h.check_eq(c.status, 200, "stream status")
            h.check(c.headers["content-type"].startswith("text/event-stream"), f"content type {c.headers}")
            h.check_eq(c.headers.get("cache-control"), "no-cache", "streams are not cached")
        h.wait_until(lambda: airports.messages() and events.messages(), 10, 0.05, "the opening state")
        h.check_eq(airports.last_data()["data"], [], "opens with the current (empty) state")
        h.wait_until(lambda: metric(q, "query_stream_subscribers", '{stream="events"}') == 2, 10, 0.1,
                     "two events subscribers counted")
        t0 = time.monotonic()
        sent = h.produce_routes(gw_args, env)
        h.wait_until(lambda: applied(q) == sent, 60, 0.1, "the topic applied")
        pull_airports = json.loads(q.get("/top10_source_airport")[2])
        pull_windows = json.loads(q.get("/top10_equipment_30min_window", params={"n": "5"})[2])
        h.wait_until(lambda: airports.last_data() == pull_airports and windows.last_data() == pull_windows, 10,
                     0.05, "the streams end on the pull endpoints' answers")
        h.check_eq(airports.last_data()["data"][0], {"count": 915, "source_airport": "ATL"}, "ATL 915, live")
        h.wait_until(lambda: len(event_ids(events)) == sent and len(event_ids(atl)) == 915, 20, 0.1,
                     "every event streamed")
        took = time.monotonic() - t0
        dump = q.data("/dump_table")
        dump_ids = [r["id"] for r in dump]
        aa_per_replay = sum(1 for r in dump if r["airline"] == "AA")
        h.check_eq(event_ids(events), dump_ids, "/stream/events: every event once, in the order applied")
        rows = [r for m in atl.messages() for r in json.loads(m["data"])["data"]]
        h.check(all(r["source_airport"] == "ATL" for r in rows), "the filter keeps only ATL")
        h.check_eq(len(rows), 915, "and every ATL event")
        limit = took * 1000 / INTERVAL_MS + 3
        h.check(len(airports.messages()) <= limit, f"coalesced: {len(airports.messages())} messages in "
                f"{took:.1f} s at one per {INTERVAL_MS} ms")
        h.check(all(m["id"] for m in airports.messages() + events.messages()), "every message has an id")
        print(f"{sent} events: {len(airports.messages())} airport messages, {len(events.messages())} event messages "
              f"in {took:.1f} s; streams equal the pull endpoints")

        # Resuming. /stream/events from the middle: exactly the events after the one named.
        middle = events.messages()[len(events.messages()) // 2]
        upto = len([r for m in events.messages()[:events.messages().index(middle) + 1]
                    for r in json.loads(m["data"])["data"]])
        again = SseClient(q, "/stream/events", {"Last-Event-ID": middle["id"]})
        h.wait_until(lambda: len(event_ids(again)) >= sent - upto, 20, 0.1, "the resumed events")
        h.check_eq(json.loads(again.messages("resume")[0]["data"]), {"resumed": True}, "told it resumed")
        h.check_eq(event_ids(again), dump_ids[upto:], "resumed right after it: no gap, no duplicate")
        bad = SseClient(q, "/stream/events", {"Last-Event-ID": "7-not-an-event"})
        h.wait_until(lambda: bad.messages("resume"), 10, 0.05, "told it cannot resume")
        h.check_eq(json.loads(bad.messages("resume")[0]["data"])["resumed"], False, "cannot resume")
        # A view stream: nothing missed with the latest id; after new events, it missed something.
        latest = airports.messages()[-1]["id"]
        back = SseClient(q, "/stream/top10_source_airport", {"Last-Event-ID": latest})
        h.wait_until(lambda: back.messages("resume"), 10, 0.05, "told whether it missed anything")
        h.check_eq(json.loads(back.messages("resume")[0]["data"]), {"missed": False}, "nothing missed")
        h.check_eq(back.messages(), [], "and no state sent again")
        more = h.produce_routes(gw_args, env, limit=100)
        h.wait_until(lambda: applied(q) == sent + more, 30, 0.1, "more events")
        late = SseClient(q, "/stream/top10_source_airport", {"Last-Event-ID": latest})
        h.wait_until(lambda: late.messages(), 10, 0.05, "the current state")
        h.check_eq(json.loads(late.messages("resume")[0]["data"]), {"missed": True}, "it missed something")
        h.check_eq(late.last_data(), json.loads(q.get("/top10_source_airport")[2]), "and gets the current state")
        h.wait_until(lambda: back.last_data() == late.last_data(), 10, 0.05, "the open stream got it too")
        h.check(metric(q, "query_stream_messages_total", '{stream="events"}') >= len(events.messages()),
                "messages counted")
        for c in (airports, windows, events, atl, again, bad, back, late):
            c.close()
        return aa_per_replay


def limits_and_shutdown(env, topic, aa_per_replay):
    base = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
            "--results-dir", tempfile.mkdtemp(), "--push-interval-ms", str(INTERVAL_MS)]
    gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
    q = h.Service("query", base + ["--max-subscribers", "3", "--push-heartbeat-ms", "300",
                                   "--recent-capacity", "2000"], env=env)
    try:
        h.wait_until(lambda: applied(q) > 0, 60, 0.1, "the topic read")
        idle = SseClient(q, "/stream/top10_equipment_30min_window")
        # Never read: its socket buffers fill, then what waits for it, then the ring overtakes it.
        stalled = SseClient(q, "/stream/events", read=False)
        third = SseClient(q, "/stream/events?airline=AA")
        st, _, body = q.get("/stream/top10_source_airport")
        h.check_eq(st, 429, "beyond --max-subscribers")
        h.check_in("--max-subscribers", body.decode(), "the 429 says why")
        h.wait_until(lambda: idle.comments >= 2, 5, 0.05, "heartbeats on an idle stream")
        # More than the socket buffers and what may wait for it (4 MB) hold: 5x routes.dat, about 95 MB of JSON.
        with h.Service("gateway", gw_args, env=env) as gw:
            h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
            st, _, body = gw.get("/produce", params={"loop": "1", "limit": str(5 * 66765)}, timeout=300)
            h.check_eq(st, 200, f"/produce {body[:200]!r}")
        sent = 5 * 66765
        h.wait_until(lambda: metric(q, "query_stream_dropped_slow_total") >= 1, 60, 0.2, "the stalled client dropped")
        h.check_eq(q.get("/healthz")[0], 200, "the service keeps serving")
        stalled.sock.settimeout(30)
        tail = b""
        while True:
            chunk = stalled.sock.recv(1 << 20)
            if not chunk:
                break
            tail = (tail + chunk)[-4096:]
        h.check_in(b"event: dropped", tail, "the stalled client is told why")
        h.check_in(b"too slow", tail, "the reason")
        h.wait_until(lambda: metric(q, "query_stream_subscribers", '{stream="events"}') == 1, 10, 0.1,
                     "the dropped client no longer counted")
        h.check_eq(third.closed, False, "the client that keeps up stays, through a burst far larger than the ring")
        h.check_eq(metric(q, "query_stream_dropped_slow_total"), 1, "only the stalled client dropped")
        aa = [r for m in third.messages() for r in json.loads(m["data"])["data"]]
        h.check(aa and all(r["airline"] == "AA" for r in aa), "the AA events")
        h.wait_until(lambda: len([r for m in third.messages() for r in json.loads(m["data"])["data"]]) ==
                     5 * aa_per_replay, 20, 0.1, "every AA event of the 5 replays")
        print(f"{sent} more lines: the client that never read was dropped, the others kept")

        # SIGTERM: every stream is told and ended, the process exits 0.
        t0 = time.monotonic()
        q.proc.send_signal(signal.SIGTERM)
        code = q.proc.wait(timeout=10)
        h.check_eq(code, 0, "exit status after SIGTERM")
        h.wait_until(lambda: idle.closed and third.closed, 5, 0.05, "every stream ended")
        for c in (idle, third):
            h.check_eq(json.loads(c.messages("end")[0]["data"])["reason"], "the query-service is shutting down",
                       "told why it ends")
        print(f"SIGTERM: streams ended, exit 0 in {time.monotonic() - t0:.2f} s")
    finally:
        if q.proc.poll() is None:
            q.kill9()


def main():
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        topic = h.unique_topic("stream")
        h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)
        aa_per_replay = live_views(env, topic)
        limits_and_shutdown(env, topic, aa_per_replay)


if __name__ == "__main__":
    main()
