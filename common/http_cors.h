/*
 * http_cors: lets a page served from one other origin (a dashboard) read the answers, as the Fetch standard's CORS
 * protocol asks: Access-Control-Allow-Origin on every answer, and preflight requests (OPTIONS) answered.
 */
#ifndef COMMON_HTTP_CORS_H
#define COMMON_HTTP_CORS_H

#include <stdbool.h>
#include <h2o.h>

/* @returns NULL when origin is "*" or an origin as browsers send it (http[s]://host[:port]), else what is wrong. */
const char *http_cors_origin_error(const char *origin);

/* Adds the headers that let origin read this answer (with its ETag and X-State-Age-Seconds). */
void http_cors_add_headers(h2o_req_t *req, const char *origin);

/* True for a preflight: OPTIONS with Access-Control-Request-Method. */
bool http_cors_is_preflight(h2o_req_t *req);

/* Answers a preflight with 204: the methods allowed on the path ("GET, HEAD"), the request headers clients send. */
void http_cors_send_preflight(h2o_req_t *req, const char *allowed_methods);

#endif
