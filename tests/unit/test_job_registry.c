/* job_registry: real replay jobs (a producer whose broker never answers, so every dead letter fails after
 * message.timeout.ms and the jobs finish): the finished beyond `kept` are dropped, oldest first, and their counts
 * stay in the totals; a running job is never dropped. */
#include <stdlib.h>
#include <unistd.h>

#include "test.h"
#include "ingest-gateway/job_registry.h"

static void on_delivery(void *opaque, rd_kafka_resp_err_t err, void *data)
{
    (void)data;
    replay_job_on_delivery(opaque, err);
}

static producer_t *unreachable_producer(uv_loop_t *loop)
{
    static char *keys[] = {"message.timeout.ms", "log_level"};
    static char *values[] = {"50", "0"};
    static config_kv_t props = {keys, values, 2};
    producer_config_t pc = {"127.0.0.1:1", "test-registry", "test-registry.dlq", 1, 1, &props, NULL, 0, NULL, 10000, NULL};
    char err[256];
    producer_t *p = producer_new(loop, &pc, on_delivery, NULL, NULL, err, sizeof(err));
    ASSERT(p != NULL);
    return p;
}

static void run_until_finished(uv_loop_t *loop, replay_job_t *job)
{
    for (int i = 0; i < 200000 && replay_job_state(job) != REPLAY_FINISHED; i++)
        uv_run(loop, UV_RUN_ONCE);
    ASSERT_EQ(replay_job_state(job), REPLAY_FINISHED);
}

static replay_job_t *start(uv_loop_t *loop, producer_t *p, const char *path, bool loop_file)
{
    replay_env_t env = {loop, p, NULL};
    replay_params_t params = {path, "test", 0, 0, loop_file};
    char err[256];
    replay_job_t *job = replay_job_start(&env, &params, NULL, NULL, err, sizeof(err));
    ASSERT(job != NULL);
    return job;
}

static void test_drops_the_oldest_finished_and_keeps_their_counts(void)
{
    uv_loop_t *loop = uv_default_loop();
    producer_t *p = unreachable_producer(loop);
    char path[] = "/tmp/test-registry-XXXXXX";
    int fd = mkstemp(path);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, "not,a,route\nnor this\nx\n", 23), 23);
    close(fd);

    job_registry_t *r = job_registry_new(2);
    char ids[4][64];
    for (int i = 0; i < 4; i++) {
        replay_job_t *job = start(loop, p, path, false);
        snprintf(ids[i], sizeof(ids[i]), "%s", replay_job_id(job));
        run_until_finished(loop, job);
        job_registry_add(r, job);
    }
    ASSERT(job_registry_find(r, ids[0]) == NULL);
    ASSERT(job_registry_find(r, ids[1]) == NULL);
    ASSERT(job_registry_find(r, ids[2]) != NULL);
    ASSERT(job_registry_find(r, ids[3]) != NULL);
    ASSERT_EQ(job_registry_started(r), 4);
    ASSERT_EQ(job_registry_running(r), 0);
    replay_counts_t t;
    job_registry_totals(r, &t);
    ASSERT_EQ(t.lines, 12);
    ASSERT_EQ(t.transform_errors, 12);
    ASSERT_EQ(t.dead_letters_failed, 12);
    ASSERT_EQ(t.passes, 4);
    ASSERT_EQ(t.in_flight, 0);

    /* A job still running stays however many finish after it. */
    replay_job_t *looping = start(loop, p, path, true);
    job_registry_add(r, looping);
    ASSERT_EQ(job_registry_running(r), 1);
    for (int i = 0; i < 3; i++) {
        replay_job_t *job = start(loop, p, path, false);
        run_until_finished(loop, job);
        job_registry_add(r, job);
    }
    ASSERT(job_registry_find(r, replay_job_id(looping)) == looping);
    replay_job_stop(looping);
    run_until_finished(loop, looping);
    job_registry_totals(r, &t);
    ASSERT_EQ(t.passes >= 7, true);
    ASSERT_EQ(t.lines, t.transform_errors);
    ASSERT_EQ(t.dead_letters_failed + t.dead_letters_delivered, t.lines);

    job_registry_free(r);
    uv_run(loop, UV_RUN_NOWAIT); /* the jobs' handles close */
    producer_close(p);
    producer_free(p, 0);
    unlink(path);
}

int main(void)
{
    RUN_TEST(test_drops_the_oldest_finished_and_keeps_their_counts);
    return 0;
}
