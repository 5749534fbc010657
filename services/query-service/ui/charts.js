// charts: the dashboard's drawings in plain DOM and SVG (no library: the page must run with no internet).
// Each function takes the element to draw into and the data, and touches nothing else; app.js feeds them.
// Elements carry data-* attributes with the raw values, for people inspecting the page and for the browser test.

const SVG_NS = "http://www.w3.org/2000/svg";
// Colour-blind-safe (Okabe-Ito), one per equipment series.
export const SERIES_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000"];
const NUMBER = new Intl.NumberFormat("en-US");

export function fmtInt(n) {
  return NUMBER.format(n);
}

export function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function htmlEl(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC (how the views print times) to milliseconds since the epoch.
export function parseUtc(text) {
  return Date.parse(text.slice(0, 19).replace(" ", "T") + "Z");
}

export function hhmmss(ms) {
  return new Date(ms).toISOString().slice(11, 19);
}

// ---- top source airports: one row per airport, bars as wide as their share of the first --------------------

// rows: [{source_airport, count}] in rank order; info(code): {name, city, country} or undefined.
// Rows are kept per airport and moved, so a bar grows where it is (CSS transition) instead of being redrawn.
export function renderBars(list, rows, info) {
  const max = rows.length ? rows[0].count : 1;
  const existing = new Map();
  for (const li of list.children) existing.set(li.dataset.airport, li);
  rows.forEach((row, i) => {
    let li = existing.get(row.source_airport);
    if (li === undefined) {
      li = htmlEl("li", { "data-airport": row.source_airport });
      li.append(htmlEl("span", { class: "code" }, row.source_airport), htmlEl("span", { class: "city" }),
        htmlEl("span", { class: "track" }), htmlEl("span", { class: "count" }));
      li.querySelector(".track").append(htmlEl("span", { class: "bar" }));
    }
    existing.delete(row.source_airport);
    const where = info(row.source_airport);
    li.dataset.count = String(row.count);
    li.dataset.rank = String(i + 1);
    li.querySelector(".city").textContent = where && where.city ? where.city : "";
    li.title = where && where.name ? `${where.name}, ${where.city}, ${where.country}` : row.source_airport;
    li.querySelector(".count").textContent = fmtInt(row.count);
    li.querySelector(".bar").style.width = `${(100 * row.count) / max}%`;
    if (list.children[i] !== li) list.insertBefore(li, list.children[i] || null);
  });
  for (const li of existing.values()) li.remove();
}

// ---- world map: equirectangular, x = longitude + 180, y = 90 - latitude in a 360 x 180 viewBox --------------

function drawGraticule(svg) {
  const g = svgEl("g", { class: "graticule" });
  g.append(svgEl("rect", { class: "ocean", x: 0, y: 0, width: 360, height: 180 }));
  for (let lon = -150; lon <= 150; lon += 30)
    g.append(svgEl("line", { x1: lon + 180, y1: 0, x2: lon + 180, y2: 180, class: lon === 0 ? "axis" : "" }));
  for (let lat = -60; lat <= 60; lat += 30)
    g.append(svgEl("line", { x1: 0, y1: 90 - lat, x2: 360, y2: 90 - lat, class: lat === 0 ? "axis" : "" }));
  svg.append(g, svgEl("g", { class: "airports" }), svgEl("g", { class: "labels" }));
}

// airports: [{source_airport, count, name, city, country, latitude, longitude}] sorted by count desc; those
// without coordinates (null) are left out. Returns how many were drawn.
export function renderMap(svg, airports, labelled) {
  if (!svg.querySelector(".graticule")) drawGraticule(svg);
  const layer = svg.querySelector(".airports");
  const labels = svg.querySelector(".labels");
  clear(layer);
  clear(labels);
  const placed = airports.filter((a) => typeof a.latitude === "number" && typeof a.longitude === "number");
  const max = placed.length ? Math.max(...placed.map((a) => a.count)) : 1;
  // Largest first, so the small circles stay visible on top of the big ones.
  for (const a of placed) {
    // Area proportional to the routes; a floor so an airport with one route is still a visible dot.
    const r = Math.max(0.45, 4 * Math.sqrt(a.count / max));
    const c = svgEl("circle", {
      class: "airport", cx: (a.longitude + 180).toFixed(3), cy: (90 - a.latitude).toFixed(3), r: r.toFixed(3),
      "data-airport": a.source_airport, "data-count": a.count,
    });
    c.append(svgEl("title", {}, `${a.source_airport} ${a.name || ""}, ${a.city || ""}, ${a.country || ""}: ` +
      `${fmtInt(a.count)} routes`));
    layer.append(c);
  }
  // The busiest airports named, each unless it would overlap a name already placed (Europe is crowded).
  const boxes = [];
  for (const a of placed) {
    if (boxes.length >= labelled) break;
    const box = { x: a.longitude + 180 + 2, y: 90 - a.latitude - 2.6, w: 2.9 * a.source_airport.length, h: 4.2 };
    if (boxes.some((b) => box.x < b.x + b.w && b.x < box.x + box.w && box.y < b.y + b.h && b.y < box.y + box.h))
      continue;
    boxes.push(box);
    labels.append(svgEl("text", { x: box.x.toFixed(2), y: (box.y + 3.6).toFixed(2), "data-airport": a.source_airport },
      a.source_airport));
  }
  return placed.length;
}

// ---- equipment windows: events per window over time, one series per equipment ---------------------------

function niceStep(max, ticks) {
  const raw = max / ticks;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

// windows: [{start, end, state}] in ms, start order; series: [{equipment, colour, points: [{start, end, count,
// state}]}]. A closed window is final: its point is filled and its segments solid; an open one can still grow:
// a hollow point, dashed segments, and its span shaded.
export function renderWindowsChart(svg, windows, series) {
  clear(svg);
  const width = Math.max(svg.clientWidth || svg.parentNode.clientWidth, 300);
  const height = 260;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const m = { left: 56, right: 16, top: 14, bottom: 30 };
  if (windows.length === 0) {
    svg.append(svgEl("text", { x: width / 2, y: height / 2, class: "empty" }, "no windows yet"));
    return;
  }
  const t0 = windows[0].start;
  const t1 = Math.max(...windows.map((w) => w.end));
  const maxCount = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.count)));
  const step = niceStep(maxCount, 4);
  const yMax = Math.ceil(maxCount / step) * step;
  const x = (t) => m.left + ((t - t0) / (t1 - t0)) * (width - m.left - m.right);
  const y = (v) => height - m.bottom - (v / yMax) * (height - m.top - m.bottom);

  const bands = svgEl("g", { class: "bands" });
  windows.forEach((w, i) => {
    const cls = w.state === "open" ? "band open" : i % 2 ? "band odd" : "band";
    bands.append(svgEl("rect", { class: cls, x: x(w.start), y: m.top, width: Math.max(1, x(w.end) - x(w.start)),
      height: height - m.top - m.bottom, "data-start": w.start, "data-state": w.state }));
  });
  svg.append(bands);

  const axes = svgEl("g", { class: "axes" });
  for (let v = 0; v <= yMax; v += step) {
    axes.append(svgEl("line", { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v), class: v ? "grid" : "base" }));
    axes.append(svgEl("text", { x: m.left - 6, y: y(v) + 4, class: "ylabel" }, fmtInt(v)));
  }
  // At most about one time label per 110 pixels, on window starts.
  const every = Math.max(1, Math.ceil(windows.length / Math.max(1, Math.floor((width - m.left) / 110))));
  windows.forEach((w, i) => {
    if (i % every === 0)
      axes.append(svgEl("text", { x: x(w.start), y: height - m.bottom + 18, class: "xlabel" }, hhmmss(w.start)));
  });
  const last = windows[windows.length - 1];
  axes.append(svgEl("text", { x: x(last.end), y: height - m.bottom + 18, class: "xlabel end" }, hhmmss(last.end)));
  svg.append(axes);

  for (const s of series) {
    const g = svgEl("g", { class: "series", "data-equipment": s.equipment, stroke: s.colour });
    const mid = (p) => x((p.start + p.end) / 2);
    for (let i = 1; i < s.points.length; i++) {
      const a = s.points[i - 1], b = s.points[i];
      const open = a.state === "open" || b.state === "open";
      g.append(svgEl("line", { x1: mid(a), y1: y(a.count), x2: mid(b), y2: y(b.count), class: open ? "open" : "" }));
    }
    for (const p of s.points) {
      const c = svgEl("circle", { cx: mid(p), cy: y(p.count), r: 3.5, class: p.state === "open" ? "open" : "closed",
        fill: p.state === "open" ? "#fff" : s.colour, "data-count": p.count, "data-state": p.state,
        "data-start": p.start });
      c.append(svgEl("title", {}, `${s.equipment}: ${fmtInt(p.count)} events in ${hhmmss(p.start)}–` +
        `${hhmmss(p.end)} (${p.state})`));
      g.append(c);
    }
    svg.append(g);
  }
}

// ---- sparkline: the last values of a series, newest on the right -----------------------------------------

export function renderSpark(svg, values, capacity) {
  clear(svg);
  const width = Math.max(svg.clientWidth || 0, 200), height = 44;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("height", height);
  if (values.length < 2) return;
  const max = Math.max(1, ...values);
  const dx = width / Math.max(1, capacity - 1);
  const x0 = width - (values.length - 1) * dx;
  const pts = values.map((v, i) => `${(x0 + i * dx).toFixed(1)},${(height - 2 - (v / max) * (height - 6)).toFixed(1)}`);
  svg.append(svgEl("polyline", { points: pts.join(" "), class: "spark-line" }));
  svg.append(svgEl("text", { x: 4, y: 12, class: "spark-label" }, `peak ${fmtInt(Math.round(max))}/s`));
}
