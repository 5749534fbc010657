/*
 * airport_counts: source airport -> number of routes seen, the /top10_source_airport view.
 * An open-addressing hash table (linear probing, power-of-two size, grown geometrically) over a dense
 * array of entries; each airport's bytes are interned once in an arena, so counting an airport seen
 * before allocates nothing. Single-threaded.
 */
#ifndef QUERY_AIRPORT_COUNTS_H
#define QUERY_AIRPORT_COUNTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct airport_counts_s airport_counts_t;

/* One airport and its count. airport points into the table: valid until the next airport_counts_add. */
typedef struct airport_count_s {
    const char *airport; /* not NUL-terminated */
    size_t len;
    uint64_t count;
} airport_count_t;

/* Called for each airport, in first-seen order. */
typedef void (*airport_counts_cb)(void *data, const char *airport, size_t len, uint64_t count);

/* @returns an empty table the caller frees with airport_counts_free. */
airport_counts_t *airport_counts_new(void);
void airport_counts_free(airport_counts_t *ac);

/* Adds delta to airport[0..len) (copied on first sight; any bytes, "" included). @returns the new count. */
uint64_t airport_counts_add(airport_counts_t *ac, const char *airport, size_t len, uint64_t delta);

/* @returns the count of airport[0..len), 0 when never seen. */
uint64_t airport_counts_get(const airport_counts_t *ac, const char *airport, size_t len);

/*
 * The top n airports into out[0..n): count descending, ties by airport ascending (byte order, a prefix
 * first, as strcmp). @returns how many were written: min(n, airport_counts_size(ac)).
 */
size_t airport_counts_top(const airport_counts_t *ac, size_t n, airport_count_t *out);

/* Calls cb for each airport in first-seen order (the order snapshots keep). cb must not modify ac. */
void airport_counts_foreach(const airport_counts_t *ac, airport_counts_cb cb, void *data);

/* @returns the number of distinct airports. */
size_t airport_counts_size(const airport_counts_t *ac);
/* @returns the sum of all counts. */
uint64_t airport_counts_total(const airport_counts_t *ac);
/* @returns the bytes held (tables and interned strings), for /status. */
size_t airport_counts_bytes(const airport_counts_t *ac);

#endif
