"""`rate` paces a replay: over 10 s the delivered rate stays within 5% of the one asked for."""
import json
import time

import harness as h

RATE = 2000


def progress(gw, job_id):
    return json.loads(gw.get("/jobs/" + job_id)[2])["data"][0]


def main():
    topic = h.unique_topic("rate")
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file()]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        st, _, body = gw.get("/produce", params={"async": "true", "loop": "true", "rate": str(RATE)})
        h.check(st == 202, body)
        job_id = json.loads(body)["data"][0]["id"]
        time.sleep(1.0)  # past the first batch
        t0, n0 = time.monotonic(), progress(gw, job_id)["lines"]
        time.sleep(10.0)
        t1, n1 = time.monotonic(), progress(gw, job_id)["lines"]
        measured = (n1 - n0) / (t1 - t0)
        print(f"asked {RATE}/s, measured {measured:.1f}/s over {t1 - t0:.2f} s")
        h.check(abs(measured - RATE) <= 0.05 * RATE, f"rate {measured:.1f}/s is not within 5% of {RATE}/s")
        gw.request("DELETE", "/jobs/" + job_id)
        h.wait_until(lambda: progress(gw, job_id)["state"] == "finished", 30, what="job finishes")
        final = progress(gw, job_id)
        h.check(final["failed"] == 0 and final["in_flight"] == 0, final)
        h.check_eq(h.kcat_count(topic), final["delivered"], "events on the topic vs delivered")


if __name__ == "__main__":
    main()
