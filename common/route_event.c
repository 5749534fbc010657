#include "route_event.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <uuid/uuid.h>

enum { F_AIRLINE, F_AIRLINE_ID, F_SRC, F_SRC_ID, F_DST, F_DST_ID, F_CODESHARE, F_STOPS, F_EQUIPMENT };

static const char *const field_names[ROUTE_EVENT_FIELDS] = {
    "airline", "airline_id", "source_airport", "source_airport_id", "destination_airport",
    "destination_airport_id", "codeshare", "stops", "equipment"};

/* The ASCII blanks Python's str.strip() (and so int()) removes. */
static int is_py_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r' || (unsigned char)c == 0x1c ||
           (unsigned char)c == 0x1d || (unsigned char)c == 0x1e || (unsigned char)c == 0x1f;
}

/*
 * Python's int(s) for ASCII text: blanks around, one optional sign, decimal digits with single
 * underscores allowed between them (PEP 515). Python ints are unbounded; a value beyond int64 is
 * clamped, which keeps it out of the schema's int range so validation still rejects it.
 */
static int parse_py_int(const char *p, size_t len, int64_t *out)
{
    const char *end = p + len;
    while (p < end && is_py_space(*p))
        p++;
    while (end > p && is_py_space(end[-1]))
        end--;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (p == end)
        return -1;
    uint64_t v = 0;
    int clamped = 0, prev_digit = 0;
    for (; p < end; p++) {
        if (*p == '_') {
            if (!prev_digit || p + 1 == end)
                return -1;
            prev_digit = 0;
            continue;
        }
        if (*p < '0' || *p > '9')
            return -1;
        prev_digit = 1;
        if (v > (UINT64_MAX - 9) / 10)
            clamped = 1;
        else
            v = v * 10 + (uint64_t)(*p - '0');
    }
    if (clamped || v > (uint64_t)INT64_MAX)
        v = (uint64_t)INT64_MAX;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

route_event_status_t route_event_parse(const char *line, size_t len, route_event_t *ev, char *errstr,
                                       size_t errstr_size)
{
    str_slice_t f[ROUTE_EVENT_FIELDS];
    size_t n = 0, start = 0;

    if (len > 0 && line[len - 1] == '\r')
        len--;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == ',') {
            if (n == ROUTE_EVENT_FIELDS) {
                n++;
                break;
            }
            f[n].ptr = line + start;
            f[n].len = i - start;
            n++;
            start = i + 1;
        }
    }
    if (n != ROUTE_EVENT_FIELDS) {
        snprintf(errstr, errstr_size, "expected %d comma-separated fields, got %s%zu", ROUTE_EVENT_FIELDS,
                 n > ROUTE_EVENT_FIELDS ? "more than " : "", n > ROUTE_EVENT_FIELDS ? (size_t)ROUTE_EVENT_FIELDS : n);
        return ROUTE_EVENT_TRANSFORM_FAILED;
    }

    static const int int_fields[] = {F_AIRLINE_ID, F_SRC_ID, F_DST_ID, F_STOPS};
    int64_t *int_dest[] = {&ev->airline_id, &ev->source_airport_id, &ev->destination_airport_id, &ev->stops};
    for (size_t i = 0; i < sizeof(int_fields) / sizeof(int_fields[0]); i++) {
        const str_slice_t *s = &f[int_fields[i]];
        if (parse_py_int(s->ptr, s->len, int_dest[i]) != 0) {
            snprintf(errstr, errstr_size, "%s is not an integer: \"%.*s\"", field_names[int_fields[i]],
                     (int)(s->len > 32 ? 32 : s->len), s->ptr);
            return ROUTE_EVENT_TRANSFORM_FAILED;
        }
    }
    ev->id.ptr = ev->datetime.ptr = NULL;
    ev->id.len = ev->datetime.len = 0;
    ev->airline = f[F_AIRLINE];
    ev->source_airport = f[F_SRC];
    ev->destination_airport = f[F_DST];
    ev->codeshare = f[F_CODESHARE].len == 1 && f[F_CODESHARE].ptr[0] == 'Y';
    ev->equipment = f[F_EQUIPMENT];
    return ROUTE_EVENT_OK;
}

/*
 * UUID v4 randomness. libuuid's uuid_generate_random() costs ~6 syscalls per UUID (getrandom, getpid,
 * getuid, gettid, getppid: 0.13-0.3 M/s here), too slow for the ingest target, so 16-byte blocks
 * come from a per-thread pool filled by getrandom() (the kernel CSPRNG libuuid uses too), 256 UUIDs
 * per syscall; the version and variant bits are set per RFC 4122 section 4.4 and libuuid writes the
 * text. If getrandom() fails, libuuid generates the UUID. A forked child drops the pool it inherited
 * so parent and child never hand out the same bytes.
 */
#define UUID_POOL_COUNT 256
static _Thread_local unsigned char uuid_pool[UUID_POOL_COUNT][16];
static _Thread_local unsigned uuid_pool_left;

static void uuid_pool_drop_in_child(void)
{
    uuid_pool_left = 0;
}

static void uuid_pool_atfork_register(void)
{
    pthread_atfork(NULL, NULL, uuid_pool_drop_in_child);
}

static int uuid_pool_fill(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, uuid_pool_atfork_register);
    unsigned char *p = &uuid_pool[0][0];
    size_t need = sizeof(uuid_pool);
    while (need > 0) {
        ssize_t n = getrandom(p, need, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        need -= (size_t)n;
    }
    uuid_pool_left = UUID_POOL_COUNT;
    return 0;
}

static void uuid_v4(uuid_t u)
{
    if (uuid_pool_left == 0 && uuid_pool_fill() != 0) {
        uuid_generate_random(u);
        return;
    }
    unsigned char *b = uuid_pool[--uuid_pool_left];
    memcpy(u, b, 16);
    memset(b, 0, 16); /* a UUID's randomness is used once */
    u[6] = (unsigned char)((u[6] & 0x0F) | 0x40); /* version 4 */
    u[8] = (unsigned char)((u[8] & 0x3F) | 0x80); /* variant 10xx */
}

void route_event_stamp(route_event_t *ev, int64_t now_us)
{
    uuid_t u;
    uuid_v4(u);
    uuid_unparse_lower(u, ev->id_buf);
    timestamp_format_event(now_us, ev->datetime_buf);
    ev->id.ptr = ev->id_buf;
    ev->id.len = ROUTE_EVENT_ID_LEN;
    ev->datetime.ptr = ev->datetime_buf;
    ev->datetime.len = TIMESTAMP_EVENT_LEN;
}

/*
 * Strict UTF-8 (RFC 3629): no overlongs, no surrogates, nothing above U+10FFFF.
 * @returns the offset of the first bad byte, or len.
 */
static size_t utf8_check(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        /* Route fields are nearly always ASCII: skip eight such bytes at a time. */
        uint64_t word;
        if (len - i >= 8 && (memcpy(&word, s + i, 8), (word & 0x8080808080808080ULL) == 0)) {
            i += 8;
            continue;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned char lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return i;
        if (len - i <= n)
            return i;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return i;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return i;
        i += n + 1;
    }
    return len;
}

route_event_status_t route_event_validate(const route_event_t *ev, char *errstr, size_t errstr_size)
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

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (strs[i].s->ptr == NULL && strs[i].s->len != 0) {
            snprintf(errstr, errstr_size, "%s: null string", strs[i].name);
            return ROUTE_EVENT_SCHEMA_INVALID;
        }
        size_t bad = utf8_check((const unsigned char *)strs[i].s->ptr, strs[i].s->len);
        if (bad != strs[i].s->len) {
            snprintf(errstr, errstr_size, "%s: not valid UTF-8 at byte %zu", strs[i].name, bad);
            return ROUTE_EVENT_SCHEMA_INVALID;
        }
    }
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        if (ints[i].v < INT32_MIN || ints[i].v > INT32_MAX) {
            snprintf(errstr, errstr_size, "%s: %" PRId64 " is outside the schema's 32-bit int", ints[i].name,
                     ints[i].v);
            return ROUTE_EVENT_SCHEMA_INVALID;
        }
    }
    return ROUTE_EVENT_OK;
}

const char *route_event_status_text(route_event_status_t status)
{
    switch (status) {
    case ROUTE_EVENT_OK:
        return "OK";
    case ROUTE_EVENT_TRANSFORM_FAILED:
        return "A variable type transformation failed";
    case ROUTE_EVENT_SCHEMA_INVALID:
        return "Schema invalid";
    }
    return "Unknown status";
}
