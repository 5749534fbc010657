"""The harness itself against the real broker: metadata answers, topics can be created, kcat round-trips."""
import subprocess

import harness as h


def main():
    meta = subprocess.run(["kcat", "-b", h.bootstrap(), "-L", "-m", "10"], capture_output=True, timeout=30)
    h.check(meta.returncode == 0 and b" broker " in meta.stdout, f"kcat -L: {meta.stdout!r} {meta.stderr!r}")

    a, b = h.unique_topic("smoke"), h.unique_topic("smoke")
    h.check(a != b, "unique_topic repeats itself")

    topic = h.create_topic(a, partitions=3)
    h.check_eq(h.topic_partitions(topic), 3, "partitions")
    h.check_eq(h.kcat_count(topic), 0, "messages on a new topic")

    values = [b"one", b"two\nwith a newline", b"\x00\xff binary", b"four", b"five"]
    h.kcat_produce(topic, values, key="k1")
    h.check_eq(h.kcat_count(topic), 5, "messages after producing 5")
    keys = h.kcat_consume(topic, "%k\n").split("\n")[:-1]
    h.check_eq(keys, ["k1"] * 5, "keys")
    got = h.kcat_consume(topic, "%S:%s|", binary=True)  # %S = value length, so embedded newlines are fine
    for v in values:
        h.check_in(b"%d:%s|" % (len(v), v), got, "round-tripped value")

    h.wait_until(lambda: h.kcat_count(topic) == 5, 5, what="stable count")
    port = h.free_port()
    h.check(1024 < port < 65536, f"free port {port}")


if __name__ == "__main__":
    main()
