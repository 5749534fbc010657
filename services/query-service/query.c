#include "query.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "http_cors.h"
#include "log.h"
#include "evicted_log.h"
#include "results_csv.h"
#include "snapshot.h"
#include "snapshot_child.h"
#include "timestamp.h"

size_t query_config_options(query_config_t *cfg, config_option_t *out, size_t max)
{
    const config_option_t opts[] = {
        {"listen", "LISTEN_ADDR", CONFIG_STRING, &cfg->listen, "127.0.0.1", 0, 0, "address to listen on"},
        {"port", "PORT", CONFIG_INT, &cfg->port, "5001", 0, 65535, "HTTP port (0 picks a free one)"},
        {"bootstrap-servers", "KAFKA_BOOTSTRAP_SERVERS", CONFIG_STRING, &cfg->bootstrap_servers, "127.0.0.1:9092", 0, 0,
         "Kafka bootstrap servers, host:port[,host:port]"},
        {"topic", "TOPIC", CONFIG_STRING, &cfg->topic, "routes_data", 0, 0, "topic of AirlineRouteEvents to read"},
        {"state-dir", "STATE_DIR", CONFIG_STRING, &cfg->state_dir, "var/query-state", 0, 0, "where snapshots are kept"},
        {"results-dir", "RESULTS_DIR", CONFIG_STRING, &cfg->results_dir, "results", 0, 0, "where the CSV results are written"},
        {"window-seconds", "WINDOW_SECONDS", CONFIG_INT, &cfg->window_seconds, "30", 1, 86400, "window size"},
        {"window-slide-seconds", "WINDOW_SLIDE_SECONDS", CONFIG_INT, &cfg->window_slide_seconds, "-1", -1, 86400,
         "distance between window starts, dividing the size (-1: the size, tumbling windows)"},
        {"grace-seconds", "GRACE_SECONDS", CONFIG_INT, &cfg->grace_seconds, "-1", -1, 86400,
         "how far behind its partition's event time an event may be (-1: one window)"},
        {"idle-timeout-seconds", "IDLE_TIMEOUT_SECONDS", CONFIG_INT, &cfg->idle_timeout_seconds, "30", 0, 86400,
         "a partition with nothing to read and no new event for this long stops holding the watermark (0: never)"},
        {"retention-seconds", "RETENTION_SECONDS", CONFIG_INT, &cfg->retention_seconds, "3600", 0, 30 * 86400,
         "how long closed windows are kept before eviction"},
        {"recent-capacity", "RECENT_CAPACITY", CONFIG_INT, &cfg->recent_capacity, "100000", 1, 10000000,
         "events kept for /dump_table"},
        {"snapshot-interval-ms", "SNAPSHOT_INTERVAL_MS", CONFIG_INT, &cfg->snapshot_interval_ms, "2000", 100, 3600000,
         "how often a changed state is snapshotted"},
        {"max-future-seconds", "MAX_FUTURE_SECONDS", CONFIG_INT, &cfg->max_future_seconds, "300", 0, 30 * 86400,
         "events stamped further ahead of this clock are counted as undecodable, not applied"},
        {"push-interval-ms", "PUSH_INTERVAL_MS", CONFIG_INT, &cfg->push_interval_ms, "250", 10, 60000,
         "at most one message per interval on each /stream/ subscription (changes coalesced)"},
        {"push-heartbeat-ms", "PUSH_HEARTBEAT_MS", CONFIG_INT, &cfg->push_heartbeat_ms, "15000", 100, 3600000,
         "a comment on a /stream/ that sent nothing for this long, so proxies keep it open"},
        {"max-subscribers", "MAX_SUBSCRIBERS", CONFIG_INT, &cfg->max_subscribers, "10000", 0, 1000000,
         "/stream/ subscriptions open at once, over every stream (429 beyond)"},
        {"cors-origin", "CORS_ORIGIN", CONFIG_STRING, &cfg->cors_origin, "", 0, 0,
         "let pages from this origin read the views (http[s]://host[:port], or *; empty: off)"},
        {"log-level", "LOG_LEVEL", CONFIG_STRING, &cfg->log_level, "info", 0, 0, "debug, info, warn or error"},
    };
    size_t n = sizeof(opts) / sizeof(opts[0]);
    if (n > max)
        abort();
    memcpy(out, opts, sizeof(opts));
    return n;
}

/* The message at rec is not an event: the views skip it; the log says so at most once a second. */
static void query_skip_undecodable(query_t *q, const record_id_t *rec, const char *reason)
{
    views_skip(q->views, rec);
    q->undecodable_unlogged++;
    int64_t now = timestamp_now_us();
    if (now - q->undecodable_logged_us >= 1000000) {
        log_warn("undecodable_message", "%llu undecodable message(s) skipped, latest at partition %d offset %lld: %s",
                 (unsigned long long)q->undecodable_unlogged, (int)rec->partition, (long long)rec->offset, reason);
        q->undecodable_unlogged = 0;
        q->undecodable_logged_us = now;
    }
}

/* Whether event_us is more than --max-future-seconds ahead of the wall clock. The cached clock may be old
 * (it is refreshed every 64 messages): it is read again before an event is refused. */
static bool query_too_far_ahead(query_t *q, int64_t event_us)
{
    int64_t max_us = (int64_t)q->cfg.max_future_seconds * 1000000;
    if (event_us - q->clock_us <= max_us)
        return false;
    q->clock_us = timestamp_now_us();
    return event_us - q->clock_us > max_us;
}

/* Every message of the topic goes to the views exactly once: applied, or skipped as undecodable. */
static void on_message(const rd_kafka_message_t *msg, uint64_t fingerprint, void *data)
{
    query_t *q = data;
    record_id_t rec = {msg->partition, msg->offset, fingerprint};
    if (msg->partition >= 0 && (size_t)msg->partition < q->n_seen)
        q->seen_us[msg->partition] = q->clock_us;
    route_event_t ev;
    char err[256];
    int64_t event_us;
    if (route_codec_decode(q->codec, msg->payload, msg->len, &ev, err, sizeof(err)) != ROUTE_CODEC_OK) {
        query_skip_undecodable(q, &rec, err);
    } else if (timestamp_parse_event(ev.datetime.ptr, ev.datetime.len, &event_us) != 0) {
        query_skip_undecodable(q, &rec, "datetime is not YYYY-MM-DD HH:MM:SS.ffffff");
    } else if (query_too_far_ahead(q, event_us)) {
        /*
         * The watermark follows the highest event time: one event stamped in the future (a wrong clock,
         * a forged message) would make every later event late and close every window early.
         */
        snprintf(err, sizeof(err), "datetime %.*s is more than %ld s ahead of this clock", (int)ev.datetime.len,
                 ev.datetime.ptr, q->cfg.max_future_seconds);
        query_skip_undecodable(q, &rec, err);
    } else {
        views_apply_at(q->views, &rec, &ev, event_us);
        push_event_applied(q->push);
        /* The clock is read once per 64 messages: a batch of 1,024 applies in about 100 us, and reading
         * it per message costs more than the apply on this machine's clock source. */
        if ((q->clock_uses++ & 63) == 0)
            q->clock_us = timestamp_now_us();
        int64_t lag_us = q->clock_us - event_us;
        metrics_histogram_observe(&q->latency, lag_us > 0 ? (double)lag_us / 1e6 : 0.0);
    }
}

static void on_deleted(int32_t partition, int64_t first_kept, void *data)
{
    query_t *q = data;
    int64_t next = positions_get(views_positions(q->views), partition).next_offset;
    uint64_t n = views_skip_deleted(q->views, partition, first_kept);
    if (n > 0)
        log_warn("offsets_skipped", "%s [%d]: offsets %lld..%lld were deleted from the topic (retention) before "
                 "they were read: %llu skipped, %llu in all", q->cfg.topic, (int)partition, (long long)next,
                 (long long)first_kept - 1, (unsigned long long)n,
                 (unsigned long long)views_stats(q->views)->offsets_skipped);
}

/* While the views hold all the topic holds, the time they do so moves on (the state's age is 0). */
static void query_note_current(query_t *q)
{
    if (consumer_current(q->consumer))
        q->current_at_us = timestamp_now_us();
}

/* The views and what goes with them, as they are now: a snapshot's state. */
static snapshot_state_t query_snapshot_state(query_t *q)
{
    query_note_current(q);
    q->snapshot_evicted.file_len = evicted_log_state(q->evicted, &q->snapshot_evicted.pending);
    return (snapshot_state_t){q->views, q->cfg.topic, q->snapshot_evicted, q->current_at_us};
}

static void snapshot_work(uv_work_t *req)
{
    query_t *q = req->data;
    q->snapshot_error[0] = '\0';
    snapshot_write_file(q->cfg.state_dir, &q->snapshot_buf, q->snapshot_error, sizeof(q->snapshot_error));
}

static void query_final_snapshot(query_t *q);
static void on_final_written(void *data);

/* A snapshot ended, written by the child or the threadpool. error: "" written, else why not; NULL cancelled. */
static void snapshot_finished(query_t *q, const char *error, uint64_t bytes)
{
    q->snapshot_running = false;
    if (error != NULL && error[0] != '\0')
        log_error("snapshot_failed", "%s%s", q->final_snapshot_queued ? "final snapshot: " : "", error);
    else if (error != NULL)
        q->snapshots_written++;
    if (!q->shutting_down)
        return;
    if (!q->final_snapshot_queued) {
        query_final_snapshot(q); /* the periodic one ended: now the final one */
        return;
    }
    if (error != NULL && error[0] == '\0')
        log_info("snapshot_written", "final snapshot: %llu bytes", (unsigned long long)bytes);
    on_final_written(q);
}

static void snapshot_done(uv_work_t *req, int status)
{
    query_t *q = req->data;
    size_t len = q->snapshot_buf.len;
    /* Megabytes every few seconds: given back between snapshots rather than held (serializing refills it). */
    buf_free(&q->snapshot_buf);
    snapshot_finished(q, status == 0 ? q->snapshot_error : NULL, len);
}

static void on_snapshot_child_done(const char *error, uint64_t bytes, void *data)
{
    snapshot_finished(data, error, bytes);
}

/* The state serialized on the loop, written on the threadpool. */
static void query_snapshot_on_threadpool(query_t *q, const snapshot_state_t *s)
{
    snapshot_serialize(s, &q->snapshot_buf);
    q->snapshot_running = true;
    q->snapshot_work.data = q;
    uv_queue_work(q->loop, &q->snapshot_work, snapshot_work, snapshot_done);
}

/*
 * The state as it is now, copied on the loop (it serves nothing more) and written on the threadpool; then the CSV
 * writers finish their files (equipment_windows.csv appends the rows this snapshot counts as pending: a restart
 * cuts the file back to the length it recorded and appends them again).
 */
static void query_final_snapshot(query_t *q)
{
    q->final_snapshot_queued = true;
    snapshot_state_t s = query_snapshot_state(q);
    query_snapshot_on_threadpool(q, &s);
    results_csv_close(q->csv, on_final_written, q);
    q->csv = NULL;
    evicted_log_close(q->evicted, on_final_written, q);
    q->evicted = NULL;
}

static void on_snapshot_timer(uv_timer_t *t)
{
    query_t *q = t->data;
    uint64_t version = views_version(q->views);
    if (q->snapshot_running || version == q->snapshot_version)
        return;
    uint64_t started_ns = uv_hrtime();
    snapshot_state_t s = query_snapshot_state(q);
    q->snapshot_version = version;
    char errstr[256];
    if (snapshot_child_start(&q->snapshot_child, q->loop, &s, q->cfg.state_dir, on_snapshot_child_done, q, errstr,
                             sizeof(errstr)) == 0) {
        q->snapshot_running = true;
    } else {
        log_warn("snapshot_fork_failed", "%s: the views are copied on the event loop instead", errstr);
        query_snapshot_on_threadpool(q, &s);
    }
    metrics_histogram_observe(&q->snapshot_pause_seconds, (double)(uv_hrtime() - started_ns) / 1e9);
}

/*
 * Idleness, checked every second: a partition with nothing left to read and no message for
 * --idle-timeout-seconds stops holding the watermark back; when every partition is idle the watermark follows the
 * wall clock. A partition with a backlog is never idle, however long its fetch takes.
 */
static void query_check_idle(query_t *q, int64_t now)
{
    if (q->cfg.idle_timeout_seconds <= 0)
        return;
    int64_t timeout_us = (int64_t)q->cfg.idle_timeout_seconds * 1000000;
    positions_t *positions = views_positions(q->views);
    for (size_t p = 0; p < positions_count(positions); p++) {
        int64_t end = consumer_partition_end(q->consumer, (int32_t)p);
        int64_t seen = p < q->n_seen ? q->seen_us[p] : q->started_us;
        bool idle = end >= 0 && positions_get(positions, (int32_t)p).next_offset >= end && now - seen >= timeout_us;
        if (idle != views_partition_idle(q->views, (int32_t)p))
            log_info(idle ? "partition_idle" : "partition_active", "%s [%zu] %s", q->cfg.topic, p,
                     idle ? "is idle: it no longer holds the watermark back" : "is active again");
        views_set_idle(q->views, (int32_t)p, idle);
    }
    views_advance_clock(q->views, now);
}

static void on_current_timer(uv_timer_t *t)
{
    query_t *q = t->data;
    query_note_current(q);
    query_check_idle(q, timestamp_now_us());
}

/* The topic's partitions: each holds the watermark back until it has an event time or is idle. */
static void on_partitions(size_t count, void *data)
{
    query_t *q = data;
    views_add_partitions(q->views, count);
    if (count > q->n_seen) {
        q->seen_us = xrealloc(q->seen_us, count * sizeof(*q->seen_us));
        for (size_t p = q->n_seen; p < count; p++)
            q->seen_us[p] = timestamp_now_us();
        q->n_seen = count;
    }
}

static views_config_t query_views_config(query_t *q)
{
    views_config_t vc;
    memset(&vc, 0, sizeof(vc));
    vc.window_us = (int64_t)q->cfg.window_seconds * 1000000;
    vc.slide_us = q->cfg.window_slide_seconds < 0 ? vc.window_us : (int64_t)q->cfg.window_slide_seconds * 1000000;
    vc.grace_us = q->cfg.grace_seconds < 0 ? vc.window_us : (int64_t)q->cfg.grace_seconds * 1000000;
    vc.retention_us = (int64_t)q->cfg.retention_seconds * 1000000;
    vc.recent_capacity = (size_t)q->cfg.recent_capacity;
    vc.on_evicted = evicted_log_on_row;
    vc.on_evicted_data = q->evicted;
    return vc;
}

/* Names one set of views in the entity tags: views_version() starts again with every new set (and process). */
static uint64_t random_u64(void)
{
    uint64_t r;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (uint64_t)timestamp_now_us() ^ ((uint64_t)getpid() << 32);
    return r;
}

/* Hands the views to everything that reads them; caches rendered from earlier views are stale. */
static void query_use_views(query_t *q, views_t *views)
{
    q->views = views;
    q->views_epoch = random_u64();
    push_set_views(q->push, views, q->views_epoch);
    q->top_airports.version = q->top_windows.version = UINT64_MAX;
    q->snapshot_version = views_version(views);
    results_csv_set_views(q->csv, views);
}

/* Restores the snapshot, or starts empty (none, or corrupt: logged, rebuilt from the topic's start). */
static void query_restore(query_t *q)
{
    views_config_t vc = query_views_config(q);
    snapshot_state_t s;
    char err[512];
    int rc = snapshot_load(q->cfg.state_dir, &vc, &s, err, sizeof(err));
    if (rc == 0 && strcmp(s.topic, q->cfg.topic) != 0) {
        log_warn("snapshot_other_topic", "snapshot is of topic %s, not %s: rebuilding from the start", s.topic,
                 q->cfg.topic);
        snapshot_state_clear(&s);
        rc = 1;
    }
    if (rc == 0) {
        snprintf(q->snapshot_status, sizeof(q->snapshot_status), "restored from snapshot");
        log_info("snapshot_restored", "state restored: %llu events applied, %zu partition position(s)",
                 (unsigned long long)views_stats(s.views)->events_applied,
                 positions_count(views_positions(s.views)));
        q->restored = true;
        q->current_at_us = s.current_at_us;
    } else if (rc == 1) {
        snprintf(q->snapshot_status, sizeof(q->snapshot_status), "no snapshot: rebuilt from the start of the topic");
        log_info("snapshot_none", "no snapshot in %s: reading the topic from the start", q->cfg.state_dir);
    } else {
        snprintf(q->snapshot_status, sizeof(q->snapshot_status), "corrupt snapshot ignored: %.200s", err);
        log_error("snapshot_corrupt", "%s: rebuilding from the start of the topic", err);
    }
    /* equipment_windows.csv follows the state: as the snapshot left it, or empty when rebuilding from the start. */
    evicted_log_restore(q->evicted, rc == 0 ? s.evicted.file_len : 0, s.evicted.pending.data, s.evicted.pending.len);
    query_use_views(q, rc == 0 ? s.views : views_new(&vc));
    s.views = NULL; /* now q's */
    snapshot_state_clear(&s);
}

/*
 * The topic is not the one the views were built from: they are thrown away, and so is equipment_windows.csv,
 * and every partition is read again from its beginning. Loudly: a reset of the topic is a user's act, or an
 * accident, and either way the views now say something else.
 */
static void on_reset(const char *reason, void *data)
{
    query_t *q = data;
    const views_stats_t *st = views_stats(q->views);
    log_error("topic_reset", "%s; the views (%llu events applied) are rebuilt from the topic as it is now", reason,
              (unsigned long long)st->events_applied);
    q->topic_resets++;
    snprintf(q->last_reset, sizeof(q->last_reset), "%s", reason);
    snprintf(q->snapshot_status, sizeof(q->snapshot_status), "rebuilt from the start of the topic after a reset");
    q->ready = false;
    views_t *old = q->views;
    views_config_t vc = query_views_config(q);
    evicted_log_reset(q->evicted);
    query_use_views(q, views_new(&vc));
    q->snapshot_version = UINT64_MAX; /* the empty state is saved at once */
    consumer_rewind(q->consumer, views_positions(q->views));
    views_free(old);
}

static void on_signal(uv_signal_t *s, int signum)
{
    query_t *q = s->data;
    log_info("shutdown", "signal %d: stopping", signum);
    query_begin_shutdown(q);
}

static int make_dir(const char *dir, char *errstr, size_t errstr_size)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "cannot create %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int query_start(query_t *q, uv_loop_t *loop, char *errstr, size_t errstr_size)
{
    q->loop = loop;
    q->started_us = timestamp_now_us();
    long size = q->cfg.window_seconds, slide = q->cfg.window_slide_seconds;
    if (slide > 0 && (slide > size || size % slide != 0 || size / slide > WINDOWS_MAX_PER_EVENT)) {
        snprintf(errstr, errstr_size,
                 "--window-slide-seconds %ld must divide --window-seconds %ld (at most %d windows per event)", slide,
                 size, WINDOWS_MAX_PER_EVENT);
        return -1;
    }
    const char *cors_error = q->cfg.cors_origin[0] != '\0' ? http_cors_origin_error(q->cfg.cors_origin) : NULL;
    if (cors_error != NULL) {
        snprintf(errstr, errstr_size, "--cors-origin %s: %s", q->cfg.cors_origin, cors_error);
        return -1;
    }
    metrics_histogram_init_latency(&q->latency);
    metrics_histogram_init_latency(&q->snapshot_pause_seconds);
    if (make_dir(q->cfg.state_dir, errstr, errstr_size) != 0 || make_dir(q->cfg.results_dir, errstr, errstr_size) != 0)
        return -1;
    q->codec = route_codec_new(errstr, errstr_size);
    if (q->codec == NULL)
        return -1;
    /*
     * Listen before the consumer exists: a port in use must fail start-up before the consumer's probe is on
     * the threadpool (freeing the consumer under a running probe crashed). Requests wait for uv_run.
     */
    q->http = http_server_new(loop, query_routes, query_routes_count, q);
    if (q->cfg.cors_origin[0] != '\0')
        http_server_set_cors_origin(q->http, q->cfg.cors_origin);
    if (http_server_listen(q->http, q->cfg.listen, (int)q->cfg.port, errstr, errstr_size) != 0)
        return -1;
    push_config_t pc = {q->cfg.push_interval_ms, q->cfg.push_heartbeat_ms, q->cfg.max_subscribers, PUSH_MAX_WAITING};
    q->push = push_new(loop, &pc);
    q->csv = results_csv_new(loop, q->cfg.results_dir);
    q->evicted = evicted_log_new(loop, q->cfg.results_dir);
    query_restore(q);
    /* The consumer reads where the restored state stands: it has no offsets of its own. */
    /* FRS_TEST_HOLD_PARTITIONS: tests only (a partition consumed later: tests/integration/test_query_event_time). */
    consumer_config_t cc = {q->cfg.bootstrap_servers, q->cfg.topic, &q->cfg.kafka_props,
                            getenv("FRS_TEST_HOLD_PARTITIONS")};
    consumer_callbacks_t cb = {on_message, on_deleted, on_reset, on_partitions, q};
    q->consumer = consumer_new(loop, &cc, &cb, views_positions(q->views), errstr, errstr_size);
    if (q->consumer == NULL)
        return -1;
    q->tables = tables_new();
    q->reference = reference_feed_new(loop, q->cfg.bootstrap_servers, q->cfg.topic, &q->cfg.kafka_props, q->tables,
                                      NULL, q, errstr, errstr_size);
    if (q->reference == NULL)
        return -1;

    uv_timer_init(loop, &q->snapshot_timer);
    q->snapshot_timer.data = q;
    uv_timer_start(&q->snapshot_timer, on_snapshot_timer, (uint64_t)q->cfg.snapshot_interval_ms,
                   (uint64_t)q->cfg.snapshot_interval_ms);
    uv_timer_init(loop, &q->current_timer);
    q->current_timer.data = q;
    uv_timer_start(&q->current_timer, on_current_timer, 1000, 1000);

    uv_signal_init(loop, &q->sigterm);
    uv_signal_init(loop, &q->sigint);
    q->sigterm.data = q->sigint.data = q;
    uv_signal_start(&q->sigterm, on_signal, SIGTERM);
    uv_signal_start(&q->sigint, on_signal, SIGINT);
    q->signals_watched = true;
    log_info("listening", "query-service on http://%s:%d, topic %s, Kafka %s", q->cfg.listen,
             http_server_port(q->http), q->cfg.topic, q->cfg.bootstrap_servers);
    return 0;
}

bool query_is_ready(query_t *q)
{
    if (q->shutting_down)
        return false;
    if (!q->ready && q->consumer != NULL &&
        (consumer_caught_up(q->consumer) || (q->restored && consumer_kafka_unreached(q->consumer))))
        q->ready = true;
    return q->ready;
}

int64_t query_state_age_seconds(const query_t *q)
{
    /* current_at_us moves on every second while the views are current: a request only reads the clock. */
    if (q->current_at_us <= 0)
        return -1;
    int64_t age = (timestamp_now_us() - q->current_at_us) / 1000000;
    return age > 0 ? age : 0;
}

#define SHUTDOWN_DEADLINE_MS 3000 /* within the 5 s promised, with room for the final writes */

/*
 * The final writes are done: the signals, watched until now so that a second one (a supervisor's SIGTERM after a
 * Ctrl-C) never killed the process in the middle of them, are closed; that restores their default action, so from
 * now on they are ignored.
 */
static void on_final_written(void *data)
{
    query_t *q = data;
    if (--q->final_writes_left > 0)
        return;
    uv_close((uv_handle_t *)&q->sigterm, NULL);
    uv_close((uv_handle_t *)&q->sigint, NULL);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
}

/* Slow clients still hold connections: once nothing else is left, the loop ends without them. */
static void on_deadline(uv_timer_t *t)
{
    query_t *q = t->data;
    if (q->final_writes_left > 0 || consumer_busy(q->consumer) || reference_feed_busy(q->reference)) {
        uv_timer_start(t, on_deadline, 100, 0); /* bounded: each has its timeout */
        return;
    }
    log_warn("shutdown_deadline", "HTTP connections still open after %d ms: stopping without them",
             SHUTDOWN_DEADLINE_MS);
    uv_stop(q->loop);
}

void query_begin_shutdown(query_t *q)
{
    if (q->shutting_down)
        return;
    q->shutting_down = true;
    push_close(q->push); /* the streams end: http_server_stop waits for every response to finish */
    http_server_stop(q->http);
    consumer_close(q->consumer);
    reference_feed_close(q->reference);
    uv_close((uv_handle_t *)&q->snapshot_timer, NULL);
    uv_close((uv_handle_t *)&q->current_timer, NULL);
    uv_timer_init(q->loop, &q->deadline_timer);
    q->deadline_timer.data = q;
    uv_timer_start(&q->deadline_timer, on_deadline, SHUTDOWN_DEADLINE_MS, 0);
    uv_unref((uv_handle_t *)&q->deadline_timer); /* it fires only if something else still keeps the loop going */
    q->final_writes_left = 3; /* the snapshot, the CSV files, equipment_windows.csv */
    if (!q->snapshot_running)
        query_final_snapshot(q); /* else once the running one ends (snapshot_done) */
}

bool query_free(query_t *q)
{
    bool clean = true;
    if (q->shutting_down)
        uv_close((uv_handle_t *)&q->deadline_timer, NULL);
    /* Start-up failed after the writers began: they close now (their timers would keep the loop alive). */
    if (q->csv != NULL)
        results_csv_close(q->csv, NULL, NULL);
    if (q->evicted != NULL)
        evicted_log_close(q->evicted, NULL, NULL);
    if (q->consumer != NULL)
        consumer_free(q->consumer);
    reference_feed_free(q->reference);
    tables_free(q->tables);
    if (q->views != NULL)
        views_free(q->views);
    if (q->codec != NULL)
        route_codec_free(q->codec);
    buf_free(&q->snapshot_buf);
    buf_free(&q->snapshot_evicted.pending);
    buf_free(&q->top_airports.body);
    buf_free(&q->top_windows.body);
    if (q->http != NULL)
        clean = http_server_free(q->http);
    push_free(q->push);
    free(q->seen_us);
    config_kv_free(&q->cfg.kafka_props);
    return clean;
}
