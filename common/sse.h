/*
 * sse: the text/event-stream format (HTML Living Standard, "Server-sent events"): messages of fields, ended by a
 * blank line. A data field may not hold a line break, so data of several lines becomes several data fields.
 */
#ifndef COMMON_SSE_H
#define COMMON_SSE_H

#include <stddef.h>

#include "buf.h"

/* Appends one message: event (NULL: the default "message"), id (NULL: none), data (a trailing newline dropped). */
void sse_append_message(buf_t *out, const char *event, const char *id, const char *data, size_t len);
/* Appends a comment line, which clients ignore (a heartbeat). text must hold no line break. */
void sse_append_comment(buf_t *out, const char *text);
/* Appends the reconnection delay a client should wait, in milliseconds. */
void sse_append_retry(buf_t *out, long ms);

#endif
