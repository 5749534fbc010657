#include "http_push.h"

#include <string.h>

#include "buf.h"

struct http_push_s {
    h2o_generator_t super;
    h2o_req_t *req;
    buf_t sending; /* with h2o until it calls proceed */
    buf_t waiting; /* what comes meanwhile */
    bool busy;
    bool ending;  /* http_push_end: FINAL once waiting is written */
    bool done;    /* FINAL sent or the client gone: nothing more goes to h2o */
    bool closed;  /* on_close ran */
    http_push_close_cb on_close;
    void *data;
};

static void mark_closed(http_push_t *p)
{
    if (p->closed)
        return;
    p->closed = true;
    p->done = true;
    if (p->on_close != NULL)
        p->on_close(p, p->data);
}

/* Hands waiting to h2o when it has nothing: the buffers swap, h2o reads sending until proceed. */
static void push_flush(http_push_t *p)
{
    if (p->busy || p->done)
        return;
    if (p->waiting.len == 0 && !p->ending)
        return;
    buf_t t = p->sending;
    p->sending = p->waiting;
    p->waiting = t;
    buf_reset(&p->waiting);
    h2o_iovec_t iov = h2o_iovec_init(p->sending.data, p->sending.len);
    if (p->ending) {
        /* The request may be freed from here on: p with it (its memory is the request's). */
        p->done = true;
        h2o_send(p->req, &iov, 1, H2O_SEND_STATE_FINAL);
        return;
    }
    p->busy = true;
    h2o_send(p->req, &iov, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void push_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    http_push_t *p = (http_push_t *)gen;
    p->busy = false;
    push_flush(p);
}

static void push_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    mark_closed((http_push_t *)gen); /* the client went away */
}

/* The request's pool is freed: the response is over, whichever way it ended. */
static void push_dispose(void *mem)
{
    http_push_t *p = mem;
    mark_closed(p);
    buf_free(&p->sending);
    buf_free(&p->waiting);
}

http_push_t *http_push_start(h2o_req_t *req, const char *content_type, http_push_close_cb on_close, void *data)
{
    http_push_t *p = h2o_mem_alloc_shared(&req->pool, sizeof(*p), push_dispose);
    memset(p, 0, sizeof(*p));
    p->super.proceed = push_proceed;
    p->super.stop = push_stop;
    p->req = req;
    p->on_close = on_close;
    p->data = data;
    req->res.status = 200;
    req->res.reason = "OK";
    /* A compressor would hold messages back until it has enough to compress. */
    req->compress_hint = H2O_COMPRESS_HINT_DISABLE;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type, strlen(content_type));
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CACHE_CONTROL, NULL, H2O_STRLIT("no-cache"));
    h2o_start_response(req, &p->super);
    if (h2o_memis(req->method.base, req->method.len, H2O_STRLIT("HEAD")))
        http_push_end(p);
    return p;
}

void http_push_append(http_push_t *p, const char *bytes, size_t len)
{
    if (p->done || p->ending)
        return;
    buf_append(&p->waiting, bytes, len);
    push_flush(p);
}

void http_push_replace(http_push_t *p, const char *bytes, size_t len)
{
    if (p->done || p->ending)
        return;
    buf_reset(&p->waiting);
    http_push_append(p, bytes, len);
}

size_t http_push_waiting(const http_push_t *p)
{
    return p->waiting.len;
}

bool http_push_busy(const http_push_t *p)
{
    return p->busy;
}

void http_push_end(http_push_t *p)
{
    if (p->done || p->ending)
        return;
    p->ending = true;
    push_flush(p);
}
