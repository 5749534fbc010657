"""routes.dat through /produce vs kcat -P with the same encoded messages, same broker, same run."""
import json
import os
import tempfile
import time

import bench_util as b  # first: puts tests/integration on sys.path
import avro_check  # noqa: E402
import harness as h  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "5"))
# Producer settings given to both sides, so the comparison is of the producers, not of their defaults.
PRODUCER_PROPS = {"acks": "all", "enable.idempotence": "true", "linger.ms": "5", "batch.num.messages": "10000",
                  "batch.size": "1000000", "queue.buffering.max.messages": "100000"}
DELIM = b"\xfe\xfd\xfc\xfb"  # bytes that never occur in UTF-8 and not in our encoded events (checked)


def main():
    topic = h.unique_topic("bench-ingest")
    peer_topic = h.unique_topic("bench-kcat")
    h.create_topic(peer_topic, partitions=3)
    ours, peer = [], []
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--partitions", "3",
                               "--results-dir", tempfile.mkdtemp(prefix="bench-results-")]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")

        def produce_once():
            t0 = time.monotonic()
            status, _, body = gw.get("/produce", timeout=600)
            elapsed = time.monotonic() - t0
            h.check(status == 200, body)
            summary = {k: v for e in json.loads(body)["data"] for k, v in e.items()}
            return summary["Total success"], elapsed

        # A first pass, not counted: it gives kcat its input, and warms the broker for both sides alike.
        delivered_each, _ = produce_once()

        # The same encoded messages, as kcat -P input: key \t value DELIM.
        msgs = [(key, value) for _, _, key, value in avro_check.consume_binary(h.bootstrap(), topic)][:delivered_each]
        path = os.path.join(tempfile.mkdtemp(prefix="bench-kcat-"), "messages.bin")
        with open(path, "wb") as f:
            for key, value in msgs:
                h.check(DELIM not in value and b"\t" not in key, "delimiter inside a message")
                f.write(key + b"\t" + value + DELIM)
        argv = ["kcat", "-P", "-b", h.bootstrap(), "-t", peer_topic, "-K", "\\t", "-D", "\\xfe\\xfd\\xfc\\xfb"]
        for k, v in PRODUCER_PROPS.items():
            argv += ["-X", f"{k}={v}"]

        kcat_rss = 0.0

        def kcat_once():
            nonlocal kcat_rss
            elapsed, rss, _ = b.run_measured(argv, stdin_path=path)
            kcat_rss = max(kcat_rss, rss)
            return len(msgs) / elapsed

        def ours_once():
            delivered, elapsed = produce_once()
            h.check_eq(delivered, delivered_each, "delivered per pass")
            return delivered / elapsed

        kcat_once()  # kcat's uncounted first run too
        # Turn about, first one side then the other (ABBA), so both meet the broker alike: a fresh broker's JIT
        # and page cache warm up during the runs on this shared 2-core machine.
        for i in range(REPS):
            if i % 2 == 0:
                ours.append(ours_once())
                peer.append(kcat_once())
            else:
                peer.append(kcat_once())
                ours.append(ours_once())
        gateway_rss = b.peak_rss_mb(gw.pid)
        h.check(h.kcat_count(peer_topic) == (REPS + 1) * len(msgs), "kcat delivered every message")

    b.figure("ingest_produce_events_per_s", b.median(ours), "events/s", "kcat -P", b.median(peer))
    b.figure("ingest_gateway_peak_rss", gateway_rss, "MB", "kcat -P peak RSS", kcat_rss, higher_is_better=False)


if __name__ == "__main__":
    main()
