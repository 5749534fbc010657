#include "route_counts.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void route_counts_init(route_counts_t *rc)
{
    rc->airlines = counted_new(1024);
    rc->pairs = counted_new(65536);
    rc->planes = counted_new(512);
}

void route_counts_free(route_counts_t *rc)
{
    counted_free(rc->airlines);
    counted_free(rc->pairs);
    counted_free(rc->planes);
    memset(rc, 0, sizeof(*rc));
}

/* A string's bytes, "" for an empty one (whose pointer may be NULL: memcpy and memchr must not see that). */
static const char *bytes_of(str_slice_t s)
{
    return s.len > 0 ? s.ptr : "";
}

void route_counts_add(route_counts_t *rc, const route_event_t *ev)
{
    counted_add(rc->airlines, bytes_of(ev->airline), ev->airline.len, 1);
    char stack[64];
    size_t s = ev->source_airport.len, d = ev->destination_airport.len;
    /* Codes are 3 or 4 bytes, but the schema bounds nothing: a longer pair is counted all the same. */
    char *pair = s + d + 1 <= sizeof(stack) ? stack : xmalloc(s + d + 1);
    memcpy(pair, bytes_of(ev->source_airport), s);
    pair[s] = ROUTE_COUNTS_PAIR_SEP;
    memcpy(pair + s + 1, bytes_of(ev->destination_airport), d);
    counted_add(rc->pairs, pair, s + d + 1, 1);
    if (pair != stack)
        free(pair);
    const char *p = bytes_of(ev->equipment), *end = p + ev->equipment.len;
    do {
        const char *space = memchr(p, ' ', (size_t)(end - p));
        const char *stop = space != NULL ? space : end;
        if (stop > p || ev->equipment.len == 0)
            counted_add(rc->planes, p, (size_t)(stop - p), 1);
        p = stop + 1;
    } while (p < end);
}

size_t route_counts_bytes(const route_counts_t *rc)
{
    return counted_bytes(rc->airlines) + counted_bytes(rc->pairs) + counted_bytes(rc->planes);
}
