"""The freshness peer: the same path as event-to-view without our code. Messages go at a steady rate into
`kcat -P` (same producer properties as the gateway), through the broker, out of `kcat -C`; each carries the
wall-clock time it was handed to kcat -P, as our events carry the time they are produced, and its latency is
the time it came out of kcat -C minus that, taken by a reader process of its own (not this one, whose writing
loop would delay it)."""
import json
import subprocess
import sys
import time

import bench_util as b
import harness as h

READER = r"""
import json, sys, time
lat = []
for line in sys.stdin.buffer:
    now = time.time()
    stamp, counted = line.split()
    if counted == b"1":
        lat.append(now - float(stamp))
json.dump(lat, sys.stdout)
"""


def kcat_latencies(rate, seconds, warmup):
    """Per-message latencies (s) of the messages sent after warmup seconds, over seconds more, at rate/s."""
    topic = h.unique_topic("bench-fresh-kcat")
    h.create_topic(topic, partitions=3)
    total = int(rate * (warmup + seconds))
    consumer = subprocess.Popen(["kcat", "-C", "-b", h.bootstrap(), "-t", topic, "-o", "end", "-u", "-q",
                                 "-c", str(total), "-f", "%s\n", "-X", "fetch.wait.max.ms=10"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    reader = subprocess.Popen([sys.executable, "-c", READER], stdin=consumer.stdout, stdout=subprocess.PIPE)
    consumer.stdout.close()
    time.sleep(2)  # kcat -C connected, at the end of the empty topic
    argv = b.kcat_producer_argv(h.bootstrap(), topic)  # key\tvalue, each message a line here
    argv[argv.index("-D") + 1] = "\\n"
    producer = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
    start = time.monotonic()
    sent = 0
    while sent < total:
        elapsed = time.monotonic() - start
        due = min(total, int(elapsed * rate) + 1)
        if due > sent:
            now = time.time()
            counted = 1 if elapsed >= warmup else 0
            producer.stdin.write(b"".join(b"k%d\t%.6f %d\n" % (i, now, counted) for i in range(sent, due)))
            producer.stdin.flush()
            sent = due
        time.sleep(0.0005)
    producer.stdin.close()
    h.check_eq(producer.wait(timeout=60), 0, "kcat -P exit")
    h.check_eq(consumer.wait(timeout=60), 0, "kcat -C exit (every message out)")
    out, _ = reader.communicate(timeout=60)
    return json.loads(out)


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]
