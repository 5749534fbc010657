"""Offsets that go backwards, or forwards past what the state read (issue 8): the query-service notices, says so, and
its views stay a function of the topic as it now is.

1. The topic is deleted and created again while the query-service runs (a user resetting the pipeline), then 1,000
   lines are produced: the service logs the reset as an error, rebuilds, and serves the new topic's events only.
2. The same while the service is down, the new topic filled past the old offsets (so no offset is out of range):
   the message at the resume point is not the one the state applied; the service rebuilds from the new topic.
3. Records deleted (as retention would) past the state's offsets while the service is down: it reads on from the
   first offset still there and says how many it skipped, in /status and in a metric.
"""
import json
import tempfile

import avro_check
import harness as h
import topic_check


def applied(q):
    return q.data("/status")[0]["events_applied"]


def recreate(kafka, topic):
    h.delete_topic(topic, bootstrap_servers=kafka.bootstrap)
    h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)


def records_of(kafka, topic):
    return avro_check.topic_records(kafka.bootstrap, topic)


def reset_logged(q):
    errors = [json.loads(line) for line in q.log().splitlines() if line.startswith("{")]
    return [e for e in errors if e.get("level") == "error" and e.get("event") == "topic_reset"]


def main():
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        topic = h.unique_topic("reset")
        h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)
        q_args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
                  "--results-dir", tempfile.mkdtemp(), "--snapshot-interval-ms", "300"]
        gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
        first = h.produce_routes(gw_args, env)

        # 1. Deleted and created again under a running query-service.
        q = h.Service("query", q_args, env=env)
        try:
            h.wait_until(lambda: applied(q) == first, 60, 0.2, "routes.dat applied")
            recreate(kafka, topic)
            second = h.produce_routes(gw_args, env, limit=1000)
            h.wait_until(lambda: applied(q) == second, 60, 0.2, f"the views rebuilt from the new topic's {second}")
            h.check(reset_logged(q), f"the reset is logged as an error:\n{q.log_tail()}")
            st = q.data("/status")[0]
            h.check(st["topic_resets"] >= 1 and st["last_topic_reset"], f"/status tells of the reset: {st}")
            h.check(q.metric("query_topic_resets_total") >= 1, "the reset is counted in /metrics")
            topic_check.check_views_match_records(q, records_of(kafka, topic), second)
            print(f"live reset: {first} events, then {second} on the new topic, views rebuilt: "
                  f"{st['last_topic_reset']}")
        finally:
            h.check_eq(q.stop(), 0, "exit status")

        # 2. Deleted and created again while the service is down, refilled past its offsets.
        recreate(kafka, topic)
        third = h.produce_routes(gw_args, env)
        q = h.Service("query", q_args, env=env)
        try:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, 0.2, "ready")
            h.wait_until(lambda: applied(q) >= third, 60, 0.2, "the new topic applied")
            h.check(reset_logged(q), f"the reset is logged as an error:\n{q.log_tail()}")
            topic_check.check_views_match_records(q, records_of(kafka, topic), third)
            print(f"reset while down: views rebuilt from the new topic's {third} events")
        finally:
            h.check_eq(q.stop(), 0, "exit status")

        # 3. Records deleted past the state's offsets while the service is down.
        before = {p: h.partition_offsets(topic, p, bootstrap_servers=kafka.bootstrap)[1] for p in range(3)}
        fourth = h.produce_routes(gw_args, env, limit=1000)
        _, high = h.partition_offsets(topic, 0, bootstrap_servers=kafka.bootstrap)
        h.check(high - before[0] > 20, f"partition 0 got new events ({before[0]}..{high})")
        cut = before[0] + (high - before[0]) // 2
        h.delete_records(topic, 0, cut, bootstrap_servers=kafka.bootstrap)
        h.check_eq(h.partition_offsets(topic, 0, bootstrap_servers=kafka.bootstrap)[0], cut, "partition 0 starts at")
        skipped = cut - before[0]
        q = h.Service("query", q_args, env=env)
        try:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, 0.2, "ready")
            h.wait_until(lambda: applied(q) >= third + fourth - skipped, 60, 0.2, "the rest applied")
            st = q.data("/status")[0]
            h.check_eq(st["events_applied"], third + fourth - skipped, "events applied: all but the deleted ones")
            h.check_eq(st["offsets_skipped"], skipped, "/status offsets_skipped")
            p0 = [p for p in st["partitions"] if p["partition"] == 0][0]
            h.check_eq(p0["offsets_skipped"], skipped, "partition 0 offsets_skipped")
            h.check_eq(p0["next_offset"], high, "partition 0 read to its end")
            h.check_eq(q.metric("query_offsets_skipped_total"), float(skipped), "query_offsets_skipped_total")
            warned = [line for line in q.log().splitlines() if '"offsets_skipped"' in line]
            h.check(warned, f"the skip is logged:\n{q.log_tail()}")
            print(f"retention while down: {skipped} offsets of partition 0 skipped, reported")
        finally:
            h.check_eq(q.stop(), 0, "exit status")
        # The skip is part of the state: a restart still reports it.
        q = h.Service("query", q_args, env=env)
        try:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, 0.2, "ready")
            h.check_eq(q.data("/status")[0]["offsets_skipped"], skipped, "offsets_skipped after a restart")
        finally:
            h.check_eq(q.stop(), 0, "exit status")


if __name__ == "__main__":
    main()
