"""Partition leaders killed (kill -9) in a 3-broker cluster (replication 3, min.insync.replicas 2) while the
idempotent, acks=all gateway produces, each restarted later: no acknowledged event is lost and none is written
twice (every id on the topic is unique and there are exactly as many as the gateway says were delivered, read
with the independent decoder), and a query-service reading through the failovers holds the same counts."""
import collections
import json
import sys
import tempfile
import time

import avro_check
import harness as h

RATE = 4000       # events/s: the replay spans both failovers without making the topic slow to decode
ROUNDS = 2        # leaders killed one after the other (two brokers down at once would lose the ISR quorum)
PROGRESS = 2000   # deliveries required between the steps of a round


def main():
    topic = h.unique_topic("fault-leader")
    t_begin = time.monotonic()
    with h.KafkaCluster() as cluster:
        boot = cluster.bootstrap
        print(f"cluster {boot} up in {time.monotonic() - t_begin:.1f} s")
        env = {"KAFKA_BOOTSTRAP_SERVERS": boot}
        with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir",
                                   tempfile.mkdtemp(), "--partitions", "3", "--replication-factor", "3",
                                   # librdkafka's idempotence states (PID, drain, epoch bump): a few lines a failover
                                   "--log-level", "debug", "-X", "debug=eos"],
                       env=env) as gw, \
                h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
                                    "--results-dir", tempfile.mkdtemp()], env=env) as q:
            h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
            md = h.wait_until(lambda: (lambda m: m if len(m) == 3 and all(len(p["isrs"]) == 3 for p in m.values())
                                       else None)(h.topic_metadata(topic, boot)), 60, 0.5, "3 partitions, 3 in sync")
            for p, info in md.items():
                h.check_eq(sorted(info["replicas"]), [1, 2, 3], f"replicas of partition {p}")
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="query-service ready")

            st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": str(RATE)})
            h.check_eq(st, 202, f"async /produce ({body[:300]!r})")
            job_id = json.loads(body)["data"][0]["id"]

            def job():
                return gw.data("/jobs/" + job_id)[0]

            def delivered_past(n):
                try:
                    return h.wait_until(lambda: (lambda j: j if j["delivered"] >= n else None)(job()), 90, 0.2,
                                        f"{n} events delivered")
                except AssertionError:
                    tell_stalled()
                    raise

            def tell_stalled():
                """Whether the job or librdkafka stopped: the job's counts, librdkafka's queue, its idempotence
                log (the eos debug lines) and the gateway's kafka_stalled, before the log tails."""
                queued = [ln for ln in gw.get("/metrics")[2].decode().splitlines()
                          if ln.startswith("ingest_local_queue_depth")]
                eos = [ln for ln in gw.log().splitlines()
                       if ('"librdkafka"' in ln and "FAIL:" not in ln) or '"kafka_stalled"' in ln]
                sys.stderr.write(f"--- stalled: job {json.dumps(job())}\n--- {queued}\n"
                                 f"--- gateway's librdkafka lines (last 40 of {len(eos)}):\n" +
                                 "\n".join(eos[-40:]) + "\n")

            delivered_past(PROGRESS)
            killed = []
            for rnd in range(1, ROUNDS + 1):
                md = h.topic_metadata(topic, boot)
                # The leader of a partition, not a broker killed before if another one leads something.
                leaders = sorted({info["leader"] for info in md.values()} - {-1})
                fresh = [n for n in leaders if n not in killed]
                victim = (fresh or leaders)[0]
                led = sorted(p for p, info in md.items() if info["leader"] == victim)
                at_kill = job()["delivered"]
                cluster.kill9(victim)
                t_kill = time.monotonic()
                killed.append(victim)
                moved = h.wait_until(
                    lambda: (lambda m: m if len(m) == 3 and all(i["leader"] not in (-1, victim) for i in m.values())
                             else None)(h.topic_metadata(topic, boot)), 60, 0.3, f"leaders moved off broker {victim}")
                t_moved = time.monotonic() - t_kill
                delivered_past(job()["delivered"] + PROGRESS)  # production goes on with 2 of 3 in sync
                t_flowing = time.monotonic() - t_kill
                cluster.restart(victim)
                t_back = time.monotonic() - t_kill
                h.wait_until(lambda: all(len(i["isrs"]) == 3 for i in h.topic_metadata(topic, boot).values()), 90,
                             0.5, f"broker {victim} back in sync")
                t_isr = time.monotonic() - t_kill
                print(f"round {rnd}: kill -9 broker {victim} (leader of partitions {led}) at {at_kill} delivered; "
                      f"leaders {[moved[p]['leader'] for p in sorted(moved)]} after {t_moved:.1f} s, "
                      f"+{PROGRESS} delivered by {t_flowing:.1f} s, restarted by {t_back:.1f} s, "
                      f"in sync by {t_isr:.1f} s")
            delivered_past(job()["delivered"] + PROGRESS)

            h.check_eq(gw.delete("/jobs/" + job_id)[0], 200, "DELETE /jobs/{id}")
            final = h.wait_until(lambda: (lambda j: j if j["state"] == "finished" else None)(job()), 120, 0.2,
                                 "the replay stopped")
            delivered, failed = final["delivered"], final["failed"]
            print(f"job: {final['lines']} lines, {delivered} delivered, {failed} failed, "
                  f"{final['transform_errors']} transform errors; delivery error {final['delivery_error']!r}")
            h.check_eq(failed, 0, "delivery failures (the ISR quorum was kept throughout)")
            h.check_eq(delivered + failed + final["transform_errors"] + final["schema_errors"], final["lines"],
                       "every line accounted for")

            # Every value decoded by the independent decoder: each acknowledged event exactly once.
            messages = avro_check.consume_binary(boot, topic)
            ids = collections.Counter(avro_check.decode(v)["id"] for _, _, _, v in messages)
            twice = [i for i, c in ids.items() if c > 1]
            h.check(not twice, f"{len(twice)} id(s) on the topic more than once, e.g. {twice[:3]}")
            h.check_eq(len(messages), delivered, "events on the topic vs delivered (none lost, none extra)")
            h.check_eq(h.kcat_count(topic, bootstrap_servers=boot), delivered, "kcat count")

            h.wait_until(lambda: q.data("/status")[0]["events_applied"] >= delivered, 120, 0.2,
                         "query-service caught up")
            st = q.data("/status")[0]
            h.check_eq(st["events_applied"], delivered, "events applied by the query-service")
            h.check_eq(st["undecodable_messages"], 0, "undecodable messages")
            print(f"{len(messages)} events on the topic, all ids distinct, = delivered = applied; "
                  f"test took {time.monotonic() - t_begin:.1f} s")
            for svc in (gw, q):  # a clean exit after the failovers (and, under ASan, no leak or error report)
                h.check_eq(svc.stop(), 0, f"{svc.kind} exit status")


if __name__ == "__main__":
    main()
