/* producer: before librdkafka 2.3.0 one request in flight per broker (its idempotent producer could fail for good
 * when a leader died under several), from 2.3.0 on librdkafka's own default. Freed on a loop that has not run since it was created (the gateway's start-up failing after it, at
 * the HTTP listener), producer_free returns only once its handles are closed, so the loop then ends and closes
 * with nothing of it left behind; before, the timers' close callbacks ran later inside the freed producer (only
 * valgrind sees that: the read is in libuv, which ASan does not instrument). */
#include "test.h"
#include "ingest-gateway/producer.h"

static void on_delivery(void *opaque, rd_kafka_resp_err_t err, void *data)
{
    (void)opaque;
    (void)err;
    (void)data;
}

static void test_free_before_the_loop_ran(void)
{
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    static char *keys[] = {"log_level"};
    static char *values[] = {"0"};
    static config_kv_t props = {keys, values, 1};
    producer_config_t pc = {"127.0.0.1:1", "test-producer", "test-producer.dlq", 1, 1, &props, NULL, 0, NULL, 10000, NULL};
    char err[256];
    producer_t *p = producer_new(&loop, &pc, on_delivery, NULL, NULL, err, sizeof(err));
    ASSERT(p != NULL);
    producer_free(p, 0);
    ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0); /* nothing left: no handle, no request */
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

static const char *default_of(int version, const char *name)
{
    const kafka_property_t *props;
    size_t n = producer_default_properties(version, &props);
    for (size_t i = 0; i < n; i++)
        if (strcmp(props[i].name, name) == 0)
            return props[i].value;
    return NULL;
}

static void test_in_flight_by_librdkafka_version(void)
{
    ASSERT_STR_EQ(default_of(0x020002ff, "max.in.flight.requests.per.connection"), "1"); /* Debian 12's 2.0.2 */
    ASSERT_STR_EQ(default_of(PRODUCER_LIBRDKAFKA_SEQUENCE_FIX - 1, "max.in.flight.requests.per.connection"), "1");
    ASSERT(default_of(PRODUCER_LIBRDKAFKA_SEQUENCE_FIX, "max.in.flight.requests.per.connection") == NULL);
    ASSERT(default_of(0x020a00ff, "max.in.flight.requests.per.connection") == NULL);
    /* The rest do not depend on the version. */
    ASSERT_STR_EQ(default_of(0x020002ff, "enable.idempotence"), "true");
    ASSERT_STR_EQ(default_of(0x020a00ff, "enable.idempotence"), "true");
    ASSERT_STR_EQ(default_of(0x020a00ff, "acks"), "all");
}

int main(void)
{
    RUN_TEST(test_in_flight_by_librdkafka_version);
    RUN_TEST(test_free_before_the_loop_ran);
    return 0;
}
