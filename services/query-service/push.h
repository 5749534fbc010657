/*
 * push: the views served live, as server-sent events (GET /stream/...). A stream opens with the current state and
 * gets a new one whenever the view changed, coalesced to one message per interval (push_config_t.interval_ms),
 * rendered once per interval for every subscriber that asked for the same thing. A subscriber that cannot take
 * them as fast gets the latest state when it can (views), or, for the raw events, is told so and dropped once
 * too much waits for it: nothing it costs is unbounded, and the loop never waits for a client.
 *
 * Message ids: a view's is its ETag's numbers (`<views epoch>-<change>`): a client that comes back with
 * Last-Event-ID is told whether it missed anything. The events' is `<sequence number of the next event>-<id of the
 * last one sent>`: a client that comes back resumes right after the last event it received, while that event is
 * still held (recent.h), and is told otherwise.
 */
#ifndef QUERY_PUSH_H
#define QUERY_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>
#include <uv.h>

#include "metrics.h"
#include "views.h"

/* Events waiting for one /stream/events client beyond which nothing more is rendered for it until it catches up. */
#define PUSH_MAX_WAITING ((size_t)4 << 20)

typedef enum { PUSH_TOP_AIRPORTS, PUSH_TOP_WINDOWS, PUSH_EVENTS, PUSH_STREAMS } push_stream_t;

typedef struct push_s push_t;

typedef struct push_config_s {
    long interval_ms;     /* at most one message per subscriber per interval */
    long heartbeat_ms;    /* a comment on a stream that sent nothing for this long (proxies close idle ones) */
    long max_subscribers; /* over every stream; beyond, 429 */
    size_t max_waiting;   /* bytes of events waiting for one client before it is dropped as too slow */
} push_config_t;

/* Which events a /stream/events subscriber wants: the fields it names must be equal (NULL: any). */
typedef struct push_filter_s {
    const char *source_airport;
    const char *destination_airport;
    const char *airline;
    const char *equipment;
} push_filter_t;

typedef struct push_stats_s {
    uint64_t messages_sent[PUSH_STREAMS];
    uint64_t dropped_slow; /* /stream/events clients that could not keep up */
    uint64_t refused;      /* 429: --max-subscribers reached */
    /* Per interval with view subscribers to update: from the first to the last handed its new state. */
    metrics_histogram_t fanout_seconds;
} push_stats_t;

push_t *push_new(uv_loop_t *loop, const push_config_t *cfg);
/* The views streamed from now on (at start, after a restore or a topic reset); epoch names them (query.h). */
void push_set_views(push_t *p, views_t *views, uint64_t epoch);
/*
 * Answers req with a stream (or 429 beyond max_subscribers). n: rows of the top views; filter: for PUSH_EVENTS
 * (its strings are copied); last_event_id: the Last-Event-ID header, or NULL.
 */
void push_subscribe(push_t *p, h2o_req_t *req, push_stream_t stream, size_t n, const push_filter_t *filter,
                    const char *last_event_id);
/*
 * After each event applied: /stream/events subscribers get what is new early when the events applied since the
 * last interval fill half the ring of recent events, so a burst never overtakes a client that keeps up.
 */
void push_event_applied(push_t *p);
size_t push_subscribers(const push_t *p, push_stream_t stream);
const push_stats_t *push_stats(const push_t *p);
const char *push_stream_name(push_stream_t stream);
/* Shutdown: every stream is told and ended, the timers closed; what is left finishes with the loop. */
void push_close(push_t *p);
/* After the loop ended. */
void push_free(push_t *p);

#endif
