#include "consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kafka_glue.h"
#include "log.h"

#define PROBE_INTERVAL_NOT_READY_MS 1000
#define PROBE_INTERVAL_READY_MS 5000
#define PROBE_TIMEOUT_MS 3000
#define BATCH_SIZE 1024
/* Batches served per wake-up before yielding to HTTP and timers; a zero timer continues the drain. */
#define BATCHES_PER_TURN 32
/*
 * The fetch kick. librdkafka 2.0 stops fetching a partition whose prefetch queue (here the one queue all
 * partitions share) is over queued.min.messages or queued.max.messages.kbytes, and looks at it again only
 * when its broker thread wakes up: on a response, on a request to send, or on its one-second tick (2.1 made
 * that tick fetch.queue.backoff.ms). Catching up, the loop empties a full queue in tens of milliseconds and
 * would then wait for the rest of that second: catch-up ran at a quarter of kcat's speed. So when the queue
 * has been dry for KICK_IDLE_MS while a partition still lags its high watermark, a ListOffsets request to
 * that partition's leader (on the threadpool: it waits for the answer) wakes the broker thread, which then
 * sees the queue empty and fetches at once.
 */
#define KICK_IDLE_MS 5
#define KICK_TIMEOUT_MS 1000

struct consumer_s {
    uv_loop_t *loop;
    rd_kafka_t *rk;
    rd_kafka_topic_t *rkt;
    rd_kafka_queue_t *queue;
    kafka_waker_t *waker;
    consumer_message_cb on_message;
    consumer_batch_cb on_batch;
    void *data;
    char *topic;

    consumer_partition_t *parts; /* index = partition id */
    size_t n_parts;
    int64_t *resume; /* from the snapshot, index = partition id, -1 = none */
    size_t n_resume;

    uv_idle_t drain_idle;
    uv_timer_t kick_timer;
    uv_work_t kick_work;
    bool kick_running;
    uint64_t kicks;
    int32_t kick_partition;  /* the lagging partition whose leader the kick wakes */
    size_t kick_next;        /* round robin over lagging partitions */
    uint64_t received;       /* messages seen so far (any kind) */
    uint64_t received_at_arm; /* ... when the kick timer was last armed */
    uv_timer_t probe_timer;
    uv_work_t probe_work;
    bool probe_running;
    bool closing;
    bool kafka_ok;
    bool have_start_ends;
    char last_error[256];
    /* Written by the probe thread, read on the loop after it completes. */
    int probe_partition_count;
    int64_t *probe_high;
    char probe_error[256];
    rd_kafka_message_t *batch[BATCH_SIZE];
};

static void consumer_drain(consumer_t *c);
static void kick_arm(consumer_t *c);
static void on_kick_timer(uv_timer_t *t);

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
    size_t total = 0;
    for (int turn = 0; turn < BATCHES_PER_TURN; turn++) {
        ssize_t n = rd_kafka_consume_batch_queue(c->queue, 0, c->batch, BATCH_SIZE);
        if (n <= 0)
            n = 0;
        c->received += (uint64_t)n;
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = c->batch[i];
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                if (m->partition >= 0 && (size_t)m->partition < c->n_parts)
                    c->parts[m->partition].end_offset = m->offset;
            } else if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                log_warn("kafka_consume_error", "partition %d: %s", (int)m->partition, rd_kafka_message_errstr(m));
            } else {
                c->on_message(m, c->data);
                total++;
            }
            rd_kafka_message_destroy(m);
        }
        if (n < BATCH_SIZE) {
            if (c->on_batch != NULL && total > 0)
                c->on_batch(total, c->data);
            kick_arm(c);
            return;
        }
    }
    if (c->on_batch != NULL && total > 0)
        c->on_batch(total, c->data);
    /*
     * The queue may still hold messages and librdkafka will not wake us for those: come back on the next
     * loop iteration, after I/O (an idle handle; a 0 ms timer re-armed from its callback would starve I/O).
     */
    uv_idle_start(&c->drain_idle, on_drain_idle);
}

/*
 * Threadpool: the end offsets (high watermarks) of n partitions, asked of their leaders, waiting at most
 * timeout_ms. Not rd_kafka_query_watermark_offsets: in librdkafka 2.0 it waits for the answer without its
 * timeout, up to socket.timeout.ms (60 s) when the leader is down, and shutdown waits for this thread.
 * ListOffsets with the timestamp -1 (latest) answers the high watermark.
 */
static rd_kafka_resp_err_t consumer_end_offsets(consumer_t *c, const int32_t *partitions, int64_t *ends, int n,
                                                int timeout_ms)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(list, c->topic, partitions[i])->offset = RD_KAFKA_OFFSET_END;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(c->rk, list, timeout_ms);
    /* Answered in place, in the order asked. */
    for (int i = 0; i < n && err == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        if (tp->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            err = tp->err;
        else if (tp->offset < 0)
            err = RD_KAFKA_RESP_ERR__FAIL;
        else
            ends[i] = tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return err;
}

/* Threadpool: any request to the leader wakes its broker thread; the answer itself is not needed. */
static void kick_work(uv_work_t *req)
{
    consumer_t *c = req->data;
    int64_t end;
    consumer_end_offsets(c, &c->kick_partition, &end, 1, KICK_TIMEOUT_MS);
}

static void kick_done(uv_work_t *req, int status)
{
    consumer_t *c = req->data;
    (void)status;
    c->kick_running = false;
    /* Nothing came since the kick was armed: look again after another idle period. */
    if (!c->closing && !uv_is_active((uv_handle_t *)&c->kick_timer))
        uv_timer_start(&c->kick_timer, on_kick_timer, KICK_IDLE_MS, 0);
}

static void on_kick_timer(uv_timer_t *t)
{
    consumer_t *c = t->data;
    if (c->closing || c->kick_running || c->received != c->received_at_arm)
        return; /* messages are flowing (the next dry drain re-arms), or a kick is on its way */
    for (size_t i = 0; i < c->n_parts; i++) {
        size_t p = (c->kick_next + i) % c->n_parts;
        int64_t lo, hi;
        /* Cached from fetch responses: no network round trip. */
        if (rd_kafka_get_watermark_offsets(c->rk, c->topic, (int32_t)p, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi <= c->parts[p].next_offset)
            continue;
        c->kick_next = p + 1;
        c->kick_partition = (int32_t)p;
        c->kick_running = true;
        c->kicks++;
        c->kick_work.data = c;
        uv_queue_work(c->loop, &c->kick_work, kick_work, kick_done);
        return;
    }
}

/* The queue ran dry: if it stays so for KICK_IDLE_MS while a partition lags, kick the fetcher. */
static void kick_arm(consumer_t *c)
{
    c->received_at_arm = c->received;
    uv_timer_start(&c->kick_timer, on_kick_timer, KICK_IDLE_MS, 0);
}

static void on_kafka_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    (void)opaque;
    log_warn("kafka_error", "%s: %s", rd_kafka_err2name(err), reason);
}

/* Threadpool: partition count and, the first time, the end offsets to catch up with. */
static void probe_work(uv_work_t *req)
{
    consumer_t *c = req->data;
    c->probe_error[0] = '\0';
    c->probe_partition_count = 0;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 0, c->rkt, &md, PROBE_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(c->probe_error, sizeof(c->probe_error), "Kafka unavailable: %s", rd_kafka_err2str(err));
        return;
    }
    if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR || md->topics[0].partition_cnt == 0) {
        snprintf(c->probe_error, sizeof(c->probe_error), "topic %s is not available yet: %s", c->topic,
                 md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "no metadata");
        rd_kafka_metadata_destroy(md);
        return;
    }
    int count = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (!c->have_start_ends) {
        c->probe_high = xcalloc((size_t)count, sizeof(int64_t));
        int32_t *ids = xcalloc((size_t)count, sizeof(int32_t));
        for (int p = 0; p < count; p++)
            ids[p] = p;
        err = consumer_end_offsets(c, ids, c->probe_high, count, PROBE_TIMEOUT_MS);
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
    for (size_t p = c->n_parts; p < count; p++) {
        int64_t start = p < c->n_resume && c->resume[p] >= 0 ? c->resume[p] : RD_KAFKA_OFFSET_BEGINNING;
        c->parts[p].partition = (int32_t)p;
        c->parts[p].next_offset = start >= 0 ? start : 0;
        c->parts[p].end_offset = -1;
        c->parts[p].start_end_offset = c->probe_high != NULL ? c->probe_high[p] : 0;
        if (rd_kafka_consume_start_queue(c->rkt, (int32_t)p, start, c->queue) != 0)
            log_error("kafka_consume_start", "partition %zu: %s", p, rd_kafka_err2str(rd_kafka_last_error()));
        else
            log_info("partition_assigned", "%s [%zu] from offset %lld, end at start %lld", c->topic, p,
                     (long long)c->parts[p].next_offset, (long long)c->parts[p].start_end_offset);
    }
    c->n_parts = count;
}

static void probe_schedule(consumer_t *c);

static void probe_done(uv_work_t *req, int status)
{
    consumer_t *c = req->data;
    c->probe_running = false;
    if (status != 0 || c->closing) {
        free(c->probe_high);
        c->probe_high = NULL;
        return;
    }
    bool was_ok = c->kafka_ok;
    c->kafka_ok = c->probe_error[0] == '\0';
    if (!c->kafka_ok && strcmp(c->probe_error, c->last_error) != 0)
        log_warn("kafka_not_ready", "%s", c->probe_error);
    else if (c->kafka_ok && !was_ok)
        log_info("kafka_ready", "topic %s has %d partition(s)", c->topic, c->probe_partition_count);
    memcpy(c->last_error, c->probe_error, sizeof(c->last_error));
    if (c->kafka_ok && (size_t)c->probe_partition_count > c->n_parts)
        consumer_start_partitions(c, (size_t)c->probe_partition_count);
    if (c->probe_high != NULL) {
        c->have_start_ends = true;
        free(c->probe_high);
        c->probe_high = NULL;
    }
    probe_schedule(c);
}

static void on_probe_timer(uv_timer_t *t)
{
    consumer_t *c = t->data;
    if (c->probe_running || c->closing)
        return;
    c->probe_running = true;
    c->probe_work.data = c;
    uv_queue_work(c->loop, &c->probe_work, probe_work, probe_done);
}

static void probe_schedule(consumer_t *c)
{
    uv_timer_start(&c->probe_timer, on_probe_timer, c->kafka_ok ? PROBE_INTERVAL_READY_MS : PROBE_INTERVAL_NOT_READY_MS,
                   0);
}

consumer_t *consumer_new(uv_loop_t *loop, const consumer_config_t *cfg, consumer_message_cb on_message,
                         consumer_batch_cb on_batch, void *data, char *errstr, size_t errstr_size)
{
    /*
     * Freshness over idle efficiency: the broker answers a fetch within 10 ms even when it has little.
     * The prefetch queue is bounded per partition in librdkafka 2.0 (8 MB each), which bounds RSS.
     * Offsets are ours (in the snapshot), never committed to Kafka. -X overrides any of these.
     */
    static const kafka_property_t defaults[] = {
        {"enable.partition.eof", "true"},       {"fetch.wait.max.ms", "10"},
        {"fetch.error.backoff.ms", "100"},      {"queued.max.messages.kbytes", "8192"},
        {"max.partition.fetch.bytes", "4194304"}, {"enable.auto.commit", "false"},
        {"auto.offset.reset", "earliest"},
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
    c->on_message = on_message;
    c->on_batch = on_batch;
    c->data = data;
    c->topic = xstrdup(cfg->topic);
    snprintf(c->last_error, sizeof(c->last_error), "Kafka not reached yet");
    c->rkt = rd_kafka_topic_new(c->rk, c->topic, NULL);
    c->queue = rd_kafka_queue_new(c->rk);
    c->waker = kafka_waker_new(loop, c->queue, on_kafka_ready, c);
    uv_idle_init(loop, &c->drain_idle);
    c->drain_idle.data = c;
    uv_timer_init(loop, &c->kick_timer);
    c->kick_timer.data = c;
    uv_timer_init(loop, &c->probe_timer);
    c->probe_timer.data = c;
    uv_timer_start(&c->probe_timer, on_probe_timer, 0, 0);
    return c;
}

void consumer_set_start_offsets(consumer_t *c, const int32_t *partitions, const int64_t *offsets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (partitions[i] < 0)
            continue;
        size_t p = (size_t)partitions[i];
        if (p >= c->n_resume) {
            c->resume = xrealloc(c->resume, (p + 1) * sizeof(*c->resume));
            for (size_t j = c->n_resume; j <= p; j++)
                c->resume[j] = -1;
            c->n_resume = p + 1;
        }
        c->resume[p] = offsets[i];
    }
}

void consumer_mark_applied(consumer_t *c, int32_t partition, int64_t offset)
{
    if (partition >= 0 && (size_t)partition < c->n_parts)
        c->parts[partition].next_offset = offset + 1;
}

const consumer_partition_t *consumer_partitions(consumer_t *c, size_t *n)
{
    for (size_t p = 0; p < c->n_parts; p++) {
        int64_t lo, hi;
        /* Cached from fetch responses: no network round trip. */
        if (rd_kafka_get_watermark_offsets(c->rk, c->topic, (int32_t)p, &lo, &hi) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0)
            c->parts[p].end_offset = hi;
    }
    *n = c->n_parts;
    return c->parts;
}

bool consumer_caught_up(const consumer_t *c)
{
    if (!c->have_start_ends || c->n_parts == 0)
        return false;
    for (size_t p = 0; p < c->n_parts; p++)
        if (c->parts[p].next_offset < c->parts[p].start_end_offset)
            return false;
    return true;
}

bool consumer_kafka_ok(const consumer_t *c)
{
    return c->kafka_ok;
}

const char *consumer_last_error(const consumer_t *c)
{
    return c->kafka_ok ? "" : c->last_error;
}

uint64_t consumer_fetch_kicks(const consumer_t *c)
{
    return c->kicks;
}

void consumer_close(consumer_t *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close((uv_handle_t *)&c->probe_timer, NULL);
    uv_close((uv_handle_t *)&c->drain_idle, NULL);
    uv_close((uv_handle_t *)&c->kick_timer, NULL);
    kafka_waker_close(c->waker);
    c->waker = NULL;
}

void consumer_free(consumer_t *c)
{
    /*
     * A metadata probe or a fetch kick still running on the threadpool uses rk and writes into c: wait for
     * them (bounded by PROBE_TIMEOUT_MS and KICK_TIMEOUT_MS; consumer_close stopped new ones) instead of
     * destroying both under them.
     */
    while (c->probe_running || c->kick_running)
        uv_run(c->loop, UV_RUN_ONCE);
    for (size_t p = 0; p < c->n_parts; p++)
        rd_kafka_consume_stop(c->rkt, (int32_t)p);
    rd_kafka_queue_destroy(c->queue);
    rd_kafka_topic_destroy(c->rkt);
    rd_kafka_destroy(c->rk);
    free(c->parts);
    free(c->resume);
    free(c->topic);
    free(c);
}
