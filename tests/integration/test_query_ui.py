"""The dashboard (issue 10, part 2): GET /ui in a real browser, headless Chromium driven over the DevTools protocol
(cdp.py), against both services and a real broker.

- /ui and its files: Content-Type, Cache-Control, a content ETag answered 304, a Content-Security-Policy that
  allows nothing but the service's own origin, 404 for a file that is not one of them.
- The page is opened before anything is produced; after /produce of routes.dat it shows, without a reload and
  within a few seconds, the top source airports of the pull endpoint (ATL 915 first), the events applied (66,765),
  the most recent events (the newest of /dump_table, newest first), the top equipment of the last hour of windows,
  and a map point per source airport with coordinates in /source_airports.
- The page logs no error and asks nothing of any other origin; a screenshot goes to $BUILD_DIR/ui-screenshot.png
  for a person to look at."""
import calendar
import collections
import json
import os
import tempfile
import time
import urllib.parse

import cdp
import harness as h

EVENTS = 66765
# How long the page may take to show what /produce delivered: the streams push within --push-interval-ms, the
# polls come every one to three seconds.
SHOWN_WITHIN_S = 8
TOP_AIRPORTS = 15
TOP_EQUIPMENT = 6


def check_assets(q):
    """The page and its files as HTTP serves them."""
    types = {"/ui": "text/html", "/ui/app.js": "application/javascript", "/ui/charts.js": "application/javascript",
             "/ui/style.css": "text/css", "/ui/favicon.svg": "image/svg+xml"}
    for path, want in types.items():
        status, headers, body = q.get(path)
        h.check_eq(status, 200, f"GET {path}")
        h.check(headers.get("content-type", "").startswith(want), f"{path}: content-type {headers.get('content-type')}")
        h.check_eq(headers.get("cache-control"), "no-cache", f"{path}: cache-control")
        h.check_eq(headers.get("x-content-type-options"), "nosniff", f"{path}: x-content-type-options")
        h.check(len(body) > 100, f"{path}: {len(body)} bytes")
        etag = headers.get("etag")
        h.check(etag and etag.startswith('W/"'), f"{path}: etag {etag!r}")
        status, headers2, body = q.get(path, headers={"If-None-Match": etag})
        h.check_eq((status, body, headers2.get("etag")), (304, b"", etag), f"{path}: conditional GET")
    csp = q.get("/ui")[1].get("content-security-policy", "")
    for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self'", "style-src 'self'"):
        h.check_in(directive, csp, "/ui content-security-policy")
    page = q.get("/ui")[2].decode()
    h.check("<script>" not in page and "style=" not in page, "no inline script or style (the CSP allows none)")
    h.check("http://" not in page.replace("http://www.w3.org", "") and "https://" not in page,
            "the page names no other origin")
    status, _, body = q.get("/ui/missing.js")
    h.check(status == 404 and json.loads(body)["error"] is True, f"/ui/missing.js: {status}")
    h.check_eq(q.get("/ui/app.js", headers={"Accept-Encoding": "gzip"})[1].get("content-encoding"), "gzip",
               "app.js compressed for a browser")


def page_state(page):
    """What the page shows, read from its DOM (the elements carry their raw values in data-* attributes)."""
    return page.evaluate("""(() => {
      const tile = (m) => document.querySelector(`#health [data-metric="${m}"]`).dataset.value || null;
      return {
        bars: [...document.querySelectorAll('#airports li')].map((li) => ({
          airport: li.dataset.airport, count: Number(li.dataset.count),
          text: li.querySelector('.code').textContent + ' ' + li.querySelector('.count').textContent})),
        applied: tile('events_applied'),
        lag: tile('lag'),
        events: [...document.querySelectorAll('#events tbody tr')].map((tr) => tr.dataset.id),
        equipment: [...document.querySelectorAll('#windows-legend .key[data-equipment]')]
          .map((k) => k.dataset.equipment),
        series: document.querySelectorAll('#windows-chart .series').length,
        seriesPoints: Object.fromEntries([...document.querySelectorAll('#windows-chart .series')].map((g) =>
          [g.dataset.equipment, [...g.querySelectorAll('circle[data-count]')].map((c) => Number(c.dataset.count))])),
        points: document.querySelectorAll('#map circle.airport').length,
        links: Object.fromEntries([...document.querySelectorAll('#links li')]
          .map((li) => [li.dataset.link, li.dataset.state])),
        marker: window.__not_reloaded === true,
      };
    })()""")


def expected_equipment(q):
    """The top equipment over the last hour of windows, by the dashboard's rule: the summed counts of the top
    1,000 (window, equipment) rows, count desc then equipment asc."""
    rows = q.data("/top10_equipment_30min_window", {"n": "1000"})
    ends = [w["end"] for w in q.data("/windows")] + [r["end"] for r in rows]
    latest = max(calendar.timegm(time.strptime(e, "%Y-%m-%d %H:%M:%S")) for e in ends)
    totals = collections.Counter()
    for r in rows:
        if calendar.timegm(time.strptime(r["end"], "%Y-%m-%d %H:%M:%S")) > latest - 3600:
            totals[r["equipment"]] += r["count"]
    return [e for e, _ in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_EQUIPMENT]]


def main():
    cdp.find_chromium()  # no browser: fail at once, saying what to install
    topic = h.unique_topic("ui")
    gw_args = ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tempfile.mkdtemp()]
    q_args = ["--topic", topic, "--state-dir", tempfile.mkdtemp(), "--results-dir", tempfile.mkdtemp(),
              "--push-interval-ms", "250"]
    screenshot = os.path.join(h.build_dir(), "ui-screenshot.png")
    with h.Service("gateway", gw_args) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        with h.Service("query", q_args) as q:
            h.wait_until(lambda: q.get("/readyz")[0] == 200, 60, what="query-service ready on an empty topic")
            check_assets(q)
            h.check_in("GET /ui", q.data("/"), "the welcome answer lists /ui")
            origin = f"http://{q.host}:{q.port}"
            with cdp.Browser(width=1440, height=1000) as browser:
                page = browser.page()
                page.enable("Page", "Runtime", "Log", "Network")
                page.navigate(q.url("/ui"))
                page.evaluate("window.__not_reloaded = true")
                # Every feed connected before anything is produced: what follows arrives live.
                h.wait_until(lambda: set(page_state(page)["links"].values()) == {"live"}, 15, 0.2,
                             "every stream and poll of the page live")
                # Drawing is throttled: the first answers show a moment after their feed went live.
                empty = lambda: (lambda st: (st["bars"], st["applied"], st["events"]))(page_state(page))  # noqa: E731
                h.wait_until(lambda: empty() == ([], "0", []), 15, 0.2, "the page empty at first")

                status, _, body = gw.get("/produce", timeout=120)
                h.check(status == 200, f"/produce: {status} {body[:300]!r}")
                summary = {k: v for item in json.loads(body)["data"] for k, v in item.items()}
                h.check_eq(summary["Total success"], EVENTS, "events delivered")
                produced = time.monotonic()

                def shows_atl():
                    state = page_state(page)
                    bars = state["bars"]
                    return bars and bars[0]["airport"] == "ATL" and bars[0]["count"] == 915 and state
                state = h.wait_until(shows_atl, SHOWN_WITHIN_S, 0.2, "the bar chart showing ATL 915 first")
                took = time.monotonic() - produced
                h.check_eq(state["bars"][0]["text"], "ATL 915", "the first bar's text")
                h.wait_until(lambda: page_state(page)["applied"] == str(EVENTS), SHOWN_WITHIN_S, 0.2,
                             "the health panel showing 66,765 events applied")
                h.check_eq(q.data("/status")[0]["events_applied"], EVENTS, "events applied")
                state = page_state(page)
                want_bars = q.data("/top10_source_airport", {"n": str(TOP_AIRPORTS)})
                h.check_eq([(b["airport"], b["count"]) for b in state["bars"]],
                           [(r["source_airport"], r["count"]) for r in want_bars], "bars = /top10_source_airport")
                h.check_eq(state["lag"], "0", "lag shown once caught up")

                # The newest events, newest first: the last rows of /dump_table (consumption order), reversed.
                newest = [r["id"] for r in q.data("/dump_table", {"offset": str(EVENTS - 20)})][::-1]
                h.wait_until(lambda: page_state(page)["events"] == newest, SHOWN_WITHIN_S, 0.2,
                             "the recent events table showing the 20 newest events")

                want_equipment = expected_equipment(q)
                h.check(len(want_equipment) == TOP_EQUIPMENT, f"top equipment {want_equipment}")
                h.wait_until(lambda: page_state(page)["equipment"] == want_equipment, SHOWN_WITHIN_S, 0.2,
                             f"the windows chart's series {want_equipment}")
                h.check_eq(page_state(page)["series"], TOP_EQUIPMENT, "series drawn")
                # Every window held has a point per series, its exact count (/windows?equipment=...), however small.
                held = q.data("/windows", {"equipment": ",".join(want_equipment)})
                want_points = {e: [w["counts"][e] for w in held] for e in want_equipment}
                h.wait_until(lambda: page_state(page)["seriesPoints"] == want_points, SHOWN_WITHIN_S, 0.3,
                             f"the windows chart's points {want_points}")

                # A point per source airport that has coordinates.
                airports = q.data("/source_airports")
                h.check_eq(sum(a["count"] for a in airports), EVENTS, "/source_airports counts every event")
                placed = sum(1 for a in airports if a["latitude"] is not None and a["longitude"] is not None)
                h.check(placed > 3000, f"{placed} source airports with coordinates")
                h.wait_until(lambda: page_state(page)["points"] == placed, SHOWN_WITHIN_S, 0.3,
                             f"the map showing {placed} points")

                state = page_state(page)
                h.check(state["marker"], "the page was not reloaded")
                h.check(all(s == "live" for s in state["links"].values()), f"every feed live: {state['links']}")
                page.pump(0.5)
                h.check_eq(page.errors(), [], "errors the page logged")
                foreign = [u for u in page.requested_urls()
                           if not u.startswith(origin + "/") and not u.startswith("data:")]
                h.check_eq(foreign, [], "requests to anywhere but the service")
                paths = {urllib.parse.urlsplit(u).path for u in page.requested_urls()}
                h.check({"/ui", "/ui/app.js", "/ui/charts.js", "/ui/style.css"} <= paths, f"assets loaded: {paths}")
                size = page.screenshot(screenshot)
                h.check(size > 20000, f"screenshot of {size} bytes")
    print(f"ok: the dashboard showed ATL 915 {took:.1f} s after /produce answered, {placed} airports on the map, "
          f"no error; screenshot {screenshot}")


if __name__ == "__main__":
    main()
