"""Windows that close by themselves (issue 9): with --idle-timeout-seconds, a partition with nothing to read and no
new event stops holding the watermark; once every partition is idle the watermark follows the wall clock, so the
last windows close and are evicted on schedule, reaching equipment_windows.csv with no new data. An event that then
comes for a closed window is late. A partition that still has a backlog is never idle: held back (tests only),
it keeps every window open however long it waits.

Also hopping windows: with --window-slide-seconds each event counts in every window that holds it."""
import calendar
import csv
import json
import os
import tempfile
import time
import uuid

import avro_check
import harness as h

IDLE_S = 2


def applied(q):
    return q.data("/status")[0]["events_applied"]


def evicted_rows(results):
    path = os.path.join(results, "equipment_windows.csv")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def produce(gw, limit, rate=None):
    params = {"limit": str(limit)}
    if rate:
        params["rate"] = str(rate)
    st, _, body = gw.get("/produce", params=params, timeout=120)
    h.check_eq(st, 200, f"/produce {body[:300]!r}")
    return {k: v for item in json.loads(body)["data"] for k, v in item.items()}["Total success"]


def old_event(seconds_ago):
    t = time.time() - seconds_ago
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t)) + ".000000"
    return avro_check.encode({"id": str(uuid.uuid4()), "datetime": stamp, "airline": "2B", "airline_id": 410,
                              "source_airport": "LATE", "source_airport_id": 1, "destination_airport": "KZN",
                              "destination_airport_id": 2990, "codeshare": False, "stops": 0, "equipment": "OLD"})


def closes_by_itself(kafka, gw_args, env):
    topic = gw_args[1]
    results = tempfile.mkdtemp(prefix="query-results-")
    args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"), "--results-dir", results,
            "--window-seconds", "1", "--grace-seconds", "1", "--retention-seconds", "2",
            "--idle-timeout-seconds", str(IDLE_S)]
    with h.Service("query", args, env=env) as q, h.Service("gateway", gw_args, env=env) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        sent = produce(gw, 3000, rate=3000)
        h.wait_until(lambda: applied(q) == sent, 60, 0.2, "the events applied")
        t_last = time.monotonic()
        # No new data: idle after IDLE_S, the watermark follows the clock, every window closes (grace 1 s) and is
        # evicted (retention 2 s).
        h.wait_until(lambda: q.data("/windows") == [], IDLE_S + 1 + 2 + 10, 0.2, "every window evicted, no new data")
        took = time.monotonic() - t_last
        st = q.data("/status")[0]
        h.check(all(p["idle"] for p in st["partitions"]), f"every partition idle: {st['partitions']}")
        h.check(st["watermark"] is not None, "a watermark")
        # The file is appended once a second.
        rows = h.wait_until(lambda: (lambda r: r if sum(int(x["count"]) for x in r) >= sent else None)(
            evicted_rows(results)), 5, 0.2, "the evicted windows in equipment_windows.csv")
        h.check_eq(sum(int(r["count"]) for r in rows), sent, "equipment_windows.csv holds every event, once")
        h.check_eq(st["late_events"], 0, "no late event so far")
        print(f"{sent} events: every window closed and evicted {took:.1f} s after the last one, with no new data "
              f"({len(rows)} rows in equipment_windows.csv)")
        # An event for a window that closed: late, and it moves nothing.
        h.kcat_produce(topic, [old_event(30)], key="LATE", partition=0, bootstrap_servers=kafka.bootstrap)
        h.wait_until(lambda: applied(q) == sent + 1, 30, 0.2, "the old event applied")
        st = q.data("/status")[0]
        h.check_eq(st["late_events"], 1, "an event for a closed window is late")
        h.check(not any(w["top_equipment"] == "OLD" for w in q.data("/windows")), "no window opened for it")
        print("an event for a window closed by the clock: late")


def backlog_never_idle(kafka, gw_args, env):
    topic = gw_args[1]
    results = tempfile.mkdtemp(prefix="query-results-")
    args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"), "--results-dir", results,
            "--window-seconds", "1", "--grace-seconds", "1", "--retention-seconds", "2", "--idle-timeout-seconds", "1"]
    total = h.kcat_count(topic, bootstrap_servers=kafka.bootstrap)
    low, high = h.partition_offsets(topic, 2, bootstrap_servers=kafka.bootstrap)
    with h.Service("query", args, env=dict(env, FRS_TEST_HOLD_PARTITIONS="2")) as q:
        h.wait_until(lambda: applied(q) == total - (high - low), 60, 0.2, "partitions 0 and 1 read")
        time.sleep(4)  # 4 idle timeouts: 0 and 1 go idle, 2 must not
        st = q.data("/status")[0]
        parts = {p["partition"]: p for p in st["partitions"]}
        h.check(parts[0]["idle"] and parts[1]["idle"], f"partitions 0 and 1 idle: {st['partitions']}")
        h.check(not parts[2]["idle"] and parts[2]["lag"] == high - low,
                f"partition 2, with {high - low} to read, not idle: {parts[2]}")
        h.check(st["watermark"] is None, "partition 2 holds the watermark")
        h.check(len(q.data("/windows")) > 0 and evicted_rows(results) == [], "no window closed or evicted")
        print(f"partition 2 held with {high - low} messages to read: not idle after 4 s, every window still open")


def hopping(kafka, env):
    topic = h.unique_topic("hopping")
    h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)
    total = h.produce_routes(["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()],
                             env, limit=3000)
    args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
            "--results-dir", tempfile.mkdtemp(), "--window-seconds", "30", "--window-slide-seconds", "10",
            "--idle-timeout-seconds", "0"]
    with h.Service("query", args, env=env) as q:
        h.wait_until(lambda: applied(q) == total, 60, 0.2, "the topic applied")
        st = q.data("/status")[0]
        windows = q.data("/windows")
        starts = sorted(calendar.timegm(time.strptime(w["start"], "%Y-%m-%d %H:%M:%S")) for w in windows)
        h.check(all(s % 10 == 0 for s in starts), "window starts every 10 s")
        h.check(all(b - a == 10 for a, b in zip(starts, starts[1:])), f"windows every 10 s: {starts}")
        counted = sum(w["events"] for w in windows)
        h.check_eq(counted, 3 * (total - st["late_events"]), "each event in the 3 windows of 30 s that hold it")
        top = q.data("/top10_equipment_30min_window")
        h.check(len(top) == 10 and all(set(r) == {"count", "end", "equipment", "start"} for r in top),
                "the seed's endpoint keeps its shape")
        h.check(all(calendar.timegm(time.strptime(r["end"], "%Y-%m-%d %H:%M:%S")) -
                    calendar.timegm(time.strptime(r["start"], "%Y-%m-%d %H:%M:%S")) == 30 for r in top),
                "30-second windows")
        print(f"hopping windows (30 s every 10 s): {len(windows)} windows, {counted} counts for {total} events")


def main():
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        topic = h.unique_topic("idle")
        h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)
        gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
        closes_by_itself(kafka, gw_args, env)
        backlog_never_idle(kafka, gw_args, env)
        hopping(kafka, env)


if __name__ == "__main__":
    main()
