/*
 * replay_batch: prepared lines become encoded events in the batch's own bytes (they outlive the line reader's
 * buffer), rejected lines keep their text and reason, and a run of events ends at a rejected line and gets new
 * stamps each time it is stamped.
 */
#include "ingest-gateway/replay_batch.h"
#include "test.h"

static void add_line(replay_batch_t *b, const char *text, bool too_long)
{
    replay_batch_line_t *l = &b->lines[b->n++];
    *l = (replay_batch_line_t){.ptr = text, .len = strlen(text), .too_long = too_long, .line_no = b->n};
}

static route_event_t decode(route_codec_t *codec, const producer_event_t *e)
{
    route_event_t ev;
    char err[256];
    ASSERT_EQ(route_codec_decode(codec, e->value, e->value_len, &ev, err, sizeof(err)), ROUTE_CODEC_OK);
    return ev;
}

static void test_prepare_stamp_and_reject(void)
{
    char err[256];
    route_codec_t *codec = route_codec_new(err, sizeof(err));
    ASSERT(codec != NULL);
    route_codec_t *reader = route_codec_new(err, sizeof(err));
    ASSERT(reader != NULL);
    replay_batch_t *b = replay_batch_new(codec, NULL);

    /* The lines live in a buffer of their own, as in the line reader: wiped once prepared. */
    char input[4][64] = {"2B,410,AER,2965,KZN,2990,,0,CR2", "2B,410,ASF", "AA,24,ATL,3682,LAX,3484,Y,0,738 321",
                         "XX,1,AAA,1,BBB,2,,0,CR2"};
    add_line(b, input[0], false);
    add_line(b, input[1], false);
    add_line(b, input[2], false);
    add_line(b, input[3], true); /* the line reader cut it: rejected whatever it holds */
    replay_batch_prepare(b);
    memset(input, 'z', sizeof(input));

    ASSERT_EQ(b->lines[0].status, ROUTE_EVENT_OK);
    ASSERT_EQ(b->lines[1].status, ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT_EQ(b->lines[2].status, ROUTE_EVENT_OK);
    ASSERT_EQ(b->lines[3].status, ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT_MEM_EQ(b->bytes.data + b->lines[1].off, b->lines[1].size, "2B,410,ASF");
    ASSERT(strlen(b->bytes.data + b->lines[1].reason_off) > 0);
    ASSERT(strstr(b->bytes.data + b->lines[3].reason_off, "line 4 is longer than 65536 bytes") != NULL);

    replay_clock_t clock = {0};
    producer_event_t events[REPLAY_BATCH_LINES];
    ASSERT_EQ(replay_batch_stamp_run(b, 0, &clock, events), 1); /* ends at the rejected line 2 */
    ASSERT_MEM_EQ(events[0].key, events[0].key_len, "AER");
    route_event_t ev = decode(reader, &events[0]);
    ASSERT_MEM_EQ(ev.source_airport.ptr, ev.source_airport.len, "AER");
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "CR2");
    ASSERT_EQ(ev.airline_id, 410);
    char first_id[ROUTE_EVENT_ID_LEN];
    memcpy(first_id, ev.id.ptr, ROUTE_EVENT_ID_LEN);

    ASSERT_EQ(replay_batch_stamp_run(b, 1, &clock, events), 0);
    ASSERT_EQ(replay_batch_stamp_run(b, 2, &clock, events), 1);
    ev = decode(reader, &events[0]);
    ASSERT_MEM_EQ(ev.source_airport.ptr, ev.source_airport.len, "ATL");
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "738 321");
    ASSERT_EQ(ev.codeshare, true);

    /* Stamped again (the producer took none of it): a new id, so no two messages share one. */
    ASSERT_EQ(replay_batch_stamp_run(b, 0, &clock, events), 1);
    ev = decode(reader, &events[0]);
    ASSERT(memcmp(ev.id.ptr, first_id, ROUTE_EVENT_ID_LEN) != 0);
    ASSERT_EQ(clock.uses, 3); /* one per event stamped */

    replay_batch_free(b);
    route_codec_free(codec);
    route_codec_free(reader);
}

int main(void)
{
    RUN_TEST(test_prepare_stamp_and_reject);
    return 0;
}
