/*
 * http_push: a response that stays open and is written whenever its owner has something new (server-sent
 * events), rather than pulled by h2o as http_send_stream is. At most one write is with h2o at a time; what comes
 * meanwhile waits in one buffer, which the owner may append to or replace with the latest state. So a slow client
 * costs its owner at most what it lets wait, and never stalls the loop.
 */
#ifndef COMMON_HTTP_PUSH_H
#define COMMON_HTTP_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include <h2o.h>

typedef struct http_push_s http_push_t;

/* Runs once, when the response is over: ended, or the client went away. p is gone after it returns. */
typedef void (*http_push_close_cb)(http_push_t *p, void *data);

/* Starts a 200 response of content_type, never compressed, that stays open. @returns its handle. */
http_push_t *http_push_start(h2o_req_t *req, const char *content_type, http_push_close_cb on_close, void *data);

/* Queues bytes, written as soon as the client takes the ones before. */
void http_push_append(http_push_t *p, const char *bytes, size_t len);
/* Replaces what waits (not what is already with h2o) with bytes: a state that supersedes the ones before. */
void http_push_replace(http_push_t *p, const char *bytes, size_t len);
/* Bytes waiting for the client, beyond the write it has not finished yet. */
size_t http_push_waiting(const http_push_t *p);
/* True while a write is with h2o (the client has not taken it all). */
bool http_push_busy(const http_push_t *p);
/* Ends the response once what waits is written; on_close follows. Further writes are ignored. */
void http_push_end(http_push_t *p);

#endif
