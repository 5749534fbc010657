#define _GNU_SOURCE /* timegm */
#include <time.h>

#include "test.h"
#include "timestamp.h"

static const int64_t SEED_US = 1620122312123456LL; /* 2021-05-04 09:58:32.123456 UTC */

static void test_format_event(void)
{
    char out[TIMESTAMP_EVENT_LEN + 1];
    timestamp_format_event(SEED_US, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:32.123456");
    ASSERT_EQ(strlen(out), TIMESTAMP_EVENT_LEN);
    timestamp_format_event(0, out);
    ASSERT_STR_EQ(out, "1970-01-01 00:00:00.000000");
    timestamp_format_event(951868799LL * 1000000 + 7, out);
    ASSERT_STR_EQ(out, "2000-02-29 23:59:59.000007");
    timestamp_format_event(253402300799LL * 1000000 + 999999, out);
    ASSERT_STR_EQ(out, "9999-12-31 23:59:59.999999");
}

static void test_format_before_epoch_floors(void)
{
    char out[TIMESTAMP_EVENT_LEN + 1], win[TIMESTAMP_WINDOW_LEN + 1];
    timestamp_format_event(-1, out);
    ASSERT_STR_EQ(out, "1969-12-31 23:59:59.999999");
    timestamp_format_window(-1, win);
    ASSERT_STR_EQ(win, "1969-12-31 23:59:59");
    timestamp_format_event(-86400LL * 1000000, out);
    ASSERT_STR_EQ(out, "1969-12-31 00:00:00.000000");
}

static void test_format_window(void)
{
    char out[TIMESTAMP_WINDOW_LEN + 1];
    timestamp_format_window(SEED_US, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:32");
    ASSERT_EQ(strlen(out), TIMESTAMP_WINDOW_LEN);
    timestamp_format_window(1620122310LL * 1000000, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:30");
}

static void test_format_http(void)
{
    char out[TIMESTAMP_HTTP_LEN + 1];
    timestamp_format_http(SEED_US, out);
    ASSERT_STR_EQ(out, "Tue, 04 May 2021 09:58:32 GMT");
    ASSERT_EQ(strlen(out), TIMESTAMP_HTTP_LEN);
    timestamp_format_http(0, out);
    ASSERT_STR_EQ(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    timestamp_format_http(951868799LL * 1000000, out);
    ASSERT_STR_EQ(out, "Tue, 29 Feb 2000 23:59:59 GMT");
    /* Every weekday and month name, whatever the locale. */
    static const char *const expect[12] = {
        "Sun, 01 Jan 2023", "Wed, 01 Feb 2023", "Wed, 01 Mar 2023", "Sat, 01 Apr 2023",
        "Mon, 01 May 2023", "Thu, 01 Jun 2023", "Sat, 01 Jul 2023", "Tue, 01 Aug 2023",
        "Fri, 01 Sep 2023", "Sun, 01 Oct 2023", "Wed, 01 Nov 2023", "Fri, 01 Dec 2023"};
    for (int m = 0; m < 12; m++) {
        struct tm tm = {.tm_year = 123, .tm_mon = m, .tm_mday = 1};
        timestamp_format_http((int64_t)timegm(&tm) * 1000000, out);
        ASSERT_MEM_EQ(out, 16, expect[m]);
    }
    static const char *const days[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    for (int d = 0; d < 7; d++) {
        struct tm tm = {.tm_year = 123, .tm_mon = 0, .tm_mday = 2 + d}; /* 2023-01-02 was a Monday */
        timestamp_format_http((int64_t)timegm(&tm) * 1000000, out);
        ASSERT_MEM_EQ(out, 3, days[d]);
    }
}

static void test_parse_event(void)
{
    int64_t us = -1;
    const char *s = "2021-05-04 09:58:32.123456";
    ASSERT_EQ(timestamp_parse_event(s, strlen(s), &us), 0);
    ASSERT_EQ(us, SEED_US);

    /* 0..6 fraction digits, or none at all */
    static const struct {
        const char *s;
        int64_t frac;
    } fr[] = {{"2021-05-04 09:58:32", 0},         {"2021-05-04 09:58:32.", 0},
              {"2021-05-04 09:58:32.1", 100000},  {"2021-05-04 09:58:32.12", 120000},
              {"2021-05-04 09:58:32.123", 123000}, {"2021-05-04 09:58:32.00001", 10},
              {"2021-05-04 09:58:32.000001", 1}};
    for (size_t i = 0; i < sizeof(fr) / sizeof(fr[0]); i++) {
        ASSERT_EQ(timestamp_parse_event(fr[i].s, strlen(fr[i].s), &us), 0);
        ASSERT_EQ(us, 1620122312LL * 1000000 + fr[i].frac);
    }
    s = "2000-02-29 23:59:59.5";
    ASSERT_EQ(timestamp_parse_event(s, strlen(s), &us), 0);
    ASSERT_EQ(us, 951868799LL * 1000000 + 500000);
    s = "1969-12-31 23:59:59.999999";
    ASSERT_EQ(timestamp_parse_event(s, strlen(s), &us), 0);
    ASSERT_EQ(us, -1);
}

static void test_parse_uses_len_not_nul(void)
{
    int64_t us;
    const char *s = "2021-05-04 09:58:32.123456789";
    ASSERT_EQ(timestamp_parse_event(s, TIMESTAMP_EVENT_LEN, &us), 0);
    ASSERT_EQ(us, SEED_US);
    ASSERT_EQ(timestamp_parse_event(s, TIMESTAMP_WINDOW_LEN, &us), 0);
    ASSERT_EQ(us, 1620122312LL * 1000000);
}

static void test_parse_rejects_malformed(void)
{
    static const char *const bad[] = {
        "",
        "2021-05-04",
        "2021-05-04 09:58:3",
        "2021-05-04 09:58:32.1234567",
        "2021-05-04T09:58:32.123456",
        "2021/05/04 09:58:32.123456",
        "2021-05-04 09:58:32,123456",
        "2021-05-04 09:58:32.12345a",
        "2021-13-04 09:58:32.123456",
        "2021-00-04 09:58:32.123456",
        "2021-05-00 09:58:32.123456",
        "2021-04-31 09:58:32.123456",
        "2021-02-29 09:58:32.123456",
        "1900-02-29 09:58:32.123456",
        "2021-05-04 24:00:00.000000",
        "2021-05-04 09:60:00.000000",
        "2021-05-04 09:58:60.000000",
        "2021-05-04 09:58:32 123456",
        " 021-05-04 09:58:32.123456",
        "-021-05-04 09:58:32.123456",
        "2021-05-04 +9:58:32.123456",
        "Tue, 04 May 2021 09:58:32 GMT",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t us = 42;
        if (timestamp_parse_event(bad[i], strlen(bad[i]), &us) != -1)
            TEST_FAIL_("accepted \"%s\"", bad[i]);
        ASSERT_EQ(us, 42);
    }
}

/* format -> parse is the identity, checked against libc's timegm over 1970..2200 in uneven steps. */
static void test_round_trip_against_timegm(void)
{
    char out[TIMESTAMP_EVENT_LEN + 1];
    int64_t us = 0, step = 86400LL * 1000000 * 3 + 3723LL * 1000000 + 654321;
    for (int i = 0; i < 30000; i++, us += step) {
        int64_t back;
        timestamp_format_event(us, out);
        ASSERT_EQ(timestamp_parse_event(out, TIMESTAMP_EVENT_LEN, &back), 0);
        ASSERT_EQ(back, us);
        struct tm tm = {0};
        ASSERT(strptime(out, "%Y-%m-%d %H:%M:%S", &tm) != NULL);
        ASSERT_EQ((int64_t)timegm(&tm), us / 1000000);
    }
}

static void test_now(void)
{
    int64_t a = timestamp_now_us(), b = timestamp_now_us();
    ASSERT_GT(a, 1600000000LL * 1000000); /* after 2020 */
    ASSERT_LE(a, b);
    ASSERT_LT(b - a, 1000000);
    ASSERT_LT(b / 1000000 - (int64_t)time(NULL), 2);
}

/* The cached seconds part must never leak across seconds: same second, next, back, and random jumps. */
static void test_format_event_cache(void)
{
    char out[TIMESTAMP_EVENT_LEN + 1];
    timestamp_format_event(SEED_US, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:32.123456");
    timestamp_format_event(SEED_US + 1, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:32.123457");
    timestamp_format_event(SEED_US - 123457, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:31.999999");
    timestamp_format_event(SEED_US + 876544, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:33.000000");
    timestamp_format_event(SEED_US, out);
    ASSERT_STR_EQ(out, "2021-05-04 09:58:32.123456");
    timestamp_format_event(-1, out);
    ASSERT_STR_EQ(out, "1969-12-31 23:59:59.999999");
    timestamp_format_event(0, out);
    ASSERT_STR_EQ(out, "1970-01-01 00:00:00.000000");

    /* Against an uncached reference (gmtime_r per call) over a walk of nearby and far values. */
    uint64_t x = 88172645463325252ULL;
    int64_t us = SEED_US;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        us = (i % 100 == 0) ? (int64_t)(x % 4000000000000000ULL) : us + (int64_t)(x % 700000);
        char ref[64];
        time_t t = (time_t)(us / 1000000);
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(ref, sizeof(ref), "%Y-%m-%d %H:%M:%S", &tm);
        snprintf(ref + n, sizeof(ref) - n, ".%06d", (int)(us % 1000000));
        timestamp_format_event(us, out);
        if (strcmp(out, ref) != 0)
            TEST_FAIL_("us %lld: \"%s\" vs reference \"%s\"", (long long)us, out, ref);
    }
    ASSERT(1);
}

int main(void)
{
    RUN_TEST(test_format_event);
    RUN_TEST(test_format_event_cache);
    RUN_TEST(test_format_before_epoch_floors);
    RUN_TEST(test_format_window);
    RUN_TEST(test_format_http);
    RUN_TEST(test_parse_event);
    RUN_TEST(test_parse_uses_len_not_nul);
    RUN_TEST(test_parse_rejects_malformed);
    RUN_TEST(test_round_trip_against_timegm);
    RUN_TEST(test_now);
    return 0;
}
