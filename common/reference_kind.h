/*
 * reference_kind: the OpenFlights reference tables beside the stream (airports.dat, airlines.dat, planes.dat),
 * as both services name them. The ingest-gateway publishes each to a compacted topic "<events topic>.<name>",
 * one message per code: key the code, value a JSON object (fields in README.md, "Reference data"), no value (a
 * tombstone) to delete the code. The query-service reads those topics as tables.
 */
#ifndef COMMON_REFERENCE_KIND_H
#define COMMON_REFERENCE_KIND_H

#include <stddef.h>

typedef enum { REFERENCE_AIRPORTS, REFERENCE_AIRLINES, REFERENCE_PLANES, REFERENCE_KINDS } reference_kind_t;

/* "airports", "airlines", "planes". */
const char *reference_kind_name(reference_kind_t kind);

/* The topic of kind beside the events topic: "<topic>.<name>" into out. @returns 0, or -1 if it does not fit. */
int reference_kind_topic(const char *topic, reference_kind_t kind, char *out, size_t out_size);

#endif
