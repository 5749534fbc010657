#!/usr/bin/env bash
# Runs the benchmarks, keeps each one's JSON lines in $REPORT_DIR/<bench>.jsonl with the machine and the date,
# and draws them (report.py): ours against each peer, and cost against the size of the work.
#   tests/bench/report.sh                   # ingest, e2e, query (each on a broker of its own), then draws
#   BENCHES="ingest stream" tests/bench/report.sh
#   tests/bench/report.sh --draw            # draws what $REPORT_DIR holds, runs nothing
# Environment: REPORT_DIR (default results/bench), BENCHES (default "ingest e2e query"; stream takes longer).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
dir=${REPORT_DIR:-results/bench}
mkdir -p "$dir"
if [ "${1:-}" != "--draw" ]; then
    # The code a run measures is the tree at its start: a figure stamped with a commit must come from that
    # commit, so changes not committed yet (outside the reports) are said in the stamp.
    release=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git status --porcelain --untracked-files=no -- . ":(exclude)docs/bench" ":(exclude)$dir" 2>/dev/null)" ]; then
        release="$release+uncommitted"
    fi
    export BENCH_RELEASE=$release
    for bench in ${BENCHES:-ingest e2e query}; do
        echo "report: running tests/bench/$bench.sh" >&2
        tests/bench/"$bench".sh > "$dir/$bench.jsonl.new"
        mv "$dir/$bench.jsonl.new" "$dir/$bench.jsonl"
        /usr/bin/python3 tests/bench/report.py --stamp "$dir/$bench.jsonl"
    done
fi
/usr/bin/python3 tests/bench/report.py "$dir"
