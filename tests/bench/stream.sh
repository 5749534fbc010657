#!/usr/bin/env bash
# Push queries at scale (see stream_bench.py): BENCH_SUBSCRIBERS (10,000, then 5,000 and 2,500 to show how the
# delay grows) subscribers of /stream/top10_source_airport while the gateway replays at BENCH_RATE (20,000)
# events/s, beside the same clients polling /top10_source_airport at the stream's rate (one request per 250 ms each);
# the server's fan-out beside the kernel's floor under it (fanout_floor.c: raw loopback writes, one thread).
#   tests/bench/stream.sh            BENCH_SUBSCRIBERS=2000 tests/bench/stream.sh
# shellcheck source=prepare.sh
source "$(dirname "$0")/prepare.sh"
/usr/bin/python3 tests/bench/stream_bench.py
