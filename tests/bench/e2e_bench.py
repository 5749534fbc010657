"""End to end: events/s from the start of a replay of 10x routes.dat (/produce) until the query-service has
applied the last event, beside `kcat -P` of the same encoded messages piped through the broker to a `kcat -C`
that exits at the last one. Each run on a topic of its own, both consumers started and connected before the
clock starts; taking turns; medians."""
import os
import subprocess
import tempfile
import time

import bench_util as b  # first: puts tests/integration on sys.path
import harness as h  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "3"))
SCALE = int(os.environ.get("BENCH_E2E_SCALE", "10"))


def ours_once(tmp):
    topic = h.unique_topic("bench-e2e")
    h.create_topic(topic, partitions=3)
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tmp]) as gw, \
            h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(dir=tmp), "--results-dir", tmp,
                                "--snapshot-interval-ms", "600000"]) as q:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        h.wait_until(lambda: gw.data("/reference")[0]["state"] == "finished", 60, what="reference published")
        h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="query-service ready")
        want = SCALE * b.ROUTES_EVENTS
        t0 = time.monotonic()
        st, _, body = gw.get("/produce", params={"async": "1", "loop": "1", "limit": str(SCALE * b.ROUTES_LINES)})
        h.check(st == 202, body)
        while b.applied(q) < want:
            time.sleep(0.002)
        elapsed = time.monotonic() - t0
        h.check_eq(b.applied(q), want, "events applied")
        return want, elapsed, topic


def peer_once(input_path, count):
    topic = h.unique_topic("bench-e2e-kcat")
    h.create_topic(topic, partitions=3)
    consumer = subprocess.Popen(["kcat", "-C", "-b", h.bootstrap(), "-t", topic, "-o", "beginning", "-c", str(count),
                                 "-q", "-f", "%s", "-X", "fetch.wait.max.ms=10"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(2)  # connected and fetching (an empty topic) before the clock starts
    h.check(consumer.poll() is None, "kcat -C waiting")
    t0 = time.monotonic()
    with open(input_path, "rb") as f:
        subprocess.run(b.kcat_producer_argv(h.bootstrap(), topic), stdin=f, check=True, stderr=subprocess.PIPE)
    h.check_eq(consumer.wait(timeout=600), 0, "kcat -C exit")
    return time.monotonic() - t0


def main():
    tmp = tempfile.mkdtemp(prefix="bench-e2e-")
    ours, peer = [], []
    input_path = os.path.join(tmp, "messages.bin")
    count = None
    for i in range(REPS):
        if i % 2 == 1 and count is not None:
            peer.append(count / peer_once(input_path, count))
        n, elapsed, topic = ours_once(tmp)
        ours.append(n / elapsed)
        if count is None:  # the first run's messages are the peer's input, SCALE passes of them
            count = b.write_kcat_input(topic, input_path)
            h.check_eq(count, n, "messages on the topic")
        if i % 2 == 0:
            peer.append(count / peer_once(input_path, count))
    b.figure(f"e2e_{SCALE}x_events_per_s", b.median(ours), "events/s", "kcat -P | broker | kcat -C", b.median(peer))


if __name__ == "__main__":
    main()
