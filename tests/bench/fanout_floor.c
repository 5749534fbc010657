/* The kernel's floor under the stream benchmark's fan-out (stream_bench.py): how long one pass of N write()s of
 * one message to N loopback TCP sockets takes, from T threads, while another process reads every socket through
 * one epoll set (as sse_load does). No HTTP, no event loop, no rendering: what is left is the send path, the
 * loopback's receive path run in the sender's context, and the reader's wake-ups.
 *
 *   fanout_floor N THREADS BYTES PASSES INTERVAL_MS
 *
 * Prints one JSON line: {"sockets", "threads", "bytes", "passes", "median_ms", "p99_ms", "max_ms"}. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 16

struct slice {
    const int *fds;
    int from, to;
    const char *msg;
    size_t len;
};

static void die(const char *what) {
    fprintf(stderr, "fanout_floor: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *write_slice(void *arg) {
    const struct slice *s = arg;
    for (int i = s->from; i < s->to; i++) {
        ssize_t n = write(s->fds[i], s->msg, s->len);
        if (n != (ssize_t)s->len) die("write (a socket buffer full: the reader is behind)");
    }
    return NULL;
}

/* The reader: connects every client socket, then reads whatever arrives until the writer closes them. */
static void run_reader(const struct sockaddr_in *addr, int sockets) {
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    for (int i = 0; i < sockets; i++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) die("socket");
        if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) != 0) die("connect");
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) die("epoll_ctl");
    }
    static char buf[65536];
    struct epoll_event evs[1024];
    int open_sockets = sockets;
    while (open_sockets > 0) {
        int k = epoll_wait(ep, evs, 1024, -1);
        if (k < 0 && errno != EINTR) die("epoll_wait");
        for (int j = 0; j < k; j++) {
            if (read(evs[j].data.fd, buf, sizeof buf) <= 0) {
                close(evs[j].data.fd);
                open_sockets--;
            }
        }
    }
    _exit(0);
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: fanout_floor SOCKETS THREADS BYTES PASSES INTERVAL_MS\n");
        return 2;
    }
    int sockets = atoi(argv[1]), threads = atoi(argv[2]), passes = atoi(argv[4]), interval_ms = atoi(argv[5]);
    size_t len = (size_t)atol(argv[3]);
    if (sockets < 1 || threads < 1 || threads > MAX_THREADS || len < 1 || passes < 1 || interval_ms < 0) {
        fprintf(stderr, "fanout_floor: bad arguments (THREADS at most %d)\n", MAX_THREADS);
        return 2;
    }
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
    signal(SIGPIPE, SIG_IGN);

    int listener = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (listener < 0) die("socket");
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t addr_len = sizeof addr;
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(listener, 4096) != 0 ||
        getsockname(listener, (struct sockaddr *)&addr, &addr_len) != 0)
        die("listen on 127.0.0.1");
    pid_t reader = fork();
    if (reader < 0) die("fork");
    if (reader == 0) run_reader(&addr, sockets);

    int *fds = malloc((size_t)sockets * sizeof *fds);
    char *msg = malloc(len);
    double *pass_s = malloc((size_t)passes * sizeof *pass_s);
    if (!fds || !msg || !pass_s) die("malloc");
    memset(msg, 'x', len);
    for (int i = 0; i < sockets; i++) {
        fds[i] = accept(listener, NULL, NULL);
        if (fds[i] < 0) die("accept");
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as h2o sets it */
    }

    pthread_t tids[MAX_THREADS];
    struct slice slices[MAX_THREADS];
    for (int p = 0; p < passes; p++) {
        usleep((useconds_t)interval_ms * 1000);
        double t0 = now_s();
        for (int k = 0; k < threads; k++) {
            slices[k] = (struct slice){fds, (int)((long)sockets * k / threads),
                                       (int)((long)sockets * (k + 1) / threads), msg, len};
            if (pthread_create(&tids[k], NULL, write_slice, &slices[k]) != 0) die("pthread_create");
        }
        for (int k = 0; k < threads; k++) pthread_join(tids[k], NULL);
        pass_s[p] = now_s() - t0;
    }
    for (int i = 0; i < sockets; i++) close(fds[i]);
    int status = 0;
    waitpid(reader, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "fanout_floor: the reader failed\n");
        return 1;
    }

    qsort(pass_s, (size_t)passes, sizeof *pass_s, by_value);
    int p99 = (int)(0.99 * passes);
    if (p99 >= passes) p99 = passes - 1;
    printf("{\"sockets\": %d, \"threads\": %d, \"bytes\": %zu, \"passes\": %d, \"median_ms\": %.3f, "
           "\"p99_ms\": %.3f, \"max_ms\": %.3f}\n",
           sockets, threads, len, passes, pass_s[passes / 2] * 1e3, pass_s[p99] * 1e3, pass_s[passes - 1] * 1e3);
    return 0;
}
