/*
 * sse: messages as the event-stream format wants them: fields, data split at line breaks, a blank line after.
 */
#include "sse.h"
#include "test.h"

static void test_message(void)
{
    buf_t out = BUF_INIT;
    sse_append_message(&out, NULL, "7-ab", "{\"a\":1}", 7);
    buf_append_char(&out, '\0');
    ASSERT_STR_EQ(out.data, "id: 7-ab\ndata: {\"a\":1}\n\n");
    buf_reset(&out);
    /* A trailing newline (the envelope's) is dropped; inner ones make more data fields. */
    sse_append_message(&out, "resume", NULL, "x\ny\n", 4);
    buf_append_char(&out, '\0');
    ASSERT_STR_EQ(out.data, "event: resume\ndata: x\ndata: y\n\n");
    buf_reset(&out);
    /* Empty data still makes a data field: the client dispatches an event with empty data. */
    sse_append_message(&out, NULL, NULL, "", 0);
    buf_append_char(&out, '\0');
    ASSERT_STR_EQ(out.data, "data: \n\n");
    buf_reset(&out);
    sse_append_comment(&out, "heartbeat");
    sse_append_retry(&out, 1000);
    buf_append_char(&out, '\0');
    ASSERT_STR_EQ(out.data, ": heartbeat\n\nretry: 1000\n\n");
    buf_free(&out);
}

int main(void)
{
    RUN_TEST(test_message);
    return 0;
}
