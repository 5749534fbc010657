/* windows: tumbling and hopping event-time windows, watermark, late events (the window's watermark and the
 * event's own), retention and eviction, top-N order, the window list. Most cases drive the windows as one
 * partition does (stream_add below, as views.c): the event's watermark is that partition's event time - grace,
 * and the windows' watermark follows it. */
#include "test.h"

#include "query-service/windows.h"

#define S INT64_C(1000000) /* one second in microseconds */
#define EQ(s) (s), strlen(s)

typedef struct evicted_s {
    int64_t start[64];
    int64_t end[64];
    char eq[64][16];
    uint64_t count[64];
    int n;
} evicted_t;

static void on_evicted(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len, uint64_t count)
{
    evicted_t *e = data;
    ASSERT_LT(e->n, 64);
    e->start[e->n] = start_us;
    e->end[e->n] = end_us;
    snprintf(e->eq[e->n], sizeof(e->eq[0]), "%.*s", (int)len, equipment);
    e->count[e->n] = count;
    e->n++;
}

/* The windows of one partition, with its event time (views.c keeps one per partition). */
typedef struct stream_s {
    windows_t *w;
    int64_t grace;
    bool has_max;
    int64_t max;
} stream_t;

static stream_t stream(int64_t size, int64_t grace, int64_t retention, windows_row_cb cb, void *data)
{
    return (stream_t){windows_new(size, size, retention, cb, data), grace, false, 0};
}

static int stream_add(stream_t *st, int64_t t, const char *eq, size_t len)
{
    int rc = windows_add(st->w, t, eq, len, st->has_max ? st->max - st->grace : WINDOWS_NO_WATERMARK);
    if (!st->has_max || t > st->max) {
        st->has_max = true;
        st->max = t;
        windows_advance(st->w, st->max - st->grace);
    }
    return rc;
}

static void test_defaults(void)
{
    windows_t *w = windows_new(0, -1, -1, NULL, NULL);
    ASSERT_EQ(windows_size_us(w), 30 * S);
    ASSERT_EQ(windows_slide_us(w), 30 * S);
    ASSERT_EQ(windows_retention_us(w), 3600 * S);
    windows_free(w);
    /* A slide that does not divide the size, or larger than it: tumbling. */
    w = windows_new(30 * S, 7 * S, -1, NULL, NULL);
    ASSERT_EQ(windows_slide_us(w), 30 * S);
    windows_free(w);
    w = windows_new(30 * S, 60 * S, -1, NULL, NULL);
    ASSERT_EQ(windows_slide_us(w), 30 * S);
    windows_free(w);
    w = windows_new(30 * S, 10 * S, -1, NULL, NULL);
    ASSERT_EQ(windows_slide_us(w), 10 * S);
    windows_free(w);
}

static void test_boundaries(void)
{
    stream_t w = stream(30 * S, 1000 * S, 3600 * S, NULL, NULL);
    ASSERT_EQ(stream_add(&w, 60 * S, EQ("738")), 0);          /* first instant of [60, 90) */
    ASSERT_EQ(stream_add(&w, 90 * S - 1, EQ("738")), 0);      /* last instant of [60, 90) */
    ASSERT_EQ(stream_add(&w, 90 * S, EQ("738")), 0);          /* exactly start + size: the next window */
    ASSERT_EQ(windows_get(w.w, 60 * S, EQ("738")), 2);
    ASSERT_EQ(windows_get(w.w, 90 * S, EQ("738")), 1);
    ASSERT_EQ(windows_start_of(w.w, 89 * S), 60 * S);
    windows_free(w.w);
}

static void test_negative_and_epoch(void)
{
    stream_t w = stream(30 * S, 1000 * S, 3600 * S, NULL, NULL);
    ASSERT_EQ(windows_start_of(w.w, 0), 0);
    ASSERT_EQ(windows_start_of(w.w, -1), -30 * S); /* floor, not truncation */
    ASSERT_EQ(windows_start_of(w.w, -30 * S), -30 * S);
    ASSERT_EQ(windows_start_of(w.w, -30 * S - 1), -60 * S);
    ASSERT_EQ(stream_add(&w, -1, EQ("320")), 0);
    ASSERT_EQ(stream_add(&w, 0, EQ("320")), 0);
    ASSERT_EQ(windows_get(w.w, -30 * S, EQ("320")), 1);
    ASSERT_EQ(windows_get(w.w, 0, EQ("320")), 1);
    windows_free(w.w);
}

/* Window [0, 30): accepted while max < 30 + grace, late once max >= 30 + grace. */
static void test_grace(void)
{
    stream_t w = stream(30 * S, 10 * S, 3600 * S, NULL, NULL);
    windows_stats_t st;
    ASSERT_EQ(stream_add(&w, 5 * S, EQ("A")), 0);
    ASSERT_EQ(stream_add(&w, 40 * S - 1, EQ("B")), 0); /* watermark 30 s - 1 us: [0, 30) still open */
    windows_stats(w.w, &st);
    ASSERT_EQ(st.watermark_us, 30 * S - 1);
    ASSERT_EQ(st.open, 2);
    ASSERT_EQ(stream_add(&w, 29 * S, EQ("A")), 0); /* within grace: counted */
    ASSERT_EQ(windows_get(w.w, 0, EQ("A")), 2);
    ASSERT_EQ(stream_add(&w, 40 * S, EQ("B")), 0); /* watermark exactly 30 s = end of [0, 30): closed */
    windows_stats(w.w, &st);
    ASSERT_EQ(st.closed, 1);
    ASSERT_EQ(st.open, 1);
    ASSERT_EQ(stream_add(&w, 29 * S, EQ("A")), 1); /* late: counted as such and dropped */
    ASSERT_EQ(stream_add(&w, 0, EQ("C")), 1);
    ASSERT_EQ(windows_get(w.w, 0, EQ("A")), 2);
    ASSERT_EQ(windows_get(w.w, 0, EQ("C")), 0);
    windows_stats(w.w, &st);
    ASSERT_EQ(st.late_events, 2);
    ASSERT_EQ(st.rows, 2);
    /* A late event never moves the watermark, and an event in a still open window is fine. */
    ASSERT_EQ(stream_add(&w, 30 * S, EQ("B")), 0);
    windows_free(w.w);
}

static void test_zero_grace(void)
{
    stream_t w = stream(30 * S, 0, 3600 * S, NULL, NULL);
    ASSERT_EQ(stream_add(&w, 29 * S, EQ("A")), 0);
    ASSERT_EQ(stream_add(&w, 30 * S, EQ("A")), 0); /* watermark 30: [0, 30) closed */
    ASSERT_EQ(stream_add(&w, 29 * S, EQ("A")), 1);
    windows_free(w.w);
}

/* Retention: [0, 30) is evicted once watermark >= 30 + retention, rows reported once each. */
static void test_eviction(void)
{
    evicted_t ev;
    memset(&ev, 0, sizeof(ev));
    stream_t w = stream(30 * S, 30 * S, 60 * S, on_evicted, &ev);
    windows_stats_t st;
    stream_add(&w, 1 * S, EQ("738"));
    stream_add(&w, 2 * S, EQ("320"));
    stream_add(&w, 3 * S, EQ("738"));
    stream_add(&w, 31 * S, EQ("320"));
    stream_add(&w, 119 * S, EQ("X")); /* watermark 89: [0, 30) closed, not yet evicted (needs 90) */
    ASSERT_EQ(ev.n, 0);
    windows_stats(w.w, &st);
    ASSERT_EQ(st.windows, 3);
    ASSERT_EQ(st.closed, 2);
    ASSERT_EQ(stream_add(&w, 100 * S, EQ("X")), 0); /* no new max: no eviction */
    ASSERT_EQ(ev.n, 0);
    stream_add(&w, 120 * S, EQ("X")); /* watermark 90 = 30 + 60: evict [0, 30) */
    ASSERT_EQ(ev.n, 2);
    ASSERT_EQ(ev.start[0], 0);
    ASSERT_EQ(ev.end[0], 30 * S);
    ASSERT_STR_EQ(ev.eq[0], "320"); /* equipment order, whatever the order they came in */
    ASSERT_EQ(ev.count[0], 1);
    ASSERT_STR_EQ(ev.eq[1], "738");
    ASSERT_EQ(ev.count[1], 2);
    windows_stats(w.w, &st);
    ASSERT_EQ(st.windows, 3); /* [30,60) [90,120) [120,150) */
    ASSERT_EQ(st.rows, 3);
    ASSERT_EQ(windows_get(w.w, 0, EQ("738")), 0);
    /* An event for an evicted window is late (its window closed long ago), never resurrects it. */
    ASSERT_EQ(stream_add(&w, 1 * S, EQ("738")), 1);
    /* A jump far ahead evicts everything older at once, each row exactly once. */
    stream_add(&w, 10000 * S, EQ("Y"));
    ASSERT_EQ(ev.n, 2 + 3);
    windows_stats(w.w, &st);
    ASSERT_EQ(st.windows, 1);
    ASSERT_EQ(st.rows, 1);
    windows_free(w.w);
}

/* Steady state: windows held stay bounded by retention over a long stream, memory too. */
static void test_bounded(void)
{
    evicted_t ev;
    memset(&ev, 0, sizeof(ev));
    stream_t w = stream(30 * S, 30 * S, 300 * S, NULL, NULL);
    windows_stats_t st;
    size_t max_windows = 0, bytes_at_1000 = 0;
    char eq[16];
    for (int64_t i = 0; i < 200000; i++) {
        snprintf(eq, sizeof(eq), "E%d", (int)(i % 50));
        ASSERT_EQ(stream_add(&w, i * (S / 10), eq, strlen(eq)), 0);
        if (i % 997 == 0) {
            windows_stats(w.w, &st);
            if (st.windows > max_windows)
                max_windows = st.windows;
            if (i == 997 * 100)
                bytes_at_1000 = st.bytes;
        }
    }
    windows_stats(w.w, &st);
    ASSERT_LE(max_windows, (30 + 300) / 30 + 2);
    ASSERT_LE(st.bytes, bytes_at_1000 * 2);
    windows_free(w.w);
}

static void test_top_order(void)
{
    stream_t w = stream(30 * S, 1000 * S, 3600 * S, NULL, NULL);
    window_count_t top[16];
    /* window 0: 738 x3, 320 x3, 73 x1, 73H x1; window 30: 738 x3, 319 x5 */
    for (int i = 0; i < 3; i++) {
        stream_add(&w, 1 * S, EQ("738"));
        stream_add(&w, 2 * S, EQ("320"));
        stream_add(&w, 31 * S, EQ("738"));
    }
    for (int i = 0; i < 5; i++)
        stream_add(&w, 32 * S, EQ("319"));
    stream_add(&w, 3 * S, EQ("73"));
    stream_add(&w, 3 * S, EQ("73H"));
    size_t n = windows_top(w.w, 16, top);
    ASSERT_EQ(n, 6);
    ASSERT_MEM_EQ(top[0].equipment, top[0].len, "319");
    ASSERT_EQ(top[0].count, 5);
    ASSERT_EQ(top[0].start_us, 30 * S);
    ASSERT_EQ(top[0].end_us, 60 * S);
    /* count 3: equipment desc ("738" > "320"), then start asc for the two 738s */
    ASSERT_MEM_EQ(top[1].equipment, top[1].len, "738");
    ASSERT_EQ(top[1].start_us, 0);
    ASSERT_MEM_EQ(top[2].equipment, top[2].len, "738");
    ASSERT_EQ(top[2].start_us, 30 * S);
    ASSERT_MEM_EQ(top[3].equipment, top[3].len, "320");
    /* count 1: "73H" > "73" (a prefix sorts first, so last in descending order) */
    ASSERT_MEM_EQ(top[4].equipment, top[4].len, "73H");
    ASSERT_MEM_EQ(top[5].equipment, top[5].len, "73");
    ASSERT_EQ(windows_top(w.w, 2, top), 2);
    ASSERT_MEM_EQ(top[1].equipment, top[1].len, "738");
    ASSERT_EQ(top[1].start_us, 0);
    ASSERT_EQ(windows_top(w.w, 0, top), 0);
    windows_free(w.w);
}

static void test_empty_equipment_and_growth(void)
{
    stream_t w = stream(30 * S, 30 * S, 60 * S, NULL, NULL);
    char eq[32];
    ASSERT_EQ(stream_add(&w, 0, "", 0), 0);
    for (int i = 0; i < 5000; i++) {
        snprintf(eq, sizeof(eq), "equipment-%d", i);
        stream_add(&w, 1, eq, strlen(eq));
        stream_add(&w, 2, eq, strlen(eq));
    }
    ASSERT_EQ(windows_get(w.w, 0, "", 0), 1);
    ASSERT_EQ(windows_get(w.w, 0, EQ("equipment-4999")), 2);
    ASSERT_EQ(windows_get(w.w, 0, EQ("equipment-0")), 2);
    windows_stats_t st;
    windows_stats(w.w, &st);
    ASSERT_EQ(st.rows, 5001);
    windows_free(w.w);
}

static void test_restore(void)
{
    stream_t w = stream(30 * S, 30 * S, 60 * S, NULL, NULL);
    ASSERT_EQ(windows_restore_clock(w.w, true, 70 * S, 7), 0);
    ASSERT_EQ(windows_restore_row(w.w, 60 * S, EQ("A"), 4), 0);
    ASSERT_EQ(windows_restore_row(w.w, 60 * S, EQ("A"), 4), -1); /* repeated */
    ASSERT_EQ(windows_restore_row(w.w, 61 * S, EQ("B"), 4), -1); /* misaligned */
    ASSERT_EQ(windows_restore_row(w.w, 30 * S, EQ("B"), 0), -1); /* zero */
    ASSERT_EQ(windows_restore_row(w.w, INT64_MAX - 15, EQ("B"), 1), -1);
    ASSERT_EQ(windows_restore_clock(w.w, true, INT64_MIN, 0), -1);
    ASSERT_EQ(windows_get(w.w, 60 * S, EQ("A")), 4);
    windows_stats_t st;
    windows_stats(w.w, &st);
    ASSERT_EQ(st.late_events, 7);
    ASSERT_EQ(st.watermark_us, 70 * S);
    windows_free(w.w);
}

/* Hopping windows: 30 s windows every 10 s; an event counts in each of the three that hold it. */
static void test_hopping(void)
{
    evicted_t ev;
    memset(&ev, 0, sizeof(ev));
    windows_t *w = windows_new(30 * S, 10 * S, 0, on_evicted, &ev);
    ASSERT_EQ(windows_start_of(w, 25 * S), 20 * S);
    ASSERT_EQ(windows_add(w, 25 * S, EQ("A"), WINDOWS_NO_WATERMARK), 0);
    ASSERT_EQ(windows_get(w, 0, EQ("A")), 1);       /* [0, 30) */
    ASSERT_EQ(windows_get(w, 10 * S, EQ("A")), 1);  /* [10, 40) */
    ASSERT_EQ(windows_get(w, 20 * S, EQ("A")), 1);  /* [20, 50) */
    ASSERT_EQ(windows_get(w, 30 * S, EQ("A")), 0);  /* starts after the event */
    ASSERT_EQ(windows_get(w, -10 * S, EQ("A")), 0); /* [-10, 20) ends before it */
    ASSERT_EQ(windows_held(w), 3);
    /* At exactly a window's end the event belongs to the next ones only. */
    ASSERT_EQ(windows_add(w, 30 * S, EQ("A"), WINDOWS_NO_WATERMARK), 0);
    ASSERT_EQ(windows_get(w, 0, EQ("A")), 1);
    ASSERT_EQ(windows_get(w, 30 * S, EQ("A")), 1);
    /* A watermark of 40 s closes [0, 30) and [10, 40): an event at 35 s still counts in [20, 50) and [30, 60) but
     * is late (dropped from [10, 40)). */
    windows_advance(w, 40 * S);
    ASSERT_EQ(ev.n, 2); /* retention 0: closed windows go at once, oldest first */
    ASSERT_EQ(ev.start[0], 0);
    ASSERT_EQ(ev.start[1], 10 * S);
    ASSERT_EQ(windows_add(w, 35 * S, EQ("B"), WINDOWS_NO_WATERMARK), 1);
    ASSERT_EQ(windows_get(w, 20 * S, EQ("B")), 1);
    ASSERT_EQ(windows_get(w, 30 * S, EQ("B")), 1);
    windows_stats_t st;
    windows_stats(w, &st);
    ASSERT_EQ(st.late_events, 1);
    /* An event whose every window has closed counts nowhere. */
    ASSERT_EQ(windows_add(w, 5 * S, EQ("C"), WINDOWS_NO_WATERMARK), 1);
    ASSERT_EQ(windows_held(w), 2);
    windows_free(w);
}

/* The event's own watermark (its partition's) drops it from windows the windows' watermark still holds open. */
static void test_event_watermark(void)
{
    windows_t *w = windows_new(30 * S, 30 * S, 3600 * S, NULL, NULL);
    ASSERT_EQ(windows_add(w, 5 * S, EQ("A"), WINDOWS_NO_WATERMARK), 0);
    ASSERT_EQ(windows_add(w, 5 * S, EQ("A"), 30 * S), 1); /* its partition is past [0, 30): late */
    ASSERT_EQ(windows_add(w, 5 * S, EQ("A"), 29 * S), 0); /* another partition is not */
    ASSERT_EQ(windows_get(w, 0, EQ("A")), 2);
    windows_advance(w, 30 * S);
    ASSERT_EQ(windows_add(w, 5 * S, EQ("A"), 10 * S), 1); /* the windows' watermark closed it for everyone */
    int64_t wm;
    ASSERT(windows_watermark(w, &wm));
    ASSERT_EQ(wm, 30 * S);
    ASSERT_EQ(windows_advance(w, 20 * S), false); /* never back */
    ASSERT(windows_watermark(w, &wm) && wm == 30 * S);
    windows_free(w);
}

static void test_info(void)
{
    windows_t *w = windows_new(30 * S, 30 * S, 3600 * S, NULL, NULL);
    windows_add(w, 1 * S, EQ("320"), WINDOWS_NO_WATERMARK);
    windows_add(w, 2 * S, EQ("738"), WINDOWS_NO_WATERMARK);
    windows_add(w, 3 * S, EQ("738"), WINDOWS_NO_WATERMARK);
    windows_add(w, 31 * S, EQ("A"), WINDOWS_NO_WATERMARK);
    windows_add(w, 32 * S, EQ("B"), WINDOWS_NO_WATERMARK);
    ASSERT_EQ(windows_held(w), 2);
    window_info_t info;
    windows_info(w, 0, &info);
    ASSERT_EQ(info.start_us, 0);
    ASSERT_EQ(info.end_us, 30 * S);
    ASSERT_EQ(info.equipment, 2);
    ASSERT_EQ(info.events, 3);
    ASSERT_MEM_EQ(info.top.key, info.top.len, "738");
    ASSERT_EQ(info.top.count, 2);
    windows_info(w, 1, &info);
    ASSERT_MEM_EQ(info.top.key, info.top.len, "B"); /* a tie: byte order descending, as windows_top */
    windows_free(w);
}

int main(void)
{
    RUN_TEST(test_defaults);
    RUN_TEST(test_boundaries);
    RUN_TEST(test_negative_and_epoch);
    RUN_TEST(test_grace);
    RUN_TEST(test_zero_grace);
    RUN_TEST(test_eviction);
    RUN_TEST(test_bounded);
    RUN_TEST(test_top_order);
    RUN_TEST(test_empty_equipment_and_growth);
    RUN_TEST(test_restore);
    RUN_TEST(test_hopping);
    RUN_TEST(test_event_watermark);
    RUN_TEST(test_info);
    return 0;
}
