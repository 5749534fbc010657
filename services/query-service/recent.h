/*
 * recent: a bounded ring of the most recent events in consumption order, the /dump_table view.
 * Each slot stores the 11 fields inline (the five strings packed in a 96-byte area that fits every
 * routes.dat row); a row whose strings do not fit gets one heap block, freed when its slot is
 * overwritten. So pushing allocates nothing in the steady state. Every pushed event gets a sequence
 * number (0, 1, 2, ...) so readers can stream a range while new events arrive. Single-threaded.
 */
#ifndef QUERY_RECENT_H
#define QUERY_RECENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "route_event.h"

typedef struct recent_s recent_t;

#define RECENT_DEFAULT_CAPACITY 100000

/* One event as stored. Strings are not NUL-terminated and point into the ring: valid until the next push. */
typedef struct recent_row_s {
    const char *id;
    size_t id_len;
    int64_t datetime_us;
    const char *airline;
    size_t airline_len;
    int32_t airline_id;
    const char *source_airport;
    size_t source_airport_len;
    int32_t source_airport_id;
    const char *destination_airport;
    size_t destination_airport_len;
    int32_t destination_airport_id;
    bool codeshare;
    int32_t stops;
    const char *equipment;
    size_t equipment_len;
} recent_row_t;

/* @returns an empty ring of capacity rows (0: RECENT_DEFAULT_CAPACITY); the caller frees it with recent_free. */
recent_t *recent_new(size_t capacity);
void recent_free(recent_t *r);

/*
 * Appends ev (event time datetime_us) as the newest row, overwriting the oldest when full. The strings
 * are copied; the int fields are stored as the schema's 32-bit ints (validated upstream).
 */
void recent_push(recent_t *r, const route_event_t *ev, int64_t datetime_us);
/* Appends a row given field by field (restoring a snapshot). */
void recent_push_row(recent_t *r, const recent_row_t *row);

/* @returns the rows held (at most the capacity). */
uint64_t recent_count(const recent_t *r);
size_t recent_capacity(const recent_t *r);
/* @returns how many rows were ever pushed: the sequence number the next push gets. */
uint64_t recent_total_pushed(const recent_t *r);
/* Restoring a snapshot: on an empty ring, sets the sequence number of the next push; else nothing. */
void recent_set_total_pushed(recent_t *r, uint64_t total);

/* The row index rows after the oldest held (0 = oldest). @returns false if index >= recent_count. */
bool recent_get(const recent_t *r, uint64_t index, recent_row_t *row);
/* The row with sequence number seq. @returns false if it was overwritten already or is not pushed yet. */
bool recent_get_seq(const recent_t *r, uint64_t seq, recent_row_t *row);

/* @returns the bytes held (slots and heap blocks), for /status. */
size_t recent_bytes(const recent_t *r);

#endif
