"""The demo's two Spark queries over a Kafka topic of our events, run by spark_bench.py in the venv spark.sh makes.
Prints one JSON object per line on stdout; Spark's own output goes to stderr.

  spark_queries.py BOOTSTRAP SCHEMA JARS WINDOW_SECONDS batch QUERY TOPIC REPS
      a session, then QUERY (airports or windows) over the whole topic, once cold and REPS times warm:
      {"session_start_ms"}, then per run {"run": "cold"|"warm", "ms", "rows"}
  spark_queries.py BOOTSTRAP SCHEMA JARS WINDOW_SECONDS stream
      a session, then per line {"topic", "events"} on stdin: both queries streaming from that topic's start,
      {"ready": topic} once they wait for data, and when both results hold `events` events
      {"topic", "airports": {"at", "rows"}, "windows": {"at", "rows"}}, `at` the time.monotonic() of the result
      in this process (CLOCK_MONOTONIC: one clock for every process of the machine).
Rows: airports [source_airport, count], windows [start, end, equipment, count], times YYYY-MM-DD HH:MM:SS (UTC)."""
import json
import os
import sys
import threading
import time

# The JVM the session starts inherits fd 1: stdout is kept for the JSON lines and fd 1 becomes stderr.
OUT = os.fdopen(os.dup(1), "w")
os.dup2(2, 1)

from pyspark.sql import SparkSession  # noqa: E402
from pyspark.sql.avro.functions import from_avro  # noqa: E402
from pyspark.sql.functions import date_format, expr, to_timestamp, window  # noqa: E402

STREAM_TIMEOUT_S = 300


def emit(obj):
    OUT.write(json.dumps(obj) + "\n")
    OUT.flush()


def session(jars):
    """local[2]: the machine's two cores. Shuffle partitions 2, not the default 200: a streaming aggregation
    runs every one of them each micro-batch (adaptive execution, which coalesces them in batch queries, is off in
    streaming), and 200 made the burst's result about 7x slower. The UI is off (its port could collide), and so
    are the progress bars."""
    return (SparkSession.builder.master("local[2]").appName("spark-bench")
            .config("spark.jars", jars)
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .getOrCreate())


def events(spark, bootstrap, topic, schema, stream):
    """The topic's events, from its first offset (to its last, in a batch query)."""
    reader = (spark.readStream if stream else spark.read).format("kafka") \
        .option("kafka.bootstrap.servers", bootstrap).option("subscribe", topic) \
        .option("startingOffsets", "earliest")
    if not stream:
        reader = reader.option("endingOffsets", "latest")
    # A value is Avro's single-object encoding: C3 01 and the schema's 8-byte fingerprint, then the record.
    return reader.load().select(from_avro(expr("substring(value, 11)"), schema).alias("e")).select("e.*")


def airports(df, _window_seconds):
    return df.groupBy("source_airport").count()


def windows(df, window_seconds):
    """Tumbling windows on the record's datetime (the event time the query-service windows on), aligned to the
    epoch as ours are: [floor(t / size) * size, + size)."""
    fmt = "yyyy-MM-dd HH:mm:ss"
    return (df.groupBy(window(to_timestamp("datetime", "yyyy-MM-dd HH:mm:ss.SSSSSS"), f"{window_seconds} seconds"),
                       "equipment").count()
            .select(date_format("window.start", fmt).alias("start"), date_format("window.end", fmt).alias("end"),
                    "equipment", "count"))


QUERIES = {"airports": airports, "windows": windows}


def rows_of(collected):
    return [list(r) for r in collected]


def batch(spark, bootstrap, schema, window_seconds, query, topic, reps):
    for run in ["cold"] + ["warm"] * reps:
        t0 = time.monotonic()
        rows = QUERIES[query](events(spark, bootstrap, topic, schema, False), window_seconds).collect()
        emit({"run": run, "ms": (time.monotonic() - t0) * 1000, "rows": rows_of(rows)})


def stream_once(spark, bootstrap, schema, window_seconds, topic, expected):
    """Both queries streaming (complete mode) into a foreachBatch that collects each micro-batch's result: the
    first result that counts every event is when Spark's answer was current."""
    done, cond, queries = {}, threading.Condition(), []
    for name, build in QUERIES.items():
        def on_batch(df, _batch_id, name=name):
            rows = df.collect()
            at = time.monotonic()
            with cond:
                if name not in done and sum(r["count"] for r in rows) == expected:
                    done[name] = {"at": at, "rows": rows_of(rows)}
                    cond.notify_all()
        queries.append(build(events(spark, bootstrap, topic, schema, True), window_seconds).writeStream
                       .outputMode("complete").queryName(f"{name}_{len(queries)}").foreachBatch(on_batch).start())
    deadline = time.monotonic() + 60
    while not all(q.status["message"] == "Waiting for data to arrive" for q in queries):
        if time.monotonic() > deadline:
            raise SystemExit(f"streaming queries not waiting for data: {[q.status for q in queries]}")
        time.sleep(0.05)
    emit({"ready": topic})
    with cond:
        if not cond.wait_for(lambda: len(done) == len(QUERIES), STREAM_TIMEOUT_S):
            raise SystemExit(f"streaming results incomplete after {STREAM_TIMEOUT_S} s: {sorted(done)}")
    for q in queries:
        q.stop()
    emit({"topic": topic, **done})


def main():
    bootstrap, schema_path, jars, window_seconds, mode = sys.argv[1:6]
    with open(schema_path) as f:
        schema = f.read()
    t0 = time.monotonic()
    spark = session(jars)
    emit({"session_start_ms": (time.monotonic() - t0) * 1000})
    spark.sparkContext.setLogLevel("WARN")
    if mode == "batch":
        batch(spark, bootstrap, schema, int(window_seconds), sys.argv[6], sys.argv[7], int(sys.argv[8]))
    else:
        for line in sys.stdin:
            ask = json.loads(line)
            stream_once(spark, bootstrap, schema, int(window_seconds), ask["topic"], ask["events"])
    spark.stop()


if __name__ == "__main__":
    main()
