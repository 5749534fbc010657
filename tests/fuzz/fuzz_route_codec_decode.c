/*
 * route_codec_decode on arbitrary bytes (what query-service gets from Kafka). The decoder is strict
 * (minimal varints, no trailing bytes), so whatever it accepts must re-encode to exactly the input.
 * The datetime then goes through timestamp_parse_event as query-service does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "route_codec.h"
#include "timestamp.h"

static route_codec_t *codec;
static buf_t out = BUF_INIT;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Freed at exit: avro-c keeps some schema memory in a form LeakSanitizer cannot trace while alive. */
static void cleanup(void)
{
    route_codec_free(codec);
    buf_free(&out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char errstr[256];
    (void)argc, (void)argv;
    if ((codec = route_codec_new(errstr, sizeof(errstr))) == NULL) {
        fprintf(stderr, "%s\n", errstr);
        abort();
    }
    atexit(cleanup);
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    char errstr[256];
    route_event_t ev;
    int64_t us;

    if (route_codec_decode(codec, data, size, &ev, errstr, sizeof(errstr)) != ROUTE_CODEC_OK)
        return 0;
    buf_reset(&out);
    if (route_codec_encode(codec, &ev, &out, errstr, sizeof(errstr)) != ROUTE_CODEC_OK)
        abort();
    if (out.len != size || memcmp(out.data, data, size) != 0)
        abort();
    if (timestamp_parse_event(ev.datetime.ptr, ev.datetime.len, &us) == 0) {
        char text[TIMESTAMP_EVENT_LEN + 1], http[TIMESTAMP_HTTP_LEN + 1];
        timestamp_format_event(us, text);
        timestamp_format_http(us, http);
        /* whole seconds survive parse -> format */
        if (memcmp(text, ev.datetime.ptr, TIMESTAMP_WINDOW_LEN) != 0)
            abort();
    }
    return 0;
}
