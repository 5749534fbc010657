/*
 * kafka_probe on a real libuv loop and threadpool: one probe at a time, the owner's delay between them, a probe
 * asked for while one runs starts right after it, a stopped probe is not delivered, and a broker that never
 * answers is told apart from a missing topic.
 */
#include "kafka_glue.h"
#include "kafka_probe.h"
#include "test.h"

typedef struct probe_owner_s {
    kafka_probe_t probe;
    uv_sem_t release;     /* the work waits on it when hold is set */
    bool hold;
    int in_flight;        /* touched by the work only, one at a time: above 1 means two ran together */
    int most_in_flight;
    int works;
    int dones;
    uint64_t next_delay;
    int stop_after;       /* the done that stops the probe (0: never) */
    int soon_at;          /* the done that asks for the next probe at once (0: never) */
    bool busy_in_done;    /* kafka_probe_busy, seen from a done */
} probe_owner_t;

static void owner_work(void *data)
{
    probe_owner_t *o = data;
    if (++o->in_flight > o->most_in_flight)
        o->most_in_flight = o->in_flight;
    if (o->hold)
        uv_sem_wait(&o->release);
    o->works++;
    o->in_flight--;
}

static uint64_t owner_done(void *data)
{
    probe_owner_t *o = data;
    if (++o->dones == o->stop_after)
        kafka_probe_stop(&o->probe);
    if (o->dones == o->soon_at)
        kafka_probe_soon(&o->probe);
    o->busy_in_done |= kafka_probe_busy(&o->probe);
    return o->next_delay;
}

static void owner_init(probe_owner_t *o, uint64_t next_delay)
{
    *o = (probe_owner_t){.next_delay = next_delay};
    ASSERT_EQ(uv_sem_init(&o->release, 0), 0);
}

static void owner_close(probe_owner_t *o, uv_loop_t *loop)
{
    kafka_probe_close(&o->probe);
    while (kafka_probe_busy(&o->probe))
        uv_run(loop, UV_RUN_ONCE);
    uv_run(loop, UV_RUN_NOWAIT); /* the timer's close */
    uv_sem_destroy(&o->release);
}

static void run_until_dones(uv_loop_t *loop, probe_owner_t *o, int dones)
{
    for (int i = 0; i < 100000 && o->dones < dones; i++)
        uv_run(loop, UV_RUN_ONCE);
    ASSERT_GE(o->dones, dones);
}

static void test_probes_follow_one_another(void)
{
    uv_loop_t *loop = uv_default_loop();
    probe_owner_t o;
    owner_init(&o, 0);
    o.stop_after = 20;
    kafka_probe_start(&o.probe, loop, owner_work, owner_done, &o);
    run_until_dones(loop, &o, 20);
    uv_run(loop, UV_RUN_NOWAIT);
    ASSERT_EQ(o.dones, 20); /* stopped from its own done: no 21st */
    ASSERT_EQ(o.works, 20);
    ASSERT_EQ(o.most_in_flight, 1);
    owner_close(&o, loop);
}

static void test_asked_while_running_starts_right_after(void)
{
    uv_loop_t *loop = uv_default_loop();
    probe_owner_t o;
    owner_init(&o, 3600 * 1000); /* an hour: only kafka_probe_soon can start the second in this test */
    o.hold = true;
    kafka_probe_start(&o.probe, loop, owner_work, owner_done, &o);
    for (int i = 0; i < 1000 && !kafka_probe_busy(&o.probe); i++)
        uv_run(loop, UV_RUN_NOWAIT);
    ASSERT(kafka_probe_busy(&o.probe));
    kafka_probe_soon(&o.probe);
    kafka_probe_soon(&o.probe); /* asked twice: still one more, not two */
    uv_sem_post(&o.release);
    run_until_dones(loop, &o, 1);
    ASSERT_EQ(o.dones, 1);
    uv_sem_post(&o.release);
    run_until_dones(loop, &o, 2);
    ASSERT_EQ(o.works, 2);
    ASSERT(!kafka_probe_busy(&o.probe)); /* the third waits an hour */
    owner_close(&o, loop);
    ASSERT_EQ(o.works, 2);
}

/* A done that changes what the owner asks (a rewind) asks again from inside: the next probe starts at once, and
 * the probe being delivered does not count as one in flight (its answer is not stale). */
static void test_asked_from_its_done_starts_at_once(void)
{
    uv_loop_t *loop = uv_default_loop();
    probe_owner_t o;
    owner_init(&o, 3600 * 1000);
    o.soon_at = 1;
    kafka_probe_start(&o.probe, loop, owner_work, owner_done, &o);
    run_until_dones(loop, &o, 2);
    ASSERT_EQ(o.works, 2);
    ASSERT(!o.busy_in_done);
    owner_close(&o, loop);
}

static void test_a_stopped_probe_is_not_delivered(void)
{
    uv_loop_t *loop = uv_default_loop();
    probe_owner_t o;
    owner_init(&o, 0);
    o.hold = true;
    kafka_probe_start(&o.probe, loop, owner_work, owner_done, &o);
    for (int i = 0; i < 1000 && !kafka_probe_busy(&o.probe); i++)
        uv_run(loop, UV_RUN_NOWAIT);
    kafka_probe_stop(&o.probe);
    kafka_probe_soon(&o.probe); /* ignored once stopped */
    ASSERT(kafka_probe_busy(&o.probe)); /* still on the threadpool: the owner must not free what it touches */
    uv_sem_post(&o.release);
    while (kafka_probe_busy(&o.probe))
        uv_run(loop, UV_RUN_ONCE);
    ASSERT_EQ(o.works, 1);
    ASSERT_EQ(o.dones, 0);
    owner_close(&o, loop);
}

static void test_an_unreachable_broker_is_unanswered(void)
{
    char err[256];
    static const kafka_property_t quiet[] = {{"log_level", "0"}};
    rd_kafka_conf_t *conf = kafka_conf_new("127.0.0.1:1", "test-probe", quiet, 1, NULL, err, sizeof(err));
    ASSERT(conf != NULL);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    ASSERT(rk != NULL);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "test-probe", NULL);
    char why[256] = "";
    ASSERT_EQ(kafka_topic_partitions(rk, rkt, false, why, sizeof(why)), KAFKA_TOPIC_UNANSWERED);
    ASSERT(strstr(why, "Kafka unavailable") != NULL);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

int main(void)
{
    RUN_TEST(test_probes_follow_one_another);
    RUN_TEST(test_asked_while_running_starts_right_after);
    RUN_TEST(test_asked_from_its_done_starts_at_once);
    RUN_TEST(test_a_stopped_probe_is_not_delivered);
    RUN_TEST(test_an_unreachable_broker_is_unanswered);
    return 0;
}
