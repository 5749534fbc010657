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
#include "job_registry.h"
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
    long delivery_stall_ms;
    config_kv_t kafka_props;
} gateway_config_t;

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
    job_registry_t *jobs;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    bool signals_watched; /* until gateway_free: a second signal never kills a shutdown */
    uv_timer_t shutdown_timer;
    bool shutting_down;
    int64_t shutdown_deadline_us;
} gateway_t;

/* The flag table with each flag's default (for config_parse and --help); targets point into cfg. */
size_t gateway_config_options(gateway_config_t *cfg, config_option_t *out, size_t max);

/* Creates the producer, error log and HTTP server. @returns 0 or -1 with errstr. */
int gateway_start(gateway_t *gw, uv_loop_t *loop, char *errstr, size_t errstr_size);
/* SIGTERM/SIGINT: stop accepting, stop the jobs, let deliveries finish (bounded), then close. */
void gateway_begin_shutdown(gateway_t *gw);
/* After uv_run returns: flush Kafka and free everything. */
void gateway_free(gateway_t *gw);

/* Starts a replay job and registers it; on_finished (may be NULL) is told when it finishes. @returns the job, or
 * NULL with errstr. */
replay_job_t *gateway_add_job(gateway_t *gw, const replay_params_t *params, replay_finished_cb on_finished,
                              void *data, char *errstr, size_t errstr_size);

/* Registered by handlers.c. */
extern const http_route_t gateway_routes[];
extern const size_t gateway_routes_count;

#endif
