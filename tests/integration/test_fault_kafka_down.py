"""Kafka down at start: both services start against a port where nothing listens; they serve /healthz, say
503 with the reason on /readyz and /produce; then a broker appears on that port and both become ready by
themselves within 10 s of the broker being ready, a /produce works and the query-service applies its events.
Through all of it every line either service wrote is a JSON log line, librdkafka's complaints about the missing
broker included."""
import collections
import json
import signal
import socket
import tempfile
import time

import avro_check
import harness as h

READY_WITHIN_S = 10.0
OUTAGE_S = 25.0  # how long Kafka stays down after the services started
LIMIT = 20000  # lines of routes.dat: enough to see the events flow, quick to check


def envelope(status_body, want_status, what):
    status, _, body = status_body
    h.check_eq(status, want_status, f"{what} status ({body[:300]!r})")
    doc = json.loads(body)
    h.check_eq(doc.get("statusCode"), want_status, f"{what} statusCode")
    h.check_eq(doc.get("error"), want_status >= 400, f"{what} error flag")
    return doc


def check_json_log(svc):
    """Every line on the service's stderr is one JSON object with the log's five fields."""
    lines = svc.log().splitlines()
    h.check(len(lines) > 5, f"{svc.kind} logged {len(lines)} line(s)")
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            raise AssertionError(f"{svc.kind}: a log line that is not JSON: {line[:300]!r}")
        h.check(isinstance(rec, dict) and {"ts", "level", "service", "event", "msg"} <= rec.keys(),
                f"{svc.kind}: a log line without the log's fields: {line[:300]!r}")
    kafka_lines = [line for line in lines if '"librdkafka"' in line]
    print(f"{svc.kind}: {len(lines)} log lines, all JSON ({len(kafka_lines)} of them librdkafka's)")


def main():
    kafka = h.KafkaBroker(start=False)  # ports chosen; nothing listens on them yet
    topic = h.unique_topic("fault-down")
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
    gw = q = None
    try:
        with socket.socket() as s:
            h.check(s.connect_ex(("127.0.0.1", kafka.port)) != 0, f"nothing listens on {kafka.bootstrap} yet")
        t_start = time.monotonic()
        # Service waits for /healthz only: it must come up without Kafka.
        gw = h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                                   "--results-dir", tempfile.mkdtemp()], env=env)
        q = h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
                                "--results-dir", tempfile.mkdtemp()], env=env)
        for svc in (gw, q):
            envelope(svc.get("/healthz"), 200, f"{svc.kind} /healthz without Kafka")
            # Past the first probe (1 s period while not ready): the reason is the broker's absence.
            doc = h.wait_until(lambda s=svc: (lambda d: d if "Kafka" in d["message"] and "not reached yet" not in
                                              d["message"] else None)(envelope(s.get("/readyz"), 503, "")),
                               20, 0.3, f"{svc.kind} /readyz 503 with a reason")
            print(f"{svc.kind} /readyz without Kafka: 503 {doc['message']!r}")
        doc = envelope(gw.get("/produce", params={"limit": "10"}), 503, "/produce without Kafka")
        h.check("Kafka unavailable" in doc["message"], f"/produce 503 says why: {doc['message']!r}")
        print(f"/produce without Kafka: 503 {doc['message']!r}")
        # SIGTERM while Kafka has never been reached (a probe may be waiting for it): a spare pair exits 0 in 5 s.
        for kind, args in (("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                                        "--results-dir", tempfile.mkdtemp()]),
                           ("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
                                      "--results-dir", tempfile.mkdtemp()])):
            spare = h.Service(kind, args, env=env)
            h.wait_until(lambda: spare.get("/readyz")[0] == 503, 10, 0.1, f"spare {kind} up")
            t = time.monotonic()
            spare.proc.send_signal(signal.SIGTERM)
            try:
                rc = spare.proc.wait(15)
            finally:
                spare.kill9()
            took = time.monotonic() - t
            print(f"spare {kind}: SIGTERM with Kafka never reached: exit {rc} in {took:.2f} s")
            h.check_eq(rc, 0, f"spare {kind} exit status")
            h.check(took <= 5.0, f"spare {kind} took {took:.2f} s to exit")

        # The outage lasts OUTAGE_S: long enough for librdkafka's reconnect backoff to grow to its maximum.
        # Through it both keep serving and keep answering 503 (checked every second, not a bare sleep).
        while time.monotonic() - t_start < OUTAGE_S:
            h.check(gw.running() and q.running(), "both services still up")
            for svc in (gw, q):
                envelope(svc.get("/healthz"), 200, f"{svc.kind} /healthz during the outage")
                envelope(svc.get("/readyz"), 503, f"{svc.kind} /readyz during the outage")
            time.sleep(1)

        t0 = time.monotonic()
        kafka.start()
        t_broker = time.monotonic()
        print(f"broker ready on {kafka.bootstrap} after {t_broker - t0:.1f} s")
        ready = {}

        def both_ready():
            for svc in (gw, q):
                if svc.kind not in ready and svc.get("/readyz", timeout=5)[0] == 200:
                    ready[svc.kind] = time.monotonic() - t_broker
            return len(ready) == 2
        h.wait_until(both_ready, 60, 0.1, "both services ready after the broker appeared")
        print(f"ready after the broker: gateway {ready['gateway']:.2f} s, query-service {ready['query']:.2f} s")
        for kind, took in ready.items():
            h.check(took <= READY_WITHIN_S, f"{kind} ready {took:.2f} s after the broker, more than {READY_WITHIN_S} s")

        doc = envelope(gw.get("/produce", params={"limit": str(LIMIT)}, timeout=120), 200, "/produce")
        summary = {k: v for item in doc["data"] for k, v in item.items()}
        lines, _, _ = avro_check.read_routes(h.routes_file())
        want_ok = sum(1 for line in lines[:LIMIT] if avro_check.parse_routes_line(line) is not None)
        h.check_eq(summary["Total count"], LIMIT, "Total count")
        h.check_eq(summary["Total success"], want_ok, "Total success")
        h.check_eq(h.kcat_count(topic, bootstrap_servers=kafka.bootstrap), want_ok, "events on the topic")

        def applied():
            return json.loads(q.get("/status")[2])["data"][0]["events_applied"]
        h.wait_until(lambda: applied() >= want_ok, 60, 0.2, "query-service applied the events")
        h.check_eq(applied(), want_ok, "events applied")
        records = avro_check.topic_records(kafka.bootstrap, topic)
        counts = collections.Counter(r["source_airport"] for r in records)
        want_top = [{"count": c, "source_airport": a} for a, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        got_top = json.loads(q.get("/top10_source_airport", params={"n": "1000"})[2])["data"]
        h.check(got_top == want_top[:1000], "top source airports equal the topic's content")
        for svc in (gw, q):
            h.check_eq(svc.stop(), 0, f"{svc.kind} exit status")
            check_json_log(svc)
    finally:
        for svc in (gw, q):
            if svc is not None and svc.running():
                svc.kill9()
        kafka.close()


if __name__ == "__main__":
    main()
