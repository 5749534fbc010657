/* line_reader: lines across reads of any size, the partial line carried over, CRLF, a last line without its
 * newline, a line longer than the limit cut once and its rest skipped (also across reads), empty lines, rewind. */
#include "test.h"
#include "buf.h"
#include "ingest-gateway/line_reader.h"

/* Feeds text to r in reads of at most step bytes; appends every line, "|"-separated, "!" after a cut one. */
static void read_all(line_reader_t *r, const char *text, size_t step, buf_t *out)
{
    size_t at = 0, n = strlen(text);
    for (;;) {
        const char *line;
        size_t len;
        bool too_long;
        line_status_t st = line_reader_next(r, &line, &len, &too_long);
        if (st == LINE_END_OF_FILE)
            return;
        if (st == LINE_NEED_READ) {
            size_t room;
            int64_t offset;
            char *space = line_reader_space(r, &room, &offset);
            ASSERT_EQ((size_t)offset, at);
            size_t k = n - at < step ? n - at : step;
            if (k > room)
                k = room;
            memcpy(space, text + at, k);
            at += k;
            line_reader_filled(r, k);
            continue;
        }
        buf_append(out, line, len);
        buf_append(out, too_long ? "!|" : "|", too_long ? 2 : 1);
    }
}

static void check(const char *text, size_t cap, size_t max_line, const char *want)
{
    static const size_t steps[] = {1, 2, 3, 7, 64, 100000};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        line_reader_t r;
        line_reader_init(&r, cap, max_line);
        buf_t out = BUF_INIT;
        read_all(&r, text, steps[i], &out);
        ASSERT_MEM_EQ(out.len > 0 ? out.data : "", out.len, want); /* nothing appended: no buffer at all */
        buf_free(&out);
        line_reader_free(&r);
    }
}

static void test_lines(void)
{
    check("a,b\nc\n", 16, 8, "a,b|c|");
    check("a\r\nb\r\n", 16, 8, "a|b|");
    check("a\nlast", 16, 8, "a|last|");
    check("a\nlast\r", 16, 8, "a|last|");
    check("\n\nx\n", 16, 8, "||x|");
    check("", 16, 8, "");
}

static void test_long_lines(void)
{
    check("12345678\n123456789\nok\n", 16, 8, "12345678|12345678!|ok|");
    check("123456789abcdefghijklmnop\nok\n", 16, 8, "12345678!|ok|");
    check("123456789abcdefghijklmnop", 16, 8, "12345678!|");
    check("123456789\r\nok", 16, 8, "12345678!|ok|");
}

static void test_rewind(void)
{
    line_reader_t r;
    line_reader_init(&r, 16, 8);
    buf_t out = BUF_INIT;
    read_all(&r, "x\ny\n", 3, &out);
    line_reader_rewind(&r);
    read_all(&r, "x\ny\n", 100, &out);
    ASSERT_MEM_EQ(out.data, out.len, "x|y|x|y|");
    buf_free(&out);
    line_reader_free(&r);
}

int main(void)
{
    RUN_TEST(test_lines);
    RUN_TEST(test_long_lines);
    RUN_TEST(test_rewind);
    return 0;
}
