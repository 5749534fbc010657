"""The broker killed (kill -9) and restarted in the middle of a synchronous /produce of 5x routes.dat: the
summary's counts add up, the topic holds exactly the delivered events (each once), and a query-service reading
the topic through the outage ends with views equal to what the topic holds."""
import json
import tempfile
import threading
import time

import avro_check
import harness as h
import topic_check

PASSES = 5
# Paced so that the replay is still running when the broker dies (unpaced it takes about a second).
RATE = 100000


def main():
    lines, good, bad = avro_check.read_routes(h.routes_file())
    limit = PASSES * len(lines)
    topic = h.unique_topic("fault-restart")
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        q_args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
                  "--results-dir", tempfile.mkdtemp(), "--snapshot-interval-ms", "500"]
        with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                                   "--results-dir", tempfile.mkdtemp()], env=env) as gw, \
                h.Service("query", q_args, env=env) as q:
            h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="query-service ready")

            answer = {}

            def produce():
                try:
                    answer["response"] = gw.get("/produce", params={"loop": "1", "limit": str(limit),
                                                                    "rate": str(RATE)}, timeout=300)
                except Exception as e:  # noqa: BLE001 - reported by the main thread
                    answer["error"] = e
            t = threading.Thread(target=produce, daemon=True)
            t.start()

            def job():
                jobs = gw.data("/jobs")
                return jobs[0] if jobs else None
            at_kill = h.wait_until(lambda: (lambda j: j if j and j["delivered"] >= limit // 5 else None)(job()),
                                   60, 0.05, "the replay under way")
            h.check(at_kill["state"] == "running", f"replay still running at the kill: {at_kill}")
            kafka.kill9()
            t_kill = time.monotonic()
            print(f"broker killed (kill -9) with {at_kill['delivered']} delivered, {at_kill['lines']} lines read")
            # While the broker is away the replay makes no progress past what librdkafka's queue holds.
            h.wait_until(lambda: gw.get("/readyz")[0] == 503, 30, 0.2, "gateway not ready while the broker is down")
            during = job()
            h.check(during["state"] != "finished", f"the replay cannot finish without the broker: {during}")
            print(f"gateway /readyz 503 {time.monotonic() - t_kill:.1f} s after the kill; job {during['delivered']} "
                  f"delivered, {during['in_flight']} in flight")
            kafka.start()
            print(f"broker restarted (same directory and ports) {time.monotonic() - t_kill:.1f} s after the kill")

            t.join(300)
            h.check(not t.is_alive(), "/produce did not answer within 300 s")
            h.check("error" not in answer, f"/produce failed: {answer.get('error')!r}")
            status, _, body = answer["response"]
            doc = json.loads(body)
            summary = {k: v for item in doc["data"] for k, v in item.items()}
            print(f"/produce answered {status} after {time.monotonic() - t_kill:.1f} s: {summary}")
            failed = summary.get("Total delivery failures", 0)
            h.check_eq(status, 200 if failed == 0 else 503, "status (503 only with delivery failures)")
            h.check_eq(doc["statusCode"], status, "statusCode")
            h.check_eq(summary["Total count"], limit, "Total count")
            h.check_eq(summary["Total errors by var transform"], PASSES * bad, "transform errors")
            h.check_eq(summary["Total errors by invalid schema"], 0, "schema errors")
            delivered = summary["Total success"]
            h.check_eq(delivered + failed, PASSES * len(good), "delivered + failed = attempted")
            h.check_eq(delivered + failed + summary["Total errors by var transform"], summary["Total count"],
                       "every line counted once")

            # Exactly the delivered events on the topic, each once, read by the independent decoder.
            h.check_eq(h.kcat_count(topic, bootstrap_servers=kafka.bootstrap), delivered, "events on the topic")
            records = avro_check.topic_records(kafka.bootstrap, topic)
            h.check_eq(len(records), delivered, "decoded events")
            h.check_eq(len({r["id"] for r in records}), delivered, "distinct ids on the topic")

            # The query-service, which read through the outage, ends with views equal to the topic's content.
            h.wait_until(lambda: q.data("/status")[0]["events_applied"] >= delivered, 120, 0.2, "caught up")
            st = q.data("/status")[0]
            h.check_eq(st["undecodable_messages"], 0, "undecodable messages")
            topic_check.check_views_match_records(q, records, delivered)
            print(f"query-service: {st['events_applied']} applied = {delivered} delivered = on the topic")
            for svc in (gw, q):  # a clean exit after the outage (and, under ASan, no leak or error report)
                h.check_eq(svc.stop(), 0, f"{svc.kind} exit status")


if __name__ == "__main__":
    main()
