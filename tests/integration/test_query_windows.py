"""A steady stream (rate=2000 for 70 s) makes at least two 30-second tumbling windows with exact
boundaries, and every event is counted in exactly one window: every window equals what the topic's events make
(the windows straddle boundaries, so some of them hold only a few events of an equipment)."""
import json
import tempfile
import time

import avro_check
import harness as h
import topic_check


def main():
    topic = h.unique_topic("windows")
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                               "--results-dir", tempfile.mkdtemp()]) as gw, \
         h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(),
                             "--results-dir", tempfile.mkdtemp()]) as q:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": "2000"})
        h.check(st == 202, body)
        job = json.loads(body)["data"][0]["id"]
        time.sleep(70)
        gw.request("DELETE", "/jobs/" + job)
        h.wait_until(lambda: gw.data("/jobs/" + job)[0]["state"] == "finished", 30, what="replay stopped")
        delivered = gw.data("/jobs/" + job)[0]["delivered"]
        h.wait_until(lambda: q.data("/status")[0]["events_applied"] == delivered, 30, what="all applied")

        windows = q.data("/top10_equipment_30min_window", {"n": "1000"})
        starts = sorted({w["start"] for w in windows})
        h.check(len(starts) >= 2, f"only {len(starts)} window(s): {starts}")
        for w in windows:
            start = time.strptime(w["start"], "%Y-%m-%d %H:%M:%S")
            end = time.strptime(w["end"], "%Y-%m-%d %H:%M:%S")
            h.check(start.tm_sec in (0, 30), f"window start {w['start']} is not on a 30-second boundary")
            h.check(time.mktime(end) - time.mktime(start) == 30, f"window {w['start']}..{w['end']} is not 30 s")
        # Consecutive windows of the most common equipment ("320") tile time without gaps or overlaps.
        w320 = sorted((w["start"], w["end"]) for w in windows if w["equipment"] == "320")
        for (s1, e1), (s2, _) in zip(w320, w320[1:]):
            h.check(e1 <= s2, f"windows overlap: {s1}..{e1} and {s2}")
        status = q.data("/status")[0]
        h.check(status["late_events"] == 0, f"late events in an in-order stream: {status['late_events']}")
        records = avro_check.topic_records(h.bootstrap(), topic)
        h.check_eq(len(records), delivered, "events on the topic")
        topic_check.check_windows_match_records(q, records)
        st, _, body = q.get("/windows", params={"equipment": ",".join(["320"] * 33)})
        h.check_eq(st, 400, f"33 codes: {body[:200]!r}")
        h.check_in(b"more than 32 codes", body, "the reason")


if __name__ == "__main__":
    main()
