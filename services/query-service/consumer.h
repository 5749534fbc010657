/*
 * consumer: reads every partition of the topic on its own (no consumer group: each replica reads
 * everything, and where it stands lives in its own state), messages served on the loop thread through a
 * kafka_waker. Partition discovery and the end offsets seen at start come from a probe on the libuv
 * threadpool, because librdkafka's metadata and offset queries wait for the network.
 *
 * The consumer holds no offsets of its own: it reads where each partition stands from the state's positions
 * (positions.h) and starts there. Before going on from a saved position it checks that the partition is still
 * the one the state was built from: it reads the message the state applied last again and compares its
 * fingerprint. Offsets that went backwards, or a different message there, mean the topic was deleted and created
 * again (or truncated): the owner is told to rebuild (on_reset). Offsets deleted before they were read
 * (retention) are reported (on_deleted) and skipped.
 */
#ifndef QUERY_CONSUMER_H
#define QUERY_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "config.h"
#include "positions.h"

typedef struct consumer_s consumer_t;

/* What the consumer tells its owner; every callback runs on the loop thread. */
typedef struct consumer_callbacks_s {
    /*
     * One message (err == 0), in offset order per partition, with its fingerprint (positions_fingerprint). The
     * owner moves the partition's position past it (views_apply or views_skip).
     */
    void (*on_message)(const rd_kafka_message_t *msg, uint64_t fingerprint, void *data);
    /* The partition's offsets before first_kept were deleted before the state read them: skip to first_kept. */
    void (*on_deleted)(int32_t partition, int64_t first_kept, void *data);
    /*
     * The topic is not the one the state was built from (reason says what was seen). The owner starts an empty
     * state and calls consumer_rewind with its positions, before returning.
     */
    void (*on_reset)(const char *reason, void *data);
    /* The topic has count partitions (called when they are found, and again after a rewind). */
    void (*on_partitions)(size_t count, void *data);
    void *data;
} consumer_callbacks_t;

typedef struct consumer_config_s {
    const char *bootstrap_servers;
    const char *topic;
    const config_kv_t *kafka_props;
    /* Tests only: partitions not read at all (comma-separated ids, NULL: none). They still count as partitions
     * of the topic, with all their messages left to read. */
    const char *hold_partitions;
} consumer_config_t;

/* Per-partition view for /status; where the state stands is the positions'. */
typedef struct consumer_partition_s {
    int32_t partition;
    int64_t end_offset;       /* high watermark last seen, -1 when unknown */
    int64_t start_end_offset; /* high watermark seen at start; caught up once the position reaches it */
} consumer_partition_t;

/*
 * @returns a consumer that starts reading, where positions (the state's, kept by pointer; read only) say, once
 * the probe found the partitions; or NULL with errstr. cb is copied.
 */
consumer_t *consumer_new(uv_loop_t *loop, const consumer_config_t *cfg, const consumer_callbacks_t *cb,
                         const positions_t *positions, char *errstr, size_t errstr_size);

/* From on_reset: reads every partition again from its beginning, into the state whose positions are given. */
void consumer_rewind(consumer_t *c, const positions_t *positions);

/* Partitions known so far (array owned by the consumer, valid until the next loop callback). */
const consumer_partition_t *consumer_partitions(consumer_t *c, size_t *n);
/* The partition's end: its high watermark last seen, else the one seen at start; -1 when unknown. */
int64_t consumer_partition_end(consumer_t *c, int32_t partition);
/* True once partitions are known, each checked and read up to the end offset seen at start (or rewind). */
bool consumer_caught_up(const consumer_t *c);
/* True when Kafka answers and the state holds every partition's messages up to the end last seen. */
bool consumer_current(consumer_t *c);
/* True when the last probe reached the cluster. */
bool consumer_kafka_ok(const consumer_t *c);
/* True once a probe failed to reach the cluster and none has reached it since start. */
bool consumer_kafka_unreached(const consumer_t *c);
const char *consumer_last_error(const consumer_t *c);
/* True while a probe, a fetch kick or an offset request waits on the threadpool (they use librdkafka). */
bool consumer_busy(const consumer_t *c);
/* Fetcher wake-ups sent so far (see the fetch kick in consumer.c). */
uint64_t consumer_fetch_kicks(const consumer_t *c);

/* Stops the probe and wake-ups: what is on the threadpool ends by itself, then the loop can end. */
void consumer_close(consumer_t *c);
void consumer_free(consumer_t *c);

#endif
