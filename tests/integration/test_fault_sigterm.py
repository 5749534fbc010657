"""SIGTERM to each service under load: the query-service while it consumes a live stream, the gateway in the
middle of an async looping /produce. Each exits with status 0 within 5 s; the query-service writes its snapshot
at shutdown (the periodic one is switched off here, so only the shutdown can have written it) and, restarted on
it, ends with views equal to the topic's content; the gateway's delivered count is what the topic holds.
The same again with the broker killed just before the SIGTERMs (messages still waiting for it). And signals that
come one after the other (Ctrl-C, then the supervisor's SIGTERM, then more) end both services cleanly too: the
second signal must not kill a service in the middle of its final snapshot."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

import avro_check
import harness as h
import topic_check

RATE = 30000
EXIT_WITHIN_S = 5.0
SNAPSHOT_FILE = "snapshot.bin"  # services/query-service/snapshot.h, SNAPSHOT_FILE_NAME


def applied(q):
    return q.data("/status")[0]["events_applied"]


def sigterm(svc):
    """SIGTERM; returns (exit status, seconds to exit). AssertionError if it takes longer than 15 s."""
    t0 = time.monotonic()
    svc.proc.send_signal(signal.SIGTERM)
    try:
        rc = svc.proc.wait(15)
    except subprocess.TimeoutExpired:
        svc.kill9()
        raise AssertionError(f"{svc.kind} still running 15 s after SIGTERM\n{svc.log_tail()}")
    took = time.monotonic() - t0
    svc.stop()  # closes the log
    return rc, took


def main():
    topic = h.unique_topic("fault-sigterm")
    state = tempfile.mkdtemp(prefix="query-state-")
    # The periodic snapshot is off (10 min): the snapshot found after SIGTERM is the one written at shutdown.
    q_args = ["--topic", topic, "--state-dir", state, "--results-dir", tempfile.mkdtemp(),
              "--snapshot-interval-ms", "600000"]
    gw = h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()])
    q = None
    try:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": str(RATE)})
        h.check_eq(st, 202, f"async /produce ({body[:300]!r})")
        job = json.loads(body)["data"][0]["id"]

        # 1. The query-service, consuming the live stream.
        q = h.Service("query", q_args)
        h.wait_until(lambda: applied(q) >= 3 * RATE // 2, 60, 0.1, "the query-service consuming")
        before = applied(q)
        h.check(not os.path.exists(os.path.join(state, SNAPSHOT_FILE)), "no snapshot before the shutdown")
        rc, took = sigterm(q)
        print(f"query-service: SIGTERM after {before}+ events applied: exit {rc} in {took:.2f} s")
        h.check_eq(rc, 0, "query-service exit status after SIGTERM")
        h.check(took <= EXIT_WITHIN_S, f"query-service took {took:.2f} s to exit, more than {EXIT_WITHIN_S} s")
        path = os.path.join(state, SNAPSHOT_FILE)
        h.check(os.path.isfile(path) and os.path.getsize(path) > 0, f"snapshot {path} written at shutdown")
        h.check_eq(sorted(os.listdir(state)), [SNAPSHOT_FILE], "state dir holds the snapshot only (no temp file)")
        h.check_in("final snapshot", q.log(), "query-service log")
        print(f"snapshot: {os.path.getsize(path)} bytes")

        # Restarted on its snapshot, it continues where it stopped.
        q = h.Service("query", q_args)
        st = q.data("/status")[0]
        h.check_eq(st["snapshot"], "restored from snapshot", "restart")
        h.check(st["events_applied"] >= before, f"restored {st['events_applied']} events, had {before}")
        restored = st["events_applied"]
        h.wait_until(lambda: applied(q) >= restored + RATE, 60, 0.1, "the restarted query-service consuming")

        # 2. The gateway, in the middle of its replay.
        progress = gw.data("/jobs/" + job)[0]
        h.check_eq(progress["state"], "running", "job state before SIGTERM")
        rc, took = sigterm(gw)
        print(f"gateway: SIGTERM with {progress['delivered']}+ delivered: exit {rc} in {took:.2f} s")
        h.check_eq(rc, 0, "gateway exit status after SIGTERM")
        h.check(took <= EXIT_WITHIN_S, f"gateway took {took:.2f} s to exit, more than {EXIT_WITHIN_S} s")
        # The job's final counts, logged when its last delivery report came in (before the exit).
        m = re.search(r"job " + job + r": (\d+) lines, (\d+) delivered, (\d+) failed", gw.log())
        h.check(m is not None, f"replay_finished logged for job {job}\n{gw.log_tail()}")
        lines, delivered, failed = (int(x) for x in m.groups())
        print(f"gateway job: {lines} lines, {delivered} delivered, {failed} failed")
        h.check_eq(failed, 0, "delivery failures")
        h.check(delivered >= progress["delivered"], f"delivered {delivered} < {progress['delivered']} seen before")
        on_topic = h.kcat_count(topic)
        h.check_eq(on_topic, delivered, "events on the topic vs the gateway's delivered count")

        # No acknowledged event lost: the restarted query-service's views equal the topic's content.
        h.wait_until(lambda: applied(q) >= delivered, 120, 0.2, "the query-service caught up")
        h.check_eq(q.data("/status")[0]["undecodable_messages"], 0, "undecodable messages")
        records = avro_check.topic_records(h.bootstrap(), topic)
        h.check_eq(len({r["id"] for r in records}), delivered, "distinct ids on the topic")
        topic_check.check_views_match_records(q, records, delivered)

        # And the restarted one stops cleanly too.
        rc, took = sigterm(q)
        print(f"query-service (restarted): SIGTERM when idle: exit {rc} in {took:.2f} s")
        h.check_eq(rc, 0, "restarted query-service exit status")
        h.check(took <= EXIT_WITHIN_S, f"restarted query-service took {took:.2f} s to exit")
    finally:
        for svc in (gw, q):
            if svc is not None and svc.running():
                svc.kill9()


def sigterm_with_kafka_down():
    """SIGTERM while the broker is gone (kill -9) and the gateway holds undelivered messages: both services still
    exit 0 within 5 s (the gateway gives up on what Kafka never acknowledged); once the broker is back, every
    event the gateway had acknowledged is on the topic and the query-service, restarted on its snapshot, ends
    with views equal to the topic's content."""
    topic = h.unique_topic("fault-sigterm-down")
    state = tempfile.mkdtemp(prefix="query-state-")
    q_args = ["--topic", topic, "--state-dir", state, "--results-dir", tempfile.mkdtemp(),
              "--snapshot-interval-ms", "600000"]
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                                   "--results-dir", tempfile.mkdtemp()], env=env) as gw, \
                h.Service("query", q_args, env=env) as q:
            h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
            st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": str(RATE)})
            h.check_eq(st, 202, f"async /produce ({body[:300]!r})")
            job = json.loads(body)["data"][0]["id"]
            h.wait_until(lambda: applied(q) >= RATE, 60, 0.1, "the query-service consuming")
            kafka.kill9()
            # Nothing is acknowledged any more: the replay goes on queueing into librdkafka.
            progress = h.wait_until(lambda: (lambda j: j if j["in_flight"] >= RATE // 4 else None)(
                gw.data("/jobs/" + job)[0]), 30, 0.1, "messages waiting for the dead broker")
            acknowledged = progress["delivered"]
            rc, took = sigterm(gw)
            print(f"gateway: SIGTERM with the broker down, {acknowledged} delivered, {progress['in_flight']}+ "
                  f"in flight: exit {rc} in {took:.2f} s")
            h.check_eq(rc, 0, "gateway exit status (Kafka down)")
            h.check(took <= EXIT_WITHIN_S, f"gateway took {took:.2f} s to exit with Kafka down")
            before = applied(q)
            rc, took = sigterm(q)
            print(f"query-service: SIGTERM with the broker down, {before} applied: exit {rc} in {took:.2f} s")
            h.check_eq(rc, 0, "query-service exit status (Kafka down)")
            h.check(took <= EXIT_WITHIN_S, f"query-service took {took:.2f} s to exit with Kafka down")
            h.check(os.path.isfile(os.path.join(state, SNAPSHOT_FILE)), "snapshot written at shutdown")

        kafka.start()
        on_topic = h.kcat_count(topic, bootstrap_servers=kafka.bootstrap)
        print(f"broker back: {on_topic} events on the topic, {acknowledged} acknowledged")
        h.check(on_topic >= acknowledged, f"acknowledged events lost: {on_topic} on the topic < {acknowledged}")
        with h.Service("query", q_args, env=env) as q:
            h.check_eq(q.data("/status")[0]["snapshot"], "restored from snapshot", "restart")
            h.wait_until(lambda: applied(q) >= on_topic, 60, 0.2, "the query-service caught up")
            records = avro_check.topic_records(kafka.bootstrap, topic)
            topic_check.check_views_match_records(q, records, on_topic)


def repeated_signals():
    """SIGINT, then SIGTERM a millisecond later, then two more SIGTERMs: what a terminal's Ctrl-C followed by
    deploy/run.sh's supervisor sends. Each service exits 0 and the query-service's final snapshot is whole."""
    topic = h.unique_topic("fault-signals")
    h.create_topic(topic, 3)
    for kind in ("gateway", "query"):
        state = tempfile.mkdtemp(prefix="query-state-")
        args = ["--topic", topic, "--results-dir", tempfile.mkdtemp()]
        args += ["--state-dir", state, "--snapshot-interval-ms", "600000"] if kind == "query" else \
            ["--routes-file", h.routes_file()]
        for delay in (0.0, 0.001, 0.005):
            svc = h.Service(kind, args)
            h.wait_until(lambda: svc.get("/readyz")[0] == 200, 60, 0.1, f"{kind} ready")
            svc.proc.send_signal(signal.SIGINT)
            time.sleep(delay)
            for _ in range(3):
                try:
                    svc.proc.send_signal(signal.SIGTERM)
                except ProcessLookupError:
                    break
            try:
                rc = svc.proc.wait(15)
            except subprocess.TimeoutExpired:
                svc.kill9()
                raise AssertionError(f"{kind} still running 15 s after SIGINT and SIGTERMs\n{svc.log_tail()}")
            log = svc.log()
            svc.stop()
            h.check_eq(rc, 0, f"{kind}: exit status after SIGINT and SIGTERMs {delay * 1000:.0f} ms later")
            h.check_in("stopped", log, f"{kind} log")
            if kind == "query":
                h.check_in("final snapshot", log, "query-service log")
                h.check_eq(sorted(os.listdir(state)), [SNAPSHOT_FILE], "state dir: the snapshot, whole, no temp file")
        print(f"{kind}: SIGINT then 3 SIGTERMs: exit 0 each time")


if __name__ == "__main__":
    main()
    sigterm_with_kafka_down()
    repeated_signals()
