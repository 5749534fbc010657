#include "offset_range.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "kafka_glue.h"
#include "log.h"

#define TIMEOUT_MS 3000
#define RETRY_MS 1000

struct offset_range_s {
    uv_loop_t *loop;
    rd_kafka_t *rk;
    const char *topic;
    offset_range_cb on_range;
    void *data;
    uv_timer_t timer;
    uv_work_t work;
    bool running;
    bool closing;
    uint64_t generation; /* moved on by offset_range_forget: an answer of an older one is dropped */
    int32_t *wanted;     /* the partitions waiting for a request */
    size_t n_wanted, cap_wanted;
    /* The request on its way: its partitions, answers and generation. */
    int32_t *ids;
    int64_t *first, *end;
    int n;
    uint64_t asked_generation;
    rd_kafka_resp_err_t err;
};

static void schedule(offset_range_t *r, uint64_t delay_ms);

/* Threadpool. */
static void on_work(uv_work_t *req)
{
    offset_range_t *r = req->data;
    r->err = kafka_list_offsets(r->rk, r->topic, r->ids, RD_KAFKA_OFFSET_BEGINNING, r->first, r->n, TIMEOUT_MS);
    if (r->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        r->err = kafka_list_offsets(r->rk, r->topic, r->ids, RD_KAFKA_OFFSET_END, r->end, r->n, TIMEOUT_MS);
}

static void request_free(offset_range_t *r)
{
    free(r->ids);
    free(r->first);
    free(r->end);
    r->ids = NULL;
    r->first = r->end = NULL;
    r->n = 0;
}

static void on_work_done(uv_work_t *req, int status)
{
    offset_range_t *r = req->data;
    r->running = false;
    if (status != 0 || r->closing || r->asked_generation != r->generation) {
        request_free(r);
        schedule(r, 0);
        return;
    }
    if (r->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log_warn("offset_range_failed", "%s: the offsets of %d partition(s): %s; asking again", r->topic, r->n,
                 rd_kafka_err2str(r->err));
        for (int i = 0; i < r->n; i++)
            offset_range_ask(r, r->ids[i]);
        request_free(r);
        schedule(r, RETRY_MS);
        return;
    }
    for (int i = 0; i < r->n && r->asked_generation == r->generation; i++)
        r->on_range(r->ids[i], r->first[i], r->end[i], r->data);
    request_free(r);
    schedule(r, 0);
}

static void on_timer(uv_timer_t *t)
{
    offset_range_t *r = t->data;
    if (r->closing || r->running || r->n_wanted == 0)
        return;
    size_t n = r->n_wanted;
    r->ids = xmalloc(n * sizeof(*r->ids));
    r->first = xmalloc(n * sizeof(*r->first));
    r->end = xmalloc(n * sizeof(*r->end));
    memcpy(r->ids, r->wanted, n * sizeof(*r->ids));
    r->n = (int)n;
    r->n_wanted = 0;
    r->running = true;
    r->asked_generation = r->generation;
    r->work.data = r;
    uv_queue_work(r->loop, &r->work, on_work, on_work_done);
}

/* Asks for what is wanted after delay_ms, unless a request is on its way (its end asks again). */
static void schedule(offset_range_t *r, uint64_t delay_ms)
{
    if (!r->closing && !r->running && r->n_wanted > 0)
        uv_timer_start(&r->timer, on_timer, delay_ms, 0);
}

offset_range_t *offset_range_new(uv_loop_t *loop, rd_kafka_t *rk, const char *topic, offset_range_cb on_range,
                                 void *data)
{
    offset_range_t *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->rk = rk;
    r->topic = topic;
    r->on_range = on_range;
    r->data = data;
    uv_timer_init(loop, &r->timer);
    r->timer.data = r;
    return r;
}

void offset_range_ask(offset_range_t *r, int32_t partition)
{
    for (size_t i = 0; i < r->n_wanted; i++)
        if (r->wanted[i] == partition)
            return;
    if (r->n_wanted == r->cap_wanted) {
        r->cap_wanted = r->cap_wanted ? 2 * r->cap_wanted : 8;
        r->wanted = xrealloc(r->wanted, r->cap_wanted * sizeof(*r->wanted));
    }
    r->wanted[r->n_wanted++] = partition;
    schedule(r, 0);
}

void offset_range_forget(offset_range_t *r)
{
    r->generation++;
    r->n_wanted = 0;
}

bool offset_range_busy(const offset_range_t *r)
{
    return r->running;
}

void offset_range_close(offset_range_t *r)
{
    r->closing = true;
    uv_close((uv_handle_t *)&r->timer, NULL);
}

void offset_range_free(offset_range_t *r)
{
    request_free(r);
    free(r->wanted);
    free(r);
}
