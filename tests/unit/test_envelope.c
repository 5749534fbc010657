/*
 * envelope: Flask's jsonify bytes, Python's float repr and round(x, 2).
 */
#include <math.h>

#include "envelope.h"
#include "test.h"

static void check_pyfloat(double v, const char *expected)
{
    char out[40];
    int n = envelope_format_pyfloat(v, out, sizeof(out));
    ASSERT_STR_EQ(out, expected);
    ASSERT_EQ(n, strlen(expected));
}

static void test_pyfloat(void)
{
    check_pyfloat(0.1, "0.1");
    check_pyfloat(1e16, "1e+16");
    check_pyfloat(1e-5, "1e-05");
    check_pyfloat(123456789.0, "123456789.0");
    check_pyfloat(-0.0, "-0.0");
    check_pyfloat(0.0, "0.0");
    check_pyfloat(98.67, "98.67");
    check_pyfloat(100.0, "100.0");
    check_pyfloat(1e15, "1000000000000000.0");
    check_pyfloat(0.0001, "0.0001");
    check_pyfloat(1.5e-7, "1.5e-07");
    check_pyfloat(1e100, "1e+100");
    check_pyfloat(2.5, "2.5");
    check_pyfloat(-2.5, "-2.5");
    check_pyfloat(0.3, "0.3");
    check_pyfloat(2.0 / 3.0, "0.6666666666666666");
    check_pyfloat(5e-324, "5e-324");
    check_pyfloat(1.7976931348623157e308, "1.7976931348623157e+308");
    check_pyfloat(123.456e-10, "1.23456e-08");
    check_pyfloat(NAN, "NaN");
    check_pyfloat(INFINITY, "Infinity");
    check_pyfloat(-INFINITY, "-Infinity");
    char tiny[4];
    ASSERT_EQ(envelope_format_pyfloat(123456.5, tiny, sizeof(tiny)), 3); /* truncated, never overrun */
}

static void test_round2(void)
{
    ASSERT(envelope_round2(66765.0 / 67663.0 * 100) == 98.67);
    ASSERT(envelope_round2(898.0 / 67663.0 * 100) == 1.33);
    ASSERT(envelope_round2(2.675) == 2.67); /* 2.675 is 2.67499999... in binary, as Python rounds it */
    ASSERT(envelope_round2(0.125) == 0.12); /* half to even */
    ASSERT(envelope_round2(100.0) == 100.0);
    ASSERT(envelope_round2(1e300) == 1e300);
    ASSERT(isnan(envelope_round2(NAN)));
    double z = envelope_round2(-0.001);
    ASSERT(z == 0.0 && signbit(z));
}

static struct json_object *pair(const char *key, struct json_object *value)
{
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, key, value);
    return o;
}

static void render(int status, bool error, const char *message, struct json_object *data, buf_t *out)
{
    buf_reset(out);
    envelope_render(out, status, error, message, data);
}

static void test_seed_produce_summary(void)
{
    const long total = 67663, success = 66765, transform = 898, schema = 0;
    struct json_object *data = json_object_new_array();
    json_object_array_add(data, pair("Total count", json_object_new_int64(total)));
    json_object_array_add(data, pair("Total count (%)", envelope_new_pyfloat(envelope_round2((double)total / total * 100))));
    json_object_array_add(data, pair("Total success", json_object_new_int64(success)));
    json_object_array_add(data, pair("Total success (%)", envelope_new_pyfloat(envelope_round2((double)success / total * 100))));
    json_object_array_add(data, pair("Total errors by var transform", json_object_new_int64(transform)));
    json_object_array_add(data, pair("Total errors by var transform (%)",
                                     envelope_new_pyfloat(envelope_round2((double)transform / total * 100))));
    json_object_array_add(data, pair("Total errors by invalid schema", json_object_new_int64(schema)));
    json_object_array_add(data, pair("Total errors by invalid schema (%)",
                                     envelope_new_pyfloat(envelope_round2((double)schema / total * 100))));
    buf_t out = BUF_INIT;
    render(200, false, "produce", data, &out);
    ASSERT_STR_EQ(out.data, "{\"data\":[{\"Total count\":67663},{\"Total count (%)\":100.0},{\"Total success\":66765},"
                            "{\"Total success (%)\":98.67},{\"Total errors by var transform\":898},"
                            "{\"Total errors by var transform (%)\":1.33},{\"Total errors by invalid schema\":0},"
                            "{\"Total errors by invalid schema (%)\":0.0}],\"error\":false,\"message\":\"produce\","
                            "\"statusCode\":200}\n");
    /* json-c's own serialization of the pyfloat objects agrees (json_object_new_double_s). */
    struct json_object *pct = json_object_object_get(json_object_array_get_idx(data, 3), "Total success (%)");
    ASSERT_STR_EQ(json_object_to_json_string_ext(pct, JSON_C_TO_STRING_PLAIN), "98.67");
    json_object_put(data);
    buf_free(&out);
}

static void test_values_keys_and_errors(void)
{
    buf_t out = BUF_INIT;
    render(404, true, "no such path: /foo", NULL, &out);
    ASSERT_STR_EQ(out.data, "{\"data\":[],\"error\":true,\"message\":\"no such path: /foo\",\"statusCode\":404}\n");

    /* Keys sorted even when added out of order; nested values; strings escaped as Python does. */
    struct json_object *row = json_object_new_object();
    json_object_object_add(row, "source_airport", json_object_new_string("Z\xc3\xbcrich \"/\" \x01"));
    json_object_object_add(row, "count", json_object_new_int(915));
    json_object_object_add(row, "codeshare", json_object_new_boolean(1));
    json_object_object_add(row, "B", NULL);
    json_object_object_add(row, "list", json_object_new_array());
    json_object_array_add(json_object_object_get(row, "list"), json_object_new_double(0.5));
    json_object_array_add(json_object_object_get(row, "list"), json_object_new_int64(-9007199254740993LL));
    json_object_object_add(row, "big", json_object_new_uint64(18446744073709551615ULL));
    json_object_object_add(row, "empty", json_object_new_object());
    struct json_object *data = json_object_new_array();
    json_object_array_add(data, row);
    render(200, false, "top10_source_airport", data, &out);
    ASSERT_STR_EQ(out.data, "{\"data\":[{\"B\":null,\"big\":18446744073709551615,\"codeshare\":true,\"count\":915,\"empty\":{},"
                            "\"list\":[0.5,-9007199254740993],\"source_airport\":\"Z\\u00fcrich \\\"/\\\" \\u0001\"}],"
                            "\"error\":false,\"message\":\"top10_source_airport\",\"statusCode\":200}\n");
    json_object_put(data);

    /* An object with more keys than the on-stack sort room. */
    struct json_object *wide = json_object_new_object();
    for (int i = 39; i >= 0; i--) {
        char k[8];
        snprintf(k, sizeof(k), "k%02d", i);
        json_object_object_add(wide, k, json_object_new_int(i));
    }
    render(200, false, "m", wide, &out);
    ASSERT(strncmp(out.data, "{\"data\":{\"k00\":0,\"k01\":1,", 25) == 0);
    ASSERT(strstr(out.data, "\"k38\":38,\"k39\":39}") != NULL);
    json_object_put(wide);
    buf_free(&out);
}

int main(void)
{
    RUN_TEST(test_pyfloat);
    RUN_TEST(test_round2);
    RUN_TEST(test_seed_produce_summary);
    RUN_TEST(test_values_keys_and_errors);
    return 0;
}
