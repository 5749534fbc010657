/*
 * consumer: reads every partition of the topic on its own (no consumer group: each replica reads
 * everything, its offsets live in its snapshot), messages served on the loop thread through a
 * kafka_waker. Partition discovery and the end offsets seen at start come from a probe on the libuv
 * threadpool, because librdkafka's metadata and offset queries wait for the network.
 */
#ifndef QUERY_CONSUMER_H
#define QUERY_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "config.h"

typedef struct consumer_s consumer_t;

/* One message (err == 0) for the owner to apply; called on the loop thread in offset order per partition. */
typedef void (*consumer_message_cb)(const rd_kafka_message_t *msg, void *data);
/* After each batch of messages: a good moment to refresh caches. */
typedef void (*consumer_batch_cb)(size_t n_messages, void *data);

typedef struct consumer_config_s {
    const char *bootstrap_servers;
    const char *topic;
    const config_kv_t *kafka_props;
} consumer_config_t;

/* Per-partition view for /status. */
typedef struct consumer_partition_s {
    int32_t partition;
    int64_t next_offset;      /* the next offset to apply (what the snapshot stores) */
    int64_t end_offset;       /* high watermark last seen, -1 when unknown */
    int64_t start_end_offset; /* high watermark seen at start; caught up once next_offset reaches it */
} consumer_partition_t;

/* @returns a consumer that starts reading once the probe found the partitions, or NULL with errstr. */
consumer_t *consumer_new(uv_loop_t *loop, const consumer_config_t *cfg, consumer_message_cb on_message,
                         consumer_batch_cb on_batch, void *data, char *errstr, size_t errstr_size);

/*
 * Resume points from a snapshot: partition -> next offset. Must be called before the first probe
 * completes (right after consumer_new). Partitions not listed start at the beginning of the topic.
 */
void consumer_set_start_offsets(consumer_t *c, const int32_t *partitions, const int64_t *offsets, size_t n);

/* The consumer records msg's offset as applied. The owner calls it after applying (or skipping) msg. */
void consumer_mark_applied(consumer_t *c, int32_t partition, int64_t offset);

/* Partitions known so far (array owned by the consumer, valid until the next loop callback). */
const consumer_partition_t *consumer_partitions(consumer_t *c, size_t *n);
/* True once partitions are known and each has been read up to the end offset seen at start. */
bool consumer_caught_up(const consumer_t *c);
/* True when the last probe reached the cluster. */
bool consumer_kafka_ok(const consumer_t *c);
const char *consumer_last_error(const consumer_t *c);
/* Fetcher wake-ups sent so far (see the fetch kick in consumer.c). */
uint64_t consumer_fetch_kicks(const consumer_t *c);

/* Stops the probe and wake-ups (the loop can end), then consumer_free after uv_run. */
void consumer_close(consumer_t *c);
void consumer_free(consumer_t *c);

#endif
