/*
 * evicted_log: equipment_windows.csv, every window the watermark let go, each row once. Rows come from the windows'
 * eviction (evicted_log_on_row is the views' eviction callback), wait in memory and are appended by a write on the
 * threadpool once a second, fdatasync'ed before a snapshot may count them as written.
 *
 * Its part of the state is the file's length after the last completed append and the rows not yet in it
 * (evicted_log_state): the snapshot saves both with the views. A restart cuts the file back to that length and
 * appends those rows again (evicted_log_restore), and the replay of the topic from the snapshot's offsets evicts the
 * rest again: each window is in the file exactly once, whatever crashed when.
 */
#ifndef QUERY_EVICTED_LOG_H
#define QUERY_EVICTED_LOG_H

#include <stdint.h>
#include <uv.h>

#include "buf.h"

#define EVICTED_LOG_FILE "equipment_windows.csv"

typedef struct evicted_log_s evicted_log_t;

/* @returns the log of dir/equipment_windows.csv (dir must exist); nothing is written before evicted_log_restore. */
evicted_log_t *evicted_log_new(uv_loop_t *loop, const char *dir);

/* The views' eviction callback (data: the log): queues one row of an evicted window. */
void evicted_log_on_row(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                        uint64_t count);

/* For a snapshot: @returns the file's length after the last completed append; pending gets the rows not yet in it. */
int64_t evicted_log_state(const evicted_log_t *log, buf_t *pending);

/*
 * At start: the file back to what the restored state accounts for, then appends go on from there. file_len from the
 * snapshot (0 with none: the replay from the topic's start writes every row again; -1: a snapshot without the
 * record, keep the file), pending its rows not yet written. Blocking file I/O: start-up only.
 */
void evicted_log_restore(evicted_log_t *log, int64_t file_len, const char *pending, size_t len);

/* The state was thrown away (a topic reset): the file is emptied, like the views. A write in progress ends first. */
void evicted_log_reset(evicted_log_t *log);

/* Called once a close has appended every row and freed the log. */
typedef void (*evicted_log_closed_cb)(void *data);
/*
 * Shutdown: stops the timer; once a write in progress ends, the rows still waiting are appended (on the
 * threadpool), then the log is freed and on_closed (may be NULL) called, from the loop.
 */
void evicted_log_close(evicted_log_t *log, evicted_log_closed_cb on_closed, void *data);

#endif
