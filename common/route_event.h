/*
 * route_event: the AirlineRouteEvent: one routes.dat line parsed with the seed's rules, stamped
 * with an id and a time. String fields are slices into the caller's buffer (the line, or a decoded
 * message): nothing is allocated per event.
 */
#ifndef COMMON_ROUTE_EVENT_H
#define COMMON_ROUTE_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timestamp.h"

typedef struct str_slice_s {
    const char *ptr;
    size_t len;
} str_slice_t;

#define ROUTE_EVENT_ID_LEN 36 /* canonical UUID text */
#define ROUTE_EVENT_FIELDS 9  /* fields in a routes.dat line */

typedef struct route_event_s {
    str_slice_t id;       /* after stamping, points at id_buf */
    str_slice_t datetime; /* after stamping, points at datetime_buf */
    str_slice_t airline;
    int64_t airline_id; /* int64 so an out-of-range value reaches validation (schema says int) */
    str_slice_t source_airport;
    int64_t source_airport_id;
    str_slice_t destination_airport;
    int64_t destination_airport_id;
    bool codeshare;
    int64_t stops;
    str_slice_t equipment;
    char id_buf[ROUTE_EVENT_ID_LEN + 1];
    char datetime_buf[TIMESTAMP_EVENT_LEN + 1];
} route_event_t;

typedef enum {
    ROUTE_EVENT_OK = 0,
    ROUTE_EVENT_TRANSFORM_FAILED = -1, /* seed: "A variable type transformation failed" */
    ROUTE_EVENT_SCHEMA_INVALID = -2,   /* seed: "Schema invalid" */
} route_event_status_t;

/*
 * Parses one line (without its '\n'; a trailing '\r' is ignored) into ev. Strings point into line.
 * Seed rules: exactly 9 comma-separated fields, else a transform failure; each of airline_id,
 * source_airport_id, destination_airport_id and stops must be a decimal integer (optional sign and
 * surrounding blanks, as Python's int()), and OpenFlights' "\N" is not; codeshare is true only for "Y".
 * @returns ROUTE_EVENT_OK or ROUTE_EVENT_TRANSFORM_FAILED with a reason in errstr.
 */
route_event_status_t route_event_parse(const char *line, size_t len, route_event_t *ev, char *errstr, size_t errstr_size);

/* Gives ev a random UUID v4 (libuuid) and the time us in the event format. */
void route_event_stamp(route_event_t *ev, int64_t now_us);

/*
 * Checks ev against the schema's types: every string valid UTF-8, every int within 32 bits.
 * @returns ROUTE_EVENT_OK or ROUTE_EVENT_SCHEMA_INVALID with the field and reason in errstr.
 */
route_event_status_t route_event_validate(const route_event_t *ev, char *errstr, size_t errstr_size);

/* The seed's words for a status: "A variable type transformation failed", "Schema invalid". */
const char *route_event_status_text(route_event_status_t status);

#endif
