/* counted: counting, top-N order and ties (both key orders), n beyond the size, growth, first-seen order, clear. */
#include "test.h"

#include "query-service/counted.h"

#define K(s) (s), strlen(s)

static void test_add_get(void)
{
    counted_t *ac = counted_new(4);
    ASSERT_EQ(counted_add(ac, K("ATL"), 1), 1);
    ASSERT_EQ(counted_add(ac, K("ATL"), 2), 3);
    ASSERT_EQ(counted_add(ac, "", 0, 1), 1);
    ASSERT_EQ(counted_get(ac, K("ATL")), 3);
    ASSERT_EQ(counted_get(ac, K("AT")), 0);
    ASSERT_EQ(counted_get(ac, "", 0), 1);
    ASSERT_EQ(counted_size(ac), 2);
    ASSERT_EQ(counted_total(ac), 4);
    counted_free(ac);
}

static void test_top_ties(void)
{
    counted_t *ac = counted_new(4);
    counted_entry_t top[10];
    counted_add(ac, K("ORD"), 5);
    counted_add(ac, K("ATL"), 9);
    counted_add(ac, K("PEK"), 5);
    counted_add(ac, K("LHR"), 5);
    counted_add(ac, K("LH"), 5);
    counted_add(ac, K("ZZZ"), 1);
    size_t n = counted_top(ac, 10, COUNTED_KEY_ASC, top); /* n larger than the size */
    ASSERT_EQ(n, 6);
    ASSERT_MEM_EQ(top[0].key, top[0].len, "ATL");
    ASSERT_EQ(top[0].count, 9);
    ASSERT_MEM_EQ(top[1].key, top[1].len, "LH"); /* ties by airport ascending, a prefix first */
    ASSERT_MEM_EQ(top[2].key, top[2].len, "LHR");
    ASSERT_MEM_EQ(top[3].key, top[3].len, "ORD");
    ASSERT_MEM_EQ(top[4].key, top[4].len, "PEK");
    ASSERT_MEM_EQ(top[5].key, top[5].len, "ZZZ");
    n = counted_top(ac, 3, COUNTED_KEY_ASC, top);
    ASSERT_EQ(n, 3);
    ASSERT_MEM_EQ(top[2].key, top[2].len, "LHR");
    ASSERT_EQ(counted_top(ac, 0, COUNTED_KEY_ASC, top), 0);
    /* Ties by key descending (the windows' order). */
    n = counted_top(ac, 10, COUNTED_KEY_DESC, top);
    ASSERT_EQ(n, 6);
    ASSERT_MEM_EQ(top[0].key, top[0].len, "ATL");
    ASSERT_MEM_EQ(top[1].key, top[1].len, "PEK");
    ASSERT_MEM_EQ(top[2].key, top[2].len, "ORD");
    ASSERT_MEM_EQ(top[3].key, top[3].len, "LHR");
    ASSERT_MEM_EQ(top[4].key, top[4].len, "LH"); /* descending: a prefix after its extensions */
    ASSERT_MEM_EQ(top[5].key, top[5].len, "ZZZ");
    counted_free(ac);
}

/* Cleared, a table counts afresh in its memory; first-seen order starts over. */
static void test_clear(void)
{
    counted_t *c = counted_new(2);
    for (int i = 0; i < 100; i++) {
        char key[8];
        snprintf(key, sizeof(key), "E%d", i);
        counted_add(c, key, strlen(key), (uint64_t)i + 1);
    }
    size_t bytes = counted_bytes(c);
    counted_clear(c);
    ASSERT_EQ(counted_size(c), 0);
    ASSERT_EQ(counted_total(c), 0);
    ASSERT_EQ(counted_get(c, K("E5")), 0);
    ASSERT_EQ(counted_add(c, K("B"), 2), 2);
    ASSERT_EQ(counted_add(c, K("A"), 1), 1);
    ASSERT_MEM_EQ(counted_at(c, 0).key, counted_at(c, 0).len, "B");
    ASSERT_EQ(counted_at(c, 1).count, 1);
    ASSERT_EQ(counted_bytes(c), bytes);
    counted_free(c);
}

static void test_empty(void)
{
    counted_t *ac = counted_new(4);
    counted_entry_t top[3];
    ASSERT_EQ(counted_top(ac, 3, COUNTED_KEY_ASC, top), 0);
    counted_free(ac);
}

static int cmp_count_desc(const void *a, const void *b)
{
    const counted_entry_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, m);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

typedef struct collect_s {
    counted_entry_t *all;
    size_t n;
} collect_t;


/* Many keys with many ties: top-N equals a full sort, for several n. */
static void test_top_matches_sort(void)
{
    counted_t *ac = counted_new(4);
    char key[16];
    uint64_t seed = 42;
    for (int i = 0; i < 100000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(key, sizeof(key), "K%u", (unsigned)(seed >> 33) % 5000);
        counted_add(ac, key, strlen(key), 1);
    }
    size_t size = counted_size(ac);
    ASSERT_LE(size, 5000);
    collect_t c = {calloc(size, sizeof(counted_entry_t)), 0};
    for (size_t i = 0; i < size; i++)
        c.all[c.n++] = counted_at(ac, i);
    ASSERT_EQ(c.n, size);
    ASSERT_MEM_EQ(c.all[0].key, c.all[0].len, "K334"); /* first-seen order; seeded, deterministic */
    qsort(c.all, c.n, sizeof(*c.all), cmp_count_desc);
    counted_entry_t *top = calloc(size + 5, sizeof(*top));
    size_t ns[] = {1, 10, 1000, size, size + 5};
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        size_t n = counted_top(ac, ns[k], COUNTED_KEY_ASC, top);
        ASSERT_EQ(n, ns[k] < size ? ns[k] : size);
        for (size_t i = 0; i < n; i++) {
            ASSERT_EQ(top[i].count, c.all[i].count);
            ASSERT(top[i].len == c.all[i].len && memcmp(top[i].key, c.all[i].key, top[i].len) == 0);
        }
    }
    ASSERT_EQ(counted_total(ac), 100000);
    free(top);
    free(c.all);
    counted_free(ac);
}

int main(void)
{
    RUN_TEST(test_add_get);
    RUN_TEST(test_top_ties);
    RUN_TEST(test_empty);
    RUN_TEST(test_clear);
    RUN_TEST(test_top_matches_sort);
    return 0;
}
