/*
 * The query-service's HTTP routes: the seed's views, /status and the probes.
 * The top views are rendered once per change of the views and served from that cache.
 */
#include <string.h>

#include "envelope.h"
#include "handlers_joined.h"
#include "http_cache.h"
#include "query.h"
#include "query_string.h"
#include "render.h"
#include "timestamp.h"
#include "ui.h"

/* Rows rendered per chunk of a streamed /dump_table. */
#define DUMP_ROWS_PER_CHUNK 512

static void on_index(h2o_req_t *req, void *data)
{
    (void)data;
    static const char *const endpoints[] = {"GET /",           "GET /top10_source_airport",
                                            "GET /top10_equipment_30min_window", "GET /windows",
                                            "GET /dump_table", "GET /status", "GET /healthz", "GET /readyz",
                                            "GET /metrics", "GET /stream/top10_source_airport",
                                            "GET /stream/top10_equipment_30min_window", "GET /stream/events",
                                            "GET /source_airports", "GET /routes_per_country",
                                            "GET /routes_per_airline", "GET /equipment", "GET /longest_routes",
                                            "GET /reference", "GET /ui", NULL};
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; endpoints[i] != NULL; i++)
        json_object_array_add(arr, json_object_new_string(endpoints[i]));
    http_send_envelope(req, 200, false, "Welcome to the query-service: views of the AirlineRouteEvent stream", arr);
    json_object_put(arr);
}

/* The `n` parameter of the top views. @returns 0, or -1 after answering 400. */
static int top_n_param(h2o_req_t *req, long *n)
{
    static const char *const allowed[] = {"n", NULL};
    char err[256];
    size_t qlen;
    const char *qs = http_req_query_checked(req, allowed, &qlen);
    *n = RENDER_TOP_DEFAULT;
    if (qs == NULL)
        return -1;
    if (query_string_get_long(qs, qlen, "n", 1, RENDER_TOP_MAX, n, err, sizeof(err)) != 0) {
        http_send_error(req, 400, "%s", err);
        return -1;
    }
    return 0;
}

/*
 * X-State-Age-Seconds on every view: how long ago the views last held all the topic held (0 while they do; while
 * Kafka is down, the age of the last state served). Absent when never known (no snapshot, Kafka never reached).
 */
static void add_state_age(h2o_req_t *req, query_t *q)
{
    int64_t age = query_state_age_seconds(q);
    if (age < 0)
        return;
    char value[24];
    snprintf(value, sizeof(value), "%lld", (long long)age);
    http_add_header(req, "x-state-age-seconds", value);
}

/*
 * A view's ETag: which set of views (a new one after a restart or a topic reset), and what the view depends on
 * in it: the events applied (airport counts, recent events), or the version and the watermark (windows close and
 * go with the clock). @returns true when the client holds it already: answered 304, nothing rendered.
 */
static bool answer_if_unchanged(h2o_req_t *req, query_t *q, uint64_t changes, uint64_t extra)
{
    char etag[HTTP_ETAG_MAX];
    http_etag_format(etag, q->views_epoch, changes, extra);
    return http_answer_if_unchanged(req, etag);
}

static uint64_t events_applied(query_t *q)
{
    return views_stats(q->views)->events_applied;
}

typedef void (*render_fn)(query_t *q, long n, buf_t *out);

static void render_airports_callback(query_t *q, long n, buf_t *out)
{
    render_top_airports(q->views, (size_t)n, out);
}

static void render_windows_callback(query_t *q, long n, buf_t *out)
{
    render_top_windows(q->views, (size_t)n, out);
}

/* The default n is served from a cache rendered once per change of the views. */
static void send_top(h2o_req_t *req, query_t *q, query_cache_t *cache, render_fn render, uint64_t changes)
{
    long n;
    if (top_n_param(req, &n) != 0)
        return;
    add_state_age(req, q);
    if (answer_if_unchanged(req, q, changes, 0))
        return;
    if (n != RENDER_TOP_DEFAULT) {
        buf_t out = BUF_INIT;
        render(q, n, &out);
        http_send(req, 200, "application/json", out.data, out.len);
        buf_free(&out);
        return;
    }
    uint64_t version = views_version(q->views);
    if (cache->version != version) {
        buf_reset(&cache->body);
        render(q, n, &cache->body);
        cache->version = version;
    }
    http_send(req, 200, "application/json", cache->body.data, cache->body.len);
}

static void on_top_airports(h2o_req_t *req, void *data)
{
    query_t *q = data;
    send_top(req, q, &q->top_airports, render_airports_callback, events_applied(q));
}

static void on_top_windows(h2o_req_t *req, void *data)
{
    query_t *q = data;
    send_top(req, q, &q->top_windows, render_windows_callback, views_version(q->views));
}

static struct json_object *event_time_json(bool has, int64_t us);

/* ---- /windows: every window held, and why it is or is not final ---- */

static const char *window_state(const windows_t *w, const window_info_t *info, bool has_wm, int64_t wm)
{
    if (!has_wm || info->end_us > wm)
        return "open";
    /* The next watermark step of one slide evicts it. */
    return info->end_us + windows_retention_us(w) <= wm + windows_slide_us(w) ? "evicting" : "closed";
}

#define WINDOWS_MAX_EQUIPMENT 32

/*
 * `equipment`: a comma-separated list of codes (at most WINDOWS_MAX_EQUIPMENT) whose exact count in each window
 * /windows adds under "counts" (a chart's series need every window's count, which a top-n cuts off).
 * @returns how many, their pointers and lengths into list (each NUL-terminated there); -1 with err when malformed.
 */
static int equipment_param(const char *qs, size_t qlen, char *list, size_t list_size,
                           const char *codes[WINDOWS_MAX_EQUIPMENT], size_t lens[WINDOWS_MAX_EQUIPMENT], char *err,
                           size_t err_size)
{
    long len = query_string_get(qs, qlen, "equipment", list, list_size);
    if (len == -1)
        return 0;
    if (len < 0) {
        snprintf(err, err_size, "parameter 'equipment' is malformed or longer than %zu bytes", list_size - 1);
        return -1;
    }
    int n = 0;
    for (char *p = list, *end = list + len; p <= end && len > 0;) {
        char *comma = memchr(p, ',', (size_t)(end - p));
        char *stop = comma != NULL ? comma : end;
        if (n == WINDOWS_MAX_EQUIPMENT) {
            snprintf(err, err_size, "parameter 'equipment' names more than %d codes", WINDOWS_MAX_EQUIPMENT);
            return -1;
        }
        *stop = '\0'; /* each code NUL-terminated in place: a JSON key */
        codes[n] = p;
        lens[n++] = (size_t)(stop - p);
        p = stop + 1;
    }
    return n;
}

static void on_windows(h2o_req_t *req, void *data)
{
    query_t *q = data;
    static const char *const allowed[] = {"equipment", NULL};
    char err[256], list[1024];
    const char *codes[WINDOWS_MAX_EQUIPMENT];
    size_t lens[WINDOWS_MAX_EQUIPMENT];
    size_t qlen;
    const char *qs = http_req_query_checked(req, allowed, &qlen);
    if (qs == NULL)
        return;
    int n_codes = equipment_param(qs, qlen, list, sizeof(list), codes, lens, err, sizeof(err));
    if (n_codes < 0) {
        http_send_error(req, 400, "%s", err);
        return;
    }
    const windows_t *w = views_windows(q->views);
    int64_t wm;
    bool has_wm = windows_watermark(w, &wm);
    add_state_age(req, q);
    if (answer_if_unchanged(req, q, views_version(q->views), has_wm ? (uint64_t)wm : UINT64_MAX))
        return;
    struct json_object *arr = json_object_new_array_ext((int)windows_held(w));
    char start[TIMESTAMP_WINDOW_LEN + 1], end[TIMESTAMP_WINDOW_LEN + 1], evicts[TIMESTAMP_WINDOW_LEN + 1];
    for (size_t i = 0; i < windows_held(w); i++) {
        window_info_t info;
        windows_info(w, i, &info);
        timestamp_format_window(info.start_us, start);
        timestamp_format_window(info.end_us, end);
        timestamp_format_window(info.end_us + windows_retention_us(w), evicts);
        /* Keys in sorted order, as the envelope keeps them. */
        struct json_object *o = json_object_new_object();
        if (n_codes > 0) {
            struct json_object *counts = json_object_new_object();
            for (int c = 0; c < n_codes; c++) {
                uint64_t count = windows_get(w, info.start_us, codes[c], lens[c]);
                json_object_object_add(counts, codes[c], json_object_new_int64((int64_t)count));
            }
            json_object_object_add(o, "counts", counts);
        }
        json_object_object_add(o, "end", json_object_new_string(end));
        json_object_object_add(o, "equipment", json_object_new_int64((int64_t)info.equipment));
        json_object_object_add(o, "events", json_object_new_int64((int64_t)info.events));
        json_object_object_add(o, "evicted_at_watermark", json_object_new_string(evicts));
        json_object_object_add(o, "start", json_object_new_string(start));
        json_object_object_add(o, "state", json_object_new_string(window_state(w, &info, has_wm, wm)));
        json_object_object_add(o, "top_count", json_object_new_int64((int64_t)info.top.count));
        json_object_object_add(o, "top_equipment", json_object_new_string_len(info.top.key, (int)info.top.len));
        json_object_object_add(o, "watermark", event_time_json(has_wm, wm));
        json_object_array_add(arr, o);
    }
    http_send_envelope(req, 200, false, "windows", arr);
    json_object_put(arr);
}

/* ---- /dump_table: streamed by absolute sequence number, so rows arriving meanwhile do not shift it ---- */

typedef struct dump_stream_s {
    query_t *q;
    uint64_t resets; /* q->topic_resets at the start: the rows are of those views only */
    uint64_t next_seq;
    uint64_t end_seq;
    bool started;
    bool first_row;
} dump_stream_t;

static bool fill_dump(void *data, buf_t *out)
{
    dump_stream_t *d = data;
    if (!d->started) {
        buf_append_str(out, "{\"data\":[");
        d->started = true;
    }
    recent_t *recent = views_recent(d->q->views);
    /* The views were rebuilt after a topic reset meanwhile: their sequence numbers are not these. */
    if (d->q->topic_resets != d->resets)
        d->next_seq = d->end_seq;
    for (int i = 0; i < DUMP_ROWS_PER_CHUNK && d->next_seq < d->end_seq; i++, d->next_seq++) {
        recent_row_t row;
        /* A row overwritten since the response began is gone; the stream goes on with the next one. */
        if (!recent_get_seq(recent, d->next_seq, &row))
            continue;
        if (!d->first_row)
            buf_append_char(out, ',');
        d->first_row = false;
        render_event_row(out, &row);
    }
    if (d->next_seq < d->end_seq)
        return true;
    buf_append_str(out, "],\"error\":false,\"message\":\"dump_table\",\"statusCode\":200}\n");
    return false;
}

static void on_dump_table(h2o_req_t *req, void *data)
{
    query_t *q = data;
    static const char *const allowed[] = {"limit", "offset", NULL};
    char err[256];
    size_t qlen;
    const char *qs = http_req_query_checked(req, allowed, &qlen);
    if (qs == NULL)
        return;
    recent_t *recent = views_recent(q->views);
    uint64_t count = recent_count(recent);
    long limit = (long)count, offset = 0;
    if (query_string_get_long(qs, qlen, "limit", 0, 100000000, &limit, err, sizeof(err)) != 0 ||
        query_string_get_long(qs, qlen, "offset", 0, 100000000, &offset, err, sizeof(err)) != 0) {
        http_send_error(req, 400, "%s", err);
        return;
    }
    uint64_t first = recent_total_pushed(recent) - count; /* sequence number of the oldest row held */
    uint64_t start = first + ((uint64_t)offset < count ? (uint64_t)offset : count);
    uint64_t end = start + (uint64_t)limit;
    if (end > first + count)
        end = first + count;
    add_state_age(req, q);
    if (answer_if_unchanged(req, q, events_applied(q), 0))
        return;
    dump_stream_t *d = h2o_mem_alloc_pool(&req->pool, sizeof(*d));
    *d = (dump_stream_t){q, q->topic_resets, start, end, false, true};
    http_send_stream(req, 200, "application/json", fill_dump, NULL, d);
}

/* ---- /stream/: the views live, as server-sent events (push.c) ---- */

/* The Last-Event-ID header, NUL-terminated in out, or NULL when absent (or longer than any id we send). */
static const char *last_event_id(h2o_req_t *req, char *out, size_t out_size)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT("last-event-id"), -1);
    if (i == -1 || req->headers.entries[i].value.len >= out_size)
        return NULL;
    memcpy(out, req->headers.entries[i].value.base, req->headers.entries[i].value.len);
    out[req->headers.entries[i].value.len] = '\0';
    return out;
}

static void stream_top(h2o_req_t *req, query_t *q, push_stream_t stream)
{
    long n;
    if (top_n_param(req, &n) != 0)
        return;
    char id[128];
    push_subscribe(q->push, req, stream, (size_t)n, NULL, last_event_id(req, id, sizeof(id)));
}

static void on_stream_top_airports(h2o_req_t *req, void *data)
{
    stream_top(req, data, PUSH_TOP_AIRPORTS);
}

static void on_stream_top_windows(h2o_req_t *req, void *data)
{
    stream_top(req, data, PUSH_TOP_WINDOWS);
}

/* Filter values: codes and equipment lists are short; a longer value is refused rather than never matched. */
#define FILTER_MAX 64

static void on_stream_events(h2o_req_t *req, void *data)
{
    query_t *q = data;
    static const char *const names[] = {"source_airport", "destination_airport", "airline", "equipment", NULL};
    size_t qlen;
    const char *qs = http_req_query_checked(req, names, &qlen);
    if (qs == NULL)
        return;
    char values[4][FILTER_MAX + 1];
    const char *given[4];
    for (size_t i = 0; i < 4; i++) {
        long len = query_string_get(qs, qlen, names[i], values[i], sizeof(values[i]));
        if (len == -2) {
            http_send_error(req, 400, "parameter '%s' must be a well-formed value of at most %d bytes", names[i],
                            FILTER_MAX);
            return;
        }
        given[i] = len >= 0 ? values[i] : NULL;
    }
    push_filter_t filter = {given[0], given[1], given[2], given[3]};
    char id[128];
    push_subscribe(q->push, req, PUSH_EVENTS, 0, &filter, last_event_id(req, id, sizeof(id)));
}

/* ---- status and probes ---- */

/* An event time as the events carry it ("YYYY-MM-DD HH:MM:SS.ffffff"), or null. */
static struct json_object *event_time_json(bool has, int64_t us)
{
    if (!has)
        return NULL;
    char when[TIMESTAMP_EVENT_LEN + 1];
    timestamp_format_event(us, when);
    return json_object_new_string(when);
}

/* Where the state stands in partition p, beside what the consumer last saw of it (end -1: not seen yet). */
static struct json_object *partition_json(query_t *q, size_t p, int64_t end, int64_t *lag)
{
    position_t pos = positions_get(views_positions(q->views), (int32_t)p);
    *lag = end >= 0 ? end - pos.next_offset : -1;
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "end_offset", json_object_new_int64(end));
    json_object_object_add(o, "event_time", event_time_json(pos.has_time, pos.event_us));
    json_object_object_add(o, "idle", json_object_new_boolean(views_partition_idle(q->views, (int32_t)p)));
    json_object_object_add(o, "lag", json_object_new_int64(*lag));
    json_object_object_add(o, "next_offset", json_object_new_int64(pos.next_offset));
    json_object_object_add(o, "offsets_skipped", json_object_new_int64((int64_t)pos.skipped));
    json_object_object_add(o, "partition", json_object_new_int((int)p));
    return o;
}

static void on_status(h2o_req_t *req, void *data)
{
    query_t *q = data;
    size_t n;
    const consumer_partition_t *parts = consumer_partitions(q->consumer, &n);
    size_t known = positions_count(views_positions(q->views));
    struct json_object *partitions = json_object_new_array();
    int64_t total_lag = 0;
    /* The state's partitions too: with Kafka down, where the state stands is still known. */
    for (size_t i = 0; i < (n > known ? n : known); i++) {
        int64_t lag;
        json_object_array_add(partitions, partition_json(q, i, i < n ? parts[i].end_offset : -1, &lag));
        if (lag > 0)
            total_lag += lag;
    }
    const views_stats_t *st = views_stats(q->views);
    int64_t age = query_state_age_seconds(q);
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "events_applied", json_object_new_int64((int64_t)st->events_applied));
    json_object_object_add(o, "kafka_error",
                           consumer_kafka_ok(q->consumer) ? NULL : json_object_new_string(consumer_last_error(q->consumer)));
    json_object_object_add(o, "lag", json_object_new_int64(total_lag));
    json_object_object_add(o, "last_topic_reset", q->last_reset[0] ? json_object_new_string(q->last_reset) : NULL);
    json_object_object_add(o, "late_events", json_object_new_int64((int64_t)st->late_events));
    json_object_object_add(o, "offsets_skipped", json_object_new_int64((int64_t)st->offsets_skipped));
    json_object_object_add(o, "partitions", partitions);
    json_object_object_add(o, "ready", json_object_new_boolean(query_is_ready(q)));
    json_object_object_add(o, "recent_events", json_object_new_int64((int64_t)recent_count(views_recent(q->views))));
    json_object_object_add(o, "snapshot", json_object_new_string(q->snapshot_status));
    json_object_object_add(o, "snapshots_written", json_object_new_int64((int64_t)q->snapshots_written));
    json_object_object_add(o, "source_airports", json_object_new_int64((int64_t)st->source_airports));
    json_object_object_add(o, "state_age_seconds", age >= 0 ? json_object_new_int64(age) : NULL);
    json_object_object_add(o, "state_bytes", json_object_new_int64((int64_t)st->state_bytes));
    json_object_object_add(o, "topic", json_object_new_string(q->cfg.topic));
    json_object_object_add(o, "topic_resets", json_object_new_int64((int64_t)q->topic_resets));
    json_object_object_add(o, "undecodable_messages", json_object_new_int64((int64_t)st->undecodable));
    json_object_object_add(o, "watermark", event_time_json(st->has_watermark, st->watermark_us));
    json_object_object_add(o, "windows_held", json_object_new_int64((int64_t)st->windows_held));
    struct json_object *arr = json_object_new_array();
    json_object_array_add(arr, o);
    add_state_age(req, q);
    http_send_envelope(req, 200, false, "status", arr);
    json_object_put(arr);
}

static void on_healthz(h2o_req_t *req, void *data)
{
    (void)data;
    http_send_envelope(req, 200, false, "healthz", NULL);
}

static void on_readyz(h2o_req_t *req, void *data)
{
    query_t *q = data;
    if (query_is_ready(q))
        http_send_envelope(req, 200, false, "readyz", NULL);
    else if (!consumer_kafka_ok(q->consumer))
        http_send_error(req, 503, "not ready: %s", consumer_last_error(q->consumer));
    else if (q->topic_resets > 0)
        http_send_error(req, 503, "not ready: rebuilding the views from the topic after a reset");
    else
        http_send_error(req, 503, "not ready: catching up with the end offsets seen at start");
}

static void write_push_metrics(buf_t *out, const push_t *push)
{
    const push_stats_t *ps = push_stats(push);
    for (int st = 0; st < PUSH_STREAMS; st++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "stream=\"%s\"", push_stream_name((push_stream_t)st));
        if (st == 0)
            metrics_write_gauge(out, "query_stream_subscribers", "Open /stream/ subscriptions.", labels,
                                (double)push_subscribers(push, (push_stream_t)st));
        else
            metrics_write_sample(out, "query_stream_subscribers", labels, (double)push_subscribers(push, (push_stream_t)st));
    }
    for (int st = 0; st < PUSH_STREAMS; st++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "stream=\"%s\"", push_stream_name((push_stream_t)st));
        if (st == 0)
            metrics_write_counter(out, "query_stream_messages_total", "Messages sent on /stream/ subscriptions.",
                                  labels, (double)ps->messages_sent[st]);
        else
            metrics_write_sample(out, "query_stream_messages_total", labels, (double)ps->messages_sent[st]);
    }
    metrics_write_counter(out, "query_stream_dropped_slow_total",
                          "/stream/events clients dropped because they could not keep up.", "",
                          (double)ps->dropped_slow);
    metrics_write_histogram(out, "query_stream_fanout_seconds",
                            "Per interval: from the first view subscriber handed its new state to the last.",
                            &ps->fanout_seconds);
    metrics_write_counter(out, "query_stream_refused_total", "/stream/ subscriptions refused (--max-subscribers).",
                          "", (double)ps->refused);
}

static void on_metrics(h2o_req_t *req, void *data)
{
    query_t *q = data;
    const views_stats_t *st = views_stats(q->views);
    size_t n;
    const consumer_partition_t *parts = consumer_partitions(q->consumer, &n);
    buf_t out = BUF_INIT;
    metrics_write_counter(&out, "query_events_applied_total", "Events applied to the views.", "",
                          (double)st->events_applied);
    metrics_write_counter(&out, "query_undecodable_messages_total", "Messages skipped because they did not decode.", "",
                          (double)st->undecodable);
    metrics_write_counter(&out, "query_offsets_skipped_total",
                          "Offsets deleted from the topic (retention) before they were read.", "",
                          (double)st->offsets_skipped);
    metrics_write_counter(&out, "query_topic_resets_total",
                          "Rebuilds because the topic was not the one the views were built from.", "",
                          (double)q->topic_resets);
    int64_t age = query_state_age_seconds(q);
    metrics_write_gauge(&out, "query_state_age_seconds",
                        "Seconds since the views last held all the topic held (-1: never known).", "", (double)age);
    metrics_write_gauge(&out, "query_kafka_up", "1 when the last probe reached Kafka.", "",
                        consumer_kafka_ok(q->consumer) ? 1 : 0);
    metrics_write_counter(&out, "query_late_events_total", "Events dropped because their window had closed.", "",
                          (double)st->late_events);
    metrics_write_gauge(&out, "query_windows_held", "Equipment windows in memory.", "", (double)st->windows_held);
    metrics_write_gauge(&out, "query_state_bytes", "Approximate bytes held by the views.", "", (double)st->state_bytes);
    metrics_write_gauge(&out, "query_ready", "1 once restored and caught up.", "", query_is_ready(q) ? 1 : 0);
    metrics_write_counter(&out, "query_snapshots_written_total", "Snapshots written.", "", (double)q->snapshots_written);
    metrics_write_histogram(&out, "query_snapshot_pause_seconds",
                            "The event loop's pause for each periodic snapshot: the fork of the child writing it.",
                            &q->snapshot_pause_seconds);
    metrics_write_counter(&out, "query_fetch_kicks_total",
                          "Fetcher wake-ups sent while the prefetch queue was dry and a partition lagged.", "",
                          (double)consumer_fetch_kicks(q->consumer));
    write_push_metrics(&out, q->push);
    for (size_t i = 0; i < n; i++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "partition=\"%d\"", (int)parts[i].partition);
        int64_t next = positions_get(views_positions(q->views), parts[i].partition).next_offset;
        int64_t lag = parts[i].end_offset >= 0 ? parts[i].end_offset - next : 0;
        if (i == 0)
            metrics_write_gauge(&out, "query_consumer_lag", "Messages between the next offset and the end.", labels,
                                (double)(lag > 0 ? lag : 0));
        else
            metrics_write_sample(&out, "query_consumer_lag", labels, (double)(lag > 0 ? lag : 0));
    }
    if (st->has_watermark)
        metrics_write_gauge(&out, "query_watermark_seconds", "The windows' watermark (event time, Unix seconds).", "",
                            (double)st->watermark_us / 1e6);
    const positions_t *positions = views_positions(q->views);
    for (size_t p = 0; p < positions_count(positions); p++) {
        char labels[64];
        snprintf(labels, sizeof(labels), "partition=\"%zu\"", p);
        bool idle = views_partition_idle(q->views, (int32_t)p);
        if (p == 0) {
            metrics_write_gauge(&out, "query_partition_idle", "1 while the partition does not hold the watermark.",
                                labels, idle ? 1 : 0);
        } else {
            metrics_write_sample(&out, "query_partition_idle", labels, idle ? 1 : 0);
        }
    }
    for (size_t p = 0, first = 1; p < positions_count(positions); p++) {
        position_t pos = positions_get(positions, (int32_t)p);
        if (!pos.has_time)
            continue;
        char labels[64];
        snprintf(labels, sizeof(labels), "partition=\"%zu\"", p);
        if (first)
            metrics_write_gauge(&out, "query_partition_event_time_seconds",
                                "The latest event time applied from the partition (Unix seconds).", labels,
                                (double)pos.event_us / 1e6);
        else
            metrics_write_sample(&out, "query_partition_event_time_seconds", labels, (double)pos.event_us / 1e6);
        first = 0;
    }
    metrics_write_histogram(&out, "query_event_to_view_latency_seconds",
                            "From the event's datetime to its application in the views.", &q->latency);
    handlers_reference_metrics(q, &out);
    http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

const http_route_t query_routes[] = {
    {"/", false, HTTP_GET, on_index},
    {"/top10_source_airport", false, HTTP_GET, on_top_airports},
    {"/top10_equipment_30min_window", false, HTTP_GET, on_top_windows},
    {"/windows", false, HTTP_GET, on_windows},
    {"/source_airports", false, HTTP_GET, handlers_source_airports},
    {"/routes_per_country", false, HTTP_GET, handlers_routes_per_country},
    {"/routes_per_airline", false, HTTP_GET, handlers_routes_per_airline},
    {"/equipment", false, HTTP_GET, handlers_equipment},
    {"/longest_routes", false, HTTP_GET, handlers_longest_routes},
    {"/reference", false, HTTP_GET, handlers_reference},
    {"/dump_table", false, HTTP_GET, on_dump_table},
    {"/status", false, HTTP_GET, on_status},
    {"/healthz", false, HTTP_GET, on_healthz},
    {"/readyz", false, HTTP_GET, on_readyz},
    {"/metrics", false, HTTP_GET, on_metrics},
    {"/stream/top10_source_airport", false, HTTP_GET, on_stream_top_airports},
    {"/stream/top10_equipment_30min_window", false, HTTP_GET, on_stream_top_windows},
    {"/stream/events", false, HTTP_GET, on_stream_events},
    {"/ui", false, HTTP_GET, ui_on_req},
    {"/ui/", true, HTTP_GET, ui_on_req},
};
const size_t query_routes_count = sizeof(query_routes) / sizeof(query_routes[0]);
