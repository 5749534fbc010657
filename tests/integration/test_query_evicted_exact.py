"""equipment_windows.csv stays exact across kill -9: with 1-second windows and 1 second of retention, windows
are evicted all the time; the query-service is killed and restarted on its snapshot again and again. At the
end the file holds every window the watermark has let go exactly once, with the count the topic gives it
(each snapshot records how much of the file its state accounts for; a restart cuts the rest and replays it)."""
import calendar
import collections
import csv
import json
import os
import random
import sys
import tempfile
import time

import avro_check
import harness as h

RATE = 8000
SECONDS = 20
KILLS = int(os.environ.get("KILLS", "6"))
GRACE_S = 5  # above the partitions' skew while a restarted service catches up (about 2 s of backlog)


def epoch_s(text):
    """'2026-11-28 10:00:01[.123456]' (UTC) -> seconds since the epoch, fraction dropped."""
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%d %H:%M:%S"))


def main():
    topic = h.unique_topic("evicted")
    state, results = tempfile.mkdtemp(prefix="query-state-"), tempfile.mkdtemp(prefix="query-results-")
    q_args = ["--topic", topic, "--state-dir", state, "--results-dir", results, "--window-seconds", "1",
              "--grace-seconds", str(GRACE_S), "--retention-seconds", "1", "--snapshot-interval-ms", "1700"]
    rng = random.Random(int(time.time()))
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                               "--results-dir", tempfile.mkdtemp()]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "limit": str(RATE * SECONDS),
                                                 "rate": str(RATE)})
        h.check(st == 202, body)
        job = json.loads(body)["data"][0]["id"]
        q = h.Service("query", q_args)
        try:
            for i in range(KILLS):
                # Each life writes a snapshot before it dies, so a restart replays at most a few seconds: more,
                # and events of one partition arrive past the grace after another's (rightly counted late).
                h.wait_until(lambda: q.metric("query_snapshots_written_total") > 0, 30, what="a snapshot")
                time.sleep(rng.uniform(0.0, 1.6))  # snapshots every 1.7 s, results every 1 s: out of step
                q.kill9()
                print(f"kill -9 #{i + 1}")
                q = h.Service("query", q_args)
            h.wait_until(lambda: gw.data("/jobs/" + job)[0]["state"] == "finished", 120, what="replay done")
            delivered = gw.data("/jobs/" + job)[0]["delivered"]
            h.wait_until(lambda: q.data("/status")[0]["events_applied"] >= delivered, 120, what="caught up")
            status = q.data("/status")[0]
            h.check_eq(status["events_applied"], delivered, "events applied")
            h.check_eq(status["late_events"], 0, "late events (grace covers the partitions' skew)")
        except BaseException:
            # The last life is not a `with` (each kill -9 replaces it): its log says why it did not catch up.
            sys.stderr.write(f"--- query (port {q.port}) log tail, {q.log_path} ---\n{q.log_tail(80)}\n")
            if q.running():
                sys.stderr.write(f"--- its /status ---\n{q.get('/status')[2][:4000]!r}\n")
            raise
        finally:
            q.stop()  # SIGTERM: the final results and snapshot

    # What the topic says, read by the independent decoder.
    counts = collections.Counter()
    newest = 0
    for _, _, _, value in avro_check.consume_binary(h.bootstrap(), topic):
        rec = avro_check.decode(value)
        second = epoch_s(rec["datetime"])
        counts[(second, rec["equipment"])] += 1
        newest = max(newest, second)
    watermark = newest - GRACE_S  # whole seconds suffice: windows end on whole seconds
    evicted_by_now = {k: c for k, c in counts.items() if k[0] + 1 + 1 <= watermark}  # end + retention <= wm

    with open(os.path.join(results, "equipment_windows.csv"), newline="") as f:
        rows = list(csv.reader(f))
    h.check_eq(rows[0], ["start", "end", "equipment", "count"], "header")
    seen = collections.Counter((epoch_s(r[0]), r[2]) for r in rows[1:])
    twice = [k for k, n in seen.items() if n > 1]
    h.check(not twice, f"{len(twice)} window(s) written more than once, e.g. {twice[:3]}")
    got = {(epoch_s(r[0]), r[2]): int(r[3]) for r in rows[1:]}
    for r in rows[1:]:
        h.check_eq(epoch_s(r[1]) - epoch_s(r[0]), 1, f"window {r[0]}..{r[1]} length")
    missing = [k for k in evicted_by_now if k not in got]
    h.check(not missing, f"{len(missing)} evicted window(s) not in the file, e.g. {missing[:3]}")
    wrong = [(k, got[k], counts.get(k)) for k in got if got[k] != counts.get(k)]
    h.check(not wrong, f"{len(wrong)} window count(s) differ from the topic, e.g. {wrong[:3]}")
    h.check(len(got) >= 10, f"only {len(got)} evicted windows: the test did not exercise eviction")
    print(f"{len(got)} evicted windows, each once and exact, over {KILLS} kill -9 restarts")


if __name__ == "__main__":
    main()
