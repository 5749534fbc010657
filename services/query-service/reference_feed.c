#include "reference_feed.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kafka_glue.h"
#include "kafka_probe.h"
#include "log.h"

/* Every second, ready or not: a table emptied within a second of its topic's deletion (README, Semantics). */
#define PROBE_INTERVAL_MS 1000
#define BATCH_SIZE 1024
#define MAX_PARTITIONS 4096

typedef struct topic_s {
    char name[512];
    rd_kafka_topic_t *rkt;
    int partitions;       /* being read */
    int probed;           /* the probe's answer: partitions, KAFKA_TOPIC_MISSING or KAFKA_TOPIC_UNANSWERED */
    int loaded;           /* partitions that reached their end once */
    bool *at_end_once;    /* index = partition */
    int64_t *next_offset; /* index = partition: the offset after the last message taken */
    uint64_t resets;      /* times the table started over (the topic deleted, created again) */
} topic_t;

struct reference_feed_s {
    uv_loop_t *loop;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    kafka_waker_t *waker;
    tables_t *tables;
    reference_feed_changed_cb on_changed;
    void *data;
    topic_t topics[REFERENCE_KINDS];
    kafka_probe_t probe;
    bool closing;
    rd_kafka_message_t *batch[BATCH_SIZE];
};

static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    log_warn("kafka_error", "reference topics: %s: %s", rd_kafka_err2name(err), reason);
}

static reference_kind_t kind_of(const reference_feed_t *f, const rd_kafka_topic_t *rkt)
{
    for (int k = 0; k < REFERENCE_KINDS; k++)
        if (f->topics[k].rkt == rkt)
            return (reference_kind_t)k;
    return REFERENCE_KINDS;
}

/* What one batch did: invalid messages (the first is logged with where it is, the others counted in one line), and
 * the tables that started over in it (the rest of the batch was fetched for the table thrown away). */
typedef struct batch_s {
    bool changed;
    uint64_t invalid;
    bool reset[REFERENCE_KINDS];
} batch_t;

/* Reads t's partitions from the one after those read up to count, each from its beginning. */
static void topic_read_partitions(reference_feed_t *f, topic_t *t, int count)
{
    t->at_end_once = xrealloc(t->at_end_once, (size_t)count * sizeof(bool));
    t->next_offset = xrealloc(t->next_offset, (size_t)count * sizeof(int64_t));
    for (int p = t->partitions; p < count; p++) {
        t->at_end_once[p] = false;
        t->next_offset[p] = 0;
        if (rd_kafka_consume_start_queue(t->rkt, p, RD_KAFKA_OFFSET_BEGINNING, f->queue) != 0)
            log_warn("reference_fetch", "%s [%d]: %s", t->name, p, rd_kafka_err2str(rd_kafka_last_error()));
    }
    log_info("reference_reading", "%s: reading %d partition(s) from the beginning", t->name, count - t->partitions);
    t->partitions = count;
}

/*
 * The topic is not the one kind's table was read from: it was deleted (and maybe created again). The table
 * starts over, empty, as a start would find it; the caller reads the topic again from its beginning if it exists.
 * What librdkafka fetched before is discarded by it (stopping a partition moves its op version on).
 */
static void topic_reset(reference_feed_t *f, reference_kind_t kind, const char *why)
{
    topic_t *t = &f->topics[kind];
    log_error("reference_reset", "%s: %s: the %s table is emptied, to be read again from the topic's beginning",
              t->name, why, reference_kind_name(kind));
    for (int p = 0; p < t->partitions; p++)
        rd_kafka_consume_stop(t->rkt, p);
    t->partitions = 0;
    t->loaded = 0;
    t->resets++;
    tables_clear(f->tables, kind);
}

static void note_invalid(batch_t *b, const topic_t *t, const rd_kafka_message_t *m, const char *why)
{
    if (b->invalid++ == 0)
        log_warn("reference_invalid", "%s [%d] offset %lld: %s: skipped (GET /reference counts them)", t->name,
                 (int)m->partition, (long long)m->offset, why);
}

static void take(reference_feed_t *f, const rd_kafka_message_t *m, batch_t *b)
{
    reference_kind_t kind = kind_of(f, m->rkt);
    if (kind == REFERENCE_KINDS)
        return;
    topic_t *t = &f->topics[kind];
    if (b->reset[kind])
        return;
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        log_warn("reference_fetch", "%s [%d]: %s", t->name, (int)m->partition, rd_kafka_message_errstr(m));
        if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
            m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION)
            kafka_probe_soon(&f->probe); /* gone? the probe says */
        return;
    }
    if (m->partition < 0 || m->partition >= t->partitions)
        return;
    /* Offsets of a partition never go backwards, not even compacted: if they do, it is another topic. librdkafka
     * resets an offset out of range to the beginning (auto.offset.reset), so a shorter topic lands here. */
    if (m->offset < t->next_offset[m->partition]) {
        char why[160];
        snprintf(why, sizeof(why), "partition %d %s at offset %lld, after offset %lld was read", (int)m->partition,
                 m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF ? "ends" : "has a message",
                 (long long)m->offset, (long long)t->next_offset[m->partition] - 1);
        int count = t->partitions;
        topic_reset(f, kind, why);
        topic_read_partitions(f, t, count);
        b->reset[kind] = true;
        b->changed = true;
        return;
    }
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (!t->at_end_once[m->partition]) {
            t->at_end_once[m->partition] = true;
            t->loaded++;
        }
        return;
    }
    t->next_offset[m->partition] = m->offset + 1;
    if (tables_apply(f->tables, kind, m->key, m->key_len, m->payload, m->payload != NULL ? m->len : 0) != 0)
        note_invalid(b, t, m, m->key == NULL ? "a message without a key (the code)" : "its value is not a JSON entry");
    b->changed = true;
}

static void on_kafka_ready(void *data)
{
    reference_feed_t *f = data;
    batch_t b = {0};
    ssize_t n;
    /* Reference topics are small (thousands of codes): a start drains them in a few batches. */
    while (!f->closing && (n = rd_kafka_consume_batch_queue(f->queue, 0, f->batch, BATCH_SIZE)) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            take(f, f->batch[i], &b);
            rd_kafka_message_destroy(f->batch[i]);
        }
        if (n < BATCH_SIZE)
            break;
    }
    if (b.invalid > 1)
        log_warn("reference_invalid", "%llu more invalid reference message(s) skipped",
                 (unsigned long long)(b.invalid - 1));
    if (b.changed && f->on_changed != NULL)
        f->on_changed(f->data);
}

/*
 * Threadpool: the partition count of each topic, or KAFKA_TOPIC_MISSING. Touches only rk and probed. Kafka not
 * answering for one topic ends the probe: it would not for the others either, and a shutdown waits for the probe
 * (one timeout at most, within the 5 s a SIGTERM is promised).
 */
static void probe_work(void *data)
{
    reference_feed_t *f = data;
    for (int k = 0; k < REFERENCE_KINDS; k++)
        f->topics[k].probed = KAFKA_TOPIC_UNANSWERED;
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        topic_t *t = &f->topics[k];
        char why[256];
        int count = kafka_topic_partitions(f->rk, t->rkt, false, why, sizeof(why));
        if (count == KAFKA_TOPIC_UNANSWERED)
            break;
        if (count != KAFKA_TOPIC_FAILED)
            t->probed = count < MAX_PARTITIONS ? count : MAX_PARTITIONS;
    }
}

static uint64_t probe_done(void *data)
{
    reference_feed_t *f = data;
    bool changed = false;
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        topic_t *t = &f->topics[k];
        if (t->partitions > 0 && (t->probed == KAFKA_TOPIC_MISSING || (t->probed > 0 && t->probed < t->partitions))) {
            const char *why = t->probed == KAFKA_TOPIC_MISSING ? "the topic no longer exists"
                                                               : "it has fewer partitions than were read";
            topic_reset(f, (reference_kind_t)k, why);
            changed = true;
        }
        if (t->probed > t->partitions)
            topic_read_partitions(f, t, t->probed);
    }
    if (changed && f->on_changed != NULL)
        f->on_changed(f->data);
    return PROBE_INTERVAL_MS;
}

reference_feed_t *reference_feed_new(uv_loop_t *loop, const char *bootstrap_servers, const char *topic,
                                     const config_kv_t *kafka_props, tables_t *tables,
                                     reference_feed_changed_cb on_changed, void *data, char *errstr,
                                     size_t errstr_size)
{
    static const kafka_property_t defaults[] = {
        {"enable.partition.eof", "true"}, {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"}};
    rd_kafka_conf_t *conf = kafka_conf_new(bootstrap_servers, "query-service-reference", defaults,
                                           sizeof(defaults) / sizeof(defaults[0]), kafka_props, errstr, errstr_size);
    if (conf == NULL)
        return NULL;
    rd_kafka_conf_set_error_cb(conf, on_kafka_error);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    reference_feed_t *f = xcalloc(1, sizeof(*f));
    f->loop = loop;
    f->rk = rk;
    f->tables = tables;
    f->on_changed = on_changed;
    f->data = data;
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        topic_t *t = &f->topics[k];
        reference_kind_topic(topic, (reference_kind_t)k, t->name, sizeof(t->name));
        t->rkt = rd_kafka_topic_new(rk, t->name, NULL);
    }
    f->queue = rd_kafka_queue_new(rk);
    f->waker = kafka_waker_new(loop, f->queue, on_kafka_ready, f);
    kafka_probe_start(&f->probe, loop, probe_work, probe_done, f);
    return f;
}

bool reference_feed_loaded(const reference_feed_t *f)
{
    for (int k = 0; k < REFERENCE_KINDS; k++)
        if (f->topics[k].partitions == 0 || f->topics[k].loaded < f->topics[k].partitions)
            return false;
    return true;
}

int reference_feed_partitions(const reference_feed_t *f, reference_kind_t kind)
{
    return f->topics[kind].partitions;
}

uint64_t reference_feed_resets(const reference_feed_t *f, reference_kind_t kind)
{
    return f->topics[kind].resets;
}

void reference_feed_close(reference_feed_t *f)
{
    if (f->closing)
        return;
    f->closing = true;
    kafka_probe_close(&f->probe);
    kafka_waker_close(f->waker);
    f->waker = NULL;
}

bool reference_feed_busy(const reference_feed_t *f)
{
    return kafka_probe_busy(&f->probe);
}

void reference_feed_free(reference_feed_t *f)
{
    if (f == NULL)
        return;
    reference_feed_close(f);
    if (kafka_probe_busy(&f->probe)) { /* left to the process exit rather than freed under the probe (as consumer_free) */
        log_error("reference_busy", "librdkafka is still in use on the threadpool: left to the process exit");
        return;
    }
    for (int k = 0; k < REFERENCE_KINDS; k++) {
        topic_t *t = &f->topics[k];
        for (int p = 0; p < t->partitions; p++)
            rd_kafka_consume_stop(t->rkt, p);
        rd_kafka_topic_destroy(t->rkt);
        free(t->at_end_once);
        free(t->next_offset);
    }
    rd_kafka_queue_destroy(f->queue);
    rd_kafka_destroy(f->rk);
    free(f);
}
