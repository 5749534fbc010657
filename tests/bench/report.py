"""Draws the benchmarks' JSON lines (one figure per line, bench_util.figure) as SVG, with no library:
  ratios.svg   every figure against its peer (ratio > 1: better than the peer), one bar each;
  scaling.svg  the figures measured at several sizes of the work (names with _1x_, _10x_, _50x_ or
               _<n>_connections or _<n>_subscribers), ours and the peer's, against the size;
  table.md     the figures as a Markdown table, with the machine and the date of each benchmark's run.
  report.py DIR               draws DIR/*.jsonl into DIR
  report.py --stamp FILE      adds this machine and the time to FILE's first line (a {"meta": ...} object)"""
import datetime
import glob
import html
import json
import os
import platform
import re
import subprocess
import sys

BAR_H, LEFT, WIDTH = 18, 360, 900


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    rev = os.environ.get("BENCH_RELEASE") or subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(), "cpu": model, "kernel": platform.release(), "release": rev}


def stamp(path):
    with open(path) as f:
        lines = [line for line in f if line.strip() and '"meta"' not in line]
    with open(path, "w") as f:
        f.write(json.dumps({"meta": machine()}) + "\n")
        f.writelines(lines)


def load(directory):
    benches = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.jsonl"))):
        meta, figures = {}, []
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                o = json.loads(line)
                if "meta" in o:
                    meta = o["meta"]
                elif "name" in o:
                    figures.append(o)
        benches[os.path.basename(path)[:-len(".jsonl")]] = (meta, figures)
    return benches


def svg(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="sans-serif" font-size="12">\n<rect width="100%" height="100%" fill="white"/>\n'
            + "".join(body) + "</svg>\n")


def ratios_svg(figures):
    rows = [f for f in figures if f.get("ratio") is not None]
    top = max([2.0] + [min(f["ratio"], 4.0) for f in rows])
    scale = (WIDTH - LEFT - 60) / top
    body = [f'<text x="10" y="20" font-size="14">Ours against each peer (ratio; right of 1 is better than the '
            f'peer)</text>\n']
    for i, f in enumerate(rows):
        y = 40 + i * (BAR_H + 6)
        r = min(f["ratio"], 4.0)
        color = "#2a7" if f["ratio"] >= 1 else "#d63"
        body.append(f'<text x="{LEFT - 8}" y="{y + 13}" text-anchor="end">{html.escape(f["name"])}</text>\n')
        body.append(f'<rect x="{LEFT}" y="{y}" width="{r * scale:.1f}" height="{BAR_H}" fill="{color}"/>\n')
        body.append(f'<text x="{LEFT + r * scale + 4:.1f}" y="{y + 13}">{f["ratio"]:.2f} '
                    f'(vs {html.escape(f["peer"])})</text>\n')
    height = 60 + len(rows) * (BAR_H + 6)
    x1 = LEFT + scale
    body.append(f'<line x1="{x1:.1f}" y1="30" x2="{x1:.1f}" y2="{height - 10}" stroke="#333" '
                f'stroke-dasharray="4 3"/>\n')
    return svg(WIDTH + 300, height, body)


def series(figures):
    """{metric: [(size, ours, peer, unit)]} for the figures measured at several sizes."""
    out = {}
    for f in figures:
        m = re.match(r"(.*?)_(\d+)x_(.*)$", f["name"]) or re.match(r"(.*?)_(\d+)_(connections|subscribers)$",
                                                                   f["name"])
        if m is None:
            continue
        by = m.group(3) if m.group(3) in ("connections", "subscribers") else None
        key = f"{m.group(1)} (by {by})" if by else f"{m.group(1)} {m.group(3)}".strip()
        out.setdefault(key, []).append((int(m.group(2)), f["value"], f["peer_value"], f["unit"], f["peer"]))
    return {k: sorted(v) for k, v in out.items() if len(v) > 1}


def number(v):
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"


def scaling_svg(figures):
    panels = series(figures)
    pw, ph = 420, 220
    cols = 2
    body = []
    for n, (name, pts) in enumerate(sorted(panels.items())):
        ox, oy = 10 + (n % cols) * (pw + 20), 10 + (n // cols) * (ph + 30)
        top = max(max(p[1], p[2] or 0) for p in pts) * 1.15 or 1
        xs = [p[0] for p in pts]

        def px(i):
            return ox + 50 + i * (pw - 80) / max(len(xs) - 1, 1)

        def py(v):
            return oy + ph - 30 - v / top * (ph - 60)
        body.append(f'<text x="{ox}" y="{oy + 14}" font-size="13">{html.escape(name)} ({html.escape(pts[0][3])})'
                    f'</text>\n')
        body.append(f'<line x1="{ox + 50}" y1="{oy + ph - 30}" x2="{ox + pw - 20}" y2="{oy + ph - 30}" '
                    f'stroke="#333"/>\n')
        for i, x in enumerate(xs):
            body.append(f'<text x="{px(i):.1f}" y="{oy + ph - 14}" text-anchor="middle">{x}</text>\n')
        for idx, color, label in ((1, "#2a7", "ours"), (2, "#888", pts[0][4])):
            coords = " ".join(f"{px(i):.1f},{py(p[idx] or 0):.1f}" for i, p in enumerate(pts))
            body.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>\n')
            for i, p in enumerate(pts):
                body.append(f'<circle cx="{px(i):.1f}" cy="{py(p[idx] or 0):.1f}" r="3" fill="{color}"/>\n')
                body.append(f'<text x="{px(i) + 4:.1f}" y="{py(p[idx] or 0) - 5:.1f}" font-size="10">'
                            f'{number(p[idx])}</text>\n')
            body.append(f'<text x="{ox + pw - 20}" y="{oy + 30 + 14 * (idx - 1)}" text-anchor="end" '
                        f'fill="{color}">{html.escape(label)}</text>\n')
    rows = (len(panels) + cols - 1) // cols
    return svg(cols * (pw + 20) + 10, max(rows, 1) * (ph + 30) + 10, body)


def table_md(benches):
    out = []
    for bench, (meta, figures) in benches.items():
        out.append(f"**{bench}** — {meta.get('date', '?')}, {meta.get('cpus', '?')} cores ({meta.get('cpu', '?')}), "
                   f"kernel {meta.get('kernel', '?')}, release {meta.get('release', '?')}\n\n")
        out.append("| figure | ours | peer | ratio |\n|---|---|---|---|\n")
        for f in figures:
            peer = f"{f['peer']}: {f['peer_value']:,}" if f.get("peer_value") is not None else f["peer"]
            ratio = f"{f['ratio']:.2f}x" if f.get("ratio") is not None else ""
            peer = peer.replace("|", "\\|")
            out.append(f"| {f['name']} | {f['value']:,} {f['unit']} | {peer} | {ratio} |\n")
        out.append("\n")
    return "".join(out)


def main():
    if sys.argv[1] == "--stamp":
        stamp(sys.argv[2])
        return
    directory = sys.argv[1]
    benches = load(directory)
    figures = [f for _, fs in benches.values() for f in fs]
    if not figures:
        sys.exit(f"report: no figures in {directory}/*.jsonl")
    for name, text in (("ratios.svg", ratios_svg(figures)), ("scaling.svg", scaling_svg(figures)),
                       ("table.md", table_md(benches))):
        with open(os.path.join(directory, name), "w") as f:
            f.write(text)
    print(f"report: {len(figures)} figures of {len(benches)} benchmark(s) drawn in {directory}/ratios.svg, "
          f"scaling.svg and table.md")


if __name__ == "__main__":
    main()
