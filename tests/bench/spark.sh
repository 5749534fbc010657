#!/usr/bin/env bash
# Apache Spark, the demo's own engine, beside the query-service (see spark_bench.py): the demo's two queries
# (routes per source airport, events per 30-second window and equipment) over the same topic, batch (session
# start, each query cold and warm) and streaming (a burst acknowledged to the micro-batch's result), against our
# catch-up of the topic, our HTTP answer and our event-to-view latency. Fails unless Spark's answers equal ours.
#   tests/bench/spark.sh        KAFKA_BOOTSTRAP_SERVERS=host:9092 tests/bench/spark.sh     BENCH_REPS=3 (default)
# Spark is not needed by tests/run.sh or .ci/run: this script installs it itself, once, into SPARK_BENCH_CACHE
# (default ~/.cache/flight-route-stream/spark, beside the deployment tests' FRS_CACHE): a venv with pyspark from
# PyPI and the connector jars pyspark lacks, from Maven Central, each checked against the hash pinned here.
set -euo pipefail

# Every version in one place. 3.5.7: the Spark 3.x line the demo used (the Kafka connector jars of 3.5.8 and later
# could not be fetched where this was written). kafka-clients and commons-pool2: the versions spark-parent
# 3.5.7's pom names. Only these five jars go on the classpath: the rest of their dependency tree is in pyspark
# already, in other versions, and conflicts.
PYSPARK_VERSION=3.5.7
PYSPARK_SHA256=80e36514e0c5c126d35a26adf4f405cd4a69de96a8ea8a3c1e9a65fce2fb4eaa # pyspark-3.5.7.tar.gz
PY4J_VERSION=0.10.9.7                                                            # what pyspark 3.5.7 requires
PY4J_SHA256=85defdfd2b2376eb3abf5ca6474b51ab7e0de341c75a02f46dc9b5976f5a5c1b    # py4j-0.10.9.7-py2.py3-none-any.whl
MAVEN=https://repo1.maven.org/maven2
# path under $MAVEN, SHA-256 (each also matched Maven's published .sha1 when pinned)
SPARK_JARS=(
    "org/apache/spark/spark-sql-kafka-0-10_2.12/$PYSPARK_VERSION/spark-sql-kafka-0-10_2.12-$PYSPARK_VERSION.jar"
    184f8bd4a3cd22299c49090d88b894f81fd7546b4ee64879519a0d76a685dbb8
    "org/apache/spark/spark-token-provider-kafka-0-10_2.12/$PYSPARK_VERSION/spark-token-provider-kafka-0-10_2.12-$PYSPARK_VERSION.jar"
    9701914db5c6d09628b58d2d2c1ccd2c9ea28f32f83dd6cb21f98b8237531ff4
    "org/apache/spark/spark-avro_2.12/$PYSPARK_VERSION/spark-avro_2.12-$PYSPARK_VERSION.jar"
    b0660bc224cbd1eb3ae144001c1328863060e64f1834dd7bbadc1ddbf09d2b15
    org/apache/kafka/kafka-clients/3.4.1/kafka-clients-3.4.1.jar
    9d0a9058c8ede79db6e54ae378ed16fe8d1bead2894635a4aa6aa0b7981668c6
    org/apache/commons/commons-pool2/2.11.1/commons-pool2-2.11.1.jar
    ea0505ee7515e58b1ac0e686e4d1a5d9f7d808e251a61bc371aa0595b9963f83
)

cd "$(dirname "$0")/../.."
# shellcheck source=../../deploy/lib.sh
source deploy/lib.sh
cache=${SPARK_BENCH_CACHE:-${FRS_CACHE:-$HOME/.cache/flight-route-stream}/spark}

# The venv, made again only when it does not hold this pyspark. Hashes required: pip checks both files.
# No build isolation: building pyspark's sdist then needs nothing from PyPI but the two pinned files.
install_pyspark() {
    local venv=$cache/venv-pyspark-$PYSPARK_VERSION
    if ! "$venv/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$PYSPARK_VERSION')" 2>/dev/null; then
        frs_log "installing pyspark $PYSPARK_VERSION into $venv"
        install_packages python3-venv
        rm -rf "$venv"
        /usr/bin/python3 -m venv "$venv"
        printf 'pyspark==%s --hash=sha256:%s\npy4j==%s --hash=sha256:%s\n' "$PYSPARK_VERSION" "$PYSPARK_SHA256" \
            "$PY4J_VERSION" "$PY4J_SHA256" >"$cache/requirements.txt"
        "$venv/bin/pip" install -q --no-build-isolation --require-hashes -r "$cache/requirements.txt" >&2 ||
            frs_die "pip could not install pyspark $PYSPARK_VERSION (see above)"
    fi
    export SPARK_PYTHON=$venv/bin/python
}

# Each jar fetched once (download_checked: SHA-256 checked before it is kept); exports SPARK_BENCH_JARS.
install_jars() {
    local i path jar jars=()
    for ((i = 0; i < ${#SPARK_JARS[@]}; i += 2)); do
        path=${SPARK_JARS[i]}
        jar=$cache/jars/$(basename "$path")
        [ -f "$jar" ] || download_checked "$MAVEN/$path" "$jar" "${SPARK_JARS[i + 1]}" ||
            frs_die "could not fetch $(basename "$path") from Maven Central"
        jars+=("$jar")
    done
    SPARK_BENCH_JARS=$(IFS=,; echo "${jars[*]}")
    export SPARK_BENCH_JARS
}

# Before prepare.sh starts the broker: a first install takes a minute or two.
mkdir -p "$cache"
install_pyspark
install_jars
# shellcheck source=prepare.sh
source tests/bench/prepare.sh
/usr/bin/python3 tests/bench/spark_bench.py
