/*
 * reference_publish: the gateway publishes the reference files (reference_file.h) to their compacted topics, at
 * start and on POST /reference. A publication reads and parses the three files on the threadpool, then produces
 * every message on the loop (waiting for room when librdkafka's queue is full) and counts the deliveries. One
 * publication runs at a time; its counts stay readable (GET /reference) until the next one starts.
 */
#ifndef INGEST_REFERENCE_PUBLISH_H
#define INGEST_REFERENCE_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

#include "producer.h"
#include "reference_kind.h"

typedef struct reference_publish_s reference_publish_t;

typedef enum { REFERENCE_IDLE, REFERENCE_LOADING, REFERENCE_PRODUCING, REFERENCE_FINISHED } reference_state_t;

/* One file's part of a publication. */
typedef struct reference_counts_s {
    char path[4096];
    uint64_t lines, entries, rejected; /* reference_file.h */
    uint64_t messages;                 /* one per code */
    uint64_t delivered, failed;
    char error[512]; /* the file could not be read, or a delivery failed: the first reason; "" otherwise */
} reference_counts_t;

/*
 * The files of each kind at paths[kind] (copied), produced through producer (its compacted topic `kind`, in
 * reference_kind_t order). @returns a publisher that has published nothing yet.
 */
reference_publish_t *reference_publish_new(uv_loop_t *loop, producer_t *producer,
                                           const char *const paths[REFERENCE_KINDS]);
/* Starts a publication. @returns its number (1, 2, ...), or 0 when one is already running. */
uint64_t reference_publish_start(reference_publish_t *pub);
/* Goes on producing after the producer's queue drained (the gateway's on_drained). */
void reference_publish_resume(reference_publish_t *pub);
/* A delivery report of a message it produced (the producer's on_compacted_delivery). */
void reference_publish_on_delivery(void *opaque, rd_kafka_resp_err_t err);

reference_state_t reference_publish_state(const reference_publish_t *pub);
const char *reference_publish_state_name(reference_state_t state);
/* The number of the latest publication (0: none yet). */
uint64_t reference_publish_run(const reference_publish_t *pub);
const reference_counts_t *reference_publish_counts(const reference_publish_t *pub, reference_kind_t kind);

/*
 * Shutdown, before the producer is freed: produces nothing more, and waits for a file load in progress (bounded:
 * three files of about a megabyte). Delivery reports of what was produced are still counted.
 */
void reference_publish_stop(reference_publish_t *pub);
/* After the producer is freed (its last delivery reports are served then). Stops first if not stopped. */
void reference_publish_free(reference_publish_t *pub);

#endif
