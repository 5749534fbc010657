/*
 * producer: the gateway's Kafka side. One idempotent, acks=all librdkafka producer whose delivery
 * reports are served on the loop thread (kafka_waker), the dead-letter topic beside the main one,
 * and a health probe that creates the topics when missing and checks the cluster answers. The probe
 * runs on the libuv threadpool, because librdkafka's metadata and admin calls wait for the network.
 * A delivery watch (delivery_watch.h) tells when messages wait and nothing is acknowledged any more.
 */
#ifndef INGEST_PRODUCER_H
#define INGEST_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "config.h"
#include "kafka_glue.h"

typedef struct producer_s producer_t;

/*
 * Called on the loop thread for each delivery report. opaque is what producer_send_events() was given;
 * err is RD_KAFKA_RESP_ERR_NO_ERROR when the broker acknowledged the message.
 */
typedef void (*producer_delivery_cb)(void *opaque, rd_kafka_resp_err_t err, void *data);
/* Called on the loop thread after a batch of delivery reports: the local queue has room again. */
typedef void (*producer_drained_cb)(void *data);

/* Called on the loop thread once, when librdkafka's producer failed for good (producer_fatal_error says why). */
typedef void (*producer_fatal_cb)(void *data);
typedef struct producer_config_s {
    const char *bootstrap_servers;
    const char *topic;
    const char *dlq_topic;
    long partitions;
    long replication_factor;
    const config_kv_t *kafka_props; /* -X key=value, applied last */
    /* Tables beside the events (reference_kind.h): created with cleanup.policy=compact with the others. */
    const char *const *compacted_topics;
    size_t n_compacted;
    producer_delivery_cb on_compacted_delivery; /* their delivery reports, instead of on_delivery */
    long delivery_stall_ms; /* messages waiting this long with no delivery report: logged as kafka_stalled */
    producer_fatal_cb on_fatal; /* may be NULL */
} producer_config_t;

/* The first librdkafka whose idempotent producer survives a leader dying under several requests in flight. */
#define PRODUCER_LIBRDKAFKA_SEQUENCE_FIX 0x020300ff
/*
 * The librdkafka properties the producer sets before -X, for that librdkafka version (rd_kafka_version()):
 * before PRODUCER_LIBRDKAFKA_SEQUENCE_FIX, one request in flight per broker. @returns how many, *out the table.
 */
size_t producer_default_properties(int librdkafka_version, const kafka_property_t **out);
/* @returns a producer (strings in cfg are copied), or NULL with errstr when the configuration is rejected. */
producer_t *producer_new(uv_loop_t *loop, const producer_config_t *cfg, producer_delivery_cb on_delivery,
                         producer_drained_cb on_drained, void *data, char *errstr, size_t errstr_size);

/* One event for the main topic: its key and its encoded value (copied by librdkafka). */
typedef struct producer_event_s {
    const char *key;
    size_t key_len;
    const void *value;
    size_t value_len;
} producer_event_t;

/*
 * Enqueues events[0..n) for the main topic in one call, in order, each with opaque (given back to on_delivery):
 * librdkafka takes its topic lock and reads its clock once for all of them, so their Kafka CreateTime is that
 * clock at the call (within the millisecond of the events' stamps). @returns how many were taken, in order:
 * enqueued, or failed (counted in *failed, the first failure's reason in errstr). Events from the one returned
 * on were not enqueued because the local queue is full: try them again after on_drained.
 */
size_t producer_send_events(producer_t *p, const producer_event_t *events, size_t n, void *opaque, size_t *failed,
                            char *errstr, size_t errstr_size);

/*
 * Enqueues key -> value for compacted topic index (0 <= index < n_compacted); value NULL is a tombstone. Its
 * delivery report reaches on_compacted_delivery with opaque. @returns 0, -ENOBUFS when the local queue is full
 * (try again after on_drained), or another negative errno-style code with errstr filled.
 */
int producer_send_compacted(producer_t *p, size_t index, const char *key, size_t key_len, const void *value,
                            size_t value_len, void *opaque, char *errstr, size_t errstr_size);

/*
 * Enqueues a rejected line to the dead-letter topic: the raw line as value, headers error, line, source.
 * Its delivery report reaches on_delivery with opaque as well.
 */
int producer_send_dead_letter(producer_t *p, const char *line, size_t line_len, const char *error, uint64_t line_no,
                              const char *source, void *opaque, char *errstr, size_t errstr_size);

/* True once the topics exist and the last probe reached the cluster. */
bool producer_is_ready(const producer_t *p);
/* Why the producer is not ready (a sentence), or "" when it is. */
const char *producer_last_error(const producer_t *p);
/*
 * NULL, or the sentence saying librdkafka's producer failed for good (a fatal error: it produces nothing again;
 * the messages it still queued were failed at once). Only a new process gets a new producer.
 */
const char *producer_fatal_error(const producer_t *p);
/* Messages waiting in librdkafka (queued or in flight). */
int producer_queue_length(const producer_t *p);
/* True while messages wait with no delivery report for delivery_stall_ms (kafka_stalled until kafka_flowing). */
bool producer_delivery_stalled(const producer_t *p);
/* Stalls begun since start. */
uint64_t producer_delivery_stalls(const producer_t *p);
/* Produce-to-acknowledgement latency of delivered messages, seconds. */
const struct metrics_histogram_s *producer_latency(const producer_t *p);

/* Starts no more health probes (shutdown began; one in flight finishes within its timeout). */
void producer_stop_probing(producer_t *p);
/* Stops the probe and the loop wake-ups (the loop can then end); deliveries are served by producer_free. */
void producer_close(producer_t *p);
/* Waits up to timeout_ms for every queued message (shutdown only: this blocks), then frees. */
void producer_free(producer_t *p, int timeout_ms);

#endif
