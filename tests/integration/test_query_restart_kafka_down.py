"""Restarts while Kafka is down leave the views exact (issue 8, "a restart while Kafka is down doubles every count").

The query-service reads routes.dat's events and stops; Kafka stops; the query-service is started and stopped 5 times
with Kafka down, alternating SIGTERM and kill -9, each time serving the state it restored: ready, and saying how old
that state is (in /status, /metrics and the X-State-Age-Seconds header); Kafka comes back and the query-service
starts once more: the views equal the topic's content, each event applied once. Then the same with a partition
added to the topic (and events produced to it) while the query-service was down.
"""
import signal
import tempfile
import time

import avro_check
import harness as h
import topic_check

RESTARTS = 5


def applied(q):
    return q.data("/status")[0]["events_applied"]


def check_state_age(q, current_at, what):
    """The state served is as old as the last moment its views held all the topic held (current_at)."""
    status, headers, _ = q.get("/top10_source_airport")
    h.check_eq(status, 200, f"{what}: /top10_source_airport")
    want = time.time() - current_at
    header = int(headers.get("x-state-age-seconds", "-1"))
    st = q.data("/status")[0]
    gauge = q.metric("query_state_age_seconds")
    for got, where in ((header, "X-State-Age-Seconds"), (st["state_age_seconds"], "/status state_age_seconds"),
                       (gauge, "query_state_age_seconds")):
        h.check(want - 3 <= got <= want + 2, f"{what}: {where} {got}, the state is {want:.1f} s old")
    h.check_eq(q.metric("query_kafka_up"), 0.0, f"{what}: query_kafka_up")
    return header


def restart_while_kafka_down(kafka, q_args, env, want_applied, want_top, current_at):
    """Kafka down; RESTARTS starts of the query-service, each stopped by SIGTERM or kill -9 in turn."""
    kafka.kill9()
    for i in range(RESTARTS):
        q = h.Service("query", q_args, env=env)
        try:
            # Past the first probe, which fails: the state a snapshot would now take is the one Kafka-less start-up
            # holds, the case that lost the offsets.
            h.wait_until(lambda: "not reached yet" not in (q.data("/status")[0]["kafka_error"] or "not reached yet"),
                         20, 0.2, "the first probe without Kafka")
            st = q.data("/status")[0]
            h.check_eq(st["events_applied"], want_applied, f"restart {i + 1} with Kafka down: events applied")
            h.check_eq(q.data("/top10_source_airport"), want_top, f"restart {i + 1}: the restored views are served")
            # Ready: the last state is what there is to serve, and it says how old it is.
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 10, 0.2, f"restart {i + 1}: ready on its snapshot")
            age = check_state_age(q, current_at, f"restart {i + 1}")
        finally:
            sig = signal.SIGTERM if i % 2 == 0 else signal.SIGKILL
            if sig == signal.SIGTERM:
                h.check_eq(q.stop(), 0, f"restart {i + 1}: exit status after SIGTERM")
            else:
                q.kill9()
        print(f"restart {i + 1} with Kafka down: {want_applied} events restored, {age} s old, stopped by "
              f"{'SIGTERM' if sig == signal.SIGTERM else 'kill -9'}")
    kafka.start()


def caught_up_and_exact(kafka, topic, q_args, env):
    """Starts the query-service against the running broker and checks its views against the topic's content;
    returns its /top10_source_airport and when it stopped (its state was current until then)."""
    delivered = h.kcat_count(topic, bootstrap_servers=kafka.bootstrap)
    q = h.Service("query", q_args, env=env)
    try:
        h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, 0.2, "query-service ready after Kafka came back")
        h.wait_until(lambda: applied(q) >= delivered, 60, 0.2, "the topic applied")
        records = avro_check.topic_records(kafka.bootstrap, topic)
        topic_check.check_views_match_records(q, records, delivered)
        st = q.data("/status")[0]
        h.check_eq(sum(p["next_offset"] for p in st["partitions"]), delivered, "next offsets add up to the topic")
        print(f"after Kafka came back: {st['events_applied']} events applied for {delivered} on the topic, "
              f"{len(st['partitions'])} partition(s)")
        h.wait_until(lambda: q.data("/status")[0]["state_age_seconds"] == 0, 10, 0.2, "the views current")
        top = q.data("/top10_source_airport")
    finally:
        h.check_eq(q.stop(), 0, "exit status")
    return top, time.time()


def main():
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        topic = h.unique_topic("restart-down")
        h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)
        q_args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
                  "--results-dir", tempfile.mkdtemp(), "--snapshot-interval-ms", "300"]
        gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]

        first = h.produce_routes(gw_args, env)
        h.check_eq(first, 66765, "routes.dat's events delivered")
        h.check_eq(h.kcat_count(topic, bootstrap_servers=kafka.bootstrap), first, "events on the topic")

        # 1. The state of a service that read the whole topic, then restarts with Kafka down.
        q = h.Service("query", q_args, env=env)
        try:
            h.wait_until(lambda: applied(q) == first, 60, 0.2, "the topic applied")
            top = q.data("/top10_source_airport")
            h.check_eq(top[0], {"count": 915, "source_airport": "ATL"}, "ATL first")
            h.wait_until(lambda: q.data("/status")[0]["state_age_seconds"] == 0, 10, 0.2, "the views current")
        finally:
            h.check_eq(q.stop(), 0, "exit status")
        stopped_at = time.time()
        restart_while_kafka_down(kafka, q_args, env, first, top, stopped_at)
        after, stopped_at = caught_up_and_exact(kafka, topic, q_args, env)
        h.check_eq(after, top, "views after Kafka came back")

        # 2. A partition added (and written to) while the query-service is down, then restarts with Kafka down.
        h.add_partitions(topic, 4, bootstrap_servers=kafka.bootstrap)
        # A new gateway: its metadata knows the fourth partition at once.
        success = h.produce_routes(gw_args, env, limit=1000)
        total = h.kcat_count(topic, bootstrap_servers=kafka.bootstrap)
        h.check_eq(total, first + success, "events on the topic")
        low, high = h.partition_offsets(topic, 3, bootstrap_servers=kafka.bootstrap)
        h.check(low == 0 and high > 0, f"the new partition holds events ({low}..{high})")
        restart_while_kafka_down(kafka, q_args, env, first, top, stopped_at)
        caught_up_and_exact(kafka, topic, q_args, env)


if __name__ == "__main__":
    main()
