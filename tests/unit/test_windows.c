/* windows: tumbling event-time windows, watermark, grace, late events, retention and eviction, top-N order. */
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

static void test_defaults(void)
{
    windows_t *w = windows_new(0, -1, -1, NULL, NULL);
    ASSERT_EQ(windows_size_us(w), 30 * S);
    ASSERT_EQ(windows_grace_us(w), 30 * S);
    ASSERT_EQ(windows_retention_us(w), 3600 * S);
    windows_free(w);
}

static void test_boundaries(void)
{
    windows_t *w = windows_new(30 * S, 1000 * S, 3600 * S, NULL, NULL);
    ASSERT_EQ(windows_add(w, 60 * S, EQ("738")), 0);          /* first instant of [60, 90) */
    ASSERT_EQ(windows_add(w, 90 * S - 1, EQ("738")), 0);      /* last instant of [60, 90) */
    ASSERT_EQ(windows_add(w, 90 * S, EQ("738")), 0);          /* exactly start + size: the next window */
    ASSERT_EQ(windows_get(w, 60 * S, EQ("738")), 2);
    ASSERT_EQ(windows_get(w, 90 * S, EQ("738")), 1);
    ASSERT_EQ(windows_start_of(w, 89 * S), 60 * S);
    windows_free(w);
}

static void test_negative_and_epoch(void)
{
    windows_t *w = windows_new(30 * S, 1000 * S, 3600 * S, NULL, NULL);
    ASSERT_EQ(windows_start_of(w, 0), 0);
    ASSERT_EQ(windows_start_of(w, -1), -30 * S); /* floor, not truncation */
    ASSERT_EQ(windows_start_of(w, -30 * S), -30 * S);
    ASSERT_EQ(windows_start_of(w, -30 * S - 1), -60 * S);
    ASSERT_EQ(windows_add(w, -1, EQ("320")), 0);
    ASSERT_EQ(windows_add(w, 0, EQ("320")), 0);
    ASSERT_EQ(windows_get(w, -30 * S, EQ("320")), 1);
    ASSERT_EQ(windows_get(w, 0, EQ("320")), 1);
    windows_free(w);
}

/* Window [0, 30): accepted while max < 30 + grace, late once max >= 30 + grace. */
static void test_grace(void)
{
    windows_t *w = windows_new(30 * S, 10 * S, 3600 * S, NULL, NULL);
    windows_stats_t st;
    ASSERT_EQ(windows_add(w, 5 * S, EQ("A")), 0);
    ASSERT_EQ(windows_add(w, 40 * S - 1, EQ("B")), 0); /* watermark 30 s - 1 us: [0, 30) still open */
    windows_stats(w, &st);
    ASSERT_EQ(st.watermark_us, 30 * S - 1);
    ASSERT_EQ(st.open, 2);
    ASSERT_EQ(windows_add(w, 29 * S, EQ("A")), 0); /* within grace: counted */
    ASSERT_EQ(windows_get(w, 0, EQ("A")), 2);
    ASSERT_EQ(windows_add(w, 40 * S, EQ("B")), 0); /* watermark exactly 30 s = end of [0, 30): closed */
    windows_stats(w, &st);
    ASSERT_EQ(st.closed, 1);
    ASSERT_EQ(st.open, 1);
    ASSERT_EQ(windows_add(w, 29 * S, EQ("A")), 1); /* late: counted as such and dropped */
    ASSERT_EQ(windows_add(w, 0, EQ("C")), 1);
    ASSERT_EQ(windows_get(w, 0, EQ("A")), 2);
    ASSERT_EQ(windows_get(w, 0, EQ("C")), 0);
    windows_stats(w, &st);
    ASSERT_EQ(st.late_events, 2);
    ASSERT_EQ(st.rows, 2);
    /* A late event never moves the watermark, and an event in a still open window is fine. */
    ASSERT_EQ(windows_add(w, 30 * S, EQ("B")), 0);
    windows_free(w);
}

static void test_zero_grace(void)
{
    windows_t *w = windows_new(30 * S, 0, 3600 * S, NULL, NULL);
    ASSERT_EQ(windows_add(w, 29 * S, EQ("A")), 0);
    ASSERT_EQ(windows_add(w, 30 * S, EQ("A")), 0); /* watermark 30: [0, 30) closed */
    ASSERT_EQ(windows_add(w, 29 * S, EQ("A")), 1);
    windows_free(w);
}

/* Retention: [0, 30) is evicted once watermark >= 30 + retention, rows reported once each. */
static void test_eviction(void)
{
    evicted_t ev;
    memset(&ev, 0, sizeof(ev));
    windows_t *w = windows_new(30 * S, 30 * S, 60 * S, on_evicted, &ev);
    windows_stats_t st;
    windows_add(w, 1 * S, EQ("738"));
    windows_add(w, 2 * S, EQ("320"));
    windows_add(w, 3 * S, EQ("738"));
    windows_add(w, 31 * S, EQ("320"));
    windows_add(w, 119 * S, EQ("X")); /* watermark 89: [0, 30) closed, not yet evicted (needs 90) */
    ASSERT_EQ(ev.n, 0);
    windows_stats(w, &st);
    ASSERT_EQ(st.windows, 3);
    ASSERT_EQ(st.closed, 2);
    ASSERT_EQ(windows_add(w, 100 * S, EQ("X")), 0); /* no new max: no eviction */
    ASSERT_EQ(ev.n, 0);
    windows_add(w, 120 * S, EQ("X")); /* watermark 90 = 30 + 60: evict [0, 30) */
    ASSERT_EQ(ev.n, 2);
    ASSERT_EQ(ev.start[0], 0);
    ASSERT_EQ(ev.end[0], 30 * S);
    ASSERT_STR_EQ(ev.eq[0], "738"); /* first-seen order */
    ASSERT_EQ(ev.count[0], 2);
    ASSERT_STR_EQ(ev.eq[1], "320");
    ASSERT_EQ(ev.count[1], 1);
    windows_stats(w, &st);
    ASSERT_EQ(st.windows, 3); /* [30,60) [90,120) [120,150) */
    ASSERT_EQ(st.rows, 3);
    ASSERT_EQ(windows_get(w, 0, EQ("738")), 0);
    /* An event for an evicted window is late (its window closed long ago), never resurrects it. */
    ASSERT_EQ(windows_add(w, 1 * S, EQ("738")), 1);
    /* A jump far ahead evicts everything older at once, each row exactly once. */
    windows_add(w, 10000 * S, EQ("Y"));
    ASSERT_EQ(ev.n, 2 + 3);
    windows_stats(w, &st);
    ASSERT_EQ(st.windows, 1);
    ASSERT_EQ(st.rows, 1);
    windows_free(w);
}

/* Steady state: windows held stay bounded by retention over a long stream, memory too. */
static void test_bounded(void)
{
    evicted_t ev;
    memset(&ev, 0, sizeof(ev));
    windows_t *w = windows_new(30 * S, 30 * S, 300 * S, NULL, NULL);
    windows_stats_t st;
    size_t max_windows = 0, bytes_at_1000 = 0;
    char eq[16];
    for (int64_t i = 0; i < 200000; i++) {
        snprintf(eq, sizeof(eq), "E%d", (int)(i % 50));
        ASSERT_EQ(windows_add(w, i * (S / 10), eq, strlen(eq)), 0);
        if (i % 997 == 0) {
            windows_stats(w, &st);
            if (st.windows > max_windows)
                max_windows = st.windows;
            if (i == 997 * 100)
                bytes_at_1000 = st.bytes;
        }
    }
    windows_stats(w, &st);
    ASSERT_LE(max_windows, (30 + 300) / 30 + 2);
    ASSERT_LE(st.bytes, bytes_at_1000 * 2);
    windows_free(w);
}

static void test_top_order(void)
{
    windows_t *w = windows_new(30 * S, 1000 * S, 3600 * S, NULL, NULL);
    window_count_t top[16];
    /* window 0: 738 x3, 320 x3, 73 x1, 73H x1; window 30: 738 x3, 319 x5 */
    for (int i = 0; i < 3; i++) {
        windows_add(w, 1 * S, EQ("738"));
        windows_add(w, 2 * S, EQ("320"));
        windows_add(w, 31 * S, EQ("738"));
    }
    for (int i = 0; i < 5; i++)
        windows_add(w, 32 * S, EQ("319"));
    windows_add(w, 3 * S, EQ("73"));
    windows_add(w, 3 * S, EQ("73H"));
    size_t n = windows_top(w, 16, top);
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
    ASSERT_EQ(windows_top(w, 2, top), 2);
    ASSERT_MEM_EQ(top[1].equipment, top[1].len, "738");
    ASSERT_EQ(top[1].start_us, 0);
    ASSERT_EQ(windows_top(w, 0, top), 0);
    windows_free(w);
}

static void test_empty_equipment_and_growth(void)
{
    windows_t *w = windows_new(30 * S, 30 * S, 60 * S, NULL, NULL);
    char eq[32];
    ASSERT_EQ(windows_add(w, 0, "", 0), 0);
    for (int i = 0; i < 5000; i++) {
        snprintf(eq, sizeof(eq), "equipment-%d", i);
        windows_add(w, 1, eq, strlen(eq));
        windows_add(w, 2, eq, strlen(eq));
    }
    ASSERT_EQ(windows_get(w, 0, "", 0), 1);
    ASSERT_EQ(windows_get(w, 0, EQ("equipment-4999")), 2);
    ASSERT_EQ(windows_get(w, 0, EQ("equipment-0")), 2);
    windows_stats_t st;
    windows_stats(w, &st);
    ASSERT_EQ(st.rows, 5001);
    windows_free(w);
}

static void test_restore(void)
{
    windows_t *w = windows_new(30 * S, 30 * S, 60 * S, NULL, NULL);
    ASSERT_EQ(windows_restore_clock(w, true, 100 * S, 7), 0);
    ASSERT_EQ(windows_restore_row(w, 60 * S, EQ("A"), 4), 0);
    ASSERT_EQ(windows_restore_row(w, 60 * S, EQ("A"), 4), -1); /* repeated */
    ASSERT_EQ(windows_restore_row(w, 61 * S, EQ("B"), 4), -1); /* misaligned */
    ASSERT_EQ(windows_restore_row(w, 30 * S, EQ("B"), 0), -1); /* zero */
    ASSERT_EQ(windows_restore_row(w, INT64_MAX - 15, EQ("B"), 1), -1);
    ASSERT_EQ(windows_restore_clock(w, true, INT64_MIN, 0), -1);
    ASSERT_EQ(windows_get(w, 60 * S, EQ("A")), 4);
    windows_stats_t st;
    windows_stats(w, &st);
    ASSERT_EQ(st.late_events, 7);
    ASSERT_EQ(st.watermark_us, 70 * S);
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
    return 0;
}
