/*
 * http_cache: entity tags, and If-None-Match lists matched by the weak comparison (RFC 9110 13.1.2 and 8.8.3).
 */
#include "http_cache.h"
#include "test.h"

#define S(s) s, sizeof(s) - 1

static void test_format(void)
{
    char etag[HTTP_ETAG_MAX];
    http_etag_format(etag, 0x942b4ff2d79f1bd0ULL, 0x110de, 0);
    ASSERT_STR_EQ(etag, "W/\"942b4ff2d79f1bd0-110de-0\"");
    /* The longest tag fits. */
    http_etag_format(etag, UINT64_MAX, UINT64_MAX, UINT64_MAX);
    ASSERT_STR_EQ(etag, "W/\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"");
    ASSERT_EQ(strlen(etag) + 1, HTTP_ETAG_MAX);
}

static void test_listed(void)
{
    const char *tag = "W/\"a-1-0\"";
    ASSERT(http_etag_listed(S("W/\"a-1-0\""), tag));
    /* Weak comparison: W/ on either side does not matter. */
    ASSERT(http_etag_listed(S("\"a-1-0\""), tag));
    ASSERT(http_etag_listed(S("W/\"x\""), "\"x\""));
    /* Lists, with optional whitespace and empty members. */
    ASSERT(http_etag_listed(S("\"b\", W/\"a-1-0\""), tag));
    ASSERT(http_etag_listed(S("\"b\",W/\"a-1-0\" ,\"c\""), tag));
    ASSERT(http_etag_listed(S(" , ,\t\"a-1-0\"\t"), tag));
    /* "*" matches any current representation, also beside other members. */
    ASSERT(http_etag_listed(S("*"), tag));
    ASSERT(http_etag_listed(S("*, \"b\""), tag));
    ASSERT(http_etag_listed(S("\"b\", *"), tag));
    /* A comma inside a tag is part of it, not a separator. */
    ASSERT(http_etag_listed(S("\"x,y\", \"a-1-0\""), tag));
    ASSERT(http_etag_listed(S("\"x,y\""), "W/\"x,y\""));
    ASSERT(!http_etag_listed(S("\"x,y\""), "\"x\""));
    /* Different tags, prefixes and suffixes of it. */
    ASSERT(!http_etag_listed(S("W/\"a-1-1\""), tag));
    ASSERT(!http_etag_listed(S("\"a-1-\""), tag));
    ASSERT(!http_etag_listed(S("\"a-1-00\""), tag));
    ASSERT(!http_etag_listed(S(""), tag));
    /* Malformed members match nothing, and do not hide the well-formed ones after them. */
    ASSERT(!http_etag_listed(S("a-1-0"), tag));
    ASSERT(!http_etag_listed(S("W/a-1-0"), tag));
    ASSERT(!http_etag_listed(S("\"a-1-0"), tag));
    ASSERT(!http_etag_listed(S("\"a-1-0\"junk"), tag));
    ASSERT(!http_etag_listed(S("w/\"a-1-0\""), tag));
    ASSERT(!http_etag_listed(S("**"), tag));
    ASSERT(http_etag_listed(S("bogus, \"a-1-0\""), tag));
    /* Only if_none_match[0..len) is read. */
    ASSERT(!http_etag_listed("\"a-1-0\"", 6, tag));
    /* A malformed tag of our own matches nothing. */
    ASSERT(!http_etag_listed(S("*"), "a-1-0"));
}

int main(void)
{
    RUN_TEST(test_format);
    RUN_TEST(test_listed);
    return 0;
}
