#include "replay_batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "timestamp.h"

replay_batch_t *replay_batch_new(route_codec_t *codec, void *owner)
{
    replay_batch_t *b = xcalloc(1, sizeof(*b));
    b->codec = codec;
    b->owner = owner;
    return b;
}

void replay_batch_free(replay_batch_t *b)
{
    if (b == NULL)
        return;
    buf_free(&b->bytes);
    free(b);
}

/* A rejected line keeps its bytes and its reason, for the dead-letter topic and the error log. */
static void batch_keep_rejected(replay_batch_t *b, replay_batch_line_t *l, const char *reason)
{
    l->off = b->bytes.len;
    l->size = l->len;
    buf_append(&b->bytes, l->ptr, l->len);
    l->reason_off = b->bytes.len;
    buf_append(&b->bytes, reason, strlen(reason) + 1);
}

void replay_batch_prepare(replay_batch_t *b)
{
    char errstr[256];
    buf_reset(&b->bytes);
    for (size_t i = 0; i < b->n; i++) {
        replay_batch_line_t *l = &b->lines[i];
        route_event_t ev;
        route_event_status_t st = ROUTE_EVENT_TRANSFORM_FAILED;
        if (l->too_long)
            snprintf(errstr, sizeof(errstr), "line %llu is longer than %d bytes", (unsigned long long)l->line_no,
                     REPLAY_LINE_MAX_BYTES);
        else
            st = route_event_parse(l->ptr, l->len, &ev, errstr, sizeof(errstr));
        if (st == ROUTE_EVENT_OK) {
            route_codec_placeholder_stamp(&ev); /* the real stamp is set when it is produced */
            l->off = b->bytes.len;
            if (route_codec_encode(b->codec, &ev, &b->bytes, errstr, sizeof(errstr)) != ROUTE_CODEC_OK) {
                st = ROUTE_EVENT_SCHEMA_INVALID;
            } else {
                l->size = b->bytes.len - l->off;
                l->key_off = b->bytes.len;
                l->key_len = ev.source_airport.len;
                buf_append(&b->bytes, ev.source_airport.ptr, ev.source_airport.len);
            }
        }
        l->status = st;
        if (st != ROUTE_EVENT_OK)
            batch_keep_rejected(b, l, errstr);
    }
}

size_t replay_batch_stamp_run(replay_batch_t *b, size_t from, replay_clock_t *clock, producer_event_t *events)
{
    char *bytes = b->bytes.data;
    size_t n = 0;
    for (size_t i = from; i < b->n && b->lines[i].status == ROUTE_EVENT_OK; i++, n++) {
        const replay_batch_line_t *l = &b->lines[i];
        /* One clock read per 16 events (~20 us apart): per event it was a tenth of the gateway's CPU. */
        if ((clock->uses++ & 15) == 0)
            clock->now_us = timestamp_now_us();
        route_event_t stamp;
        route_event_stamp(&stamp, clock->now_us);
        route_codec_restamp(bytes + l->off, stamp.id_buf, stamp.datetime_buf);
        events[n] = (producer_event_t){bytes + l->key_off, l->key_len, bytes + l->off, l->size};
    }
    return n;
}
