/*
 * windows: tumbling event-time windows per aircraft equipment, the /top10_equipment_30min_window view.
 *
 * Semantics (all times int64 microseconds since the epoch, event time = the event's datetime):
 *   - An event at t belongs to the window [start, start + size) with start = floor(t / size) * size
 *     (floor, also for t < 0); an event at exactly start + size opens the next window.
 *   - max = the highest event time seen so far; watermark = max - grace (none before the first event).
 *   - A window is closed once end <= watermark. An event whose window is closed when it arrives is
 *     LATE: it is counted (late_events) and dropped. Equivalently, an event for [start, end) is still
 *     counted as long as max < end + grace, and is late once max >= end + grace.
 *   - A closed window is held (visible in windows_top) until watermark >= end + retention; then it is
 *     evicted: the eviction callback gets each of its (equipment, count) rows once, in equipment
 *     first-seen order, windows in start order, and its memory is recycled. So at most about
 *     (grace + retention) / size + 1 windows are held, whatever the stream's length.
 * Windows are kept in an array ordered by start (events arrive nearly in order); each window is a hash
 * table equipment -> count over a dense entry array and an arena of interned equipment strings, so
 * counting an equipment already seen in the window allocates nothing, and evicted windows are reused.
 * Single-threaded.
 */
#ifndef QUERY_WINDOWS_H
#define QUERY_WINDOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

#define WINDOWS_DEFAULT_SIZE_US (30 * INT64_C(1000000))
#define WINDOWS_DEFAULT_RETENTION_US (3600 * INT64_C(1000000))
#define WINDOWS_MAX_SPAN_US (INT64_C(1) << 60) /* bound on size, grace and retention */

typedef struct windows_stats_s {
    uint64_t late_events; /* dropped because their window had closed */
    size_t windows;       /* windows held (open + closed) */
    size_t open;          /* end > watermark (all of them before the first event) */
    size_t closed;        /* end <= watermark, waiting for retention */
    size_t rows;          /* (window, equipment) pairs held */
    bool has_watermark;   /* false until the first event */
    int64_t max_event_us;
    int64_t watermark_us;
    size_t bytes; /* memory held, approximately */
} windows_stats_t;

/*
 * @param size_us window length, > 0 (<= 0: 30 s); grace_us >= 0 (< 0: one window); retention_us >= 0
 *        (< 0: 1 h); each capped at WINDOWS_MAX_SPAN_US.
 * @param on_evicted called (may be NULL) for each row of each evicted window, from windows_add.
 * @returns empty windows the caller frees with windows_free.
 */
windows_t *windows_new(int64_t size_us, int64_t grace_us, int64_t retention_us, windows_row_cb on_evicted,
                       void *on_evicted_data);
/* Frees everything; evicts nothing (the windows still held live on in a snapshot). */
void windows_free(windows_t *w);
/* Replaces the eviction callback (e.g. once the CSV writer exists). */
void windows_set_evicted_cb(windows_t *w, windows_row_cb on_evicted, void *on_evicted_data);

/*
 * Counts one event at t_us for equipment[0..len) (copied on first sight in its window), unless late.
 * Then advances the watermark and evicts what retention lets go (calling on_evicted).
 * @returns 0 counted, 1 late (counted in late_events and dropped).
 */
int windows_add(windows_t *w, int64_t t_us, const char *equipment, size_t len);

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

void windows_stats(const windows_t *w, windows_stats_t *out);
int64_t windows_size_us(const windows_t *w);
int64_t windows_grace_us(const windows_t *w);
int64_t windows_retention_us(const windows_t *w);
/* @returns floor(t_us / size) * size. */
int64_t windows_start_of(const windows_t *w, int64_t t_us);

/*
 * Restoring a snapshot into fresh windows: the clock (highest event time, whether any was seen, late
 * counter), then each row. No eviction and no late check happen here. windows_restore_clock @returns 0,
 * or -1 if max_event_us is beyond +-2^62.
 * windows_restore_row @returns 0, or -1 if start_us is not a window start within +-2^62, count is 0,
 * or the row is already present.
 */
int windows_restore_clock(windows_t *w, bool has_max, int64_t max_event_us, uint64_t late_events);
int windows_restore_row(windows_t *w, int64_t start_us, const char *equipment, size_t len, uint64_t count);

#endif
