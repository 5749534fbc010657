/*
 * http_cache: conditional GETs (RFC 9110 section 13). A handler that knows what its answer depends on (a version of
 * its state) names it with an entity tag and answers a client that already holds it with 304, without rendering.
 * The tags are weak (W/"..."): the same answer may go out gzip-compressed or not.
 */
#ifndef COMMON_HTTP_CACHE_H
#define COMMON_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <h2o.h>

/* W/" + three 16-digit hex numbers joined by '-' + " + NUL */
#define HTTP_ETAG_MAX (3 + 3 * 16 + 2 + 1 + 1)

/* Formats W/"a-b-c" into out: a, b, c say together which state the answer was rendered from. */
void http_etag_format(char out[HTTP_ETAG_MAX], uint64_t a, uint64_t b, uint64_t c);

/*
 * True when an If-None-Match value (a comma-separated list of entity tags, or "*") holds etag, by the weak
 * comparison GET uses (W/ on either side ignored). A malformed member matches nothing.
 */
bool http_etag_listed(const char *if_none_match, size_t len, const char *etag);

/*
 * Sets the response's ETag, and when the request's If-None-Match holds it answers 304 Not Modified (headers added
 * before stay on it) and @returns true: the handler is done. @returns false: render and send the answer.
 */
bool http_answer_if_unchanged(h2o_req_t *req, const char *etag);

#endif
