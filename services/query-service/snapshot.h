/*
 * snapshot: the views and every partition's next offset, saved together as one file
 * (<state dir>/snapshot.bin), so a restart resumes exactly where the saved state ends.
 *
 * Format (integers little-endian):
 *   header   "FRSNAP01", u32 version (1), u32 zero, u64 body length
 *   body     sections: u32 tag, u32 zero, u64 length, bytes; each of TOPIC, OFFSETS, CONFIG, AIRPORTS,
 *            WINDOWS, RECENT exactly once, EVICTED at most once (unknown tags are skipped)
 *   trailer  u64 CRC-64-AVRO (route_schema_crc64_avro) of header and body
 * Loading checks everything (lengths, bounds, CRC, duplicates, window alignment, that the airport
 * counts add up to the events applied) before handing out anything.
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

/*
 * Serializes v, the n pairs (partitions[i], offsets[i]), the topic name and evicted (NULL: no record) into out
 * (reset first).
 * Runs on the loop thread: a copy of the state, no CRC yet (snapshot_write_file seals it), no I/O.
 */
void snapshot_serialize(views_t *v, const int32_t *partitions, const int64_t *offsets, size_t n, const char *topic,
                        const snapshot_evicted_t *evicted, buf_t *out);

/* Fills in the CRC trailer of a serialized snapshot (idempotent). snapshot_write_file calls it. */
void snapshot_seal(buf_t *snap);

/*
 * Seals snap and writes it to dir/snapshot.bin durably: temp file, fsync, rename, fsync of dir.
 * Touches only snap and the disk: meant for a threadpool thread while the loop goes on.
 * @returns 0, or -1 with errstr.
 */
int snapshot_write_file(const char *dir, buf_t *snap, char *errstr, size_t errstr_size);

/*
 * Loads dir/snapshot.bin into new views built from cfg (same window size and grace required; the
 * retention and the recent capacity may differ: a smaller capacity keeps the newest rows).
 * On 0: *views_out (caller frees with views_free), *partitions_out and *offsets_out (n_out entries,
 * caller frees with free(); NULL when n_out is 0), topic (NUL-terminated, topic_size bytes) and, when
 * evicted_out is not NULL, its file_len (-1 when the snapshot has no record) and pending are set.
 * Otherwise they are NULL / 0 / "" and nothing is allocated.
 * @returns 0 loaded; 1 no snapshot in dir; -1 unreadable or corrupt, with the reason in errstr.
 */
int snapshot_load(const char *dir, const views_config_t *cfg, views_t **views_out, int32_t **partitions_out,
                  int64_t **offsets_out, size_t *n_out, char *topic, size_t topic_size, snapshot_evicted_t *evicted_out,
                  char *errstr, size_t errstr_size);

/* snapshot_load on bytes in memory (tests, fuzzing). @returns 0, or -1 with errstr. */
int snapshot_load_buffer(const void *data, size_t len, const views_config_t *cfg, views_t **views_out,
                         int32_t **partitions_out, int64_t **offsets_out, size_t *n_out, char *topic,
                         size_t topic_size, snapshot_evicted_t *evicted_out, char *errstr, size_t errstr_size);

#endif
