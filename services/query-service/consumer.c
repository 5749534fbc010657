#include "consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "continuity.h"
#include "fetch_kick.h"
#include "kafka_glue.h"
#include "kafka_probe.h"
#include "offset_range.h"
#include "log.h"

#define BATCH_SIZE 1024
/* Batches served per wake-up before yielding to HTTP and timers; a zero timer continues the drain. */
#define BATCHES_PER_TURN 32

typedef struct part_s {
    consumer_partition_t info;
    continuity_t check;
} part_t;

struct consumer_s {
    uv_loop_t *loop;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *queue;
    kafka_waker_t *waker;
    consumer_callbacks_t cb;
    const positions_t *positions; /* the state's: where each partition stands */
    char *topic;

    part_t *parts; /* index = partition id */
    size_t n_parts;
    char *hold;    /* tests: the partitions not read ("," separated, with a "," on each side) */
    consumer_partition_t *info; /* for consumer_partitions */
    uint64_t generation;        /* bumped by each rewind: what was fetched or asked before is stale */

    uv_idle_t drain_idle;
    fetch_kick_t *kick;

    offset_range_t *range; /* the first and end offsets of partitions out of range */

    kafka_probe_t probe;
    bool probe_stale; /* the probe in flight was asked before a rewind */
    bool closing;
    bool kafka_ok;
    bool kafka_reached;
    uint64_t probes_done;
    bool topic_lost; /* a probe found the topic gone: check every partition again once it is back */
    bool have_start_ends;
    char last_error[256];
    /* Written by the probe thread, read on the loop after it completes. */
    int probe_partition_count;
    bool probe_topic_missing;
    int64_t *probe_high;
    char probe_error[256];
    rd_kafka_message_t *batch[BATCH_SIZE];
};

static void consumer_drain(consumer_t *c);

/* ---- reading ---- */

/*
 * Starts fetching partition p at offset (a logical one too), or starts it again there. Not rd_kafka_seek: a
 * partition whose offset was out of range (auto.offset.reset=error) has stopped fetching, and a seek of a stopped
 * partition fails. rd_kafka_consume_stop waits for librdkafka's reply, a matter of microseconds, on paths that
 * are rare (a partition checked again, an offset out of range, a rewind); what was fetched before is discarded
 * by librdkafka (the partition's op version moves on).
 */
static void part_fetch_from(consumer_t *c, size_t p, int64_t offset, bool started)
{
    if (started)
        rd_kafka_consume_stop(c->rkt, (int32_t)p);
    if (rd_kafka_consume_start_queue(c->rkt, (int32_t)p, offset, c->queue) != 0)
        log_error("kafka_consume_start", "%s [%zu] from offset %lld: %s", c->topic, p, (long long)offset,
                  rd_kafka_err2str(rd_kafka_last_error()));
}

/* Tests: a held partition is never read. */
static bool part_held(const consumer_t *c, size_t p)
{
    char id[24];
    snprintf(id, sizeof(id), ",%zu,", p);
    return c->hold != NULL && strstr(c->hold, id) != NULL;
}

/* Arms the continuity check of partition p from where the state stands and fetches from there. */
static void part_resume(consumer_t *c, size_t p, bool started)
{
    if (part_held(c, p)) {
        /* Never started: the continuity check waits for ever, so the partition never counts as caught up. */
        c->parts[p].check.phase = CONTINUITY_ASKING;
        return;
    }
    position_t pos = positions_get(c->positions, (int32_t)p);
    int64_t from = continuity_start(&c->parts[p].check, &pos);
    part_fetch_from(c, p, from, started);
    if (c->parts[p].check.phase == CONTINUITY_VERIFY)
        log_info("partition_resumed", "%s [%zu] at offset %lld: checking the message applied last first", c->topic,
                 p, (long long)pos.next_offset);
    else if (pos.next_offset > 0)
        log_warn("partition_resumed_unchecked", "%s [%zu] at offset %lld: the state has no fingerprint of the "
                 "message it applied last, the partition cannot be checked", c->topic, p, (long long)pos.next_offset);
}

/* The topic is not the one the state was built from: the owner rebuilds (and rewinds us). */
static void consumer_reset(consumer_t *c, int32_t partition, const char *why)
{
    char reason[512];
    snprintf(reason, sizeof(reason), "%s [%d]: %s", c->topic, (int)partition, why);
    c->cb.on_reset(reason, c->cb.data);
}

static void on_out_of_range(consumer_t *c, int32_t p)
{
    if (c->parts[p].check.phase == CONTINUITY_ASKING)
        return;
    log_warn("offset_out_of_range", "%s [%d]: the offset asked for is not in the partition: asking for its range",
             c->topic, (int)p);
    continuity_out_of_range(&c->parts[p].check);
    offset_range_ask(c->range, p);
}

/* One message of partition p; @returns false when it made the owner rewind (the rest of the batch is stale). */
static bool take_message(consumer_t *c, rd_kafka_message_t *m)
{
    if (m->partition < 0 || (size_t)m->partition >= c->n_parts)
        return true;
    part_t *pt = &c->parts[m->partition];
    position_t pos = positions_get(c->positions, m->partition);
    uint64_t generation = c->generation;
    char why[256];
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        pt->info.end_offset = m->offset;
        if (continuity_end(&pt->check, &pos, m->offset, why, sizeof(why)) == CONTINUITY_RESET)
            consumer_reset(c, m->partition, why);
        return generation == c->generation;
    }
    if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET || m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        on_out_of_range(c, m->partition);
        return true;
    }
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("kafka_consume_error", "partition %d: %s", (int)m->partition, rd_kafka_message_errstr(m));
        return true;
    }
    uint64_t fp = positions_fingerprint(rd_kafka_message_timestamp(m, NULL), m->key, m->key_len, m->payload, m->len);
    switch (continuity_message(&pt->check, &pos, m->offset, fp, why, sizeof(why))) {
    case CONTINUITY_RESET:
        consumer_reset(c, m->partition, why);
        return false;
    case CONTINUITY_DROP:
        if (pt->check.phase == CONTINUITY_RUNNING && pos.next_offset > 0)
            log_info("partition_checked", "%s [%d]: the message at offset %lld is the one the state applied: "
                     "reading on", c->topic, (int)m->partition, (long long)m->offset);
        return true;
    case CONTINUITY_SKIP:
        c->cb.on_deleted(m->partition, m->offset, c->cb.data);
        /* fall through */
    case CONTINUITY_APPLY:
        c->cb.on_message(m, fp, c->cb.data);
        return true;
    }
    return true;
}

static void on_drain_idle(uv_idle_t *idle)
{
    uv_idle_stop(idle);
    consumer_drain(idle->data);
}

static void on_kafka_ready(void *data)
{
    consumer_drain(data);
}

static void consumer_drain(consumer_t *c)
{
    if (c->closing)
        return;
    for (int turn = 0; turn < BATCHES_PER_TURN; turn++) {
        ssize_t n = rd_kafka_consume_batch_queue(c->queue, 0, c->batch, BATCH_SIZE);
        if (n <= 0)
            n = 0;
        fetch_kick_received(c->kick, (uint64_t)n);
        bool current = true;
        for (ssize_t i = 0; i < n; i++) {
            /* After a rewind the rest of the batch was fetched for the state thrown away. */
            if (current)
                current = take_message(c, c->batch[i]);
            rd_kafka_message_destroy(c->batch[i]);
        }
        if (n < BATCH_SIZE) {
            fetch_kick_arm(c->kick, c->n_parts);
            return;
        }
    }
    /*
     * The queue may still hold messages and librdkafka will not wake us for those: come back on the next
     * loop iteration, after I/O (an idle handle; a 0 ms timer re-armed from its callback would starve I/O).
     */
    uv_idle_start(&c->drain_idle, on_drain_idle);
}

/* ---- offsets out of range ---- */

/* The range of a partition whose offset was out of range (offset_range.h). */
static void on_range(int32_t p, int64_t first, int64_t end, void *data)
{
    consumer_t *c = data;
    part_t *pt = &c->parts[p];
    if (pt->check.phase != CONTINUITY_ASKING)
        return;
    position_t pos = positions_get(c->positions, p);
    int64_t from;
    char why[256];
    switch (continuity_range(&pt->check, &pos, first, end, &from, why, sizeof(why))) {
    case CONTINUITY_RESET:
        consumer_reset(c, p, why); /* rewound: every partition starts again */
        return;
    case CONTINUITY_SKIP:
        c->cb.on_deleted(p, from, c->cb.data);
        break;
    default:
        break;
    }
    log_info("partition_range", "%s [%d] holds offsets %lld..%lld: reading on from %lld", c->topic, (int)p,
             (long long)first, (long long)end, (long long)from);
    part_fetch_from(c, (size_t)p, from, true);
}

/* ---- the probe: partitions and, at start, the end offsets to catch up with ---- */

static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    log_warn("kafka_error", "%s: %s", rd_kafka_err2name(err), reason);
}

/* Threadpool: touches only rk and the probe_* fields. */
static void probe_work(void *data)
{
    consumer_t *c = data;
    c->probe_error[0] = '\0';
    c->probe_partition_count = 0;
    int count = kafka_topic_partitions(c->rk, c->rkt, false, c->probe_error, sizeof(c->probe_error));
    c->probe_topic_missing = count == KAFKA_TOPIC_MISSING;
    if (count <= 0)
        return;
    if (!c->have_start_ends) {
        c->probe_high = xcalloc((size_t)count, sizeof(int64_t));
        int32_t *ids = xcalloc((size_t)count, sizeof(int32_t));
        for (int p = 0; p < count; p++)
            ids[p] = p;
        rd_kafka_resp_err_t err = kafka_list_offsets(c->rk, c->topic, ids, RD_KAFKA_OFFSET_END, c->probe_high, count,
                                                     KAFKA_PROBE_TIMEOUT_MS);
        free(ids);
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(c->probe_error, sizeof(c->probe_error), "end offsets of the partitions: %s",
                     rd_kafka_err2str(err));
            free(c->probe_high);
            c->probe_high = NULL;
            return;
        }
    }
    c->probe_partition_count = count;
}

static void consumer_start_partitions(consumer_t *c, size_t count)
{
    c->parts = xrealloc(c->parts, count * sizeof(*c->parts));
    c->info = xrealloc(c->info, count * sizeof(*c->info));
    for (size_t p = c->n_parts; p < count; p++) {
        part_t *pt = &c->parts[p];
        memset(pt, 0, sizeof(*pt));
        pt->info.partition = (int32_t)p;
        pt->info.end_offset = -1;
        pt->info.start_end_offset = c->probe_high != NULL ? c->probe_high[p] : 0;
        part_resume(c, p, false);
        if (part_held(c, p)) {
            log_warn("partition_held", "%s [%zu] is held (tests): not read", c->topic, p);
            continue;
        }
        log_info("partition_assigned", "%s [%zu] from offset %lld, end at start %lld", c->topic, p,
                 (long long)positions_get(c->positions, (int32_t)p).next_offset, (long long)pt->info.start_end_offset);
    }
    c->n_parts = count;
    if (c->cb.on_partitions != NULL)
        c->cb.on_partitions(count, c->cb.data);
}

/* The topic as a probe found it, against the state: @returns false when it made the owner rewind. */
static bool consumer_check_topic(consumer_t *c, size_t count)
{
    /* The state read partitions the topic no longer has: it is another topic under the same name. */
    for (size_t p = count; p < positions_count(c->positions); p++) {
        int64_t next = positions_get(c->positions, (int32_t)p).next_offset;
        if (next > 0) {
            char why[256];
            snprintf(why, sizeof(why), "the topic has %zu partition(s) now, the state read offsets up to %lld of "
                     "partition %zu: the topic was deleted and created again", count, (long long)next, p);
            consumer_reset(c, (int32_t)p, why);
            return false;
        }
    }
    if (c->topic_lost) {
        /* Gone and back: each partition proves again that it is the one the state was built from. */
        c->topic_lost = false;
        log_warn("topic_back", "topic %s exists again: checking every partition against the state", c->topic);
        for (size_t p = 0; p < c->n_parts && p < count; p++)
            part_resume(c, p, true);
    }
    return true;
}

static uint64_t probe_done(void *data)
{
    consumer_t *c = data;
    if (c->probe_stale) {
        c->probe_stale = false;
        free(c->probe_high);
        c->probe_high = NULL;
        return 0;
    }
    bool was_ok = c->kafka_ok;
    c->probes_done++;
    c->kafka_ok = c->probe_error[0] == '\0';
    if (c->kafka_ok || c->probe_topic_missing)
        c->kafka_reached = true;
    if (c->probe_topic_missing && c->n_parts > 0 && !c->topic_lost) {
        c->topic_lost = true;
        log_warn("topic_gone", "topic %s no longer exists", c->topic);
    }
    if (!c->kafka_ok && strcmp(c->probe_error, c->last_error) != 0)
        log_warn("kafka_not_ready", "%s", c->probe_error);
    else if (c->kafka_ok && !was_ok)
        log_info("kafka_ready", "topic %s has %d partition(s)", c->topic, c->probe_partition_count);
    memcpy(c->last_error, c->probe_error, sizeof(c->last_error));
    if (c->kafka_ok && consumer_check_topic(c, (size_t)c->probe_partition_count)) {
        if ((size_t)c->probe_partition_count > c->n_parts)
            consumer_start_partitions(c, (size_t)c->probe_partition_count);
        if (c->probe_high != NULL)
            c->have_start_ends = true;
    }
    free(c->probe_high);
    c->probe_high = NULL;
    return c->kafka_ok && c->have_start_ends ? KAFKA_PROBE_INTERVAL_READY_MS : KAFKA_PROBE_INTERVAL_NOT_READY_MS;
}

/* ---- life cycle ---- */

/* The fetch kick asks where the state stands now: the positions change with a rewind. */
static int64_t kick_position(int32_t partition, void *data)
{
    consumer_t *c = data;
    return positions_get(c->positions, partition).next_offset;
}

consumer_t *consumer_new(uv_loop_t *loop, const consumer_config_t *cfg, const consumer_callbacks_t *cb,
                         const positions_t *positions, char *errstr, size_t errstr_size)
{
    /*
     * Freshness over idle efficiency: the broker answers a fetch within 10 ms even when it has little.
     * The prefetch queue is bounded per partition in librdkafka 2.0 (8 MB each), which bounds RSS.
     * Offsets are the state's, never committed to Kafka; an offset out of range is an error for us to look
     * at (continuity.h), never silently reset. -X overrides any of these.
     */
    static const kafka_property_t defaults[] = {
        {"enable.partition.eof", "true"},       {"fetch.wait.max.ms", "10"},
        {"fetch.error.backoff.ms", "100"},      {"queued.max.messages.kbytes", "8192"},
        {"max.partition.fetch.bytes", "4194304"}, {"enable.auto.commit", "false"},
        {"auto.offset.reset", "error"},
    };
    rd_kafka_conf_t *conf = kafka_conf_new(cfg->bootstrap_servers, "query-service", defaults,
                                           sizeof(defaults) / sizeof(defaults[0]), cfg->kafka_props, errstr, errstr_size);
    if (conf == NULL)
        return NULL;

    consumer_t *c = xcalloc(1, sizeof(*c));
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_error_cb(conf, on_kafka_error);
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, errstr_size);
    if (c->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return NULL;
    }
    c->loop = loop;
    c->cb = *cb;
    c->positions = positions;
    c->topic = xstrdup(cfg->topic);
    if (cfg->hold_partitions != NULL && cfg->hold_partitions[0] != '\0') {
        size_t n = strlen(cfg->hold_partitions) + 3;
        c->hold = xmalloc(n);
        snprintf(c->hold, n, ",%s,", cfg->hold_partitions);
    }
    snprintf(c->last_error, sizeof(c->last_error), "Kafka not reached yet");
    c->rkt = rd_kafka_topic_new(c->rk, c->topic, NULL);
    c->queue = rd_kafka_queue_new(c->rk);
    c->waker = kafka_waker_new(loop, c->queue, on_kafka_ready, c);
    uv_idle_init(loop, &c->drain_idle);
    c->drain_idle.data = c;
    c->kick = fetch_kick_new(loop, c->rk, c->topic, kick_position, c);
    c->range = offset_range_new(loop, c->rk, c->topic, on_range, c);
    kafka_probe_start(&c->probe, loop, probe_work, probe_done, c);
    return c;
}

void consumer_rewind(consumer_t *c, const positions_t *positions)
{
    c->positions = positions;
    c->generation++;
    offset_range_forget(c->range);
    c->topic_lost = false;
    /* Caught up again only with the end offsets of the topic as it is now. */
    c->have_start_ends = false;
    for (size_t p = 0; p < c->n_parts; p++) {
        c->parts[p].info.start_end_offset = 0;
        c->parts[p].info.end_offset = -1;
        part_resume(c, p, true);
    }
    if (c->cb.on_partitions != NULL && c->n_parts > 0)
        c->cb.on_partitions(c->n_parts, c->cb.data);
    c->probe_stale = kafka_probe_busy(&c->probe);
    kafka_probe_soon(&c->probe);
}

int64_t consumer_partition_end(consumer_t *c, int32_t partition)
{
    if (partition < 0 || (size_t)partition >= c->n_parts)
        return -1;
    int64_t lo, hi;
    if (rd_kafka_get_watermark_offsets(c->rk, c->topic, partition, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR && hi >= 0)
        return hi;
    return c->have_start_ends ? c->parts[partition].info.start_end_offset : -1;
}

const consumer_partition_t *consumer_partitions(consumer_t *c, size_t *n)
{
    for (size_t p = 0; p < c->n_parts; p++) {
        c->parts[p].info.end_offset = consumer_partition_end(c, (int32_t)p);
        c->info[p] = c->parts[p].info;
    }
    *n = c->n_parts;
    return c->info;
}

/* Checked against the state and past it: the partition's messages reach the views. */
static bool part_checked(const part_t *pt)
{
    return pt->check.phase == CONTINUITY_RUNNING || pt->check.phase == CONTINUITY_FIRST;
}

bool consumer_caught_up(const consumer_t *c)
{
    if (!c->have_start_ends || c->n_parts == 0)
        return false;
    for (size_t p = 0; p < c->n_parts; p++)
        if (!part_checked(&c->parts[p]) ||
            positions_get(c->positions, (int32_t)p).next_offset < c->parts[p].info.start_end_offset)
            return false;
    return true;
}

bool consumer_current(consumer_t *c)
{
    if (!c->kafka_ok || !consumer_caught_up(c))
        return false;
    size_t n;
    const consumer_partition_t *parts = consumer_partitions(c, &n);
    for (size_t p = 0; p < n; p++)
        if (positions_get(c->positions, (int32_t)p).next_offset < parts[p].end_offset)
            return false;
    return true;
}

bool consumer_kafka_ok(const consumer_t *c)
{
    return c->kafka_ok;
}

bool consumer_kafka_unreached(const consumer_t *c)
{
    return c->probes_done > 0 && !c->kafka_reached;
}

const char *consumer_last_error(const consumer_t *c)
{
    return c->kafka_ok ? "" : c->last_error;
}

uint64_t consumer_fetch_kicks(const consumer_t *c)
{
    return fetch_kick_count(c->kick);
}

void consumer_close(consumer_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    kafka_probe_close(&c->probe);
    uv_close((uv_handle_t *)&c->drain_idle, NULL);
    offset_range_close(c->range);
    fetch_kick_close(c->kick);
    kafka_waker_close(c->waker);
    c->waker = NULL;
}

bool consumer_busy(const consumer_t *c)
{
    return kafka_probe_busy(&c->probe) || fetch_kick_busy(c->kick) || offset_range_busy(c->range);
}

void consumer_free(consumer_t *c)
{
    /*
     * After the loop ended, so nothing of ours is on the threadpool (consumer_close stopped new work; the loop ran
     * until the work on its way ended). Were something still there, it would use rk and write into c: they are
     * left to the process exit rather than freed under it.
     */
    if (consumer_busy(c)) {
        log_error("consumer_busy", "librdkafka is still in use on the threadpool: left to the process exit");
        return;
    }
    fetch_kick_free(c->kick);
    offset_range_free(c->range);
    for (size_t p = 0; p < c->n_parts; p++)
        rd_kafka_consume_stop(c->rkt, (int32_t)p);
    rd_kafka_queue_destroy(c->queue);
    rd_kafka_topic_destroy(c->rkt);
    rd_kafka_destroy(c->rk);
    free(c->probe_high); /* a probe finished after the close is not delivered */
    free(c->parts);
    free(c->info);
    free(c->hold);
    free(c->topic);
    free(c);
}
