#include "results_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
    uint64_t written_version;
    buf_t files[CSV_FILES]; /* rendered on the loop, written by the threadpool */
    buf_t evicted;          /* rows for equipment_windows.csv, appended on the next write */
    buf_t evicted_writing;  /* rows the write in progress appends */
    uint64_t evicted_file_len; /* equipment_windows.csv's length once the last append completed */
    uint64_t evicted_len_after; /* set by the write in progress: the length after its append */
    bool evicted_reset;         /* results_csv_reset_evicted waits for the write in progress */
    uv_idle_t render_idle; /* renders the next slice of dump_table.csv between loop iterations */
    bool rendering;
    uint64_t dump_next, dump_end; /* recent-ring sequence numbers still to render */
    char error[256];
};

/* RFC 4180: quote a field holding a comma, quote or line break (one pass to find out: the common case). */
static void csv_field(buf_t *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && s[i] != ',' && s[i] != '"' && s[i] != '\n' && s[i] != '\r')
        i++;
    if (i == len) {
        buf_append(out, s, len);
        return;
    }
    buf_append_char(out, '"');
    for (i = 0; i < len; i++) {
        if (s[i] == '"')
            buf_append_char(out, '"');
        buf_append_char(out, s[i]);
    }
    buf_append_char(out, '"');
}

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
        csv_field(out, airports[i].key, airports[i].len);
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
        csv_field(out, windows[i].equipment, windows[i].len);
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
        csv_field(out, row.id, row.id_len);
        buf_append_char(out, ',');
        buf_append(out, when, TIMESTAMP_EVENT_LEN);
        buf_append_char(out, ',');
        csv_field(out, row.airline, row.airline_len);
        csv_int(out, row.airline_id);
        buf_append_char(out, ',');
        csv_field(out, row.source_airport, row.source_airport_len);
        csv_int(out, row.source_airport_id);
        buf_append_char(out, ',');
        csv_field(out, row.destination_airport, row.destination_airport_len);
        csv_int(out, row.destination_airport_id);
        buf_append_str(out, row.codeshare ? ",true" : ",false");
        csv_int(out, row.stops);
        buf_append_char(out, ',');
        csv_field(out, row.equipment, row.equipment_len);
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
    if (csv->evicted_writing.len == 0)
        return;
    /*
     * Written at the known end rather than appended: whatever a failed or interrupted earlier write left past
     * evicted_file_len is overwritten, so the file always holds exactly what the snapshots account for.
     */
    snprintf(path, sizeof(path), "%s/%s", csv->dir, RESULTS_CSV_EVICTED_FILE);
    static const char header[] = "start,end,equipment,count\n";
    off_t at = (off_t)csv->evicted_file_len;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && ftruncate(fd, at) == 0;
    if (ok && at == 0) {
        ok = pwrite(fd, header, sizeof(header) - 1, 0) == (ssize_t)(sizeof(header) - 1);
        at = (off_t)(sizeof(header) - 1);
    }
    ok = ok && pwrite(fd, csv->evicted_writing.data, csv->evicted_writing.len, at) ==
                   (ssize_t)csv->evicted_writing.len;
    ok = ok && fdatasync(fd) == 0; /* durable before a snapshot may count it as written */
    if (!ok)
        snprintf(csv->error, sizeof(csv->error), "writing %.200s: %s", path, strerror(errno));
    else
        csv->evicted_len_after = (uint64_t)at + csv->evicted_writing.len;
    if (fd >= 0)
        close(fd);
}

/* Loop: the append ended; on failure its rows go back in front of those evicted since (retried next time). */
static void evicted_write_done(results_csv_t *csv)
{
    if (csv->evicted_writing.len == 0)
        return;
    if (csv->error[0] == '\0') {
        csv->evicted_file_len = csv->evicted_len_after;
    } else {
        buf_append(&csv->evicted_writing, csv->evicted.data, csv->evicted.len);
        buf_t t = csv->evicted;
        csv->evicted = csv->evicted_writing;
        csv->evicted_writing = t;
    }
    buf_reset(&csv->evicted_writing);
}

static void on_work(uv_work_t *req)
{
    write_files(req->data);
}

static void evicted_reset(results_csv_t *csv);

static void on_work_done(uv_work_t *req, int status)
{
    results_csv_t *csv = req->data;
    csv->writing = false;
    if (status == 0 && csv->error[0] != '\0')
        log_error("results_write_failed", "%s", csv->error);
    evicted_write_done(csv);
    if (csv->evicted_reset)
        evicted_reset(csv);
    /* dump_table.csv is some 13 MB for 100,000 rows: given back between writes rather than held. */
    buf_free(&csv->files[CSV_DUMP_TABLE]);
}

/* Hands the evicted rows to the writer: the loop keeps adding to `evicted` meanwhile. */
static void take_evicted(results_csv_t *csv)
{
    buf_t t = csv->evicted_writing;
    csv->evicted_writing = csv->evicted;
    csv->evicted = t;
    buf_reset(&csv->evicted);
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
    if (csv->writing || (version == csv->written_version && csv->evicted.len == 0))
        return;
    render_files(csv);
    take_evicted(csv);
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

/* Empties equipment_windows.csv: a truncate, a syscall the loop can afford on this rare path. */
static void evicted_reset(results_csv_t *csv)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", csv->dir, RESULTS_CSV_EVICTED_FILE);
    csv->evicted_reset = false;
    csv->evicted_file_len = 0;
    buf_reset(&csv->evicted);
    if (truncate(path, 0) != 0 && errno != ENOENT)
        log_error("results_write_failed", "truncating %s: %s", path, strerror(errno));
}

void results_csv_reset_evicted(results_csv_t *csv)
{
    /* Rows evicted by the old views and not yet written are dropped with them. */
    buf_reset(&csv->evicted);
    if (csv->writing)
        csv->evicted_reset = true;
    else
        evicted_reset(csv);
}

void results_csv_on_evicted(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                            uint64_t count)
{
    results_csv_t *csv = data;
    if (csv == NULL)
        return;
    char start[TIMESTAMP_WINDOW_LEN + 1], end[TIMESTAMP_WINDOW_LEN + 1];
    timestamp_format_window(start_us, start);
    timestamp_format_window(end_us, end);
    buf_printf(&csv->evicted, "%s,%s,", start, end);
    csv_field(&csv->evicted, equipment, len);
    buf_printf(&csv->evicted, ",%llu\n", (unsigned long long)count);
}

int64_t results_csv_evicted_state(const results_csv_t *csv, buf_t *pending)
{
    buf_reset(pending);
    if (csv->evicted_reset) { /* the write in progress is of the views thrown away: the file will be empty */
        buf_append(pending, csv->evicted.data, csv->evicted.len);
        return 0;
    }
    buf_append(pending, csv->evicted_writing.data, csv->evicted_writing.len);
    buf_append(pending, csv->evicted.data, csv->evicted.len);
    return (int64_t)csv->evicted_file_len;
}

void results_csv_restore_evicted(results_csv_t *csv, int64_t file_len, const char *pending, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", csv->dir, RESULTS_CSV_EVICTED_FILE);
    struct stat sb;
    uint64_t size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (file_len < 0) {
        csv->evicted_file_len = size; /* a snapshot without the record: append after what is there */
    } else if (size < (uint64_t)file_len) {
        log_warn("results_evicted_short", "%s holds %llu bytes, the snapshot counted %lld: rows are missing", path,
                 (unsigned long long)size, (long long)file_len);
        csv->evicted_file_len = size;
    } else {
        /* Rows written after the snapshot come again from the replay: cut them (done by the next write). */
        if (size > (uint64_t)file_len)
            log_info("results_evicted_rewound", "%s: %llu bytes past the snapshot will be rewritten by the replay",
                     path, (unsigned long long)(size - (uint64_t)file_len));
        csv->evicted_file_len = (uint64_t)file_len;
        if (size > (uint64_t)file_len && truncate(path, (off_t)file_len) != 0)
            log_error("results_write_failed", "truncating %s: %s", path, strerror(errno));
    }
    /* The snapshot's pending rows go before any evicted while it loaded. */
    buf_t rows = BUF_INIT;
    buf_append(&rows, pending, len);
    buf_append(&rows, csv->evicted.data, csv->evicted.len);
    buf_free(&csv->evicted);
    csv->evicted = rows;
}

static void on_timer_closed(uv_handle_t *h)
{
    results_csv_t *csv = h->data;
    for (int i = 0; i < CSV_FILES; i++)
        buf_free(&csv->files[i]);
    buf_free(&csv->evicted);
    buf_free(&csv->evicted_writing);
    free(csv->dir);
    free(csv);
}

void results_csv_close(results_csv_t *csv)
{
    /* A render in slices or a write in progress finishes first (the idle handle keeps the loop turning). */
    while (csv->writing)
        uv_run(csv->loop, UV_RUN_ONCE);
    if (csv->views != NULL) {
        render_files(csv);
        render_dump_rows(csv, UINT64_MAX);
        take_evicted(csv);
        write_files(csv);
        if (csv->error[0] != '\0')
            log_error("results_write_failed", "%s", csv->error);
    }
    uv_close((uv_handle_t *)&csv->render_idle, NULL);
    uv_close((uv_handle_t *)&csv->timer, on_timer_closed);
}
