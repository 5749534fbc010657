/*
 * buf: a growable byte buffer. Hot paths keep one buf alive and call buf_reset()
 * instead of allocating per event. data is always NUL-terminated (for logging).
 */
#ifndef COMMON_BUF_H
#define COMMON_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct buf_s {
    char *data;  /* caller may read data[0..len); owned by the buf */
    size_t len;
    size_t cap;
} buf_t;

#define BUF_INIT {NULL, 0, 0}

void buf_init(buf_t *b);
void buf_free(buf_t *b);
static inline void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}
/* Make room for at least extra more bytes (plus the NUL). */
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *data, size_t len);
void buf_append_str(buf_t *b, const char *s);
void buf_append_char(buf_t *b, char c);
/* Decimal integers without printf: the CSV and JSON renderers write hundreds of thousands per second. */
void buf_append_u64(buf_t *b, uint64_t v);
void buf_append_i64(buf_t *b, int64_t v);
void buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(buf_t *b, const char *fmt, va_list ap);
/* Appends s as a JSON string literal (quotes and escapes, as Python's json.dumps with ensure_ascii). */
void buf_append_json_string(buf_t *b, const char *s, size_t len);
/* Appends s[0..len) as one CSV field (RFC 4180: quoted when it holds a comma, quote or line break). */
void buf_append_csv_field(buf_t *b, const char *s, size_t len);
/* Hands the storage to the caller (who frees it) and leaves b empty. */
char *buf_detach(buf_t *b, size_t *len);

#endif
