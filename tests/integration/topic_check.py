"""The query-service's views checked against the topic's events (decoded by an independent decoder): what every
test that replays, kills or restarts asserts at its end. The views must be a function of the topic."""
import calendar
import collections
import time

import harness as h


def expected_windows(records, window_seconds=30):
    """The tumbling windows the records make when none is late: {(start, equipment): count}, start and the
    records' datetimes in UTC, start as the views print it (YYYY-MM-DD HH:MM:SS)."""
    rows = collections.Counter()
    starts = {}
    for r in records:
        stamp = r["datetime"][:19]
        second = starts.get(stamp)
        if second is None:
            t = calendar.timegm(time.strptime(stamp, "%Y-%m-%d %H:%M:%S"))
            second = starts[stamp] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t - t % window_seconds))
        rows[(second, r["equipment"])] += 1
    return rows


def check_windows_match_records(q, records, window_seconds=30):
    """q's windows are exactly those the records make (tumbling, none late): every window's event count and top
    equipment in /windows, and the whole ranked /top10_equipment_30min_window?n=1000 (count desc, equipment desc
    in byte order, start asc). A window holds a row per equipment, thousands of them, so a sum over the top
    1,000 rows would miss the small rows of a window that has only just begun."""
    h.check_eq(q.data("/status")[0]["late_events"], 0, "late events")
    rows = expected_windows(records, window_seconds)
    per_window = collections.defaultdict(list)
    for (start, equipment), count in rows.items():
        per_window[start].append((count, equipment.encode()))
    held = q.data("/windows")
    h.check_eq([w["start"] for w in held], sorted(per_window), "windows held")
    for w in held:
        counts = per_window[w["start"]]
        top_count, top_equipment = max(counts)
        h.check_eq((w["events"], w["equipment"], w["top_count"], w["top_equipment"]),
                 (sum(c for c, _ in counts), len(counts), top_count, top_equipment.decode()),
                 f"window {w['start']}: (events, equipment, top count, top equipment)")
    # Exact counts per window of a few equipment, the most and the least counted among them.
    totals = collections.Counter()
    for (_, equipment), count in rows.items():
        totals[equipment] += count
    picked = [e for e, _ in totals.most_common(3)] + [e for e, _ in totals.most_common()[-2:] if "," not in e]
    exact = q.data("/windows", {"equipment": ",".join(picked)})
    for w in exact:
        h.check_eq(w["counts"], {e: rows.get((w["start"], e), 0) for e in picked}, f"window {w['start']}: counts")
    ranked = sorted(rows.items(), key=lambda kv: (-kv[1], _neg_bytes(kv[0][1]), kv[0][0]))
    end = lambda start: time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(
        calendar.timegm(time.strptime(start, "%Y-%m-%d %H:%M:%S")) + window_seconds))
    want = [{"count": c, "end": end(s), "equipment": e, "start": s} for (s, e), c in ranked[:1000]]
    h.check(q.data("/top10_equipment_30min_window", {"n": "1000"}) == want,
            "top 1,000 window rows differ from the topic")


def _neg_bytes(text):
    """A sort key that orders strings by their UTF-8 bytes descending, a prefix after its extensions."""
    return tuple(255 - b for b in text.encode()) + (256,)


def check_views_match_records(q, records, delivered, window_seconds=30):
    """The query-service q has applied exactly the delivered events and its views equal records (the topic's
    events, decoded by an independent decoder): airport counts, every window (check_windows_match_records),
    /dump_table rows."""
    st = q.data("/status")[0]
    h.check_eq(st["events_applied"], delivered, "events applied (each once)")
    h.check_eq(len(records), delivered, "events on the topic")
    counts = collections.Counter(r["source_airport"] for r in records)
    want = [{"count": c, "source_airport": a} for a, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    h.check(q.data("/top10_source_airport", {"n": "1000"}) == want[:1000], "airport counts differ from the topic")
    check_windows_match_records(q, records, window_seconds)
    table = q.data("/dump_table", {"limit": "100000"})
    h.check_eq(len(table), min(delivered, 100000), "dump_table rows")
    ids = {r["id"] for r in table}
    h.check(len(ids) == len(table), "a row twice in dump_table")
    h.check(ids <= {r["id"] for r in records}, "dump_table rows are events of the topic")
