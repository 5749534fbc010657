"""Apache Spark, the demo's own engine, beside the query-service on the same topics (run by spark.sh, which makes
the venv and fetches the jars). Prints one JSON object per figure; fails unless every answer of Spark's equals ours.

Batch: a topic of routes.dat (SPARK_BENCH_PASSES passes, default 1) read by a fresh query-service to its end, and
by Spark's two queries (session start, each query cold, then BENCH_REPS times warm); against them our catch-up of
the whole topic and our HTTP answer to each query.
Streaming: a burst of routes.dat into a topic both already follow, from /produce's answer (every event
acknowledged) until Spark's micro-batch holds every event, and until our views do.
Compared: routes per source airport, all of them (/source_airports); the (window, equipment) counts, the first
1,000 in our order, a total one (count desc, equipment desc, start asc), of all of Spark's."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import bench_util as b  # first: puts tests/integration on sys.path
import harness as h  # noqa: E402

REPS = int(os.environ.get("BENCH_REPS", "3"))
PASSES = int(os.environ.get("SPARK_BENCH_PASSES", "1"))
BURSTS = int(os.environ.get("SPARK_BENCH_BURSTS", "3"))
WINDOW_SECONDS = 30  # the query-service's default and the demo's window
TOP_WINDOWS = 1000   # the most /top10_equipment_30min_window gives
SCHEMA = os.path.join(os.path.dirname(__file__), "..", "..", "data", "data_schema.json")
QUERIES = os.path.join(os.path.dirname(__file__), "spark_queries.py")


def spark_argv(*args):
    return [os.environ["SPARK_PYTHON"], QUERIES, h.bootstrap(), SCHEMA, os.environ["SPARK_BENCH_JARS"],
            str(WINDOW_SECONDS), *args]


def json_lines(stream):
    for line in stream:
        yield json.loads(line)


def timed(fn):
    """@returns (milliseconds fn took, what it returned)."""
    t0 = time.monotonic()
    result = fn()
    return (time.monotonic() - t0) * 1000, result


# Both sides as the same Python values: {airport: count}, and [[start, end, equipment, count]] ranked.
def our_airports(q):
    return {r["source_airport"]: r["count"] for r in q.data("/source_airports", {"n": "1000000"}, timeout=600)}


def our_windows(q):
    return [[r["start"], r["end"], r["equipment"], r["count"]]
            for r in q.data("/top10_equipment_30min_window", {"n": str(TOP_WINDOWS)}, timeout=600)]


def spark_airports(rows):
    return {airport: count for airport, count in rows}


def spark_windows(rows):
    ranked = sorted(rows, key=lambda r: r[0])               # start asc
    ranked.sort(key=lambda r: r[2] or "", reverse=True)      # equipment desc (stable: start asc within)
    ranked.sort(key=lambda r: r[3], reverse=True)            # count desc
    return [list(r) for r in ranked[:TOP_WINDOWS]]


def check_same(what, ours, spark, events):
    """Ours must count every event (a comparison of two empty answers proves nothing), and Spark the same."""
    counted = sum(ours.values()) if isinstance(ours, dict) else None
    h.check(counted in (None, events), f"{what}: our answer counts {counted} events, not {events}")
    h.check(len(ours) > 0, f"{what}: our answer is empty")
    if ours == spark:
        return
    if isinstance(ours, dict):
        diff = sorted(k for k in set(ours) | set(spark) if ours.get(k) != spark.get(k))
        detail = [(k, ours.get(k), spark.get(k)) for k in diff[:10]]
    else:
        detail = [(i, o, s) for i, (o, s) in enumerate(zip(ours, spark)) if o != s][:10]
        detail.append(("rows", len(ours), len(spark)))
    raise SystemExit(f"spark_bench: {what}: Spark's answer differs from ours (ours, Spark's): {detail}")


def self_check():
    """check_same finds a planted difference in each kind of answer, or the comparison proves nothing."""
    for ours, planted in (({"ATL": 2}, {"ATL": 1}), ([["a", "b", "738", 2]], [["a", "b", "320", 2]])):
        try:
            check_same("self-check", ours, planted, 2)
        except SystemExit:
            continue
        raise SystemExit("spark_bench: self-check: a planted difference went unnoticed")


def spark_batch(query, topic):
    """@returns (session start ms, cold ms, [warm ms], rows of the last run)."""
    out = subprocess.run(spark_argv("batch", query, topic, str(REPS)), stdout=subprocess.PIPE, check=True,
                         timeout=900, text=True).stdout
    lines = [json.loads(x) for x in out.splitlines()]
    runs = lines[1:]
    h.check(len(runs) == REPS + 1, f"spark batch {query}: {len(runs)} runs")
    for run in runs[1:]:
        h.check(sorted(run["rows"]) == sorted(runs[0]["rows"]),
                f"spark batch {query}: a warm run answered otherwise than the cold one")
    return lines[0]["session_start_ms"], runs[0]["ms"], [r["ms"] for r in runs[1:]], runs[-1]["rows"]


def batch(tmp, gw, topic):
    b.produce_passes(gw, PASSES)
    total = h.kcat_count(topic)
    catchups = []
    first = {"airports": [], "windows": []}    # each fresh query-service's first answer
    answers = {"airports": [], "windows": []}  # and the 4 after it
    for _ in range(REPS):
        t0 = time.monotonic()
        q = h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(prefix="state-", dir=tmp),
                                "--results-dir", tmp, "--snapshot-interval-ms", "600000"])
        while b.applied(q) < total:
            time.sleep(0.002)
        catchups.append((time.monotonic() - t0) * 1000)
        ours = {}
        for i in range(5):
            for query, ask in (("airports", our_airports), ("windows", our_windows)):
                ms, ours[query] = timed(lambda: ask(q))
                (first if i == 0 else answers)[query].append(ms)
        q.stop()

    session_ms = []
    for query, to_python in (("airports", spark_airports), ("windows", spark_windows)):
        session, cold, warm, rows = spark_batch(query, topic)
        session_ms.append(session)
        check_same(f"batch {query} over {total} events", ours[query], to_python(rows), total)
        b.figure(f"spark_batch_{query}_cold_ms", b.median(first[query]), "ms",
                 "Spark query, cold (after its session start)", cold, higher_is_better=False)
        b.figure(f"spark_batch_{query}_warm_ms", b.median(answers[query]), "ms", "Spark query, warm (median)",
                 b.median(warm), higher_is_better=False)
    b.figure(f"spark_catchup_{total}_events_ms", b.median(catchups), "ms",
             "Spark session start (ours: a fresh query-service until its views hold the whole topic)",
             b.median(session_ms), higher_is_better=False)


def streaming(tmp, spark):
    """BURSTS topics, one after another: Spark's two streaming queries and a query-service follow each from its
    start; one pass of routes.dat goes in; from /produce's answer to each one's views holding every event."""
    ours_ms, spark_ms = [], []
    for i in range(BURSTS):
        topic = h.unique_topic(f"bench-spark-stream{i}")
        h.create_topic(topic, partitions=3)
        with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tmp]) as gw, \
                h.Service("query", ["--topic", topic, "--state-dir", tempfile.mkdtemp(dir=tmp),
                                    "--results-dir", tmp]) as q:
            h.wait_until(lambda: gw.get("/readyz")[0] == 200 and q.get("/readyz")[0] == 200, 60,
                         what="services ready")
            spark.stdin.write(json.dumps({"topic": topic, "events": b.ROUTES_EVENTS}) + "\n")
            spark.stdin.flush()
            h.check_eq(next(spark.answers), {"ready": topic}, "spark streaming")
            st, _, body = gw.get("/produce", timeout=600)
            acked = time.monotonic()
            h.check(st == 200, body)
            while b.applied(q) < b.ROUTES_EVENTS:
                time.sleep(0.001)
            ours_ms.append((time.monotonic() - acked) * 1000)
            result = next(spark.answers)
            h.check_eq(result["topic"], topic, "spark streaming topic")
            spark_ms.append((max(result["airports"]["at"], result["windows"]["at"]) - acked) * 1000)
            check_same("streaming airports", our_airports(q), spark_airports(result["airports"]["rows"]),
                       b.ROUTES_EVENTS)
            check_same("streaming windows", our_windows(q), spark_windows(result["windows"]["rows"]),
                       b.ROUTES_EVENTS)
    b.figure("spark_stream_burst_to_view_ms", b.median(ours_ms), "ms",
             f"Spark micro-batch result ({b.ROUTES_EVENTS}-event burst acknowledged to both queries' results)",
             b.median(spark_ms), higher_is_better=False)


def main():
    tmp = tempfile.mkdtemp(prefix="bench-spark-")
    try:
        run(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp):
    self_check()
    topic = h.unique_topic("bench-spark")
    h.create_topic(topic, partitions=3)
    with h.Service("gateway", ["--topic", topic, "--routes-file", h.routes_file(), "--results-dir", tmp]) as gw:
        h.wait_until(lambda: gw.get("/readyz")[0] == 200, 60, what="gateway ready")
        batch(tmp, gw, topic)
    spark = subprocess.Popen(spark_argv("stream"), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        spark.answers = json_lines(spark.stdout)
        session = next(spark.answers)
        h.check("session_start_ms" in session, f"spark streaming: {session}")
        streaming(tmp, spark)
    except BaseException:
        spark.kill()
        spark.wait()
        raise
    spark.stdin.close()
    if spark.wait(120) != 0:
        sys.exit(f"spark_bench: the streaming Spark process exited {spark.returncode}")


if __name__ == "__main__":
    main()
