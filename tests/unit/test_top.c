/* airport_counts: counting, top-N order and ties, n beyond the size, growth, iteration. */
#include "test.h"

#include "query-service/airport_counts.h"

#define K(s) (s), strlen(s)

static void test_add_get(void)
{
    airport_counts_t *ac = airport_counts_new();
    ASSERT_EQ(airport_counts_add(ac, K("ATL"), 1), 1);
    ASSERT_EQ(airport_counts_add(ac, K("ATL"), 2), 3);
    ASSERT_EQ(airport_counts_add(ac, "", 0, 1), 1);
    ASSERT_EQ(airport_counts_get(ac, K("ATL")), 3);
    ASSERT_EQ(airport_counts_get(ac, K("AT")), 0);
    ASSERT_EQ(airport_counts_get(ac, "", 0), 1);
    ASSERT_EQ(airport_counts_size(ac), 2);
    ASSERT_EQ(airport_counts_total(ac), 4);
    airport_counts_free(ac);
}

static void test_top_ties(void)
{
    airport_counts_t *ac = airport_counts_new();
    airport_count_t top[10];
    airport_counts_add(ac, K("ORD"), 5);
    airport_counts_add(ac, K("ATL"), 9);
    airport_counts_add(ac, K("PEK"), 5);
    airport_counts_add(ac, K("LHR"), 5);
    airport_counts_add(ac, K("LH"), 5);
    airport_counts_add(ac, K("ZZZ"), 1);
    size_t n = airport_counts_top(ac, 10, top); /* n larger than the size */
    ASSERT_EQ(n, 6);
    ASSERT_MEM_EQ(top[0].airport, top[0].len, "ATL");
    ASSERT_EQ(top[0].count, 9);
    ASSERT_MEM_EQ(top[1].airport, top[1].len, "LH"); /* ties by airport ascending, a prefix first */
    ASSERT_MEM_EQ(top[2].airport, top[2].len, "LHR");
    ASSERT_MEM_EQ(top[3].airport, top[3].len, "ORD");
    ASSERT_MEM_EQ(top[4].airport, top[4].len, "PEK");
    ASSERT_MEM_EQ(top[5].airport, top[5].len, "ZZZ");
    n = airport_counts_top(ac, 3, top);
    ASSERT_EQ(n, 3);
    ASSERT_MEM_EQ(top[2].airport, top[2].len, "LHR");
    ASSERT_EQ(airport_counts_top(ac, 0, top), 0);
    airport_counts_free(ac);
}

static void test_empty(void)
{
    airport_counts_t *ac = airport_counts_new();
    airport_count_t top[3];
    ASSERT_EQ(airport_counts_top(ac, 3, top), 0);
    airport_counts_free(ac);
}

static int cmp_count_desc(const void *a, const void *b)
{
    const airport_count_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->airport, y->airport, m);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

typedef struct collect_s {
    airport_count_t *all;
    size_t n;
} collect_t;

static void collect(void *data, const char *airport, size_t len, uint64_t count)
{
    collect_t *c = data;
    c->all[c->n++] = (airport_count_t){airport, len, count};
}

/* Many keys with many ties: top-N equals a full sort, for several n. */
static void test_top_matches_sort(void)
{
    airport_counts_t *ac = airport_counts_new();
    char key[16];
    uint64_t seed = 42;
    for (int i = 0; i < 100000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(key, sizeof(key), "K%u", (unsigned)(seed >> 33) % 5000);
        airport_counts_add(ac, key, strlen(key), 1);
    }
    size_t size = airport_counts_size(ac);
    ASSERT_LE(size, 5000);
    collect_t c = {calloc(size, sizeof(airport_count_t)), 0};
    airport_counts_foreach(ac, collect, &c);
    ASSERT_EQ(c.n, size);
    ASSERT_MEM_EQ(c.all[0].airport, c.all[0].len, "K334"); /* first-seen order; seeded, deterministic */
    qsort(c.all, c.n, sizeof(*c.all), cmp_count_desc);
    airport_count_t *top = calloc(size + 5, sizeof(*top));
    size_t ns[] = {1, 10, 1000, size, size + 5};
    for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
        size_t n = airport_counts_top(ac, ns[k], top);
        ASSERT_EQ(n, ns[k] < size ? ns[k] : size);
        for (size_t i = 0; i < n; i++) {
            ASSERT_EQ(top[i].count, c.all[i].count);
            ASSERT(top[i].len == c.all[i].len && memcmp(top[i].airport, c.all[i].airport, top[i].len) == 0);
        }
    }
    ASSERT_EQ(airport_counts_total(ac), 100000);
    free(top);
    free(c.all);
    airport_counts_free(ac);
}

int main(void)
{
    RUN_TEST(test_add_get);
    RUN_TEST(test_top_ties);
    RUN_TEST(test_empty);
    RUN_TEST(test_top_matches_sort);
    return 0;
}
