/*
 * results_csv: the query-service's CSV files under the results directory, rewritten atomically
 * (temp file + rename) when the views changed, at most once a second, and at shutdown:
 *   top10_source_airport.csv, top10_equipment_30min_window.csv, dump_table.csv
 * (equipment_windows.csv, where evicted windows go, is evicted_log.h's). Rendering happens on the loop (it reads
 * the views); the disk writes run on the threadpool.
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
/* The views to write (again, after a reset: the files are rewritten from them); from then on checked every second. */
void results_csv_set_views(results_csv_t *csv, views_t *views);
/* Called once a close has written the files and freed the writer. */
typedef void (*results_csv_closed_cb)(void *data);
/*
 * Shutdown: stops checking; once a write in progress ends, the files are written once more from the views (on the
 * threadpool), then the writer is freed and on_closed (may be NULL) called, from the loop.
 */
void results_csv_close(results_csv_t *csv, results_csv_closed_cb on_closed, void *data);

#endif
