#include "sse.h"

#include <string.h>

void sse_append_message(buf_t *out, const char *event, const char *id, const char *data, size_t len)
{
    if (event != NULL) {
        buf_append_str(out, "event: ");
        buf_append_str(out, event);
        buf_append_char(out, '\n');
    }
    if (id != NULL) {
        buf_append_str(out, "id: ");
        buf_append_str(out, id);
        buf_append_char(out, '\n');
    }
    if (len > 0 && data[len - 1] == '\n')
        len--;
    const char *p = data, *end = data + len;
    do {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = nl != NULL ? nl : end;
        buf_append_str(out, "data: ");
        buf_append(out, p, (size_t)(line_end - p));
        buf_append_char(out, '\n');
        p = nl != NULL ? nl + 1 : end;
    } while (p < end);
    buf_append_char(out, '\n');
}

void sse_append_comment(buf_t *out, const char *text)
{
    buf_append_str(out, ": ");
    buf_append_str(out, text);
    buf_append_str(out, "\n\n");
}

void sse_append_retry(buf_t *out, long ms)
{
    buf_append_str(out, "retry: ");
    buf_append_i64(out, ms);
    buf_append_str(out, "\n\n");
}
