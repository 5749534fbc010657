#define _GNU_SOURCE /* strcasestr, memmem */
/*
 * http_server over real loopback HTTP: the loop runs in this thread, a plain-socket client in another.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <unistd.h>

#include "http_server.h"
#include "test.h"

static int port;
static uv_loop_t loop;
static uv_async_t done_async;

static void on_hello(h2o_req_t *req, void *data)
{
    (void)data;
    size_t len;
    const char *params = http_req_params(req, &len);
    char body[256];
    int n = snprintf(body, sizeof(body), "hello params=%.*s", (int)len, params);
    http_send(req, 200, "text/plain", body, (size_t)n);
}

static void on_item(h2o_req_t *req, void *data)
{
    (void)data;
    h2o_iovec_t path = http_req_path(req);
    http_send(req, 200, "text/plain", path.base, path.len);
}

typedef struct {
    int next;
    int closed;
} counter_t;

static counter_t stream_state;

static bool fill_numbers(void *data, buf_t *out)
{
    counter_t *c = data;
    for (int i = 0; i < 1000; i++)
        buf_printf(out, "%d\n", c->next++);
    return c->next < 50000;
}

static void on_stream_closed(void *data)
{
    ((counter_t *)data)->closed++;
}

static void on_stream(h2o_req_t *req, void *data)
{
    (void)data;
    stream_state.next = 0;
    http_send_stream(req, 200, "text/plain", fill_numbers, on_stream_closed, &stream_state);
}

/* Never finishes by itself (and sometimes fills nothing): ends only when the client goes away. */
static counter_t endless_state;

static bool fill_endless(void *data, buf_t *out)
{
    counter_t *c = data;
    if (c->next++ % 3 == 0)
        return true;
    for (int i = 0; i < 4096; i++)
        buf_append_str(out, "0123456789abcdef");
    return true;
}

static void on_endless(h2o_req_t *req, void *data)
{
    (void)data;
    http_send_stream(req, 200, "text/plain", fill_endless, on_stream_closed, &endless_state);
}

static const http_route_t routes[] = {
    {"/hello", false, HTTP_GET | HTTP_POST, on_hello},
    {"/items/", true, HTTP_DELETE, on_item},
    {"/stream", false, HTTP_GET, on_stream},
    {"/endless", false, HTTP_GET, on_endless},
};

/* ---- client side ---- */

static int client_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        abort();
    return fd;
}

static void send_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            return; /* the server may close early (413) */
        p += n;
        len -= (size_t)n;
    }
}

/* Reads one response (Content-Length or chunked) into out; returns the status. */
static int read_response(int fd, buf_t *out)
{
    buf_t raw = BUF_INIT;
    char tmp[65536];
    size_t header_end = 0;
    for (;;) {
        char *he = raw.data ? strstr(raw.data, "\r\n\r\n") : NULL;
        if (he != NULL) {
            header_end = (size_t)(he - raw.data) + 4;
            break;
        }
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n <= 0)
            abort();
        buf_append(&raw, tmp, (size_t)n);
    }
    int status = atoi(raw.data + 9);
    buf_reset(out);
    buf_append(out, raw.data, header_end); /* headers first, then the body */
    const char *cl = strcasestr(raw.data, "content-length:");
    bool chunked = strcasestr(raw.data, "transfer-encoding: chunked") != NULL && (cl == NULL || cl > raw.data + header_end);
    size_t pos = header_end;
    if (!chunked) {
        size_t want = cl != NULL && cl < raw.data + header_end ? (size_t)atol(cl + 15) : 0;
        while (raw.len - pos < want) {
            ssize_t n = read(fd, tmp, sizeof(tmp));
            if (n <= 0)
                abort();
            buf_append(&raw, tmp, (size_t)n);
        }
        buf_append(out, raw.data + pos, want);
    } else {
        for (;;) {
            char *eol;
            while ((eol = memmem(raw.data + pos, raw.len - pos, "\r\n", 2)) == NULL) {
                ssize_t n = read(fd, tmp, sizeof(tmp));
                if (n <= 0)
                    abort();
                buf_append(&raw, tmp, (size_t)n);
            }
            size_t size = strtoul(raw.data + pos, NULL, 16);
            pos = (size_t)(eol - raw.data) + 2;
            while (raw.len - pos < size + 2) {
                ssize_t n = read(fd, tmp, sizeof(tmp));
                if (n <= 0)
                    abort();
                buf_append(&raw, tmp, (size_t)n);
            }
            buf_append(out, raw.data + pos, size);
            pos += size + 2;
            if (size == 0)
                break;
        }
    }
    buf_free(&raw);
    return status;
}

static int roundtrip(int fd, const char *request, buf_t *out)
{
    send_all(fd, request, strlen(request));
    return read_response(fd, out);
}

static const char *body_of(buf_t *resp)
{
    return strstr(resp->data, "\r\n\r\n") + 4;
}

static void *client_main(void *arg)
{
    (void)arg;
    buf_t r = BUF_INIT;
    int fd = client_connect();

    /* Keep-alive: several requests on one connection. */
    ASSERT_EQ(roundtrip(fd, "GET /hello?a=1&b=x%20y HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    ASSERT_STR_EQ(body_of(&r), "hello params=a=1&b=x%20y");
    ASSERT_EQ(roundtrip(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    ASSERT_STR_EQ(body_of(&r), "hello params=");

    /* POST form parameters join the query string. */
    ASSERT_EQ(roundtrip(fd,
                        "POST /hello?q=1 HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                        "Content-Length: 9\r\n\r\nlimit=100",
                        &r),
              200);
    ASSERT_STR_EQ(body_of(&r), "hello params=q=1&limit=100");

    /* HEAD where GET is allowed: the headers of the GET response, no body. */
    int head_fd = client_connect();
    const char *head = "HEAD /hello HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    send_all(head_fd, head, strlen(head));
    char head_resp[4096];
    ssize_t got = 0, nread;
    while ((nread = read(head_fd, head_resp + got, sizeof(head_resp) - 1 - (size_t)got)) > 0)
        got += nread;
    head_resp[got] = '\0';
    ASSERT(strncmp(head_resp, "HTTP/1.1 200", 12) == 0);
    ASSERT(strstr(head_resp, "hello params") == NULL);
    close(head_fd);

    /* 404 and 405 are envelopes; 405 says what is allowed. */
    ASSERT_EQ(roundtrip(fd, "GET /nope HTTP/1.1\r\nHost: t\r\n\r\n", &r), 404);
    ASSERT_STR_EQ(body_of(&r), "{\"data\":[],\"error\":true,\"message\":\"no such path: /nope\",\"statusCode\":404}\n");
    ASSERT_EQ(roundtrip(fd, "GET /items/42 HTTP/1.1\r\nHost: t\r\n\r\n", &r), 405);
    ASSERT(strcasestr(r.data, "allow: DELETE") != NULL);
    ASSERT(strstr(body_of(&r), "\"statusCode\":405") != NULL);
    ASSERT_EQ(roundtrip(fd, "DELETE /items/42 HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    ASSERT_STR_EQ(body_of(&r), "/items/42");
    /* A prefix route needs something after the prefix. */
    ASSERT_EQ(roundtrip(fd, "DELETE /items/ HTTP/1.1\r\nHost: t\r\n\r\n", &r), 404);

    /* A streamed response arrives whole and in order. */
    ASSERT_EQ(roundtrip(fd, "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    const char *b = body_of(&r);
    int expect = 0;
    /*
     * Parsed by hand, in one pass: atoi() and strchr() on the rest of a 290 KB string 50,000 times are
     * quadratic under ASan's strict_string_checks (each call checks the whole rest), 4-15 s here, long enough
     * for h2o's 10 s idle timeout to close this keep-alive connection before the next request.
     */
    for (const char *p = b; *p; p++, expect++) {
        int v = 0;
        const char *digits = p;
        while (*p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        if (p == digits || *p != '\n' || v != expect) {
            ASSERT_EQ(v, expect);
            ASSERT(p > digits && *p == '\n');
        }
    }
    ASSERT_EQ(expect, 50000);

    /* HEAD on a streamed route: headers only, and the connection stays usable. */
    ASSERT_EQ(roundtrip(fd, "HEAD /stream HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    ASSERT_STR_EQ(body_of(&r), "");
    ASSERT_EQ(roundtrip(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    ASSERT_STR_EQ(body_of(&r), "hello params=");

    /* 405 in full: the Allow header lists every method of the route, HEAD with GET. */
    ASSERT_EQ(roundtrip(fd, "PUT /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n", &r), 405);
    ASSERT(strcasestr(r.data, "\r\nallow: GET, HEAD, POST\r\n") != NULL);
    ASSERT(strcasestr(r.data, "\r\ncontent-type: application/json\r\n") != NULL);
    ASSERT_STR_EQ(body_of(&r), "{\"data\":[],\"error\":true,\"message\":\"method PUT is not allowed on /hello; allowed: "
                               "GET, HEAD, POST\",\"statusCode\":405}\n");
    close(fd);

    /* A client that goes away mid-stream: on_close runs once (checked after the loop). */
    fd = client_connect();
    const char *endless = "GET /endless HTTP/1.1\r\nHost: t\r\n\r\n";
    send_all(fd, endless, strlen(endless));
    char tmp[65536];
    size_t total = 0;
    while (total < 200000) {
        ssize_t nr = read(fd, tmp, sizeof(tmp));
        ASSERT_GT(nr, 0);
        total += (size_t)nr;
    }
    close(fd);

    /*
     * An oversized body is refused with a 413 envelope as soon as the headers announce it. The body is not sent:
     * the server closes without reading it, and unread data would turn its close into a reset that can
     * destroy the response before we read it.
     */
    fd = client_connect();
    const char *big = "POST /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 1048576\r\n\r\n";
    send_all(fd, big, strlen(big));
    ASSERT_EQ(read_response(fd, &r), 413);
    ASSERT(strcasestr(r.data, "\r\ncontent-type: application/json\r\n") != NULL);
    ASSERT_STR_EQ(body_of(&r), "{\"data\":[],\"error\":true,\"message\":\"request body too large: the limit is 65536 "
                               "bytes\",\"statusCode\":413}\n");
    close(fd);

    /* And the same for a chunked body that grows past the limit: some of it is sent, then the answer read. */
    fd = client_connect();
    const char *chunked = "POST /hello HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
    send_all(fd, chunked, strlen(chunked));
    char *blob = malloc(70000 + 32);
    int hn = snprintf(blob, 32, "%x\r\n", 70000);
    memset(blob + hn, 'x', 70000);
    memcpy(blob + hn + 70000, "\r\n", 2);
    send_all(fd, blob, (size_t)hn + 70002);
    free(blob);
    ASSERT_EQ(read_response(fd, &r), 413);
    ASSERT(strstr(body_of(&r), "\"statusCode\":413") != NULL);
    close(fd);

    /* An idle keep-alive connection at stop: the server closes it, so the loop can end. */
    fd = client_connect();
    ASSERT_EQ(roundtrip(fd, "GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", &r), 200);
    buf_free(&r);
    uv_async_send(&done_async);
    ASSERT_EQ(read(fd, tmp, sizeof(tmp)), 0);
    close(fd);
    return NULL;
}

static http_server_t *server;

static void on_done(uv_async_t *a)
{
    http_server_stop(server);
    uv_close((uv_handle_t *)a, NULL);
}

static void test_http_over_loopback(void)
{
    char err[256];
    uv_loop_init(&loop);
    server = http_server_new(&loop, routes, sizeof(routes) / sizeof(routes[0]), NULL);
    ASSERT_EQ(http_server_listen(server, "127.0.0.1", 0, err, sizeof(err)), 0);
    port = http_server_port(server);
    ASSERT_GT(port, 0);
    uv_async_init(&loop, &done_async, on_done);
    pthread_t client;
    pthread_create(&client, NULL, client_main, NULL);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns by itself once stopped and every connection is closed */
    pthread_join(client, NULL);
    ASSERT_EQ(stream_state.closed, 2); /* the GET and the HEAD */
    ASSERT_EQ(endless_state.closed, 1);
    http_server_free(server);
    uv_run(&loop, UV_RUN_DEFAULT); /* the close callbacks that free it */
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

static void test_listen_errors(void)
{
    char err[256];
    uv_loop_t l;
    uv_loop_init(&l);
    http_server_t *a = http_server_new(&l, routes, 1, NULL);
    ASSERT_EQ(http_server_listen(a, "not-an-ip", 0, err, sizeof(err)), -1);
    ASSERT(strstr(err, "not-an-ip") != NULL);
    ASSERT_EQ(http_server_listen(a, "127.0.0.1", 0, err, sizeof(err)), 0);
    http_server_t *b = http_server_new(&l, routes, 1, NULL);
    ASSERT_EQ(http_server_listen(b, "127.0.0.1", http_server_port(a), err, sizeof(err)), -1);
    ASSERT(strstr(err, "address already in use") != NULL);
    ASSERT_EQ(http_server_listen(a, "127.0.0.1", 0, err, sizeof(err)), -1); /* once only */
    http_server_t *c = http_server_new(&l, routes, 1, NULL);
    ASSERT_EQ(http_server_listen(c, "[::1]", 0, err, sizeof(err)), 0);
    http_server_t *d = http_server_new(&l, routes, 1, NULL);
    ASSERT_EQ(http_server_listen(d, "localhost", 0, err, sizeof(err)), 0);
    http_server_free(a);
    http_server_free(b);
    http_server_free(c);
    http_server_free(d);
    uv_run(&l, UV_RUN_DEFAULT);
    ASSERT_EQ(uv_loop_close(&l), 0);
}

int main(void)
{
    RUN_TEST(test_http_over_loopback);
    RUN_TEST(test_listen_errors);
    return 0;
}
