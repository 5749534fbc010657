/*
 * offset_range: the first and end offsets of partitions whose offset went out of range, asked of their leaders on
 * the libuv threadpool (ListOffsets waits for the network), one request at a time for all that wait, asked again a
 * second later when it fails. The answer goes to the owner's callback (continuity.h decides what it means).
 */
#ifndef QUERY_OFFSET_RANGE_H
#define QUERY_OFFSET_RANGE_H

#include <stdbool.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

typedef struct offset_range_s offset_range_t;

/* The partition holds offsets [first, end). Called on the loop thread; it may call offset_range_forget. */
typedef void (*offset_range_cb)(int32_t partition, int64_t first, int64_t end, void *data);

/* rk and topic (not copied) must outlive the asker. */
offset_range_t *offset_range_new(uv_loop_t *loop, rd_kafka_t *rk, const char *topic, offset_range_cb on_range,
                                 void *data);
/* The partition's range is wanted (once, however often asked before the answer). */
void offset_range_ask(offset_range_t *r, int32_t partition);
/* Nothing asked so far is wanted any more (a rewind): the answer on its way is dropped. */
void offset_range_forget(offset_range_t *r);
/* True while a request waits for its answer on the threadpool (it uses rk). */
bool offset_range_busy(const offset_range_t *r);
/* Stops asking (closes the timer). */
void offset_range_close(offset_range_t *r);
/* After offset_range_close, once the loop has run and offset_range_busy is false. */
void offset_range_free(offset_range_t *r);

#endif
