/*
 * views: the query-service's materialized views, updated one event at a time:
 *   airports  source airport -> routes          (counted.h, /top10_source_airport)
 *   windows   event-time windows per equipment  (windows.h, /top10_equipment_30min_window, /windows)
 *   recent    the most recent events            (recent.h, /dump_table)
 *   positions where the views stand in each partition: next offset, event time (positions.h)
 * plus counters. Every message read from the topic goes through views_apply or views_skip, which move its
 * partition's position with the views it changed: views and offsets are one state, never written apart, and a
 * snapshot (snapshot.h) saves that one state. Applying an event allocates nothing in the steady state.
 *
 * Event time, per partition. Each partition's event time is the latest event time applied from it; its
 * watermark is that minus the grace period. An event is late for a window that its own partition's watermark
 * had passed: a function of that partition's messages up to it, so the same however partitions are interleaved,
 * restarted or replayed. The watermark of the windows (what closes and evicts them) is the minimum over the
 * partitions that are not idle, minus the grace period; while a partition without an event time is not idle it
 * holds the watermark where it is. That minimum never passes a non-idle partition's own watermark, so it never
 * drops an event its partition would keep. Idleness is the caller's: a partition idle (views_set_idle) leaves
 * the minimum, and when every partition is idle the watermark follows the wall clock (views_advance_clock), so
 * that the last windows close without new data; an event that then comes for a closed window is late.
 * Single-threaded (the loop thread).
 */
#ifndef QUERY_VIEWS_H
#define QUERY_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counted.h"
#include "positions.h"
#include "recent.h"
#include "route_counts.h"
#include "route_event.h"
#include "windows.h"

typedef struct views_s views_t;

typedef struct views_config_s {
    int64_t window_us;      /* window size; <= 0: 30 s */
    int64_t slide_us;       /* distance between window starts; <= 0: the size (tumbling) */
    int64_t grace_us;       /* a partition's watermark = its event time - grace; < 0: one window */
    int64_t retention_us;   /* closed windows are held this long (in watermark time); < 0: 1 h */
    size_t recent_capacity; /* rows of the recent table; 0: RECENT_DEFAULT_CAPACITY (100,000) */
    windows_row_cb on_evicted; /* each row of each evicted window (may be NULL), called from views_apply */
    void *on_evicted_data;
} views_config_t;

typedef struct views_stats_s {
    uint64_t events_applied; /* every event applied, late ones included */
    uint64_t late_events;    /* of those, dropped from a window of theirs that had closed */
    uint64_t undecodable;    /* messages skipped because they are not events (views_skip) */
    uint64_t offsets_skipped; /* offsets deleted from the topic before they were read (views_skip_deleted) */
    size_t windows_held;     /* time windows in memory (open + closed) */
    size_t windows_open;
    size_t windows_closed;
    size_t window_rows;      /* (window, equipment) pairs in memory */
    bool has_watermark;
    int64_t watermark_us;
    size_t source_airports;
    uint64_t recent_events;
    size_t state_bytes; /* approximate memory held by the views */
} views_stats_t;

/* Fills cfg with the defaults: 30 s windows, one window of grace, 1 h retention, 100,000 recent rows. */
void views_config_default(views_config_t *cfg);

/* @returns empty views (cfg is copied) the caller frees with views_free. */
views_t *views_new(const views_config_t *cfg);
/* Frees the views and everything they own; evicts nothing. */
void views_free(views_t *v);

/*
 * Applies one event, read from the topic at rec: +1 for its source airport, +1 for (its window, its
 * equipment) unless late, a copy in the recent table, and rec's partition moves past it. Strings are copied;
 * ev is not kept.
 * @returns 0, or -1 when ev->datetime does not parse (timestamp_parse_event): then nothing is touched and the
 * caller skips the message with views_skip.
 */
int views_apply(views_t *v, const record_id_t *rec, const route_event_t *ev);
/* views_apply with the event time already parsed from ev->datetime (no second parse). @returns 0. */
int views_apply_at(views_t *v, const record_id_t *rec, const route_event_t *ev, int64_t datetime_us);
/* The message at rec is not an event (undecodable, refused): counted as undecodable, its partition moves past it. */
void views_skip(views_t *v, const record_id_t *rec);
/* The topic has partitions 0..count-1: each holds the watermark until it has an event time or is idle. */
void views_add_partitions(views_t *v, size_t count);
/* Partition idle or not (views.h above): the watermark moves on without it while it is. */
void views_set_idle(views_t *v, int32_t partition, bool idle);
/* True while the partition is idle. */
bool views_partition_idle(const views_t *v, int32_t partition);
/* When every partition is idle, the watermark follows the wall clock: now_us - grace. */
void views_advance_clock(views_t *v, int64_t now_us);

/*
 * The partition's offsets before first_kept were deleted from the topic (retention) before the views read them:
 * counted as skipped, the partition moves on to first_kept. @returns how many were skipped.
 */
uint64_t views_skip_deleted(views_t *v, int32_t partition, int64_t first_kept);

/* @returns a number that changes whenever the views do (for caches and snapshots). */
uint64_t views_version(const views_t *v);
/* @returns the counters, computed now; the struct is the views' own, valid until the next call. */
const views_stats_t *views_stats(views_t *v);
/* The effective configuration (defaults filled in). */
const views_config_t *views_config(const views_t *v);

/* The views' parts, owned by v: read them; snapshot.c also fills them when restoring. */
counted_t *views_airports(views_t *v);
route_counts_t *views_route_counts(views_t *v);
windows_t *views_windows(views_t *v);
recent_t *views_recent(views_t *v);
positions_t *views_positions(views_t *v);

/* Restoring a snapshot: sets the events-applied and undecodable counters. */
void views_set_counters(views_t *v, uint64_t events_applied, uint64_t undecodable);

#endif
