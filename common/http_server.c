#include "http_server.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "envelope.h"
#include "http_cors.h"
#include "http_listener.h"
#include "query_string.h"
#include "log.h"

/* Request bodies above this get a 413: the services take parameters, not uploads. */
#define HTTP_MAX_BODY (64 * 1024)
/* Answers shorter than this are not compressed. */
#define HTTP_COMPRESS_MIN_SIZE 512

/* One accepted connection; h2o owns it from h2o_accept() on and calls on_conn_closed when it is done. */
typedef struct http_conn_s {
    uv_tcp_t tcp; /* first: the close callback gets its address */
    http_server_t *srv;
    struct http_conn_s *prev, *next;
} http_conn_t;

/* Rewrites the bodies of the errors h2o answers by itself, before routing (413, 400), as envelopes. */
typedef struct http_error_ostream_s {
    h2o_ostream_t super;
    h2o_iovec_t body;
} http_error_ostream_t;

/* Our handler embeds h2o's, so on_req can find the server (h2o handlers carry no user pointer). */
typedef struct http_handler_s {
    h2o_handler_t super;
    http_server_t *srv;
} http_handler_t;

struct http_server_s {
    uv_loop_t *loop;
    const http_route_t *routes;
    size_t n_routes;
    void *data;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    http_listener_t listener;
    bool listening; /* http_server_listen was called */
    bool stopping;
    const char *cors_origin; /* NULL: no CORS headers, OPTIONS not answered */
    http_conn_t *conns; /* open connections */
    size_t n_conns;
    uv_idle_t reaper[2]; /* never started: their close callbacks sequence the final free */
};

/* Reason phrases for the statuses the services send. */
static const char *status_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static bool method_is(h2o_req_t *req, const char *name)
{
    return h2o_memis(req->method.base, req->method.len, name, strlen(name));
}

static unsigned method_bit(h2o_req_t *req)
{
    if (method_is(req, "GET") || method_is(req, "HEAD"))
        return HTTP_GET;
    if (method_is(req, "POST"))
        return HTTP_POST;
    if (method_is(req, "DELETE"))
        return HTTP_DELETE;
    return 0;
}

h2o_iovec_t http_req_path(h2o_req_t *req)
{
    size_t len = req->query_at != SIZE_MAX ? req->query_at : req->path.len;
    return h2o_iovec_init(req->path.base, len);
}

const char *http_req_query(h2o_req_t *req, size_t *len)
{
    if (req->query_at == SIZE_MAX) {
        *len = 0;
        return "";
    }
    *len = req->path.len - req->query_at - 1;
    return req->path.base + req->query_at + 1;
}

const char *http_req_query_checked(h2o_req_t *req, const char *const *allowed, size_t *len)
{
    char err[256];
    const char *qs = http_req_query(req, len);
    if (query_string_check_names(qs, *len, allowed, err, sizeof(err)) != 0) {
        http_send_error(req, 400, "%s", err);
        return NULL;
    }
    return qs;
}

const char *http_req_params(h2o_req_t *req, size_t *len)
{
    size_t qlen;
    const char *qs = http_req_query(req, &qlen);
    bool form = false;
    if (req->entity.base != NULL && req->entity.len > 0) {
        ssize_t i = h2o_find_header(&req->headers, H2O_TOKEN_CONTENT_TYPE, -1);
        static const char form_type[] = "application/x-www-form-urlencoded";
        form = i != -1 && req->headers.entries[i].value.len >= sizeof(form_type) - 1 &&
               h2o_lcstris(req->headers.entries[i].value.base, sizeof(form_type) - 1, form_type, sizeof(form_type) - 1);
    }
    if (!form) {
        *len = qlen;
        return qs;
    }
    char *all = h2o_mem_alloc_pool(&req->pool, qlen + 1 + req->entity.len + 1);
    size_t n = 0;
    if (qlen > 0) {
        memcpy(all, qs, qlen);
        all[qlen] = '&';
        n = qlen + 1;
    }
    memcpy(all + n, req->entity.base, req->entity.len);
    n += req->entity.len;
    all[n] = '\0';
    *len = n;
    return all;
}

void http_add_header(h2o_req_t *req, const char *name, const char *value)
{
    h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, h2o_strdup(&req->pool, value, SIZE_MAX).base,
                          strlen(value));
}

void http_send(h2o_req_t *req, int status, const char *content_type, const char *body, size_t len)
{
    req->res.status = status;
    req->res.reason = status_reason(status);
    req->res.content_length = len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_send_inline(req, body, len);
}

void http_send_envelope(h2o_req_t *req, int status, bool error, const char *message, struct json_object *data)
{
    buf_t out = BUF_INIT;
    envelope_render(&out, status, error, message, data);
    http_send(req, status, "application/json", out.data, out.len);
    buf_free(&out);
}

void http_send_error(h2o_req_t *req, int status, const char *fmt, ...)
{
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    http_send_envelope(req, status, true, message, NULL);
}

/* ---- streamed responses ---- */

typedef struct http_stream_s {
    h2o_generator_t super;
    buf_t chunk; /* h2o reads it until it calls proceed again */
    http_stream_fill_cb fill;
    http_stream_close_cb on_close;
    void *data;
    bool closed;
} http_stream_t;

static void stream_close(http_stream_t *s)
{
    if (s->closed)
        return;
    s->closed = true;
    if (s->on_close != NULL)
        s->on_close(s->data);
}

static void stream_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    http_stream_t *s = (http_stream_t *)gen;
    buf_reset(&s->chunk);
    bool more;
    /* An empty in-progress chunk would leave h2o nothing to write, and so no reason to call proceed again. */
    do
        more = s->fill(s->data, &s->chunk);
    while (more && s->chunk.len == 0);
    h2o_iovec_t iov = h2o_iovec_init(s->chunk.data, s->chunk.len);
    if (!more)
        stream_close(s);
    h2o_send(req, &iov, 1, more ? H2O_SEND_STATE_IN_PROGRESS : H2O_SEND_STATE_FINAL);
}

static void stream_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    stream_close((http_stream_t *)gen); /* the client went away */
}

/* Runs when the request's pool is freed: the response is over whichever way it ended. */
static void stream_dispose(void *p)
{
    http_stream_t *s = p;
    stream_close(s);
    buf_free(&s->chunk);
}

void http_send_stream(h2o_req_t *req, int status, const char *content_type, http_stream_fill_cb fill,
                      http_stream_close_cb on_close, void *data)
{
    http_stream_t *s = h2o_mem_alloc_shared(&req->pool, sizeof(*s), stream_dispose);
    memset(s, 0, sizeof(*s));
    s->super.proceed = stream_proceed;
    s->super.stop = stream_stop;
    s->fill = fill;
    s->on_close = on_close;
    s->data = data;
    req->res.status = status;
    req->res.reason = status_reason(status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_start_response(req, &s->super);
    if (method_is(req, "HEAD")) {
        stream_close(s);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
        return;
    }
    stream_proceed(&s->super, req);
}

/* ---- routing ---- */

/* "GET, HEAD, POST": the Allow header of a route. */
static void allowed_methods(const http_route_t *route, char out[64])
{
    static const struct {
        unsigned bit;
        const char *names;
    } methods[] = {{HTTP_GET, "GET, HEAD"}, {HTTP_POST, "POST"}, {HTTP_DELETE, "DELETE"}};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (route->methods & methods[i].bit) {
            if (out[0] != '\0')
                strcat(out, ", ");
            strcat(out, methods[i].names);
        }
    }
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    http_server_t *srv = ((http_handler_t *)self)->srv;
    /* On every answer, errors included: a page can read why it was refused. */
    if (srv->cors_origin != NULL)
        http_cors_add_headers(req, srv->cors_origin);
    h2o_iovec_t path = http_req_path(req);
    unsigned bit = method_bit(req);
    const http_route_t *matched = NULL;
    for (size_t i = 0; i < srv->n_routes; i++) {
        const http_route_t *r = &srv->routes[i];
        size_t rl = strlen(r->path);
        bool hit = r->prefix ? path.len > rl && memcmp(path.base, r->path, rl) == 0
                             : path.len == rl && memcmp(path.base, r->path, rl) == 0;
        if (!hit)
            continue;
        matched = r;
        if ((r->methods & bit) != 0) {
            r->on_req(req, srv->data);
            return 0;
        }
    }
    if (matched != NULL) {
        char allow[64];
        allowed_methods(matched, allow);
        if (srv->cors_origin != NULL && http_cors_is_preflight(req)) {
            http_cors_send_preflight(req, allow);
            return 0;
        }
        http_add_header(req, "allow", allow);
        http_send_error(req, 405, "method %.*s is not allowed on %.*s; allowed: %s", (int)req->method.len,
                        req->method.base, (int)path.len, path.base, allow);
        return 0;
    }
    http_send_error(req, 404, "no such path: %.*s", (int)(path.len > 200 ? 200 : path.len), path.base);
    return 0;
}

static void error_ostream_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs, size_t bufcnt,
                               h2o_send_state_t state)
{
    http_error_ostream_t *o = (http_error_ostream_t *)self;
    (void)bufs;
    (void)bufcnt;
    bool last = !h2o_send_state_is_in_progress(state);
    bool head = method_is(req, "HEAD");
    h2o_ostream_send_next(&o->super, req, last && !head ? &o->body : NULL, last && !head ? 1 : 0, state);
}

static void error_on_setup_ostream(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    (void)self;
    if (req->res.status >= 400) {
        buf_t body = BUF_INIT;
        if (req->res.status == 413)
            envelope_render(&body, 413, true, "request body too large: the limit is 65536 bytes", NULL);
        else
            envelope_render(&body, req->res.status, true, req->res.reason, NULL);
        http_error_ostream_t *o = (http_error_ostream_t *)h2o_add_ostream(req, sizeof(*o), slot);
        o->super.do_send = error_ostream_send;
        o->body = h2o_strdup(&req->pool, body.data, body.len);
        buf_free(&body);
        req->res.content_length = o->body.len;
        ssize_t i = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1);
        if (i != -1)
            req->res.headers.entries[i].value = h2o_iovec_init(H2O_STRLIT("application/json"));
        else
            h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
        slot = &o->super.next;
    }
    h2o_setup_next_ostream(req, slot);
}

static void unref_h2o_queue(uv_handle_t *h, void *arg)
{
    if (h == arg && h->type == UV_ASYNC)
        uv_unref(h);
}

http_server_t *http_server_new(uv_loop_t *loop, const http_route_t *routes, size_t n_routes, void *data)
{
    http_server_t *srv = xcalloc(1, sizeof(*srv));
    srv->loop = loop;
    srv->routes = routes;
    srv->n_routes = n_routes;
    srv->data = data;
    h2o_config_init(&srv->config);
    srv->config.max_request_entity_size = HTTP_MAX_BODY;
    h2o_hostconf_t *host = h2o_config_register_host(&srv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(host, "/", 0);
    http_handler_t *handler = (http_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->srv = srv;
    /*
     * gzip for clients that ask for it (Accept-Encoding), streamed answers too; small answers are sent as they are,
     * where compressing costs more than it saves. Level 1: most of the saving at a fraction of the CPU.
     */
    h2o_compress_args_t compress = {.min_size = HTTP_COMPRESS_MIN_SIZE, .gzip = {.quality = 1}, .brotli = {.quality = -1}};
    h2o_compress_register(pathconf, &compress);
    /*
     * h2o answers an oversized or malformed body itself, before routing, as text/plain on the host's fallback
     * path (h2o_send_error_generic): a filter there turns those answers into envelopes. Routed requests use
     * pathconf "/" and never pass this filter.
     */
    h2o_filter_t *filter = h2o_create_filter(&host->fallback_path, sizeof(*filter));
    filter->on_setup_ostream = error_on_setup_ostream;
    h2o_context_init(&srv->ctx, loop, &srv->config);
    /*
     * h2o 2.2's context holds a uv_async_t (its cross-thread queue, first member of the opaque queue struct) that
     * keeps uv_run from returning forever. Unreferenced, the loop ends once the listener and connections are gone.
     */
    uv_walk(loop, unref_h2o_queue, srv->ctx.queue);
    /* Its timers only serve connections, which hold the loop themselves: an expired one must not hold it on. */
    h2o_timeout_t *timeouts[] = {&srv->ctx.zero_timeout,      &srv->ctx.one_sec_timeout,   &srv->ctx.hundred_ms_timeout,
                                 &srv->ctx.handshake_timeout, &srv->ctx.http1.req_timeout, &srv->ctx.http2.idle_timeout,
                                 &srv->ctx.http2.graceful_shutdown_timeout, &srv->ctx.proxy.io_timeout};
    for (size_t i = 0; i < sizeof(timeouts) / sizeof(timeouts[0]); i++)
        uv_unref((uv_handle_t *)&timeouts[i]->_backend.timer);
    srv->accept_ctx.ctx = &srv->ctx;
    srv->accept_ctx.hosts = srv->config.hosts;
    uv_idle_init(loop, &srv->reaper[0]);
    uv_idle_init(loop, &srv->reaper[1]);
    srv->reaper[0].data = srv->reaper[1].data = srv;
    return srv;
}

static void on_conn_closed(uv_handle_t *h)
{
    http_conn_t *c = (http_conn_t *)h;
    http_server_t *srv = c->srv;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    srv->n_conns--;
    free(c);
}

/* Half-closes the read side: an idle keep-alive connection sees EOF and h2o closes it; a busy one finishes its
 * response first (h2o does not read while it answers), then sees EOF. */
static void conn_shutdown_read(http_conn_t *c)
{
    uv_os_fd_t fd;
    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0)
        shutdown(fd, SHUT_RD);
}

static void on_accept(uv_stream_t *listener, void *data)
{
    http_server_t *srv = data;
    http_conn_t *c = xcalloc(1, sizeof(*c));
    c->srv = srv;
    uv_tcp_init(listener->loop, &c->tcp);
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;
    srv->n_conns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&c->tcp, on_conn_closed);
    h2o_accept(&srv->accept_ctx, sock);
}

int http_server_listen(http_server_t *srv, const char *host, int port, char *errstr, size_t errstr_size)
{
    if (srv->listening) {
        snprintf(errstr, errstr_size, "http_server_listen: already called");
        return -1;
    }
    struct sockaddr_storage addr;
    if (http_listener_address(host, port, &addr, errstr, errstr_size) != 0)
        return -1; /* nothing was opened: another try is allowed */
    srv->listening = true;
    return http_listener_open(&srv->listener, srv->loop, &addr, on_accept, srv, errstr, errstr_size);
}

void http_server_set_cors_origin(http_server_t *srv, const char *origin)
{
    srv->cors_origin = origin;
}

int http_server_port(const http_server_t *srv)
{
    return http_listener_port(&srv->listener);
}

void http_server_stop(http_server_t *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    if (srv->listening)
        http_listener_close(&srv->listener);
    for (http_conn_t *c = srv->conns; c != NULL; c = c->next)
        conn_shutdown_read(c);
}

static void on_reaped(uv_handle_t *h)
{
    free(h->data);
}

static void on_reaper_closed(uv_handle_t *h)
{
    http_server_t *srv = h->data;
    /*
     * The handles closed by h2o_context_dispose() live inside srv. libuv runs every close callback queued before
     * this one in the same pass, in an order it does not promise; a handle closed from here is only finished in
     * the next pass, when theirs are all done.
     */
    uv_close((uv_handle_t *)&srv->reaper[1], on_reaped);
}

bool http_server_free(http_server_t *srv)
{
    if (srv == NULL)
        return true;
    http_server_stop(srv);
    if (srv->n_conns > 0) {
        /*
         * h2o 2.2 cannot close its connections from outside, and disposing the context under them asserts
         * (its timeouts still hold their entries): leave it all to process exit. Letting uv_run return on its
         * own after http_server_stop() avoids this: idle connections are closed by then.
         */
        log_warn("http_free", "%zu HTTP connection(s) still open at shutdown; not freeing the server", srv->n_conns);
        return false;
    }
    h2o_context_dispose(&srv->ctx);
    h2o_config_dispose(&srv->config);
    uv_close((uv_handle_t *)&srv->reaper[0], on_reaper_closed);
    return true;
}
