/*
 * sse_load: thousands of HTTP clients in one thread and one epoll set, for tests/bench/stream_bench.py. A Python
 * client spent about as long reading 10,000 sockets as the service spent writing them, so its clock said more about
 * itself than about the service. Each client records when it saw which state of the view: "<client> <seconds on
 * CLOCK_MONOTONIC> <state>" per line (the state is the events applied that the stream's id or the ETag names).
 *
 *   sse_load HOST PORT stream PATH CLIENTS OUT      subscribers of a /stream/ view
 *   sse_load HOST PORT poll PATH CLIENTS OUT MS     keep-alive clients polling PATH every MS, spread evenly
 *
 * It prints "connected" once every client has sent its request, runs until its standard input closes, then writes
 * OUT (poll mode adds "# response <seconds>" lines, each answer's time since its request) and prints "done".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READ_CHUNK 65536
#define SENT_RING 16 /* poll requests in flight per client */

typedef struct record_s {
    uint32_t client;
    double t;
    uint64_t state;
} record_t;

typedef struct client_s {
    int fd;
    char *buf; /* unparsed bytes */
    size_t len, cap;
    double sent[SENT_RING]; /* poll mode: when each request in flight was sent */
    unsigned sent_head, sent_tail;
    bool answered; /* stream mode: the response's status line was read, and was 200 */
} client_t;

static record_t *records;
static size_t n_records, cap_records;
static double *responses;
static size_t n_responses, cap_responses;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "sse_load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = need * 2 > 1024 ? need * 2 : 1024;
    p = realloc(p, *cap * size);
    if (p == NULL)
        die("realloc");
    return p;
}

static void record(uint32_t client, double t, uint64_t state)
{
    records = grow(records, &cap_records, n_records + 1, sizeof(*records));
    records[n_records++] = (record_t){client, t, state};
}

/* "<epoch hex>-<events applied hex>[-...]": the events applied. */
static uint64_t state_of(const char *id, size_t len)
{
    const char *dash = memchr(id, '-', len);
    return dash != NULL ? strtoull(dash + 1, NULL, 16) : 0;
}

static int connect_one(const struct sockaddr_in *addr)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket");
    if (connect(fd, (const struct sockaddr *)addr, sizeof(*addr)) != 0)
        die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void send_all(int fd, const char *req, size_t len)
{
    /* A request is a few dozen bytes: the socket buffer always takes it whole. */
    if (write(fd, req, len) != (ssize_t)len)
        die("write");
}

/*
 * Every answer must be a 200: a client counting the states of 429s or 503s would time the wrong thing.
 * @returns false while fewer bytes than a status line's start have arrived.
 */
static bool check_status(const char *head, size_t len, uint32_t index)
{
    static const char ok[] = "HTTP/1.1 200 ";
    if (len < sizeof(ok) - 1)
        return false;
    if (memcmp(head, ok, sizeof(ok) - 1) != 0) {
        const char *eol = memchr(head, '\r', len);
        fprintf(stderr, "sse_load: client %u: the service answered \"%.*s\", not 200\n", index,
                (int)(eol != NULL ? eol - head : (ptrdiff_t)len), head);
        exit(1);
    }
    return true;
}

/* Stream mode: every "id: " line of the messages read so far. */
static void parse_stream(client_t *c, uint32_t index, double t)
{
    if (!c->answered && !(c->answered = check_status(c->buf, c->len, index)))
        return;
    size_t start = 0;
    for (;;) {
        char *id = memmem(c->buf + start, c->len - start, "\nid: ", 5);
        if (id == NULL)
            break;
        char *end = memchr(id + 5, '\n', (size_t)(c->buf + c->len - (id + 5)));
        if (end == NULL)
            break;
        record(index, t, state_of(id + 5, (size_t)(end - id - 5)));
        start = (size_t)(end - c->buf);
    }
    /* Keep the tail: an "id:" line may be cut between two reads. */
    size_t keep = c->len - start < 64 ? c->len - start : 64;
    memmove(c->buf, c->buf + c->len - keep, keep);
    c->len = keep;
}

static const char *header(const char *head, size_t head_len, const char *name, size_t *value_len)
{
    size_t n = strlen(name);
    for (const char *line = head; line < head + head_len;) {
        const char *eol = memmem(line, (size_t)(head + head_len - line), "\r\n", 2);
        if (eol == NULL)
            eol = head + head_len;
        if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (v < eol && *v == ' ')
                v++;
            *value_len = (size_t)(eol - v);
            return v;
        }
        line = eol + 2;
    }
    return NULL;
}

/* Poll mode: every whole answer read so far (head with Content-Length and ETag, then the body). */
static void parse_answers(client_t *c, uint32_t index, double t)
{
    size_t start = 0;
    for (;;) {
        char *head_end = memmem(c->buf + start, c->len - start, "\r\n\r\n", 4);
        if (head_end == NULL)
            break;
        size_t head_len = (size_t)(head_end - (c->buf + start)), vlen;
        const char *cl = header(c->buf + start, head_len, "content-length", &vlen);
        size_t body = cl != NULL ? strtoul(cl, NULL, 10) : 0;
        size_t total = head_len + 4 + body;
        if (c->len - start < total)
            break;
        check_status(c->buf + start, head_len, index);
        const char *etag = header(c->buf + start, head_len, "etag", &vlen);
        if (etag != NULL) {
            while (vlen > 0 && (*etag == 'W' || *etag == '/' || *etag == '"'))
                etag++, vlen--;
            record(index, t, state_of(etag, vlen));
        }
        if (c->sent_tail != c->sent_head) {
            responses = grow(responses, &cap_responses, n_responses + 1, sizeof(*responses));
            responses[n_responses++] = t - c->sent[c->sent_tail++ % SENT_RING];
        }
        start += total;
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
}

static void on_readable(client_t *c, uint32_t index, bool stream)
{
    for (;;) {
        c->buf = grow(c->buf, &c->cap, c->len + READ_CHUNK, 1);
        ssize_t n = read(c->fd, c->buf + c->len, READ_CHUNK);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                fprintf(stderr, "sse_load: client %u: the service closed the connection\n", index);
                exit(1);
            }
            return;
        }
        c->len += (size_t)n;
        double t = now_s();
        if (stream)
            parse_stream(c, index, t);
        else
            parse_answers(c, index, t);
        if ((size_t)n < READ_CHUNK)
            return;
    }
}

static void write_out(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        die(path);
    for (size_t i = 0; i < n_records; i++)
        fprintf(f, "%u %.6f %llu\n", records[i].client, records[i].t, (unsigned long long)records[i].state);
    for (size_t i = 0; i < n_responses; i++)
        fprintf(f, "# response %.6f\n", responses[i]);
    if (fclose(f) != 0)
        die(path);
}

int main(int argc, char **argv)
{
    if (argc < 7 || (strcmp(argv[3], "stream") != 0 && strcmp(argv[3], "poll") != 0) ||
        (strcmp(argv[3], "poll") == 0 && argc < 8)) {
        fprintf(stderr, "usage: sse_load HOST PORT stream|poll PATH CLIENTS OUT [INTERVAL_MS]\n");
        return 2;
    }
    bool stream = strcmp(argv[3], "stream") == 0;
    uint32_t n = (uint32_t)strtoul(argv[5], NULL, 10);
    double interval = stream ? 0 : strtod(argv[7], NULL) / 1000;
    struct rlimit files;
    if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
        files.rlim_cur = files.rlim_max;
        setrlimit(RLIMIT_NOFILE, &files);
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) {
        fprintf(stderr, "sse_load: %s is not an IPv4 address\n", argv[1]);
        return 2;
    }
    char req[512];
    int req_len = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: bench\r\n%s\r\n", argv[4],
                           stream ? "Accept: text/event-stream\r\n" : "");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    client_t *clients = calloc(n, sizeof(*clients));
    if (ep < 0 || clients == NULL)
        die("setup");
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX}; /* standard input: its end stops us */
    epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
    for (uint32_t i = 0; i < n; i++) {
        clients[i].fd = connect_one(&addr);
        if (stream)
            send_all(clients[i].fd, req, (size_t)req_len);
        ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, clients[i].fd, &ev) != 0)
            die("epoll_ctl");
    }
    printf("connected\n");
    fflush(stdout);

    /* Poll mode: client i polls at start + i * interval / n + k * interval. */
    double start = now_s();
    uint64_t polls = 0;
    struct epoll_event events[1024];
    for (;;) {
        int timeout_ms = 100;
        if (!stream) {
            double t = now_s();
            for (;;) {
                uint32_t i = (uint32_t)(polls % n);
                double due = start + (double)(polls / n) * interval + (double)i * interval / n;
                if (due > t) {
                    timeout_ms = (int)((due - t) * 1000) + 1;
                    break;
                }
                client_t *c = &clients[i];
                if (c->sent_head - c->sent_tail < SENT_RING) {
                    c->sent[c->sent_head++ % SENT_RING] = t;
                    send_all(c->fd, req, (size_t)req_len);
                }
                polls++;
            }
        }
        int k = epoll_wait(ep, events, 1024, timeout_ms);
        if (k < 0 && errno != EINTR)
            die("epoll_wait");
        for (int e = 0; e < k; e++) {
            uint32_t i = events[e].data.u32;
            if (i == UINT32_MAX) {
                char drain[64];
                if (read(0, drain, sizeof(drain)) <= 0) {
                    write_out(argv[6]);
                    printf("done\n");
                    return 0;
                }
                continue;
            }
            on_readable(&clients[i], i, stream);
        }
    }
}
