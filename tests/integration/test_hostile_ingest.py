"""Hostile files for the ingest-gateway's /produce?file=...: each gets a clear answer (400 with the reason, or
a summary whose counts say what happened, the rejected lines on the dead-letter topic), and a normal replay
right after it still works. The topics are read back with kcat and decoded with python3-avro."""
import collections
import json
import os
import random
import re
import shutil
import tempfile

import avro_check
import harness as h

LINE_MAX = 64 * 1024  # the gateway rejects longer lines (replay_job.c LINE_MAX_BYTES)


def envelope(body):
    doc = json.loads(body)
    h.check(list(doc) == ["data", "error", "message", "statusCode"], f"not an envelope: {body[:200]!r}")
    return doc


def summary(body):
    doc = envelope(body)
    h.check(doc["error"] is False and doc["statusCode"] == 200, f"not a success: {body[:300]!r}")
    return {k: v for entry in doc["data"] for k, v in entry.items()}


def expect_400(gw, params, *fragments, path="/produce"):
    st, _, body = gw.get(path, params=params)
    doc = envelope(body)
    h.check(st == 400 and doc["statusCode"] == 400 and doc["error"] is True and doc["data"] == [],
            f"{params}: {st} {body[:300]!r}, expected 400")
    for fragment in fragments:
        h.check(fragment in doc["message"], f"{params}: message {doc['message']!r} lacks {fragment!r}")


def metrics(gw):
    st, _, body = gw.get("/metrics")
    h.check(st == 200, f"/metrics: {st}")
    out = {}
    for line in body.decode().splitlines():
        m = re.match(r"^(\w+(?:\{[^}]*\})?) (\S+)$", line)
        if m:
            out[m.group(1)] = float(m.group(2))
    return out


class Topic:
    """Reads what was added to a topic since the last call (binary-safe, by partition and offset)."""

    def __init__(self, name):
        self.name = name
        self.seen = set()

    def new(self):
        fresh = [m for m in avro_check.consume_binary(h.bootstrap(), self.name) if (m[0], m[1]) not in self.seen]
        self.seen.update((m[0], m[1]) for m in fresh)
        return fresh

    def headers(self, partition, offset):
        """The headers of one message as a dict (kcat -f %h: k=v,k=v; our header values have no commas)."""
        out = h._run(
            h._kcat("-C", "-t", self.name, "-p", str(partition), "-o", str(offset), "-c", "1", "-e", "-q", "-f", "%h"),
            60, f"headers of {self.name} [{partition}] @{offset}").decode()
        return dict(kv.split("=", 1) for kv in out.split(",") if "=" in kv)


def decoded_tuples(messages):
    return collections.Counter(avro_check.record_tuple(avro_check.decode(v)) for _, _, _, v in messages)


def main():
    topic = h.unique_topic("hostile-ingest")
    data_dir = tempfile.mkdtemp(prefix="ingest-data-")
    results = tempfile.mkdtemp(prefix="ingest-results-")
    with open(h.routes_file(), "rb") as f:
        head = [l.rstrip(b"\r") for l in f.read(200000).split(b"\n")[:200]]  # routes.dat has CRLF lines
    good = [l for l in head if avro_check.parse_routes_line(l.decode()) is not None][:20]
    h.check(len(good) == 20, "20 good lines at the head of routes.dat")
    shutil.copy(h.routes_file(), os.path.join(data_dir, "routes.dat"))

    rnd = random.Random(20240601)
    binary = rnd.randbytes(256 * 1024)
    files = {
        "good.dat": b"\n".join(good[:3]) + b"\n",
        "empty.dat": b"",
        "binary.dat": binary,
        "long_lines.dat": good[3] + b"\n" + b"A" * (1 << 20) + b"\n" + good[4] + b"\n" + b"B" * (1 << 20),
        # The limit is exact: a valid line of 64 KiB (its equipment padded with spaces) is an event, one more
        # byte is rejected.
        "boundary.dat": good[0] + b" " * (LINE_MAX - len(good[0])) + b"\n" + good[1] + b" " * (LINE_MAX + 1 - len(good[1]))
                        + b"\n" + good[2] + b"\n",
        "crlf.dat": b"\r\n".join(good[5:15]) + b"\r\n",
        "lf.dat": b"\n".join(good[5:15]) + b"\n",
        "no_final_newline.dat": b"\n".join(good[15:18]),
        "no_final_newline_cr.dat": good[18] + b"\n" + good[19] + b"\r",
    }
    for name, content in files.items():
        with open(os.path.join(data_dir, name), "wb") as f:
            f.write(content)
    os.mkdir(os.path.join(data_dir, "a_directory"))
    os.mkfifo(os.path.join(data_dir, "a_fifo"))  # opening it would block: must be refused before that
    os.symlink("/etc/passwd", os.path.join(data_dir, "passwd_link"))
    os.symlink("/etc", os.path.join(data_dir, "etc_link"))
    os.symlink("good.dat", os.path.join(data_dir, "good_link"))  # a link inside the directory is fine

    args = ["--topic", topic, "--routes-file", os.path.join(data_dir, "routes.dat"), "--data-dir", data_dir,
            "--results-dir", results]
    events, dead = Topic(topic), Topic(topic + ".dlq")
    good_3 = collections.Counter(avro_check.parse_routes_line(l.decode()) for l in good[:3])

    with h.Service("gateway", args) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")

        def normal(file="good.dat"):
            """A normal replay: 200, 3 events delivered, exactly the 3 lines on the topic, nothing dead-lettered."""
            h.check(gw.get("/healthz")[0] == 200, "healthz after a hostile request")
            st, _, body = gw.get("/produce", params={"file": file})
            s = summary(body)
            h.check(st == 200 and s["Total count"] == 3 and s["Total success"] == 3, f"normal replay: {body!r}")
            h.check(decoded_tuples(events.new()) == good_3, "normal replay: the topic holds the 3 lines")
            h.check(dead.new() == [], "normal replay: nothing dead-lettered")

        normal()
        normal("good_link")

        # Paths that leave the data directory, in every spelling: 400 with the reason, nothing produced.
        for name in ("../../etc/passwd", "/etc/passwd", "../" + os.path.basename(data_dir) + "/good.dat",
                     "a_directory/../../../etc/passwd"):
            expect_400(gw, {"file": name}, "parameter 'file' must name a file inside the data directory")
            normal()
        st, _, body = gw.get("/produce?file=..%2F..%2Fetc%2Fpasswd")
        h.check(st == 400 and "inside the data directory" in envelope(body)["message"], f"%2F-encoded: {body!r}")
        expect_400(gw, {"file": "passwd_link"}, "resolves outside the data directory")
        expect_400(gw, {"file": "etc_link/passwd"}, "resolves outside the data directory")
        normal()
        # Missing, not a regular file, not a name at all.
        expect_400(gw, {"file": "missing.dat"}, "'missing.dat' not found in the data directory")
        expect_400(gw, {"file": "a_directory"}, "'a_directory' is not a regular file")
        expect_400(gw, {"file": "a_fifo"}, "'a_fifo' is not a regular file")
        expect_400(gw, {"file": ""}, "parameter 'file' must be a file name of 1 to 1023 bytes without NUL")
        st, _, body = gw.get("/produce?file=good.dat%00.txt")
        h.check(st == 400 and "without NUL" in envelope(body)["message"], f"NUL in file: {st} {body!r}")
        expect_400(gw, {"file": "x" * 5000}, "parameter 'file' must be a file name of 1 to 1023 bytes")
        h.check(events.new() == [] and dead.new() == [], "refused files produced nothing")
        normal()

        # An empty file: the seed's summary with zero counts. Looping over it is refused up front.
        st, _, body = gw.get("/produce", params={"file": "empty.dat"})
        s = summary(body)
        h.check(st == 200 and s == {"Total count": 0, "Total count (%)": 0.0, "Total success": 0,
                                    "Total success (%)": 0.0, "Total errors by var transform": 0,
                                    "Total errors by var transform (%)": 0.0, "Total errors by invalid schema": 0,
                                    "Total errors by invalid schema (%)": 0.0}, f"empty file: {body!r}")
        expect_400(gw, {"file": "empty.dat", "loop": "1"}, "'empty.dat' is empty")
        expect_400(gw, {"file": "empty.dat", "loop": "1", "async": "1"}, "'empty.dat' is empty")
        h.check(events.new() == [] and dead.new() == [], "empty file produced nothing")
        normal()

        # Random bytes: every line rejected, counted and dead-lettered with its raw bytes; nothing on the topic.
        before = metrics(gw)
        pieces = binary.split(b"\n")
        if pieces[-1] == b"":
            pieces.pop()
        want_dead = collections.Counter(p[:-1] if p.endswith(b"\r") else p for p in pieces)
        st, _, body = gw.get("/produce", params={"file": "binary.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total count"] == len(pieces) and s["Total success"] == 0
                and s["Total success (%)"] == 0.0, f"binary: {body!r}")
        h.check(s["Total errors by var transform"] + s["Total errors by invalid schema"] == len(pieces), body)
        h.check(events.new() == [], "binary: no event on the topic")
        got_dead = dead.new()
        h.check(collections.Counter(v for _, _, _, v in got_dead) == want_dead,
                f"binary: {len(got_dead)} dead letters, want {len(pieces)} raw lines")
        after = metrics(gw)
        rejected = sum(after[k] - before[k] for k in ('ingest_events_rejected_total{reason="transform"}',
                                                      'ingest_events_rejected_total{reason="schema"}'))
        h.check(rejected == len(pieces), f"binary: /metrics counted {rejected} rejections")
        h.check(after["ingest_dead_letters_total"] - before["ingest_dead_letters_total"] == len(pieces), "dead letters")
        normal()

        # 1 MB lines (one ending the file without a newline): each rejected with its reason and its first 64 KiB
        # dead-lettered; the lines around them are produced.
        st, _, body = gw.get("/produce", params={"file": "long_lines.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total count"] == 4 and s["Total success"] == 2
                and s["Total errors by var transform"] == 2, f"long lines: {body!r}")
        h.check(decoded_tuples(events.new()) == collections.Counter(
            avro_check.parse_routes_line(l.decode()) for l in (good[3], good[4])), "long lines: the short ones produced")
        got_dead = sorted(dead.new(), key=lambda m: m[3][:1])
        h.check([v for _, _, _, v in got_dead] == [b"A" * LINE_MAX, b"B" * LINE_MAX], "long lines: dead letters")
        for (partition, offset, _, _), line_no in zip(got_dead, ("2", "4")):
            hdrs = dead.headers(partition, offset)
            h.check(hdrs.get("error", "").startswith("A variable type transformation failed")
                    and f"line {line_no} is longer than {LINE_MAX} bytes" in hdrs["error"]
                    and hdrs.get("line") == line_no and hdrs.get("source") == "long_lines.dat", f"headers {hdrs}")
        normal()

        st, _, body = gw.get("/produce", params={"file": "boundary.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total count"] == 3 and s["Total success"] == 2 and s["Total errors by var transform"] == 1,
                f"64 KiB boundary: {body!r}")
        got = [avro_check.decode(v) for _, _, _, v in events.new()]
        h.check(sorted(len(r["equipment"]) for r in got) == sorted([len(good[2].split(b",")[8]),
                                                                    LINE_MAX - len(good[0]) + len(good[0].split(b",")[8])]),
                "64 KiB boundary: the 64 KiB line is an event with its long equipment")
        got_dead = dead.new()
        h.check(len(got_dead) == 1 and got_dead[0][3] == (good[1] + b" " * LINE_MAX)[:LINE_MAX], "64 KiB + 1 dead-lettered")
        normal()

        # CRLF lines give the same events as LF lines: no '\r' left in the last field.
        st, _, body = gw.get("/produce", params={"file": "crlf.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total count"] == 10 and s["Total success"] == 10, f"crlf: {body!r}")
        crlf_events = events.new()
        st, _, body = gw.get("/produce", params={"file": "lf.dat"})
        h.check(st == 200 and summary(body)["Total success"] == 10, f"lf: {body!r}")
        lf_events = events.new()
        want = collections.Counter(avro_check.parse_routes_line(l.decode()) for l in good[5:15])
        h.check(decoded_tuples(crlf_events) == want and decoded_tuples(lf_events) == want, "CRLF events == LF events")
        h.check(all("\r" not in avro_check.decode(v)["equipment"] for _, _, _, v in crlf_events), "CR left over")
        h.check(sorted(k for _, _, k, _ in crlf_events) == sorted(k for _, _, k, _ in lf_events), "CRLF keys")
        h.check(dead.new() == [], "CRLF: nothing dead-lettered")
        normal()

        # No final newline: the last line is produced too (also when it ends in a lone CR).
        for name, lines in (("no_final_newline.dat", good[15:18]), ("no_final_newline_cr.dat", good[18:20])):
            st, _, body = gw.get("/produce", params={"file": name})
            s = summary(body)
            h.check(st == 200 and s["Total count"] == len(lines) and s["Total success"] == len(lines), f"{name}: {body!r}")
            h.check(decoded_tuples(events.new()) == collections.Counter(
                avro_check.parse_routes_line(l.decode()) for l in lines), f"{name}: events")
            normal()

        # error.txt holds every rejected line in the seed's words; the service is still fully up.
        with open(os.path.join(results, "error.txt"), "rb") as f:
            errors = f.read()
        h.check(errors.count(b"A variable type transformation failed: " + b"A" * LINE_MAX + b"\n") == 1, "error.txt")
        h.check(gw.get("/readyz")[0] == 200, "still ready")
        h.check(gw.running(), "gateway still running")
    h.check(gw.proc.returncode == 0, f"gateway exit code {gw.proc.returncode}")


if __name__ == "__main__":
    main()
