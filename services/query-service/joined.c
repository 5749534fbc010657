#include "joined.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "counted.h"
#include "envelope.h"
#include "route_counts.h"
#include "strhash.h"

#define EARTH_RADIUS_KM 6371.0088

static struct json_object *text_or_null(const char *s)
{
    return s != NULL ? json_object_new_string(s) : NULL;
}

static struct json_object *degrees_or_null(const table_entry_t *e, bool latitude)
{
    if (e == NULL || !e->has_position)
        return NULL;
    return latitude ? json_object_new_double_s(e->latitude, e->latitude_text)
                    : json_object_new_double_s(e->longitude, e->longitude_text);
}

/* The top n of c, count desc then key asc (n == 0 or beyond: all). The caller frees the array. */
static counted_entry_t *top_of(const counted_t *c, size_t *n)
{
    if (*n == 0 || *n > counted_size(c))
        *n = counted_size(c);
    counted_entry_t *top = xmalloc((*n ? *n : 1) * sizeof(*top));
    *n = counted_top(c, *n, COUNTED_KEY_ASC, top);
    return top;
}

struct json_object *joined_source_airports(views_t *v, const tables_t *t, size_t n)
{
    counted_entry_t *top = top_of(views_airports(v), &n);
    struct json_object *arr = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        const table_entry_t *e = tables_get(t, REFERENCE_AIRPORTS, top[i].key, top[i].len);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "city", e != NULL ? text_or_null(e->city) : NULL);
        json_object_object_add(o, "count", json_object_new_int64((int64_t)top[i].count));
        json_object_object_add(o, "country", e != NULL ? text_or_null(e->country) : NULL);
        json_object_object_add(o, "latitude", degrees_or_null(e, true));
        json_object_object_add(o, "longitude", degrees_or_null(e, false));
        json_object_object_add(o, "name", e != NULL ? text_or_null(e->name) : NULL);
        json_object_object_add(o, "source_airport", json_object_new_string_len(top[i].key, (int)top[i].len));
        json_object_array_add(arr, o);
    }
    free(top);
    return arr;
}

/* A country's row while aggregating. */
typedef struct country_s {
    const char *name; /* NULL: airports without an entry (or an entry without a country) */
    uint64_t count;
    uint64_t airports;
} country_t;

static int cmp_country(const void *a, const void *b)
{
    const country_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    if (x->name == NULL || y->name == NULL)
        return (x->name == NULL) - (y->name == NULL);
    return strcmp(x->name, y->name);
}

struct json_object *joined_countries(views_t *v, const tables_t *t, size_t n)
{
    const counted_t *airports = views_airports(v);
    /* Countries are few (about 240): a counted table keyed by name gives each its slot; slot 0 is "unknown". */
    counted_t *index = counted_new(512);
    size_t cap = 64, used = 1;
    country_t *rows = xcalloc(cap, sizeof(*rows));
    for (size_t i = 0; i < counted_size(airports); i++) {
        counted_entry_t a = counted_at(airports, i);
        const table_entry_t *e = tables_get(t, REFERENCE_AIRPORTS, a.key, a.len);
        size_t slot = 0;
        if (e != NULL && e->country != NULL) {
            size_t len = strlen(e->country);
            slot = (size_t)counted_get(index, e->country, len);
            if (slot == 0) {
                if (used == cap) {
                    cap *= 2;
                    rows = xrealloc(rows, cap * sizeof(*rows));
                }
                slot = used++;
                rows[slot] = (country_t){e->country, 0, 0};
                counted_add(index, e->country, len, slot);
            }
        }
        rows[slot].count += a.count;
        rows[slot].airports++;
    }
    size_t first = rows[0].airports > 0 ? 0 : 1;
    qsort(rows + first, used - first, sizeof(*rows), cmp_country);
    size_t total = used - first;
    if (n == 0 || n > total)
        n = total;
    struct json_object *arr = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        const country_t *c = &rows[first + i];
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "airports", json_object_new_int64((int64_t)c->airports));
        json_object_object_add(o, "count", json_object_new_int64((int64_t)c->count));
        json_object_object_add(o, "country", text_or_null(c->name));
        json_object_array_add(arr, o);
    }
    free(rows);
    counted_free(index);
    return arr;
}

struct json_object *joined_airlines(views_t *v, const tables_t *t, size_t n)
{
    counted_entry_t *top = top_of(views_route_counts(v)->airlines, &n);
    struct json_object *arr = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        const table_entry_t *e = tables_get(t, REFERENCE_AIRLINES, top[i].key, top[i].len);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "airline", json_object_new_string_len(top[i].key, (int)top[i].len));
        json_object_object_add(o, "count", json_object_new_int64((int64_t)top[i].count));
        json_object_object_add(o, "country", e != NULL ? text_or_null(e->country) : NULL);
        json_object_object_add(o, "name", e != NULL ? text_or_null(e->name) : NULL);
        json_object_array_add(arr, o);
    }
    free(top);
    return arr;
}

struct json_object *joined_planes(views_t *v, const tables_t *t, size_t n)
{
    counted_entry_t *top = top_of(views_route_counts(v)->planes, &n);
    struct json_object *arr = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        const table_entry_t *e = tables_get(t, REFERENCE_PLANES, top[i].key, top[i].len);
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "count", json_object_new_int64((int64_t)top[i].count));
        json_object_object_add(o, "equipment", json_object_new_string_len(top[i].key, (int)top[i].len));
        json_object_object_add(o, "name", e != NULL ? text_or_null(e->name) : NULL);
        json_object_array_add(arr, o);
    }
    free(top);
    return arr;
}

double joined_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * EARTH_RADIUS_KM * asin(sqrt(h < 1 ? h : 1));
}

/* A pair while ranking: its key split at the separator, its distance (-1: unknown). */
typedef struct pair_s {
    counted_entry_t e;
    size_t source_len;
    double km;
} pair_t;

static int cmp_pair(const void *a, const void *b)
{
    const pair_t *x = a, *y = b;
    if (x->km != y->km)
        return x->km > y->km ? -1 : 1;
    return strhash_cmp(x->e.key, x->e.len, y->e.key, y->e.len); /* source first: the separator sorts low */
}

struct json_object *joined_longest_routes(views_t *v, const tables_t *t, size_t n)
{
    const counted_t *pairs = views_route_counts(v)->pairs;
    size_t total = counted_size(pairs);
    pair_t *rows = xmalloc((total ? total : 1) * sizeof(*rows));
    for (size_t i = 0; i < total; i++) {
        pair_t *p = &rows[i];
        p->e = counted_at(pairs, i);
        const char *sep = memchr(p->e.key, ROUTE_COUNTS_PAIR_SEP, p->e.len);
        p->source_len = sep != NULL ? (size_t)(sep - p->e.key) : p->e.len;
        p->km = -1;
        const table_entry_t *from = tables_get(t, REFERENCE_AIRPORTS, p->e.key, p->source_len);
        const table_entry_t *to = sep != NULL ? tables_get(t, REFERENCE_AIRPORTS, sep + 1, p->e.len - p->source_len - 1)
                                              : NULL;
        if (from != NULL && to != NULL && from->has_position && to->has_position)
            p->km = round(joined_distance_km(from->latitude, from->longitude, to->latitude, to->longitude) * 10) / 10;
    }
    qsort(rows, total, sizeof(*rows), cmp_pair);
    if (n == 0 || n > total)
        n = total;
    struct json_object *arr = json_object_new_array_ext((int)n);
    for (size_t i = 0; i < n; i++) {
        const pair_t *p = &rows[i];
        size_t dest_off = p->source_len < p->e.len ? p->source_len + 1 : p->e.len;
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "count", json_object_new_int64((int64_t)p->e.count));
        json_object_object_add(o, "destination_airport",
                               json_object_new_string_len(p->e.key + dest_off, (int)(p->e.len - dest_off)));
        json_object_object_add(o, "distance_km", p->km >= 0 ? envelope_new_pyfloat(p->km) : NULL);
        json_object_object_add(o, "source_airport", json_object_new_string_len(p->e.key, (int)p->source_len));
        json_object_array_add(arr, o);
    }
    free(rows);
    return arr;
}

void joined_unmatched(views_t *v, const tables_t *t, reference_kind_t kind, joined_unmatched_t *out)
{
    const counted_t *c = kind == REFERENCE_AIRPORTS  ? views_airports(v)
                         : kind == REFERENCE_AIRLINES ? views_route_counts(v)->airlines
                                                      : views_route_counts(v)->planes;
    out->codes = out->events = 0;
    for (size_t i = 0; i < counted_size(c); i++) {
        counted_entry_t e = counted_at(c, i);
        if (tables_get(t, kind, e.key, e.len) == NULL) {
            out->codes++;
            out->events += e.count;
        }
    }
}
