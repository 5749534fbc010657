"""The broker frozen (SIGSTOP) under a paced replay: its connections stay open and nothing errors, librdkafka just
waits, so the gateway has to notice by itself. Within --delivery-stall-ms (and its one-second look) it logs
kafka_stalled and ingest_delivery_stalled is 1; once the broker runs again (SIGCONT) it logs kafka_flowing, the
gauge is 0, one stall was counted, and the replay goes on with nothing lost: every line accounted for, every
delivered event on the topic once. A healthy replay before the freeze counts no stall."""
import collections
import json
import os
import signal
import tempfile
import time

import avro_check
import harness as h

RATE = 2000      # events/s: a few seconds of replay hold a few thousand messages in librdkafka during the freeze
STALL_MS = 1000  # --delivery-stall-ms
FROZEN_S = 4     # the freeze, well past STALL_MS and well under the broker's own session timeouts (9 s)


def main():
    topic = h.unique_topic("fault-frozen")
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir",
                                   tempfile.mkdtemp(), "--delivery-stall-ms", str(STALL_MS)], env=env) as gw:
            h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
            st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": str(RATE)})
            h.check_eq(st, 202, f"async /produce ({body[:300]!r})")
            job_id = json.loads(body)["data"][0]["id"]

            def job():
                return gw.data("/jobs/" + job_id)[0]

            h.wait_until(lambda: job()["delivered"] >= RATE * 3, 60, 0.2, "three seconds of replay delivered")
            h.check_eq(gw.metric("ingest_delivery_stalls_total"), 0, "stalls while the broker answers")
            h.check_eq(gw.metric("ingest_delivery_stalled"), 0, "stalled while the broker answers")

            pid = kafka.pid()
            h.check(pid is not None, "the broker's pid")
            os.kill(pid, signal.SIGSTOP)
            t_stop = time.monotonic()
            try:
                h.wait_until(lambda: gw.metric("ingest_delivery_stalled") == 1, STALL_MS / 1000 + 5, 0.1,
                             "ingest_delivery_stalled 1 while the broker is frozen")
                t_told = time.monotonic() - t_stop
                at_stall = job()
                remaining = FROZEN_S - (time.monotonic() - t_stop)
                if remaining > 0:
                    time.sleep(remaining)
            finally:
                os.kill(pid, signal.SIGCONT)
            t_cont = time.monotonic()
            stalled = [json.loads(ln) for ln in gw.log().splitlines() if '"kafka_stalled"' in ln]
            h.check_eq(len(stalled), 1, "kafka_stalled lines during the freeze")
            h.check("waiting, none acknowledged for" in stalled[0]["msg"], f"the stall's sentence: {stalled[0]}")
            print(f"frozen: ingest_delivery_stalled 1 after {t_told:.1f} s ({at_stall['in_flight']} in flight): "
                  f"{stalled[0]['msg']}")

            h.wait_until(lambda: gw.metric("ingest_delivery_stalled") == 0, 30, 0.1, "deliveries again after SIGCONT")
            h.wait_until(lambda: job()["delivered"] >= at_stall["delivered"] + RATE, 60, 0.2,
                         "the replay going on after the freeze")
            flowing = [json.loads(ln) for ln in gw.log().splitlines() if '"kafka_flowing"' in ln]
            h.check_eq(len(flowing), 1, "kafka_flowing lines after the freeze")
            h.check_eq(gw.metric("ingest_delivery_stalls_total"), 1, "stalls counted")
            print(f"running again: kafka_flowing {time.monotonic() - t_cont:.1f} s after SIGCONT: {flowing[0]['msg']}")

            h.check_eq(gw.delete("/jobs/" + job_id)[0], 200, "DELETE /jobs/{id}")
            final = h.wait_until(lambda: (lambda j: j if j["state"] == "finished" else None)(job()), 60, 0.2,
                                 "the replay stopped")
            h.check_eq(final["failed"], 0, "delivery failures")
            h.check_eq(final["delivered"] + final["failed"] + final["transform_errors"] + final["schema_errors"],
                       final["lines"], "every line accounted for")
            ids = collections.Counter(avro_check.decode(v)["id"]
                                      for _, _, _, v in avro_check.consume_binary(kafka.bootstrap, topic))
            h.check_eq(sum(ids.values()), final["delivered"], "events on the topic vs delivered")
            h.check_eq(max(ids.values()), 1, "copies of the most repeated id")
            print(f"{final['delivered']} delivered, each on the topic once")
            h.check_eq(gw.stop(), 0, "gateway exit status")


if __name__ == "__main__":
    main()
