#include "replay_job.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "alloc.h"
#include "line_reader.h"
#include "log.h"
#include "replay_batch.h"
#include "timestamp.h"

#define CHUNK_SIZE (256 * 1024)

/* Delivery-report opaque: which job, and whether the message was a dead letter. */
typedef struct replay_tag_s {
    replay_job_t *job;
    bool dead_letter;
} replay_tag_t;

/* Why a batch's lines stopped (line_reader's, and the job's limit). */
typedef enum { TAKE_BUDGET_MET, TAKE_NEED_READ, TAKE_END_OF_FILE, TAKE_LIMIT } take_status_t;

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

    /* The file, read CHUNK_SIZE at a time into the line reader. */
    uv_file fd;
    uv_fs_t read_req;
    bool read_pending;
    line_reader_t lines;
    uint64_t line_no;         /* lines taken in the current pass: the last one's 1-based number */
    uint64_t lines_taken;     /* into batches, over all passes (limit and pacing count these) */
    bool input_done;          /* limit reached or last pass read: produce what is prepared, then drain */

    /* Two batches: one prepared on the threadpool while the loop produces the other, so the two halves of the work
     * run on two cores. */
    replay_batch_t *batches[2];
    replay_batch_t *preparing; /* on the threadpool */
    replay_batch_t *ready[2];  /* prepared, in file order */
    int n_ready;
    route_codec_t *codec; /* encodes the batches on the threadpool */
    producer_event_t events[REPLAY_BATCH_LINES]; /* the loop's: a run of a batch's events, stamped, for the producer */

    /* Pacing: lines allowed so far = rate * (now - rate_start_us). The idle handle continues on the next
     * loop iteration (a 0 ms timer re-armed from its own callback would starve I/O in libuv 1.44). */
    uv_timer_t tick;
    uv_idle_t next;
    int handles_open; /* closing: handles whose close callback has not run yet */
    int64_t rate_start_us;
    uint64_t rate_start_lines;
    bool paused_queue_full;
    replay_clock_t clock;
};

static void job_pump(replay_job_t *job);
static void job_start_read(replay_job_t *job);

static void on_tick(uv_timer_t *t)
{
    job_pump(t->data);
}

static void on_next(uv_idle_t *idle)
{
    uv_idle_stop(idle);
    job_pump(idle->data);
}

static void job_maybe_finish(replay_job_t *job)
{
    if (job->state != REPLAY_DRAINING || job->counts.in_flight > 0 || job->read_pending || job->preparing != NULL)
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

/* No more lines: what is prepared but not produced is dropped (never counted); wait for delivery reports. */
static void job_stop_reading(replay_job_t *job)
{
    if (job->state != REPLAY_RUNNING)
        return;
    job->state = REPLAY_DRAINING;
    job->n_ready = 0;
    uv_timer_stop(&job->tick);
    uv_idle_stop(&job->next);
    job_maybe_finish(job);
}

static void job_record_error(char *dst, size_t size, const char *msg)
{
    if (dst[0] == '\0')
        snprintf(dst, size, "%s", msg);
}

/* A rejected line: dead-letter topic and error log. @returns 0 or -ENOBUFS (nothing done, try again). */
static int job_reject(replay_job_t *job, const char *line, size_t len, uint64_t line_no, route_event_status_t status,
                      const char *reason)
{
    char errstr[256];
    char header[320];
    snprintf(header, sizeof(header), "%s: %s", route_event_status_text(status), reason);
    int rc = producer_send_dead_letter(job->env.producer, line, len, header, line_no, job->source,
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

static void batch_prepare(uv_work_t *req)
{
    replay_batch_prepare(req->data);
}

static void batch_prepared(uv_work_t *req, int status)
{
    replay_batch_t *b = req->data;
    replay_job_t *job = b->owner;
    job->preparing = NULL;
    if (status != 0 || job->state != REPLAY_RUNNING) {
        job_maybe_finish(job);
        return;
    }
    b->next = 0;
    job->ready[job->n_ready++] = b;
    job_pump(job);
}

/*
 * Loop: stamps and produces the batch's lines in order, each run of events in one call to the producer.
 * @returns 0 when all are, -ENOBUFS to go on later (the lines not taken are stamped again then).
 */
static int batch_produce(replay_job_t *job, replay_batch_t *b)
{
    char errstr[256];
    while (b->next < b->n) {
        replay_batch_line_t *l = &b->lines[b->next];
        if (l->status != ROUTE_EVENT_OK) {
            if (job_reject(job, b->bytes.data + l->off, l->size, l->line_no, l->status,
                           b->bytes.data + l->reason_off) == -ENOBUFS)
                return -ENOBUFS;
            job->counts.lines++;
            b->next++;
            continue;
        }
        size_t run = replay_batch_stamp_run(b, b->next, &job->clock, job->events), failed;
        size_t taken = producer_send_events(job->env.producer, job->events, run, &job->event_tag, &failed, errstr,
                                            sizeof(errstr));
        if (failed > 0)
            job_record_error(job->delivery_error, sizeof(job->delivery_error), errstr);
        job->counts.lines += taken;
        job->counts.failed += failed;
        job->counts.produced += taken - failed;
        job->counts.in_flight += taken - failed;
        b->next += taken;
        if (taken < run)
            return -ENOBUFS;
    }
    return 0;
}

/* End of the file: start over when looping, else no more input. */
static void job_end_of_pass(replay_job_t *job)
{
    job->counts.passes++;
    if (!job->loop || job->line_no == 0) {
        if (job->loop && job->line_no == 0)
            job_record_error(job->error, sizeof(job->error), "the file is empty: nothing to loop over");
        job->input_done = true;
        return;
    }
    line_reader_rewind(&job->lines);
    job->line_no = 0;
    job_start_read(job);
}

/* How many lines the rate allows now (at most REPLAY_BATCH_LINES); 0 with *wait_ms until the next one. */
static uint64_t job_budget(replay_job_t *job, uint64_t *wait_ms)
{
    if (job->rate <= 0)
        return REPLAY_BATCH_LINES;
    double elapsed_s = (double)(timestamp_now_us() - job->rate_start_us) / 1e6;
    uint64_t done = job->lines_taken - job->rate_start_lines;
    double allowed = floor(job->rate * elapsed_s) + 1 - (double)done;
    if (allowed < 1) {
        double next_s = (double)(done + 1) / job->rate - elapsed_s;
        *wait_ms = (uint64_t)ceil(next_s * 1000);
        if (*wait_ms == 0)
            *wait_ms = 1;
        return 0;
    }
    return allowed < REPLAY_BATCH_LINES ? (uint64_t)allowed : REPLAY_BATCH_LINES;
}

static replay_batch_t *job_free_batch(replay_job_t *job)
{
    for (int i = 0; i < 2; i++) {
        replay_batch_t *b = job->batches[i];
        if (b == job->preparing || (job->n_ready > 0 && job->ready[0] == b) || (job->n_ready > 1 && job->ready[1] == b))
            continue;
        return b;
    }
    return NULL;
}

/* Takes up to budget lines from the line reader into b. @returns why it stopped. */
static take_status_t job_take_lines(replay_job_t *job, replay_batch_t *b, uint64_t budget)
{
    b->n = 0;
    while (b->n < budget) {
        if (job->limit > 0 && job->lines_taken >= job->limit)
            return TAKE_LIMIT;
        replay_batch_line_t *l = &b->lines[b->n];
        line_status_t st = line_reader_next(&job->lines, &l->ptr, &l->len, &l->too_long);
        if (st != LINE_READY)
            return st == LINE_NEED_READ ? TAKE_NEED_READ : TAKE_END_OF_FILE;
        l->line_no = ++job->line_no;
        b->n++;
        job->lines_taken++;
    }
    return TAKE_BUDGET_MET;
}

/*
 * The job's one driver, run whenever something it waits for happened (a batch prepared, a read done, the
 * rate timer, the queue drained, the next loop iteration): hands the next batch to the threadpool, then
 * produces what is prepared, then decides what wakes it next.
 */
static void job_pump(replay_job_t *job)
{
    if (job->state != REPLAY_RUNNING)
        return;
    uint64_t wait_ms = 0;
    if (job->preparing == NULL && !job->read_pending && !job->input_done) {
        replay_batch_t *b = job_free_batch(job);
        uint64_t budget = b != NULL ? job_budget(job, &wait_ms) : 0;
        if (budget > 0) {
            take_status_t why = job_take_lines(job, b, budget);
            if (b->n > 0) {
                job->preparing = b;
                b->work.data = b;
                uv_queue_work(job->env.loop, &b->work, batch_prepare, batch_prepared);
            } else if (why == TAKE_NEED_READ) {
                job_start_read(job); /* nothing on the threadpool points into the buffer now */
            } else if (why == TAKE_END_OF_FILE) {
                job_end_of_pass(job);
            } else if (why == TAKE_LIMIT) {
                job->input_done = true;
            }
        }
    }
    while (job->n_ready > 0 && !job->paused_queue_full) {
        if (batch_produce(job, job->ready[0]) == -ENOBUFS) {
            job->paused_queue_full = true; /* the producer's drained callback resumes us */
            break;
        }
        job->ready[0] = job->ready[1];
        job->n_ready--;
    }
    if (job->input_done && job->n_ready == 0 && job->preparing == NULL && !job->read_pending) {
        job_stop_reading(job);
        return;
    }
    /* Woken by the prepared batch, the read, the drained queue or the rate timer; else go on next iteration. */
    if (job->preparing != NULL || job->read_pending || job->paused_queue_full)
        return;
    if (wait_ms > 0)
        uv_timer_start(&job->tick, on_tick, wait_ms, 0);
    else
        uv_idle_start(&job->next, on_next);
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
    line_reader_filled(&job->lines, (size_t)n);
    job_pump(job);
}

static void job_start_read(replay_job_t *job)
{
    if (job->read_pending)
        return;
    size_t room;
    int64_t offset;
    char *space = line_reader_space(&job->lines, &room, &offset);
    uv_buf_t b = uv_buf_init(space, (unsigned)room);
    job->read_req.data = job;
    job->read_pending = true;
    int rc = uv_fs_read(job->env.loop, &job->read_req, job->fd, &b, 1, offset, on_read);
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
    job->codec = route_codec_new(errstr, errstr_size);
    if (job->codec == NULL) {
        close(fd);
        free(job);
        return NULL;
    }
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
    line_reader_init(&job->lines, CHUNK_SIZE, REPLAY_LINE_MAX_BYTES);
    job->rate_start_us = job->started_us;
    for (int i = 0; i < 2; i++)
        job->batches[i] = replay_batch_new(job->codec, job);
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
        uv_idle_start(&job->next, on_next); /* not from inside librdkafka's poll: on the next iteration */
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

void replay_counts_add(replay_counts_t *sum, const replay_counts_t *c)
{
    sum->lines += c->lines;
    sum->produced += c->produced;
    sum->delivered += c->delivered;
    sum->failed += c->failed;
    sum->transform_errors += c->transform_errors;
    sum->schema_errors += c->schema_errors;
    sum->dead_letters_delivered += c->dead_letters_delivered;
    sum->dead_letters_failed += c->dead_letters_failed;
    sum->in_flight += c->in_flight;
    sum->passes += c->passes;
}

void replay_job_set_on_finished(replay_job_t *job, replay_finished_cb on_finished, void *data)
{
    job->on_finished = on_finished;
    job->data = data;
}

void replay_job_info(const replay_job_t *job, replay_info_t *out)
{
    int64_t end = job->state == REPLAY_FINISHED ? job->finished_us : timestamp_now_us();
    *out = (replay_info_t){job->id,   job->source, job->rate,
                           job->limit, job->loop,  job->state,
                           &job->counts, replay_job_error(job), replay_job_delivery_error(job),
                           end - job->started_us};
}

/* The job's memory holds its handles: freed when the last has closed. libuv runs close callbacks in no order the
 * job may rely on (the last closed runs first), and reads a handle after the callback of the one before it. */
static void on_handle_closed(uv_handle_t *h)
{
    replay_job_t *job = h->data;
    if (--job->handles_open > 0)
        return;
    for (int i = 0; i < 2; i++)
        replay_batch_free(job->batches[i]);
    route_codec_free(job->codec);
    line_reader_free(&job->lines);
    free(job->path);
    free(job->source);
    free(job);
}

void replay_job_free(replay_job_t *job)
{
    /* A batch on the threadpool points into the job: let it come back first (it only parses and encodes). */
    while (job->preparing != NULL)
        uv_run(job->env.loop, UV_RUN_ONCE);
    job->handles_open = 2;
    uv_close((uv_handle_t *)&job->next, on_handle_closed);
    uv_close((uv_handle_t *)&job->tick, on_handle_closed);
}
