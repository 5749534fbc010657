/*
 * tables: the reference tables (airports, airlines, planes) as the query-service holds them, each the latest
 * entry per code of its compacted topic (reference_kind.h), as a Kafka Streams GlobalKTable holds a topic: a
 * message replaces the code's entry, a tombstone (no value) deletes it. They are not part of the snapshot: every
 * start reads the topics again from their beginning, so the tables are always a function of the topics, and the
 * joined views, computed from the views and the tables when asked, follow a correction at once.
 * Single-threaded (the loop).
 */
#ifndef QUERY_TABLES_H
#define QUERY_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reference_kind.h"

/* One code's entry. Strings NUL-terminated, NULL when the entry has none; valid until the next tables_apply. */
typedef struct table_entry_s {
    const char *name;
    const char *city;    /* airports */
    const char *country; /* airports, airlines */
    bool has_position;   /* airports: latitude and longitude, in degrees */
    double latitude, longitude;
    const char *latitude_text, *longitude_text; /* as published, so the views print them unchanged */
} table_entry_t;

typedef struct tables_s tables_t;

typedef struct tables_stats_s {
    size_t entries;      /* codes held */
    uint64_t messages;   /* messages read */
    uint64_t tombstones; /* of which deletions */
    uint64_t invalid;    /* values that are not an entry (not a JSON object, a field of the wrong type): skipped */
} tables_stats_t;

tables_t *tables_new(void);
void tables_free(tables_t *t);

/*
 * Applies one message of kind's topic: key the code, value the JSON entry, or value NULL a tombstone.
 * @returns 0, or -1 when there is no key or the value is not an entry (counted in invalid; the code's entry is
 *          left as it was).
 */
int tables_apply(tables_t *t, reference_kind_t kind, const char *key, size_t key_len, const char *value,
                 size_t value_len);

/* Empties kind's table and its counts, as if its topic had never been read (the topic was created again). */
void tables_clear(tables_t *t, reference_kind_t kind);

/* @returns code's entry in kind's table, or NULL when there is none. */
const table_entry_t *tables_get(const tables_t *t, reference_kind_t kind, const char *code, size_t len);

void tables_stats(const tables_t *t, reference_kind_t kind, tables_stats_t *out);
/* Moves whenever an entry changes: joined views are tagged (ETag) with it beside the views' own version. */
uint64_t tables_version(const tables_t *t);

#endif
