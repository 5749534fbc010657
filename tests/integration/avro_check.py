"""An independent reader of the wire format, built on Debian's python3-avro, not on this project's C code.

It checks the single-object header (C3 01 + CRC-64-AVRO fingerprint of the schema's Parsing Canonical
Form, computed here from the Avro specification) and decodes the body with avro's own DatumReader.
"""
import io
import os
import struct

import avro.io
import avro.schema

SOURCE_DIR = os.environ.get("SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SCHEMA_PATH = os.path.join(SOURCE_DIR, "data", "data_schema.json")

_EMPTY = 0xC15D213AA4D7A795
_TABLE = []
for _i in range(256):
    _fp = _i
    for _ in range(8):
        _fp = (_fp >> 1) ^ (_EMPTY & -(_fp & 1))
    _TABLE.append(_fp)


def crc64_avro(data: bytes) -> int:
    fp = _EMPTY
    for b in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ b) & 0xFF]
    return fp


with open(SCHEMA_PATH) as f:
    SCHEMA = avro.schema.parse(f.read())
CANONICAL = SCHEMA.canonical_form
FINGERPRINT = crc64_avro(CANONICAL.encode())
HEADER = b"\xc3\x01" + struct.pack("<Q", FINGERPRINT)
_READER = avro.io.DatumReader(SCHEMA)


def decode(value: bytes) -> dict:
    """Decodes one message value; raises ValueError when the header is wrong or bytes are left over."""
    if value[:10] != HEADER:
        raise ValueError(f"bad single-object header {value[:10].hex()}, expected {HEADER.hex()}")
    buf = io.BytesIO(value[10:])
    record = _READER.read(avro.io.BinaryDecoder(buf))
    if buf.tell() != len(value) - 10:
        raise ValueError(f"{len(value) - 10 - buf.tell()} trailing bytes")
    return record


def encode(record: dict) -> bytes:
    """One record as a message value: the single-object header, then avro's own binary encoding."""
    buf = io.BytesIO()
    avro.io.DatumWriter(SCHEMA).write(record, avro.io.BinaryEncoder(buf))
    return HEADER + buf.getvalue()


def parse_routes_line(line: str):
    """The seed's rules, written independently: 9 fields, int() on the four ids, codeshare == 'Y'.
    Returns the tuple of the 9 typed fields, or None for a variable type transformation failure."""
    fields = line.split(",")
    if len(fields) != 9:
        return None
    try:
        airline_id, src_id, dst_id, stops = (int(fields[i]) for i in (1, 3, 5, 7))
    except ValueError:
        return None
    return (fields[0], airline_id, fields[2], src_id, fields[4], dst_id, fields[6] == "Y", stops, fields[8])


def record_tuple(rec: dict):
    return (rec["airline"], rec["airline_id"], rec["source_airport"], rec["source_airport_id"],
            rec["destination_airport"], rec["destination_airport_id"], rec["codeshare"], rec["stops"],
            rec["equipment"])


def read_routes(path: str):
    """(all lines, parsed tuples of the good ones, count of bad ones), lines split as Python's text mode does."""
    with open(path, encoding="utf-8", newline=None) as f:
        lines = f.read().splitlines()
    good, bad = [], 0
    for line in lines:
        t = parse_routes_line(line)
        if t is None:
            bad += 1
        else:
            good.append(t)
    return lines, good, bad


def topic_offsets(bootstrap: str, topic: str, timeout: float = 60.0):
    """{partition: (first offset held, next offset to be written)} as the broker answers (kcat -Q with the
    logical timestamps -2 and -1), for every partition of topic ({} when it has none)."""
    import re
    import subprocess
    meta = subprocess.run(["kcat", "-L", "-b", bootstrap, "-t", topic], check=True, capture_output=True,
                          timeout=timeout).stdout.decode()
    partitions = sorted(int(p) for p in re.findall(r"partition (\d+), leader", meta))
    if not partitions:
        return {}

    def query(logical):
        argv = ["kcat", "-Q", "-b", bootstrap]
        for p in partitions:
            argv += ["-t", f"{topic}:{p}:{logical}"]
        out = subprocess.run(argv, check=True, capture_output=True, timeout=timeout).stdout.decode()
        return {int(p): int(o) for p, o in re.findall(r"\[(\d+)\] offset (-?\d+)", out)}
    first, end = query(-2), query(-1)
    return {p: (first[p], end[p]) for p in partitions}


def read_whole_topic(bootstrap: str, topic: str, read, partition_of, timeout: float = 120.0, attempts: int = 3):
    """read() -> records of topic (partition_of(record) their partition), read again until every partition gave at
    least as many as the broker held before the read (kcat -e stops at what it takes for every partition's end;
    this holds it to the broker's count). AssertionError with both counts if it never does."""
    import collections
    held = {p: end - first for p, (first, end) in topic_offsets(bootstrap, topic, timeout).items()}
    got = {}
    for _ in range(attempts):
        records = read()
        got = collections.Counter(partition_of(r) for r in records)
        if all(got[p] >= n for p, n in held.items()):
            return records
    raise AssertionError(f"kcat read {dict(sorted(got.items()))} messages per partition of {topic} in {attempts} "
                         f"tries; the broker holds {held}")


def consume_binary(bootstrap: str, topic: str, timeout: float = 120.0):
    """Every message of topic as (partition, offset, key bytes or None, value bytes or None), read with kcat
    in a binary-safe format: "<partition> <offset> <key length> <key><4-byte big-endian value length><value>",
    and held to the broker's own count of each partition (read_whole_topic)."""
    return read_whole_topic(bootstrap, topic, lambda: _consume_binary_once(bootstrap, topic, timeout),
                            lambda m: m[0], timeout)


def topic_records(bootstrap: str, topic: str):
    """Every event on topic, decoded by this module's own decoder (not the services'): what the views must equal."""
    return [decode(v) for _, _, _, v in consume_binary(bootstrap, topic)]


def _consume_binary_once(bootstrap: str, topic: str, timeout: float):
    import subprocess
    out = subprocess.run(
        # fetch.wait.max.ms: -e exits at the end of every partition, and the broker's default 500 ms wait for
        # more data only delays that.
        ["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q", "-X", "fetch.wait.max.ms=10",
         "-f", "%p %o %K %k%R%s"],
        check=True, capture_output=True, timeout=timeout).stdout
    messages, pos = [], 0
    while pos < len(out):
        fields = []
        for _ in range(3):
            sp = out.index(b" ", pos)
            fields.append(int(out[pos:sp]))
            pos = sp + 1
        partition, offset, key_len = fields
        key = None
        if key_len >= 0:
            key = out[pos:pos + key_len]
            pos += key_len
        (value_len,) = struct.unpack(">i", out[pos:pos + 4])
        pos += 4
        value = None
        if value_len >= 0:
            value = out[pos:pos + value_len]
            pos += value_len
        messages.append((partition, offset, key, value))
    return messages
