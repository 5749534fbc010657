#include "producer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "delivery_watch.h"
#include "kafka_glue.h"
#include "kafka_probe.h"
#include "log.h"
#include "metrics.h"
#include "timestamp.h"

/* How often the delivery watch looks: a stall is told within this of --delivery-stall-ms. */
#define DELIVERY_WATCH_INTERVAL_MS 1000

struct producer_s {
    uv_loop_t *loop;
    rd_kafka_t *rk;
    rd_kafka_topic_t *topic;
    rd_kafka_topic_t *dlq_topic;
    rd_kafka_topic_t **compacted;
    char **compacted_names;
    size_t n_compacted;
    producer_delivery_cb on_compacted_delivery;
    rd_kafka_queue_t *main_queue;
    kafka_waker_t *waker;
    producer_delivery_cb on_delivery;
    producer_drained_cb on_drained;
    void *data;
    char *topic_name;
    char *dlq_topic_name;
    long partitions;
    long replication_factor;
    metrics_histogram_t latency;
    rd_kafka_message_t *batch; /* producer_send_events' messages, grown to the largest call */
    size_t batch_cap;

    kafka_probe_t probe; /* creates the topics once, then checks the events' topic has a leader per partition */
    uv_timer_t watch_timer; /* looks at delivery_watch every DELIVERY_WATCH_INTERVAL_MS */
    bool watch_timer_closed;
    delivery_watch_t watch;
    uint64_t reports; /* delivery reports served, of every topic */
    bool closing;
    bool topics_created; /* written by the probe thread, read on the loop after it completes */
    bool ready;
    char probe_error[256]; /* written by the probe thread, copied to last_error on the loop */
    char last_error[256];
    char fatal_error[320]; /* set once librdkafka's fatal error came: the producer is done for */
    producer_fatal_cb on_fatal;
};

static void on_dr_msg(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    producer_t *p = opaque;
    (void)rk;
    p->reports++;
    /* The reference tables' messages are not events: they stay out of the events' latency. */
    for (size_t i = 0; i < p->n_compacted; i++) {
        if (msg->rkt == p->compacted[i]) {
            p->on_compacted_delivery(msg->_private, msg->err, p->data);
            return;
        }
    }
    if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        metrics_histogram_observe(&p->latency, (double)rd_kafka_message_latency(msg) / 1e6);
    p->on_delivery(msg->_private, msg->err, p->data);
}

static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    producer_t *p = opaque;
    (void)rk;
    /* librdkafka reports transient connection errors here and retries by itself; only fatal ones stop it. */
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        if (p->fatal_error[0] != '\0')
            return;
        char reason_of_fatal[200];
        rd_kafka_fatal_error(p->rk, reason_of_fatal, sizeof(reason_of_fatal));
        snprintf(p->fatal_error, sizeof(p->fatal_error), "the Kafka producer failed for good (a restart gives a new "
                 "one): %s", reason_of_fatal);
        log_error("kafka_fatal", "%s", reason_of_fatal);
        /*
         * librdkafka sends nothing more, and what waits in its queues would wait until message.timeout.ms (5 min)
         * with a synchronous /produce waiting for it. Failed now, never sent, so surely not on the topic; what is in
         * flight gets its broker's answer as usual.
         */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE);
        if (p->on_fatal != NULL)
            p->on_fatal(p->data);
    } else {
        log_warn("kafka_error", "%s: %s", rd_kafka_err2name(err), reason);
    }
}

static void on_watch_timer(uv_timer_t *t)
{
    producer_t *p = t->data;
    int64_t now = timestamp_now_us();
    int waiting = rd_kafka_outq_len(p->rk);
    switch (delivery_watch_check(&p->watch, now, waiting, p->reports)) {
    case DELIVERY_WATCH_STALLED:
        log_warn("kafka_stalled", "%d message(s) waiting, none acknowledged for %.1f s%s%s", waiting,
                 (double)delivery_watch_quiet_for(&p->watch, now) / 1e6, p->ready ? "" : ": ",
                 p->ready ? "" : p->last_error);
        break;
    case DELIVERY_WATCH_FLOWING:
        log_info("kafka_flowing", "delivery reports again after %.1f s without; %d message(s) waiting",
                 (double)delivery_watch_quiet_for(&p->watch, now) / 1e6, waiting);
        break;
    case DELIVERY_WATCH_SAME:
        break;
    }
}

static void on_kafka_ready(void *data)
{
    producer_t *p = data;
    rd_kafka_poll(p->rk, 0);
    if (p->on_drained != NULL)
        p->on_drained(p->data);
}

/* Threadpool: may wait for the network. Touches only rk, topics_created and probe_error. */
static void probe_work(void *data)
{
    producer_t *p = data;
    char errstr[256];
    p->probe_error[0] = '\0';

    if (!p->topics_created) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(p->rk);
        size_t n_topics = 2 + p->n_compacted;
        rd_kafka_NewTopic_t **topics = xmalloc(n_topics * sizeof(*topics));
        for (size_t i = 0; i < n_topics; i++) {
            const char *name = i == 0 ? p->topic_name : i == 1 ? p->dlq_topic_name : p->compacted_names[i - 2];
            topics[i] = rd_kafka_NewTopic_new(name, (int)p->partitions, (int)p->replication_factor, errstr,
                                              sizeof(errstr));
            if (i >= 2)
                rd_kafka_NewTopic_set_config(topics[i], "cleanup.policy", "compact");
        }
        rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(p->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_request_timeout(opts, KAFKA_PROBE_TIMEOUT_MS, errstr, sizeof(errstr));
        rd_kafka_CreateTopics(p->rk, topics, n_topics, opts, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, KAFKA_PROBE_TIMEOUT_MS + 1000);
        bool ok = false;
        if (ev == NULL) {
            snprintf(p->probe_error, sizeof(p->probe_error), "Kafka at the bootstrap servers did not answer in time");
        } else if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(p->probe_error, sizeof(p->probe_error), "creating topics failed: %s", rd_kafka_event_error_string(ev));
        } else {
            size_t n;
            const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
            ok = true;
            for (size_t i = 0; i < n; i++) {
                rd_kafka_resp_err_t e = rd_kafka_topic_result_error(res[i]);
                if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
                    snprintf(p->probe_error, sizeof(p->probe_error), "creating topic %s failed: %s",
                             rd_kafka_topic_result_name(res[i]), rd_kafka_topic_result_error_string(res[i]));
                    ok = false;
                }
            }
        }
        if (ev != NULL)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
        for (size_t i = 0; i < n_topics; i++)
            rd_kafka_NewTopic_destroy(topics[i]);
        free(topics);
        rd_kafka_queue_destroy(q);
        if (!ok)
            return;
        p->topics_created = true;
    }

    if (kafka_topic_partitions(p->rk, p->topic, true, p->probe_error, sizeof(p->probe_error)) > 0)
        p->probe_error[0] = '\0';
}

static uint64_t probe_done(void *data)
{
    producer_t *p = data;
    bool was_ready = p->ready;
    p->ready = p->probe_error[0] == '\0';
    if (p->ready && !was_ready)
        log_info("kafka_ready", "topics %s and %s are available", p->topic_name, p->dlq_topic_name);
    else if (!p->ready && strcmp(p->probe_error, p->last_error) != 0)
        log_warn("kafka_not_ready", "%s", p->probe_error);
    memcpy(p->last_error, p->probe_error, sizeof(p->last_error));
    return p->ready ? KAFKA_PROBE_INTERVAL_READY_MS : KAFKA_PROBE_INTERVAL_NOT_READY_MS;
}

size_t producer_default_properties(int librdkafka_version, const kafka_property_t **out)
{
    /*
     * Chosen for throughput on acks=all with bounded memory; every one can be overridden with -X, which is
     * applied after them. Idempotence keeps retries from duplicating or reordering.
     *
     * Before librdkafka 2.3.0 (Debian 12 ships 2.0.2) an idempotent producer could fail for good when a
     * partition leader died under it: a request in flight then is "possibly persisted", librdkafka moved its
     * next expected sequence past it, and when the request behind it came back out of order it raised a fatal
     * "sequence desynchronization" error (librdkafka #4438), after which nothing is produced again. It takes a
     * second request in flight to the same broker; with one, the retry of the first is the next the broker
     * sees. Batches of up to 1 MB keep one request per broker as fast as five here.
     */
    static const kafka_property_t defaults[] = {
        {"enable.idempotence", "true"},  {"acks", "all"},
        {"linger.ms", "5"},              {"batch.num.messages", "10000"},
        {"batch.size", "1000000"},       {"queue.buffering.max.messages", "100000"},
        {"queue.buffering.max.kbytes", "65536"},
        {"max.in.flight.requests.per.connection", "1"}, /* last: only before 2.3.0 */
    };
    size_t n = sizeof(defaults) / sizeof(defaults[0]);
    *out = defaults;
    return librdkafka_version < PRODUCER_LIBRDKAFKA_SEQUENCE_FIX ? n : n - 1;
}

producer_t *producer_new(uv_loop_t *loop, const producer_config_t *cfg, producer_delivery_cb on_delivery,
                         producer_drained_cb on_drained, void *data, char *errstr, size_t errstr_size)
{
    const kafka_property_t *defaults;
    size_t n_defaults = producer_default_properties(rd_kafka_version(), &defaults);
    rd_kafka_conf_t *conf = kafka_conf_new(cfg->bootstrap_servers, "ingest-gateway", defaults, n_defaults,
                                           cfg->kafka_props, errstr, errstr_size);
    if (conf == NULL)
        return NULL;

    producer_t *p = xcalloc(1, sizeof(*p));
    p->loop = loop;
    p->on_delivery = on_delivery;
    p->on_drained = on_drained;
    p->data = data;
    p->topic_name = xstrdup(cfg->topic);
    p->dlq_topic_name = xstrdup(cfg->dlq_topic);
    p->partitions = cfg->partitions;
    p->replication_factor = cfg->replication_factor;
    metrics_histogram_init_latency(&p->latency);
    snprintf(p->last_error, sizeof(p->last_error), "Kafka not reached yet");

    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr_msg);
    rd_kafka_conf_set_error_cb(conf, on_kafka_error);
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
    if (p->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        free(p->topic_name);
        free(p->dlq_topic_name);
        free(p);
        return NULL;
    }
    p->topic = rd_kafka_topic_new(p->rk, p->topic_name, NULL);
    p->dlq_topic = rd_kafka_topic_new(p->rk, p->dlq_topic_name, NULL);
    p->n_compacted = cfg->n_compacted;
    p->on_compacted_delivery = cfg->on_compacted_delivery;
    p->on_fatal = cfg->on_fatal;
    p->compacted = xcalloc(p->n_compacted + 1, sizeof(*p->compacted));
    p->compacted_names = xcalloc(p->n_compacted + 1, sizeof(*p->compacted_names));
    for (size_t i = 0; i < p->n_compacted; i++) {
        p->compacted_names[i] = xstrdup(cfg->compacted_topics[i]);
        p->compacted[i] = rd_kafka_topic_new(p->rk, p->compacted_names[i], NULL);
    }
    p->main_queue = rd_kafka_queue_get_main(p->rk);
    p->waker = kafka_waker_new(loop, p->main_queue, on_kafka_ready, p);

    kafka_probe_start(&p->probe, loop, probe_work, probe_done, p);
    delivery_watch_init(&p->watch, (int64_t)cfg->delivery_stall_ms * 1000);
    uv_timer_init(loop, &p->watch_timer);
    p->watch_timer.data = p;
    uv_timer_start(&p->watch_timer, on_watch_timer, DELIVERY_WATCH_INTERVAL_MS, DELIVERY_WATCH_INTERVAL_MS);
    uv_unref((uv_handle_t *)&p->watch_timer); /* a look-out: it keeps nothing running */
    return p;
}

size_t producer_send_events(producer_t *p, const producer_event_t *events, size_t n, void *opaque, size_t *failed,
                            char *errstr, size_t errstr_size)
{
    *failed = 0;
    if (n == 0)
        return 0;
    if (n > p->batch_cap) {
        p->batch_cap = n;
        p->batch = xrealloc(p->batch, n * sizeof(*p->batch));
    }
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = &p->batch[i];
        memset(m, 0, sizeof(*m));
        m->payload = (void *)events[i].value;
        m->len = events[i].value_len;
        m->key = (void *)events[i].key;
        m->key_len = events[i].key_len;
        m->_private = opaque;
    }
    rd_kafka_produce_batch(p->topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, p->batch, (int)n);
    /* A full queue refuses that message and every one after it (librdkafka stops there); any other error
     * is that message's own. */
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = p->batch[i].err;
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return i;
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR && (*failed)++ == 0)
            snprintf(errstr, errstr_size, "produce to %s failed: %s", p->topic_name, rd_kafka_err2str(err));
    }
    return n;
}

int producer_send_compacted(producer_t *p, size_t index, const char *key, size_t key_len, const void *value,
                            size_t value_len, void *opaque, char *errstr, size_t errstr_size)
{
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_RKT(p->compacted[index]), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_OPAQUE(opaque),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return -ENOBUFS;
    snprintf(errstr, errstr_size, "produce to %s failed: %s", p->compacted_names[index], rd_kafka_err2str(err));
    return -EIO;
}

int producer_send_dead_letter(producer_t *p, const char *line, size_t line_len, const char *error, uint64_t line_no,
                              const char *source, void *opaque, char *errstr, size_t errstr_size)
{
    char line_text[24];
    int n = snprintf(line_text, sizeof(line_text), "%llu", (unsigned long long)line_no);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_RKT(p->dlq_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE((void *)line, line_len), RD_KAFKA_V_HEADER("error", error, -1),
        RD_KAFKA_V_HEADER("line", line_text, n), RD_KAFKA_V_HEADER("source", source, -1), RD_KAFKA_V_OPAQUE(opaque),
        RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return -ENOBUFS;
    snprintf(errstr, errstr_size, "produce to %s failed: %s", p->dlq_topic_name, rd_kafka_err2str(err));
    return -EIO;
}

bool producer_is_ready(const producer_t *p)
{
    return p->ready && p->fatal_error[0] == '\0';
}

const char *producer_last_error(const producer_t *p)
{
    if (p->fatal_error[0] != '\0')
        return p->fatal_error;
    return p->ready ? "" : p->last_error;
}

const char *producer_fatal_error(const producer_t *p)
{
    return p->fatal_error[0] != '\0' ? p->fatal_error : NULL;
}

int producer_queue_length(const producer_t *p)
{
    return rd_kafka_outq_len(p->rk);
}

bool producer_delivery_stalled(const producer_t *p)
{
    return p->watch.stalled;
}

uint64_t producer_delivery_stalls(const producer_t *p)
{
    return p->watch.stalls;
}

const struct metrics_histogram_s *producer_latency(const producer_t *p)
{
    return &p->latency;
}

void producer_stop_probing(producer_t *p)
{
    kafka_probe_stop(&p->probe);
}

static void on_watch_timer_closed(uv_handle_t *h)
{
    producer_t *p = h->data;
    p->watch_timer_closed = true;
}

void producer_close(producer_t *p)
{
    if (p->closing)
        return;
    p->closing = true;
    kafka_probe_close(&p->probe);
    uv_close((uv_handle_t *)&p->watch_timer, on_watch_timer_closed);
    kafka_waker_close(p->waker);
    p->waker = NULL;
}

void producer_free(producer_t *p, int timeout_ms)
{
    producer_close(p);
    /* rd_kafka_flush serves the remaining delivery reports itself (on this thread). */
    if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        log_warn("kafka_flush_timeout", "%d message(s) not delivered at shutdown", rd_kafka_outq_len(p->rk));
    /*
     * A health probe still running on the threadpool uses rk and writes into p: let it finish (its calls are
     * bounded by KAFKA_PROBE_TIMEOUT_MS, and none starts after producer_stop_probing) before destroying both:
     * rd_kafka_destroy beside it would block until its metadata call timed out. The timers live in p: their
     * close callbacks must have run too (when start-up failed the loop has not run since they were closed).
     */
    while (!kafka_probe_released(&p->probe) || !p->watch_timer_closed)
        uv_run(p->loop, UV_RUN_ONCE);
    rd_kafka_queue_destroy(p->main_queue);
    rd_kafka_topic_destroy(p->topic);
    rd_kafka_topic_destroy(p->dlq_topic);
    for (size_t i = 0; i < p->n_compacted; i++) {
        rd_kafka_topic_destroy(p->compacted[i]);
        free(p->compacted_names[i]);
    }
    free(p->compacted);
    free(p->compacted_names);
    rd_kafka_destroy(p->rk);
    free(p->batch);
    free(p->topic_name);
    free(p->dlq_topic_name);
    free(p);
}
