#include "evicted_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "timestamp.h"

#define WRITE_INTERVAL_MS 1000

struct evicted_log_s {
    uv_loop_t *loop;
    char path[4096];
    uv_timer_t timer;
    uv_work_t work;
    bool writing;
    bool reset;       /* evicted_log_reset waits for the write in progress */
    bool closing;     /* evicted_log_close: the rows left go with one more write, then the timer */
    bool flushed;     /* ... that write was queued */
    evicted_log_closed_cb on_closed;
    void *on_closed_data;
    buf_t rows;       /* rows evicted, appended on the next write */
    buf_t writing_rows; /* rows the write in progress appends */
    uint64_t file_len;  /* the file's length once the last append completed */
    uint64_t len_after; /* set by the write in progress: the length after its append */
    char error[256];
};

static const char header[] = "start,end,equipment,count\n";

/*
 * Threadpool (or shutdown): appends writing_rows. Written at the known end rather than appended: whatever a failed
 * or interrupted earlier write left past file_len is overwritten, so the file always holds exactly what the
 * snapshots account for.
 */
static void append(evicted_log_t *log)
{
    log->error[0] = '\0';
    off_t at = (off_t)log->file_len;
    int fd = open(log->path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && ftruncate(fd, at) == 0;
    if (ok && at == 0) {
        ok = pwrite(fd, header, sizeof(header) - 1, 0) == (ssize_t)(sizeof(header) - 1);
        at = (off_t)(sizeof(header) - 1);
    }
    ok = ok && pwrite(fd, log->writing_rows.data, log->writing_rows.len, at) == (ssize_t)log->writing_rows.len;
    ok = ok && fdatasync(fd) == 0; /* durable before a snapshot may count it as written */
    if (!ok)
        snprintf(log->error, sizeof(log->error), "writing %.200s: %s", log->path, strerror(errno));
    else
        log->len_after = (uint64_t)at + log->writing_rows.len;
    if (fd >= 0)
        close(fd);
}

/* Empties the file: a truncate, a syscall the loop can afford on this rare path. */
static void empty_file(evicted_log_t *log)
{
    log->reset = false;
    log->file_len = 0;
    buf_reset(&log->rows);
    if (truncate(log->path, 0) != 0 && errno != ENOENT)
        log_error("results_write_failed", "truncating %s: %s", log->path, strerror(errno));
}

static void on_work(uv_work_t *req)
{
    append(req->data);
}

static void flush_or_finish(evicted_log_t *log);

/* The append ended; on failure its rows go back in front of those evicted since (retried next time). */
static void on_work_done(uv_work_t *req, int status)
{
    evicted_log_t *log = req->data;
    log->writing = false;
    if (status == 0 && log->error[0] == '\0') {
        log->file_len = log->len_after;
    } else {
        if (log->error[0] != '\0')
            log_error("results_write_failed", "%s", log->error);
        buf_append(&log->writing_rows, log->rows.data, log->rows.len);
        buf_t t = log->rows;
        log->rows = log->writing_rows;
        log->writing_rows = t;
    }
    buf_reset(&log->writing_rows);
    if (log->reset)
        empty_file(log);
    if (log->closing)
        flush_or_finish(log);
}

/* Hands the rows to the writer: the loop keeps adding to rows meanwhile. */
static void take_rows(evicted_log_t *log)
{
    buf_t t = log->writing_rows;
    log->writing_rows = log->rows;
    log->rows = t;
    buf_reset(&log->rows);
}

static void on_timer(uv_timer_t *t)
{
    evicted_log_t *log = t->data;
    if (log->writing || log->rows.len == 0)
        return;
    take_rows(log);
    log->writing = true;
    log->work.data = log;
    uv_queue_work(log->loop, &log->work, on_work, on_work_done);
}

evicted_log_t *evicted_log_new(uv_loop_t *loop, const char *dir)
{
    evicted_log_t *log = xcalloc(1, sizeof(*log));
    log->loop = loop;
    snprintf(log->path, sizeof(log->path), "%s/%s", dir, EVICTED_LOG_FILE);
    uv_timer_init(loop, &log->timer);
    log->timer.data = log;
    return log;
}

void evicted_log_on_row(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                        uint64_t count)
{
    evicted_log_t *log = data;
    if (log == NULL)
        return;
    char start[TIMESTAMP_WINDOW_LEN + 1], end[TIMESTAMP_WINDOW_LEN + 1];
    timestamp_format_window(start_us, start);
    timestamp_format_window(end_us, end);
    buf_printf(&log->rows, "%s,%s,", start, end);
    buf_append_csv_field(&log->rows, equipment, len);
    buf_printf(&log->rows, ",%llu\n", (unsigned long long)count);
}

int64_t evicted_log_state(const evicted_log_t *log, buf_t *pending)
{
    buf_reset(pending);
    if (log->reset) { /* the write in progress is of the views thrown away: the file will be empty */
        buf_append(pending, log->rows.data, log->rows.len);
        return 0;
    }
    buf_append(pending, log->writing_rows.data, log->writing_rows.len);
    buf_append(pending, log->rows.data, log->rows.len);
    return (int64_t)log->file_len;
}

void evicted_log_restore(evicted_log_t *log, int64_t file_len, const char *pending, size_t len)
{
    struct stat sb;
    uint64_t size = stat(log->path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    if (file_len < 0) {
        log->file_len = size; /* a snapshot without the record: append after what is there */
    } else if (size < (uint64_t)file_len) {
        log_warn("results_evicted_short", "%s holds %llu bytes, the snapshot counted %lld: rows are missing",
                 log->path, (unsigned long long)size, (long long)file_len);
        log->file_len = size;
    } else {
        /* Rows written after the snapshot come again from the replay: cut them. */
        if (size > (uint64_t)file_len) {
            log_info("results_evicted_rewound", "%s: %llu bytes past the snapshot will be rewritten by the replay",
                     log->path, (unsigned long long)(size - (uint64_t)file_len));
            if (truncate(log->path, (off_t)file_len) != 0)
                log_error("results_write_failed", "truncating %s: %s", log->path, strerror(errno));
        }
        log->file_len = (uint64_t)file_len;
    }
    /* The snapshot's pending rows go before any evicted while it loaded. */
    buf_t rows = BUF_INIT;
    buf_append(&rows, pending, len);
    buf_append(&rows, log->rows.data, log->rows.len);
    buf_free(&log->rows);
    log->rows = rows;
    uv_timer_start(&log->timer, on_timer, WRITE_INTERVAL_MS, WRITE_INTERVAL_MS);
}

void evicted_log_reset(evicted_log_t *log)
{
    /* Rows evicted by the old views and not yet written are dropped with them. */
    buf_reset(&log->rows);
    if (log->writing)
        log->reset = true;
    else
        empty_file(log);
}

static void on_timer_closed(uv_handle_t *h)
{
    evicted_log_t *log = h->data;
    evicted_log_closed_cb cb = log->on_closed;
    void *data = log->on_closed_data;
    buf_free(&log->rows);
    buf_free(&log->writing_rows);
    free(log);
    if (cb != NULL)
        cb(data);
}

/* Closing: the rows still waiting go with one more write (a failed one is not retried: the loop is ending), then
 * the timer. */
static void flush_or_finish(evicted_log_t *log)
{
    if (log->writing)
        return; /* its end comes back here */
    if (!log->flushed && log->rows.len > 0) {
        log->flushed = true;
        on_timer(&log->timer);
        return;
    }
    uv_close((uv_handle_t *)&log->timer, on_timer_closed);
}

void evicted_log_close(evicted_log_t *log, evicted_log_closed_cb on_closed, void *data)
{
    if (log->closing)
        return;
    log->closing = true;
    log->on_closed = on_closed;
    log->on_closed_data = data;
    uv_timer_stop(&log->timer);
    flush_or_finish(log);
}
