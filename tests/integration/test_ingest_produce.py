"""/produce of the whole routes.dat against the real broker: the seed's summary byte for byte, every
event on the topic and decodable by an independent Avro reader, every rejected line dead-lettered."""
import collections
import json
import os
import re
import tempfile

import avro_check
import harness as h

EXPECTED_SUMMARY = (
    b'{"data":[{"Total count":67663},{"Total count (%)":100.0},{"Total success":66765},'
    b'{"Total success (%)":98.67},{"Total errors by var transform":898},'
    b'{"Total errors by var transform (%)":1.33},{"Total errors by invalid schema":0},'
    b'{"Total errors by invalid schema (%)":0.0}],"error":false,"message":"produce","statusCode":200}\n')

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
EVENT_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


def main():
    topic = h.unique_topic("produce")
    results = tempfile.mkdtemp(prefix="ingest-results-")
    lines, expected, bad = avro_check.read_routes(h.routes_file())
    h.check(len(lines) == 67663 and bad == 898, f"routes.dat reference parse: {len(lines)} lines, {bad} bad")

    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", results]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")

        status, headers, body = gw.get("/produce")
        h.check(status == 200, f"/produce status {status}: {body[:300]!r}")
        h.check(body == EXPECTED_SUMMARY, f"/produce body differs from the seed:\n{body!r}\n{EXPECTED_SUMMARY!r}")
        h.check(headers.get("content-type", "").startswith("application/json"), f"content-type {headers}")

        # The topic holds exactly the delivered events, the dead-letter topic every rejected line.
        h.check(h.kcat_count(topic) == 66765, f"topic count {h.kcat_count(topic)}")
        h.check(h.kcat_count(topic + ".dlq") == 898, f"dead-letter count {h.kcat_count(topic + '.dlq')}")

        # Every message decodes with python3-avro back to the fields of its line; ids are unique UUID v4.
        messages = avro_check.consume_binary(h.bootstrap(), topic)
        h.check(len(messages) == 66765, f"consumed {len(messages)}")
        got = collections.Counter()
        ids = set()
        for partition, offset, key, value in messages:
            rec = avro_check.decode(value)
            h.check(UUID4.match(rec["id"]) is not None, f"id {rec['id']!r} is not a UUID v4")
            h.check(EVENT_TIME.match(rec["datetime"]) is not None, f"datetime {rec['datetime']!r}")
            h.check(key == rec["source_airport"].encode(), f"key {key!r} != source_airport {rec['source_airport']!r}")
            ids.add(rec["id"])
            got[avro_check.record_tuple(rec)] += 1
        h.check(len(ids) == 66765, f"{66765 - len(ids)} duplicate ids")
        want = collections.Counter(expected)
        h.check(got == want, f"decoded events differ from routes.dat: missing {list((want - got).items())[:3]}, "
                             f"extra {list((got - want).items())[:3]}")

        # Dead letters: the raw line as value, and the error/line/source headers.
        dlq = h.kcat_consume(topic + ".dlq", "%h\t%s\n")
        rows = [r for r in dlq.split("\n") if r]
        h.check(len(rows) == 898, f"dead letters read {len(rows)}")
        bad_lines = {line for line in lines if avro_check.parse_routes_line(line) is None}
        for row in rows:
            hdrs, value = row.split("\t", 1)
            h.check(value in bad_lines, f"dead letter {value!r} is not a rejected line of routes.dat")
            h.check("error=A variable type transformation failed" in hdrs, f"dead letter headers {hdrs!r}")
            h.check(re.search(r"line=\d+", hdrs) is not None and "source=" in hdrs, f"dead letter headers {hdrs!r}")

        # results/error.txt in the seed's words.
        with open(os.path.join(results, "error.txt")) as f:
            errors = f.read().splitlines()
        h.check(len(errors) == 898, f"error.txt has {len(errors)} lines")
        h.check(all(e.startswith("A variable type transformation failed: ") for e in errors), errors[:2])

        # /metrics counts what was delivered and rejected.
        status, _, metrics = gw.get("/metrics")
        text = metrics.decode()
        h.check(status == 200 and "ingest_events_produced_total 66765" in text, text[:500])
        h.check('ingest_events_rejected_total{reason="transform"} 898' in text, "transform rejections in /metrics")
        # Every acknowledged message has its latency observed: 66,765 events and 898 dead letters.
        h.check("ingest_produce_ack_latency_seconds_count 67663" in text, "latency histogram count")

        # The seed's GET / welcome is an envelope too.
        status, _, body = gw.get("/")
        doc = json.loads(body)
        h.check(status == 200 and doc["error"] is False and doc["statusCode"] == 200, body)


if __name__ == "__main__":
    main()
