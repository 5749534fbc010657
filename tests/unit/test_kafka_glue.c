/*
 * kafka_glue with a real librdkafka (no broker needed): configuration errors name the property, and a
 * delivery report wakes the libuv loop through the queue's pipe.
 */
#include "kafka_glue.h"
#include "test.h"

static void test_conf_errors_name_the_property(void)
{
    char err[512];
    char *keys[] = {"linger.ms", "no.such.property"};
    char *values[] = {"7", "1"};
    config_kv_t props = {keys, values, 2};
    ASSERT(kafka_conf_new("127.0.0.1:1", "t", NULL, 0, &props, err, sizeof(err)) == NULL);
    ASSERT(strstr(err, "no.such.property") != NULL);

    /* A bad value of a known property, from -X or from the service's defaults, names it too. */
    char *bad_keys[] = {"acks"};
    char *bad_values[] = {"sometimes"};
    config_kv_t bad = {bad_keys, bad_values, 1};
    ASSERT(kafka_conf_new("127.0.0.1:1", "t", NULL, 0, &bad, err, sizeof(err)) == NULL);
    ASSERT(strstr(err, "-X acks=sometimes") != NULL);
    static const kafka_property_t bad_default[] = {{"linger.ms", "-5"}};
    ASSERT(kafka_conf_new("127.0.0.1:1", "t", bad_default, 1, NULL, err, sizeof(err)) == NULL);
    ASSERT(strstr(err, "linger.ms") != NULL);

    static const kafka_property_t defaults[] = {{"linger.ms", "100"}};
    props.count = 1; /* -X linger.ms=7 overrides the default */
    rd_kafka_conf_t *conf = kafka_conf_new("127.0.0.1:1", "t", defaults, 1, &props, err, sizeof(err));
    ASSERT(conf != NULL);
    char value[64];
    size_t len = sizeof(value);
    ASSERT_EQ(rd_kafka_conf_get(conf, "linger.ms", value, &len), RD_KAFKA_CONF_OK);
    ASSERT_STR_EQ(value, "7");
    rd_kafka_conf_destroy(conf);
}

static int reports;
static rd_kafka_resp_err_t report_err;
static rd_kafka_t *rk;
static kafka_waker_t *waker;

static void on_dr(rd_kafka_t *k, const rd_kafka_message_t *m, void *opaque)
{
    (void)k;
    (void)opaque;
    reports++;
    report_err = m->err;
}

static void on_ready(void *data)
{
    (void)data;
    rd_kafka_poll(rk, 0);
    if (reports > 0)
        kafka_waker_close(waker); /* the loop then has nothing left and returns */
}

static void test_delivery_report_wakes_the_loop(void)
{
    char err[512];
    static const kafka_property_t defaults[] = {{"message.timeout.ms", "500"}};
    rd_kafka_conf_t *conf = kafka_conf_new("127.0.0.1:1", "t", defaults, 1, NULL, err, sizeof(err));
    ASSERT(conf != NULL);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    ASSERT(rk != NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_kafka_queue_t *q = rd_kafka_queue_get_main(rk);
    waker = kafka_waker_new(&loop, q, on_ready, NULL);
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    uv_run(&loop, UV_RUN_DEFAULT); /* returns only once the waker closed after the report */
    ASSERT_EQ(reports, 1);
    ASSERT_EQ(report_err, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    uv_loop_close(&loop);
}

int main(void)
{
    RUN_TEST(test_conf_errors_name_the_property);
    RUN_TEST(test_delivery_report_wakes_the_loop);
    return 0;
}
