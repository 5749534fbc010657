/*
 * fetch_kick: wakes librdkafka's fetcher when it idles while a partition lags.
 *
 * librdkafka 2.0 stops fetching a partition whose prefetch queue (here the one queue all partitions share) is over
 * queued.min.messages or queued.max.messages.kbytes, and looks at it again only when its broker thread wakes up: on
 * a response, on a request to send, or on its one-second tick (2.1 made that tick fetch.queue.backoff.ms).
 * Catching up, the loop empties a full queue in tens of milliseconds and would then wait for the rest of that
 * second: catch-up ran at a quarter of kcat's speed. So when the queue has been dry for FETCH_KICK_IDLE_MS while a
 * partition still lags its high watermark, a ListOffsets request to that partition's leader (on the threadpool:
 * it waits for the answer) wakes the broker thread, which then sees the queue empty and fetches at once.
 */
#ifndef QUERY_FETCH_KICK_H
#define QUERY_FETCH_KICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <librdkafka/rdkafka.h>
#include <uv.h>

#define FETCH_KICK_IDLE_MS 5

typedef struct fetch_kick_s fetch_kick_t;

/* Where the state stands in a partition: its next offset (asked when the kick fires, never kept). */
typedef int64_t (*fetch_kick_position_cb)(int32_t partition, void *data);

/* rk and topic (not copied) must outlive the kick. */
fetch_kick_t *fetch_kick_new(uv_loop_t *loop, rd_kafka_t *rk, const char *topic, fetch_kick_position_cb position,
                             void *data);
/* n messages came from the queue: the fetcher is not idle. */
void fetch_kick_received(fetch_kick_t *k, uint64_t n);
/* The queue ran dry: if nothing comes for FETCH_KICK_IDLE_MS while one of partitions 0..n_parts-1 lags its high
 * watermark, one is kicked, round robin. */
void fetch_kick_arm(fetch_kick_t *k, size_t n_parts);
/* Kicks sent so far. */
uint64_t fetch_kick_count(const fetch_kick_t *k);
/* True while a kick waits for its answer on the threadpool (it uses rk). */
bool fetch_kick_busy(const fetch_kick_t *k);
/* Stops kicking (closes the timer). */
void fetch_kick_close(fetch_kick_t *k);
/* After fetch_kick_close, once the loop has run and fetch_kick_busy is false. */
void fetch_kick_free(fetch_kick_t *k);

#endif
