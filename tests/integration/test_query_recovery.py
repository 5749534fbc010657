"""kill -9 of the query-service mid-stream, again and again, each time restarted on its snapshot: at the
end every message on the topic is counted exactly once and the views equal what the topic holds."""
import json
import random
import tempfile
import time

import avro_check
import harness as h
import topic_check

EVENTS = 200000
KILLS = 10


def main():
    topic = h.unique_topic("recovery")
    state = tempfile.mkdtemp(prefix="query-state-")
    q_args = ["--topic", topic, "--state-dir", state, "--results-dir", tempfile.mkdtemp(),
              "--snapshot-interval-ms", "300"]
    rng = random.Random(int(time.time()))
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                               "--results-dir", tempfile.mkdtemp()]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "limit": str(EVENTS), "rate": "20000"})
        h.check(st == 202, body)
        job = json.loads(body)["data"][0]["id"]
        q = h.Service("query", q_args)
        try:
            for i in range(KILLS):
                time.sleep(rng.uniform(0.3, 1.2))
                applied = q.data("/status")[0]["events_applied"]
                q.kill9()
                print(f"kill -9 #{i + 1} after {applied} events applied")
                q = h.Service("query", q_args)
            h.wait_until(lambda: gw.data("/jobs/" + job)[0]["state"] == "finished", 120, what="replay done")
            delivered = gw.data("/jobs/" + job)[0]["delivered"]
            h.check(delivered == h.kcat_count(topic), "topic holds exactly the delivered events")
            h.wait_until(lambda: q.data("/status")[0]["events_applied"] >= delivered, 120, what="caught up")
            time.sleep(1)
            h.check(q.data("/status")[0]["events_applied"] == delivered,
                    f"applied {q.data('/status')[0]['events_applied']} != {delivered} on the topic")

            # The views equal the topic's content, read by an independent decoder.
            records = avro_check.topic_records(h.bootstrap(), topic)
            topic_check.check_views_match_records(q, records, delivered)
        finally:
            q.stop()


if __name__ == "__main__":
    main()
