/*
 * joined: the views joined with the reference tables (tables.h), computed when asked from the views' counts
 * (views.h, route_counts.h) and the tables as they are then, so a correction on a reference topic shows in the
 * next answer. A code with no reference entry is never dropped: it is counted, its joined fields are null, and
 * joined_unmatched says how many codes and events that concerns. Each function returns a JSON array for the
 * envelope's data (the caller puts it), rows in a total order, so equal inputs give equal bytes.
 */
#ifndef QUERY_JOINED_H
#define QUERY_JOINED_H

#include <stddef.h>
#include <stdint.h>

#include "tables.h"
#include "views.h"

/*
 * Source airports by routes (count desc, code asc), the first n: {count, source_airport, name, city, country,
 * latitude, longitude}.
 */
struct json_object *joined_source_airports(views_t *v, const tables_t *t, size_t n);
/* Routes per country of their source airport (count desc, country asc; null: airports without an entry last
 * among equals): {country, count, airports}, the first n. */
struct json_object *joined_countries(views_t *v, const tables_t *t, size_t n);
/* Routes per airline code (count desc, code asc): {airline, count, name, country}, the first n. */
struct json_object *joined_airlines(views_t *v, const tables_t *t, size_t n);
/* Routes per plane code of their equipment (count desc, code asc): {equipment, count, name}, the first n. */
struct json_object *joined_planes(views_t *v, const tables_t *t, size_t n);
/*
 * Airport pairs by great-circle distance between the airports' coordinates (km, one decimal; desc, then source
 * and destination asc), the first n; pairs with an airport without coordinates come last, distance null:
 * {count, destination_airport, distance_km, source_airport}.
 */
struct json_object *joined_longest_routes(views_t *v, const tables_t *t, size_t n);

/* What the join could not match in kind's table: distinct codes, and the events that name them. */
typedef struct joined_unmatched_s {
    uint64_t codes;
    uint64_t events;
} joined_unmatched_t;
void joined_unmatched(views_t *v, const tables_t *t, reference_kind_t kind, joined_unmatched_t *out);

/* Great-circle distance in km between two points given in degrees (haversine, mean Earth radius 6371.0088 km). */
double joined_distance_km(double lat1, double lon1, double lat2, double lon2);

#endif
