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

/*
 * A conf with bootstrap.servers and every -X property applied (later ones win), plus client.id.
 * @returns the conf (caller owns it until rd_kafka_new takes it), or NULL with errstr naming the bad property.
 */
rd_kafka_conf_t *kafka_conf_new(const char *bootstrap_servers, const char *client_id, const config_kv_t *props,
                                char *errstr, size_t errstr_size);

#endif
