/*
 * snapshot_child: a snapshot written by a child process, as redis writes its RDB file (BGSAVE). fork() gives the
 * child a copy-on-write image of the parent's memory at that instant, so the child serializes and writes a state
 * that cannot move under it while the loop goes straight back to its events: the loop pauses for the fork (page
 * tables, about 2 ms for this service's heap), not for the copy of the views (10 to 25 ms at 20 MB of
 * state, every --snapshot-interval-ms, which every event arriving meanwhile waited for).
 *
 * The child touches its image of the state, the heap (glibc's malloc is fork-safe) and the state directory, and
 * ends with _exit: no stdio, no Kafka, no loop. SIGTERM and SIGINT are blocked across the fork and reset in the
 * child before it can take one: libuv's handlers would write to the parent's signal pipe. Its result comes back
 * through a pipe the loop watches; it dies with its parent (PR_SET_PDEATHSIG). One child at a time; the owner
 * waits for on_done before starting another and before closing the loop.
 */
#ifndef QUERY_SNAPSHOT_CHILD_H
#define QUERY_SNAPSHOT_CHILD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "snapshot.h"

/* error is "" on success; bytes is the snapshot's size when written. */
typedef void (*snapshot_child_done_cb)(const char *error, uint64_t bytes, void *data);

typedef struct snapshot_child_result_s {
    int32_t failed;
    uint32_t reserved;
    uint64_t bytes;
    char error[240];
} snapshot_child_result_t;

typedef struct snapshot_child_s {
    uv_pipe_t pipe; /* the result's read end */
    uv_timer_t reap_timer;
    pid_t pid;
    snapshot_child_result_t result;
    size_t result_len;
    int handles_open;
    char error[256];
    snapshot_child_done_cb on_done;
    void *data;
} snapshot_child_t;

/*
 * Forks a child that serializes state and writes it to dir/snapshot.bin (snapshot_write_file), then calls
 * on_done on the loop once the child has ended and been reaped. state must stay as it is until this returns only:
 * the child has its own image. @returns 0 started; -1 nothing started (fork or pipe refused), with errstr.
 */
int snapshot_child_start(snapshot_child_t *c, uv_loop_t *loop, const snapshot_state_t *state, const char *dir,
                         snapshot_child_done_cb on_done, void *data, char *errstr, size_t errstr_size);

#endif
