#include "windows.h"
#include "topn.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "counted.h"
#include "strhash.h"

#define TIME_LIMIT (INT64_C(1) << 62) /* event times and window starts stay within +-2^62: no overflow */
#define POOL_MAX 8                    /* evicted windows kept for reuse */
#define INITIAL_EQUIPMENT 32 /* distinct equipment strings a window is sized for at first */

/* One window: equipment -> count. */
typedef struct win_s {
    int64_t start;
    counted_t *counts;
} win_t;

struct windows_s {
    int64_t size, grace, retention;
    windows_row_cb on_evicted;
    void *on_evicted_data;
    win_t **wins; /* ordered by start */
    size_t nwins, capwins;
    win_t *pool[POOL_MAX];
    size_t npool;
    win_t *last; /* the window of the previous event: the usual target of the next */
    bool has_max;
    int64_t max_event;
    uint64_t late;
    size_t rows;
};

/* ---- one window ---- */

static win_t *win_new(void)
{
    win_t *win = xcalloc(1, sizeof(*win));
    win->counts = counted_new(INITIAL_EQUIPMENT);
    return win;
}

static void win_free(win_t *win)
{
    counted_free(win->counts);
    free(win);
}

static size_t win_bytes(const win_t *win)
{
    return sizeof(*win) + counted_bytes(win->counts);
}

/* ---- the set of windows ---- */

static int64_t clamp_span(int64_t v, int64_t dflt)
{
    if (v < 0)
        return dflt;
    return v > WINDOWS_MAX_SPAN_US ? WINDOWS_MAX_SPAN_US : v;
}

windows_t *windows_new(int64_t size_us, int64_t grace_us, int64_t retention_us, windows_row_cb on_evicted,
                       void *on_evicted_data)
{
    windows_t *w = xcalloc(1, sizeof(*w));
    w->size = size_us <= 0 ? WINDOWS_DEFAULT_SIZE_US : clamp_span(size_us, WINDOWS_DEFAULT_SIZE_US);
    w->grace = clamp_span(grace_us, w->size);
    w->retention = clamp_span(retention_us, WINDOWS_DEFAULT_RETENTION_US);
    w->on_evicted = on_evicted;
    w->on_evicted_data = on_evicted_data;
    w->capwins = 16;
    w->wins = xmalloc(w->capwins * sizeof(*w->wins));
    return w;
}

void windows_free(windows_t *w)
{
    if (w == NULL)
        return;
    for (size_t i = 0; i < w->nwins; i++)
        win_free(w->wins[i]);
    for (size_t i = 0; i < w->npool; i++)
        win_free(w->pool[i]);
    free(w->wins);
    free(w);
}

void windows_set_evicted_cb(windows_t *w, windows_row_cb on_evicted, void *on_evicted_data)
{
    w->on_evicted = on_evicted;
    w->on_evicted_data = on_evicted_data;
}

int64_t windows_start_of(const windows_t *w, int64_t t_us)
{
    int64_t q = t_us / w->size;
    if (t_us % w->size < 0) /* C truncates toward zero; windows floor */
        q--;
    return q * w->size;
}

/* @returns the index of the first window whose start is >= start. */
static size_t lower_bound(const windows_t *w, int64_t start)
{
    size_t lo = 0, hi = w->nwins;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w->wins[mid]->start < start)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static win_t *find_window(const windows_t *w, int64_t start)
{
    size_t i = lower_bound(w, start);
    return i < w->nwins && w->wins[i]->start == start ? w->wins[i] : NULL;
}

static win_t *open_window(windows_t *w, int64_t start)
{
    size_t i = lower_bound(w, start);
    if (i < w->nwins && w->wins[i]->start == start)
        return w->wins[i];
    win_t *win = w->npool > 0 ? w->pool[--w->npool] : win_new();
    win->start = start;
    if (w->nwins == w->capwins) {
        w->capwins *= 2;
        w->wins = xrealloc(w->wins, w->capwins * sizeof(*w->wins));
    }
    memmove(&w->wins[i + 1], &w->wins[i], (w->nwins - i) * sizeof(*w->wins));
    w->wins[i] = win;
    w->nwins++;
    return win;
}

/* Evicts the windows retention lets go: end + retention <= watermark. They are the oldest ones. */
static void evict(windows_t *w)
{
    int64_t watermark = w->max_event - w->grace;
    size_t k = 0;
    while (k < w->nwins && w->wins[k]->start + w->size + w->retention <= watermark) {
        win_t *win = w->wins[k++];
        size_t n = counted_size(win->counts);
        for (size_t i = 0; i < n && w->on_evicted != NULL; i++) {
            counted_entry_t e = counted_at(win->counts, i);
            w->on_evicted(w->on_evicted_data, win->start, win->start + w->size, e.key, e.len, e.count);
        }
        w->rows -= n;
        if (win == w->last)
            w->last = NULL;
        if (w->npool < POOL_MAX) {
            counted_clear(win->counts);
            w->pool[w->npool++] = win;
        } else {
            win_free(win);
        }
    }
    if (k > 0) {
        memmove(&w->wins[0], &w->wins[k], (w->nwins - k) * sizeof(*w->wins));
        w->nwins -= k;
    }
}

int windows_add(windows_t *w, int64_t t_us, const char *equipment, size_t len)
{
    if (t_us < -TIME_LIMIT)
        t_us = -TIME_LIMIT;
    else if (t_us > TIME_LIMIT)
        t_us = TIME_LIMIT;
    /* Most events fall in the window of the previous one: skip the division and the search. */
    win_t *win = w->last;
    int64_t start;
    if (win != NULL && t_us >= win->start && t_us - win->start < w->size) {
        start = win->start;
    } else {
        start = windows_start_of(w, t_us);
        win = NULL;
    }
    if (w->has_max && start + w->size <= w->max_event - w->grace) {
        w->late++;
        return 1;
    }
    if (win == NULL) {
        win = open_window(w, start);
        w->last = win;
    }
    if (counted_add(win->counts, equipment, len, 1) == 1)
        w->rows++;
    if (!w->has_max || t_us > w->max_event) {
        w->has_max = true;
        w->max_event = t_us;
        /* The window just counted into cannot go: its end is after t_us, so after the watermark. */
        if (w->wins[0]->start + w->size + w->retention <= t_us - w->grace)
            evict(w);
    }
    return 0;
}

/* true when a ranks before b: count desc, equipment desc, start asc. */
static int ranks_before(const window_count_t *a, const window_count_t *b)
{
    if (a->count != b->count)
        return a->count > b->count;
    int c = strhash_cmp(a->equipment, a->len, b->equipment, b->len);
    if (c != 0)
        return c > 0;
    return a->start_us < b->start_us;
}

static bool ranks_before_item(const void *a, const void *b)
{
    return ranks_before(a, b);
}

size_t windows_top(const windows_t *w, size_t n, window_count_t *out)
{
    topn_t top;
    topn_init(&top, out, n, sizeof(*out), ranks_before_item);
    for (size_t wi = 0; wi < w->nwins; wi++) {
        const win_t *win = w->wins[wi];
        for (size_t i = 0; i < counted_size(win->counts); i++) {
            counted_entry_t e = counted_at(win->counts, i);
            /* Most rows lose on count alone: skip them before building a candidate. */
            const window_count_t *worst = topn_worst(&top);
            if (worst != NULL && e.count < worst->count)
                continue;
            window_count_t c = {win->start, win->start + w->size, e.key, e.len, e.count};
            topn_offer(&top, &c);
        }
    }
    return topn_finish(&top);
}

void windows_foreach(const windows_t *w, windows_row_cb cb, void *data)
{
    for (size_t wi = 0; wi < w->nwins; wi++) {
        const win_t *win = w->wins[wi];
        for (size_t i = 0; i < counted_size(win->counts); i++) {
            counted_entry_t e = counted_at(win->counts, i);
            cb(data, win->start, win->start + w->size, e.key, e.len, e.count);
        }
    }
}

uint64_t windows_get(const windows_t *w, int64_t start_us, const char *equipment, size_t len)
{
    const win_t *win = find_window(w, start_us);
    return win != NULL ? counted_get(win->counts, equipment, len) : 0;
}

void windows_stats(const windows_t *w, windows_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->late_events = w->late;
    out->windows = w->nwins;
    out->rows = w->rows;
    out->has_watermark = w->has_max;
    out->max_event_us = w->max_event;
    out->watermark_us = w->has_max ? w->max_event - w->grace : 0;
    out->bytes = sizeof(*w) + w->capwins * sizeof(*w->wins);
    for (size_t i = 0; i < w->nwins; i++) {
        if (w->has_max && w->wins[i]->start + w->size <= out->watermark_us)
            out->closed++;
        out->bytes += win_bytes(w->wins[i]);
    }
    for (size_t i = 0; i < w->npool; i++)
        out->bytes += win_bytes(w->pool[i]);
    out->open = out->windows - out->closed;
}

int64_t windows_size_us(const windows_t *w)
{
    return w->size;
}

int64_t windows_grace_us(const windows_t *w)
{
    return w->grace;
}

int64_t windows_retention_us(const windows_t *w)
{
    return w->retention;
}

int windows_restore_clock(windows_t *w, bool has_max, int64_t max_event_us, uint64_t late_events)
{
    if (has_max && (max_event_us < -TIME_LIMIT || max_event_us > TIME_LIMIT))
        return -1;
    w->has_max = has_max;
    w->max_event = has_max ? max_event_us : 0;
    w->late = late_events;
    return 0;
}

int windows_restore_row(windows_t *w, int64_t start_us, const char *equipment, size_t len, uint64_t count)
{
    if (count == 0 || len > UINT32_MAX || start_us < -TIME_LIMIT || start_us > TIME_LIMIT ||
        windows_start_of(w, start_us) != start_us)
        return -1;
    win_t *win = open_window(w, start_us);
    if (counted_get(win->counts, equipment, len) != 0)
        return -1;
    counted_add(win->counts, equipment, len, count);
    w->rows++;
    return 0;
}
