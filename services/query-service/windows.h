/*
 * windows: event-time windows per aircraft equipment, tumbling or hopping, the /top10_equipment_30min_window view.
 *
 * Semantics (all times int64 microseconds since the epoch, event time = the event's datetime):
 *   - A window is [start, start + size) with start a multiple of slide (0 < slide <= size; slide == size:
 *     tumbling). An event at t belongs to every window with start <= t < start + size: one when tumbling,
 *     ceil(size / slide) when hopping (floor, also for t < 0).
 *   - The watermark W closes windows: a window is closed once end <= W. W only moves forward
 *     (windows_advance); the caller derives it (views.h: the minimum over the partitions' event times, minus
 *     the grace period).
 *   - windows_add is also given the event's own watermark (its partition's, views.h): the event counts in each
 *     of its windows whose end is after both; it is dropped from the others. An event dropped from any of its
 *     windows is LATE (late_events).
 *   - A closed window is held (visible in windows_top) until end + retention <= W; then it is evicted: the
 *     eviction callback gets each of its (equipment, count) rows once, in equipment byte order, windows in
 *     start order, and its memory is recycled. So at most about (size + grace + retention) / slide windows are
 *     held, whatever the stream's length.
 * Windows are kept in an array ordered by start; each is a counted table (counted.h) equipment -> count, so
 * counting an equipment already seen in the window allocates nothing, and evicted windows are reused.
 * Single-threaded.
 */
#ifndef QUERY_WINDOWS_H
#define QUERY_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counted.h"

typedef struct windows_s windows_t;

/* One (window, equipment) row. equipment points into the windows: valid until the next windows_add. */
typedef struct window_count_s {
    int64_t start_us;
    int64_t end_us; /* start_us + size */
    const char *equipment; /* not NUL-terminated */
    size_t len;
    uint64_t count;
} window_count_t;

/* A (window, equipment, count) row: eviction and iteration callbacks. equipment is valid during the call. */
typedef void (*windows_row_cb)(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                               uint64_t count);

/* One window as /windows shows it. top.key points into the windows: valid until the next windows_add. */
typedef struct window_info_s {
    int64_t start_us;
    int64_t end_us;
    size_t equipment;     /* distinct equipment counted */
    uint64_t events;      /* events counted */
    counted_entry_t top;  /* the equipment counted most (ties: byte order descending); count 0 when empty */
} window_info_t;

#define WINDOWS_DEFAULT_SIZE_US (30 * INT64_C(1000000))
#define WINDOWS_DEFAULT_RETENTION_US (3600 * INT64_C(1000000))
#define WINDOWS_MAX_SPAN_US (INT64_C(1) << 60) /* bound on size, slide and retention */
/* Hopping windows are at most this many per event (size / slide): each event is counted this many times. */
#define WINDOWS_MAX_PER_EVENT 1000
/* No watermark (windows_add: the event's partition has none yet). */
#define WINDOWS_NO_WATERMARK INT64_MIN

typedef struct windows_stats_s {
    uint64_t late_events; /* dropped from at least one of their windows because it had closed */
    size_t windows;       /* windows held (open + closed) */
    size_t open;          /* end > watermark (all of them while there is none) */
    size_t closed;        /* end <= watermark, waiting for retention */
    size_t rows;          /* (window, equipment) pairs held */
    bool has_watermark;
    int64_t watermark_us;
    size_t bytes; /* memory held, approximately */
} windows_stats_t;

/*
 * @param size_us window length, > 0 (<= 0: 30 s); slide_us the distance between window starts, 0 < slide <= size
 *        (<= 0, or more than size: size, tumbling; size / slide is capped at WINDOWS_MAX_PER_EVENT and slide must
 *        divide size, else size is used); retention_us >= 0 (< 0: 1 h); each capped at WINDOWS_MAX_SPAN_US.
 * @param on_evicted called (may be NULL) for each row of each evicted window, from windows_advance.
 * @returns empty windows the caller frees with windows_free.
 */
windows_t *windows_new(int64_t size_us, int64_t slide_us, int64_t retention_us, windows_row_cb on_evicted,
                       void *on_evicted_data);
/* Frees everything; evicts nothing (the windows still held live on in a snapshot). */
void windows_free(windows_t *w);

/*
 * Counts one event at t_us for equipment[0..len) (copied on first sight in a window) in each of its windows
 * whose end is after both the watermark and event_watermark_us (WINDOWS_NO_WATERMARK: none).
 * @returns 0 counted in every window of the event, 1 late (dropped from at least one; counted in late_events).
 */
int windows_add(windows_t *w, int64_t t_us, const char *equipment, size_t len, int64_t event_watermark_us);

/* Moves the watermark to watermark_us if that is later, and evicts what retention lets go (calling on_evicted).
 * @returns true if the watermark moved. */
bool windows_advance(windows_t *w, int64_t watermark_us);
/* @returns true and the watermark in *out, or false while there is none. */
bool windows_watermark(const windows_t *w, int64_t *out);

/*
 * The top n rows over all windows held (open and closed) into out[0..n): count descending, then
 * equipment descending (byte order, a prefix before its extensions, as strcmp), then start ascending.
 * @returns how many were written: min(n, rows held).
 */
size_t windows_top(const windows_t *w, size_t n, window_count_t *out);

/* Calls cb for every row held: windows in start order, equipment in first-seen order. cb must not modify w. */
void windows_foreach(const windows_t *w, windows_row_cb cb, void *data);
/* @returns the count of (window starting at start_us, equipment), 0 if none. */
uint64_t windows_get(const windows_t *w, int64_t start_us, const char *equipment, size_t len);
/* @returns the windows held; windows_info fills the i-th (start order), 0 <= i < windows_held(w). */
size_t windows_held(const windows_t *w);
void windows_info(const windows_t *w, size_t i, window_info_t *out);

void windows_stats(const windows_t *w, windows_stats_t *out);
int64_t windows_size_us(const windows_t *w);
int64_t windows_slide_us(const windows_t *w);
int64_t windows_retention_us(const windows_t *w);
/* @returns the start of the latest window holding t_us: floor(t_us / slide) * slide. */
int64_t windows_start_of(const windows_t *w, int64_t t_us);

/*
 * Restoring a snapshot into fresh windows: the watermark (whether there is one) and the late counter, then each
 * row. No eviction and no late check happen here. windows_restore_clock @returns 0, or -1 if watermark_us is
 * beyond +-2^62. windows_restore_row @returns 0, or -1 if start_us is not a window start within +-2^62, count is
 * 0, or the row is already present.
 */
int windows_restore_clock(windows_t *w, bool has_watermark, int64_t watermark_us, uint64_t late_events);
int windows_restore_row(windows_t *w, int64_t start_us, const char *equipment, size_t len, uint64_t count);

#endif
