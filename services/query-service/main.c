/*
 * query-service: consumes the AirlineRouteEvent topic into materialized views and serves them.
 * main only wires things together: configuration, logging, the loop, the service.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>

#include "log.h"
#include "query.h"

int main(int argc, char **argv)
{
    static query_t q;
    config_option_t opts[32];
    size_t n = query_config_options(&q.cfg, opts, 32);
    char errstr[512];
    const char *summary = "Consumes AirlineRouteEvents into materialized views served over HTTP and as CSV files.";
    int rc = config_parse(opts, n, &q.cfg.kafka_props, argc, argv, "query-service", summary, errstr, sizeof(errstr));
    if (rc == 1)
        return 0;
    if (rc != 0) {
        fprintf(stderr, "query-service: %s\n", errstr);
        config_usage(stderr, "query-service", summary, opts, n);
        return 2;
    }
    log_level_t level;
    if (log_level_parse(q.cfg.log_level, &level) != 0) {
        fprintf(stderr, "query-service: --log-level must be debug, info, warn or error\n");
        return 2;
    }
    log_init("query-service", level);
    signal(SIGPIPE, SIG_IGN);
    /*
     * Buffers of a megabyte or more (librdkafka's fetch responses, snapshots, dump_table.csv) come from mmap and
     * go back to the system when freed. glibc would otherwise raise its mmap threshold after the first such
     * free, serve the next ones from the heap and keep that memory: RSS crept past 100 MB after a catch-up.
     */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    /*
     * Setting that fixes the trim threshold at 128 KB too: h2o's per-request pools and socket buffers, freed and
     * taken again thousands of times a second, then gave the top of the heap back and faulted it in again (3 to 4 %
     * of the service's time under wrk). Up to 8 MB of free heap is kept instead.
     */
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    /* Every /stream/ subscriber holds a socket: the soft limit on descriptors (often 1,024) goes up to the hard one. */
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }

    uv_loop_t *loop = uv_default_loop();
    rc = 0;
    if (query_start(&q, loop, errstr, sizeof(errstr)) != 0) {
        log_error("start_failed", "%s", errstr);
        rc = 1;
    } else {
        /* Until SIGTERM or SIGINT, and then until the shutdown has written and closed everything. */
        uv_run(loop, UV_RUN_DEFAULT);
    }
    /* The close callbacks of what query_free closed (once only if the shutdown deadline left connections). */
    uv_run(loop, query_free(&q) ? UV_RUN_DEFAULT : UV_RUN_NOWAIT);
    if (rc == 0)
        log_info("stopped", "query-service stopped");
    return rc;
}
