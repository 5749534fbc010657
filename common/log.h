/*
 * log: JSON-lines logging on stderr, one object per line:
 *   {"ts":"2026-11-28T07:00:00.123Z","level":"info","service":"ingest-gateway","event":"listening","msg":"..."}
 * Safe to call from any thread (one write(2) per line).
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

/* service is kept by pointer (use a string literal). */
void log_init(const char *service, log_level_t min_level);
/* @returns 0, or -1 when name is not debug|info|warn|error. */
int log_level_parse(const char *name, log_level_t *out);
/* event: a short machine-readable tag ("kafka_error"); fmt: the human message. */
void log_emit(log_level_t level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_debug(event, ...) log_emit(LOG_DEBUG, event, __VA_ARGS__)
#define log_info(event, ...) log_emit(LOG_INFO, event, __VA_ARGS__)
#define log_warn(event, ...) log_emit(LOG_WARN, event, __VA_ARGS__)
#define log_error(event, ...) log_emit(LOG_ERROR, event, __VA_ARGS__)

#endif
