/*
 * kafka_glue: librdkafka configuration and the bridge into the libuv loop. librdkafka signals a
 * queue becoming non-empty by writing to a pipe (rd_kafka_queue_io_event_enable); a uv_poll on the
 * pipe's read end calls on_ready on the loop thread, which serves the queue without blocking.
 */
#ifndef COMMON_KAFKA_GLUE_H
#define COMMON_KAFKA_GLUE_H

#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "config.h"

typedef struct kafka_waker_s kafka_waker_t;
typedef void (*kafka_ready_cb)(void *data);

/*
 * Watches queue (not taken: the caller keeps and destroys it after kafka_waker_close()).
 * on_ready must drain the queue (rd_kafka_poll(rk, 0) or consume until empty): the pipe is only
 * written when the queue goes from empty to non-empty.
 */
kafka_waker_t *kafka_waker_new(uv_loop_t *loop, rd_kafka_queue_t *queue, kafka_ready_cb on_ready, void *data);
/* Stops watching, closes the pipe; the memory is freed once the uv handle closes. */
void kafka_waker_close(kafka_waker_t *w);

/* A librdkafka property and its value, for a service's defaults. */
typedef struct kafka_property_s {
    const char *name;
    const char *value;
} kafka_property_t;

/*
 * A conf that logs through log.h (JSON lines) with bootstrap.servers and client.id, then the service's
 * defaults, then every -X property
 * (props may be NULL), so the user's -X always wins.
 * @returns the conf (caller owns it until rd_kafka_new takes it), or NULL with errstr naming the bad property.
 */
rd_kafka_conf_t *kafka_conf_new(const char *bootstrap_servers, const char *client_id, const kafka_property_t *defaults,
                                size_t n_defaults, const config_kv_t *props, char *errstr, size_t errstr_size);

/*
 * The offsets of n partitions of topic at `which` (RD_KAFKA_OFFSET_END: the high watermark;
 * RD_KAFKA_OFFSET_BEGINNING: the first offset still held), asked of their leaders (ListOffsets with the
 * timestamps -1 and -2), into out[0..n). Waits for the network, at most timeout_ms: call it off the loop.
 * Not rd_kafka_query_watermark_offsets: in librdkafka 2.0 that one waits without its timeout, up to
 * socket.timeout.ms (60 s) when the leader is down.
 * @returns RD_KAFKA_RESP_ERR_NO_ERROR, or the first partition's error (out is then partly filled).
 */
rd_kafka_resp_err_t kafka_list_offsets(rd_kafka_t *rk, const char *topic, const int32_t *partitions, int64_t which,
                                       int64_t *out, int n, int timeout_ms);

#endif
