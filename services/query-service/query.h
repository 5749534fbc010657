/*
 * query: the query-service's one state struct. It owns the consumer, the views and the HTTP server;
 * main.c wires it, handlers.c serves it, results_csv.c writes its CSV files, query.c runs it.
 */
#ifndef QUERY_QUERY_H
#define QUERY_QUERY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "config.h"
#include "consumer.h"
#include "http_server.h"
#include "metrics.h"
#include "route_codec.h"
#include "push.h"
#include "reference_feed.h"
#include "snapshot.h"
#include "snapshot_child.h"
#include "tables.h"
#include "views.h"

typedef struct query_config_s {
    char *listen;
    long port;
    char *bootstrap_servers;
    char *topic;
    char *state_dir;
    char *results_dir;
    long window_seconds;
    long window_slide_seconds; /* -1 = the window size (tumbling) */
    long grace_seconds; /* -1 = one window */
    long idle_timeout_seconds; /* a partition with no new event for this long, and none to read, is idle; 0: never */
    long retention_seconds;
    long recent_capacity;
    long snapshot_interval_ms;
    long max_future_seconds; /* an event stamped further ahead of this clock is refused */
    long push_interval_ms; /* /stream/: at most one message per interval */
    long push_heartbeat_ms;
    long max_subscribers;
    char *cors_origin; /* "" = no CORS */
    char *log_level;
    config_kv_t kafka_props;
} query_config_t;

/* A rendered response kept until the views change. */
typedef struct query_cache_s {
    buf_t body;
    uint64_t version; /* views_version() it was rendered at; UINT64_MAX = never */
} query_cache_t;

typedef struct query_s {
    uv_loop_t *loop;
    query_config_t cfg;
    http_server_t *http;
    push_t *push; /* the /stream/ subscriptions */
    consumer_t *consumer;
    tables_t *tables;           /* the reference tables, read beside the stream by reference_feed */
    reference_feed_t *reference;
    route_codec_t *codec;
    views_t *views;            /* the state: the views and where they stand in each partition */
    uint64_t views_epoch;      /* random, new with each set of views: with views_version, the views' ETags */
    char snapshot_status[256]; /* how state was restored, for /status */
    bool restored;             /* from a snapshot */
    bool ready;                /* latched by query_is_ready */
    uint64_t topic_resets;     /* rebuilds because the topic was not the one the state was built from */
    char last_reset[512];      /* why the last one happened, "" when none */
    /* Wall clock when the views last held all the topic held (consumer_current), checked every second. */
    int64_t current_at_us;
    uv_timer_t current_timer; /* every second: the state's age, the partitions' idleness */
    int64_t *seen_us;         /* index = partition: wall clock when its last message came (or start) */
    size_t n_seen;
    int64_t started_us;

    uint64_t undecodable_unlogged; /* since the last log line: logged at most once a second */
    int64_t undecodable_logged_us;
    metrics_histogram_t latency; /* event time to applied in the views */
    int64_t clock_us;            /* wall clock, refreshed every 64 messages */
    uint64_t clock_uses;

    query_cache_t top_airports;
    query_cache_t top_windows;

    /* Snapshots: serialized on the loop, written on the threadpool. */
    uv_timer_t snapshot_timer;
    uv_work_t snapshot_work;
    buf_t snapshot_buf;
    snapshot_evicted_t snapshot_evicted; /* scratch for serializing: equipment_windows.csv's part of the state */
    bool snapshot_running;
    uint64_t snapshot_version;
    uint64_t snapshots_written;
    metrics_histogram_t snapshot_pause_seconds; /* the loop's pause for each periodic snapshot */
    snapshot_child_t snapshot_child;            /* the periodic snapshot's writer */
    char snapshot_error[256];

    /* CSV results (results_csv.c) and equipment_windows.csv (evicted_log.c, part of the state). */
    struct results_csv_s *csv;
    struct evicted_log_s *evicted;

    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool signals_watched; /* until the final writes: a second signal never kills a shutdown */
    bool shutting_down;
    /* Shutdown: the final snapshot, CSV files and equipment_windows.csv written on the threadpool; a deadline
     * stops the loop if only HTTP connections are left then (slow clients). */
    int final_writes_left;
    bool final_snapshot_queued;
    uv_timer_t deadline_timer;
} query_t;

/* The flag table with each flag's default (for config_parse and --help); targets point into cfg. */
size_t query_config_options(query_config_t *cfg, config_option_t *out, size_t max);
/* Restores the snapshot (or starts fresh), starts consuming and serving. @returns 0 or -1 with errstr. */
int query_start(query_t *q, uv_loop_t *loop, char *errstr, size_t errstr_size);
/*
 * SIGTERM/SIGINT: stops accepting and consuming, writes the final snapshot and CSV files on the threadpool and
 * closes every handle, so that the loop ends by itself (within the 5 s promised: a deadline stops it when only
 * HTTP connections are left).
 */
void query_begin_shutdown(query_t *q);
/*
 * After uv_run returned: frees what the loop no longer uses. @returns true when the loop can then be run to its end
 * for the close callbacks, false when HTTP connections were left open (run it once, UV_RUN_NOWAIT).
 */
bool query_free(query_t *q);
/*
 * Ready (latched): the state is restored and caught up with the end offsets seen at start; or a snapshot was
 * restored and Kafka has not answered since start (its last state is served, with its age). A rebuild after a
 * topic reset is not ready until caught up again.
 */
bool query_is_ready(query_t *q);
/* Seconds since the views last held all the topic held (0 while they do, checked every second); -1 when never
 * known. */
int64_t query_state_age_seconds(const query_t *q);

extern const http_route_t query_routes[];
extern const size_t query_routes_count;

#endif
