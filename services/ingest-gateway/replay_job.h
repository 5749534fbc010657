/*
 * replay_job: one replay of a routes file into Kafka, the "data created over time" of the seed.
 * A job reads the file in chunks on the libuv threadpool (uv_fs_read) into a line_reader; replay_batches of lines are
 * parsed, validated and encoded on the threadpool while the loop stamps and produces the batch before; rejected
 * lines go to the dead-letter topic and the error log. It paces
 * itself to `rate` events/s with a timer, stops after `limit` lines, repeats the file when `loop`,
 * and pauses while librdkafka's local queue is full. It is finished when no more lines will be read
 * and every message it produced has a delivery report.
 */
#ifndef INGEST_REPLAY_JOB_H
#define INGEST_REPLAY_JOB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "producer.h"
#include "route_codec.h"

typedef struct replay_job_s replay_job_t;

typedef enum {
    REPLAY_RUNNING,  /* reading and producing */
    REPLAY_DRAINING, /* no more lines; waiting for delivery reports */
    REPLAY_FINISHED, /* every message has a delivery report */
} replay_state_t;

typedef struct replay_params_s {
    const char *path;     /* file to replay (already checked by the caller) */
    const char *source;   /* name shown in the dead-letter "source" header */
    double rate;          /* events per second; 0 = as fast as Kafka takes them */
    uint64_t limit;       /* lines to read in all; 0 = no limit */
    bool loop;            /* start over at the end of the file */
} replay_params_t;

/* What a job borrows from its owner; all outlive the job. */
typedef struct replay_env_s {
    uv_loop_t *loop;
    producer_t *producer;
    FILE *error_log; /* results/error.txt, the seed's words; may be NULL */
} replay_env_t;

typedef struct replay_counts_s {
    uint64_t lines;            /* lines read ("Total count") */
    uint64_t produced;         /* events handed to librdkafka */
    uint64_t delivered;        /* events acknowledged by the broker ("Total success") */
    uint64_t failed;           /* events whose delivery failed */
    uint64_t transform_errors; /* lines that failed the variable type transformation */
    uint64_t schema_errors;    /* lines that failed schema validation */
    uint64_t dead_letters_delivered;
    uint64_t dead_letters_failed;
    uint64_t in_flight;        /* produced (events and dead letters) without a delivery report yet */
    uint64_t passes;           /* completed passes over the file */
} replay_counts_t;

/* Adds c's counts to sum, every field. */
void replay_counts_add(replay_counts_t *sum, const replay_counts_t *c);

/* Called once, on the loop thread, when the job reaches REPLAY_FINISHED. */
typedef void (*replay_finished_cb)(replay_job_t *job, void *data);

/*
 * Opens params->path and starts replaying. @returns the job, or NULL with errstr (file cannot be opened).
 * The job is the caller's to free with replay_job_free() once finished.
 */
replay_job_t *replay_job_start(const replay_env_t *env, const replay_params_t *params, replay_finished_cb on_finished,
                               void *data, char *errstr, size_t errstr_size);
/* Who is told when the job finishes, from now on (NULL: nobody). */
void replay_job_set_on_finished(replay_job_t *job, replay_finished_cb on_finished, void *data);
/* Stops reading (DELETE /jobs/{id}, shutdown); the job finishes when its deliveries are in. */
void replay_job_stop(replay_job_t *job);
/* The local queue has room again: resume a job paused on a full queue. */
void replay_job_resume(replay_job_t *job);
/* Delivery report for a message this job produced (opaque given to producer_send_events). */
void replay_job_on_delivery(void *opaque, rd_kafka_resp_err_t err);

const char *replay_job_id(const replay_job_t *job);
replay_state_t replay_job_state(const replay_job_t *job);
const replay_counts_t *replay_job_counts(const replay_job_t *job);
/* A read error or similar that ended the job early, or NULL. */
const char *replay_job_error(const replay_job_t *job);
/* The first delivery failure reason, or NULL. */
const char *replay_job_delivery_error(const replay_job_t *job);

/* What a job shows of itself (replay_report renders it); valid until the job changes. */
typedef struct replay_info_s {
    const char *id;
    const char *source;
    double rate;
    uint64_t limit;
    bool loop;
    replay_state_t state;
    const replay_counts_t *counts;
    const char *error;          /* or NULL */
    const char *delivery_error; /* or NULL */
    int64_t elapsed_us;         /* from the start to the end, or to now while it runs */
} replay_info_t;

void replay_job_info(const replay_job_t *job, replay_info_t *out);

/* Frees a finished job; the uv handles close asynchronously. */
void replay_job_free(replay_job_t *job);

#endif
