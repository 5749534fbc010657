#include "replay_report.h"

#include <math.h>

#include "envelope.h"

static void summary_add(struct json_object *arr, const char *key, struct json_object *value)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, key, value);
    json_object_array_add(arr, o);
}

static struct json_object *percent_of(uint64_t part, uint64_t total)
{
    return envelope_new_pyfloat(total == 0 ? 0.0 : envelope_round2((double)part / (double)total * 100.0));
}

struct json_object *replay_report_summary(const replay_counts_t *c)
{
    struct json_object *arr = json_object_new_array();
    summary_add(arr, "Total count", json_object_new_int64((int64_t)c->lines));
    summary_add(arr, "Total count (%)", envelope_new_pyfloat(c->lines == 0 ? 0.0 : 100.0));
    summary_add(arr, "Total success", json_object_new_int64((int64_t)c->delivered));
    summary_add(arr, "Total success (%)", percent_of(c->delivered, c->lines));
    summary_add(arr, "Total errors by var transform", json_object_new_int64((int64_t)c->transform_errors));
    summary_add(arr, "Total errors by var transform (%)", percent_of(c->transform_errors, c->lines));
    summary_add(arr, "Total errors by invalid schema", json_object_new_int64((int64_t)c->schema_errors));
    summary_add(arr, "Total errors by invalid schema (%)", percent_of(c->schema_errors, c->lines));
    if (c->failed > 0)
        summary_add(arr, "Total delivery failures", json_object_new_int64((int64_t)c->failed));
    return arr;
}

static const char *state_name(replay_state_t s)
{
    switch (s) {
    case REPLAY_RUNNING:
        return "running";
    case REPLAY_DRAINING:
        return "draining";
    case REPLAY_FINISHED:
        return "finished";
    }
    return "unknown";
}

struct json_object *replay_report_progress(const replay_info_t *job)
{
    const replay_counts_t *c = job->counts;
    /* Keys in sorted order: Flask's jsonify sorts them. */
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "dead_letters", json_object_new_int64((int64_t)(c->dead_letters_delivered)));
    json_object_object_add(o, "delivered", json_object_new_int64((int64_t)c->delivered));
    json_object_object_add(o, "delivery_error",
                           job->delivery_error ? json_object_new_string(job->delivery_error) : NULL);
    json_object_object_add(o, "elapsed_seconds", envelope_new_pyfloat(round((double)job->elapsed_us / 1e3) / 1e3));
    json_object_object_add(o, "error", job->error ? json_object_new_string(job->error) : NULL);
    json_object_object_add(o, "failed", json_object_new_int64((int64_t)c->failed));
    json_object_object_add(o, "file", json_object_new_string(job->source));
    json_object_object_add(o, "id", json_object_new_string(job->id));
    json_object_object_add(o, "in_flight", json_object_new_int64((int64_t)c->in_flight));
    json_object_object_add(o, "limit", json_object_new_int64((int64_t)job->limit));
    json_object_object_add(o, "lines", json_object_new_int64((int64_t)c->lines));
    json_object_object_add(o, "loop", json_object_new_boolean(job->loop));
    json_object_object_add(o, "passes", json_object_new_int64((int64_t)c->passes));
    json_object_object_add(o, "rate", envelope_new_pyfloat(job->rate));
    json_object_object_add(o, "schema_errors", json_object_new_int64((int64_t)c->schema_errors));
    json_object_object_add(o, "state", json_object_new_string(state_name(job->state)));
    json_object_object_add(o, "transform_errors", json_object_new_int64((int64_t)c->transform_errors));
    return o;
}
