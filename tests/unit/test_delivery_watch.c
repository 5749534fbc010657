/* delivery_watch: a stall is told once, after stall_after_us of messages waiting with no delivery report, measured
 * from the later of the last report and the first check that saw messages waiting; reports or an empty queue end
 * it; an idle producer (nothing waiting) never stalls, however long since its last report. */
#include "test.h"
#include "ingest-gateway/delivery_watch.h"

#define S INT64_C(1000000) /* us */

static void test_flowing_never_stalls(void)
{
    delivery_watch_t w;
    delivery_watch_init(&w, 10 * S);
    uint64_t reports = 0;
    for (int64_t t = 1; t <= 60; t++) {
        reports += 1000;
        ASSERT_EQ(delivery_watch_check(&w, t * S, 5000, reports), DELIVERY_WATCH_SAME);
    }
    ASSERT_EQ(w.stalls, 0);
}

static void test_idle_then_waiting(void)
{
    delivery_watch_t w;
    delivery_watch_init(&w, 10 * S);
    ASSERT_EQ(delivery_watch_check(&w, 1 * S, 10, 10), DELIVERY_WATCH_SAME);
    /* Idle for an hour: nothing waits, nothing to tell. */
    ASSERT_EQ(delivery_watch_check(&w, 2 * S, 0, 20), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 3600 * S, 0, 20), DELIVERY_WATCH_SAME);
    /* Messages again: the hour of silence before does not count, only the 10 s from the first check seeing them. */
    ASSERT_EQ(delivery_watch_check(&w, 3601 * S, 3, 20), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 3610 * S, 3, 20), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 3611 * S, 3, 20), DELIVERY_WATCH_STALLED);
    ASSERT_EQ(delivery_watch_quiet_for(&w, 3611 * S), 10 * S);
    ASSERT_EQ(w.stalls, 1);
}

static void test_stall_told_once_then_flowing(void)
{
    delivery_watch_t w;
    delivery_watch_init(&w, 10 * S);
    ASSERT_EQ(delivery_watch_check(&w, 1 * S, 100, 50), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 5 * S, 100, 70), DELIVERY_WATCH_SAME); /* last report seen at 5 s */
    ASSERT_EQ(delivery_watch_check(&w, 14 * S, 100, 70), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 15 * S, 100, 70), DELIVERY_WATCH_STALLED);
    for (int64_t t = 16; t < 40; t++)
        ASSERT_EQ(delivery_watch_check(&w, t * S, 100 + (int)t, 70), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 40 * S, 120, 71), DELIVERY_WATCH_FLOWING);
    ASSERT_EQ(delivery_watch_quiet_for(&w, 40 * S), 35 * S);
    ASSERT_EQ(delivery_watch_check(&w, 41 * S, 120, 72), DELIVERY_WATCH_SAME);
    /* A second stall counts from the last report, at 41 s. */
    ASSERT_EQ(delivery_watch_check(&w, 50 * S, 120, 72), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 51 * S, 120, 72), DELIVERY_WATCH_STALLED);
    ASSERT_EQ(w.stalls, 2);
}

static void test_queue_emptied_ends_stall(void)
{
    delivery_watch_t w;
    delivery_watch_init(&w, 2 * S);
    ASSERT_EQ(delivery_watch_check(&w, 1 * S, 1, 0), DELIVERY_WATCH_SAME);
    ASSERT_EQ(delivery_watch_check(&w, 3 * S, 1, 0), DELIVERY_WATCH_STALLED);
    ASSERT_EQ(delivery_watch_check(&w, 4 * S, 0, 0), DELIVERY_WATCH_FLOWING);
    ASSERT_EQ(delivery_watch_check(&w, 60 * S, 0, 0), DELIVERY_WATCH_SAME);
    ASSERT_EQ(w.stalls, 1);
}

int main(void)
{
    RUN_TEST(test_flowing_never_stalls);
    RUN_TEST(test_idle_then_waiting);
    RUN_TEST(test_stall_told_once_then_flowing);
    RUN_TEST(test_queue_emptied_ends_stall);
    return 0;
}
