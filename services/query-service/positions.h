/*
 * positions: where the state stands in each partition of the topic. For each partition: the next offset to
 * apply, a fingerprint of the message applied last (so that a restart can tell that the partition it resumes is
 * still the one the state was built from, and not a topic deleted and created again under the same name), and
 * how many offsets the state never read because the topic had deleted them first (retention), and the
 * partition's event time: the latest event time applied from it (views.h makes its watermark of it).
 *
 * Part of the views (views.h): an offset moves only together with the views it accounts for, and a snapshot
 * saves both from the one struct. Partition ids index a dense array, grown on first sight. Single-threaded.
 */
#ifndef QUERY_POSITIONS_H
#define QUERY_POSITIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct positions_s positions_t;

typedef struct position_s {
    int64_t next_offset;  /* the next offset to apply; 0 = from the beginning */
    uint64_t fingerprint; /* of the message at next_offset - 1; 0 = unknown (none applied, or skipped past) */
    uint64_t skipped;     /* offsets deleted from the topic before the state read them */
    bool has_time;        /* an event was applied from the partition */
    int64_t event_us;     /* the latest event time applied from it */
} position_t;

/* Where one message sits in the topic, and what it was (positions_fingerprint of its bytes). */
typedef struct record_id_s {
    int32_t partition;
    int64_t offset;
    uint64_t fingerprint;
} record_id_t;

/* @returns an empty table (every partition at offset 0) the caller frees with positions_free. */
positions_t *positions_new(void);
void positions_free(positions_t *p);

/* The message rec was applied (or skipped as undecodable): its partition goes on at rec->offset + 1. */
void positions_advance(positions_t *p, const record_id_t *rec);
/*
 * The partition's offsets before first_kept are gone from the topic: counts those the state had not read as
 * skipped and moves on to first_kept. @returns how many were skipped (0 when the state was already past them).
 */
uint64_t positions_skip_to(positions_t *p, int32_t partition, int64_t first_kept);
/* An event at event_us was applied from partition: its event time moves on if that is later. @returns true if
 * it did. */
bool positions_note_time(positions_t *p, int32_t partition, int64_t event_us);
/* Partitions 0..count-1 exist (a new one at offset 0, without an event time). */
void positions_ensure(positions_t *p, size_t count);
/* Restoring a snapshot: sets a partition's position as saved. */
void positions_set(positions_t *p, int32_t partition, const position_t *pos);

/* @returns the partition's position; an unknown partition is at offset 0 with nothing skipped. */
position_t positions_get(const positions_t *p, int32_t partition);
/* @returns one past the highest partition id known (partitions 0..n-1 can be read with positions_get). */
size_t positions_count(const positions_t *p);
/* @returns the offsets skipped over every partition. */
uint64_t positions_skipped_total(const positions_t *p);

/*
 * A 64-bit fingerprint of a message: its timestamp, key, length and first bytes of value (an event's id, a
 * random UUID, is in its first 48 bytes). Never 0. Cheap enough for every message.
 */
uint64_t positions_fingerprint(int64_t timestamp, const void *key, size_t key_len, const void *value,
                               size_t value_len);

#endif
