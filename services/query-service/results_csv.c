#include "results_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "atomic_file.h"
#include "buf.h"
#include "log.h"
#include "timestamp.h"

#define CSV_INTERVAL_MS 1000
#define CSV_TOP_N 10

enum { CSV_TOP_AIRPORTS, CSV_TOP_WINDOWS, CSV_DUMP_TABLE, CSV_FILES };
static const char *const csv_names[CSV_FILES] = {"top10_source_airport.csv", "top10_equipment_30min_window.csv",
                                                 "dump_table.csv"};

struct results_csv_s {
    uv_loop_t *loop;
    char *dir;
    views_t *views;
    uv_timer_t timer;
    uv_work_t work;
    bool writing;
    bool closing;      /* results_csv_close: the final write comes after the one in progress */
    bool final_queued;
    int open_handles;  /* the timer and the idle handle, until their close callbacks ran */
    results_csv_closed_cb on_closed;
    void *on_closed_data;
    uint64_t written_version;
    buf_t files[CSV_FILES]; /* rendered on the loop, written by the threadpool */
    uv_idle_t render_idle; /* renders the next slice of dump_table.csv between loop iterations */
    bool rendering;
    uint64_t dump_next, dump_end; /* recent-ring sequence numbers still to render */
    char error[256];
};

/* ",<v>" */
static void csv_int(buf_t *out, int64_t v)
{
    buf_append_char(out, ',');
    buf_append_i64(out, v);
}

static void render_files(results_csv_t *csv)
{
    views_t *v = csv->views;
    buf_t *out = &csv->files[CSV_TOP_AIRPORTS];
    buf_reset(out);
    buf_append_str(out, "source_airport,count\n");
    counted_entry_t airports[CSV_TOP_N];
    size_t n = counted_top(views_airports(v), CSV_TOP_N, COUNTED_KEY_ASC, airports);
    for (size_t i = 0; i < n; i++) {
        buf_append_csv_field(out, airports[i].key, airports[i].len);
        buf_printf(out, ",%llu\n", (unsigned long long)airports[i].count);
    }

    out = &csv->files[CSV_TOP_WINDOWS];
    buf_reset(out);
    buf_append_str(out, "start,end,equipment,count\n");
    window_count_t windows[CSV_TOP_N];
    n = windows_top(views_windows(v), CSV_TOP_N, windows);
    for (size_t i = 0; i < n; i++) {
        char start[TIMESTAMP_WINDOW_LEN + 1], end[TIMESTAMP_WINDOW_LEN + 1];
        timestamp_format_window(windows[i].start_us, start);
        timestamp_format_window(windows[i].end_us, end);
        buf_printf(out, "%s,%s,", start, end);
        buf_append_csv_field(out, windows[i].equipment, windows[i].len);
        buf_printf(out, ",%llu\n", (unsigned long long)windows[i].count);
    }

    /* dump_table.csv is rendered in slices (render_dump_rows), so a 100,000-row table never stalls the loop. */
    out = &csv->files[CSV_DUMP_TABLE];
    buf_reset(out);
    buf_append_str(out, "id,datetime,airline,airline_id,source_airport,source_airport_id,destination_airport,"
                        "destination_airport_id,codeshare,stops,equipment\n");
    recent_t *recent = views_recent(v);
    csv->dump_end = recent_total_pushed(recent);
    csv->dump_next = csv->dump_end - recent_count(recent);
}

/* Appends up to max rows of dump_table.csv. @returns true when the table is complete. */
static bool render_dump_rows(results_csv_t *csv, uint64_t max)
{
    buf_t *out = &csv->files[CSV_DUMP_TABLE];
    recent_t *recent = views_recent(csv->views);
    for (uint64_t n = 0; n < max && csv->dump_next < csv->dump_end; n++, csv->dump_next++) {
        recent_row_t row;
        if (!recent_get_seq(recent, csv->dump_next, &row))
            continue; /* overwritten since rendering began */
        char when[TIMESTAMP_EVENT_LEN + 1];
        timestamp_format_event(row.datetime_us, when);
        /* Integers and fixed strings without printf: this loop renders up to 100,000 rows a second. */
        buf_append_csv_field(out, row.id, row.id_len);
        buf_append_char(out, ',');
        buf_append(out, when, TIMESTAMP_EVENT_LEN);
        buf_append_char(out, ',');
        buf_append_csv_field(out, row.airline, row.airline_len);
        csv_int(out, row.airline_id);
        buf_append_char(out, ',');
        buf_append_csv_field(out, row.source_airport, row.source_airport_len);
        csv_int(out, row.source_airport_id);
        buf_append_char(out, ',');
        buf_append_csv_field(out, row.destination_airport, row.destination_airport_len);
        csv_int(out, row.destination_airport_id);
        buf_append_str(out, row.codeshare ? ",true" : ",false");
        csv_int(out, row.stops);
        buf_append_char(out, ',');
        buf_append_csv_field(out, row.equipment, row.equipment_len);
        buf_append_char(out, '\n');
    }
    return csv->dump_next >= csv->dump_end;
}

/* Threadpool (or shutdown): the disk writes. Touches only the rendered buffers. */
static void write_files(results_csv_t *csv)
{
    char path[4096];
    csv->error[0] = '\0';
    for (int i = 0; i < CSV_FILES; i++) {
        snprintf(path, sizeof(path), "%s/%s", csv->dir, csv_names[i]);
        if (atomic_file_write(path, csv->files[i].data, csv->files[i].len, false, csv->error, sizeof(csv->error)) != 0)
            return;
    }
}

static void on_work(uv_work_t *req)
{
    write_files(req->data);
}

static void final_write(results_csv_t *csv);

static void on_work_done(uv_work_t *req, int status)
{
    results_csv_t *csv = req->data;
    csv->writing = false;
    if (status == 0 && csv->error[0] != '\0')
        log_error("results_write_failed", "%s", csv->error);
    /* dump_table.csv is some 13 MB for 100,000 rows: given back between writes rather than held. */
    buf_free(&csv->files[CSV_DUMP_TABLE]);
    if (csv->closing)
        final_write(csv);
}

#define DUMP_ROWS_PER_SLICE 4096

static void on_render_idle(uv_idle_t *idle)
{
    results_csv_t *csv = idle->data;
    if (!render_dump_rows(csv, DUMP_ROWS_PER_SLICE))
        return;
    uv_idle_stop(idle);
    csv->rendering = false;
    csv->work.data = csv;
    uv_queue_work(csv->loop, &csv->work, on_work, on_work_done);
}

static void on_timer(uv_timer_t *t)
{
    results_csv_t *csv = t->data;
    uint64_t version = views_version(csv->views);
    if (csv->writing || version == csv->written_version)
        return;
    render_files(csv);
    csv->written_version = version;
    csv->writing = true;
    csv->rendering = true;
    uv_idle_start(&csv->render_idle, on_render_idle);
}

results_csv_t *results_csv_new(uv_loop_t *loop, const char *dir)
{
    results_csv_t *csv = xcalloc(1, sizeof(*csv));
    csv->loop = loop;
    csv->dir = xstrdup(dir);
    csv->written_version = UINT64_MAX;
    uv_timer_init(loop, &csv->timer);
    csv->timer.data = csv;
    uv_idle_init(loop, &csv->render_idle);
    csv->render_idle.data = csv;
    return csv;
}

void results_csv_set_views(results_csv_t *csv, views_t *views)
{
    csv->views = views;
    csv->written_version = UINT64_MAX;
    /* A dump_table.csv being rendered in slices was of the views before: render it again from these. */
    if (csv->rendering)
        render_files(csv);
    uv_timer_start(&csv->timer, on_timer, CSV_INTERVAL_MS, CSV_INTERVAL_MS);
}

static void on_handle_closed(uv_handle_t *h)
{
    results_csv_t *csv = h->data;
    if (--csv->open_handles > 0)
        return;
    for (int i = 0; i < CSV_FILES; i++)
        buf_free(&csv->files[i]);
    results_csv_closed_cb cb = csv->on_closed;
    void *data = csv->on_closed_data;
    free(csv->dir);
    free(csv);
    if (cb != NULL)
        cb(data);
}

/* Closing: the files once more, whole (rendered at once: the loop is ending), then the handles. */
static void final_write(results_csv_t *csv)
{
    if (csv->writing)
        return; /* its end comes back here */
    if (!csv->final_queued && csv->views != NULL) {
        csv->final_queued = true;
        render_files(csv);
        render_dump_rows(csv, UINT64_MAX);
        csv->writing = true;
        csv->work.data = csv;
        uv_queue_work(csv->loop, &csv->work, on_work, on_work_done);
        return;
    }
    csv->open_handles = 2;
    uv_close((uv_handle_t *)&csv->render_idle, on_handle_closed);
    uv_close((uv_handle_t *)&csv->timer, on_handle_closed);
}

void results_csv_close(results_csv_t *csv, results_csv_closed_cb on_closed, void *data)
{
    if (csv->closing)
        return;
    csv->closing = true;
    csv->on_closed = on_closed;
    csv->on_closed_data = data;
    uv_timer_stop(&csv->timer);
    /* A dump_table.csv being rendered in slices is given up: the final write renders everything. */
    if (csv->rendering) {
        uv_idle_stop(&csv->render_idle);
        csv->rendering = false;
        csv->writing = false;
    }
    final_write(csv);
}
