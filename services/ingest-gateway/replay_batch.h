/*
 * replay_batch: up to REPLAY_BATCH_LINES lines of a routes file on their way to Kafka. The loop fills the lines
 * (slices of the line reader's buffer), the threadpool prepares them (parsed, validated and encoded with a
 * placeholder stamp: the bulk of the gateway's CPU) into the batch's own bytes, and the loop then stamps the
 * events run by run as the producer takes them. Prepared, a batch no longer needs the line reader's buffer.
 */
#ifndef INGEST_REPLAY_BATCH_H
#define INGEST_REPLAY_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "producer.h"
#include "route_codec.h"
#include "route_event.h"

/* Lines per batch: small enough that HTTP requests are served between batches. */
#define REPLAY_BATCH_LINES 2048
/* A longer line is rejected (and its first REPLAY_LINE_MAX_BYTES kept in the dead letter). */
#define REPLAY_LINE_MAX_BYTES (64 * 1024)

typedef struct replay_batch_line_s {
    /* Filled on the loop. */
    const char *ptr;
    size_t len;
    bool too_long;
    uint64_t line_no;
    /* Filled on the threadpool: offsets into the batch's bytes. */
    route_event_status_t status;
    size_t off, size;        /* the encoded event (placeholder stamp), or for a rejected line the line itself */
    size_t key_off, key_len; /* an event's key, its source airport */
    size_t reason_off;       /* a rejected line's reason, NUL-terminated */
} replay_batch_line_t;

typedef struct replay_batch_s {
    uv_work_t work;        /* for its owner, to queue replay_batch_prepare on the threadpool */
    void *owner;
    route_codec_t *codec;  /* borrowed; used on the threadpool only while the batch is prepared */
    size_t n;              /* lines */
    size_t next;           /* the next line to produce */
    buf_t bytes;
    replay_batch_line_t lines[REPLAY_BATCH_LINES];
} replay_batch_t;

/* The stamps' clock, kept by the owner across its batches: read once per 16 events. */
typedef struct replay_clock_s {
    int64_t now_us;
    uint64_t uses;
} replay_clock_t;

replay_batch_t *replay_batch_new(route_codec_t *codec, void *owner);
void replay_batch_free(replay_batch_t *b);

/* Threadpool: parses, validates and encodes lines [0, n). Touches only the batch and its codec. */
void replay_batch_prepare(replay_batch_t *b);

/*
 * Loop: stamps the run of events from line `from` on, up to the next rejected line or the end, and lists them in
 * events (room for REPLAY_BATCH_LINES) for the producer. A run stamped again (the producer took only part of
 * it) gets new stamps. @returns the run's length, 0 when line `from` is rejected.
 */
size_t replay_batch_stamp_run(replay_batch_t *b, size_t from, replay_clock_t *clock, producer_event_t *events);

#endif
