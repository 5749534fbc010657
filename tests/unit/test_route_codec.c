#include <avro.h>

#include "route_codec.h"
#include "route_schema.h"
#include "test.h"

static char err[256];

#define SEED_ID "d89ac153-e415-472f-8fd8-785c8491395d"
#define SEED_TIME "2021-05-04 09:58:32.123456"
#define HEADER "\xc3\x01\xc3\x67\x3a\x72\xac\xbf\x0d\x9a" /* C3 01, fingerprint 0x9a0dbfac723a67c3 LE */

/*
 * The seed's first dump_table row, encoded by hand from the Avro spec: a string is its byte length
 * as a zigzag varint, then the bytes; an int is a zigzag varint; a boolean one byte.
 * Double-checked by decoding it with python3-avro's BinaryDecoder.
 */
static const char seed_bytes[] = HEADER
    "\x48" SEED_ID     /* 36 -> zigzag 72 */
    "\x34" SEED_TIME   /* 26 -> 52 */
    "\x04" "2B"
    "\xb4\x06"         /* 410 -> 820 = 0b110_0110100 */
    "\x06" "AER"
    "\xaa\x2e"         /* 2965 -> 5930 */
    "\x06" "KZN"
    "\xdc\x2e"         /* 2990 -> 5980 */
    "\x00"             /* codeshare false */
    "\x00"             /* stops 0 */
    "\x06" "CR2";

/* Negative and extreme ints, a multi-byte UTF-8 string, empty strings, codeshare true. */
static const char edge_bytes[] = HEADER
    "\x48" "00000000-0000-4000-8000-000000000000"
    "\x34" "1970-01-01 00:00:00.000000"
    "\x00"                 /* airline "" */
    "\x01"                 /* -1 */
    "\x0e" "Z\xc3\xbcrich" /* 7 bytes */
    "\xfe\xff\xff\xff\x0f" /* INT32_MAX -> 0xfffffffe */
    "\x02" "X"
    "\xff\xff\xff\xff\x0f" /* INT32_MIN -> 0xffffffff */
    "\x01"                 /* codeshare true */
    "\x80\x01"             /* 64 -> 128 */
    "\x00";                /* equipment "" */

static route_event_t seed_event(void)
{
    route_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.id = (str_slice_t){SEED_ID, 36};
    ev.datetime = (str_slice_t){SEED_TIME, 26};
    ev.airline = (str_slice_t){"2B", 2};
    ev.airline_id = 410;
    ev.source_airport = (str_slice_t){"AER", 3};
    ev.source_airport_id = 2965;
    ev.destination_airport = (str_slice_t){"KZN", 3};
    ev.destination_airport_id = 2990;
    ev.codeshare = false;
    ev.stops = 0;
    ev.equipment = (str_slice_t){"CR2", 3};
    return ev;
}

static route_event_t edge_event(void)
{
    route_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.id = (str_slice_t){"00000000-0000-4000-8000-000000000000", 36};
    ev.datetime = (str_slice_t){"1970-01-01 00:00:00.000000", 26};
    ev.airline = (str_slice_t){"", 0};
    ev.airline_id = -1;
    ev.source_airport = (str_slice_t){"Z\xc3\xbcrich", 7};
    ev.source_airport_id = INT32_MAX;
    ev.destination_airport = (str_slice_t){"X", 1};
    ev.destination_airport_id = INT32_MIN;
    ev.codeshare = true;
    ev.stops = 64;
    ev.equipment = (str_slice_t){NULL, 0};
    return ev;
}

static void assert_same_event(const route_event_t *a, const route_event_t *b)
{
    const str_slice_t *sa[] = {&a->id, &a->datetime, &a->airline, &a->source_airport, &a->destination_airport, &a->equipment};
    const str_slice_t *sb[] = {&b->id, &b->datetime, &b->airline, &b->source_airport, &b->destination_airport, &b->equipment};
    for (int i = 0; i < 6; i++) {
        ASSERT_EQ(sa[i]->len, sb[i]->len);
        ASSERT(sa[i]->len == 0 || memcmp(sa[i]->ptr, sb[i]->ptr, sa[i]->len) == 0);
    }
    ASSERT_EQ(a->airline_id, b->airline_id);
    ASSERT_EQ(a->source_airport_id, b->source_airport_id);
    ASSERT_EQ(a->destination_airport_id, b->destination_airport_id);
    ASSERT_EQ(a->codeshare, b->codeshare);
    ASSERT_EQ(a->stops, b->stops);
}

static void assert_bytes(const buf_t *b, const char *expect, size_t len)
{
    ASSERT_EQ(b->len, len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)b->data[i] != (unsigned char)expect[i])
            TEST_FAIL_("byte %zu: 0x%02x, expected 0x%02x", i, (unsigned char)b->data[i], (unsigned char)expect[i]);
    ASSERT_EQ(b->data[b->len], '\0');
}

static void test_encode_fixed_vectors(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    ASSERT(c != NULL);
    buf_t out = BUF_INIT;
    route_event_t ev = seed_event();
    ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_OK);
    assert_bytes(&out, seed_bytes, sizeof(seed_bytes) - 1);

    buf_reset(&out);
    ev = edge_event();
    ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_OK);
    assert_bytes(&out, edge_bytes, sizeof(edge_bytes) - 1);
    buf_free(&out);
    route_codec_free(c);
}

static void test_header_is_fingerprint(void)
{
    uint64_t fp = route_schema_fingerprint();
    for (int i = 0; i < 8; i++)
        ASSERT_EQ((unsigned char)seed_bytes[2 + i], (unsigned char)(fp >> (8 * i)));
}

static void test_decode_fixed_vectors(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    route_event_t got, want = seed_event();
    ASSERT_EQ(route_codec_decode(c, seed_bytes, sizeof(seed_bytes) - 1, &got, err, sizeof(err)), ROUTE_CODEC_OK);
    assert_same_event(&got, &want);
    /* id and datetime are slices into the input */
    ASSERT(got.id.ptr == seed_bytes + 11);
    ASSERT(got.datetime.ptr == seed_bytes + 11 + 36 + 1);
    want = edge_event();
    ASSERT_EQ(route_codec_decode(c, edge_bytes, sizeof(edge_bytes) - 1, &got, err, sizeof(err)), ROUTE_CODEC_OK);
    assert_same_event(&got, &want);
    route_codec_free(c);
}


/*
 * The reference the codec's encoder is held to: avro-c's own writer, through its generic values on the schema it
 * parsed, and the single-object header. Only here: the codec writes the record itself.
 */
typedef struct avro_ref_s {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t record;
} avro_ref_t;

static void avro_ref_init(avro_ref_t *r)
{
    ASSERT_EQ(avro_schema_from_json_length(route_schema_json, strlen(route_schema_json), &r->schema), 0);
    r->iface = avro_generic_class_from_schema(r->schema);
    ASSERT(r->iface != NULL);
    ASSERT_EQ(avro_generic_value_new(r->iface, &r->record), 0);
}

static void avro_ref_free(avro_ref_t *r)
{
    avro_value_decref(&r->record);
    avro_value_iface_decref(r->iface);
    avro_schema_decref(r->schema);
}

static void avro_ref_encode(avro_ref_t *r, const route_event_t *ev, buf_t *out)
{
    const struct {
        const char *name;
        const str_slice_t *s;
    } strs[] = {{"id", &ev->id},
                {"datetime", &ev->datetime},
                {"airline", &ev->airline},
                {"source_airport", &ev->source_airport},
                {"destination_airport", &ev->destination_airport},
                {"equipment", &ev->equipment}};
    const struct {
        const char *name;
        int64_t v;
    } ints[] = {{"airline_id", ev->airline_id},
                {"source_airport_id", ev->source_airport_id},
                {"destination_airport_id", ev->destination_airport_id},
                {"stops", ev->stops}};
    avro_value_t field;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        /* avro-c takes a string with its NUL (len + 1 bytes): a slice has none, so it goes through a copy. */
        char *copy = malloc(strs[i].s->len + 1);
        ASSERT(copy != NULL);
        if (strs[i].s->len > 0)
            memcpy(copy, strs[i].s->ptr, strs[i].s->len);
        copy[strs[i].s->len] = '\0';
        ASSERT_EQ(avro_value_get_by_name(&r->record, strs[i].name, &field, NULL), 0);
        ASSERT_EQ(avro_value_set_string_len(&field, copy, strs[i].s->len + 1), 0);
        free(copy);
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        ASSERT_EQ(avro_value_get_by_name(&r->record, ints[i].name, &field, NULL), 0);
        ASSERT_EQ(avro_value_set_int(&field, (int32_t)ints[i].v), 0);
    }
    ASSERT_EQ(avro_value_get_by_name(&r->record, "codeshare", &field, NULL), 0);
    ASSERT_EQ(avro_value_set_boolean(&field, ev->codeshare), 0);
    size_t size;
    ASSERT_EQ(avro_value_sizeof(&r->record, &size), 0);
    buf_reset(out);
    buf_reserve(out, ROUTE_CODEC_HEADER_LEN + size);
    uint64_t fp = route_schema_fingerprint();
    out->data[0] = (char)0xC3;
    out->data[1] = 0x01;
    for (int i = 0; i < 8; i++)
        out->data[2 + i] = (char)(fp >> (8 * i));
    avro_writer_t w = avro_writer_memory(out->data + ROUTE_CODEC_HEADER_LEN, (int64_t)size);
    ASSERT_EQ(avro_value_write(w, &r->record), 0);
    out->len = ROUTE_CODEC_HEADER_LEN + (size_t)avro_writer_tell(w);
    avro_writer_free(w);
}

static void assert_same_bytes(const buf_t *got, const buf_t *want)
{
    ASSERT_EQ(got->len, want->len);
    for (size_t i = 0; i < got->len; i++)
        if (got->data[i] != want->data[i])
            TEST_FAIL_("byte %zu of %zu: 0x%02x, avro-c wrote 0x%02x", i, got->len, (unsigned char)got->data[i],
                       (unsigned char)want->data[i]);
}

/* The codec's bytes are avro-c's, on the seed's row, the edge cases and strings whose lengths take 2 and 3 bytes. */
static void test_encode_equals_avro_c(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    avro_ref_t ref;
    avro_ref_init(&ref);
    buf_t ours = BUF_INIT, theirs = BUF_INIT;
    char *s = malloc(70000);
    memset(s, 'e', 70000);
    route_event_t evs[] = {seed_event(), edge_event(), seed_event(), seed_event()};
    evs[2].equipment = (str_slice_t){s, 64};
    evs[3].airline = (str_slice_t){s, 8192};
    evs[3].equipment = (str_slice_t){s, 70000};
    evs[3].stops = -65;
    for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
        buf_reset(&ours);
        ASSERT_EQ(route_codec_encode(c, &evs[i], &ours, err, sizeof(err)), ROUTE_CODEC_OK);
        avro_ref_encode(&ref, &evs[i], &theirs);
        assert_same_bytes(&ours, &theirs);
    }
    free(s);
    buf_free(&ours);
    buf_free(&theirs);
    avro_ref_free(&ref);
    route_codec_free(c);
}

static void test_encode_appends_and_reuses(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    buf_t out = BUF_INIT;
    buf_append(&out, "prefix", 6);
    route_event_t ev = seed_event();
    for (int i = 0; i < 3; i++)
        ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_OK);
    size_t n = sizeof(seed_bytes) - 1;
    ASSERT_EQ(out.len, 6 + 3 * n);
    ASSERT(memcmp(out.data, "prefix", 6) == 0);
    for (int i = 0; i < 3; i++)
        ASSERT(memcmp(out.data + 6 + i * n, seed_bytes, n) == 0);
    buf_free(&out);
    route_codec_free(c);
}

static void test_encode_long_strings(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    buf_t out = BUF_INIT;
    size_t big = 100000;
    char *s = malloc(big);
    memset(s, 'x', big);
    route_event_t ev = seed_event(), got;
    ev.equipment = (str_slice_t){s, big};
    ev.airline = (str_slice_t){s, 300};
    ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_OK);
    ASSERT_EQ(route_codec_decode(c, out.data, out.len, &got, err, sizeof(err)), ROUTE_CODEC_OK);
    assert_same_event(&got, &ev);
    free(s);
    buf_free(&out);
    route_codec_free(c);
}

static void test_encode_schema_invalid_leaves_out_unchanged(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    buf_t out = BUF_INIT;
    buf_append(&out, "keep", 4);
    route_event_t ev = seed_event();
    ev.stops = (int64_t)INT32_MAX + 1;
    ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_SCHEMA_INVALID);
    ASSERT(strstr(err, "stops") != NULL);
    ev = seed_event();
    ev.airline_id = (int64_t)INT32_MIN - 1;
    ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_SCHEMA_INVALID);
    ev = seed_event();
    ev.equipment = (str_slice_t){"\xff", 1};
    ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_SCHEMA_INVALID);
    ASSERT(strstr(err, "equipment") != NULL);
    ASSERT_EQ(out.len, 4);
    ASSERT_MEM_EQ(out.data, out.len, "keep");
    buf_free(&out);
    route_codec_free(c);
}

static route_codec_status_t decode_bytes(route_codec_t *c, const void *data, size_t len)
{
    route_event_t ev;
    err[0] = '\0';
    route_codec_status_t st = route_codec_decode(c, data, len, &ev, err, sizeof(err));
    if (st != ROUTE_CODEC_OK && err[0] == '\0')
        TEST_FAIL_("status %d without errstr", (int)st);
    return st;
}

/* seed_bytes with bytes [at, at+cut) replaced by with[0..wlen). */
static size_t splice(char *dst, size_t at, size_t cut, const char *with, size_t wlen)
{
    size_t n = sizeof(seed_bytes) - 1;
    memcpy(dst, seed_bytes, at);
    memcpy(dst + at, with, wlen);
    memcpy(dst + at + wlen, seed_bytes + at + cut, n - at - cut);
    return n - cut + wlen;
}

enum { OFF_ID = 10, OFF_AIRLINE_ID = 10 + 37 + 27 + 3, OFF_CODESHARE = OFF_AIRLINE_ID + 2 + 4 + 2 + 4 + 2 };

static void test_decode_errors(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    char m[512];
    size_t n = sizeof(seed_bytes) - 1, len;

    /* the offsets the cases below rely on */
    ASSERT_EQ((unsigned char)seed_bytes[OFF_AIRLINE_ID], 0xb4);
    ASSERT_EQ((unsigned char)seed_bytes[OFF_CODESHARE], 0x00);
    ASSERT_EQ(OFF_CODESHARE + 1 + 1 + 4, n);

    /* marker */
    ASSERT_EQ(decode_bytes(c, "", 0), ROUTE_CODEC_BAD_MARKER);
    ASSERT_EQ(decode_bytes(c, "\xc3", 1), ROUTE_CODEC_BAD_MARKER);
    ASSERT_EQ(decode_bytes(c, seed_bytes, 9), ROUTE_CODEC_BAD_MARKER);
    memcpy(m, seed_bytes, n);
    m[0] = 0x00; /* Confluent wire format magic byte */
    ASSERT_EQ(decode_bytes(c, m, n), ROUTE_CODEC_BAD_MARKER);
    m[0] = (char)0xc3, m[1] = 0x02;
    ASSERT_EQ(decode_bytes(c, m, n), ROUTE_CODEC_BAD_MARKER);
    ASSERT_EQ(decode_bytes(c, "{\"id\": 1}", 9), ROUTE_CODEC_BAD_MARKER);

    /* fingerprint: any bit of it */
    for (int bit = 0; bit < 64; bit++) {
        memcpy(m, seed_bytes, n);
        m[2 + bit / 8] ^= (char)(1 << (bit % 8));
        ASSERT_EQ(decode_bytes(c, m, n), ROUTE_CODEC_BAD_FINGERPRINT);
    }
    ASSERT(strstr(err, "fingerprint") != NULL);

    /* truncation anywhere in the body; just the header is an empty body */
    for (size_t cut = ROUTE_CODEC_HEADER_LEN; cut < n; cut++)
        ASSERT_EQ(decode_bytes(c, seed_bytes, cut), ROUTE_CODEC_BAD_BODY);

    /* trailing bytes */
    memcpy(m, seed_bytes, n);
    m[n] = 0;
    ASSERT_EQ(decode_bytes(c, m, n + 1), ROUTE_CODEC_BAD_BODY);
    ASSERT(strstr(err, "trailing") != NULL);

    /* boolean other than 0/1 */
    for (int v = 2; v < 256; v += 37) {
        memcpy(m, seed_bytes, n);
        m[OFF_CODESHARE] = (char)v;
        ASSERT_EQ(decode_bytes(c, m, n), ROUTE_CODEC_BAD_BODY);
        ASSERT(strstr(err, "codeshare") != NULL);
    }

    /* overlong (non-minimal) varint: 410 as b4 86 00 */
    len = splice(m, OFF_AIRLINE_ID, 2, "\xb4\x86\x00", 3);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_BAD_BODY);
    ASSERT(strstr(err, "airline_id") != NULL);
    /* an int varint of 6 bytes */
    len = splice(m, OFF_AIRLINE_ID, 2, "\x80\x80\x80\x80\x80\x01", 6);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_BAD_BODY);
    /* an int beyond 32 bits: zigzag 2^32 */
    len = splice(m, OFF_AIRLINE_ID, 2, "\x80\x80\x80\x80\x10", 5);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_BAD_BODY);
    ASSERT(strstr(err, "32 bits") != NULL);
    /* the same bytes with 0x0f in the last place are INT32_MIN..MAX: accepted */
    len = splice(m, OFF_AIRLINE_ID, 2, "\xff\xff\xff\xff\x0f", 5);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_OK);

    /* negative string length: zigzag -1 */
    len = splice(m, OFF_ID, 1, "\x01", 1);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_BAD_BODY);
    ASSERT(strstr(err, "negative") != NULL);
    /* a string length past the end */
    len = splice(m, OFF_ID, 1, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_BAD_BODY);
    /* a long varint of 11 bytes */
    len = splice(m, OFF_ID, 1, "\xc8\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_BAD_BODY);
    /* a long beyond 64 bits in the tenth byte */
    len = splice(m, OFF_ID, 1, "\xc8\x80\x80\x80\x80\x80\x80\x80\x80\x02", 10);
    ASSERT_EQ(decode_bytes(c, m, len), ROUTE_CODEC_BAD_BODY);
    /* a string that is not UTF-8 */
    memcpy(m, seed_bytes, n);
    m[OFF_ID + 1] = (char)0xff;
    ASSERT_EQ(decode_bytes(c, m, n), ROUTE_CODEC_BAD_BODY);
    ASSERT(strstr(err, "UTF-8") != NULL);

    /* every single-byte change of the body either decodes or is BAD_BODY, never anything else */
    for (size_t i = ROUTE_CODEC_HEADER_LEN; i < n; i++) {
        for (int v = 0; v < 256; v++) {
            memcpy(m, seed_bytes, n);
            m[i] = (char)v;
            route_codec_status_t st = decode_bytes(c, m, n);
            ASSERT(st == ROUTE_CODEC_OK || st == ROUTE_CODEC_BAD_BODY);
        }
    }
    route_codec_free(c);
}

static void test_status_text(void)
{
    ASSERT_STR_EQ(route_codec_status_text(ROUTE_CODEC_OK), "OK");
    ASSERT(strlen(route_codec_status_text(ROUTE_CODEC_BAD_BODY)) > 0);
    ASSERT(strlen(route_codec_status_text(ROUTE_CODEC_BAD_FINGERPRINT)) > 0);
    ASSERT(strlen(route_codec_status_text(ROUTE_CODEC_BAD_MARKER)) > 0);
    ASSERT(strlen(route_codec_status_text(ROUTE_CODEC_SCHEMA_INVALID)) > 0);
}

/* routes.dat as test_route_event finds it: ROUTES_FILE (relative to the repository too), else /work/shared/data. */
static char *read_routes_file(size_t *len)
{
    char root[4096], path[8192];
    const char *env = getenv("ROUTES_FILE");
    snprintf(root, sizeof(root), "%s", __FILE__);
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(root, '/');
        if (slash != NULL)
            *slash = '\0';
    }
    const char *candidates[3];
    int n = 0;
    if (env != NULL && *env != '\0') {
        candidates[n++] = env;
        if (env[0] != '/') {
            snprintf(path, sizeof(path), "%s/%s", root, env);
            candidates[n++] = path;
        }
    }
    candidates[n++] = "/work/shared/data/routes.dat"; /* the fallback, whether ROUTES_FILE is unset or missing */
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(candidates[i], "rb");
        if (f == NULL)
            continue;
        size_t cap = 1 << 22, got = 0, r;
        char *data = malloc(cap);
        while ((r = fread(data + got, 1, cap - got, f)) > 0) {
            got += r;
            if (got == cap)
                data = realloc(data, cap *= 2);
        }
        fclose(f);
        *len = got;
        return data;
    }
    TEST_FAIL_("routes.dat not found (ROUTES_FILE=%s, nor %s): set ROUTES_FILE to a copy of OpenFlights' routes.dat",
               env ? env : "(unset)", candidates[n - 1]);
    return NULL;
}

/*
 * Every routes.dat event is encoded as avro-c encodes it, and round trips; and encoded ahead with the placeholder
 * stamp, then restamped, it is the same bytes as encoded with its real stamp (what the gateway's batches rely on).
 */
static void test_every_routes_dat_line_round_trips(void)
{
    route_codec_t *c = route_codec_new(err, sizeof(err));
    avro_ref_t ref;
    avro_ref_init(&ref);
    buf_t out = BUF_INIT, early = BUF_INIT, theirs = BUF_INIT;
    size_t len, start = 0, ok = 0;
    char *data = read_routes_file(&len);
    int64_t now = 1620122312000000LL;
    while (start < len) {
        const char *nl = memchr(data + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - data) : len;
        route_event_t ev, got;
        if (route_event_parse(data + start, end - start, &ev, err, sizeof(err)) == ROUTE_EVENT_OK) {
            route_codec_placeholder_stamp(&ev);
            buf_reset(&early);
            ASSERT_EQ(route_codec_encode(c, &ev, &early, err, sizeof(err)), ROUTE_CODEC_OK);
            route_event_stamp(&ev, now += 7919);
            buf_reset(&out);
            ASSERT_EQ(route_codec_encode(c, &ev, &out, err, sizeof(err)), ROUTE_CODEC_OK);
            avro_ref_encode(&ref, &ev, &theirs);
            assert_same_bytes(&out, &theirs);
            ASSERT_EQ(route_codec_decode(c, out.data, out.len, &got, err, sizeof(err)), ROUTE_CODEC_OK);
            assert_same_event(&got, &ev);
            route_codec_restamp(early.data, ev.id.ptr, ev.datetime.ptr);
            ASSERT_EQ(early.len, out.len);
            ASSERT(memcmp(early.data, out.data, out.len) == 0);
            ok++;
        }
        start = end + 1;
    }
    ASSERT_EQ(ok, 66765);
    free(data);
    buf_free(&out);
    buf_free(&early);
    buf_free(&theirs);
    avro_ref_free(&ref);
    route_codec_free(c);
}

int main(void)
{
    RUN_TEST(test_header_is_fingerprint);
    RUN_TEST(test_encode_fixed_vectors);
    RUN_TEST(test_decode_fixed_vectors);
    RUN_TEST(test_encode_equals_avro_c);
    RUN_TEST(test_encode_appends_and_reuses);
    RUN_TEST(test_encode_long_strings);
    RUN_TEST(test_encode_schema_invalid_leaves_out_unchanged);
    RUN_TEST(test_decode_errors);
    RUN_TEST(test_status_text);
    RUN_TEST(test_every_routes_dat_line_round_trips);
    return 0;
}
