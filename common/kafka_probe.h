/*
 * kafka_probe: a periodic check of Kafka run on libuv's threadpool, because librdkafka's metadata and
 * ListOffsets calls block. A timer starts the probe, at most one runs at a time, and its result is taken
 * on the loop, where the owner also says how long until the next one. The struct is embedded in its owner,
 * as a libuv handle is.
 */
#ifndef COMMON_KAFKA_PROBE_H
#define COMMON_KAFKA_PROBE_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

/* Every blocking call a probe makes is bounded by this, so a shutdown waits at most about that long. */
#define KAFKA_PROBE_TIMEOUT_MS 3000
/* Quickly while Kafka is not ready, so a late broker is noticed within a second; gently once it is. */
#define KAFKA_PROBE_INTERVAL_NOT_READY_MS 1000
#define KAFKA_PROBE_INTERVAL_READY_MS 5000

/* Threadpool: may block (each call bounded by KAFKA_PROBE_TIMEOUT_MS); touches only what the owner set aside. */
typedef void (*kafka_probe_work_cb)(void *data);
/*
 * Loop: the probe's result is ready. @returns the delay in ms until the next probe. Not called once
 * kafka_probe_stop() ran: what the work left behind is then the owner's to free.
 */
typedef uint64_t (*kafka_probe_done_cb)(void *data);

typedef struct kafka_probe_s {
    uv_timer_t timer;
    uv_work_t work;
    kafka_probe_work_cb on_work;
    kafka_probe_done_cb on_done;
    void *data;
    bool running;    /* on the threadpool */
    bool delivering; /* on_done is running */
    bool again;      /* asked for while running or delivering: the next one starts as soon as this one is done */
    bool stopped; /* no new probe starts, and the one in flight is not delivered */
    bool closed;
    bool timer_closed; /* the timer's close callback ran */
} kafka_probe_t;

/* Initializes the probe and starts the first one at once. */
void kafka_probe_start(kafka_probe_t *p, uv_loop_t *loop, kafka_probe_work_cb on_work, kafka_probe_done_cb on_done,
                       void *data);
/* The next probe starts now, or right after the one in flight (or being delivered: from on_done, too). */
void kafka_probe_soon(kafka_probe_t *p);
/* No further probe; the one in flight, if any, finishes on the threadpool but is not delivered. */
void kafka_probe_stop(kafka_probe_t *p);
/* Stops, and closes the timer (the owner frees its memory once kafka_probe_released). */
void kafka_probe_close(kafka_probe_t *p);
/* After kafka_probe_close: the timer is closed and nothing is on the threadpool; the memory may be freed. */
bool kafka_probe_released(const kafka_probe_t *p);
/* A probe is on the threadpool: what it touches must not be freed yet, and what it finds predates now. */
bool kafka_probe_busy(const kafka_probe_t *p);

/* The answer of kafka_topic_partitions when Kafka answered that the topic does not exist. */
#define KAFKA_TOPIC_MISSING (-1)
/* Kafka did not answer in time. */
#define KAFKA_TOPIC_UNANSWERED (-2)
/* Kafka answered with another error for this topic (no leader yet, not authorized, ...). */
#define KAFKA_TOPIC_FAILED (-3)

/*
 * Threadpool: the partition count of a topic, asked of Kafka in one metadata request bounded by
 * KAFKA_PROBE_TIMEOUT_MS; with need_leaders, a partition without a leader makes it KAFKA_TOPIC_FAILED.
 * @returns the count (> 0), or KAFKA_TOPIC_MISSING, _UNANSWERED or _FAILED with why filled in.
 */
int kafka_topic_partitions(rd_kafka_t *rk, rd_kafka_topic_t *rkt, bool need_leaders, char *why, size_t why_size);

#endif
