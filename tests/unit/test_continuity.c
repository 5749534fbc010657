/* continuity: a partition resumes only where the state stands, and only if it is still the same partition. */
#include "test.h"

#include "query-service/continuity.h"

static char why[256];

static continuity_verdict_t msg(continuity_t *c, const position_t *pos, int64_t offset, uint64_t fp)
{
    why[0] = '\0';
    return continuity_message(c, pos, offset, fp, why, sizeof(why));
}

static void test_never_read(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 0, .fingerprint = 0, .skipped = 0};
    ASSERT_EQ(continuity_start(&c, &pos), CONTINUITY_BEGINNING);
    ASSERT_EQ(c.phase, CONTINUITY_FIRST);
    ASSERT_EQ(msg(&c, &pos, 0, 7), CONTINUITY_APPLY);
    ASSERT_EQ(c.phase, CONTINUITY_RUNNING);
    pos.next_offset = 1;
    ASSERT_EQ(msg(&c, &pos, 1, 8), CONTINUITY_APPLY);
}

/* The beginning of a topic whose first offsets retention deleted: skipped, reported, then applied. */
static void test_beginning_deleted(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 0, .fingerprint = 0, .skipped = 0};
    continuity_start(&c, &pos);
    ASSERT_EQ(msg(&c, &pos, 500, 7), CONTINUITY_SKIP);
    ASSERT_EQ(c.phase, CONTINUITY_RUNNING);
}

static void test_resume_checked(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 100, .fingerprint = 0xfeed, .skipped = 0};
    ASSERT_EQ(continuity_start(&c, &pos), 99);
    ASSERT_EQ(c.phase, CONTINUITY_VERIFY);
    ASSERT_EQ(msg(&c, &pos, 98, 1), CONTINUITY_DROP); /* fetched before the seek */
    ASSERT_EQ(c.phase, CONTINUITY_VERIFY);
    ASSERT_EQ(msg(&c, &pos, 99, 0xfeed), CONTINUITY_DROP); /* the message applied last: not again */
    ASSERT_EQ(c.phase, CONTINUITY_RUNNING);
    ASSERT_EQ(msg(&c, &pos, 100, 5), CONTINUITY_APPLY);
}

/* A topic deleted and created again, already longer than the state: the message there is another one. */
static void test_other_message_at_the_position(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 100, .fingerprint = 0xfeed, .skipped = 0};
    continuity_start(&c, &pos);
    ASSERT_EQ(msg(&c, &pos, 99, 0xbeef), CONTINUITY_RESET);
    ASSERT(strstr(why, "offset 99") != NULL && strstr(why, "deleted and created again") != NULL);
}

/* ... shorter than the state: its end is before the position (EOF), or the offset asked for is out of range. */
static void test_partition_ends_before_the_position(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 100, .fingerprint = 0xfeed, .skipped = 0};
    continuity_start(&c, &pos);
    why[0] = '\0';
    ASSERT_EQ(continuity_end(&c, &pos, 99, why, sizeof(why)), CONTINUITY_RESET);
    ASSERT(strstr(why, "ends at offset 99") != NULL);
    ASSERT_EQ(continuity_end(&c, &pos, 100, why, sizeof(why)), CONTINUITY_DROP);
    ASSERT_EQ(continuity_end(&c, &pos, -1, why, sizeof(why)), CONTINUITY_DROP); /* not known */

    int64_t from = -7;
    continuity_out_of_range(&c);
    ASSERT_EQ(c.phase, CONTINUITY_ASKING);
    ASSERT_EQ(msg(&c, &pos, 5, 1), CONTINUITY_DROP); /* nothing reaches the state while asking */
    ASSERT_EQ(continuity_end(&c, &pos, 3, why, sizeof(why)), CONTINUITY_DROP);
    ASSERT_EQ(continuity_range(&c, &pos, 0, 40, &from, why, sizeof(why)), CONTINUITY_RESET);
    ASSERT(strstr(why, "ends at offset 40") != NULL);
}

/* Out of range because retention deleted the position: skip to the first offset held. */
static void test_position_deleted(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 100, .fingerprint = 0xfeed, .skipped = 0};
    continuity_start(&c, &pos);
    continuity_out_of_range(&c);
    int64_t from = -7;
    ASSERT_EQ(continuity_range(&c, &pos, 250, 400, &from, why, sizeof(why)), CONTINUITY_SKIP);
    ASSERT_EQ(from, 250);
    ASSERT_EQ(c.phase, CONTINUITY_RUNNING);
    /* Only the message applied last is gone: read on from the position, unchecked. */
    continuity_start(&c, &pos);
    continuity_out_of_range(&c);
    ASSERT_EQ(continuity_range(&c, &pos, 100, 400, &from, why, sizeof(why)), CONTINUITY_APPLY);
    ASSERT_EQ(from, 100);
}

/* Offsets that go backwards once running (a reset librdkafka did by itself, -X auto.offset.reset=earliest). */
static void test_backwards_while_running(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 0, .fingerprint = 0, .skipped = 0};
    continuity_start(&c, &pos);
    ASSERT_EQ(msg(&c, &pos, 0, 1), CONTINUITY_APPLY);
    pos.next_offset = 5000;
    ASSERT_EQ(msg(&c, &pos, 5000, 1), CONTINUITY_APPLY);
    ASSERT_EQ(msg(&c, &pos, 0, 1), CONTINUITY_RESET);
    ASSERT(strstr(why, "backwards") != NULL);
    /* Gaps (transaction markers, compaction) are not an error. */
    continuity_start(&c, &(position_t){.next_offset = 0, .fingerprint = 0, .skipped = 0});
    ASSERT_EQ(msg(&c, &pos, 5000, 1), CONTINUITY_APPLY);
    ASSERT_EQ(msg(&c, &pos, 5003, 1), CONTINUITY_APPLY);
}

/* The message applied last is gone but what follows is there (compacted away): go on unchecked. */
static void test_checked_message_gone(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 100, .fingerprint = 0xfeed, .skipped = 0};
    continuity_start(&c, &pos);
    ASSERT_EQ(msg(&c, &pos, 100, 3), CONTINUITY_APPLY);
    ASSERT_EQ(c.phase, CONTINUITY_RUNNING);
    continuity_start(&c, &pos);
    ASSERT_EQ(msg(&c, &pos, 104, 3), CONTINUITY_SKIP);
}

/* A state saved without fingerprints (an older release): resumed at the position, unchecked. */
static void test_no_fingerprint(void)
{
    continuity_t c;
    position_t pos = {.next_offset = 100, .fingerprint = 0, .skipped = 0};
    ASSERT_EQ(continuity_start(&c, &pos), 100);
    ASSERT_EQ(c.phase, CONTINUITY_FIRST);
    ASSERT_EQ(msg(&c, &pos, 100, 3), CONTINUITY_APPLY);
}

int main(void)
{
    RUN_TEST(test_never_read);
    RUN_TEST(test_beginning_deleted);
    RUN_TEST(test_resume_checked);
    RUN_TEST(test_other_message_at_the_position);
    RUN_TEST(test_partition_ends_before_the_position);
    RUN_TEST(test_position_deleted);
    RUN_TEST(test_backwards_while_running);
    RUN_TEST(test_checked_message_gone);
    RUN_TEST(test_no_fingerprint);
    return 0;
}
