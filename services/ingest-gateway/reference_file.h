/*
 * reference_file: an OpenFlights reference file (airports.dat, airlines.dat, planes.dat) read into the messages
 * of its compacted topic (reference_kind.h): one per code, key the code, value the entry as JSON.
 *
 * The files are CSV with double-quoted text fields and \N for "unknown". An entry is published under each of its
 * codes (IATA and ICAO), so a route that names an airport, an airline or a plane by either finds it. Where several
 * entries share a code the first in the file wins, except for airlines, where an active one wins over a defunct
 * one (airlines.dat reuses the IATA codes of airlines that no longer fly). A line that is not an entry (too few
 * fields, an id or a coordinate that is not a number) is counted as rejected and skipped.
 */
#ifndef INGEST_REFERENCE_FILE_H
#define INGEST_REFERENCE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "reference_kind.h"

typedef struct reference_message_s {
    size_t key_off, key_len;     /* in bytes */
    size_t value_off, value_len; /* in bytes */
} reference_message_t;

typedef struct reference_file_s {
    reference_kind_t kind;
    buf_t bytes; /* every key and value */
    reference_message_t *messages;
    size_t count;
    uint64_t lines;    /* lines read */
    uint64_t entries;  /* lines that are entries */
    uint64_t rejected; /* lines that are not */
    char error[512];   /* why the file could not be read; "" when it was */
} reference_file_t;

/*
 * Reads and parses path as a file of kind into *out (zeroed first). Blocking file I/O: call it off the loop.
 * @returns 0, or -1 with out->error (out is then empty but must still be freed).
 */
int reference_file_load(reference_file_t *out, reference_kind_t kind, const char *path);

/* Parses the file's bytes data[0..len) (reference_file_load without the I/O; tests). */
void reference_file_parse(reference_file_t *out, reference_kind_t kind, const char *data, size_t len);

void reference_file_free(reference_file_t *f);

#endif
