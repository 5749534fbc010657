"""A reference topic deleted and created again under a running query-service (a user resetting the pipeline):
its table becomes the new topic's, exactly what a replica started afterwards reads, never the old entries with
the new ones on top.

1. Shorter: the airlines topic comes back with 3 entries (the old one had thousands): offsets go backwards.
2. Longer: the planes topic comes back with more messages than the old one had, under codes of its own, produced
   at once: no offset is out of range, the partition is already past where the feed stood.
Then a second query-service, started on the topics as they now are, holds the same tables and joined views.
"""
import json
import tempfile

import harness as h


def reference(q):
    return q.data("/reference")[0]


def recreate(topic):
    partitions = h.topic_partitions(topic)
    h.check(partitions > 0, f"{topic} exists")
    h.delete_topic(topic)
    h.create_topic(topic, partitions, config={"cleanup.policy": "compact"})


def entry(name):
    return json.dumps({"name": name}).encode()


def main():
    topic = h.unique_topic("refreset")
    q_args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
              "--results-dir", tempfile.mkdtemp()]
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                               "--results-dir", tempfile.mkdtemp()]) as gw:
        h.wait_until(lambda: gw.data("/reference")[0]["state"] == "finished", 60, what="reference published")
        pub = gw.data("/reference")[0]
        with h.Service("query", q_args) as q:
            h.check(gw.get("/produce", timeout=120)[0] == 200, "/produce")
            h.wait_until(lambda: reference(q)["loaded"], 60, what="tables loaded")
            h.check_eq(reference(q)["airlines"]["entries"], pub["airlines"]["delivered"], "airline codes held")
            top_airline = q.data("/routes_per_airline", {"n": "1"})[0]
            h.check(top_airline["name"] is not None, f"the top airline is joined: {top_airline}")

            # 1. Shorter.
            recreate(f"{topic}.airlines")
            h.kcat_produce(f"{topic}.airlines", [entry("One")], key="AA")
            h.kcat_produce(f"{topic}.airlines", [entry("Two")], key="BA")
            h.kcat_produce(f"{topic}.airlines", [entry(top_airline["airline"] + " again")], key=top_airline["airline"])
            h.wait_until(lambda: reference(q)["airlines"]["entries"] == 3, 30,
                         what=f"the airlines table is the new topic's 3 entries: {reference(q)['airlines']}")
            airlines = reference(q)["airlines"]
            h.check(airlines["resets"] >= 1, f"the reset is counted: {airlines}")
            h.check_eq(airlines["messages"], 3, "messages read from the new topic")
            h.check_eq(q.data("/routes_per_airline", {"n": "1"})[0]["name"], top_airline["airline"] + " again",
                       "the top airline joined with the new entry")
            logged = [json.loads(line) for line in q.log().splitlines() if line.startswith("{")]
            h.check([e for e in logged if e.get("event") == "reference_reset" and e.get("level") == "error"],
                    f"the reset is logged as an error:\n{q.log_tail()}")
            h.check(q.metric('query_reference_resets_total{table="airlines"}') >= 1, "resets in /metrics")

            # 2. Longer, at once.
            old_messages = reference(q)["planes"]["messages"]
            recreate(f"{topic}.planes")
            count = old_messages + 50
            h._run(h._kcat("-P", "-t", f"{topic}.planes", "-K", ":", "-X", "acks=all"), 60, "produce planes",
                   input=b"".join(b"Z%04d:%s\n" % (i, entry(f"plane {i}")) for i in range(count)))
            h.wait_until(lambda: reference(q)["planes"]["entries"] == count, 30,
                         what=f"the planes table is the new topic's {count} entries: {reference(q)['planes']}")
            top_plane = q.data("/equipment", {"n": "1"})[0]
            h.check_eq(top_plane["name"], None, f"an old plane code is no longer joined: {top_plane}")

            # A replica started now reads the same tables and serves the same joined views.
            with h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
                                     "--results-dir", tempfile.mkdtemp()]) as fresh:
                h.wait_until(lambda: reference(fresh)["loaded"], 60, what="the replica's tables loaded")
                h.wait_until(lambda: fresh.data("/status")[0]["events_applied"] ==
                             q.data("/status")[0]["events_applied"], 60, what="the replica caught up")
                for kind in ("airports", "airlines", "planes"):
                    want, got = reference(q)[kind], reference(fresh)[kind]
                    for field in ("entries", "unmatched_codes", "unmatched_events"):
                        h.check_eq(got[field], want[field], f"{kind} {field}: replica against the live service")
                for path in ("/routes_per_airline", "/equipment", "/source_airports"):
                    h.check_eq(fresh.data(path, {"n": "50"}), q.data(path, {"n": "50"}), f"{path}: replica vs live")
            for line in q.log().splitlines():
                if '"reference_reset"' in line:
                    print(json.loads(line)["msg"])
            print(f"airlines reset to 3 entries, planes to {count}: the live service equals a replica started after")


if __name__ == "__main__":
    main()
