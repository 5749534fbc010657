#define _GNU_SOURCE /* pipe2 */
#include "snapshot_child.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"

/* In the child: the state as it was at the fork, serialized and written; the result down the pipe; nothing else. */
static void run_child(int result_fd, const snapshot_state_t *state, const char *dir, pid_t parent,
                      const sigset_t *unblocked)
{
    /* A signal for the child must not reach libuv's handlers here: their pipe is the parent's too. They were
     * blocked across the fork, so none arrived before this. */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    sigprocmask(SIG_SETMASK, unblocked, NULL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1); /* the parent died before the line above */

    snapshot_child_result_t r;
    memset(&r, 0, sizeof(r));
    buf_t snap = BUF_INIT;
    snapshot_serialize(state, &snap);
    if (snapshot_write_file(dir, &snap, r.error, sizeof(r.error)) != 0)
        r.failed = 1;
    else
        r.bytes = snap.len;
    /* One write below PIPE_BUF: whole or not at all. */
    ssize_t n;
    do {
        n = write(result_fd, &r, sizeof(r));
    } while (n < 0 && errno == EINTR);
    _exit(n == (ssize_t)sizeof(r) ? 0 : 1);
}

/* on_done once both handles are closed: the owner may start the next child in it, which reuses them. */
static void on_handle_closed(uv_handle_t *h)
{
    snapshot_child_t *c = h->data;
    if (--c->handles_open > 0)
        return;
    c->on_done(c->error, c->error[0] == '\0' ? c->result.bytes : 0, c->data);
}

/* The child's exit, told by waitpid: checked once its pipe has closed, then every millisecond until reaped. */
static void try_reap(uv_timer_t *t)
{
    snapshot_child_t *c = t->data;
    int status = 0;
    pid_t r = waitpid(c->pid, &status, WNOHANG);
    if (r == 0) {
        if (!uv_is_active((uv_handle_t *)t))
            uv_timer_start(t, try_reap, 1, 1);
        return;
    }
    if (r < 0)
        snprintf(c->error, sizeof(c->error), "snapshot child %ld: waitpid: %s", (long)c->pid, strerror(errno));
    else if (c->result_len == sizeof(c->result) && c->result.failed)
        snprintf(c->error, sizeof(c->error), "%s", c->result.error);
    else if (c->result_len != sizeof(c->result) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFSIGNALED(status))
            snprintf(c->error, sizeof(c->error), "snapshot child %ld killed by signal %d", (long)c->pid,
                     WTERMSIG(status));
        else
            snprintf(c->error, sizeof(c->error), "snapshot child %ld ended without its result (exit status %d)",
                     (long)c->pid, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    uv_close((uv_handle_t *)t, on_handle_closed);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    snapshot_child_t *c = h->data;
    size_t room = sizeof(c->result) - c->result_len;
    /* Never 0 bytes (libuv reads that as ENOBUFS): a child writing past its result is read into the spare byte. */
    static char spare;
    *buf = room > 0 ? uv_buf_init((char *)&c->result + c->result_len, (unsigned)room) : uv_buf_init(&spare, 1);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    snapshot_child_t *c = s->data;
    if (nread > 0 && buf->base != (char *)&c->result + c->result_len)
        return; /* past the result: ignored */
    if (nread > 0) {
        c->result_len += (size_t)nread;
        return;
    }
    if (nread == 0)
        return;
    /* EOF (the child ended) or a read error: either way the child is done with the pipe. */
    uv_read_stop(s);
    uv_close((uv_handle_t *)s, on_handle_closed);
    try_reap(&c->reap_timer);
}

int snapshot_child_start(snapshot_child_t *c, uv_loop_t *loop, const snapshot_state_t *state, const char *dir,
                         snapshot_child_done_cb on_done, void *data, char *errstr, size_t errstr_size)
{
    memset(c, 0, sizeof(*c));
    c->on_done = on_done;
    c->data = data;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        snprintf(errstr, errstr_size, "snapshot: pipe: %s", strerror(errno));
        return -1;
    }
    pid_t parent = getpid();
    sigset_t blocked, unblocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    pthread_sigmask(SIG_BLOCK, &blocked, &unblocked);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        run_child(fds[1], state, dir, parent, &unblocked);
    }
    pthread_sigmask(SIG_SETMASK, &unblocked, NULL); /* one sent to the parent meanwhile is delivered now */
    if (pid < 0) {
        snprintf(errstr, errstr_size, "snapshot: fork: %s", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    close(fds[1]);
    c->pid = pid;
    uv_pipe_init(loop, &c->pipe, 0);
    uv_timer_init(loop, &c->reap_timer);
    c->pipe.data = c;
    c->reap_timer.data = c;
    c->handles_open = 2;
    int rc = uv_pipe_open(&c->pipe, fds[0]);
    if (rc != 0)
        close(fds[0]); /* not the handle's */
    else
        rc = uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read);
    if (rc != 0) {
        /* The child runs on: its result is lost, its exit is still awaited (no zombie). */
        snprintf(c->error, sizeof(c->error), "snapshot: watching the child's pipe: %s", uv_strerror(rc));
        uv_close((uv_handle_t *)&c->pipe, on_handle_closed);
        uv_timer_start(&c->reap_timer, try_reap, 1, 1);
    }
    return 0;
}
