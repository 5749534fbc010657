"""A fatal producer error: librdkafka's idempotent producer can fail for good (no message is produced by it again),
and the gateway must say so instead of looking healthy. Made for real here: the topic only takes record batches
of at most 200 bytes, and with enable.gapless.guarantee the broker's refusal of a batch is fatal. Then the replay
stops with its counts adding up, /readyz and /healthz answer 503 with the reason (so Kubernetes restarts the pod),
a new /produce is refused with it, ingest_kafka_fatal is 1, and the process stays up and answers."""
import json
import tempfile

import harness as h


def main():
    topic = h.unique_topic("fatal")
    h.create_topic(topic, partitions=1, config={"max.message.bytes": "200"})
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir",
                               tempfile.mkdtemp(), "-X", "enable.gapless.guarantee=true"]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        h.check_eq(gw.metric("ingest_kafka_fatal"), 0, "ingest_kafka_fatal before")
        st, _, body = gw.get("/produce", params={"limit": "5000"}, timeout=120)
        summary = json.loads(body)
        print(f"/produce answered {st}: {json.dumps(summary)[:400]}")
        job = gw.data("/jobs")[0]
        h.check_eq(job["state"], "finished", "the replay's state")
        h.check(job["failed"] > 0, f"events failed by the fatal error: {job}")
        h.check_eq(job["delivered"] + job["failed"] + job["transform_errors"] + job["schema_errors"], job["lines"],
                   "every line read accounted for")

        fatal = [json.loads(ln) for ln in gw.log().splitlines() if '"kafka_fatal"' in ln]
        h.check_eq(len(fatal), 1, "kafka_fatal lines")
        h.check("gap-less" in fatal[0]["msg"], f"librdkafka's reason: {fatal[0]}")
        for path in ("/readyz", "/healthz"):
            st, _, body = gw.get(path)
            h.check_eq(st, 503, f"{path} after the fatal error ({body[:300]!r})")
            message = json.loads(body)["message"]
            h.check("failed for good" in message and "gap-less" in message, f"{path}'s reason: {message}")
        st, _, body = gw.get("/produce", params={"limit": "10"})
        h.check_eq(st, 503, f"/produce after the fatal error ({body[:300]!r})")
        h.check("failed for good" in json.loads(body)["message"], f"/produce's reason: {body[:300]!r}")
        h.check_eq(gw.metric("ingest_kafka_fatal"), 1, "ingest_kafka_fatal after")
        h.check_eq(gw.get("/jobs")[0], 200, "the gateway still answers")
        print(f"after the fatal error: /readyz and /healthz 503: {message}")
        h.check_eq(gw.stop(), 0, "gateway exit status")


if __name__ == "__main__":
    main()
