/*
 * query_string: lookup, percent/plus decoding, malformed input, integer and boolean parameters, name checks.
 */
#include "query_string.h"
#include "test.h"

#define QS(s) s, sizeof(s) - 1

static void test_get(void)
{
    char out[64];
    ASSERT_EQ(query_string_get(QS("rate=100&limit=5&loop"), "limit", out, sizeof(out)), 1);
    ASSERT_STR_EQ(out, "5");
    ASSERT_EQ(query_string_get(QS("rate=100&limit=5&loop"), "rate", out, sizeof(out)), 3);
    ASSERT_STR_EQ(out, "100");
    ASSERT_EQ(query_string_get(QS("rate=100&limit=5&loop"), "loop", out, sizeof(out)), 0);
    ASSERT_STR_EQ(out, "");
    ASSERT_EQ(query_string_get(QS("loop="), "loop", out, sizeof(out)), 0);
    ASSERT_EQ(query_string_get(QS("rate=100"), "limit", out, sizeof(out)), -1);
    ASSERT_EQ(query_string_get(QS(""), "limit", out, sizeof(out)), -1);
    ASSERT_EQ(query_string_get(QS("limitx=1&xlimit=2"), "limit", out, sizeof(out)), -1);
    /* The first occurrence wins; empty segments are skipped. */
    ASSERT_EQ(query_string_get(QS("&&a=1&&a=2&"), "a", out, sizeof(out)), 1);
    ASSERT_STR_EQ(out, "1");
    /* Decoding of values and names. */
    ASSERT_EQ(query_string_get(QS("q=a+b%20c%2Bd%3d%e2%82%AC"), "q", out, sizeof(out)), 11);
    ASSERT_STR_EQ(out, "a b c+d=\xe2\x82\xac");
    ASSERT_EQ(query_string_get(QS("my%20name=v"), "my name", out, sizeof(out)), 1);
    ASSERT_EQ(query_string_get(QS("a=x=y"), "a", out, sizeof(out)), 3);
    ASSERT_STR_EQ(out, "x=y");
    /* Only qs[0..len) is read. */
    ASSERT_EQ(query_string_get("a=123&b=4", 4, "a", out, sizeof(out)), 2);
    ASSERT_STR_EQ(out, "12");
    ASSERT_EQ(query_string_get("a=123&b=4", 4, "b", out, sizeof(out)), -1);
}

static void test_get_malformed(void)
{
    char out[8];
    ASSERT_EQ(query_string_get(QS("a=%"), "a", out, sizeof(out)), -2);
    ASSERT_EQ(query_string_get(QS("a=%4"), "a", out, sizeof(out)), -2);
    ASSERT_EQ(query_string_get(QS("a=%zz"), "a", out, sizeof(out)), -2);
    ASSERT_EQ(query_string_get(QS("a=x%00y"), "a", out, sizeof(out)), -2);
    ASSERT_EQ(query_string_get(QS("a=1234567"), "a", out, sizeof(out)), 7); /* fits with its NUL */
    ASSERT_EQ(query_string_get(QS("a=12345678"), "a", out, sizeof(out)), -2);
    ASSERT_EQ(query_string_get(QS("a=1"), "a", out, 0), -2);
    ASSERT_EQ(query_string_get(QS("a="), "a", out, 1), 0);
    /* A malformed name is just not a match. */
    ASSERT_EQ(query_string_get(QS("%zz=1&a=2"), "a", out, sizeof(out)), 1);
    ASSERT_STR_EQ(out, "2");
}

static void test_get_long(void)
{
    char err[128];
    long v = 7;
    ASSERT_EQ(query_string_get_long(QS("x=1"), "rate", 1, 100, &v, err, sizeof(err)), 0);
    ASSERT_EQ(v, 7); /* absent: default kept */
    ASSERT_EQ(query_string_get_long(QS("rate=42"), "rate", 1, 100, &v, err, sizeof(err)), 0);
    ASSERT_EQ(v, 42);
    ASSERT_EQ(query_string_get_long(QS("rate=-5"), "rate", -10, 100, &v, err, sizeof(err)), 0);
    ASSERT_EQ(v, -5);
    static const char *const bad[] = {"rate=0", "rate=101", "rate=", "rate", "rate=1x", "rate=abc", "rate=%zz",
                                      "rate=99999999999999999999999", "rate=1.5"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 7;
        err[0] = '\0';
        ASSERT_EQ(query_string_get_long(bad[i], strlen(bad[i]), "rate", 1, 100, &v, err, sizeof(err)), -1);
        ASSERT_STR_EQ(err, "parameter 'rate' must be an integer from 1 to 100");
        ASSERT_EQ(v, 7);
    }
}

static void test_get_bool(void)
{
    char err[128];
    bool b = false;
    ASSERT_EQ(query_string_get_bool(QS("x"), "loop", &b, err, sizeof(err)), 0);
    ASSERT(!b);
    static const char *const yes[] = {"loop", "loop=", "loop=1", "loop=true", "loop=YES", "loop=on"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        b = false;
        ASSERT_EQ(query_string_get_bool(yes[i], strlen(yes[i]), "loop", &b, err, sizeof(err)), 0);
        ASSERT(b);
    }
    static const char *const no[] = {"loop=0", "loop=false", "loop=No", "loop=off"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        b = true;
        ASSERT_EQ(query_string_get_bool(no[i], strlen(no[i]), "loop", &b, err, sizeof(err)), 0);
        ASSERT(!b);
    }
    b = true;
    ASSERT_EQ(query_string_get_bool(QS("loop=maybe"), "loop", &b, err, sizeof(err)), -1);
    ASSERT(strstr(err, "'loop'") != NULL);
    ASSERT(b);
    ASSERT_EQ(query_string_get_bool(QS("loop=truetruetruetrue"), "loop", &b, err, sizeof(err)), -1);
}

static void test_check_names(void)
{
    char err[256];
    static const char *const allowed[] = {"rate", "limit", "loop", NULL};
    ASSERT_EQ(query_string_check_names(QS(""), allowed, err, sizeof(err)), 0);
    ASSERT_EQ(query_string_check_names(QS("rate=1&limit=2&loop&&"), allowed, err, sizeof(err)), 0);
    ASSERT_EQ(query_string_check_names(QS("r%61te=1"), allowed, err, sizeof(err)), 0);
    ASSERT_EQ(query_string_check_names(QS("rate=1&bogus=2"), allowed, err, sizeof(err)), -1);
    ASSERT_STR_EQ(err, "unknown parameter 'bogus'; this endpoint takes: rate, limit, loop");
    ASSERT_EQ(query_string_check_names(QS("=1"), allowed, err, sizeof(err)), -1);
    static const char *const none[] = {NULL};
    ASSERT_EQ(query_string_check_names(QS("a"), none, err, sizeof(err)), -1);
    /* A tiny errstr is truncated, not overrun. */
    char small[8];
    ASSERT_EQ(query_string_check_names(QS("bogus=2"), allowed, small, sizeof(small)), -1);
    ASSERT_EQ(strlen(small), 7);
}

int main(void)
{
    RUN_TEST(test_get);
    RUN_TEST(test_get_malformed);
    RUN_TEST(test_get_long);
    RUN_TEST(test_get_bool);
    RUN_TEST(test_check_names);
    return 0;
}
