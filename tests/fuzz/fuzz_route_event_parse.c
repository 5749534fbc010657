/*
 * route_event_parse on arbitrary bytes, then validate, encode and decode: whatever parses and
 * validates must round-trip through the codec unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "route_codec.h"
#include "route_event.h"

static route_codec_t *codec;
static buf_t out = BUF_INIT;

static int same(const str_slice_t *a, const str_slice_t *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

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
    route_event_t ev, back;

    if (route_event_parse((const char *)data, size, &ev, errstr, sizeof(errstr)) != ROUTE_EVENT_OK)
        return 0;
    /* A fixed stamp: libuuid per input would only slow the fuzzer down. */
    memcpy(ev.id_buf, "d89ac153-e415-472f-8fd8-785c8491395d", ROUTE_EVENT_ID_LEN + 1);
    memcpy(ev.datetime_buf, "2021-05-04 09:58:32.123456", TIMESTAMP_EVENT_LEN + 1);
    ev.id = (str_slice_t){ev.id_buf, ROUTE_EVENT_ID_LEN};
    ev.datetime = (str_slice_t){ev.datetime_buf, TIMESTAMP_EVENT_LEN};

    route_event_status_t valid = route_event_validate(&ev, errstr, sizeof(errstr));
    buf_reset(&out);
    route_codec_status_t enc = route_codec_encode(codec, &ev, &out, errstr, sizeof(errstr));
    if ((valid == ROUTE_EVENT_OK) != (enc == ROUTE_CODEC_OK))
        abort();
    if (enc != ROUTE_CODEC_OK)
        return 0;
    if (route_codec_decode(codec, out.data, out.len, &back, errstr, sizeof(errstr)) != ROUTE_CODEC_OK)
        abort();
    if (!same(&ev.id, &back.id) || !same(&ev.datetime, &back.datetime) || !same(&ev.airline, &back.airline) ||
        !same(&ev.source_airport, &back.source_airport) || !same(&ev.destination_airport, &back.destination_airport) ||
        !same(&ev.equipment, &back.equipment) || ev.airline_id != back.airline_id ||
        ev.source_airport_id != back.source_airport_id || ev.destination_airport_id != back.destination_airport_id ||
        ev.codeshare != back.codeshare || ev.stops != back.stops)
        abort();
    return 0;
}
