#include "route_codec.h"

#include <assert.h>
#include <avro.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "route_schema.h"

/*
 * The encoder is compiled at start from the schema avro-c parsed: one step per record field, in the schema's
 * order, of the schema's type, reading the event's member of the field's name. Encoding then runs the steps
 * over the event, writing Avro's binary encoding straight into the output: no generic value, no copy of the
 * strings (avro-c's own writer, the reference, gives the same bytes: test_route_codec, every routes.dat line).
 */
typedef enum { STEP_STRING, STEP_INT, STEP_BOOLEAN } step_kind_t;

typedef struct step_s {
    step_kind_t kind;
    size_t offset; /* of the member in route_event_t: a str_slice_t, an int64_t (range-checked) or a bool */
} step_t;

#define FIELD_COUNT 11

/* The event's members a field can be bound to. The decoder reads them in this order, so the schema must have
 * it too (route_codec_new checks). */
static const struct {
    const char *name;
    avro_type_t type;
    size_t offset;
} members[FIELD_COUNT] = {
    {"id", AVRO_STRING, offsetof(route_event_t, id)},
    {"datetime", AVRO_STRING, offsetof(route_event_t, datetime)},
    {"airline", AVRO_STRING, offsetof(route_event_t, airline)},
    {"airline_id", AVRO_INT32, offsetof(route_event_t, airline_id)},
    {"source_airport", AVRO_STRING, offsetof(route_event_t, source_airport)},
    {"source_airport_id", AVRO_INT32, offsetof(route_event_t, source_airport_id)},
    {"destination_airport", AVRO_STRING, offsetof(route_event_t, destination_airport)},
    {"destination_airport_id", AVRO_INT32, offsetof(route_event_t, destination_airport_id)},
    {"codeshare", AVRO_BOOLEAN, offsetof(route_event_t, codeshare)},
    {"stops", AVRO_INT32, offsetof(route_event_t, stops)},
    {"equipment", AVRO_STRING, offsetof(route_event_t, equipment)},
};

struct route_codec_s {
    step_t steps[FIELD_COUNT];
    size_t n_steps;
    size_t n_strings; /* string steps, for the encoding's size bound */
    unsigned char header[ROUTE_CODEC_HEADER_LEN];
};

static step_kind_t step_kind(avro_type_t type)
{
    return type == AVRO_STRING ? STEP_STRING : type == AVRO_INT32 ? STEP_INT : STEP_BOOLEAN;
}

/* Compiles schema's fields into c's steps, each bound to the event's member of its name and type. */
static int compile_schema(route_codec_t *c, avro_schema_t schema, char *errstr, size_t errstr_size)
{
    if (!is_avro_record(schema)) {
        snprintf(errstr, errstr_size, "route schema: not a record");
        return -1;
    }
    if (avro_schema_record_size(schema) != FIELD_COUNT) {
        snprintf(errstr, errstr_size, "route schema: %zu fields, expected %d", avro_schema_record_size(schema),
                 FIELD_COUNT);
        return -1;
    }
    for (int i = 0; i < FIELD_COUNT; i++) {
        const char *name = avro_schema_record_field_name(schema, i);
        avro_schema_t type = avro_schema_record_field_get_by_index(schema, i);
        if (name == NULL || strcmp(name, members[i].name) != 0 || type == NULL ||
            avro_typeof(type) != members[i].type) {
            snprintf(errstr, errstr_size, "route schema: field %d is \"%s\" of another type or name, expected \"%s\"",
                     i, name ? name : "?", members[i].name);
            return -1;
        }
        c->steps[i] = (step_t){step_kind(avro_typeof(type)), members[i].offset};
        c->n_strings += c->steps[i].kind == STEP_STRING;
    }
    c->n_steps = FIELD_COUNT;
    return 0;
}

route_codec_t *route_codec_new(char *errstr, size_t errstr_size)
{
    route_codec_t *c = xcalloc(1, sizeof(*c));
    avro_schema_t schema = NULL;
    if (avro_schema_from_json_length(route_schema_json, strlen(route_schema_json), &schema) != 0) {
        snprintf(errstr, errstr_size, "route schema: %s", avro_strerror());
        free(c);
        return NULL;
    }
    int rc = compile_schema(c, schema, errstr, errstr_size);
    avro_schema_decref(schema);
    if (rc != 0) {
        free(c);
        return NULL;
    }
    uint64_t fp = route_schema_fingerprint();
    c->header[0] = 0xC3;
    c->header[1] = 0x01;
    for (int i = 0; i < 8; i++)
        c->header[2 + i] = (unsigned char)(fp >> (8 * i));
    return c;
}

void route_codec_free(route_codec_t *c)
{
    free(c);
}

/* Avro's varint of a zigzag-encoded value: 7 bits a byte, least significant first. @returns the bytes written. */
static size_t put_varint(unsigned char *p, uint64_t zigzag)
{
    size_t n = 0;
    while (zigzag >= 0x80) {
        p[n++] = (unsigned char)(zigzag | 0x80);
        zigzag >>= 7;
    }
    p[n++] = (unsigned char)zigzag;
    return n;
}

/* Where the stamp lies in an encoded event: after the header, each string after its one-byte zigzag length. */
#define STAMP_ID_AT (ROUTE_CODEC_HEADER_LEN + 1)
#define STAMP_DATETIME_AT (STAMP_ID_AT + ROUTE_EVENT_ID_LEN + 1)

void route_codec_placeholder_stamp(route_event_t *ev)
{
    ev->id = (str_slice_t){"00000000-0000-0000-0000-000000000000", ROUTE_EVENT_ID_LEN};
    ev->datetime = (str_slice_t){"1970-01-01 00:00:00.000000", TIMESTAMP_EVENT_LEN};
}

void route_codec_restamp(char *encoded, const char id[ROUTE_EVENT_ID_LEN], const char datetime[TIMESTAMP_EVENT_LEN])
{
    /* The length prefixes say what route_codec_new's schema check guarantees: id, then datetime, fixed lengths. */
    assert((unsigned char)encoded[STAMP_ID_AT - 1] == 2 * ROUTE_EVENT_ID_LEN);
    assert((unsigned char)encoded[STAMP_DATETIME_AT - 1] == 2 * TIMESTAMP_EVENT_LEN);
    memcpy(encoded + STAMP_ID_AT, id, ROUTE_EVENT_ID_LEN);
    memcpy(encoded + STAMP_DATETIME_AT, datetime, TIMESTAMP_EVENT_LEN);
}

route_codec_status_t route_codec_encode(route_codec_t *c, const route_event_t *ev, buf_t *out, char *errstr,
                                        size_t errstr_size)
{
    if (route_event_validate(ev, errstr, errstr_size) != ROUTE_EVENT_OK)
        return ROUTE_CODEC_SCHEMA_INVALID;

    /* Upper bound of the encoding: a long (a string's length) takes at most 10 bytes, an int 5, a boolean 1. */
    size_t bound = ROUTE_CODEC_HEADER_LEN + c->n_steps * 5;
    for (size_t i = 0; i < c->n_steps; i++)
        if (c->steps[i].kind == STEP_STRING)
            bound += 10 + ((const str_slice_t *)((const char *)ev + c->steps[i].offset))->len;
    buf_reserve(out, bound);
    unsigned char *p = (unsigned char *)out->data + out->len;
    memcpy(p, c->header, ROUTE_CODEC_HEADER_LEN);
    p += ROUTE_CODEC_HEADER_LEN;
    for (size_t i = 0; i < c->n_steps; i++) {
        const void *member = (const char *)ev + c->steps[i].offset;
        switch (c->steps[i].kind) {
        case STEP_STRING: {
            const str_slice_t *s = member;
            p += put_varint(p, (uint64_t)s->len << 1);
            if (s->len > 0)
                memcpy(p, s->ptr, s->len);
            p += s->len;
            break;
        }
        case STEP_INT: {
            int32_t v = (int32_t)*(const int64_t *)member; /* in range: validated above */
            p += put_varint(p, (uint32_t)(((uint32_t)v << 1) ^ (uint32_t)(v >> 31)));
            break;
        }
        case STEP_BOOLEAN:
            *p++ = *(const bool *)member ? 1 : 0;
            break;
        }
    }
    out->len = (size_t)((char *)p - out->data);
    out->data[out->len] = '\0';
    return ROUTE_CODEC_OK;
}

/* ---- decoding: the record's Avro binary read by hand, strictly ---- */

typedef struct {
    const unsigned char *p, *end;
    const char *field; /* for error messages */
    char *errstr;
    size_t errstr_size;
} reader_t;

static route_codec_status_t body_error(reader_t *r, const char *what)
{
    snprintf(r->errstr, r->errstr_size, "field %s: %s", r->field, what);
    return ROUTE_CODEC_BAD_BODY;
}

/*
 * A zigzag varint of at most max_bytes bytes (5 for an int, 10 for a long). Besides truncation it
 * rejects non-minimal encodings (a final 0x00 continuation), more bytes than the type allows and
 * bits above the type's width: a message a conforming writer never produces is not decoded.
 */
static route_codec_status_t read_varint(reader_t *r, int max_bytes, int64_t *out)
{
    if (r->p < r->end && *r->p < 0x80) { /* one byte: most ints and every short string length */
        unsigned b = *r->p++;
        *out = (int64_t)(b >> 1) ^ -(int64_t)(b & 1);
        return ROUTE_CODEC_OK;
    }
    uint64_t v = 0;
    for (int i = 0;; i++) {
        if (r->p == r->end)
            return body_error(r, "truncated varint");
        if (i == max_bytes)
            return body_error(r, "varint too long");
        unsigned b = *r->p++;
        if (i == max_bytes - 1) {
            /* The last byte may carry only the bits left of the type's width, and no continuation. */
            unsigned top_bits = max_bytes == 5 ? 32 - 28 : 64 - 63;
            if (b >> top_bits)
                return body_error(r, max_bytes == 5 ? "int outside 32 bits" : "long outside 64 bits");
        }
        v |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return body_error(r, "overlong varint");
            break;
        }
    }
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return ROUTE_CODEC_OK;
}

static route_codec_status_t read_int(reader_t *r, const char *field, int64_t *out)
{
    r->field = field;
    return read_varint(r, 5, out);
}

static route_codec_status_t read_string(reader_t *r, const char *field, str_slice_t *out)
{
    int64_t len;
    route_codec_status_t st;
    r->field = field;
    if ((st = read_varint(r, 10, &len)) != ROUTE_CODEC_OK)
        return st;
    if (len < 0)
        return body_error(r, "negative string length");
    if ((uint64_t)len > (uint64_t)(r->end - r->p))
        return body_error(r, "truncated string");
    out->ptr = (const char *)r->p;
    out->len = (size_t)len;
    r->p += len;
    return ROUTE_CODEC_OK;
}

route_codec_status_t route_codec_decode(route_codec_t *c, const void *data, size_t len, route_event_t *ev,
                                        char *errstr, size_t errstr_size)
{
    const unsigned char *p = data;
    route_codec_status_t st;

    if (len < ROUTE_CODEC_HEADER_LEN || p[0] != 0xC3 || p[1] != 0x01) {
        snprintf(errstr, errstr_size, "not Avro single-object encoding: %s",
                 len < 2 ? "too short" : (p[0] != 0xC3 || p[1] != 0x01) ? "no C3 01 marker" : "truncated header");
        return ROUTE_CODEC_BAD_MARKER;
    }
    if (memcmp(p + 2, c->header + 2, 8) != 0) {
        uint64_t fp = 0;
        for (int i = 7; i >= 0; i--)
            fp = fp << 8 | p[2 + i];
        snprintf(errstr, errstr_size, "schema fingerprint %016llx is not ours", (unsigned long long)fp);
        return ROUTE_CODEC_BAD_FINGERPRINT;
    }

    reader_t r = {p + ROUTE_CODEC_HEADER_LEN, p + len, "", errstr, errstr_size};
    if ((st = read_string(&r, "id", &ev->id)) != ROUTE_CODEC_OK ||
        (st = read_string(&r, "datetime", &ev->datetime)) != ROUTE_CODEC_OK ||
        (st = read_string(&r, "airline", &ev->airline)) != ROUTE_CODEC_OK ||
        (st = read_int(&r, "airline_id", &ev->airline_id)) != ROUTE_CODEC_OK ||
        (st = read_string(&r, "source_airport", &ev->source_airport)) != ROUTE_CODEC_OK ||
        (st = read_int(&r, "source_airport_id", &ev->source_airport_id)) != ROUTE_CODEC_OK ||
        (st = read_string(&r, "destination_airport", &ev->destination_airport)) != ROUTE_CODEC_OK ||
        (st = read_int(&r, "destination_airport_id", &ev->destination_airport_id)) != ROUTE_CODEC_OK)
        return st;
    r.field = "codeshare";
    if (r.p == r.end)
        return body_error(&r, "truncated boolean");
    if (*r.p > 1)
        return body_error(&r, "boolean byte is neither 0 nor 1");
    ev->codeshare = *r.p++ == 1;
    if ((st = read_int(&r, "stops", &ev->stops)) != ROUTE_CODEC_OK ||
        (st = read_string(&r, "equipment", &ev->equipment)) != ROUTE_CODEC_OK)
        return st;
    if (r.p != r.end) {
        snprintf(errstr, errstr_size, "%zu trailing bytes after the record", (size_t)(r.end - r.p));
        return ROUTE_CODEC_BAD_BODY;
    }
    /* Avro strings are UTF-8; views and JSON output rely on it. */
    if (route_event_validate(ev, errstr, errstr_size) != ROUTE_EVENT_OK)
        return ROUTE_CODEC_BAD_BODY;
    return ROUTE_CODEC_OK;
}

const char *route_codec_status_text(route_codec_status_t status)
{
    switch (status) {
    case ROUTE_CODEC_OK:
        return "OK";
    case ROUTE_CODEC_SCHEMA_INVALID:
        return "Schema invalid";
    case ROUTE_CODEC_BAD_MARKER:
        return "not an Avro single-object encoding";
    case ROUTE_CODEC_BAD_FINGERPRINT:
        return "unknown schema fingerprint";
    case ROUTE_CODEC_BAD_BODY:
        return "malformed Avro body";
    }
    return "unknown status";
}
