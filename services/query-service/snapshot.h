/*
 * snapshot: the views and where they stand in every partition, saved together as one file
 * (<state dir>/snapshot.bin), so a restart resumes exactly where the saved state ends. Written by
 * snapshot_write.c, read by snapshot_read.c, both over binio.h; the layout is in snapshot_format.h.
 *
 * Format (integers little-endian):
 *   header   "FRSNAP01", u32 version (1), u32 zero, u64 body length
 *   body     sections: u32 tag, u32 zero, u64 length, bytes; each of TOPIC, OFFSETS, CONFIG, AIRPORTS,
 *            WINDOWS, RECENT exactly once; EVICTED, POSITIONS, COUNTERS, META, TIMES, SLIDE at most once.
 *            Sections are only ever added and unknown tags are skipped, so a release reads the snapshots of the
 *            releases before it and after it (tests/unit/data/snapshot-1ef21c0.bin is one of release 1ef21c0).
 *   trailer  u64 CRC-64-AVRO (route_schema_crc64_avro) of header and body
 * Loading checks everything (lengths, bounds, CRC, duplicates, window alignment, that the airport
 * counts add up to the events applied, that the offsets account for the views) before handing out anything.
 */
#ifndef QUERY_SNAPSHOT_H
#define QUERY_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "views.h"

#define SNAPSHOT_FILE_NAME "snapshot.bin"

/*
 * What of equipment_windows.csv the snapshot's state accounts for, so that a restart neither repeats nor loses
 * an evicted window: the file's length when the snapshot was taken, and the rows already evicted from the state
 * but not yet in the file. On restore the file is cut back to file_len and pending is appended again.
 */
typedef struct snapshot_evicted_s {
    int64_t file_len; /* -1: unknown (a snapshot from before this record) */
    buf_t pending;
} snapshot_evicted_t;

/* The state a snapshot holds: the views (with their positions, views.h) and what goes with them. */
typedef struct snapshot_state_s {
    views_t *views;
    char *topic;                /* the topic the views are of */
    snapshot_evicted_t evicted; /* file_len -1: no record */
    int64_t current_at_us;      /* wall clock when the views last held all the topic held; 0: not recorded */
} snapshot_state_t;

/* Frees what snapshot_load handed out (views, topic, evicted rows) and zeroes s. */
void snapshot_state_clear(snapshot_state_t *s);

/*
 * Serializes s into out (reset first). Runs on the loop thread: a copy of the state, no CRC yet
 * (snapshot_write_file seals it), no I/O.
 */
void snapshot_serialize(const snapshot_state_t *s, buf_t *out);

/* Fills in the CRC trailer of a serialized snapshot (idempotent). snapshot_write_file calls it. */
void snapshot_seal(buf_t *snap);

/*
 * Seals snap and writes it to dir/snapshot.bin atomically: temp file, rename. Not fsync'ed: a snapshot is a cache
 * of the topic (an older one, or one torn by a power loss and refused by its checksum, costs a longer replay,
 * never a wrong view), and an fsync every few seconds flushes the journal with the broker's log under it.
 * Touches only snap and the disk: meant for a threadpool thread while the loop goes on.
 * @returns 0, or -1 with errstr.
 */
int snapshot_write_file(const char *dir, buf_t *snap, char *errstr, size_t errstr_size);

/*
 * Loads dir/snapshot.bin into *out, its views built from cfg (same window size and grace required; the retention
 * and the recent capacity may differ: a smaller capacity keeps the newest rows). All or nothing: on 0 out holds
 * the whole state (the caller frees it with snapshot_state_clear), otherwise out is empty and nothing is held.
 * @returns 0 loaded; 1 no snapshot in dir; -1 unreadable or corrupt, with the reason in errstr.
 */
int snapshot_load(const char *dir, const views_config_t *cfg, snapshot_state_t *out, char *errstr, size_t errstr_size);

/* snapshot_load on bytes in memory (tests, fuzzing). @returns 0, or -1 with errstr. */
int snapshot_load_buffer(const void *data, size_t len, const views_config_t *cfg, snapshot_state_t *out, char *errstr,
                         size_t errstr_size);

#endif
