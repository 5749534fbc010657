"""Periodic snapshots are written by a child process (snapshot_child.c), the loop pausing for the fork only:
- snapshots are written while events flow, each counted in query_snapshot_pause_seconds, and no child outlives
  its snapshot (none left, running or zombie, once the views stop changing);
- SIGTERM sent to a child ends that child only (said in the log), never the service;
- a child that cannot write (snapshot.bin made a directory, so the rename fails) is said in the log with its
  reason and not counted as written; the service stays up and answers;
- once the path is free again snapshots resume, and a kill -9 and a restart on the last one (the state as it
  was at the fork, with its offsets) give views equal to the topic."""
import json
import os
import signal
import tempfile
import time

import avro_check
import harness as h
import topic_check

EVENTS = 30000


def snapshots_written(q):
    return q.data("/status")[0]["snapshots_written"]


def children(pid):
    """The (pid, state) of each process whose parent is pid."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[1]) == pid:
            found.append((int(entry), fields[0]))
    return found


def metric(q, name):
    st, _, body = q.get("/metrics")
    h.check(st == 200, f"/metrics answered {st}")
    for line in body.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def main():
    topic = h.unique_topic("snapshot-child")
    h.create_topic(topic, partitions=3)
    state = tempfile.mkdtemp(prefix="query-state-")
    snapshot_path = os.path.join(state, "snapshot.bin")
    q_args = ["--topic", topic, "--state-dir", state, "--results-dir", tempfile.mkdtemp(),
              "--snapshot-interval-ms", "200"]
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                               "--results-dir", tempfile.mkdtemp()]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        q = h.Service("query", q_args)
        try:
            st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "limit": str(EVENTS),
                                                     "rate": "2500"})
            h.check(st == 202, body)
            job = json.loads(body)["data"][0]["id"]
            h.wait_until(lambda: snapshots_written(q) >= 3, 30, what="three snapshots written")
            h.check(metric(q, "query_snapshot_pause_seconds_count") >= 3, "each snapshot's pause is counted")

            # SIGTERM to a child (pkill, a supervisor's mistake) ends that child, not the service: libuv's
            # handlers and their pipe are shared with the parent until the child resets them.
            def terminate_a_child():
                for pid, state in children(q.pid):
                    if state != "Z":
                        try:
                            os.kill(pid, signal.SIGTERM)
                        except ProcessLookupError:
                            pass
                return "killed by signal 15" in q.log()
            h.wait_until(terminate_a_child, 60, 0.001, "a snapshot child ended by SIGTERM, said in the log")
            time.sleep(0.5)
            h.check(q.running() and q.get("/status")[0] == 200, "the service runs on after its child's SIGTERM")
            h.check('"event":"shutdown"' not in q.log(),
                    "the service took its child's SIGTERM for its own")

            # The path taken by a directory: each child's rename fails until it is free again.
            def block():
                try:
                    os.remove(snapshot_path)
                except FileNotFoundError:
                    pass
                try:
                    os.mkdir(snapshot_path)
                    return True
                except FileExistsError:
                    return False  # a child renamed its snapshot in between
            h.wait_until(block, 10, 0.01, "snapshot.bin replaced by a directory")
            h.wait_until(lambda: "snapshot_failed" in q.log() and "Is a directory" in q.log(), 10,
                         what="the failed snapshot said with its reason")
            failing = snapshots_written(q)
            time.sleep(1.0)  # five intervals, each a child that fails
            h.check_eq(snapshots_written(q), failing, "snapshots written while the path is a directory")
            h.check(q.get("/status")[0] == 200 and q.running(), "the service answers while its snapshots fail")

            os.rmdir(snapshot_path)
            h.wait_until(lambda: snapshots_written(q) > failing, 10, what="snapshots written again")
            h.wait_until(lambda: gw.data("/jobs/" + job)[0]["state"] == "finished", 60, what="replay done")
            delivered = gw.data("/jobs/" + job)[0]["delivered"]
            h.wait_until(lambda: q.data("/status")[0]["events_applied"] >= delivered, 60, what="caught up")
            # The views no longer change, so no snapshot is started after the one of this state.
            def settled():
                written = snapshots_written(q)
                time.sleep(0.6)
                return snapshots_written(q) == written
            h.wait_until(settled, 20, what="snapshots settled")
            h.check_eq(children(q.pid), [], "processes the query-service left behind")

            q.kill9()
            q = h.Service("query", q_args)
            h.check_eq(q.data("/status")[0]["snapshot"], "restored from snapshot", "how the state was restored")
            h.wait_until(lambda: q.data("/status")[0]["events_applied"] >= delivered, 60, what="caught up again")
            time.sleep(1)
            records = avro_check.topic_records(h.bootstrap(), topic)
            topic_check.check_views_match_records(q, records, delivered)
        finally:
            q.stop()


if __name__ == "__main__":
    main()
