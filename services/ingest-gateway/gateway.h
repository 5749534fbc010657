/*
 * gateway: the ingest-gateway's one state struct (redis' `server`, smallchat's global): its
 * configuration, the HTTP server, the Kafka producer, the replay jobs and the counters behind
 * /metrics. main.c wires it; handlers.c serves it.
 */
#ifndef INGEST_GATEWAY_H
#define INGEST_GATEWAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <h2o.h>
#include <uv.h>

#include "config.h"
#include "http_server.h"
#include "producer.h"
#include "reference_publish.h"
#include "replay_job.h"

typedef struct gateway_config_s {
    char *listen;
    long port;
    char *bootstrap_servers;
    char *topic;
    char *dlq_topic; /* "" = <topic>.dlq */
    long partitions;
    long replication_factor;
    char *routes_file;
    char *data_dir; /* "" = the routes file's directory */
    char *reference_files[REFERENCE_KINDS]; /* "" = <kind>.dat beside the routes file */
    char *results_dir;
    char *log_level;
    long max_jobs;
    long shutdown_timeout_ms;
    config_kv_t kafka_props;
} gateway_config_t;

/* A replay job and the synchronous /produce request waiting for it, if any. */
typedef struct gateway_job_s {
    replay_job_t *job;
    h2o_req_t *waiting_req; /* NULL when async, answered, or the client went away */
    struct waiter_guard_s *guard; /* lives in waiting_req's pool; tells us when the client went away */
    struct gateway_job_s *next;
} gateway_job_t;

typedef struct gateway_s {
    uv_loop_t *loop;
    gateway_config_t cfg;
    char data_dir_real[4096]; /* realpath of the data directory: `file` must resolve inside it */
    http_server_t *http;
    producer_t *producer;
    reference_publish_t *reference;
    char *reference_topics[REFERENCE_KINDS];
    uv_timer_t reference_timer; /* the first publication starts once Kafka is ready */
    FILE *error_log;
    gateway_job_t *jobs; /* newest first; finished ones are kept (bounded) so /jobs/{id} still answers */
    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool signals_watched; /* until gateway_free: a second signal never kills a shutdown */
    uv_timer_t shutdown_timer;
    bool shutting_down;
    int64_t shutdown_deadline_us;
    uint64_t jobs_started;
    unsigned jobs_kept;
    replay_counts_t retired; /* counts of jobs dropped from the history, so /metrics stays monotonic */
} gateway_t;

/* The flag table (for --help and parsing); targets point into cfg. */
size_t gateway_config_options(gateway_config_t *cfg, config_option_t *out, size_t max);

/* Creates the producer, error log and HTTP server. @returns 0 or -1 with errstr. */
int gateway_start(gateway_t *gw, uv_loop_t *loop, char *errstr, size_t errstr_size);
/* SIGTERM/SIGINT: stop accepting, stop the jobs, let deliveries finish (bounded), then close. */
void gateway_begin_shutdown(gateway_t *gw);
/* After uv_run returns: flush Kafka and free everything. */
void gateway_free(gateway_t *gw);

/* Starts a replay job and registers it. @returns the entry, or NULL with errstr. */
gateway_job_t *gateway_add_job(gateway_t *gw, const replay_params_t *params, char *errstr, size_t errstr_size);
gateway_job_t *gateway_find_job(gateway_t *gw, const char *id);
unsigned gateway_running_jobs(const gateway_t *gw);
/* Sums the counts of every job ever run (kept ones) for /metrics. */
void gateway_totals(const gateway_t *gw, replay_counts_t *out);

/* Registered by handlers.c. */
extern const http_route_t gateway_routes[];
extern const size_t gateway_routes_count;
/* Answers the synchronous /produce request of a finished job (handlers.c). */
void gateway_answer_produce(gateway_t *gw, gateway_job_t *entry);

#endif
