/* tables: an entry per code, replaced by a later message, deleted by a tombstone, invalid values skipped (the entry
 * left as it was), coordinates kept as published, growth past the initial size, a table cleared. */
#include "test.h"

#include "query-service/tables.h"

#define S(s) (s), strlen(s)

static void test_apply_replace_delete(void)
{
    tables_t *t = tables_new();
    uint64_t v0 = tables_version(t);
    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("ATL"),
                           S("{\"city\":\"Atlanta\",\"country\":\"United States\",\"latitude\":33.6367,"
                             "\"longitude\":-84.428101,\"name\":\"Hartsfield\"}")),
              0);
    const table_entry_t *e = tables_get(t, REFERENCE_AIRPORTS, S("ATL"));
    ASSERT(e != NULL);
    ASSERT_STR_EQ(e->name, "Hartsfield");
    ASSERT_STR_EQ(e->country, "United States");
    ASSERT(e->has_position);
    ASSERT_STR_EQ(e->latitude_text, "33.6367");
    ASSERT_STR_EQ(e->longitude_text, "-84.428101");
    ASSERT(tables_version(t) != v0);
    ASSERT(tables_get(t, REFERENCE_AIRLINES, S("ATL")) == NULL); /* tables are apart */

    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("ATL"), S("{\"name\":\"Corrected\",\"city\":null}")), 0);
    e = tables_get(t, REFERENCE_AIRPORTS, S("ATL"));
    ASSERT_STR_EQ(e->name, "Corrected");
    ASSERT(e->city == NULL);
    ASSERT(!e->has_position);

    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("ATL"), S("[1,2]")), -1);
    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("ATL"), S("{\"name\":5}")), -1);
    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("ATL"), S("{\"name\":\"x\"} trailing")), -1);
    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, NULL, 0, S("{\"name\":\"keyless\"}")), -1);
    ASSERT_STR_EQ(tables_get(t, REFERENCE_AIRPORTS, S("ATL"))->name, "Corrected"); /* left as it was */

    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("ATL"), NULL, 0), 0);
    ASSERT(tables_get(t, REFERENCE_AIRPORTS, S("ATL")) == NULL);
    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("ATL"), S("{\"name\":\"Back\"}")), 0);
    ASSERT_STR_EQ(tables_get(t, REFERENCE_AIRPORTS, S("ATL"))->name, "Back");

    tables_stats_t st;
    tables_stats(t, REFERENCE_AIRPORTS, &st);
    ASSERT_EQ(st.entries, 1);
    ASSERT_EQ(st.messages, 8);
    ASSERT_EQ(st.tombstones, 1);
    ASSERT_EQ(st.invalid, 4);
    tables_free(t);
}

static void test_out_of_range_position(void)
{
    tables_t *t = tables_new();
    ASSERT_EQ(tables_apply(t, REFERENCE_AIRPORTS, S("XXX"), S("{\"latitude\":91,\"longitude\":0}")), 0);
    ASSERT(!tables_get(t, REFERENCE_AIRPORTS, S("XXX"))->has_position);
    tables_free(t);
}

static void test_growth(void)
{
    tables_t *t = tables_new();
    char code[16];
    for (int i = 0; i < 20000; i++) {
        snprintf(code, sizeof(code), "C%d", i);
        ASSERT_EQ(tables_apply(t, REFERENCE_PLANES, S(code), S("{\"name\":\"p\"}")), 0);
    }
    for (int i = 0; i < 20000; i += 997) {
        snprintf(code, sizeof(code), "C%d", i);
        ASSERT(tables_get(t, REFERENCE_PLANES, S(code)) != NULL);
    }
    ASSERT(tables_get(t, REFERENCE_PLANES, S("C20000")) == NULL);
    tables_stats_t st;
    tables_stats(t, REFERENCE_PLANES, &st);
    ASSERT_EQ(st.entries, 20000);
    tables_free(t);
}

/* A topic created again: the table starts over, its counts too, the other tables untouched. */
static void test_clear(void)
{
    tables_t *t = tables_new();
    char code[16];
    for (int i = 0; i < 3000; i++) {
        snprintf(code, sizeof(code), "C%d", i);
        ASSERT_EQ(tables_apply(t, REFERENCE_AIRLINES, S(code), S("{\"name\":\"a\"}")), 0);
    }
    ASSERT_EQ(tables_apply(t, REFERENCE_PLANES, S("320"), S("{\"name\":\"A320\"}")), 0);
    uint64_t v = tables_version(t);
    tables_clear(t, REFERENCE_AIRLINES);
    ASSERT(tables_version(t) != v);
    ASSERT(tables_get(t, REFERENCE_AIRLINES, S("C0")) == NULL);
    tables_stats_t st;
    tables_stats(t, REFERENCE_AIRLINES, &st);
    ASSERT_EQ(st.entries, 0);
    ASSERT_EQ(st.messages, 0);
    ASSERT_STR_EQ(tables_get(t, REFERENCE_PLANES, S("320"))->name, "A320");
    ASSERT_EQ(tables_apply(t, REFERENCE_AIRLINES, S("C7"), S("{\"name\":\"again\"}")), 0);
    ASSERT_STR_EQ(tables_get(t, REFERENCE_AIRLINES, S("C7"))->name, "again");
    tables_stats(t, REFERENCE_AIRLINES, &st);
    ASSERT_EQ(st.entries, 1);
    tables_free(t);
}

int main(void)
{
    RUN_TEST(test_apply_replace_delete);
    RUN_TEST(test_out_of_range_position);
    RUN_TEST(test_growth);
    RUN_TEST(test_clear);
    return 0;
}
