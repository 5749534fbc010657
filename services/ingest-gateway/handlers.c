/*
 * The ingest-gateway's HTTP routes: the seed's / and /produce, the job API, and the probes.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "envelope.h"
#include "gateway.h"
#include "metrics.h"
#include "query_string.h"
#include "replay_report.h"

static void on_index(h2o_req_t *req, void *data)
{
    (void)data;
    static const char *const endpoints[] = {"GET /",          "GET|POST /produce",   "GET /jobs",
                                            "GET|DELETE /jobs/{id}", "GET|POST /reference", "GET /healthz",
                                            "GET /readyz",    "GET /metrics",        NULL};
    struct json_object *arr = json_object_new_array();
    for (size_t i = 0; endpoints[i] != NULL; i++)
        json_object_array_add(arr, json_object_new_string(endpoints[i]));
    http_send_envelope(req, 200, false, "Welcome to the ingest-gateway: GET /produce replays routes.dat into Kafka",
                       arr);
    json_object_put(arr);
}

/*
 * Resolves the `file` parameter inside the data directory. Rejects absolute paths and anything that
 * resolves outside it (../../etc/passwd, symlinks out). @returns 0 with the real path, or -1 + errstr.
 */
static int resolve_file(gateway_t *gw, const char *name, char *out, size_t out_size, char *errstr, size_t errstr_size)
{
    char joined[PATH_MAX * 2];
    if (name[0] == '/' || strstr(name, "..") != NULL) {
        snprintf(errstr, errstr_size, "parameter 'file' must name a file inside the data directory, got '%.200s'", name);
        return -1;
    }
    snprintf(joined, sizeof(joined), "%s/%s", gw->data_dir_real, name);
    char real[PATH_MAX];
    if (realpath(joined, real) == NULL) {
        snprintf(errstr, errstr_size, "file '%.200s' not found in the data directory: %s", name, strerror(errno));
        return -1;
    }
    size_t dl = strlen(gw->data_dir_real);
    if (strncmp(real, gw->data_dir_real, dl) != 0 || real[dl] != '/') {
        snprintf(errstr, errstr_size, "file '%.200s' resolves outside the data directory", name);
        return -1;
    }
    snprintf(out, out_size, "%s", real);
    return 0;
}

/* @returns 0 with the file's size in *size when path is a regular file, or -1 + errstr. */
static int check_regular_file(const char *path, const char *shown, off_t *size, char *errstr, size_t errstr_size)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(errstr, errstr_size, "file '%.200s': %s", shown, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(errstr, errstr_size, "file '%.200s' is not a regular file", shown);
        return -1;
    }
    *size = st.st_size;
    return 0;
}

static struct json_object *job_progress(const replay_job_t *job)
{
    replay_info_t info;
    replay_job_info(job, &info);
    return replay_report_progress(&info);
}

/* Answers a synchronous /produce with the summary of its finished job. */
static void answer_produce(h2o_req_t *req, const replay_job_t *job)
{
    struct json_object *summary = replay_report_summary(replay_job_counts(job));
    const replay_counts_t *c = replay_job_counts(job);
    if (replay_job_error(job) != NULL) {
        char msg[512];
        snprintf(msg, sizeof(msg), "produce failed: %s", replay_job_error(job));
        http_send_envelope(req, 500, true, msg, summary);
    } else if (c->failed > 0) {
        char msg[512];
        snprintf(msg, sizeof(msg), "produce: %llu event(s) not delivered: %s", (unsigned long long)c->failed,
                 replay_job_delivery_error(job) ? replay_job_delivery_error(job) : "unknown error");
        http_send_envelope(req, 503, true, msg, summary);
    } else {
        http_send_envelope(req, 200, false, "produce", summary);
    }
    json_object_put(summary);
}

/*
 * A synchronous /produce waiting for its job, in the request's pool: the job's end answers it; the client going
 * away first (the pool disposed) tells the job there is nobody to answer any more.
 */
typedef struct produce_waiter_s {
    h2o_req_t *req;
    replay_job_t *job; /* while it runs */
    bool answered;     /* also when the job finished before it was known (an empty file) */
} produce_waiter_t;

static void on_produce_finished(replay_job_t *job, void *data)
{
    produce_waiter_t *w = data;
    w->job = NULL;
    w->answered = true;
    answer_produce(w->req, job);
}

static void on_waiter_disposed(void *p)
{
    produce_waiter_t *w = p;
    if (w->job != NULL)
        replay_job_set_on_finished(w->job, NULL, NULL);
}

static void on_produce(h2o_req_t *req, void *data)
{
    gateway_t *gw = data;
    static const char *const allowed[] = {"rate", "limit", "loop", "async", "file", NULL};
    char err[512];
    size_t qlen;
    const char *qs = http_req_params(req, &qlen);
    long rate = 0, limit = 0;
    bool loop = false, async = false;
    if (query_string_check_names(qs, qlen, allowed, err, sizeof(err)) != 0 ||
        query_string_get_long(qs, qlen, "rate", 1, 100000000, &rate, err, sizeof(err)) != 0 ||
        query_string_get_long(qs, qlen, "limit", 1, LONG_MAX, &limit, err, sizeof(err)) != 0 ||
        query_string_get_bool(qs, qlen, "loop", &loop, err, sizeof(err)) != 0 ||
        query_string_get_bool(qs, qlen, "async", &async, err, sizeof(err)) != 0) {
        http_send_error(req, 400, "%s", err);
        return;
    }
    char file_param[1024];
    char path[PATH_MAX];
    const char *shown = file_param;
    long flen = query_string_get(qs, qlen, "file", file_param, sizeof(file_param));
    if (flen == -2 || flen == 0) {
        /* Empty, longer than the buffer or holding a NUL (%00): say which limits apply, not just "bad". */
        http_send_error(req, 400, "parameter 'file' must be a file name of 1 to %zu bytes without NUL",
                        sizeof(file_param) - 1);
        return;
    }
    if (flen > 0) {
        if (resolve_file(gw, file_param, path, sizeof(path), err, sizeof(err)) != 0) {
            http_send_error(req, 400, "%s", err);
            return;
        }
    } else {
        snprintf(path, sizeof(path), "%s", gw->cfg.routes_file);
        shown = gw->cfg.routes_file;
    }
    off_t size;
    if (check_regular_file(path, shown, &size, err, sizeof(err)) != 0) {
        http_send_error(req, 400, "%s", err);
        return;
    }
    /* Looping over an empty file is the client's mistake: a 400 now, not a job that fails with a 500. */
    if (loop && size == 0) {
        http_send_error(req, 400, "file '%.200s' is empty: nothing to loop over", shown);
        return;
    }
    if (!producer_is_ready(gw->producer)) {
        http_send_error(req, 503, "Kafka unavailable: %s", producer_last_error(gw->producer));
        return;
    }
    if (job_registry_running(gw->jobs) >= (unsigned)gw->cfg.max_jobs) {
        http_send_error(req, 429, "%ld replay jobs are already running; stop one with DELETE /jobs/{id}",
                        gw->cfg.max_jobs);
        return;
    }
    replay_params_t params = {path, shown, (double)rate, (uint64_t)limit, loop};
    produce_waiter_t *w = NULL;
    if (!async) {
        w = h2o_mem_alloc_shared(&req->pool, sizeof(*w), on_waiter_disposed);
        *w = (produce_waiter_t){req, NULL, false};
    }
    replay_job_t *job = gateway_add_job(gw, &params, async ? NULL : on_produce_finished, w, err, sizeof(err));
    if (job == NULL) {
        http_send_error(req, 400, "%s", err);
        return;
    }
    if (async) {
        char location[64];
        snprintf(location, sizeof(location), "/jobs/%s", replay_job_id(job));
        http_add_header(req, "location", location);
        struct json_object *arr = json_object_new_array();
        json_object_array_add(arr, job_progress(job));
        http_send_envelope(req, 202, false, "produce", arr);
        json_object_put(arr);
        return;
    }
    if (!w->answered)
        w->job = job;
}

static void add_progress(replay_job_t *job, void *data)
{
    json_object_array_add(data, job_progress(job));
}

static void on_jobs_list(h2o_req_t *req, void *data)
{
    gateway_t *gw = data;
    struct json_object *arr = json_object_new_array();
    job_registry_each(gw->jobs, add_progress, arr);
    http_send_envelope(req, 200, false, "jobs", arr);
    json_object_put(arr);
}

static void on_job(h2o_req_t *req, void *data)
{
    gateway_t *gw = data;
    h2o_iovec_t path = http_req_path(req);
    const char *prefix = "/jobs/";
    char id[64];
    size_t idlen = path.len - strlen(prefix);
    if (idlen == 0 || idlen >= sizeof(id)) {
        http_send_error(req, 404, "no such job");
        return;
    }
    memcpy(id, path.base + strlen(prefix), idlen);
    id[idlen] = '\0';
    replay_job_t *job = job_registry_find(gw->jobs, id);
    if (job == NULL) {
        http_send_error(req, 404, "no such job: %s", id);
        return;
    }
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("DELETE")))
        replay_job_stop(job);
    struct json_object *arr = json_object_new_array();
    json_object_array_add(arr, job_progress(job));
    http_send_envelope(req, 200, false, "job", arr);
    json_object_put(arr);
}

/* The latest publication of the reference files: its number, state and, per file, what was read and delivered. */
static struct json_object *reference_json(const gateway_t *gw)
{
    struct json_object *o = json_object_new_object();
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        const reference_counts_t *c = reference_publish_counts(gw->reference, (reference_kind_t)k);
        struct json_object *f = json_object_new_object();
        json_object_object_add(f, "delivered", json_object_new_int64((int64_t)c->delivered));
        json_object_object_add(f, "entries", json_object_new_int64((int64_t)c->entries));
        json_object_object_add(f, "error", c->error[0] ? json_object_new_string(c->error) : NULL);
        json_object_object_add(f, "failed", json_object_new_int64((int64_t)c->failed));
        json_object_object_add(f, "file", json_object_new_string(c->path));
        json_object_object_add(f, "lines", json_object_new_int64((int64_t)c->lines));
        json_object_object_add(f, "messages", json_object_new_int64((int64_t)c->messages));
        json_object_object_add(f, "rejected", json_object_new_int64((int64_t)c->rejected));
        json_object_object_add(f, "topic", json_object_new_string(gw->reference_topics[k]));
        json_object_object_add(o, reference_kind_name((reference_kind_t)k), f);
    }
    json_object_object_add(o, "run", json_object_new_int64((int64_t)reference_publish_run(gw->reference)));
    const char *state = reference_publish_state_name(reference_publish_state(gw->reference));
    json_object_object_add(o, "state", json_object_new_string(state));
    return o;
}

/*
 * GET: the latest publication. POST: publishes the files again (202; a correction in a file reaches every
 * query-service through the compacted topics), 409 while one runs, 503 while Kafka is not ready.
 */
static void on_reference(h2o_req_t *req, void *data)
{
    gateway_t *gw = data;
    int status = 200;
    const char *message = "reference";
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("POST"))) {
        if (!producer_is_ready(gw->producer)) {
            http_send_error(req, 503, "Kafka is not ready: %s", producer_last_error(gw->producer));
            return;
        }
        if (reference_publish_start(gw->reference) == 0) {
            http_send_error(req, 409, "publication %llu of the reference files is still running: GET /reference",
                            (unsigned long long)reference_publish_run(gw->reference));
            return;
        }
        status = 202;
        message = "reference: publishing, GET /reference for progress";
    }
    struct json_object *arr = json_object_new_array();
    json_object_array_add(arr, reference_json(gw));
    http_send_envelope(req, status, false, message, arr);
    json_object_put(arr);
}

static void on_healthz(h2o_req_t *req, void *data)
{
    gateway_t *gw = data;
    /* A producer failed for good is only mended by a new process: this is what tells the supervisor. */
    const char *fatal = producer_fatal_error(gw->producer);
    if (fatal != NULL)
        http_send_error(req, 503, "%s", fatal);
    else
        http_send_envelope(req, 200, false, "healthz", NULL);
}

static void on_readyz(h2o_req_t *req, void *data)
{
    gateway_t *gw = data;
    if (gw->shutting_down)
        http_send_error(req, 503, "shutting down");
    else if (!producer_is_ready(gw->producer))
        http_send_error(req, 503, "Kafka unavailable: %s", producer_last_error(gw->producer));
    else
        http_send_envelope(req, 200, false, "readyz", NULL);
}

static void on_metrics(h2o_req_t *req, void *data)
{
    gateway_t *gw = data;
    replay_counts_t t;
    job_registry_totals(gw->jobs, &t);
    buf_t out = BUF_INIT;
    metrics_write_counter(&out, "ingest_lines_read_total", "Lines read from routes files.", "", (double)t.lines);
    metrics_write_counter(&out, "ingest_events_produced_total", "Events acknowledged by Kafka.", "",
                          (double)t.delivered);
    metrics_write_counter(&out, "ingest_events_rejected_total", "Lines rejected, by reason.", "reason=\"transform\"",
                          (double)t.transform_errors);
    metrics_write_sample(&out, "ingest_events_rejected_total", "reason=\"schema\"", (double)t.schema_errors);
    metrics_write_counter(&out, "ingest_delivery_failures_total", "Events Kafka did not acknowledge.", "",
                          (double)t.failed);
    metrics_write_counter(&out, "ingest_dead_letters_total", "Rejected lines written to the dead-letter topic.", "",
                          (double)t.dead_letters_delivered);
    metrics_write_gauge(&out, "ingest_local_queue_depth", "Messages waiting in librdkafka.", "",
                        (double)producer_queue_length(gw->producer));
    metrics_write_gauge(&out, "ingest_kafka_fatal", "1 once the producer failed for good (see /healthz).", "",
                        producer_fatal_error(gw->producer) != NULL ? 1 : 0);
    metrics_write_gauge(&out, "ingest_delivery_stalled",
                        "1 while messages wait with no acknowledgement for --delivery-stall-ms.", "",
                        producer_delivery_stalled(gw->producer) ? 1 : 0);
    metrics_write_counter(&out, "ingest_delivery_stalls_total", "Delivery stalls begun.", "",
                          (double)producer_delivery_stalls(gw->producer));
    metrics_write_gauge(&out, "ingest_jobs_running", "Replay jobs running.", "", (double)job_registry_running(gw->jobs));
    metrics_write_counter(&out, "ingest_jobs_started_total", "Replay jobs started.", "", (double)job_registry_started(gw->jobs));
    metrics_write_gauge(&out, "ingest_kafka_ready", "1 when the topics exist and Kafka answers.", "",
                        producer_is_ready(gw->producer) ? 1 : 0);
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        const reference_counts_t *c = reference_publish_counts(gw->reference, (reference_kind_t)k);
        char label[32];
        snprintf(label, sizeof(label), "table=\"%s\"", reference_kind_name((reference_kind_t)k));
        if (k == 0)
            metrics_write_gauge(&out, "ingest_reference_codes_delivered",
                                "Codes of the latest reference publication acknowledged, per table.", label,
                                (double)c->delivered);
        else
            metrics_write_sample(&out, "ingest_reference_codes_delivered", label, (double)c->delivered);
    }
    metrics_write_counter(&out, "ingest_reference_publications_total", "Publications of the reference files started.",
                          "", (double)reference_publish_run(gw->reference));
    metrics_write_histogram(&out, "ingest_produce_ack_latency_seconds", "Produce call to broker acknowledgement.",
                            producer_latency(gw->producer));
    http_send(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    buf_free(&out);
}

const http_route_t gateway_routes[] = {
    {"/", false, HTTP_GET, on_index},
    {"/produce", false, HTTP_GET | HTTP_POST, on_produce},
    {"/jobs", false, HTTP_GET, on_jobs_list},
    {"/jobs/", true, HTTP_GET | HTTP_DELETE, on_job},
    {"/reference", false, HTTP_GET | HTTP_POST, on_reference},
    {"/healthz", false, HTTP_GET, on_healthz},
    {"/readyz", false, HTTP_GET, on_readyz},
    {"/metrics", false, HTTP_GET, on_metrics},
};
const size_t gateway_routes_count = sizeof(gateway_routes) / sizeof(gateway_routes[0]);
