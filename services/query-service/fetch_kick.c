#include "fetch_kick.h"

#include <stdlib.h>

#include "alloc.h"
#include "kafka_glue.h"

#define KICK_TIMEOUT_MS 1000

struct fetch_kick_s {
    uv_loop_t *loop;
    rd_kafka_t *rk;
    const char *topic;
    uv_timer_t timer;
    uv_work_t work;
    bool running;
    bool closing;
    uint64_t kicks;
    int32_t partition;        /* the lagging partition whose leader the kick wakes */
    size_t next;              /* round robin over lagging partitions */
    uint64_t received;        /* messages seen so far */
    uint64_t received_at_arm; /* ... when the timer was last armed */
    fetch_kick_position_cb position;
    void *data;
    size_t n_parts;
};

static void on_timer(uv_timer_t *t);

/* Threadpool: any request to the leader wakes its broker thread; the answer itself is not needed. */
static void kick_work(uv_work_t *req)
{
    fetch_kick_t *k = req->data;
    int64_t end;
    kafka_list_offsets(k->rk, k->topic, &k->partition, RD_KAFKA_OFFSET_END, &end, 1, KICK_TIMEOUT_MS);
}

static void kick_done(uv_work_t *req, int status)
{
    fetch_kick_t *k = req->data;
    (void)status;
    k->running = false;
    if (k->closing)
        return;
    /* Nothing came since the kick was armed: look again after another idle period. */
    if (!uv_is_active((uv_handle_t *)&k->timer))
        uv_timer_start(&k->timer, on_timer, FETCH_KICK_IDLE_MS, 0);
}

static void on_timer(uv_timer_t *t)
{
    fetch_kick_t *k = t->data;
    if (k->closing || k->running || k->received != k->received_at_arm)
        return; /* messages are flowing (the next dry drain re-arms), or a kick is on its way */
    for (size_t i = 0; i < k->n_parts; i++) {
        size_t p = (k->next + i) % k->n_parts;
        int64_t lo, hi;
        /* Cached from fetch responses: no network round trip. */
        if (rd_kafka_get_watermark_offsets(k->rk, k->topic, (int32_t)p, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
            hi <= k->position((int32_t)p, k->data))
            continue;
        k->next = p + 1;
        k->partition = (int32_t)p;
        k->running = true;
        k->kicks++;
        k->work.data = k;
        uv_queue_work(k->loop, &k->work, kick_work, kick_done);
        return;
    }
}

fetch_kick_t *fetch_kick_new(uv_loop_t *loop, rd_kafka_t *rk, const char *topic, fetch_kick_position_cb position,
                             void *data)
{
    fetch_kick_t *k = xcalloc(1, sizeof(*k));
    k->position = position;
    k->data = data;
    k->loop = loop;
    k->rk = rk;
    k->topic = topic;
    uv_timer_init(loop, &k->timer);
    k->timer.data = k;
    return k;
}

void fetch_kick_received(fetch_kick_t *k, uint64_t n)
{
    k->received += n;
}

void fetch_kick_arm(fetch_kick_t *k, size_t n_parts)
{
    if (k->closing)
        return;
    k->n_parts = n_parts;
    k->received_at_arm = k->received;
    uv_timer_start(&k->timer, on_timer, FETCH_KICK_IDLE_MS, 0);
}

uint64_t fetch_kick_count(const fetch_kick_t *k)
{
    return k->kicks;
}

bool fetch_kick_busy(const fetch_kick_t *k)
{
    return k->running;
}

void fetch_kick_close(fetch_kick_t *k)
{
    k->closing = true;
    uv_close((uv_handle_t *)&k->timer, NULL);
}

void fetch_kick_free(fetch_kick_t *k)
{
    free(k);
}
