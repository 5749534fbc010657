#include "http_listener.h"

#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

#define HTTP_LISTENER_BACKLOG 1024

static void on_uv_connection(uv_stream_t *server, int status);

/* @returns 0 or a libuv error; on an error the handle is closing. */
static int listener_listen(http_listener_t *l)
{
    int rc = uv_tcp_init(l->loop, &l->tcp);
    if (rc != 0)
        return rc;
    l->tcp_open = true;
    l->tcp.data = l;
    rc = uv_tcp_bind(&l->tcp, (struct sockaddr *)&l->addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&l->tcp, HTTP_LISTENER_BACKLOG, on_uv_connection);
    if (rc != 0) {
        l->tcp_open = false;
        uv_close((uv_handle_t *)&l->tcp, NULL);
    }
    return rc;
}

static void on_retry(uv_timer_t *t)
{
    http_listener_t *l = t->data;
    if (l->closed)
        return;
    int rc = listener_listen(l);
    if (rc == 0) {
        l->paused = false;
        log_info("http_accept_resumed", "listening on port %d again", l->port);
    } else {
        uv_timer_start(&l->retry, on_retry, HTTP_LISTENER_RETRY_MS, 0);
        if (rc != UV_EMFILE && rc != UV_ENFILE)
            log_error("http_listen_failed", "cannot listen on port %d again: %s (retrying)", l->port, uv_strerror(rc));
    }
}

static void on_paused_close(uv_handle_t *h)
{
    http_listener_t *l = h->data;
    if (!l->closed)
        uv_timer_start(&l->retry, on_retry, HTTP_LISTENER_RETRY_MS, 0);
}

static void listener_pause(http_listener_t *l, int status)
{
    if (l->paused)
        return;
    l->paused = true;
    l->pauses++;
    log_warn("http_accept_paused", "accept failed: %s: connections refused for %d ms", uv_strerror(status),
             HTTP_LISTENER_RETRY_MS);
    /* Closing the socket also ends libuv's accept loop, which goes on only while the listener has a descriptor. */
    l->tcp_open = false;
    uv_close((uv_handle_t *)&l->tcp, on_paused_close);
}

static void on_uv_connection(uv_stream_t *server, int status)
{
    http_listener_t *l = server->data;
    if (status == UV_EMFILE || status == UV_ENFILE) {
        listener_pause(l, status);
        return;
    }
    if (status != 0) {
        log_warn("http_accept", "accept failed: %s", uv_strerror(status));
        return;
    }
    l->on_connection(server, l->data);
}

int http_listener_address(const char *host, int port, struct sockaddr_storage *addr, char *errstr, size_t errstr_size)
{
    if (port < 0 || port > 65535) {
        snprintf(errstr, errstr_size, "port %d is out of range (0..65535)", port);
        return -1;
    }
    char ip[INET6_ADDRSTRLEN + 2];
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']' && hl - 2 < sizeof(ip)) {
        memcpy(ip, host + 1, hl - 2);
        ip[hl - 2] = '\0';
    } else {
        snprintf(ip, sizeof(ip), "%s", strcmp(host, "localhost") == 0 ? "127.0.0.1" : host);
    }
    if (uv_ip4_addr(ip, port, (struct sockaddr_in *)addr) == 0 || uv_ip6_addr(ip, port, (struct sockaddr_in6 *)addr) == 0)
        return 0;
    snprintf(errstr, errstr_size, "listen address '%s' is not an IPv4 or IPv6 address (nor localhost)", host);
    return -1;
}

static int addr_port(const struct sockaddr_storage *addr)
{
    return ntohs(addr->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)addr)->sin6_port
                                             : ((const struct sockaddr_in *)addr)->sin_port);
}

int http_listener_open(http_listener_t *l, uv_loop_t *loop, const struct sockaddr_storage *addr,
                       http_listener_cb on_connection, void *data, char *errstr, size_t errstr_size)
{
    *l = (http_listener_t){.loop = loop, .addr = *addr, .on_connection = on_connection, .data = data};
    int rc = listener_listen(l);
    if (rc != 0) {
        char ip[INET6_ADDRSTRLEN] = "?";
        if (addr->ss_family == AF_INET6)
            uv_ip6_name((const struct sockaddr_in6 *)addr, ip, sizeof(ip));
        else
            uv_ip4_name((const struct sockaddr_in *)addr, ip, sizeof(ip));
        snprintf(errstr, errstr_size, "cannot listen on %s:%d: %s", ip, addr_port(addr), uv_strerror(rc));
        return -1;
    }
    int len = sizeof(l->addr);
    uv_tcp_getsockname(&l->tcp, (struct sockaddr *)&l->addr, &len); /* port 0: the one bound, kept for a retry */
    l->port = addr_port(&l->addr);
    uv_timer_init(loop, &l->retry);
    l->retry.data = l;
    l->retry_started = true;
    return 0;
}

void http_listener_close(http_listener_t *l)
{
    if (l->closed)
        return;
    l->closed = true;
    if (l->tcp_open) {
        l->tcp_open = false;
        uv_close((uv_handle_t *)&l->tcp, NULL);
    }
    if (l->retry_started)
        uv_close((uv_handle_t *)&l->retry, NULL);
}

int http_listener_port(const http_listener_t *l)
{
    return l->port;
}

bool http_listener_paused(const http_listener_t *l)
{
    return l->paused;
}
