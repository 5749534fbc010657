#include "handlers_joined.h"

#include <json-c/json.h>
#include <stdio.h>

#include "http_cache.h"
#include "joined.h"
#include "metrics.h"
#include "query.h"
#include "query_string.h"

#define JOINED_MAX_N 1000000

typedef struct json_object *(*joined_fn)(views_t *v, const tables_t *t, size_t n);

/*
 * A joined view: `n` (default_n when absent; 0: all), an ETag of the views' set, their version and the tables'
 * version (a correction on a reference topic changes the answer as much as an event does), then the rows.
 */
static void send_joined(h2o_req_t *req, query_t *q, const char *message, joined_fn fn, long default_n)
{
    static const char *const allowed[] = {"n", NULL};
    char err[256];
    size_t qlen;
    const char *qs = http_req_query_checked(req, allowed, &qlen);
    long n = default_n;
    if (qs == NULL)
        return;
    if (query_string_get_long(qs, qlen, "n", 1, JOINED_MAX_N, &n, err, sizeof(err)) != 0) {
        http_send_error(req, 400, "%s", err);
        return;
    }
    char etag[HTTP_ETAG_MAX];
    http_etag_format(etag, q->views_epoch, views_version(q->views), tables_version(q->tables));
    if (http_answer_if_unchanged(req, etag))
        return;
    struct json_object *rows = fn(q->views, q->tables, (size_t)n);
    http_send_envelope(req, 200, false, message, rows);
    json_object_put(rows);
}

void handlers_source_airports(h2o_req_t *req, void *data)
{
    send_joined(req, data, "source_airports", joined_source_airports, 0);
}

void handlers_routes_per_country(h2o_req_t *req, void *data)
{
    send_joined(req, data, "routes_per_country", joined_countries, 10);
}

void handlers_routes_per_airline(h2o_req_t *req, void *data)
{
    send_joined(req, data, "routes_per_airline", joined_airlines, 10);
}

void handlers_equipment(h2o_req_t *req, void *data)
{
    send_joined(req, data, "equipment", joined_planes, 10);
}

void handlers_longest_routes(h2o_req_t *req, void *data)
{
    send_joined(req, data, "longest_routes", joined_longest_routes, 10);
}

/* Per table: its topic, whether it was read to its end, its size and what could not be matched against it. */
void handlers_reference(h2o_req_t *req, void *data)
{
    query_t *q = data;
    static const char *const allowed[] = {NULL};
    size_t qlen;
    if (http_req_query_checked(req, allowed, &qlen) == NULL)
        return;
    struct json_object *o = json_object_new_object();
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        reference_kind_t kind = (reference_kind_t)k;
        tables_stats_t st;
        tables_stats(q->tables, kind, &st);
        joined_unmatched_t um;
        joined_unmatched(q->views, q->tables, kind, &um);
        char topic[512];
        reference_kind_topic(q->cfg.topic, kind, topic, sizeof(topic));
        struct json_object *t = json_object_new_object();
        json_object_object_add(t, "entries", json_object_new_int64((int64_t)st.entries));
        json_object_object_add(t, "invalid", json_object_new_int64((int64_t)st.invalid));
        json_object_object_add(t, "messages", json_object_new_int64((int64_t)st.messages));
        json_object_object_add(t, "partitions", json_object_new_int(reference_feed_partitions(q->reference, kind)));
        json_object_object_add(t, "resets", json_object_new_int64((int64_t)reference_feed_resets(q->reference, kind)));
        json_object_object_add(t, "tombstones", json_object_new_int64((int64_t)st.tombstones));
        json_object_object_add(t, "topic", json_object_new_string(topic));
        json_object_object_add(t, "unmatched_codes", json_object_new_int64((int64_t)um.codes));
        json_object_object_add(t, "unmatched_events", json_object_new_int64((int64_t)um.events));
        json_object_object_add(o, reference_kind_name(kind), t);
    }
    json_object_object_add(o, "loaded", json_object_new_boolean(reference_feed_loaded(q->reference)));
    struct json_object *arr = json_object_new_array();
    json_object_array_add(arr, o);
    http_send_envelope(req, 200, false, "reference", arr);
    json_object_put(arr);
}

void handlers_reference_metrics(query_t *q, buf_t *out)
{
    static const struct {
        const char *name, *help;
        bool counter;
    } series[] = {
        {"query_reference_entries", "Codes held in each reference table.", false},
        {"query_reference_messages_total", "Messages read from each reference topic.", true},
        {"query_reference_invalid_total", "Reference messages skipped: their value is not an entry.", true},
        {"query_reference_resets_total", "Times a reference table started over: its topic deleted or created again.",
         true},
    };
    for (size_t i = 0; i < sizeof(series) / sizeof(series[0]); i++) {
        for (int k = 0; k < REFERENCE_KINDS; k++) {
            tables_stats_t st;
            tables_stats(q->tables, (reference_kind_t)k, &st);
            double v = i == 0   ? (double)st.entries
                       : i == 1 ? (double)st.messages
                       : i == 2 ? (double)st.invalid
                                : (double)reference_feed_resets(q->reference, (reference_kind_t)k);
            char label[32];
            snprintf(label, sizeof(label), "table=\"%s\"", reference_kind_name((reference_kind_t)k));
            if (k > 0)
                metrics_write_sample(out, series[i].name, label, v);
            else if (series[i].counter)
                metrics_write_counter(out, series[i].name, series[i].help, label, v);
            else
                metrics_write_gauge(out, series[i].name, series[i].help, label, v);
        }
    }
    metrics_write_gauge(out, "query_reference_loaded", "1 once every reference topic was read to its end.", "",
                        reference_feed_loaded(q->reference) ? 1 : 0);
}
