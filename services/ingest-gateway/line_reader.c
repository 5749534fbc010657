#include "line_reader.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void line_reader_init(line_reader_t *r, size_t cap, size_t max_line)
{
    memset(r, 0, sizeof(*r));
    r->buf = xmalloc(cap);
    r->cap = cap;
    r->max_line = max_line;
}

void line_reader_free(line_reader_t *r)
{
    free(r->buf);
    r->buf = NULL;
}

void line_reader_rewind(line_reader_t *r)
{
    r->len = r->pos = 0;
    r->file_offset = 0;
    r->eof = false;
    r->skipping = false;
}

char *line_reader_space(line_reader_t *r, size_t *room, int64_t *offset)
{
    size_t tail = r->len - r->pos;
    memmove(r->buf, r->buf + r->pos, tail);
    r->len = tail;
    r->pos = 0;
    *room = r->cap - tail;
    *offset = r->file_offset;
    return r->buf + tail;
}

void line_reader_filled(line_reader_t *r, size_t n)
{
    if (n == 0)
        r->eof = true;
    r->len += n;
    r->file_offset += (int64_t)n;
}

line_status_t line_reader_next(line_reader_t *r, const char **line, size_t *len, bool *too_long)
{
    *too_long = false;
    for (;;) {
        const char *start = r->buf + r->pos;
        size_t avail = r->len - r->pos;
        const char *nl = avail > 0 ? memchr(start, '\n', avail) : NULL;
        if (r->skipping) {
            if (nl == NULL) {
                r->pos = r->len;
                return r->eof ? LINE_END_OF_FILE : LINE_NEED_READ;
            }
            r->pos += (size_t)(nl - start) + 1;
            r->skipping = false;
            continue;
        }
        if (nl != NULL && (size_t)(nl - start) <= r->max_line) {
            *line = start;
            *len = (size_t)(nl - start);
            r->pos += *len + 1;
        } else if (avail > r->max_line) {
            /* No newline within the limit: give what there is, cut, and skip to the next newline. */
            *line = start;
            *len = r->max_line;
            *too_long = true;
            r->pos += r->max_line;
            r->skipping = true;
        } else if (!r->eof) {
            return LINE_NEED_READ;
        } else if (avail > 0) {
            *line = start; /* the last line has no final newline */
            *len = avail;
            r->pos = r->len;
        } else {
            return LINE_END_OF_FILE;
        }
        if (*len > 0 && (*line)[*len - 1] == '\r')
            (*len)--;
        return LINE_READY;
    }
}
