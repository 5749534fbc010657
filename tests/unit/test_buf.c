/*
 * buf: growth, printf, detach, and JSON string escaping byte for byte as Python's
 * json.dumps(s.decode("utf-8", "replace")) with ensure_ascii writes it.
 */
#include "buf.h"
#include "test.h"

static void test_append_and_printf(void)
{
    buf_t b = BUF_INIT;
    buf_append(&b, NULL, 0);
    ASSERT(b.data != NULL);
    ASSERT_EQ(b.len, 0);
    ASSERT_STR_EQ(b.data, "");
    buf_append_str(&b, "ab");
    buf_append_char(&b, 'c');
    buf_printf(&b, "-%d-%s", 42, "x");
    ASSERT_STR_EQ(b.data, "abc-42-x");
    ASSERT_EQ(b.len, 8);
    /* printf output larger than the spare room: the second vsnprintf pass. */
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    buf_printf(&b, "%s|", big);
    ASSERT_EQ(b.len, 8 + 999 + 1);
    ASSERT_EQ(b.data[b.len - 1], '|');
    ASSERT_EQ(b.data[b.len], '\0');
    buf_reset(&b);
    ASSERT_EQ(b.len, 0);
    ASSERT_STR_EQ(b.data, "");
    for (int i = 0; i < 100000; i++)
        buf_append_char(&b, (char)('a' + i % 26));
    ASSERT_EQ(b.len, 100000);
    ASSERT(b.cap > b.len);
    size_t len;
    char *p = buf_detach(&b, &len);
    ASSERT_EQ(len, 100000);
    ASSERT_EQ(p[99999], 'a' + 99999 % 26);
    ASSERT(b.data == NULL && b.len == 0 && b.cap == 0);
    free(p);
    p = buf_detach(&b, &len); /* an empty buf detaches as "" */
    ASSERT_EQ(len, 0);
    ASSERT_STR_EQ(p, "");
    free(p);
    buf_free(&b);
}

static void check_json(const char *in, size_t len, const char *expected)
{
    buf_t b = BUF_INIT;
    buf_append_str(&b, "<");
    buf_append_json_string(&b, in, len);
    buf_append_str(&b, ">");
    buf_t want = BUF_INIT;
    buf_printf(&want, "<%s>", expected);
    ASSERT_STR_EQ(b.data, want.data);
    buf_free(&b);
    buf_free(&want);
}

#define CHECK_JSON(lit, expected) check_json(lit, sizeof(lit) - 1, expected)

static void test_json_string_like_python(void)
{
    CHECK_JSON("", "\"\"");
    CHECK_JSON("plain ASCII ~ /", "\"plain ASCII ~ /\"");
    CHECK_JSON("a\"b\\c\n\r\t\b\f\x01\x1f\x7f", "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\"");
    CHECK_JSON("nul\0x", "\"nul\\u0000x\"");
    /* Non-ASCII as \u of the code point, above U+FFFF as a surrogate pair. */
    CHECK_JSON("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "\"\\u00e9\\u20ac\\ud83d\\ude00\"");
    CHECK_JSON("\xf4\x8f\xbf\xbf", "\"\\udbff\\udfff\"");
    /* Invalid UTF-8: one U+FFFD per maximal invalid subpart, as errors="replace". */
    CHECK_JSON("\xe2\x82", "\"\\ufffd\"");
    CHECK_JSON("x\xe2\x82(y", "\"x\\ufffd(y\"");
    CHECK_JSON("\xff\xfe", "\"\\ufffd\\ufffd\"");
    CHECK_JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* an encoded surrogate */
    CHECK_JSON("\xf0\x9f\x98", "\"\\ufffd\"");
    CHECK_JSON("\xc0\xaf", "\"\\ufffd\\ufffd\""); /* overlong */
    CHECK_JSON("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* above U+10FFFF */
    CHECK_JSON("\xc3", "\"\\ufffd\"");
}

static void test_append_integers(void)
{
    buf_t b = BUF_INIT;
    buf_append_u64(&b, 0);
    buf_append_char(&b, ' ');
    buf_append_u64(&b, UINT64_MAX);
    buf_append_char(&b, ' ');
    buf_append_i64(&b, -1);
    buf_append_char(&b, ' ');
    buf_append_i64(&b, INT64_MIN);
    buf_append_char(&b, ' ');
    buf_append_i64(&b, INT64_MAX);
    buf_append_char(&b, ' ');
    buf_append_i64(&b, 1000);
    ASSERT_STR_EQ(b.data, "0 18446744073709551615 -1 -9223372036854775808 9223372036854775807 1000");
    buf_free(&b);
}

int main(void)
{
    RUN_TEST(test_append_and_printf);
    RUN_TEST(test_json_string_like_python);
    RUN_TEST(test_append_integers);
    return 0;
}
