/*
 * counted: strings and their counts, the table under every count the views keep (source airports, and the
 * equipment of each window). Interned on first sight into one arena, indexed by an open-addressing hash table
 * (linear probing, power-of-two size, at most half full) over a dense entry array kept in first-seen order, so
 * counting a string seen before allocates nothing and iteration order is the order of the stream.
 * Single-threaded.
 */
#ifndef QUERY_COUNTED_H
#define QUERY_COUNTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct counted_s counted_t;

/* A string and its count. key points into the table (not NUL-terminated): valid until the next counted_add. */
typedef struct counted_entry_s {
    const char *key;
    size_t len;
    uint64_t count;
} counted_entry_t;

/* The ranking of counted_top: count descending, then the key ascending or descending (byte order, a prefix first). */
typedef enum { COUNTED_KEY_ASC, COUNTED_KEY_DESC } counted_order_t;

/* @returns an empty table sized for about expected strings; the caller frees it with counted_free. */
counted_t *counted_new(size_t expected);
void counted_free(counted_t *c);
/* Empties the table, keeping its memory (a window reused). */
void counted_clear(counted_t *c);

/* Adds delta to key[0..len) (copied on first sight; any bytes, "" included). @returns the new count. */
uint64_t counted_add(counted_t *c, const char *key, size_t len, uint64_t delta);
/* @returns the count of key[0..len), 0 when never seen. */
uint64_t counted_get(const counted_t *c, const char *key, size_t len);
/* @returns the i-th string in first-seen order, 0 <= i < counted_size(c). */
counted_entry_t counted_at(const counted_t *c, size_t i);

/* @returns the strings held. */
size_t counted_size(const counted_t *c);
/* @returns the sum of all counts. */
uint64_t counted_total(const counted_t *c);
/* @returns the bytes held (table, entries, arena). */
size_t counted_bytes(const counted_t *c);

/* The top n entries into out[0..n) by order. @returns how many were written: min(n, counted_size(c)). */
size_t counted_top(const counted_t *c, size_t n, counted_order_t order, counted_entry_t *out);
/* true when a ranks before b in order. */
bool counted_ranks_before(const counted_entry_t *a, const counted_entry_t *b, counted_order_t order);

#endif
