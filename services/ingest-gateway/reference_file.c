#define _GNU_SOURCE /* qsort_r */
#include "reference_file.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define MAX_FIELDS 16
/* The real files are about 1 MB; a bound keeps a wrong path from exhausting memory. */
#define MAX_FILE_BYTES (64u << 20)

/* One CSV field: text (unquoted, escapes resolved) or null (\N). */
typedef struct field_s {
    char *text;
    size_t len;
    bool null;
} field_t;

/* An entry under one of its codes, before duplicates are resolved. */
typedef struct candidate_s {
    size_t key_off, key_len, value_off, value_len;
    int rank;      /* lower wins */
    uint64_t line; /* then the earlier line */
} candidate_t;

typedef struct parse_s {
    reference_file_t *out;
    candidate_t *cands;
    size_t ncands, capcands;
    char scratch[4096]; /* the current line's field texts */
} parse_t;

/*
 * Splits line[0..len) into fields. A field that starts with a double quote runs to the quote before the next comma
 * (or the end); inside it "" and \" stand for a quote. @returns the number of fields (at most MAX_FIELDS), or -1
 * when the line does not fit the scratch space.
 */
static int split_fields(parse_t *ps, const char *line, size_t len, field_t *fields)
{
    size_t i = 0, used = 0;
    int n = 0;
    while (n < MAX_FIELDS) {
        field_t *f = &fields[n++];
        f->text = ps->scratch + used;
        f->len = 0;
        f->null = false;
        if (i < len && line[i] == '"') {
            i++;
            while (i < len) {
                char c = line[i];
                if ((c == '"' || c == '\\') && i + 1 < len && line[i + 1] == '"') {
                    c = '"';
                    i += 2;
                } else if (c == '"') {
                    i++;
                    break;
                } else {
                    i++;
                }
                if (used + f->len + 1 >= sizeof(ps->scratch))
                    return -1;
                f->text[f->len++] = c;
            }
            while (i < len && line[i] != ',') /* stray text after the closing quote */
                i++;
        } else {
            size_t start = i;
            while (i < len && line[i] != ',')
                i++;
            if (used + (i - start) + 1 >= sizeof(ps->scratch))
                return -1;
            memcpy(f->text, line + start, i - start);
            f->len = i - start;
            f->null = f->len == 2 && f->text[0] == '\\' && f->text[1] == 'N';
        }
        f->text[f->len] = '\0';
        used += f->len + 1;
        if (i >= len)
            break;
        i++; /* the comma */
    }
    return n;
}

static bool parse_long(const field_t *f, long *out)
{
    if (f->null || f->len == 0)
        return false;
    char *end;
    errno = 0;
    *out = strtol(f->text, &end, 10);
    return errno == 0 && *end == '\0';
}

static bool parse_double(const field_t *f, double *out)
{
    if (f->null || f->len == 0)
        return false;
    char *end;
    errno = 0;
    *out = strtod(f->text, &end);
    return errno == 0 && *end == '\0';
}

/* A code: exactly want characters, letters and digits only. */
static bool is_code(const field_t *f, size_t want)
{
    if (f->null || f->len != want)
        return false;
    for (size_t i = 0; i < f->len; i++) {
        char c = f->text[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static void add_text(struct json_object *o, const char *name, const field_t *f)
{
    json_object_object_add(o, name, f->null ? NULL : json_object_new_string_len(f->text, (int)f->len));
}

static void add_code(struct json_object *o, const char *name, const field_t *f, size_t len)
{
    json_object_object_add(o, name, is_code(f, len) ? json_object_new_string_len(f->text, (int)f->len) : NULL);
}

static void add_candidate(parse_t *ps, const field_t *code, size_t value_off, size_t value_len, int rank)
{
    reference_file_t *out = ps->out;
    if (ps->ncands == ps->capcands) {
        ps->capcands = ps->capcands ? ps->capcands * 2 : 1024;
        ps->cands = xrealloc(ps->cands, ps->capcands * sizeof(*ps->cands));
    }
    candidate_t *c = &ps->cands[ps->ncands++];
    c->key_off = out->bytes.len;
    c->key_len = code->len;
    buf_append(&out->bytes, code->text, code->len);
    c->value_off = value_off;
    c->value_len = value_len;
    c->rank = rank;
    c->line = out->lines;
}

/* Builds one line's entry. @returns the JSON object (keys sorted) with its codes and rank, or NULL to reject. */
static struct json_object *entry_of(reference_kind_t kind, field_t *f, int n, const field_t **codes, size_t *code_lens,
                                    int *rank)
{
    struct json_object *o = json_object_new_object();
    long id;
    double lat, lon;
    switch (kind) {
    case REFERENCE_AIRPORTS: /* id, name, city, country, IATA, ICAO, latitude, longitude, ... */
        if (n < 8 || !parse_long(&f[0], &id) || !parse_double(&f[6], &lat) || !parse_double(&f[7], &lon) ||
            lat < -90 || lat > 90 || lon < -180 || lon > 180)
            break;
        json_object_object_add(o, "airport_id", json_object_new_int64(id));
        add_text(o, "city", &f[2]);
        add_text(o, "country", &f[3]);
        add_code(o, "iata", &f[4], 3);
        add_code(o, "icao", &f[5], 4);
        json_object_object_add(o, "latitude", json_object_new_double_s(lat, f[6].text));
        json_object_object_add(o, "longitude", json_object_new_double_s(lon, f[7].text));
        add_text(o, "name", &f[1]);
        codes[0] = &f[4], code_lens[0] = 3, codes[1] = &f[5], code_lens[1] = 4;
        *rank = 0;
        return o;
    case REFERENCE_AIRLINES: /* id, name, alias, IATA, ICAO, callsign, country, active */
        if (n < 8 || !parse_long(&f[0], &id))
            break;
        bool active = f[7].len == 1 && f[7].text[0] == 'Y';
        json_object_object_add(o, "active", json_object_new_boolean(active));
        json_object_object_add(o, "airline_id", json_object_new_int64(id));
        add_text(o, "country", &f[6]);
        add_code(o, "iata", &f[3], 2);
        add_code(o, "icao", &f[4], 3);
        add_text(o, "name", &f[1]);
        codes[0] = &f[3], code_lens[0] = 2, codes[1] = &f[4], code_lens[1] = 3;
        *rank = active ? 0 : 1;
        return o;
    case REFERENCE_PLANES: /* name, IATA, ICAO */
        if (n < 3 || f[0].null || f[0].len == 0)
            break;
        add_code(o, "iata", &f[1], 3);
        add_code(o, "icao", &f[2], 4);
        add_text(o, "name", &f[0]);
        codes[0] = &f[1], code_lens[0] = 3, codes[1] = &f[2], code_lens[1] = 4;
        *rank = 0;
        return o;
    default:
        break;
    }
    json_object_put(o);
    return NULL;
}

static void parse_line(parse_t *ps, const char *line, size_t len)
{
    reference_file_t *out = ps->out;
    field_t fields[MAX_FIELDS];
    out->lines++;
    int n = split_fields(ps, line, len, fields);
    const field_t *codes[2];
    size_t code_lens[2];
    int rank = 0;
    struct json_object *o = n < 0 ? NULL : entry_of(out->kind, fields, n, codes, code_lens, &rank);
    if (o == NULL) {
        out->rejected++;
        return;
    }
    size_t vlen;
    const char *value = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, &vlen);
    size_t voff = out->bytes.len;
    buf_append(&out->bytes, value, vlen);
    bool published = false;
    for (int i = 0; i < 2; i++) {
        if (is_code(codes[i], code_lens[i])) {
            add_candidate(ps, codes[i], voff, vlen, rank);
            published = true;
        }
    }
    json_object_put(o);
    if (published)
        out->entries++;
    else
        out->rejected++; /* no code to be found by */
}

static int cmp_candidate(const void *a, const void *b, void *bytes)
{
    const candidate_t *x = a, *y = b;
    const char *cands_base = bytes;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = memcmp(cands_base + x->key_off, cands_base + y->key_off, n);
    if (c != 0)
        return c;
    if (x->key_len != y->key_len)
        return x->key_len < y->key_len ? -1 : 1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

void reference_file_parse(reference_file_t *out, reference_kind_t kind, const char *data, size_t len)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    buf_init(&out->bytes);
    parse_t *ps = xcalloc(1, sizeof(*ps));
    ps->out = out;
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(data + i, '\n', len - i);
        size_t end = nl != NULL ? (size_t)(nl - data) : len;
        size_t line_len = end - i;
        if (line_len > 0 && data[i + line_len - 1] == '\r')
            line_len--;
        if (line_len > 0)
            parse_line(ps, data + i, line_len);
        i = end + 1;
    }
    qsort_r(ps->cands, ps->ncands, sizeof(*ps->cands), cmp_candidate, out->bytes.data);
    out->messages = xmalloc((ps->ncands ? ps->ncands : 1) * sizeof(*out->messages));
    for (size_t i = 0; i < ps->ncands; i++) {
        const candidate_t *c = &ps->cands[i];
        if (i > 0 && c->key_len == ps->cands[i - 1].key_len &&
            memcmp(out->bytes.data + c->key_off, out->bytes.data + ps->cands[i - 1].key_off, c->key_len) == 0)
            continue; /* the winner of this code came first */
        out->messages[out->count++] = (reference_message_t){c->key_off, c->key_len, c->value_off, c->value_len};
    }
    free(ps->cands);
    free(ps);
}

int reference_file_load(reference_file_t *out, reference_kind_t kind, const char *path)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0;
    const char *why = NULL;
    if (f == NULL) {
        why = strerror(errno);
    } else {
        data = xmalloc(MAX_FILE_BYTES);
        len = fread(data, 1, MAX_FILE_BYTES, f);
        if (ferror(f))
            why = strerror(errno);
        else if (len == MAX_FILE_BYTES)
            why = "larger than 64 MiB: not a reference file";
        fclose(f);
    }
    if (why != NULL) {
        free(data);
        memset(out, 0, sizeof(*out));
        out->kind = kind;
        snprintf(out->error, sizeof(out->error), "%s file %s: %s", reference_kind_name(kind), path, why);
        return -1;
    }
    reference_file_parse(out, kind, data, len);
    free(data);
    return 0;
}

void reference_file_free(reference_file_t *f)
{
    buf_free(&f->bytes);
    free(f->messages);
    memset(f, 0, sizeof(*f));
}
