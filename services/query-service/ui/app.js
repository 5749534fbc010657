// The live dashboard: what the query-service serves, fed to the drawings of charts.js.
// Live views come over server-sent events (/stream/...); what has no stream is polled, with the ETags the
// service sends, so an unchanged answer costs a 304. Every URL is relative to the page: no other origin is used.
import * as charts from "./charts.js";

const TOP_AIRPORTS = 15;
const TOP_EQUIPMENT = 6;
// The top (window, equipment) rows the chart draws from: the most a view answers.
const WINDOW_ROWS = 1000;
const HOUR_MS = 3600 * 1000;
const RECENT_ROWS = 20;
const MAP_LABELS = 8;
const STATUS_EVERY_MS = 1000;
const WINDOWS_EVERY_MS = 2000;
const MAP_EVERY_MS = 3000;
// The event-to-view latency is read over this span of /metrics samples.
const FRESHNESS_SPAN_MS = 10000;
const RATE_HISTORY = 120;

const $ = (selector) => document.querySelector(selector);

// ---- connection state of each feed, shown in the header -----------------------------------------------------

function setLink(name, state, why) {
  const li = document.querySelector(`#links [data-link="${name}"]`);
  if (li === null) return;
  li.dataset.state = state;
  li.title = why || state;
}

// Runs fn at most once per ms, on the latest data: a burst of messages is drawn once.
function throttled(fn, ms) {
  let timer = null;
  return () => {
    if (timer === null) timer = setTimeout(() => { timer = null; fn(); }, ms);
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A server-sent event stream. The browser reconnects by itself (the service sends `retry: 1000`), also after the
// service ended the stream (`end` at shutdown, `dropped` for a client that fell too far behind).
function stream(path, link, onData) {
  const source = new EventSource(path);
  source.addEventListener("open", () => setLink(link, "live"));
  source.addEventListener("message", (e) => {
    setLink(link, "live");
    onData(JSON.parse(e.data).data);
  });
  source.addEventListener("dropped", (e) => setLink(link, "reconnecting", `dropped: ${e.data}`));
  source.addEventListener("end", (e) => setLink(link, "reconnecting", `ended: ${e.data}`));
  source.addEventListener("error", () =>
    setLink(link, source.readyState === EventSource.CLOSED ? "down" : "reconnecting"));
  return source;
}

// GETs path (a string, or a function giving the URL of the moment) every everyMs and calls onChange(response)
// when the answer is new (another ETag, another URL, or no ETag).
async function poll(path, link, everyMs, onChange) {
  let etag = null;
  let lastUrl = null;
  for (;;) {
    try {
      const url = typeof path === "function" ? path() : path;
      // no-cache: the browser asks with If-None-Match each time, and gets 304 while the view is unchanged.
      const resp = await fetch(url, { cache: "no-cache" });
      if (resp.ok) {
        const tag = resp.headers.get("ETag");
        if (tag === null || tag !== etag || url !== lastUrl) {
          etag = tag;
          lastUrl = url;
          await onChange(resp);
        }
        setLink(link, "live");
      } else {
        setLink(link, "down", `HTTP ${resp.status}`);
      }
    } catch (e) {
      setLink(link, "down", String(e));
    }
    await sleep(everyMs);
  }
}

// ---- top source airports -------------------------------------------------------------------------------

const airportInfo = new Map(); // code -> {name, city, country}, from /source_airports once it answered
let topAirports = [];
const drawAirports = throttled(() => charts.renderBars($("#airports"), topAirports, (c) => airportInfo.get(c)), 100);

// ---- map ---------------------------------------------------------------------------------------------------

let mapAirports = null;
const drawMap = throttled(() => {
  const drawn = charts.renderMap($("#map"), mapAirports, MAP_LABELS);
  const missing = mapAirports.length - drawn;
  const routes = mapAirports.reduce((sum, a) => sum + a.count, 0);
  $("#map").dataset.points = String(drawn);
  $("#map-note").textContent = `${charts.fmtInt(drawn)} source airports, ${charts.fmtInt(routes)} routes` +
    (missing > 0 ? `; ${charts.fmtInt(missing)} not drawn: no coordinates in the reference data` : "");
}, 1000);

function onSourceAirports(rows) {
  mapAirports = rows;
  for (const a of rows) airportInfo.set(a.source_airport, a);
  drawMap();
  drawAirports();
}

// The map's data comes from /source_airports (reference data joined with the counts): streamed where the service
// has /stream/source_airports, else polled. The welcome answer at / lists what this service has, so nothing is
// asked for that is not there.
async function startMap() {
  let endpoints = [];
  try {
    endpoints = (await (await fetch(".", { cache: "no-cache" })).json()).data;
  } catch (e) {
    setLink("map", "down", String(e));
  }
  if (endpoints.includes("GET /stream/source_airports")) {
    stream("stream/source_airports", "map", onSourceAirports);
  } else if (endpoints.includes("GET /source_airports")) {
    poll("source_airports", "map", MAP_EVERY_MS, async (resp) => onSourceAirports((await resp.json()).data));
  } else {
    setLink("map", "absent", "this query-service has no /source_airports");
    $("#map-note").textContent = "This query-service serves no airport coordinates (/source_airports).";
    charts.renderMap($("#map"), [], 0);
  }
}

// ---- equipment windows -------------------------------------------------------------------------------------

let windowRows = [];
let windowsHeld = new Map(); // start (ms) -> {start, end, state, counts} from /windows
let seriesCodes = [];        // the equipment drawn: /windows is asked for their exact count in every window

// The windows of the last hour, the top equipment over them, and each one's count per window.
const drawWindows = throttled(() => {
  const rows = windowRows.map((r) => ({ start: charts.parseUtc(r.start), end: charts.parseUtc(r.end),
    equipment: r.equipment, count: r.count }));
  const spans = new Map(windowsHeld);
  for (const r of rows) if (!spans.has(r.start)) spans.set(r.start, { start: r.start, end: r.end, state: "open" });
  const latest = Math.max(-Infinity, ...[...spans.values()].map((w) => w.end));
  const windows = [...spans.values()].filter((w) => w.end > latest - HOUR_MS).sort((a, b) => a.start - b.start);
  const from = windows.length ? windows[0].start : 0;
  const totals = new Map();
  for (const r of rows) if (r.start >= from) totals.set(r.equipment, (totals.get(r.equipment) || 0) + r.count);
  const top = [...totals.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, TOP_EQUIPMENT);
  seriesCodes = top.map(([equipment]) => equipment);
  // A window's count: the stream's row (the freshest) when it is among the top rows, else the exact count
  // /windows gave for it (every window, however small the count).
  const series = top.map(([equipment], i) => ({
    equipment, colour: charts.SERIES_COLOURS[i % charts.SERIES_COLOURS.length],
    points: windows.map((w) => {
      const row = rows.find((r) => r.start === w.start && r.equipment === equipment);
      const exact = w.counts ? w.counts[equipment] : undefined;
      const count = row ? row.count : exact;
      return count === undefined ? null : { start: w.start, end: w.end, equipment, count, state: w.state };
    }).filter((p) => p !== null),
  }));
  charts.renderWindowsChart($("#windows-chart"), windows, series);
  const legend = $("#windows-legend");
  charts.clear(legend);
  for (const [i, s] of series.entries()) {
    const item = charts.htmlEl("span", { class: "key", "data-equipment": s.equipment, "data-total": top[i][1] });
    const swatch = charts.htmlEl("span", { class: "swatch" });
    swatch.style.background = s.colour;
    item.append(swatch, document.createTextNode(`${s.equipment} (${charts.fmtInt(top[i][1])})`));
    legend.append(item);
  }
  legend.append(charts.htmlEl("span", { class: "key state" }, "● closed window   ○ open window (still counting)"));
  const open = windows.filter((w) => w.state === "open").length;
  $("#windows-note").textContent = windows.length === 0 ? "" :
    `${windows.length} windows (${open} open), ${charts.hhmmss(windows[0].start)}–` +
    `${charts.hhmmss(windows[windows.length - 1].end)} UTC. Live from the top ${charts.fmtInt(WINDOW_ROWS)} ` +
    `(window, equipment) rows; smaller counts from /windows every ${WINDOWS_EVERY_MS / 1000} s.`;
}, 250);

function startWindows() {
  stream(`stream/top10_equipment_30min_window?n=${WINDOW_ROWS}`, "windows", (rows) => {
    windowRows = rows;
    drawWindows();
  });
  const url = () => seriesCodes.length === 0 ? "windows"
    : `windows?equipment=${encodeURIComponent(seriesCodes.join(","))}`;
  poll(url, "windows", WINDOWS_EVERY_MS, async (resp) => {
    const held = new Map();
    for (const w of (await resp.json()).data) {
      const start = charts.parseUtc(w.start);
      // "evicting" windows are closed too: final, and about to leave the views.
      held.set(start, { start, end: charts.parseUtc(w.end), state: w.state === "open" ? "open" : "closed",
        counts: w.counts });
    }
    windowsHeld = held;
    drawWindows();
  });
}

// ---- recent events -----------------------------------------------------------------------------------------

let recent = [];
let eventsReceived = 0;
const drawEvents = throttled(() => {
  const body = $("#events tbody");
  charts.clear(body);
  for (const e of recent) {
    const tr = charts.htmlEl("tr", { "data-id": e.id });
    for (const v of [e.datetime, e.airline, e.source_airport, e.destination_airport, e.equipment, e.stops,
      e.codeshare ? "yes" : "no", e.id.slice(0, 8)]) tr.append(charts.htmlEl("td", {}, String(v)));
    body.append(tr);
  }
  $("#events-count").textContent = `newest first; ${charts.fmtInt(eventsReceived)} received since the page opened`;
}, 250);

function startEvents() {
  stream("stream/events", "events", (rows) => {
    eventsReceived += rows.length;
    // A message holds up to 1,000 events, oldest first; only the newest are kept.
    recent = rows.slice(-RECENT_ROWS).reverse().concat(recent).slice(0, RECENT_ROWS);
    drawEvents();
  });
}

// ---- pipeline health ---------------------------------------------------------------------------------------

const rates = [];
let lastApplied = null; // {t, n}: events_applied when last polled
const latencySamples = []; // {t, buckets: [[le, cumulative]]}, the last FRESHNESS_SPAN_MS of /metrics

function setTile(metric, text, value, bad) {
  const tile = document.querySelector(`#health [data-metric="${metric}"]`);
  tile.querySelector(".value").textContent = text;
  tile.dataset.value = value === null || value === undefined ? "" : String(value);
  tile.classList.toggle("bad", Boolean(bad));
}

function onStatus(st, now) {
  setTile("events_applied", charts.fmtInt(st.events_applied), st.events_applied);
  if (lastApplied !== null && now > lastApplied.t) {
    // A topic reset rebuilds the views from zero: no negative rate.
    const rate = Math.max(0, ((st.events_applied - lastApplied.n) * 1000) / (now - lastApplied.t));
    rates.push(rate);
    if (rates.length > RATE_HISTORY) rates.shift();
    setTile("events_per_second", charts.fmtInt(Math.round(rate)), Math.round(rate));
    charts.renderSpark($("#rate-chart"), rates, RATE_HISTORY);
  }
  lastApplied = { t: now, n: st.events_applied };
  const lagTile = st.partitions.map((p) => `partition ${p.partition}: ${p.lag}`).join(", ");
  setTile("lag", charts.fmtInt(st.lag), st.lag, st.lag > 0);
  document.querySelector('#health [data-metric="lag"]').title = lagTile;
  setTile("late_events", charts.fmtInt(st.late_events), st.late_events, st.late_events > 0);
  setTile("undecodable_messages", charts.fmtInt(st.undecodable_messages), st.undecodable_messages,
    st.undecodable_messages > 0);
  const age = st.state_age_seconds;
  setTile("state_age_seconds", age === null ? "unknown" : age === 0 ? "current" : `${charts.fmtInt(age)} s behind`,
    age, age !== 0);
  setTile("watermark", st.watermark ? st.watermark.slice(11, 19) : "none", st.watermark);
  const notes = [st.ready ? "ready" : "not ready (restoring or catching up)", `topic ${st.topic}`,
    `${charts.fmtInt(st.windows_held)} windows held`, `${charts.fmtInt(st.source_airports)} source airports`,
    `${charts.fmtInt(st.recent_events)} recent events held`];
  if (st.kafka_error) notes.unshift(`Kafka: ${st.kafka_error}`);
  $("#health-note").textContent = notes.join(" · ");
  $("#health-note").classList.toggle("bad", Boolean(st.kafka_error) || !st.ready);
}

// The cumulative buckets of query_event_to_view_latency_seconds in a Prometheus text answer.
function latencyBuckets(text) {
  const buckets = [];
  const re = /^query_event_to_view_latency_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm;
  for (let m; (m = re.exec(text)) !== null;) buckets.push([m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[2])]);
  return buckets;
}

// The q-quantile of what was observed between two cumulative histograms, by linear interpolation inside the
// bucket (as PromQL's histogram_quantile); null when nothing was observed.
function quantileBetween(older, newer, q) {
  const deltas = newer.map(([le, n], i) => [le, n - (older[i] ? older[i][1] : 0)]);
  const total = deltas.length ? deltas[deltas.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lower = 0, below = 0;
  for (const [le, n] of deltas) {
    if (n >= rank) {
      if (le === Infinity) return lower;
      return lower + (le - lower) * ((rank - below) / Math.max(1, n - below));
    }
    lower = le;
    below = n;
  }
  return lower;
}

function fmtSeconds(s) {
  return s < 1 ? `${(s * 1000).toFixed(s < 0.01 ? 1 : 0)} ms` : `${s.toFixed(2)} s`;
}

function onMetrics(text, now) {
  const buckets = latencyBuckets(text);
  if (buckets.length === 0) return;
  latencySamples.push({ t: now, buckets });
  while (latencySamples.length > 1 && now - latencySamples[1].t >= FRESHNESS_SPAN_MS) latencySamples.shift();
  if (latencySamples.length < 2) return;
  const p99 = quantileBetween(latencySamples[0].buckets, buckets, 0.99);
  setTile("freshness", p99 === null ? "no new events" : fmtSeconds(p99), p99 === null ? null : p99.toFixed(6));
}

async function startHealth() {
  for (;;) {
    const now = performance.now();
    try {
      const [status, metrics] = await Promise.all([fetch("status", { cache: "no-store" }),
        fetch("metrics", { cache: "no-store" })]);
      if (!status.ok) throw new Error(`/status: HTTP ${status.status}`);
      onStatus((await status.json()).data[0], now);
      if (metrics.ok) onMetrics(await metrics.text(), now);
      setLink("status", "live");
    } catch (e) {
      setLink("status", "down", String(e));
    }
    await sleep(Math.max(0, STATUS_EVERY_MS - (performance.now() - now)));
  }
}

// ---- start ---------------------------------------------------------------------------------------------------

stream(`stream/top10_source_airport?n=${TOP_AIRPORTS}`, "airports", (rows) => {
  topAirports = rows;
  drawAirports();
});
startWindows();
startEvents();
startHealth();
startMap();
// The windows chart and the sparkline are drawn to the pixel width of their panel.
window.addEventListener("resize", throttled(() => {
  drawWindows();
  charts.renderSpark($("#rate-chart"), rates, RATE_HISTORY);
}, 200));
