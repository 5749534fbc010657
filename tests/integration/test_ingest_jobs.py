"""The replay job API and the gateway's answers to bad requests and hostile files, against the real broker."""
import json
import os
import shutil
import tempfile
import time

import avro_check
import harness as h


def envelope(body):
    doc = json.loads(body)
    h.check(set(doc) == {"data", "error", "message", "statusCode"}, f"not an envelope: {body[:200]!r}")
    return doc


def expect_error(gw, method, path, status, fragment, params=None, data=None):
    st, _, body = gw.request(method, path, params=params, data=data)
    doc = envelope(body)
    h.check(st == status and doc["statusCode"] == status and doc["error"] is True,
            f"{method} {path} {params}: {st} {body[:300]!r}, expected {status}")
    h.check(fragment in doc["message"], f"{method} {path} {params}: message {doc['message']!r} lacks {fragment!r}")


def summary(body):
    doc = envelope(body)
    return {k: v for entry in doc["data"] for k, v in entry.items()}


def main():
    topic = h.unique_topic("jobs")
    data_dir = tempfile.mkdtemp(prefix="ingest-data-")
    shutil.copy(h.routes_file(), os.path.join(data_dir, "routes.dat"))
    with open(h.routes_file(), "rb") as f:
        first = f.read().split(b"\n")[:10]
    files = {
        "empty.dat": b"",
        "crlf.dat": b"\r\n".join(first[:5]) + b"\r\n",
        "no_final_newline.dat": b"\n".join(l.rstrip(b"\r") for l in first[:3]),
        "binary.dat": bytes(range(256)) * 64,
        "long_line.dat": first[0].rstrip(b"\r") + b"\n" + b"A" * (1 << 20) + b"\n" + first[1].rstrip(b"\r") + b"\n",
        "non_utf8.dat": b"2B,410,AER,2965,KZN,2990,,0,CR\xff\n",
    }
    for name, content in files.items():
        with open(os.path.join(data_dir, name), "wb") as f:
            f.write(content)
    os.mkdir(os.path.join(data_dir, "a_directory"))

    args = ["--topic", topic, "--routes-file", os.path.join(data_dir, "routes.dat"), "--data-dir", data_dir,
            "--results-dir", tempfile.mkdtemp(prefix="ingest-results-")]
    with h.Service("gateway", args) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")

        # Bad parameters: 400 with the reason, nothing started.
        expect_error(gw, "GET", "/produce", 400, "rate", params={"rate": "abc"})
        expect_error(gw, "GET", "/produce", 400, "rate", params={"rate": "-5"})
        expect_error(gw, "GET", "/produce", 400, "rate", params={"rate": "99999999999999999999999"})
        expect_error(gw, "GET", "/produce", 400, "limit", params={"limit": "0"})
        expect_error(gw, "GET", "/produce", 400, "loop", params={"loop": "maybe"})
        expect_error(gw, "GET", "/produce", 400, "speed", params={"speed": "1"})
        expect_error(gw, "GET", "/produce", 400, "file", params={"file": "../../etc/passwd"})
        expect_error(gw, "GET", "/produce", 400, "file", params={"file": "/etc/passwd"})
        expect_error(gw, "GET", "/produce", 400, "not found", params={"file": "missing.dat"})
        expect_error(gw, "GET", "/produce", 400, "not a regular file", params={"file": "a_directory"})
        # HTTP-level errors are envelopes too.
        expect_error(gw, "GET", "/no/such/path", 404, "/no/such/path")
        expect_error(gw, "DELETE", "/produce", 405, "DELETE")
        expect_error(gw, "GET", "/jobs/0000", 404, "0000")
        st, _, _ = gw.request("POST", "/produce", data=b"x" * (1 << 20))
        h.check(st == 413, f"1 MB body: {st}")
        h.check(gw.get("/healthz")[0] == 200, "still serving after bad requests")

        # limit, and parameters in a POST form body.
        st, _, body = gw.request("POST", "/produce", data=b"limit=100",
                                 headers={"content-type": "application/x-www-form-urlencoded"})
        s = summary(body)
        with open(h.routes_file(), encoding="utf-8") as f:
            first_100 = f.read().splitlines()[:100]
        good_100 = sum(avro_check.parse_routes_line(line) is not None for line in first_100)
        h.check(st == 200 and s["Total count"] == 100 and s["Total success"] == good_100
                and s["Total errors by var transform"] == 100 - good_100, body)

        # Hostile files: clear counts, the service stays up.
        st, _, body = gw.get("/produce", params={"file": "empty.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total count"] == 0 and s["Total success (%)"] == 0.0, body)
        st, _, body = gw.get("/produce", params={"file": "crlf.dat"})
        h.check(st == 200 and summary(body)["Total success"] == 5, body)
        st, _, body = gw.get("/produce", params={"file": "no_final_newline.dat"})
        h.check(st == 200 and summary(body)["Total count"] == 3 and summary(body)["Total success"] == 3, body)
        st, _, body = gw.get("/produce", params={"file": "binary.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total success"] == 0 and s["Total count"] > 0, body)
        h.check(s["Total errors by var transform"] + s["Total errors by invalid schema"] == s["Total count"], body)
        st, _, body = gw.get("/produce", params={"file": "long_line.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total count"] == 3 and s["Total success"] == 2
                and s["Total errors by var transform"] == 1, body)
        st, _, body = gw.get("/produce", params={"file": "non_utf8.dat"})
        s = summary(body)
        h.check(st == 200 and s["Total errors by invalid schema"] == 1 and s["Total errors by invalid schema (%)"] == 100.0,
                body)

        # Job lifecycle: async start (202 + Location), progress, DELETE stops it, it finishes.
        st, headers, body = gw.get("/produce", params={"async": "1", "loop": "1", "rate": "500"})
        doc = envelope(body)
        h.check(st == 202, f"async produce: {st} {body!r}")
        job = doc["data"][0]
        h.check(headers.get("location") == "/jobs/" + job["id"], f"location {headers.get('location')}")
        h.wait_until(lambda: envelope(gw.get("/jobs/" + job["id"])[2])["data"][0]["delivered"] > 0, 30,
                     what="job delivers")
        progress = envelope(gw.get("/jobs/" + job["id"])[2])["data"][0]
        h.check(progress["state"] == "running" and progress["loop"] is True, progress)
        listed = envelope(gw.get("/jobs")[2])["data"]
        h.check(any(j["id"] == job["id"] for j in listed), "job listed in /jobs")
        st, _, body = gw.request("DELETE", "/jobs/" + job["id"])
        h.check(st == 200, body)
        h.wait_until(lambda: envelope(gw.get("/jobs/" + job["id"])[2])["data"][0]["state"] == "finished", 30,
                     what="job finishes after DELETE")
        final = envelope(gw.get("/jobs/" + job["id"])[2])["data"][0]
        h.check(final["in_flight"] == 0 and final["failed"] == 0, final)
        # Lines read = delivered + rejected; nothing lost in between.
        h.check(final["lines"] == final["delivered"] + final["transform_errors"] + final["schema_errors"], final)
        lines_then = final["lines"]
        time.sleep(1)
        h.check(envelope(gw.get("/jobs/" + job["id"])[2])["data"][0]["lines"] == lines_then, "stopped job still reads")

        h.check(gw.get("/healthz")[0] == 200, "gateway still healthy")


if __name__ == "__main__":
    main()
