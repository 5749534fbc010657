/* positions: where the state stands per partition; the fingerprint tells messages apart. */
#include "test.h"

#include "query-service/positions.h"

static void test_advance_and_skip(void)
{
    positions_t *p = positions_new();
    ASSERT_EQ(positions_count(p), 0);
    ASSERT_EQ(positions_get(p, 3).next_offset, 0);
    positions_advance(p, &(record_id_t){3, 9, 42});
    ASSERT_EQ(positions_count(p), 4);
    position_t pos = positions_get(p, 3);
    ASSERT_EQ(pos.next_offset, 10);
    ASSERT_EQ(pos.fingerprint, 42);
    ASSERT_EQ(positions_get(p, 0).next_offset, 0);
    ASSERT_EQ(positions_skip_to(p, 3, 25), 15);
    ASSERT_EQ(positions_skip_to(p, 0, 4), 4);
    ASSERT_EQ(positions_skipped_total(p), 19);
    ASSERT_EQ(positions_get(p, 3).fingerprint, 0);
    positions_set(p, 3, &(position_t){.next_offset = 7, .fingerprint = 1, .skipped = 2});
    ASSERT_EQ(positions_skipped_total(p), 6); /* 4 of partition 0, 2 now of partition 3 */
    ASSERT_EQ(positions_get(p, -1).next_offset, 0);
    positions_advance(p, &(record_id_t){-1, 9, 42}); /* no partition: ignored */
    ASSERT_EQ(positions_count(p), 4);
    positions_free(p);
}

static void test_fingerprint(void)
{
    const char a[] = "\xc3\x01........\x48" "d89ac153-e415-472f-8fd8-785c8491395d";
    const char b[] = "\xc3\x01........\x48" "d89ac153-e415-472f-8fd8-785c8491395e";
    uint64_t fa = positions_fingerprint(1000, "ATL", 3, a, sizeof(a) - 1);
    ASSERT_NE(fa, 0);
    ASSERT_EQ(positions_fingerprint(1000, "ATL", 3, a, sizeof(a) - 1), fa);
    ASSERT_NE(positions_fingerprint(1000, "ATL", 3, b, sizeof(b) - 1), fa); /* another id */
    ASSERT_NE(positions_fingerprint(1001, "ATL", 3, a, sizeof(a) - 1), fa); /* another time */
    ASSERT_NE(positions_fingerprint(1000, "ATM", 3, a, sizeof(a) - 1), fa); /* another key */
    ASSERT_NE(positions_fingerprint(1000, "ATL", 3, a, sizeof(a) - 2), fa); /* shorter */
    ASSERT_NE(positions_fingerprint(0, NULL, 0, NULL, 0), 0);
}

int main(void)
{
    RUN_TEST(test_advance_and_skip);
    RUN_TEST(test_fingerprint);
    return 0;
}
