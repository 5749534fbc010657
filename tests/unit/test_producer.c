/* producer: freed on a loop that has not run since it was created (the gateway's start-up failing after it, at
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
    producer_config_t pc = {"127.0.0.1:1", "test-producer", "test-producer.dlq", 1, 1, &props, NULL, 0, NULL, 10000};
    char err[256];
    producer_t *p = producer_new(&loop, &pc, on_delivery, NULL, NULL, err, sizeof(err));
    ASSERT(p != NULL);
    producer_free(p, 0);
    ASSERT_EQ(uv_run(&loop, UV_RUN_NOWAIT), 0); /* nothing left: no handle, no request */
    ASSERT_EQ(uv_loop_close(&loop), 0);
}

int main(void)
{
    RUN_TEST(test_free_before_the_loop_ran);
    return 0;
}
