#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static const char *log_service = "service";
static log_level_t log_min = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(const char *service, log_level_t min_level)
{
    log_service = service;
    log_min = min_level;
}

int log_level_parse(const char *name, log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    return -1;
}

void log_emit(log_level_t level, const char *event, const char *fmt, ...)
{
    if (level < log_min || level > LOG_ERROR)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);

    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n >= sizeof(msg))
        n = sizeof(msg) - 1;

    buf_t line = BUF_INIT;
    buf_printf(&line, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"service\":", when, ts.tv_nsec / 1000000,
               level_names[level]);
    buf_append_json_string(&line, log_service, strlen(log_service));
    buf_append_str(&line, ",\"event\":");
    buf_append_json_string(&line, event, strlen(event));
    buf_append_str(&line, ",\"msg\":");
    buf_append_json_string(&line, msg, (size_t)n);
    buf_append_str(&line, "}\n");
    /* One write per line: lines from several threads never interleave (a short write, rare, is completed). */
    size_t off = 0;
    while (off < line.len) {
        ssize_t rc = write(STDERR_FILENO, line.data + off, line.len - off);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        off += (size_t)rc;
    }
    buf_free(&line);
}
