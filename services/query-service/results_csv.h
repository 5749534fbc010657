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

#include "views.h"

typedef struct results_csv_s results_csv_t;

/* @returns the writer (dir must exist); it starts checking once given views. */
results_csv_t *results_csv_new(uv_loop_t *loop, const char *dir);
/* The views' eviction callback: queues one evicted window row for equipment_windows.csv. */
void results_csv_on_evicted(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                            uint64_t count);
/* The views to write; from then on checked every second. */
void results_csv_set_views(results_csv_t *csv, views_t *views);
/* Shutdown: stop the timer, write everything now (blocking: the loop is ending), free. */
void results_csv_close(results_csv_t *csv);

#endif
