"""Pull queries as HTTP clients expect (issue 10, part 4), over real HTTP against a real broker:

- every view (/top10_source_airport, /top10_equipment_30min_window, /windows, /dump_table) carries a weak ETag;
  If-None-Match with it is answered 304 with no body, for GET and HEAD, also inside a list or as "*"; once the
  views change (new events; for /windows the watermark moving with the clock) the old tag gets a 200 with the new
  answer; a restarted service never answers 304 to a tag of the process before it;
- gzip for clients that send Accept-Encoding: gzip (streamed /dump_table too), the same bytes once decompressed,
  Vary: accept-encoding; nothing compressed for other clients;
- --cors-origin: Access-Control-Allow-Origin and the exposed headers on every answer (errors too), preflight
  requests answered 204; without it, no CORS header and OPTIONS refused as before; a value that is not an origin
  stops start-up with a clear error."""
import gzip
import json
import tempfile
import time

import harness as h

VIEWS = ["/top10_source_airport", "/top10_equipment_30min_window", "/windows", "/dump_table"]
ORIGIN = "http://dash.example:8080"


def applied(q):
    return q.data("/status")[0]["events_applied"]


def conditional(q, path, etag, method="GET"):
    return q.request(method, path, headers={"If-None-Match": etag})


def check_conditional(q, path):
    st, hd, body = q.get(path)
    h.check_eq(st, 200, f"{path} status")
    etag = hd.get("etag", "")
    h.check(etag.startswith('W/"') and etag.endswith('"'), f"{path}: a weak ETag, got {etag!r}")
    h.check_in("x-state-age-seconds", hd, f"{path} headers")
    for method in ("GET", "HEAD"):
        st, hd304, body304 = conditional(q, path, etag, method)
        h.check_eq(st, 304, f"{method} {path} with its own ETag")
        h.check_eq(body304, b"", f"{method} {path}: 304 has no body")
        h.check_eq(hd304.get("etag"), etag, f"{path}: the 304 names the tag")
        h.check_in("x-state-age-seconds", hd304, f"{path}: 304 headers")
    strong = etag[2:]
    for value in (f'"nope", {etag}', strong, "*", f'W/"x,y", {strong}'):
        h.check_eq(conditional(q, path, value)[0], 304, f"{path} If-None-Match: {value}")
    for value in ('W/"nope"', etag[:-2] + '"', etag + "x", ""):
        st, _, again = conditional(q, path, value)
        h.check_eq(st, 200, f"{path} If-None-Match: {value!r}")
        h.check_eq(again, body, f"{path}: the same answer")
    return etag, body


def etags_and_gzip(env, topic):
    args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
            "--results-dir", tempfile.mkdtemp(), "--idle-timeout-seconds", "1", "--grace-seconds", "1"]
    gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
    with h.Service("query", args, env=env) as q:
        sent = h.produce_routes(gw_args, env, limit=3000)
        h.wait_until(lambda: applied(q) == sent, 60, 0.2, "the events applied")
        h.wait_until(lambda: "x-state-age-seconds" in q.get("/status")[1], 10, 0.2, "the state's age known")
        tags = {path: check_conditional(q, path) for path in VIEWS}

        # The watermark follows the clock once every partition is idle: /windows changes with no new event, and
        # its old tag is answered in full.
        def windows_moved():
            st, hd, body = conditional(q, "/windows", tags["/windows"][0])
            return (hd["etag"], body) if st == 200 else None
        wtag, wbody = h.wait_until(windows_moved, 20, 0.2, "/windows changed by the clock alone")
        h.check(json.loads(wbody)["data"] != json.loads(tags["/windows"][1])["data"], "a new /windows answer")
        h.check_eq(conditional(q, "/top10_source_airport", tags["/top10_source_airport"][0])[0], 304,
                   "the counts did not change with the clock")

        # New events: every old tag now gets the new answer.
        more = h.produce_routes(gw_args, env, limit=500)
        h.wait_until(lambda: applied(q) == sent + more, 60, 0.2, "the new events applied")
        for path in VIEWS:
            st, hd, body = conditional(q, path, tags[path][0])
            h.check_eq(st, 200, f"{path} after new events")
            h.check(hd["etag"] != tags[path][0], f"{path}: a new tag")
            h.check_eq(conditional(q, path, hd["etag"])[0], 304, f"{path}: the new tag")
        h.check(json.loads(q.get("/top10_source_airport")[2]) != json.loads(tags["/top10_source_airport"][1]),
                "new counts")

        # gzip, negotiated.
        for path in ("/dump_table", "/top10_equipment_30min_window?n=1000", "/top10_source_airport?n=1000"):
            st, plain_hd, plain = q.get(path)
            h.check("content-encoding" not in plain_hd, f"{path}: not compressed unless asked")
            st, hd, packed = q.get(path, headers={"Accept-Encoding": "gzip"})
            h.check_eq(st, 200, f"{path} gzip status")
            h.check_eq(hd.get("content-encoding"), "gzip", f"{path}: gzip when asked")
            h.check_in("accept-encoding", hd.get("vary", ""), f"{path}: Vary")
            h.check_eq(gzip.decompress(packed), plain, f"{path}: the same bytes once decompressed")
            h.check(len(packed) < len(plain) / 3, f"{path}: {len(packed)} bytes for {len(plain)}")
            h.check_eq(conditional(q, path.split("?")[0], hd["etag"])[0], 304, f"{path}: the gzip answer's tag")
        st, hd, small = q.get("/top10_source_airport", headers={"Accept-Encoding": "gzip"})
        h.check("content-encoding" not in hd, f"a small answer ({len(small)} bytes) is sent as it is")
        old_tag = q.get("/dump_table")[1]["etag"]
        print(f"{sent + more} events: ETags and 304 on {', '.join(VIEWS)}; gzip {len(packed)} bytes for "
              f"{len(plain)} ({path})")

    # A restart restores the same views, but a tag of the process before is never trusted.
    with h.Service("query", args, env=env) as q:
        h.wait_until(lambda: applied(q) == sent + more, 60, 0.2, "restored")
        h.check_eq(conditional(q, "/dump_table", old_tag)[0], 200, "a tag from before the restart")


def cors(env, topic):
    base = ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="query-state-"),
            "--results-dir", tempfile.mkdtemp()]
    with h.Service("query", base + ["--cors-origin", ORIGIN], env=env) as q:
        for path in ("/top10_source_airport", "/status", "/no_such_path"):
            st, hd, _ = q.get(path, headers={"Origin": ORIGIN})
            h.check_eq(hd.get("access-control-allow-origin"), ORIGIN, f"{path} ({st}): allowed origin")
            h.check_in("origin", hd.get("vary", ""), f"{path}: Vary: Origin")
            exposed = hd.get("access-control-expose-headers", "")
            h.check("etag" in exposed and "x-state-age-seconds" in exposed, f"{path}: exposed {exposed!r}")
        st, hd, body = q.request("OPTIONS", "/dump_table", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match"})
        h.check_eq(st, 204, "preflight")
        h.check_eq(body, b"", "preflight body")
        h.check_eq(hd.get("access-control-allow-methods"), "GET, HEAD", "preflight methods")
        h.check_in("if-none-match", hd.get("access-control-allow-headers", ""), "preflight headers")
        h.check_eq(hd.get("access-control-allow-origin"), ORIGIN, "preflight origin")
        h.check_eq(q.request("OPTIONS", "/dump_table")[0], 405, "OPTIONS that is not a preflight")
    with h.Service("query", base, env=env) as q:
        st, hd, _ = q.get("/top10_source_airport", headers={"Origin": ORIGIN})
        h.check("access-control-allow-origin" not in hd, "no CORS unless asked")
        h.check_eq(q.request("OPTIONS", "/dump_table", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "GET"})[0], 405, "no preflight unless asked")
    with h.Service("query", base + ["--cors-origin", "*"], env=env) as q:
        hd = q.get("/top10_source_airport")[1]
        h.check_eq(hd.get("access-control-allow-origin"), "*", "any origin")
        h.check("origin" not in hd.get("vary", ""), "no Vary: Origin for *")
    for bad in ("dash.example", "http://dash.example/ui", "http://a.example\r\nx: y"):
        svc = h.Service("query", base + ["--cors-origin", bad], env=env, wait=False)
        try:
            code = svc.proc.wait(timeout=15)
        except Exception:
            svc.kill9()
            raise
        h.check_eq(code, 1, f"--cors-origin {bad!r}: exit status")
        h.check_in("--cors-origin", svc.log(), f"--cors-origin {bad!r}: the error names the option")
    print("CORS: headers on every answer, preflight answered, off by default, bad origins refused")


def main():
    with h.KafkaBroker() as kafka:
        env = {"KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap}
        topic = h.unique_topic("http-cache")
        h.create_topic(topic, 3, bootstrap_servers=kafka.bootstrap)
        etags_and_gzip(env, topic)
        cors(env, topic)


if __name__ == "__main__":
    main()
