#include "kafka_probe.h"

#include <stdio.h>

static void on_timer(uv_timer_t *t);

static void after_work(uv_work_t *w, int status)
{
    kafka_probe_t *p = w->data;
    p->running = false;
    if (status != 0 || p->stopped)
        return;
    p->delivering = true;
    uint64_t delay = p->on_done(p->data);
    p->delivering = false;
    /* on_done may have stopped the probe (a shutdown it started), and the timer may be closing by now. */
    if (p->stopped)
        return;
    if (p->again) {
        p->again = false;
        delay = 0;
    }
    uv_timer_start(&p->timer, on_timer, delay, 0);
}

static void work(uv_work_t *w)
{
    kafka_probe_t *p = w->data;
    p->on_work(p->data);
}

static void on_timer(uv_timer_t *t)
{
    kafka_probe_t *p = t->data;
    if (p->running || p->stopped)
        return;
    p->running = true;
    p->work.data = p;
    uv_queue_work(t->loop, &p->work, work, after_work);
}

void kafka_probe_start(kafka_probe_t *p, uv_loop_t *loop, kafka_probe_work_cb on_work, kafka_probe_done_cb on_done,
                       void *data)
{
    *p = (kafka_probe_t){.on_work = on_work, .on_done = on_done, .data = data};
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_timer, 0, 0);
}

void kafka_probe_soon(kafka_probe_t *p)
{
    if (p->stopped)
        return;
    if (p->running || p->delivering)
        p->again = true; /* after_work starts it, whatever delay on_done returns */
    else
        uv_timer_start(&p->timer, on_timer, 0, 0);
}

void kafka_probe_stop(kafka_probe_t *p)
{
    if (p->stopped)
        return;
    p->stopped = true;
    uv_timer_stop(&p->timer);
}

static void on_timer_closed(uv_handle_t *h)
{
    kafka_probe_t *p = h->data;
    p->timer_closed = true;
}

void kafka_probe_close(kafka_probe_t *p)
{
    if (p->closed)
        return;
    kafka_probe_stop(p);
    p->closed = true;
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

bool kafka_probe_released(const kafka_probe_t *p)
{
    return p->timer_closed && !p->running;
}

bool kafka_probe_busy(const kafka_probe_t *p)
{
    return p->running;
}

int kafka_topic_partitions(rd_kafka_t *rk, rd_kafka_topic_t *rkt, bool need_leaders, char *why, size_t why_size)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, KAFKA_PROBE_TIMEOUT_MS);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, why_size, "Kafka unavailable: %s", rd_kafka_err2str(err));
        return KAFKA_TOPIC_UNANSWERED;
    }
    const char *name = rd_kafka_topic_name(rkt);
    int answer = KAFKA_TOPIC_FAILED;
    if (md->topic_cnt != 1) {
        snprintf(why, why_size, "topic %s is not available: no metadata", name);
    } else if (md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
               (md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topics[0].partition_cnt == 0)) {
        snprintf(why, why_size, "topic %s does not exist", name);
        answer = KAFKA_TOPIC_MISSING;
    } else if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(why, why_size, "topic %s is not available: %s", name, rd_kafka_err2str(md->topics[0].err));
    } else {
        answer = md->topics[0].partition_cnt;
        for (int i = 0; need_leaders && i < md->topics[0].partition_cnt; i++) {
            if (md->topics[0].partitions[i].leader < 0) {
                snprintf(why, why_size, "partition %d of %s has no leader", i, name);
                answer = KAFKA_TOPIC_FAILED;
                break;
            }
        }
    }
    rd_kafka_metadata_destroy(md);
    return answer;
}
