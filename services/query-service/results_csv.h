/*
 * results_csv: the query-service's CSV files under the results directory, rewritten atomically
 * (temp file + rename) when the views changed, at most once a second, and at shutdown:
 *   top10_source_airport.csv, top10_equipment_30min_window.csv, dump_table.csv
 * and equipment_windows.csv, to which evicted windows are appended. Rendering happens on the loop
 * (it reads the views); the disk writes run on the threadpool.
 */
#ifndef QUERY_RESULTS_CSV_H
#define QUERY_RESULTS_CSV_H

#include <stdint.h>
#include <uv.h>

#include "buf.h"
#include "views.h"

typedef struct results_csv_s results_csv_t;

/* @returns the writer (dir must exist); it starts checking once given views. */
results_csv_t *results_csv_new(uv_loop_t *loop, const char *dir);
/* The views' eviction callback: queues one evicted window row for equipment_windows.csv. */
void results_csv_on_evicted(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                            uint64_t count);
#define RESULTS_CSV_EVICTED_FILE "equipment_windows.csv"

/*
 * For a snapshot: @returns equipment_windows.csv's length after the last completed append, and fills pending
 * with the rows evicted from the views but not yet in the file (in flight or waiting).
 */
int64_t results_csv_evicted_state(const results_csv_t *csv, buf_t *pending);
/*
 * At start, before the views are set: equipment_windows.csv back to what the restored state accounts for.
 * file_len from the snapshot (0 with no snapshot: the replay from the topic's start writes every row again;
 * -1: unknown, keep the file), pending its rows not yet written. Blocking file I/O: start-up only.
 */
void results_csv_restore_evicted(results_csv_t *csv, int64_t file_len, const char *pending, size_t len);
/*
 * The state was thrown away (a topic reset): equipment_windows.csv is emptied, like the views, and refilled as the
 * new views evict windows. A write in progress finishes first.
 */
void results_csv_reset_evicted(results_csv_t *csv);
/* The views to write (again, after a reset: the files are rewritten from them); from then on checked every second. */
void results_csv_set_views(results_csv_t *csv, views_t *views);
/* Shutdown: stop the timer, write everything now (blocking: the loop is ending), free. */
void results_csv_close(results_csv_t *csv);

#endif
