#include "route_codec.h"

#include <assert.h>
#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "route_schema.h"

enum { F_ID, F_DATETIME, F_AIRLINE, F_AIRLINE_ID, F_SRC, F_SRC_ID, F_DST, F_DST_ID, F_CODESHARE, F_STOPS, F_EQUIPMENT,
       F_COUNT };

/* The record the decoder is written for; route_codec_new checks the schema against it. */
static const struct {
    const char *name;
    avro_type_t type;
} expected_fields[F_COUNT] = {
    {"id", AVRO_STRING},       {"datetime", AVRO_STRING},
    {"airline", AVRO_STRING},  {"airline_id", AVRO_INT32},
    {"source_airport", AVRO_STRING}, {"source_airport_id", AVRO_INT32},
    {"destination_airport", AVRO_STRING}, {"destination_airport_id", AVRO_INT32},
    {"codeshare", AVRO_BOOLEAN}, {"stops", AVRO_INT32},
    {"equipment", AVRO_STRING},
};

struct route_codec_s {
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t record;
    avro_value_t fields[F_COUNT]; /* children of record, valid as long as it is */
    avro_writer_t writer;
    unsigned char header[ROUTE_CODEC_HEADER_LEN];
    char *scratch; /* the event's strings, each NUL-terminated, lent to the record's string fields */
    size_t scratch_cap;
};

static int check_schema(avro_schema_t schema, char *errstr, size_t errstr_size)
{
    if (!is_avro_record(schema)) {
        snprintf(errstr, errstr_size, "route schema: not a record");
        return -1;
    }
    if (avro_schema_record_size(schema) != F_COUNT) {
        snprintf(errstr, errstr_size, "route schema: %zu fields, expected %d", avro_schema_record_size(schema), F_COUNT);
        return -1;
    }
    for (int i = 0; i < F_COUNT; i++) {
        const char *name = avro_schema_record_field_name(schema, i);
        avro_schema_t type = avro_schema_record_field_get_by_index(schema, i);
        if (name == NULL || strcmp(name, expected_fields[i].name) != 0 || type == NULL ||
            avro_typeof(type) != expected_fields[i].type) {
            snprintf(errstr, errstr_size, "route schema: field %d is \"%s\" of another type or name, expected \"%s\"", i,
                     name ? name : "?", expected_fields[i].name);
            return -1;
        }
    }
    return 0;
}

route_codec_t *route_codec_new(char *errstr, size_t errstr_size)
{
    static const char no_dest[1];
    route_codec_t *c = xcalloc(1, sizeof(*c));

    if (avro_schema_from_json_length(route_schema_json, strlen(route_schema_json), &c->schema) != 0) {
        snprintf(errstr, errstr_size, "route schema: %s", avro_strerror());
        goto fail;
    }
    if (check_schema(c->schema, errstr, errstr_size) != 0)
        goto fail;
    c->iface = avro_generic_class_from_schema(c->schema);
    if (c->iface == NULL || avro_generic_value_new(c->iface, &c->record) != 0) {
        snprintf(errstr, errstr_size, "route schema: avro generic value: %s", avro_strerror());
        goto fail;
    }
    for (int i = 0; i < F_COUNT; i++) {
        if (avro_value_get_by_index(&c->record, (size_t)i, &c->fields[i], NULL) != 0) {
            snprintf(errstr, errstr_size, "route schema: field %d: %s", i, avro_strerror());
            goto fail;
        }
    }
    c->writer = avro_writer_memory(no_dest, 0);
    if (c->writer == NULL) {
        snprintf(errstr, errstr_size, "avro writer: %s", avro_strerror());
        goto fail;
    }
    uint64_t fp = route_schema_fingerprint();
    c->header[0] = 0xC3;
    c->header[1] = 0x01;
    for (int i = 0; i < 8; i++)
        c->header[2 + i] = (unsigned char)(fp >> (8 * i));
    return c;
fail:
    route_codec_free(c);
    return NULL;
}

void route_codec_free(route_codec_t *c)
{
    if (c == NULL)
        return;
    if (c->writer != NULL)
        avro_writer_free(c->writer);
    if (c->record.iface != NULL)
        avro_value_decref(&c->record);
    if (c->iface != NULL)
        avro_value_iface_decref(c->iface);
    if (c->schema != NULL)
        avro_schema_decref(c->schema);
    free(c->scratch);
    free(c);
}

/*
 * avro-c takes strings with their NUL (size includes it), which a slice into a line does not have: each is
 * copied once into scratch with its NUL and lent to the record (a wrapped buffer without a free function),
 * rather than copied again into storage avro-c reallocates per event. The loans end at the next encode,
 * which lends new ones before the record is written again.
 */
static int lend_strings(route_codec_t *c, const str_slice_t *const *strs, const int *idx, int n)
{
    size_t need = 0;
    for (int i = 0; i < n; i++)
        need += strs[i]->len + 1;
    if (need > c->scratch_cap) {
        c->scratch_cap = need < 1024 ? 1024 : need;
        c->scratch = xrealloc(c->scratch, c->scratch_cap);
    }
    char *p = c->scratch;
    for (int i = 0; i < n; i++) {
        if (strs[i]->len > 0)
            memcpy(p, strs[i]->ptr, strs[i]->len);
        p[strs[i]->len] = '\0';
        avro_wrapped_buffer_t wrapped;
        int rc = avro_wrapped_buffer_new(&wrapped, p, strs[i]->len + 1);
        if (rc == 0)
            rc = avro_value_give_string_len(&c->fields[idx[i]], &wrapped);
        if (rc != 0)
            return rc;
        p += strs[i]->len + 1;
    }
    return 0;
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
    const str_slice_t *const strs[] = {&ev->id, &ev->datetime, &ev->airline, &ev->source_airport, &ev->destination_airport,
                                 &ev->equipment};
    static const int str_idx[] = {F_ID, F_DATETIME, F_AIRLINE, F_SRC, F_DST, F_EQUIPMENT};

    if (route_event_validate(ev, errstr, errstr_size) != ROUTE_EVENT_OK)
        return ROUTE_CODEC_SCHEMA_INVALID;

    /* Upper bound of the encoding: a long length prefix is at most 10 bytes, an int at most 5. */
    size_t bound = ROUTE_CODEC_HEADER_LEN + 4 * 5 + 1;
    for (int i = 0; i < 6; i++)
        bound += strs[i]->len + 10;

    int rc = lend_strings(c, strs, str_idx, 6);
    if (rc == 0)
        rc = avro_value_set_int(&c->fields[F_AIRLINE_ID], (int32_t)ev->airline_id);
    if (rc == 0)
        rc = avro_value_set_int(&c->fields[F_SRC_ID], (int32_t)ev->source_airport_id);
    if (rc == 0)
        rc = avro_value_set_int(&c->fields[F_DST_ID], (int32_t)ev->destination_airport_id);
    if (rc == 0)
        rc = avro_value_set_boolean(&c->fields[F_CODESHARE], ev->codeshare ? 1 : 0);
    if (rc == 0)
        rc = avro_value_set_int(&c->fields[F_STOPS], (int32_t)ev->stops);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "avro value: %s", avro_strerror());
        return ROUTE_CODEC_SCHEMA_INVALID;
    }

    /* The writer fills out's spare room directly; out->len moves only once the record is whole. */
    buf_reserve(out, bound);
    char *dest = out->data + out->len;
    memcpy(dest, c->header, ROUTE_CODEC_HEADER_LEN);
    avro_writer_memory_set_dest(c->writer, dest + ROUTE_CODEC_HEADER_LEN, (int64_t)(bound - ROUTE_CODEC_HEADER_LEN));
    if (avro_value_write(c->writer, &c->record) != 0) {
        snprintf(errstr, errstr_size, "avro write: %s", avro_strerror());
        out->data[out->len] = '\0';
        return ROUTE_CODEC_SCHEMA_INVALID;
    }
    out->len += ROUTE_CODEC_HEADER_LEN + (size_t)avro_writer_tell(c->writer);
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
