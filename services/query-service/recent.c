#include "recent.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

#define INLINE_BYTES 96
#define NSTR 5 /* id, airline, source, destination, equipment: packed in this order */

typedef struct slot_s {
    int64_t datetime_us;
    int32_t airline_id, source_airport_id, destination_airport_id, stops;
    uint32_t len[NSTR];
    bool codeshare;
    char *heap; /* the strings when they do not fit inline, else NULL */
    size_t heap_cap;
    char bytes[INLINE_BYTES];
} slot_t;

struct recent_s {
    slot_t *slots;
    size_t cap;
    uint64_t pushed; /* total; the oldest held is pushed - count */
    size_t count;    /* rows held */
    size_t heap_bytes;
};

recent_t *recent_new(size_t capacity)
{
    recent_t *r = xcalloc(1, sizeof(*r));
    r->cap = capacity > 0 ? capacity : RECENT_DEFAULT_CAPACITY;
    r->slots = xcalloc(r->cap, sizeof(*r->slots));
    return r;
}

void recent_free(recent_t *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->cap; i++)
        free(r->slots[i].heap);
    free(r->slots);
    free(r);
}

static inline uint32_t clamp_len(size_t len)
{
    return len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
}

/* Claims the next slot for strings of total bytes. @returns where to copy them. */
static char *claim(recent_t *r, slot_t **slotp, size_t total)
{
    slot_t *s = &r->slots[r->pushed % r->cap];
    r->pushed++;
    if (r->count < r->cap)
        r->count++;
    *slotp = s;
    if (total <= INLINE_BYTES) {
        if (s->heap != NULL) {
            r->heap_bytes -= s->heap_cap;
            free(s->heap);
            s->heap = NULL;
            s->heap_cap = 0;
        }
        return s->bytes;
    }
    if (s->heap_cap < total) {
        r->heap_bytes -= s->heap_cap;
        free(s->heap);
        s->heap = xmalloc(total);
        s->heap_cap = total;
        r->heap_bytes += total;
    }
    return s->heap;
}

static void store(recent_t *r, const char *const str[NSTR], const uint32_t len[NSTR], int64_t datetime_us,
                  const int32_t ints[4], bool codeshare)
{
    size_t total = 0;
    for (int i = 0; i < NSTR; i++)
        total += len[i];
    slot_t *s;
    char *p = claim(r, &s, total);
    for (int i = 0; i < NSTR; i++) {
        if (len[i] > 0)
            memcpy(p, str[i], len[i]);
        p += len[i];
        s->len[i] = len[i];
    }
    s->datetime_us = datetime_us;
    s->airline_id = ints[0];
    s->source_airport_id = ints[1];
    s->destination_airport_id = ints[2];
    s->stops = ints[3];
    s->codeshare = codeshare;
}

void recent_push(recent_t *r, const route_event_t *ev, int64_t datetime_us)
{
    const char *str[NSTR] = {ev->id.ptr, ev->airline.ptr, ev->source_airport.ptr, ev->destination_airport.ptr,
                             ev->equipment.ptr};
    uint32_t len[NSTR] = {clamp_len(ev->id.len), clamp_len(ev->airline.len), clamp_len(ev->source_airport.len),
                          clamp_len(ev->destination_airport.len), clamp_len(ev->equipment.len)};
    int32_t ints[4] = {(int32_t)ev->airline_id, (int32_t)ev->source_airport_id, (int32_t)ev->destination_airport_id,
                       (int32_t)ev->stops};
    store(r, str, len, datetime_us, ints, ev->codeshare);
}

void recent_push_row(recent_t *r, const recent_row_t *row)
{
    const char *str[NSTR] = {row->id, row->airline, row->source_airport, row->destination_airport, row->equipment};
    uint32_t len[NSTR] = {clamp_len(row->id_len), clamp_len(row->airline_len), clamp_len(row->source_airport_len),
                          clamp_len(row->destination_airport_len), clamp_len(row->equipment_len)};
    int32_t ints[4] = {row->airline_id, row->source_airport_id, row->destination_airport_id, row->stops};
    store(r, str, len, row->datetime_us, ints, row->codeshare);
}

uint64_t recent_count(const recent_t *r)
{
    return r->count;
}

size_t recent_capacity(const recent_t *r)
{
    return r->cap;
}

uint64_t recent_total_pushed(const recent_t *r)
{
    return r->pushed;
}

void recent_set_total_pushed(recent_t *r, uint64_t total)
{
    if (r->count == 0)
        r->pushed = total;
}

static void fill_row(const slot_t *s, recent_row_t *row)
{
    const char *p = s->heap != NULL ? s->heap : s->bytes;
    const char **str[NSTR] = {&row->id, &row->airline, &row->source_airport, &row->destination_airport,
                              &row->equipment};
    size_t *len[NSTR] = {&row->id_len, &row->airline_len, &row->source_airport_len, &row->destination_airport_len,
                         &row->equipment_len};
    for (int i = 0; i < NSTR; i++) {
        *str[i] = p;
        *len[i] = s->len[i];
        p += s->len[i];
    }
    row->datetime_us = s->datetime_us;
    row->airline_id = s->airline_id;
    row->source_airport_id = s->source_airport_id;
    row->destination_airport_id = s->destination_airport_id;
    row->stops = s->stops;
    row->codeshare = s->codeshare;
}

bool recent_get_seq(const recent_t *r, uint64_t seq, recent_row_t *row)
{
    if (seq >= r->pushed || seq < r->pushed - recent_count(r))
        return false;
    fill_row(&r->slots[seq % r->cap], row);
    return true;
}

bool recent_get(const recent_t *r, uint64_t index, recent_row_t *row)
{
    uint64_t count = recent_count(r);
    if (index >= count)
        return false;
    return recent_get_seq(r, r->pushed - count + index, row);
}

size_t recent_bytes(const recent_t *r)
{
    return sizeof(*r) + r->cap * sizeof(slot_t) + r->heap_bytes;
}
