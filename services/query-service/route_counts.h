/*
 * route_counts: the counts the joined views need beside the seed's (views.h): events per airline code, per
 * (source, destination) airport pair, and per plane code (an event's equipment lists its planes' codes separated
 * by spaces: each one counts). Part of the views' state, saved with them in the snapshot. Single-threaded.
 */
#ifndef QUERY_ROUTE_COUNTS_H
#define QUERY_ROUTE_COUNTS_H

#include <stddef.h>

#include "counted.h"
#include "route_event.h"

/* A pair's key: source, this byte, destination (codes never hold it). */
#define ROUTE_COUNTS_PAIR_SEP ' '

typedef struct route_counts_s {
    counted_t *airlines;
    counted_t *pairs;
    counted_t *planes;
} route_counts_t;

void route_counts_init(route_counts_t *rc);
void route_counts_free(route_counts_t *rc);
/* Counts one event. Allocates only for a code or pair seen for the first time. */
void route_counts_add(route_counts_t *rc, const route_event_t *ev);
size_t route_counts_bytes(const route_counts_t *rc);

#endif
