"""Sustained ingest: routes.dat replayed 1x, 10x and 50x through /produce?loop=1&limit=..., against `kcat -P`
producing the same encoded messages (the same number of times) to the same broker, same producer properties, in
one run, taking turns. Prints, per scale, events/s and CPU microseconds per event beside kcat's, so a figure that
moves with the work (start-up, a cache) shows as a cost per event that is not flat."""
import json
import os
import tempfile
import time

import bench_util as b  # first: puts tests/integration on sys.path
import avro_check  # noqa: E402
import harness as h  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "4"))
SCALES = [int(s) for s in os.environ.get("BENCH_SCALES", "1,10,50").split(",")]
# Each side writes to a topic of its own that keeps little: a 50x run is about 400 MB per pass.
TOPIC_CONFIG = {"retention.bytes": str(256 << 20), "segment.bytes": str(64 << 20)}


def cpu_seconds(pid):
    """utime + stime of a running process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    topic = h.unique_topic("bench-ingest")
    peer_topic = h.unique_topic("bench-kcat")
    h.create_topic(topic, partitions=3, config=TOPIC_CONFIG)
    h.create_topic(peer_topic, partitions=3, config=TOPIC_CONFIG)
    kcat_argv = b.kcat_producer_argv(h.bootstrap(), peer_topic)
    props = [arg for k, v in b.PRODUCER_PROPS.items() for arg in ("-X", f"{k}={v}")]
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--partitions", "3",
                               "--results-dir", tempfile.mkdtemp(prefix="bench-results-"), *props]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")

        def produce(params):
            cpu0, t0 = cpu_seconds(gw.pid), time.monotonic()
            status, _, body = gw.get("/produce", params=params, timeout=1800)
            elapsed, cpu = time.monotonic() - t0, cpu_seconds(gw.pid) - cpu0
            h.check(status == 200, body)
            summary = {k: v for e in json.loads(body)["data"] for k, v in e.items()}
            h.check_eq(summary.get("Total delivery failures", 0), 0, "delivery failures")
            return summary["Total success"], summary["Total count"], elapsed, cpu

        # A first pass, not counted: it gives kcat its input, and warms the broker for both sides alike.
        delivered_once, lines_once, _, _ = produce({})
        msgs = [(key, value) for _, _, key, value in avro_check.consume_binary(h.bootstrap(), topic)][:delivered_once]
        h.check_eq(len(msgs), delivered_once, "messages of the first pass read back")
        one_pass = b.kcat_input(msgs)
        kcat_path = os.path.join(tempfile.mkdtemp(prefix="bench-kcat-"), "messages.bin")

        for scale in SCALES:
            with open(kcat_path, "wb") as f:
                for _ in range(scale):
                    f.write(one_pass)
            want = scale * delivered_once
            ours, peer, ours_cpu, peer_cpu, kcat_rss = [], [], [], [], 0.0

            def ours_once():
                delivered, _, elapsed, cpu = produce({"loop": "1", "limit": str(scale * lines_once)})
                h.check_eq(delivered, want, f"delivered at {scale}x")
                ours.append(delivered / elapsed)
                ours_cpu.append(cpu / delivered * 1e6)

            def kcat_once():
                nonlocal kcat_rss
                t0 = os.times()
                elapsed, rss, _ = b.run_measured(kcat_argv, stdin_path=kcat_path)
                t1 = os.times()
                kcat_rss = max(kcat_rss, rss)
                peer.append(want / elapsed)
                peer_cpu.append((t1.children_user - t0.children_user + t1.children_system - t0.children_system)
                                / want * 1e6)

            kcat_once()  # kcat's uncounted first run at this size (its input into the page cache)
            peer.clear()
            peer_cpu.clear()
            # Turn about (ABBA), so both meet the broker alike on this shared 2-core machine.
            for i in range(REPS):
                first, second = (ours_once, kcat_once) if i % 2 == 0 else (kcat_once, ours_once)
                first()
                second()
            b.figure(f"ingest_{scale}x_events_per_s", b.median(ours), "events/s", "kcat -P", b.median(peer))
            b.figure(f"ingest_{scale}x_cpu_us_per_event", b.median(ours_cpu), "us", "kcat -P", b.median(peer_cpu),
                     higher_is_better=False)
        gateway_rss = b.peak_rss_mb(gw.pid)
    os.unlink(kcat_path)
    b.figure("ingest_gateway_peak_rss", gateway_rss, "MB", "kcat -P peak RSS", kcat_rss, higher_is_better=False)


if __name__ == "__main__":
    main()
