"""kill -9 of the query-service mid-stream, again and again, each time restarted on its snapshot: at the
end every message on the topic is counted exactly once and the views equal what the topic holds."""
import collections
import json
import random
import tempfile
import time

import avro_check
import harness as h

EVENTS = 200000
KILLS = 10


def data_of(svc, path, params=None):
    status, _, body = svc.get(path, params=params)
    h.check(status == 200, f"{path}: {status} {body[:300]!r}")
    return json.loads(body)["data"]


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
                applied = data_of(q, "/status")[0]["events_applied"]
                q.kill9()
                print(f"kill -9 #{i + 1} after {applied} events applied")
                q = h.Service("query", q_args)
            h.wait_until(lambda: data_of(gw, "/jobs/" + job)[0]["state"] == "finished", 120, what="replay done")
            delivered = data_of(gw, "/jobs/" + job)[0]["delivered"]
            h.check(delivered == h.kcat_count(topic), "topic holds exactly the delivered events")
            h.wait_until(lambda: data_of(q, "/status")[0]["events_applied"] >= delivered, 120, what="caught up")
            time.sleep(1)
            h.check(data_of(q, "/status")[0]["events_applied"] == delivered,
                    f"applied {data_of(q, '/status')[0]['events_applied']} != {delivered} on the topic")

            # The views equal the topic's content, read by an independent decoder.
            records = [avro_check.decode(v) for _, _, _, v in avro_check.consume_binary(h.bootstrap(), topic)]
            counts = collections.Counter(r["source_airport"] for r in records)
            want = [{"count": c, "source_airport": a} for a, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
            h.check(data_of(q, "/top10_source_airport", {"n": "1000"}) == want[:1000], "airport counts differ")
            per_equipment = collections.Counter(r["equipment"] for r in records)
            windows = data_of(q, "/top10_equipment_30min_window", {"n": "1000"})
            for equipment, total in per_equipment.most_common(3):
                summed = sum(w["count"] for w in windows if w["equipment"] == equipment)
                h.check(summed == total, f"equipment {equipment}: windows {summed}, topic {total}")
            table = data_of(q, "/dump_table")
            h.check(len(table) == min(delivered, 100000), f"dump_table {len(table)} rows")
            h.check(len({r["id"] for r in table}) == len(table), "a row twice in dump_table")
        finally:
            q.stop()


if __name__ == "__main__":
    main()
