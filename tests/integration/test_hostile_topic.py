"""Hostile messages on the query-service's topic, written with kcat: random bytes, truncated and altered Avro,
events stamped in the future, empty and null values, 1 MB values, null keys. Each is counted as undecodable
(/status and /metrics), changes no view, the service keeps serving, and a good event produced after it is
applied. A valid event with a null or a wrong key is applied: the key only partitions, the value is the event."""
import datetime
import io
import json
import tempfile
import uuid

import avro.io

import avro_check
import harness as h

MB = 1 << 20


def envelope(body):
    doc = json.loads(body)
    h.check(list(doc) == ["data", "error", "message", "statusCode"], f"not an envelope: {body[:200]!r}")
    return doc


def data_of(q, path, params=None):
    st, _, body = q.get(path, params=params)
    h.check(st == 200, f"{path}: {st} {body[:300]!r}")
    return envelope(body)["data"]


def status(q):
    return data_of(q, "/status")[0]


def views(q):
    """Everything the views show."""
    return (data_of(q, "/top10_source_airport", {"n": "1000"}),
            data_of(q, "/top10_equipment_30min_window", {"n": "1000"}),
            data_of(q, "/dump_table"), status(q)["events_applied"], status(q)["late_events"])


def encode(record):
    """Single-object Avro encoding written by python3-avro, independently of the C encoder."""
    buf = io.BytesIO()
    avro.io.DatumWriter(avro_check.SCHEMA).write(record, avro.io.BinaryEncoder(buf))
    return avro_check.HEADER + buf.getvalue()


def fresh_event(airport, ahead_s=0):
    now = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=ahead_s)).strftime(
        "%Y-%m-%d %H:%M:%S.%f")
    return {"id": str(uuid.uuid4()), "datetime": now, "airline": "ZZ", "airline_id": 7, "source_airport": airport,
            "source_airport_id": 9, "destination_airport": "DST", "destination_airport_id": 10, "codeshare": False,
            "stops": 0, "equipment": "HST"}


def produce(topic, values, key=None, extra=()):
    """Each bytes value as one message: kcat -P with one file per message (key None: a null key)."""
    with tempfile.TemporaryDirectory(prefix="hostile-topic-") as tmp:
        paths = []
        for i, value in enumerate(values):
            paths.append(f"{tmp}/{i:05d}")
            with open(paths[-1], "wb") as f:
                f.write(value)
        argv = ["-P", "-t", topic, "-X", "acks=all", "-X", f"message.max.bytes={3 * MB}", *extra]
        if key is not None:
            argv += ["-k", key]
        h._run(h._kcat(*argv, *paths), 60, f"produce to {topic}")


def produce_lines(topic, text, extra=()):
    """kcat -P -K: from stdin, "key:value" per line: the way to send an empty value (or with -Z a null one)."""
    h._run(h._kcat("-P", "-t", topic, "-K", ":", "-X", "acks=all", *extra), 60, f"produce to {topic}", input=text)


def main():
    topic = h.unique_topic("hostile-topic")
    # Room for a 1 MB value (the broker's default limit is about 1 MB).
    h.create_topic(topic, partitions=3, config={"max.message.bytes": str(3 * MB)})
    routes_dir = tempfile.mkdtemp(prefix="hostile-topic-data-")
    with open(h.routes_file(), "rb") as f:
        first = f.read(4096).split(b"\n")[0].rstrip(b"\r")
    with open(f"{routes_dir}/one.dat", "wb") as f:
        f.write(first + b"\n")
    gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--data-dir", routes_dir,
               "--results-dir", tempfile.mkdtemp()]
    q_args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(), "--results-dir", tempfile.mkdtemp()]
    with h.Service("gateway", gw_args) as gw, h.Service("query", q_args) as q:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="query-service ready")
        st, _, body = gw.get("/produce", params={"limit": "300"})
        h.check(st == 200, f"/produce: {body[:300]!r}")
        h.wait_until(lambda: status(q)["events_applied"] > 0 and status(q)["lag"] == 0, 60, what="events applied")
        valid = avro_check.consume_binary(h.bootstrap(), topic)[0][3]
        rec = avro_check.decode(valid)  # a message of the gateway, checked by the independent decoder
        header = valid[:10]
        h.check(header == avro_check.HEADER, "gateway header")

        def varint(n):
            z = (n << 1) ^ (n >> 63)
            out = b""
            while True:
                b = z & 0x7F
                z >>= 7
                if z:
                    out += bytes([b | 0x80])
                else:
                    return out + bytes([b])

        def avro_str(b):
            return varint(len(b)) + b

        dt = rec["datetime"].encode()
        cases = [
            ("random bytes", lambda: produce(topic, [bytes((i * 37 + j) % 256 for j in range(1 + i * 13))
                                                     for i in range(40)], key="rnd"), 40),
            ("marker then random bytes", lambda: produce(topic, [b"\xc3\x01" + bytes(range(200))]), 1),
            ("truncated Avro (half of a gateway message)", lambda: produce(topic, [valid[:len(valid) // 2]]), 1),
            ("Avro missing its last byte", lambda: produce(topic, [valid[:-1]]), 1),
            ("truncated header", lambda: produce(topic, [valid[:6]]), 1),
            ("wrong fingerprint", lambda: produce(topic, [valid[:2] + bytes([valid[2] ^ 0xFF]) + valid[3:]]), 1),
            ("wrong marker", lambda: produce(topic, [b"\xc3\x02" + valid[2:]]), 1),
            ("trailing byte", lambda: produce(topic, [valid + b"\x00"]), 1),
            ("datetime not a datetime", lambda: produce(topic, [valid.replace(dt, b"x" * len(dt))]), 1),
            ("string length 2^62", lambda: produce(topic, [header + varint(1 << 62) + b"abc"]), 1),
            ("negative string length", lambda: produce(topic, [header + varint(-5) + b"abc"]), 1),
            ("int beyond 32 bits", lambda: produce(topic, [header + avro_str(b"id") + avro_str(dt) + avro_str(b"ZZ")
                                                           + b"\xff\xff\xff\xff\x7f" + b"\x00" * 20]), 1),
            ("invalid UTF-8 in a string", lambda: produce(topic, [valid.replace(rec["source_airport"].encode(),
                                                                               b"\xff" * len(rec["source_airport"]))]), 1),
            ("1 MB of random-looking bytes", lambda: produce(topic, [bytes(range(256)) * (MB // 256)]), 1),
            ("1 MB value after a valid header", lambda: produce(topic, [header + b"\x02" * MB]), 1),
            ("1 MB string in a valid record", lambda: produce(topic, [header + varint(MB) + b"a" * MB]), 1),
            # Valid events stamped in the future would move the watermark and make every later event late.
            ("event stamped 9999-12-31", lambda: produce(topic, [encode(dict(fresh_event("FUT"),
                                                                             datetime="9999-12-31 23:59:59.999999"))]), 1),
            ("event stamped 1 hour ahead", lambda: produce(topic, [encode(fresh_event("FUT", ahead_s=3600))]), 1),
            ("empty value", lambda: produce_lines(topic, b"k:\n"), 1),
            ("null value", lambda: produce_lines(topic, b"k:\n", ["-Z"]), 1),
            ("null key and null value", lambda: produce_lines(topic, b":\n", ["-Z"]), 1),
            ("null key, garbage value", lambda: produce(topic, [b"garbage"]), 1),
        ]
        undecodable = status(q)["undecodable_messages"]
        h.check(undecodable == 0, f"undecodable at start: {undecodable}")
        for i, (what, send, count) in enumerate(cases):
            before = views(q)
            send()
            undecodable += count
            h.wait_until(lambda: status(q)["undecodable_messages"] == undecodable and status(q)["lag"] == 0, 30,
                         what=f"{what}: counted as undecodable")
            h.check(q.metric("query_undecodable_messages_total") == undecodable, f"{what}: /metrics counter")
            h.check(views(q) == before, f"{what}: a view changed")
            h.check(q.get("/healthz")[0] == 200 and q.get("/readyz")[0] == 200, f"{what}: not serving")
            # A good event after it is applied: written by python3-avro, its own airport, its own id.
            good = fresh_event(f"H{i:02d}")
            produce(topic, [encode(good)], key=good["source_airport"])
            h.wait_until(lambda: status(q)["events_applied"] == before[3] + 1, 30, what=f"{what}: good event applied")
            h.check(data_of(q, "/dump_table")[-1]["id"] == good["id"], f"{what}: the good event is the newest row")
            h.check({"count": 1, "source_airport": good["source_airport"]} in
                    data_of(q, "/top10_source_airport", {"n": "1000"}), f"{what}: the good event is counted")
            h.check(status(q)["undecodable_messages"] == undecodable, f"{what}: the good event counted as undecodable")
            print(f"{what}: undecodable, views unchanged, next good event applied", flush=True)

        # Within --max-future-seconds (300 s by default) a clock ahead of ours is tolerated: applied, not late.
        before = views(q)
        good = fresh_event("SKW", ahead_s=10)
        produce(topic, [encode(good)], key="SKW")
        h.wait_until(lambda: status(q)["events_applied"] == before[3] + 1, 30, what="event 10 s ahead applied")
        h.check(status(q)["late_events"] == before[4] and status(q)["undecodable_messages"] == undecodable,
                "event 10 s ahead: late or undecodable")
        h.check(data_of(q, "/dump_table")[-1]["id"] == good["id"], "event 10 s ahead: newest row")

        # A valid event is applied whatever its key: null, or not its source airport.
        for what, key in (("null key", None), ("wrong key", "ZZZZ")):
            before = views(q)
            good = fresh_event("K" + what[0].upper() + "K")
            produce(topic, [encode(good)], key=key)
            h.wait_until(lambda: status(q)["events_applied"] == before[3] + 1, 30, what=f"valid event, {what}: applied")
            h.check(data_of(q, "/dump_table")[-1]["id"] == good["id"], f"valid event, {what}: newest row")
            h.check(status(q)["undecodable_messages"] == undecodable, f"valid event, {what}: counted as undecodable")

        # And the gateway's own events still flow through.
        before = status(q)["events_applied"]
        st, _, body = gw.get("/produce", params={"file": "one.dat"})
        h.check(st == 200, f"/produce one line: {body[:300]!r}")
        h.wait_until(lambda: status(q)["events_applied"] == before + 1, 30, what="gateway event applied")
        h.check("undecodable_message" in q.log(), "undecodable messages logged")
        h.check(q.running() and gw.running(), "both services still running")
    h.check(q.proc.returncode == 0, f"query-service exit code {q.proc.returncode}")


if __name__ == "__main__":
    main()
