/*
 * http_listener on a real loop and real loopback sockets: it accepts, and when the process is out of file
 * descriptors and libuv's reserve descriptor is gone (taken by another thread in the service), it stops
 * listening instead of spinning in libuv's accept loop, the connections waiting are reset rather than left to
 * hang, and it listens again on the same port once descriptors are free.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "http_listener.h"
#include "test.h"

static int accepted;

static void on_client_closed(uv_handle_t *h)
{
    free(h);
}

static void on_connection(uv_stream_t *server, void *data)
{
    (void)data;
    uv_tcp_t *c = malloc(sizeof(*c));
    uv_tcp_init(server->loop, c);
    if (uv_accept(server, (uv_stream_t *)c) == 0)
        accepted++;
    uv_close((uv_handle_t *)c, on_client_closed);
}

static int client_socket(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT(fd >= 0);
    return fd;
}

static void client_connect(int fd, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0); /* the kernel completes it: nothing accepts yet */
}

static void run_until_accepted(uv_loop_t *loop, int n)
{
    for (int i = 0; i < 1000 && accepted < n; i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
    ASSERT_EQ(accepted, n);
}

/* The peer of a connection the listener dropped: it sees the end or a reset soon, never silence. */
static void assert_dropped(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    ASSERT_EQ(poll(&p, 1, 2000), 1);
    char byte;
    ssize_t n = recv(fd, &byte, 1, 0);
    ASSERT(n == 0 || (n < 0 && errno == ECONNRESET));
}

static void test_out_of_descriptors_pauses_then_resumes(void)
{
    uv_loop_t *loop = uv_default_loop();
    http_listener_t l;
    char err[256];
    struct sockaddr_storage addr;
    ASSERT_EQ(http_listener_address("localhost", 0, &addr, err, sizeof(err)), 0);
    ASSERT_EQ(http_listener_open(&l, loop, &addr, on_connection, NULL, err, sizeof(err)), 0);
    int port = http_listener_port(&l);
    ASSERT_GT(port, 0);

    int first = client_socket();
    client_connect(first, port);
    run_until_accepted(loop, 1);
    close(first);

    /* The reserve is gone, as when another thread took its descriptor during libuv's EMFILE handling. */
    ASSERT(loop->emfile_fd >= 0);
    close(loop->emfile_fd);
    loop->emfile_fd = -1;

    enum { WAITING = 3, FILLERS_MAX = 256 };
    int waiting[WAITING];
    for (int i = 0; i < WAITING; i++)
        waiting[i] = client_socket();
    struct rlimit saved;
    ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
    struct rlimit low = {FILLERS_MAX, saved.rlim_max};
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    int fillers[FILLERS_MAX], n_fillers = 0;
    while (n_fillers < FILLERS_MAX && (fillers[n_fillers] = open("/dev/null", O_RDONLY)) >= 0)
        n_fillers++;
    ASSERT_EQ(errno, EMFILE);
    for (int i = 0; i < WAITING; i++)
        client_connect(waiting[i], port);

    /* Without the pause this never returns: libuv calls back with EMFILE in a loop of its own. */
    for (int i = 0; i < 20 && !http_listener_paused(&l); i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
    ASSERT(http_listener_paused(&l));
    ASSERT_EQ(l.pauses, 1);
    for (int i = 0; i < WAITING; i++) {
        assert_dropped(waiting[i]);
        close(waiting[i]);
    }

    for (int i = 0; i < n_fillers; i++)
        close(fillers[i]);
    ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &saved), 0);
    for (int i = 0; i < 1000 && http_listener_paused(&l); i++)
        uv_run(loop, UV_RUN_NOWAIT), usleep(1000);
    ASSERT(!http_listener_paused(&l));
    ASSERT_EQ(http_listener_port(&l), port);
    int again = client_socket();
    client_connect(again, port);
    run_until_accepted(loop, 2);
    close(again);

    http_listener_close(&l);
    uv_run(loop, UV_RUN_NOWAIT);
    ASSERT_EQ(uv_loop_alive(loop), 0);
}

static void test_bad_addresses(void)
{
    struct sockaddr_storage addr;
    char err[256];
    ASSERT_EQ(http_listener_address("example.org", 0, &addr, err, sizeof(err)), -1);
    ASSERT(strstr(err, "not an IPv4 or IPv6 address") != NULL);
    ASSERT_EQ(http_listener_address("127.0.0.1", 70000, &addr, err, sizeof(err)), -1);
    ASSERT(strstr(err, "out of range") != NULL);
    ASSERT_EQ(http_listener_address("[::1]", 80, &addr, err, sizeof(err)), 0);
    ASSERT_EQ(addr.ss_family, AF_INET6);
}

int main(void)
{
    RUN_TEST(test_out_of_descriptors_pauses_then_resumes);
    RUN_TEST(test_bad_addresses);
    return 0;
}
