/*
 * line_reader: a file's lines out of a buffer filled by reads of the caller's (the replay job reads with
 * uv_fs_read on the threadpool; nothing here does I/O). A line is given without its "\n" or "\r\n", as a slice
 * of the buffer, valid until the next line_reader_space. A partial line at the end of the buffer is carried to
 * its front before the next read. A line longer than max_line bytes is given once, cut to max_line with
 * too_long set, and the rest of it up to the next newline is skipped. The last line may lack its newline.
 */
#ifndef INGEST_LINE_READER_H
#define INGEST_LINE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    LINE_READY,       /* a line */
    LINE_NEED_READ,   /* read more (line_reader_space, then line_reader_filled) */
    LINE_END_OF_FILE, /* every line was given */
} line_status_t;

typedef struct line_reader_s {
    char *buf;
    size_t cap, len, pos; /* bytes [pos, len) not yet given */
    size_t max_line;
    int64_t file_offset; /* where the next read starts */
    bool eof;
    bool skipping; /* in the rest of a line too long */
} line_reader_t;

/* cap must exceed max_line (a whole line of max_line bytes and its newline fit in the buffer). */
void line_reader_init(line_reader_t *r, size_t cap, size_t max_line);
void line_reader_free(line_reader_t *r);
/* The file from its start again (a loop over it). */
void line_reader_rewind(line_reader_t *r);

/* Where the next read goes: *room bytes at the returned pointer, read from the file at *offset. The bytes not yet
 * given move to the buffer's front first, so the lines given before are no longer valid. */
char *line_reader_space(line_reader_t *r, size_t *room, int64_t *offset);
/* n bytes were read there; 0 is the end of the file. */
void line_reader_filled(line_reader_t *r, size_t n);

line_status_t line_reader_next(line_reader_t *r, const char **line, size_t *len, bool *too_long);

#endif
