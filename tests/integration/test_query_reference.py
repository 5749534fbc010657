"""Reference data joined into the views. The gateway publishes airports.dat, airlines.dat and planes.dat to
compacted topics at start; after /produce the joined views equal what the files and routes.dat give, computed
here independently (Python's csv module, the seed's parsing rules, a haversine of our own). A correction
published later (kcat) changes the joined views without a restart, a tombstone deletes a code (its rows stay,
unmatched), POST /reference publishes the files again, and a restarted query-service reads the tables again."""
import collections
import csv
import json
import math
import os
import tempfile
import time

import avro_check
import harness as h


def read_table(path, codes_of, rank_of=lambda row: 0):
    """{code: row} of an OpenFlights file: each row under each of its codes; the best rank, then the first row.
    Fields are strings, None for OpenFlights' \\N."""
    best = {}
    with open(path, encoding="utf-8", newline="") as f:
        for line_no, row in enumerate(csv.reader(f)):
            row = [None if v == "\\N" else v for v in row]
            for code in codes_of(row):
                key = (rank_of(row), line_no)
                if code not in best or key < best[code][0]:
                    best[code] = (key, row)
    return {code: row for code, (_, row) in best.items()}


def is_code(s, n):
    return s is not None and len(s) == n and s.isalnum() and s.isascii()


def airport_codes(row):
    if len(row) < 8:
        return []
    try:
        float(row[6]), float(row[7]), int(row[0])
    except ValueError:
        return []
    return [c for c, n in ((row[4], 3), (row[5], 4)) if is_code(c, n)]


def haversine_km(a, b):
    (lat1, lon1), (lat2, lon2) = a, b
    r = math.pi / 180
    x = (math.sin((lat2 - lat1) * r / 2) ** 2
         + math.cos(lat1 * r) * math.cos(lat2 * r) * math.sin((lon2 - lon1) * r / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(min(x, 1)))


def data_file(name):
    return os.path.join(os.path.dirname(h.routes_file()), name)


def main():
    airports = read_table(data_file("airports.dat"), airport_codes)
    airlines = read_table(data_file("airlines.dat"),
                          lambda r: [c for c, n in ((r[3], 2), (r[4], 3)) if len(r) >= 8 and is_code(c, n)],
                          lambda r: 0 if r[7] == "Y" else 1)
    planes = read_table(data_file("planes.dat"), lambda r: [c for c, n in ((r[1], 3), (r[2], 4)) if is_code(c, n)])
    _, routes, _ = avro_check.read_routes(h.routes_file())
    by_source = collections.Counter(r[2] for r in routes)
    by_airline = collections.Counter(r[0] for r in routes)
    by_plane = collections.Counter(code for r in routes for code in (r[8].split() or [""]))
    pairs = collections.Counter((r[2], r[4]) for r in routes)

    topic = h.unique_topic("reference")
    state = tempfile.mkdtemp(prefix="query-state-")
    q_args = ["--topic", topic, "--state-dir", state, "--results-dir", tempfile.mkdtemp()]
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(),
                               "--results-dir", tempfile.mkdtemp()]) as gw:
        h.wait_until(lambda: gw.data("/reference")[0]["state"] == "finished", 60, what="reference published")
        pub = gw.data("/reference")[0]
        h.check_eq(pub["run"], 1, "publications at start")
        h.check_eq(pub["airports"]["delivered"], len(airports), "airport codes published")
        h.check_eq(pub["airlines"]["delivered"], len(airlines), "airline codes published")
        h.check_eq(pub["planes"]["delivered"], len(planes), "plane codes published")
        for kind in ("airports", "airlines", "planes"):
            h.check_eq(pub[kind]["error"], None, f"{kind} publication error")
            h.check_eq(h.topic_configs(f"{topic}.{kind}").get("cleanup.policy"), "compact", f"{kind} topic policy")

        q = h.Service("query", q_args)
        try:
            h.check(gw.get("/produce", timeout=120)[0] == 200, "/produce")
            h.wait_until(lambda: q.data("/status")[0]["events_applied"] == len(routes), 60, what="all applied")
            h.wait_until(lambda: q.data("/reference")[0]["loaded"], 60, what="tables loaded")
            ref = q.data("/reference")[0]
            h.check_eq(ref["airports"]["entries"], len(airports), "airport codes held")
            h.check_eq(ref["airlines"]["entries"], len(airlines), "airline codes held")
            unmatched = {c: n for c, n in by_source.items() if c not in airports}
            h.check_eq((ref["airports"]["unmatched_codes"], ref["airports"]["unmatched_events"]),
                       (len(unmatched), sum(unmatched.values())), "airports without an entry (codes, events)")

            # ATL, read from the file itself.
            atl = q.data("/source_airports", {"n": "1"})[0]
            h.check_eq((atl["source_airport"], atl["count"], atl["name"], atl["country"]),
                       ("ATL", 915, "Hartsfield Jackson Atlanta International Airport", "United States"), "ATL")
            top = q.data("/source_airports")
            h.check_eq(len(top), len(by_source), "a row per source airport, none dropped")
            for row in top[:25] + [r for r in top if r["source_airport"] in unmatched][:5]:
                a = airports.get(row["source_airport"])
                want = (by_source[row["source_airport"]], a[1] if a else None, a[2] if a else None,
                        a[3] if a else None, float(a[6]) if a else None, float(a[7]) if a else None)
                h.check_eq((row["count"], row["name"], row["city"], row["country"], row["latitude"], row["longitude"]),
                           want, f"source airport {row['source_airport']}")

            want_airlines = sorted(by_airline.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            h.check_eq([(r["airline"], r["count"], r["name"]) for r in q.data("/routes_per_airline", {"n": "5"})],
                       [(c, n, airlines[c][1] if c in airlines else None) for c, n in want_airlines], "airlines")
            want_planes = sorted(by_plane.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            h.check_eq([(r["equipment"], r["count"], r["name"]) for r in q.data("/equipment", {"n": "5"})],
                       [(c, n, planes[c][0] if c in planes else None) for c, n in want_planes], "equipment")
            countries = collections.Counter()
            for code, n in by_source.items():
                countries[airports[code][3] if code in airports else None] += n
            want_countries = sorted(countries.items(), key=lambda kv: (-kv[1], kv[0] is None, kv[0] or ""))[:5]
            h.check_eq([(r["country"], r["count"]) for r in q.data("/routes_per_country", {"n": "5"})],
                       want_countries, "routes per country")
            known = {p: round(haversine_km((float(airports[p[0]][6]), float(airports[p[0]][7])),
                                           (float(airports[p[1]][6]), float(airports[p[1]][7]))), 1)
                     for p in pairs if p[0] in airports and p[1] in airports}
            want_longest = sorted(known.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
            got_longest = q.data("/longest_routes", {"n": "5"})
            h.check_eq([((r["source_airport"], r["destination_airport"]), r["distance_km"]) for r in got_longest],
                       want_longest, "longest routes")

            # A correction, then a tombstone, published by anyone: the joined views follow without a restart.
            h.kcat_produce(f"{topic}.airports", [json.dumps({"name": "Atlanta (corrected)", "country": "Georgia, USA",
                                                             "city": "Atlanta", "latitude": 33.6, "longitude": -84.4}
                                                            ).encode()], key="ATL")
            h.wait_until(lambda: q.data("/source_airports", {"n": "1"})[0]["name"] == "Atlanta (corrected)", 20,
                         what="ATL corrected")
            h._run(h._kcat("-P", "-t", f"{topic}.airports", "-K", ":", "-Z"), 30, "tombstone JFK", input=b"JFK:\n")
            h.wait_until(lambda: q.data("/reference")[0]["airports"]["unmatched_codes"] == len(unmatched) + 1, 20,
                         what="JFK deleted")
            jfk = [r for r in q.data("/source_airports") if r["source_airport"] == "JFK"]
            h.check_eq((len(jfk), jfk[0]["count"], jfk[0]["name"]), (1, by_source["JFK"], None), "JFK kept, unmatched")

            # A value that is not an entry: counted, logged, skipped; the code keeps its entry, nothing stops.
            h.kcat_produce(f"{topic}.airports", [b"not json at all"], key="ORD")
            h.wait_until(lambda: q.data("/reference")[0]["airports"]["invalid"] == 1, 20, what="invalid counted")
            ord_row = [r for r in q.data("/source_airports", {"n": "5"}) if r["source_airport"] == "ORD"][0]
            h.check_eq(ord_row["name"], airports["ORD"][1], "ORD kept its entry")
            h.check_eq(q.metric("query_reference_loaded"), 1.0, "query_reference_loaded")
            h.check_in('query_reference_invalid_total{table="airports"} 1', q.get("/metrics")[2].decode(),
                       "/metrics")

            # The files published again put both back.
            st, _, body = gw.request("POST", "/reference")
            h.check_eq(st, 202, f"POST /reference: {body[:300]!r}")
            h.wait_until(lambda: gw.data("/reference")[0]["state"] == "finished", 60, what="published again")
            h.check_eq(gw.data("/reference")[0]["run"], 2, "publications")
            h.wait_until(lambda: q.data("/source_airports", {"n": "1"})[0]["name"] == atl["name"], 20,
                         what="ATL restored")
            h.wait_until(lambda: q.data("/reference")[0]["airports"]["unmatched_codes"] == len(unmatched), 20,
                         what="JFK restored")

            # A restart reads the tables again; the views come from the snapshot.
            before = q.data("/routes_per_airline", {"n": "50"})
            q.stop()
            q = h.Service("query", q_args)
            h.wait_until(lambda: q.data("/reference")[0]["loaded"], 60, what="tables loaded after restart")
            h.check_eq(q.data("/status")[0]["events_applied"], len(routes), "views restored")
            h.check_eq(q.data("/routes_per_airline", {"n": "50"}), before, "joined view after a restart")
            h.check_eq(q.data("/source_airports", {"n": "1"})[0], atl, "ATL after a restart")

            # Bad input: a clear 400, nothing lost.
            st, _, body = q.get("/longest_routes", params={"n": "0"})
            h.check_eq(st, 400, f"n=0: {body[:200]!r}")
            st, _, body = q.get("/equipment", params={"m": "5"})
            h.check_eq(st, 400, f"unknown parameter: {body[:200]!r}")
            st, _, body = q.get("/reference", params={"x": "1"})
            h.check_eq(st, 400, f"/reference with a parameter: {body[:200]!r}")
            h.check_eq(q.data("/status")[0]["events_applied"], len(routes), "nothing lost")
        finally:
            q.stop()


if __name__ == "__main__":
    main()
