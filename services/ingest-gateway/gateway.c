#include "gateway.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "log.h"
#include "timestamp.h"

/* Finished jobs kept for GET /jobs/{id}. */
#define FINISHED_JOBS_KEPT 64

size_t gateway_config_options(gateway_config_t *cfg, config_option_t *out, size_t max)
{
    const config_option_t opts[] = {
        {"listen", "LISTEN_ADDR", CONFIG_STRING, &cfg->listen, "127.0.0.1", 0, 0, "address to listen on"},
        {"port", "PORT", CONFIG_INT, &cfg->port, "5000", 0, 65535, "HTTP port (0 picks a free one)"},
        {"bootstrap-servers", "KAFKA_BOOTSTRAP_SERVERS", CONFIG_STRING, &cfg->bootstrap_servers, "127.0.0.1:9092", 0, 0,
         "Kafka bootstrap servers, host:port[,host:port]"},
        {"topic", "TOPIC", CONFIG_STRING, &cfg->topic, "routes_data", 0, 0, "topic for AirlineRouteEvents"},
        {"dlq-topic", "DLQ_TOPIC", CONFIG_STRING, &cfg->dlq_topic, "", 0, 0, "dead-letter topic (default <topic>.dlq)"},
        {"partitions", "TOPIC_PARTITIONS", CONFIG_INT, &cfg->partitions, "3", -1, 100000,
         "partitions of the topics when created (-1: broker default)"},
        {"replication-factor", "TOPIC_REPLICATION_FACTOR", CONFIG_INT, &cfg->replication_factor, "-1", -1, 100,
         "replication factor of the topics when created (-1: broker default)"},
        {"routes-file", "ROUTES_FILE", CONFIG_STRING, &cfg->routes_file, "data/routes.dat", 0, 0,
         "routes.dat replayed by /produce"},
        {"airports-file", "AIRPORTS_FILE", CONFIG_STRING, &cfg->reference_files[REFERENCE_AIRPORTS], "", 0, 0,
         "airports.dat published to <topic>.airports (default: beside the routes file)"},
        {"airlines-file", "AIRLINES_FILE", CONFIG_STRING, &cfg->reference_files[REFERENCE_AIRLINES], "", 0, 0,
         "airlines.dat published to <topic>.airlines (default: beside the routes file)"},
        {"planes-file", "PLANES_FILE", CONFIG_STRING, &cfg->reference_files[REFERENCE_PLANES], "", 0, 0,
         "planes.dat published to <topic>.planes (default: beside the routes file)"},
        {"data-dir", "DATA_DIR", CONFIG_STRING, &cfg->data_dir, "", 0, 0,
         "directory the `file` parameter is confined to (default: the routes file's)"},
        {"results-dir", "RESULTS_DIR", CONFIG_STRING, &cfg->results_dir, "results", 0, 0, "where error.txt is written"},
        {"log-level", "LOG_LEVEL", CONFIG_STRING, &cfg->log_level, "info", 0, 0, "debug, info, warn or error"},
        {"max-jobs", "MAX_JOBS", CONFIG_INT, &cfg->max_jobs, "16", 1, 1000, "replay jobs running at once"},
        {"shutdown-timeout-ms", "SHUTDOWN_TIMEOUT_MS", CONFIG_INT, &cfg->shutdown_timeout_ms, "4000", 0, 60000,
         "how long SIGTERM waits for deliveries"},
        {"delivery-stall-ms", "DELIVERY_STALL_MS", CONFIG_INT, &cfg->delivery_stall_ms, "10000", 100, 3600000,
         "messages waiting this long with no acknowledgement are logged as a stall (kafka_stalled)"},
    };
    size_t n = sizeof(opts) / sizeof(opts[0]);
    if (n > max)
        abort();
    memcpy(out, opts, sizeof(opts));
    return n;
}

static void on_delivery(void *opaque, rd_kafka_resp_err_t err, void *data)
{
    (void)data;
    replay_job_on_delivery(opaque, err);
}

static void on_reference_delivery(void *opaque, rd_kafka_resp_err_t err, void *data)
{
    (void)data;
    reference_publish_on_delivery(opaque, err);
}

static void resume_job(replay_job_t *job, void *data)
{
    (void)data;
    replay_job_resume(job);
}

static void on_drained(void *data)
{
    gateway_t *gw = data;
    reference_publish_resume(gw->reference);
    job_registry_each(gw->jobs, resume_job, NULL);
}

replay_job_t *gateway_add_job(gateway_t *gw, const replay_params_t *params, replay_finished_cb on_finished,
                              void *data, char *errstr, size_t errstr_size)
{
    replay_env_t env = {gw->loop, gw->producer, gw->error_log};
    replay_job_t *job = replay_job_start(&env, params, on_finished, data, errstr, errstr_size);
    if (job != NULL)
        job_registry_add(gw->jobs, job);
    return job;
}

static void on_signal(uv_signal_t *s, int signum)
{
    gateway_t *gw = s->data;
    log_info("shutdown", "signal %d: stopping", signum);
    gateway_begin_shutdown(gw);
}

/* Shutdown waits until every job finished (all deliveries in) or the deadline passed, then closes. */
static void on_shutdown_tick(uv_timer_t *t)
{
    gateway_t *gw = t->data;
    if (job_registry_running(gw->jobs) > 0 && timestamp_now_us() < gw->shutdown_deadline_us)
        return;
    uv_timer_stop(t);
    uv_close((uv_handle_t *)&gw->shutdown_timer, NULL);
    uv_close((uv_handle_t *)&gw->reference_timer, NULL);
    producer_close(gw->producer);
    /* Idle keep-alive connections would keep the loop alive; nothing more is served. */
    uv_stop(gw->loop);
}

static void stop_job(replay_job_t *job, void *data)
{
    (void)data;
    replay_job_stop(job);
}

/* Nothing can be produced any more: the replays stop where they are, their counts say what became of each line. */
static void on_producer_fatal(void *data)
{
    gateway_t *gw = data;
    job_registry_each(gw->jobs, stop_job, NULL);
}

void gateway_begin_shutdown(gateway_t *gw)
{
    if (gw->shutting_down)
        return;
    gw->shutting_down = true;
    http_server_stop(gw->http);
    /* A probe started now could outlast the deadline, and producer_free waits for the one in flight. */
    producer_stop_probing(gw->producer);
    job_registry_each(gw->jobs, stop_job, NULL);
    gw->shutdown_deadline_us = timestamp_now_us() + gw->cfg.shutdown_timeout_ms * 1000;
    uv_timer_init(gw->loop, &gw->shutdown_timer);
    gw->shutdown_timer.data = gw;
    uv_timer_start(&gw->shutdown_timer, on_shutdown_tick, 0, 20);
}

/* The reference files are published once Kafka is ready, then on POST /reference. */
static void on_reference_timer(uv_timer_t *t)
{
    gateway_t *gw = t->data;
    if (gw->shutting_down || !producer_is_ready(gw->producer))
        return;
    uv_timer_stop(t);
    reference_publish_start(gw->reference);
}

/* The reference files' paths and topics: each given, or <kind>.dat beside the routes file. */
static void gateway_resolve_reference(gateway_t *gw, const char **paths)
{
    char copy[PATH_MAX], path[PATH_MAX + 32];
    snprintf(copy, sizeof(copy), "%s", gw->cfg.routes_file);
    const char *dir = dirname(copy);
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        if (gw->cfg.reference_files[k][0] == '\0') {
            snprintf(path, sizeof(path), "%s/%s.dat", dir, reference_kind_name((reference_kind_t)k));
            gw->cfg.reference_files[k] = xstrdup(path);
        }
        paths[k] = gw->cfg.reference_files[k];
        size_t n = strlen(gw->cfg.topic) + 16;
        gw->reference_topics[k] = xmalloc(n);
        reference_kind_topic(gw->cfg.topic, (reference_kind_t)k, gw->reference_topics[k], n);
    }
}

/* The data directory: given, or the routes file's own. */
static int gateway_resolve_data_dir(gateway_t *gw, char *errstr, size_t errstr_size)
{
    char dir[PATH_MAX];
    if (gw->cfg.data_dir[0] != '\0') {
        snprintf(dir, sizeof(dir), "%s", gw->cfg.data_dir);
    } else {
        char copy[PATH_MAX];
        snprintf(copy, sizeof(copy), "%s", gw->cfg.routes_file);
        snprintf(dir, sizeof(dir), "%s", dirname(copy));
    }
    if (realpath(dir, gw->data_dir_real) == NULL) {
        snprintf(errstr, errstr_size, "data directory %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

int gateway_start(gateway_t *gw, uv_loop_t *loop, char *errstr, size_t errstr_size)
{
    gw->loop = loop;
    gw->jobs = job_registry_new(FINISHED_JOBS_KEPT);
    if (gw->cfg.dlq_topic[0] == '\0') {
        size_t n = strlen(gw->cfg.topic) + sizeof(".dlq");
        gw->cfg.dlq_topic = xmalloc(n);
        snprintf(gw->cfg.dlq_topic, n, "%s.dlq", gw->cfg.topic);
    }
    if (gateway_resolve_data_dir(gw, errstr, errstr_size) != 0)
        return -1;

    if (mkdir(gw->cfg.results_dir, 0755) != 0 && errno != EEXIST) {
        snprintf(errstr, errstr_size, "results directory %s: %s", gw->cfg.results_dir, strerror(errno));
        return -1;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/error.txt", gw->cfg.results_dir);
    gw->error_log = fopen(path, "a");
    if (gw->error_log == NULL) {
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    /* Fully buffered: rejected lines are written in batches, flushed when a job finishes. */
    setvbuf(gw->error_log, NULL, _IOFBF, 64 * 1024);

    const char *reference_paths[REFERENCE_KINDS];
    gateway_resolve_reference(gw, reference_paths);
    producer_config_t pc = {gw->cfg.bootstrap_servers,
                            gw->cfg.topic,
                            gw->cfg.dlq_topic,
                            gw->cfg.partitions,
                            gw->cfg.replication_factor,
                            &gw->cfg.kafka_props,
                            (const char *const *)gw->reference_topics,
                            REFERENCE_KINDS,
                            on_reference_delivery,
                            gw->cfg.delivery_stall_ms,
                            on_producer_fatal};
    gw->producer = producer_new(loop, &pc, on_delivery, on_drained, gw, errstr, errstr_size);
    if (gw->producer == NULL)
        return -1;
    gw->reference = reference_publish_new(loop, gw->producer, reference_paths);
    uv_timer_init(loop, &gw->reference_timer);
    gw->reference_timer.data = gw;
    uv_timer_start(&gw->reference_timer, on_reference_timer, 100, 200);

    gw->http = http_server_new(loop, gateway_routes, gateway_routes_count, gw);
    if (http_server_listen(gw->http, gw->cfg.listen, (int)gw->cfg.port, errstr, errstr_size) != 0)
        return -1;

    uv_signal_init(loop, &gw->sigterm);
    uv_signal_init(loop, &gw->sigint);
    gw->sigterm.data = gw->sigint.data = gw;
    uv_signal_start(&gw->sigterm, on_signal, SIGTERM);
    uv_signal_start(&gw->sigint, on_signal, SIGINT);
    gw->signals_watched = true;
    log_info("listening", "ingest-gateway on http://%s:%d, topic %s, Kafka %s", gw->cfg.listen,
             http_server_port(gw->http), gw->cfg.topic, gw->cfg.bootstrap_servers);
    return 0;
}

void gateway_free(gateway_t *gw)
{
    if (gw->reference != NULL) {
        reference_publish_stop(gw->reference);
        if (!uv_is_closing((uv_handle_t *)&gw->reference_timer)) /* start-up failed after it began */
            uv_close((uv_handle_t *)&gw->reference_timer, NULL);
    }
    if (gw->producer != NULL) {
        /*
         * The final flush gets only what is left of the shutdown deadline. on_shutdown_tick has already waited
         * up to --shutdown-timeout-ms for the deliveries; a fixed 2 s more made a SIGTERM with Kafka
         * unreachable take 4 + 2 = 6 s, past the 5 s promised (tests/integration/test_fault_sigterm.py).
         * Not shutting down (start-up failed): nothing was produced, nothing to wait for.
         */
        int64_t left_ms = gw->shutting_down ? (gw->shutdown_deadline_us - timestamp_now_us()) / 1000 : 0;
        producer_free(gw->producer, left_ms > 0 ? (int)left_ms : 0);
    }
    reference_publish_free(gw->reference);
    for (int k = 0; k < REFERENCE_KINDS; k++)
        free(gw->reference_topics[k]);
    /*
     * The HTTP server first: a synchronous /produce still waiting holds its job (handlers.c), and its request is
     * only disposed with the server; with connections still open the server is left to the process exit.
     */
    if (gw->http != NULL)
        http_server_free(gw->http);
    gw->http = NULL;
    job_registry_free(gw->jobs);
    gw->jobs = NULL;
    /*
     * The signals are watched until here: a second SIGTERM (a supervisor's after a Ctrl-C, an impatient user)
     * during the final flush is absorbed instead of killing the process with its default action. Closing the
     * handles restores that default, so from now on they are ignored: everything is written.
     */
    if (gw->signals_watched) {
        uv_close((uv_handle_t *)&gw->sigterm, NULL);
        uv_close((uv_handle_t *)&gw->sigint, NULL);
        signal(SIGTERM, SIG_IGN);
        signal(SIGINT, SIG_IGN);
    }
    /* replay_job_free and the signal handles close handles: one loop iteration runs the close callbacks. */
    uv_run(gw->loop, UV_RUN_NOWAIT);
    if (gw->error_log != NULL)
        fclose(gw->error_log);
    config_kv_free(&gw->cfg.kafka_props);
}
