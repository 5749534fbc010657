/*
 * http_server: an HTTP/1.1 server on h2o 2.2 and libuv with a routing table and the seed's JSON
 * envelope for every error (404 unknown path, 405 wrong method with Allow, 413 oversized body).
 * gzip is negotiated for every answer of 512 bytes or more (h2o's compress filter). All callbacks run on the loop thread.
 */
#ifndef COMMON_HTTP_SERVER_H
#define COMMON_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <h2o.h>
#include <uv.h>
#include <json-c/json.h>

#include "buf.h"

typedef struct http_server_s http_server_t;

enum {
    HTTP_GET = 1 << 0, /* HEAD is accepted wherever GET is */
    HTTP_POST = 1 << 1,
    HTTP_DELETE = 1 << 2,
};

/*
 * A request handler. data is the pointer given to http_server_new(). It must answer the request,
 * now or later (h2o keeps req alive until a response is finished), with one of the http_send_* calls.
 */
typedef void (*http_handler_cb)(h2o_req_t *req, void *data);

typedef struct http_route_s {
    const char *path;       /* "/produce", or a prefix ending in '/' when prefix is true ("/jobs/") */
    bool prefix;
    unsigned methods;       /* HTTP_GET | HTTP_POST ... */
    http_handler_cb on_req;
} http_route_t;

/* routes is kept by pointer (a static table). */
http_server_t *http_server_new(uv_loop_t *loop, const http_route_t *routes, size_t n_routes, void *data);
/* Binds and listens on host:port (port 0 picks one). @returns 0, or -1 with errstr filled. */
int http_server_listen(http_server_t *srv, const char *host, int port, char *errstr, size_t errstr_size);
/*
 * Lets pages from origin ("*": any, NULL: none, the default) read the answers: CORS headers on every answer and
 * preflight requests answered (http_cors.h). origin is kept by pointer; check it with http_cors_origin_error().
 */
void http_server_set_cors_origin(http_server_t *srv, const char *origin);
/* The port actually bound (useful with port 0). */
int http_server_port(const http_server_t *srv);
/*
 * Stops accepting; open connections finish their response, idle keep-alive ones are closed. Once they are all
 * gone, uv_run() returns by itself (the server holds nothing else on the loop). Safe to call twice.
 */
void http_server_stop(http_server_t *srv);
/*
 * Closes the listener and frees; call after uv_run() returned (after stop). The memory is released by close
 * callbacks: run the loop once more (uv_run(loop, UV_RUN_DEFAULT)) before uv_loop_close(). With connections still
 * open (the loop was uv_stop()ed) it logs and leaves everything to process exit, since h2o 2.2 cannot tear down
 * a context under live connections.
 */
/* @returns true when everything was closed (the loop can be run to its end), false when connections were left. */
bool http_server_free(http_server_t *srv);

/* ---- requests ---- */

/* The query string (after '?', without it) and its length; "" when none. */
const char *http_req_query(h2o_req_t *req, size_t *len);
/*
 * The query string, when every parameter in it is one of allowed (NULL-terminated names); otherwise the request
 * is answered 400 with a sentence naming the stranger, and NULL is returned.
 */
const char *http_req_query_checked(h2o_req_t *req, const char *const *allowed, size_t *len);
/* The path without the query string. */
h2o_iovec_t http_req_path(h2o_req_t *req);
/*
 * The request's parameters: the query string, and for a POST with an
 * application/x-www-form-urlencoded body, the body appended after '&'. Allocated from req->pool.
 */
const char *http_req_params(h2o_req_t *req, size_t *len);

/* ---- responses ---- */

/* Sends body (copied into req->pool) with the given content type. */
void http_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len);
/* The seed's envelope with data (NULL = []); caller keeps ownership of data. */
void http_send_envelope(h2o_req_t *req, int status, bool error, const char *message, struct json_object *data);
/* An error envelope whose message is printf-formatted. */
void http_send_error(h2o_req_t *req, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Adds a response header before sending (name must be a static string). */
void http_add_header(h2o_req_t *req, const char *name, const char *value);

/*
 * Streamed response: h2o calls fill each time it can take more. fill appends the next chunk to out and
 * returns true when more will follow, false when this chunk is the last. on_close (may be NULL) runs once,
 * when the response is done or the client went away; free data there.
 */
typedef bool (*http_stream_fill_cb)(void *data, buf_t *out);
typedef void (*http_stream_close_cb)(void *data);
void http_send_stream(h2o_req_t *req, int status, const char *content_type, http_stream_fill_cb fill,
                      http_stream_close_cb on_close, void *data);

#endif
