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
    int64_t size, slide, retention;
    int per_event; /* size / slide: the windows an event belongs to */
    windows_row_cb on_evicted;
    void *on_evicted_data;
    win_t **wins; /* ordered by start */
    size_t nwins, capwins;
    win_t *pool[POOL_MAX];
    size_t npool;
    win_t *last; /* the latest window of the previous event: the usual one of the next */
    bool has_wm;
    int64_t wm;
    uint64_t late;
    size_t rows;
    counted_entry_t *sorted; /* scratch for evicting a window's rows in equipment order */
    size_t sorted_cap;
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

windows_t *windows_new(int64_t size_us, int64_t slide_us, int64_t retention_us, windows_row_cb on_evicted,
                       void *on_evicted_data)
{
    windows_t *w = xcalloc(1, sizeof(*w));
    w->size = size_us <= 0 ? WINDOWS_DEFAULT_SIZE_US : clamp_span(size_us, WINDOWS_DEFAULT_SIZE_US);
    w->slide = slide_us <= 0 || slide_us > w->size || w->size % slide_us != 0 ||
                       w->size / slide_us > WINDOWS_MAX_PER_EVENT
                   ? w->size
                   : slide_us;
    w->per_event = (int)(w->size / w->slide);
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
    free(w->sorted);
    free(w);
}

int64_t windows_start_of(const windows_t *w, int64_t t_us)
{
    int64_t q = t_us / w->slide;
    if (t_us % w->slide < 0) /* C truncates toward zero; windows floor */
        q--;
    return q * w->slide;
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

static int cmp_key(const void *a, const void *b)
{
    const counted_entry_t *x = a, *y = b;
    return strhash_cmp(x->key, x->len, y->key, y->len);
}

/*
 * Evicts the windows retention lets go: end + retention <= watermark. They are the oldest ones. Rows go out in
 * equipment order, so that the file of evicted windows is the same however the partitions were interleaved
 * (first-seen order within a window depends on that).
 */
static void evict(windows_t *w)
{
    size_t k = 0;
    while (k < w->nwins && w->wins[k]->start + w->size + w->retention <= w->wm) {
        win_t *win = w->wins[k++];
        size_t n = counted_size(win->counts);
        if (w->on_evicted != NULL && n > 0) {
            if (n > w->sorted_cap) {
                w->sorted_cap = n * 2;
                w->sorted = xrealloc(w->sorted, w->sorted_cap * sizeof(*w->sorted));
            }
            for (size_t i = 0; i < n; i++)
                w->sorted[i] = counted_at(win->counts, i);
            qsort(w->sorted, n, sizeof(*w->sorted), cmp_key);
            for (size_t i = 0; i < n; i++)
                w->on_evicted(w->on_evicted_data, win->start, win->start + w->size, w->sorted[i].key,
                              w->sorted[i].len, w->sorted[i].count);
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

bool windows_advance(windows_t *w, int64_t watermark_us)
{
    if (watermark_us < -TIME_LIMIT)
        watermark_us = -TIME_LIMIT;
    else if (watermark_us > TIME_LIMIT)
        watermark_us = TIME_LIMIT;
    if (w->has_wm && watermark_us <= w->wm)
        return false;
    w->has_wm = true;
    w->wm = watermark_us;
    if (w->nwins > 0 && w->wins[0]->start + w->size + w->retention <= w->wm)
        evict(w);
    return true;
}

bool windows_watermark(const windows_t *w, int64_t *out)
{
    *out = w->has_wm ? w->wm : 0;
    return w->has_wm;
}

int windows_add(windows_t *w, int64_t t_us, const char *equipment, size_t len, int64_t event_watermark_us)
{
    if (t_us < -TIME_LIMIT)
        t_us = -TIME_LIMIT;
    else if (t_us > TIME_LIMIT)
        t_us = TIME_LIMIT;
    int64_t closed = event_watermark_us;
    if (w->has_wm && w->wm > closed)
        closed = w->wm;
    /* Most events fall in the latest window of the previous one: skip the division. */
    int64_t latest = w->last != NULL && t_us >= w->last->start && t_us - w->last->start < w->slide
                         ? w->last->start
                         : windows_start_of(w, t_us);
    bool dropped = false;
    /* Oldest first: those are the ones that close first. */
    for (int k = w->per_event - 1; k >= 0; k--) {
        int64_t start = latest - (int64_t)k * w->slide;
        if (closed != WINDOWS_NO_WATERMARK && start + w->size <= closed) {
            dropped = true;
            continue;
        }
        win_t *win = w->last != NULL && w->last->start == start ? w->last : open_window(w, start);
        if (counted_add(win->counts, equipment, len, 1) == 1)
            w->rows++;
        if (k == 0)
            w->last = win;
    }
    if (dropped)
        w->late++;
    return dropped ? 1 : 0;
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
    out->has_watermark = w->has_wm;
    out->watermark_us = w->has_wm ? w->wm : 0;
    out->bytes = sizeof(*w) + w->capwins * sizeof(*w->wins) + w->sorted_cap * sizeof(*w->sorted);
    for (size_t i = 0; i < w->nwins; i++) {
        if (w->has_wm && w->wins[i]->start + w->size <= w->wm)
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

int64_t windows_slide_us(const windows_t *w)
{
    return w->slide;
}

size_t windows_held(const windows_t *w)
{
    return w->nwins;
}

void windows_info(const windows_t *w, size_t i, window_info_t *out)
{
    const win_t *win = w->wins[i];
    out->start_us = win->start;
    out->end_us = win->start + w->size;
    out->equipment = counted_size(win->counts);
    out->events = counted_total(win->counts);
    if (counted_top(win->counts, 1, COUNTED_KEY_DESC, &out->top) == 0)
        out->top = (counted_entry_t){"", 0, 0};
}

int64_t windows_retention_us(const windows_t *w)
{
    return w->retention;
}

int windows_restore_clock(windows_t *w, bool has_watermark, int64_t watermark_us, uint64_t late_events)
{
    if (has_watermark && (watermark_us < -TIME_LIMIT || watermark_us > TIME_LIMIT))
        return -1;
    w->has_wm = has_watermark;
    w->wm = has_watermark ? watermark_us : 0;
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
