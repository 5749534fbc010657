#include "replay_job.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "alloc.h"
#include "buf.h"
#include "envelope.h"
#include "log.h"
#include "timestamp.h"

#define CHUNK_SIZE (256 * 1024)
/* A longer line is rejected (and its first LINE_MAX bytes kept in the dead letter). */
#define LINE_MAX_BYTES (64 * 1024)
/* Lines handled per timer tick: small enough that HTTP requests are served between batches. */
#define BATCH_LINES 2048

/* Delivery-report opaque: which job, and whether the message was a dead letter. */
typedef struct replay_tag_s {
    replay_job_t *job;
    bool dead_letter;
} replay_tag_t;

typedef enum { LINE_READY, LINE_NEED_READ, LINE_END_OF_FILE } line_status_t;

struct replay_job_s {
    replay_env_t env;
    char id[ROUTE_EVENT_ID_LEN + 1];
    char *path;
    char *source;
    double rate;
    uint64_t limit;
    bool loop;
    replay_finished_cb on_finished;
    void *data;

    replay_state_t state;
    replay_counts_t counts;
    char error[256];
    char delivery_error[256];
    replay_tag_t event_tag;
    replay_tag_t dead_letter_tag;
    int64_t started_us;
    int64_t finished_us;

    /* The file, read CHUNK_SIZE at a time; a partial last line moves to the front before the next read. */
    uv_file fd;
    int64_t file_offset;
    uv_fs_t read_req;
    bool read_pending;
    bool eof;
    char *chunk;
    size_t chunk_len;
    size_t chunk_pos;
    bool skipping_long_line;
    uint64_t line_no;         /* 1-based line number within the current pass */
    uint64_t lines_this_pass;

    /* Pacing: lines allowed so far = rate * (now - rate_start_us). The idle handle continues on the next
     * loop iteration (a 0 ms timer re-armed from its own callback would starve I/O in libuv 1.44). */
    uv_timer_t tick;
    uv_idle_t next;
    int64_t rate_start_us;
    uint64_t rate_start_lines;
    bool paused_queue_full;

    buf_t encoded; /* reused for every event */
    int64_t clock_us;  /* the stamp's time, refreshed every 16 events */
    uint64_t clock_uses;
};

static void job_tick_soon(replay_job_t *job, uint64_t delay_ms);
static void job_start_read(replay_job_t *job);

static void job_maybe_finish(replay_job_t *job)
{
    if (job->state != REPLAY_DRAINING || job->counts.in_flight > 0 || job->read_pending)
        return;
    if (job->fd >= 0) {
        close(job->fd); /* a regular file: close does not wait on anything */
        job->fd = -1;
    }
    job->state = REPLAY_FINISHED;
    job->finished_us = timestamp_now_us();
    if (job->env.error_log != NULL)
        fflush(job->env.error_log);
    log_info("replay_finished",
             "job %s: %llu lines, %llu delivered, %llu failed, %llu transform errors, %llu schema errors", job->id,
             (unsigned long long)job->counts.lines, (unsigned long long)job->counts.delivered,
             (unsigned long long)job->counts.failed, (unsigned long long)job->counts.transform_errors,
             (unsigned long long)job->counts.schema_errors);
    if (job->on_finished != NULL)
        job->on_finished(job, job->data);
}

static void job_stop_reading(replay_job_t *job)
{
    if (job->state != REPLAY_RUNNING)
        return;
    job->state = REPLAY_DRAINING;
    uv_timer_stop(&job->tick);
    uv_idle_stop(&job->next);
    job_maybe_finish(job);
}

/* The next line of the chunk, without its "\n" or "\r\n". */
static line_status_t job_next_line(replay_job_t *job, const char **line, size_t *len, bool *too_long)
{
    *too_long = false;
    for (;;) {
        const char *start = job->chunk + job->chunk_pos;
        size_t avail = job->chunk_len - job->chunk_pos;
        const char *nl = memchr(start, '\n', avail);
        if (job->skipping_long_line) {
            if (nl == NULL) {
                job->chunk_pos = job->chunk_len;
                return job->eof ? LINE_END_OF_FILE : LINE_NEED_READ;
            }
            job->chunk_pos += (size_t)(nl - start) + 1;
            job->skipping_long_line = false;
            continue;
        }
        if (nl != NULL && (size_t)(nl - start) <= LINE_MAX_BYTES) {
            *line = start;
            *len = (size_t)(nl - start);
            job->chunk_pos += *len + 1;
        } else if (avail > LINE_MAX_BYTES) {
            /* No newline within the limit: reject what we have and skip to the next newline. */
            *line = start;
            *len = LINE_MAX_BYTES;
            *too_long = true;
            job->chunk_pos += LINE_MAX_BYTES;
            job->skipping_long_line = true;
        } else if (!job->eof) {
            return LINE_NEED_READ;
        } else if (avail > 0) {
            *line = start; /* the last line has no final newline */
            *len = avail;
            job->chunk_pos = job->chunk_len;
        } else {
            return LINE_END_OF_FILE;
        }
        if (*len > 0 && (*line)[*len - 1] == '\r')
            (*len)--;
        return LINE_READY;
    }
}

static void job_record_error(char *dst, size_t size, const char *msg)
{
    if (dst[0] == '\0')
        snprintf(dst, size, "%s", msg);
}

/* A rejected line: dead-letter topic and error log. @returns 0 or -ENOBUFS (nothing done, try again). */
static int job_reject(replay_job_t *job, const char *line, size_t len, route_event_status_t status, const char *reason)
{
    char errstr[256];
    char header[320];
    snprintf(header, sizeof(header), "%s: %s", route_event_status_text(status), reason);
    int rc = producer_send_dead_letter(job->env.producer, line, len, header, job->line_no, job->source,
                                       &job->dead_letter_tag, errstr, sizeof(errstr));
    if (rc == -ENOBUFS)
        return rc;
    if (rc < 0) {
        job->counts.dead_letters_failed++;
        job_record_error(job->delivery_error, sizeof(job->delivery_error), errstr);
    } else {
        job->counts.in_flight++;
    }
    if (status == ROUTE_EVENT_SCHEMA_INVALID)
        job->counts.schema_errors++;
    else
        job->counts.transform_errors++;
    if (job->env.error_log != NULL)
        fprintf(job->env.error_log, "%s: %.*s\n", route_event_status_text(status), (int)len, line);
    return 0;
}

/* Parses, stamps, encodes and produces one line. @returns 0, or -ENOBUFS when the queue is full. */
static int job_process_line(replay_job_t *job, const char *line, size_t len, bool too_long)
{
    char errstr[256];
    route_event_t ev;
    int rc;

    job->line_no++;
    route_event_status_t st = ROUTE_EVENT_TRANSFORM_FAILED;
    if (too_long)
        snprintf(errstr, sizeof(errstr), "line %llu is longer than %d bytes", (unsigned long long)job->line_no,
                 LINE_MAX_BYTES);
    else
        st = route_event_parse(line, len, &ev, errstr, sizeof(errstr));
    if (st == ROUTE_EVENT_OK) {
        /* One clock read per 16 events (~30 us apart): per event it was a tenth of the gateway's CPU here. */
        if ((job->clock_uses++ & 15) == 0)
            job->clock_us = timestamp_now_us();
        route_event_stamp(&ev, job->clock_us);
        buf_reset(&job->encoded);
        if (route_codec_encode(job->env.codec, &ev, &job->encoded, errstr, sizeof(errstr)) != ROUTE_CODEC_OK)
            st = ROUTE_EVENT_SCHEMA_INVALID;
    }
    if (st != ROUTE_EVENT_OK)
        rc = job_reject(job, line, len, st, errstr);
    else
        rc = producer_send(job->env.producer, ev.source_airport.ptr, ev.source_airport.len, job->encoded.data,
                           job->encoded.len, job->clock_us / 1000, &job->event_tag, errstr, sizeof(errstr));
    if (rc == -ENOBUFS) {
        job->line_no--;
        return rc;
    }
    job->counts.lines++;
    job->lines_this_pass++;
    if (st == ROUTE_EVENT_OK) {
        if (rc < 0) {
            job->counts.failed++;
            job_record_error(job->delivery_error, sizeof(job->delivery_error), errstr);
        } else {
            job->counts.produced++;
            job->counts.in_flight++;
        }
    }
    return 0;
}

/* End of the file: start over when looping, else stop reading. @returns true when a new pass began. */
static bool job_end_of_pass(replay_job_t *job)
{
    job->counts.passes++;
    if (!job->loop || job->lines_this_pass == 0) {
        if (job->loop && job->lines_this_pass == 0)
            job_record_error(job->error, sizeof(job->error), "the file is empty: nothing to loop over");
        job_stop_reading(job);
        return false;
    }
    job->file_offset = 0;
    job->eof = false;
    job->chunk_len = job->chunk_pos = 0;
    job->skipping_long_line = false;
    job->line_no = 0;
    job->lines_this_pass = 0;
    job_start_read(job);
    return true;
}

static void on_tick(uv_timer_t *t)
{
    replay_job_t *job = t->data;
    if (job->state != REPLAY_RUNNING || job->paused_queue_full || job->read_pending)
        return;

    uint64_t budget = BATCH_LINES;
    if (job->rate > 0) {
        double elapsed_s = (double)(timestamp_now_us() - job->rate_start_us) / 1e6;
        uint64_t done = job->counts.lines - job->rate_start_lines;
        double allowed = floor(job->rate * elapsed_s) + 1 - (double)done;
        if (allowed < 1) {
            double next_s = (double)(done + 1) / job->rate - elapsed_s;
            job_tick_soon(job, (uint64_t)ceil(next_s * 1000));
            return;
        }
        if (allowed < (double)budget)
            budget = (uint64_t)allowed;
    }

    while (budget-- > 0) {
        if (job->limit > 0 && job->counts.lines >= job->limit) {
            job_stop_reading(job);
            return;
        }
        const char *line;
        size_t len;
        bool too_long;
        size_t pos_before = job->chunk_pos;
        bool skipping_before = job->skipping_long_line;
        switch (job_next_line(job, &line, &len, &too_long)) {
        case LINE_NEED_READ:
            job_start_read(job);
            return;
        case LINE_END_OF_FILE:
            job_end_of_pass(job);
            return;
        case LINE_READY:
            break;
        }
        if (job_process_line(job, line, len, too_long) == -ENOBUFS) {
            /* Give the line back; producer's drained callback resumes us. */
            job->chunk_pos = pos_before;
            job->skipping_long_line = skipping_before;
            job->paused_queue_full = true;
            return;
        }
    }
    job_tick_soon(job, 0);
}

static void on_next(uv_idle_t *idle)
{
    uv_idle_stop(idle);
    on_tick(&((replay_job_t *)idle->data)->tick);
}

static void job_tick_soon(replay_job_t *job, uint64_t delay_ms)
{
    if (delay_ms == 0)
        uv_idle_start(&job->next, on_next);
    else
        uv_timer_start(&job->tick, on_tick, delay_ms, 0);
}

static void on_read(uv_fs_t *req)
{
    replay_job_t *job = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    job->read_pending = false;
    if (job->state != REPLAY_RUNNING) {
        job_maybe_finish(job);
        return;
    }
    if (n < 0) {
        char msg[256];
        snprintf(msg, sizeof(msg), "reading %s failed: %s", job->source, uv_strerror((int)n));
        log_error("replay_read_failed", "job %s: %s", job->id, msg);
        job_record_error(job->error, sizeof(job->error), msg);
        job_stop_reading(job);
        return;
    }
    if (n == 0)
        job->eof = true;
    job->chunk_len += (size_t)n;
    job->file_offset += n;
    job_tick_soon(job, 0);
}

static void job_start_read(replay_job_t *job)
{
    if (job->read_pending)
        return;
    /* Keep the unread tail (a partial line) and fill the rest of the chunk after it. */
    size_t tail = job->chunk_len - job->chunk_pos;
    memmove(job->chunk, job->chunk + job->chunk_pos, tail);
    job->chunk_len = tail;
    job->chunk_pos = 0;
    uv_buf_t b = uv_buf_init(job->chunk + tail, (unsigned)(CHUNK_SIZE - tail));
    job->read_req.data = job;
    job->read_pending = true;
    int rc = uv_fs_read(job->env.loop, &job->read_req, job->fd, &b, 1, job->file_offset, on_read);
    if (rc < 0) {
        job->read_pending = false;
        job_record_error(job->error, sizeof(job->error), uv_strerror(rc));
        job_stop_reading(job);
    }
}

replay_job_t *replay_job_start(const replay_env_t *env, const replay_params_t *params, replay_finished_cb on_finished,
                               void *data, char *errstr, size_t errstr_size)
{
    int fd = open(params->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(errstr, errstr_size, "cannot open %s: %s", params->source, strerror(errno));
        return NULL;
    }
    replay_job_t *job = xcalloc(1, sizeof(*job));
    job->env = *env;
    uuid_t uu;
    uuid_generate_random(uu);
    uuid_unparse_lower(uu, job->id);
    job->path = xstrdup(params->path);
    job->source = xstrdup(params->source);
    job->rate = params->rate;
    job->limit = params->limit;
    job->loop = params->loop;
    job->on_finished = on_finished;
    job->data = data;
    job->state = REPLAY_RUNNING;
    job->event_tag = (replay_tag_t){job, false};
    job->dead_letter_tag = (replay_tag_t){job, true};
    job->started_us = timestamp_now_us();
    job->fd = fd;
    job->chunk = xmalloc(CHUNK_SIZE);
    job->rate_start_us = job->started_us;
    buf_init(&job->encoded);
    uv_timer_init(env->loop, &job->tick);
    job->tick.data = job;
    uv_idle_init(env->loop, &job->next);
    job->next.data = job;
    log_info("replay_started", "job %s: %s, rate %g/s, limit %llu, loop %s", job->id, job->source, job->rate,
             (unsigned long long)job->limit, job->loop ? "on" : "off");
    job_start_read(job);
    return job;
}

void replay_job_stop(replay_job_t *job)
{
    job_stop_reading(job);
}

void replay_job_resume(replay_job_t *job)
{
    if (!job->paused_queue_full)
        return;
    job->paused_queue_full = false;
    if (job->state == REPLAY_RUNNING)
        job_tick_soon(job, 0);
}

void replay_job_on_delivery(void *opaque, rd_kafka_resp_err_t err)
{
    replay_tag_t *tag = opaque;
    replay_job_t *job = tag->job;
    job->counts.in_flight--;
    if (tag->dead_letter) {
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            job->counts.dead_letters_delivered++;
        else
            job->counts.dead_letters_failed++;
    } else if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        job->counts.delivered++;
    } else {
        job->counts.failed++;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        job_record_error(job->delivery_error, sizeof(job->delivery_error), rd_kafka_err2str(err));
    job_maybe_finish(job);
}

const char *replay_job_id(const replay_job_t *job)
{
    return job->id;
}

replay_state_t replay_job_state(const replay_job_t *job)
{
    return job->state;
}

const replay_counts_t *replay_job_counts(const replay_job_t *job)
{
    return &job->counts;
}

const char *replay_job_error(const replay_job_t *job)
{
    return job->error[0] != '\0' ? job->error : NULL;
}

const char *replay_job_delivery_error(const replay_job_t *job)
{
    return job->delivery_error[0] != '\0' ? job->delivery_error : NULL;
}

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

struct json_object *replay_job_summary(const replay_job_t *job)
{
    const replay_counts_t *c = &job->counts;
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

struct json_object *replay_job_progress(const replay_job_t *job)
{
    const replay_counts_t *c = &job->counts;
    int64_t end = job->state == REPLAY_FINISHED ? job->finished_us : timestamp_now_us();
    /* Keys in sorted order: Flask's jsonify sorts them. */
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "dead_letters", json_object_new_int64((int64_t)(c->dead_letters_delivered)));
    json_object_object_add(o, "delivered", json_object_new_int64((int64_t)c->delivered));
    json_object_object_add(o, "delivery_error",
                           job->delivery_error[0] ? json_object_new_string(job->delivery_error) : NULL);
    json_object_object_add(o, "elapsed_seconds", envelope_new_pyfloat(round((double)(end - job->started_us) / 1e3) / 1e3));
    json_object_object_add(o, "error", job->error[0] ? json_object_new_string(job->error) : NULL);
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

static void on_tick_closed(uv_handle_t *h)
{
    replay_job_t *job = h->data;
    buf_free(&job->encoded);
    free(job->chunk);
    free(job->path);
    free(job->source);
    free(job);
}

void replay_job_free(replay_job_t *job)
{
    /* Handles close in order: the tick's callback, last, frees the job. */
    uv_close((uv_handle_t *)&job->next, NULL);
    uv_close((uv_handle_t *)&job->tick, on_tick_closed);
}
