/*
 * http_listener: the listening socket of an HTTP server, and what it does when the process runs out of file
 * descriptors. libuv answers EMFILE by closing a reserved descriptor, accepting and closing what waits, and
 * taking the reserve back; when another thread (librdkafka's) takes that descriptor first, the reserve is gone,
 * and libuv then calls the connection callback with EMFILE again and again without returning to the loop: the
 * service hangs. So on EMFILE or ENFILE the listener closes its socket (the kernel resets the connections waiting
 * on it, and new ones are refused rather than left hanging) and listens again on the same address and port
 * HTTP_LISTENER_RETRY_MS later, until descriptors are free again.
 */
#ifndef COMMON_HTTP_LISTENER_H
#define COMMON_HTTP_LISTENER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#define HTTP_LISTENER_RETRY_MS 100

/* A connection waits: accept it with uv_accept(server, client). */
typedef void (*http_listener_cb)(uv_stream_t *server, void *data);

typedef struct http_listener_s {
    uv_loop_t *loop;
    uv_tcp_t tcp;
    uv_timer_t retry;
    struct sockaddr_storage addr; /* with the port bound, for listening again */
    http_listener_cb on_connection;
    void *data;
    int port;
    bool tcp_open;      /* uv_tcp_init done, not closed yet */
    bool retry_started; /* uv_timer_init done */
    bool paused;        /* out of descriptors: not listening until the retry succeeds */
    bool closed;
    uint64_t pauses;
} http_listener_t;

/* host:port as the services take it: an IPv4 or IPv6 literal, "[::1]" as in URLs, or localhost; port 0 picks one
 * when listening. @returns 0, or -1 with errstr. */
int http_listener_address(const char *host, int port, struct sockaddr_storage *addr, char *errstr, size_t errstr_size);
/*
 * Binds and listens on addr. @returns 0, or -1 with errstr; either way call http_listener_close once done (its
 * handles' memory is l's: keep it until the loop ran once more after that).
 */
int http_listener_open(http_listener_t *l, uv_loop_t *loop, const struct sockaddr_storage *addr,
                       http_listener_cb on_connection, void *data, char *errstr, size_t errstr_size);
/* Stops listening for good, and closes its handles. */
void http_listener_close(http_listener_t *l);
int http_listener_port(const http_listener_t *l);
/* Not listening for now: the process ran out of descriptors. */
bool http_listener_paused(const http_listener_t *l);

#endif
