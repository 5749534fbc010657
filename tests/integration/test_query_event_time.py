"""Event time per partition (issue 9): the same topic gives the same views however it is consumed.

One topic of 3 partitions: 200,000 events produced at 40,000 events/s, read with 1-second windows, 1 second of
grace and 1 second of retention (windows are evicted all the time), plus 300 late events on partition 0 (copies of
events of its middle, 5 s older) and 300 on partition 1 that are out of order but not late (copies of its last
events, 0.3 s older: within the grace period). Three query-services read
it as a backlog, each from an empty state, idleness off:
  (a) straight through;
  (b) killed with kill -9 again and again in the middle of the backlog, restarted on its snapshot each time (and
      reading with small fetches, so its partitions interleave otherwise);
  (c) with partition 2 held back (FRS_TEST_HOLD_PARTITIONS, tests only) until the others are read, then restarted
      without the hold on the same state.
All three serve the same views: airport counts, window counts (every window, /windows), late events (exactly the
300), events applied, and the evicted windows of equipment_windows.csv byte for byte. /dump_table's order is the
order of consumption and is left out.
"""
import calendar
import json
import os
import random
import tempfile
import time
import uuid

import avro_check
import harness as h

EVENTS = 200000
RATE = 40000
LATE = 300
WINDOW = ["--window-seconds", "1", "--grace-seconds", "1", "--retention-seconds", "1", "--idle-timeout-seconds", "0",
          "--snapshot-interval-ms", "200"]


def epoch_us(text):
    """'YYYY-MM-DD HH:MM:SS.ffffff' (UTC) -> microseconds since the epoch."""
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%d %H:%M:%S")) * 1000000 + int(text[20:26])


def event_time(us):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(us // 1000000)) + f".{us % 1000000:06d}"


def shifted_copies(records, n, shift_us, rng, tail=False):
    """n copies of records from the middle of a partition's stream (tail: its last 2n), each shifted shift_us
    earlier, with new ids."""
    pool = records[-2 * n:] if tail else records[len(records) // 3: 2 * len(records) // 3]
    out = []
    for r in rng.sample(pool, n):
        c = dict(r, id=str(uuid.uuid4()), datetime=event_time(epoch_us(r["datetime"]) - shift_us))
        out.append(avro_check.encode(c))
    return out


def applied(q):
    return q.data("/status")[0]["events_applied"]


def views(q, results):
    """Everything the run must agree on (not /dump_table's order). Stops q: equipment_windows.csv is read once it
    has written what it holds."""
    st = q.data("/status")[0]
    v = {
        "airports": q.data("/top10_source_airport", {"n": "1000"}),
        "top_windows": q.data("/top10_equipment_30min_window", {"n": "1000"}),
        "windows": q.data("/windows"),
        "late_events": st["late_events"],
        "events_applied": st["events_applied"],
        "watermark": st["watermark"],
    }
    h.check_eq(q.stop(), 0, "exit status")
    path = os.path.join(results, "equipment_windows.csv")
    v["evicted_csv"] = b""
    if os.path.exists(path):
        with open(path, "rb") as f:
            v["evicted_csv"] = f.read()
    return v


def run_straight(kafka, topic, total):
    results = tempfile.mkdtemp(prefix="query-results-")
    args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"), "--results-dir", results, *WINDOW]
    with h.Service("query", args, env={"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}) as q:
        h.wait_until(lambda: q.get("/readyz")[0] == 200 and applied(q) == total, 120, 0.2, "(a) caught up")
        v = views(q, results)
    return v


def run_restarts(kafka, topic, total, rng):
    state, results = tempfile.mkdtemp(prefix="query-state-"), tempfile.mkdtemp(prefix="query-results-")
    # Small fetches: the backlog takes seconds, and the partitions arrive in another interleaving.
    args = ["--topic", topic, "--state-dir", state, "--results-dir", results, *WINDOW,
            "-X", "max.partition.fetch.bytes=8192", "-X", "queued.max.messages.kbytes=64"]
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
    kills = []
    q = h.Service("query", args, env=env)
    try:
        # kill -9 as soon as the backlog is past each of 5 random points of it.
        for target in sorted(rng.uniform(0.05, 0.9) * total for _ in range(5)):
            while applied(q) < target:
                time.sleep(0.005)
            at = applied(q)
            if at >= total:
                break
            q.kill9()
            kills.append(at)
            q = h.Service("query", args, env=env)
        h.wait_until(lambda: q.get("/readyz")[0] == 200 and applied(q) == total, 180, 0.2, "(b) caught up")
        v = views(q, results)
    finally:
        if q.running():
            q.kill9()
    print(f"(b) kill -9 at {kills} of {total} events applied")
    h.check(len([k for k in kills if 0 < k < total]) >= 3, f"at least 3 kills in the middle of the backlog: {kills}")
    return v


def run_held(kafka, topic, total, on_p2):
    state, results = tempfile.mkdtemp(prefix="query-state-"), tempfile.mkdtemp(prefix="query-results-")
    args = ["--topic", topic, "--state-dir", state, "--results-dir", results, *WINDOW]
    env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
    with h.Service("query", args, env=dict(env, FRS_TEST_HOLD_PARTITIONS="2")) as q:
        h.wait_until(lambda: applied(q) == total - on_p2, 120, 0.2, "(c) partitions 0 and 1 read")
        st = q.data("/status")[0]
        p2 = [p for p in st["partitions"] if p["partition"] == 2][0]
        h.check(p2["event_time"] is None and not p2["idle"], f"partition 2 held, not idle: {p2}")
        h.check(st["watermark"] is None, f"no watermark while partition 2 has no event time: {st['watermark']}")
        h.check_eq(st["late_events"], LATE, "(c) late events before partition 2 is read")
        held_windows = len(q.data("/windows"))
        h.check(all(w["state"] == "open" for w in q.data("/windows")), "every window open while partition 2 is held")
        h.check_eq(q.stop(), 0, "exit status")
        path = os.path.join(results, "equipment_windows.csv")
        h.check(not os.path.exists(path) or os.path.getsize(path) == 0, "nothing evicted while partition 2 is held")
        print(f"(c) partition 2 held: {total - on_p2} events applied, {held_windows} windows held, none evicted")
    with h.Service("query", args, env=env) as q:
        h.wait_until(lambda: q.get("/readyz")[0] == 200 and applied(q) == total, 120, 0.2, "(c) caught up")
        return views(q, results)


def main():
    rng = random.Random(int(time.time()))
    with h.KafkaBroker() as kafka:
        topic = h.unique_topic("event-time")
        h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)
        gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        with h.Service("gateway", gw_args, env=env) as gw:
            h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
            st, _, body = gw.get("/produce", params={"loop": "1", "limit": str(EVENTS), "rate": str(RATE)}, timeout=300)
            h.check_eq(st, 200, f"/produce {body[:300]!r}")
        by_partition = {}
        for p, _, _, value in avro_check.consume_binary(kafka.bootstrap, topic):
            by_partition.setdefault(p, []).append(avro_check.decode(value))
        h.check_eq(sorted(by_partition), [0, 1, 2], "events on every partition")
        h.kcat_produce(topic, shifted_copies(by_partition[0], LATE, 5000000, rng), key="LATE", partition=0,
                       bootstrap_servers=kafka.bootstrap)
        h.kcat_produce(topic, shifted_copies(by_partition[1], LATE, 300000, rng, tail=True), key="ONTIME", partition=1,
                       bootstrap_servers=kafka.bootstrap)
        total = sum(len(r) for r in by_partition.values()) + 2 * LATE
        h.check_eq(h.kcat_count(topic, bootstrap_servers=kafka.bootstrap), total, "events on the topic")
        print(f"topic: {total} events ({', '.join(f'{p}: {len(r)}' for p, r in sorted(by_partition.items()))} "
              f"+ {LATE} late on 0 + {LATE} on time on 1)")

        a = run_straight(kafka, topic, total)
        h.check_eq(a["late_events"], LATE, "(a) late events: exactly the 300 late ones")
        h.check(len(a["evicted_csv"].splitlines()) > 100, "(a) windows were evicted along the way")
        print(f"(a) straight: {a['events_applied']} applied, {a['late_events']} late, {len(a['windows'])} windows held, "
              f"{len(a['evicted_csv'].splitlines()) - 1} evicted rows")
        b = run_restarts(kafka, topic, total, rng)
        c = run_held(kafka, topic, total, len(by_partition[2]))
        for name, other in (("(b) restarts", b), ("(c) partition 2 held back", c)):
            for key in a:
                h.check(other[key] == a[key], f"{name}: {key} differs from the straight run: "
                        f"{json.dumps(other[key], default=repr)[:300]} vs {json.dumps(a[key], default=repr)[:300]}")
            print(f"{name}: the same views, late events ({other['late_events']}), windows and evicted rows as (a)")


if __name__ == "__main__":
    main()
