"""Both services against the real broker: after /produce of routes.dat, the query-service's views equal
what this test computes from routes.dat itself with the seed's rules; garbage on the topic changes no view;
a restart with and without a snapshot gives the same views."""
import collections
import csv
import json
import os
import re
import shutil
import tempfile

import avro_check
import harness as h

HTTP_DATE = re.compile(r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                       r"\d{4} \d\d:\d\d:\d\d GMT$")
WINDOW_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
FIELDS = ["airline", "airline_id", "codeshare", "datetime", "destination_airport", "destination_airport_id",
          "equipment", "id", "source_airport", "source_airport_id", "stops"]


def data_of(svc, path, params=None):
    status, _, body = svc.get(path, params=params)
    h.check(status == 200, f"{path}: {status} {body[:300]!r}")
    doc = json.loads(body)
    h.check(list(doc) == ["data", "error", "message", "statusCode"], f"{path}: keys {list(doc)}")
    return doc["data"]


def expected_top_airports(good, n):
    counts = collections.Counter(t[2] for t in good)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [{"count": c, "source_airport": a} for a, c in ranked]


def views_state(q):
    """Everything the views show, to compare two runs."""
    return (data_of(q, "/top10_source_airport", {"n": "1000"}),
            data_of(q, "/top10_equipment_30min_window", {"n": "1000"}),
            [r["id"] for r in data_of(q, "/dump_table")])


def status_of(q):
    return data_of(q, "/status")[0]


def main():
    topic = h.unique_topic("views")
    results = tempfile.mkdtemp(prefix="query-results-")
    state = tempfile.mkdtemp(prefix="query-state-")
    lines, good, bad = avro_check.read_routes(h.routes_file())
    gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
    q_args = ["--topic", topic, "--state-dir", state, "--results-dir", results, "--snapshot-interval-ms", "200"]
    with h.Service("gateway", gw_args) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        with h.Service("query", q_args) as q:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="query-service ready on an empty topic")
            status, _, body = gw.get("/produce")
            h.check(status == 200, body)
            h.wait_until(lambda: status_of(q)["events_applied"] == 66765, 60, what="all events applied")

            # Routes per source airport, as the seed orders them: count desc, airport asc.
            h.check(data_of(q, "/top10_source_airport") == expected_top_airports(good, 10),
                    f"top10 differs: {data_of(q, '/top10_source_airport')}")
            h.check(data_of(q, "/top10_source_airport")[0] == {"count": 915, "source_airport": "ATL"}, "ATL first")
            h.check(data_of(q, "/top10_source_airport", {"n": "25"}) == expected_top_airports(good, 25), "n=25")
            for bad_n in ("0", "1001", "x"):
                st, _, body = q.get("/top10_source_airport", params={"n": bad_n})
                h.check(st == 400 and json.loads(body)["error"] is True, f"n={bad_n}: {st}")

            # Windows: seed's shape and order; each top equipment's windows add up to its total.
            windows = data_of(q, "/top10_equipment_30min_window", {"n": "1000"})
            h.check(all(list(w) == ["count", "end", "equipment", "start"] for w in windows), windows[:2])
            ranked = sorted(windows, key=lambda w: w["start"])  # stable sorts: the last key sorted is the first
            ranked = sorted(ranked, key=lambda w: w["equipment"].encode(), reverse=True)
            ranked = sorted(ranked, key=lambda w: w["count"], reverse=True)
            h.check(windows == ranked, "windows ordered by count desc, equipment desc, start asc")
            for w in windows:
                h.check(WINDOW_TIME.match(w["start"]) and WINDOW_TIME.match(w["end"]), w)
                h.check(int(w["start"][-2:]) % 30 == 0, f"30-second window start {w['start']}")
            totals = collections.Counter(t[8] for t in good)
            for equipment, total in totals.most_common(5):
                summed = sum(w["count"] for w in windows if w["equipment"] == equipment)
                h.check(summed == total, f"equipment {equipment}: windows sum {summed}, routes.dat {total}")
            h.check(data_of(q, "/top10_equipment_30min_window") == windows[:10], "default n is 10")

            # The recent events: all 66,765 with the 11 fields, the seed's datetime format.
            rows = data_of(q, "/dump_table")
            h.check(len(rows) == 66765, f"dump_table has {len(rows)} rows")
            h.check(all(list(r) == FIELDS for r in rows[:100]), rows[0])
            h.check(all(HTTP_DATE.match(r["datetime"]) for r in rows), "datetime as Flask shows it")
            got = collections.Counter(avro_check.record_tuple(r) for r in rows)
            h.check(got == collections.Counter(good), "dump_table rows equal routes.dat")
            page = data_of(q, "/dump_table", {"limit": "5", "offset": "10"})
            h.check(page == rows[10:15], "limit/offset window")
            h.check(data_of(q, "/dump_table", {"offset": "70000"}) == [], "offset past the end")
            st, _, _ = q.get("/dump_table", params={"limit": "-1"})
            h.check(st == 400, "negative limit is a 400")

            # 1,000 garbage messages: counted, skipped, no view changes.
            before = views_state(q)
            garbage = [os.urandom(1 + i % 200) for i in range(995)] + [b"\x00", b"\xc3\x01" + b"\0" * 8, b"\xc3\x01" * 40,
                                                                   b"\xc3\x01" + os.urandom(8) + b"\x02", b"x" * 1000]
            h.kcat_produce(topic, garbage)
            h.wait_until(lambda: status_of(q)["undecodable_messages"] == 1000, 30, what="garbage counted")
            h.check(views_state(q) == before, "garbage changed a view")
            h.check(q.get("/healthz")[0] == 200, "still serving")
            st = status_of(q)
            h.check(st["events_applied"] == 66765 and sum(p["lag"] for p in st["partitions"]) == 0, st)

            # CSV results appear within a second or two.
            h.wait_until(lambda: os.path.exists(os.path.join(results, "dump_table.csv")), 10, what="CSV written")
            h.wait_until(lambda: len(open(os.path.join(results, "dump_table.csv")).read().splitlines()) == 66766, 10,
                         what="dump_table.csv complete")
            with open(os.path.join(results, "top10_source_airport.csv")) as f:
                top = list(csv.DictReader(f))
            h.check([(r["source_airport"], int(r["count"])) for r in top] ==
                    [(e["source_airport"], e["count"]) for e in expected_top_airports(good, 10)], top)
            h.check(q.stop() == 0, "SIGTERM exits 0")
        h.check(os.path.exists(os.path.join(state, "snapshot.bin")), "snapshot written at shutdown")

        # Restart from the snapshot: the same views, nothing applied twice.
        with h.Service("query", q_args) as q:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="ready after restore")
            h.check(views_state(q) == before, "views after restore differ")
            h.check(status_of(q)["events_applied"] == 66765, "events counted twice after restore")

        # Restart without a snapshot: rebuilt from the topic, the same views.
        shutil.rmtree(state)
        with h.Service("query", q_args) as q:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="ready after rebuild")
            h.check(status_of(q)["events_applied"] == 66765, "rebuild applied every event once")
            h.check(data_of(q, "/top10_source_airport", {"n": "1000"}) == before[0], "rebuilt airports differ")
            h.check(sorted(r for r in views_state(q)[2]) == sorted(before[2]), "rebuilt table differs")

        # A corrupt snapshot is logged and the state rebuilt from the topic.
        with open(os.path.join(state, "snapshot.bin"), "r+b") as f:
            f.seek(20)
            f.write(b"\xff\xff\xff\xff")
        with h.Service("query", q_args) as q:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="ready after corrupt snapshot")
            h.check(status_of(q)["events_applied"] == 66765, "rebuilt after corrupt snapshot")
            h.check("corrupt" in status_of(q)["snapshot"], status_of(q)["snapshot"])
            h.check("snapshot_corrupt" in q.log_tail(400), "corrupt snapshot logged")


if __name__ == "__main__":
    main()
