#define _GNU_SOURCE /* pipe2 */
#include "kafka_glue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"

struct kafka_waker_s {
    uv_poll_t poll;
    rd_kafka_queue_t *queue;
    int fds[2];
    kafka_ready_cb on_ready;
    void *data;
};

static void on_readable(uv_poll_t *poll, int status, int events)
{
    kafka_waker_t *w = poll->data;
    (void)events;
    char drain[256];
    /* Empty the pipe first: a write after this read means more work, and wakes us again. */
    while (read(w->fds[0], drain, sizeof(drain)) > 0)
        ;
    if (status == 0)
        w->on_ready(w->data);
}

kafka_waker_t *kafka_waker_new(uv_loop_t *loop, rd_kafka_queue_t *queue, kafka_ready_cb on_ready, void *data)
{
    kafka_waker_t *w = xcalloc(1, sizeof(*w));
    if (pipe2(w->fds, O_NONBLOCK | O_CLOEXEC) != 0) {
        fprintf(stderr, "kafka_waker_new: pipe2: %s\n", strerror(errno));
        abort();
    }
    w->queue = queue;
    w->on_ready = on_ready;
    w->data = data;
    uv_poll_init(loop, &w->poll, w->fds[0]);
    w->poll.data = w;
    uv_poll_start(&w->poll, UV_READABLE, on_readable);
    rd_kafka_queue_io_event_enable(queue, w->fds[1], "1", 1);
    /* Something may have been queued before the pipe was attached. */
    if (write(w->fds[1], "1", 1) < 0) {
        /* A full pipe already holds a wake-up; nothing else can fail on a fresh pipe. */
    }
    return w;
}

static void on_poll_closed(uv_handle_t *h)
{
    kafka_waker_t *w = h->data;
    close(w->fds[0]);
    close(w->fds[1]);
    free(w);
}

void kafka_waker_close(kafka_waker_t *w)
{
    if (w == NULL)
        return;
    /* Detach first: librdkafka must not write to a descriptor number that may be reused. */
    rd_kafka_queue_io_event_enable(w->queue, -1, NULL, 0);
    uv_poll_stop(&w->poll);
    uv_close((uv_handle_t *)&w->poll, on_poll_closed);
}

/*
 * librdkafka's own log lines (syslog levels) as the services' JSON lines, instead of its plain text on stderr.
 * Called from librdkafka's threads: log_emit writes each line with one write().
 */
static void on_rdkafka_log(const rd_kafka_t *rk, int level, const char *facility, const char *line)
{
    (void)rk;
    log_level_t to = level <= 3 ? LOG_ERROR : level == 4 ? LOG_WARN : level <= 6 ? LOG_INFO : LOG_DEBUG;
    log_emit(to, "librdkafka", "%s: %s", facility, line);
}

rd_kafka_conf_t *kafka_conf_new(const char *bootstrap_servers, const char *client_id, const kafka_property_t *defaults,
                                size_t n_defaults, const config_kv_t *props, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, on_rdkafka_log);
    char err[256];
    const kafka_property_t base[] = {{"bootstrap.servers", bootstrap_servers}, {"client.id", client_id}};
    for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
        if (base[i].value != NULL && rd_kafka_conf_set(conf, base[i].name, base[i].value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%s=%s: %s", base[i].name, base[i].value, err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    for (size_t i = 0; i < n_defaults; i++) {
        if (rd_kafka_conf_set(conf, defaults[i].name, defaults[i].value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "%s=%s: %s", defaults[i].name, defaults[i].value, err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    for (size_t i = 0; props != NULL && i < props->count; i++) {
        if (rd_kafka_conf_set(conf, props->keys[i], props->values[i], err, sizeof(err)) != RD_KAFKA_CONF_OK) {
            snprintf(errstr, errstr_size, "-X %s=%s: %s", props->keys[i], props->values[i], err);
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

rd_kafka_resp_err_t kafka_list_offsets(rd_kafka_t *rk, const char *topic, const int32_t *partitions, int64_t which,
                                       int64_t *out, int n, int timeout_ms)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(list, topic, partitions[i])->offset = which;
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, list, timeout_ms);
    /* Answered in place, in the order asked. */
    for (int i = 0; i < n && err == RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
        const rd_kafka_topic_partition_t *tp = &list->elems[i];
        if (tp->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            err = tp->err;
        else if (tp->offset < 0)
            err = RD_KAFKA_RESP_ERR__FAIL;
        else
            out[i] = tp->offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    return err;
}
