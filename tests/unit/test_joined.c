/* route_counts and joined: events counted per airline, pair and plane code (each code of an equipment list), the
 * joined views' rows and order, unmatched codes kept with null fields, countries, great-circle distances. */
#include "test.h"

#include <json-c/json.h>

#include "query-service/joined.h"
#include "query-service/views.h"

#define S(s) (s), strlen(s)

static void apply(views_t *v, const char *airline, const char *src, const char *dst, const char *equipment)
{
    route_event_t ev;
    memset(&ev, 0, sizeof(ev));
    snprintf(ev.id_buf, sizeof(ev.id_buf), "d89ac153-e415-472f-8fd8-785c8491395d");
    ev.id = (str_slice_t){ev.id_buf, strlen(ev.id_buf)};
    ev.airline = (str_slice_t){airline, strlen(airline)};
    ev.source_airport = (str_slice_t){src, strlen(src)};
    ev.destination_airport = (str_slice_t){dst, strlen(dst)};
    ev.equipment = (str_slice_t){equipment, strlen(equipment)};
    int64_t offset = positions_get(views_positions(v), 0).next_offset;
    record_id_t rec = {0, offset, (uint64_t)offset * 7 + 1};
    ASSERT_EQ(views_apply_at(v, &rec, &ev, INT64_C(1700000000000000)), 0);
}

static views_t *sample_views(void)
{
    views_config_t cfg;
    views_config_default(&cfg);
    views_t *v = views_new(&cfg);
    apply(v, "DL", "ATL", "JNB", "77L");
    apply(v, "DL", "ATL", "JFK", "738 320");
    apply(v, "AA", "JFK", "ATL", "738");
    apply(v, "ZZ", "XXX", "ATL", "");
    return v;
}

static tables_t *sample_tables(void)
{
    tables_t *t = tables_new();
    tables_apply(t, REFERENCE_AIRPORTS, S("ATL"),
                 S("{\"city\":\"Atlanta\",\"country\":\"United States\",\"latitude\":33.6367,\"longitude\":-84.428101,"
                   "\"name\":\"Hartsfield\"}"));
    tables_apply(t, REFERENCE_AIRPORTS, S("JFK"),
                 S("{\"city\":\"New York\",\"country\":\"United States\",\"latitude\":40.63980103,"
                   "\"longitude\":-73.77890015,\"name\":\"JFK\"}"));
    tables_apply(t, REFERENCE_AIRPORTS, S("JNB"),
                 S("{\"city\":\"Johannesburg\",\"country\":\"South Africa\",\"latitude\":-26.1392,"
                   "\"longitude\":28.246,\"name\":\"OR Tambo\"}"));
    tables_apply(t, REFERENCE_AIRLINES, S("DL"), S("{\"country\":\"United States\",\"name\":\"Delta Air Lines\"}"));
    tables_apply(t, REFERENCE_PLANES, S("738"), S("{\"name\":\"Boeing 737-800\"}"));
    return t;
}

static void assert_json(struct json_object *arr, const char *want)
{
    const char *got = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
    ASSERT_STR_EQ(got, want);
    json_object_put(arr);
}

static void test_counts(void)
{
    views_t *v = sample_views();
    const route_counts_t *rc = views_route_counts(v);
    ASSERT_EQ(counted_get(rc->airlines, S("DL")), 2);
    ASSERT_EQ(counted_get(rc->pairs, S("ATL JNB")), 1);
    ASSERT_EQ(counted_get(rc->pairs, S("JFK ATL")), 1);
    ASSERT_EQ(counted_get(rc->planes, S("738")), 2); /* "738 320" counts for both */
    ASSERT_EQ(counted_get(rc->planes, S("320")), 1);
    ASSERT_EQ(counted_get(rc->planes, "", 0), 1); /* no equipment: counted as "" */
    ASSERT_EQ(counted_total(rc->airlines), 4);
    views_free(v);
}

/* Empty fields may come with a NULL pointer (a snapshot's recent rows do): counted as "", nothing passed to memcpy. */
static void test_empty_fields(void)
{
    views_config_t cfg;
    views_config_default(&cfg);
    views_t *v = views_new(&cfg);
    route_event_t ev;
    memset(&ev, 0, sizeof(ev));
    snprintf(ev.id_buf, sizeof(ev.id_buf), "d89ac153-e415-472f-8fd8-785c8491395d");
    ev.id = (str_slice_t){ev.id_buf, strlen(ev.id_buf)};
    ev.source_airport = (str_slice_t){"ATL", 3};
    record_id_t rec = {0, 0, 1};
    ASSERT_EQ(views_apply_at(v, &rec, &ev, INT64_C(1700000000000000)), 0);
    const route_counts_t *rc = views_route_counts(v);
    ASSERT_EQ(counted_get(rc->airlines, "", 0), 1);
    ASSERT_EQ(counted_get(rc->pairs, S("ATL ")), 1);
    ASSERT_EQ(counted_get(rc->planes, "", 0), 1);
    views_free(v);
}

static void test_joined_rows(void)
{
    views_t *v = sample_views();
    tables_t *t = sample_tables();
    assert_json(joined_source_airports(v, t, 0),
                "[{\"city\":\"Atlanta\",\"count\":2,\"country\":\"United States\",\"latitude\":33.6367,"
                "\"longitude\":-84.428101,\"name\":\"Hartsfield\",\"source_airport\":\"ATL\"},"
                "{\"city\":\"New York\",\"count\":1,\"country\":\"United States\",\"latitude\":40.63980103,"
                "\"longitude\":-73.77890015,\"name\":\"JFK\",\"source_airport\":\"JFK\"},"
                "{\"city\":null,\"count\":1,\"country\":null,\"latitude\":null,\"longitude\":null,\"name\":null,"
                "\"source_airport\":\"XXX\"}]");
    assert_json(joined_countries(v, t, 0), "[{\"airports\":2,\"count\":3,\"country\":\"United States\"},"
                                           "{\"airports\":1,\"count\":1,\"country\":null}]");
    assert_json(joined_airlines(v, t, 2), "[{\"airline\":\"DL\",\"count\":2,\"country\":\"United States\","
                                          "\"name\":\"Delta Air Lines\"},"
                                          "{\"airline\":\"AA\",\"count\":1,\"country\":null,\"name\":null}]");
    assert_json(joined_planes(v, t, 1), "[{\"count\":2,\"equipment\":\"738\",\"name\":\"Boeing 737-800\"}]");
    /* ATL-JNB is the longest; JFK-ATL and ATL-JFK tie (source order); XXX has no coordinates: last, null. */
    assert_json(joined_longest_routes(v, t, 0),
                "[{\"count\":1,\"destination_airport\":\"JNB\",\"distance_km\":13582.6,\"source_airport\":\"ATL\"},"
                "{\"count\":1,\"destination_airport\":\"JFK\",\"distance_km\":1222.1,\"source_airport\":\"ATL\"},"
                "{\"count\":1,\"destination_airport\":\"ATL\",\"distance_km\":1222.1,\"source_airport\":\"JFK\"},"
                "{\"count\":1,\"destination_airport\":\"ATL\",\"distance_km\":null,\"source_airport\":\"XXX\"}]");
    joined_unmatched_t um;
    joined_unmatched(v, t, REFERENCE_AIRLINES, &um);
    ASSERT_EQ(um.codes, 2); /* AA, ZZ */
    ASSERT_EQ(um.events, 2);
    joined_unmatched(v, t, REFERENCE_PLANES, &um);
    ASSERT_EQ(um.codes, 3); /* 77L, 320, "" */

    /* A correction changes the next answer. */
    tables_apply(t, REFERENCE_AIRLINES, S("AA"), S("{\"name\":\"American Airlines\"}"));
    joined_unmatched(v, t, REFERENCE_AIRLINES, &um);
    ASSERT_EQ(um.codes, 1);
    tables_free(t);
    views_free(v);
}

static void test_distance(void)
{
    ASSERT(joined_distance_km(0, 0, 0, 0) == 0);
    double half = joined_distance_km(0, 0, 0, 180); /* half the circumference */
    ASSERT(half > 20015.0 && half < 20016.0);
    double sym = joined_distance_km(-26.1392, 28.246, 33.6367, -84.428101);
    ASSERT(sym > 13582.5 && sym < 13582.7);
}

int main(void)
{
    RUN_TEST(test_counts);
    RUN_TEST(test_empty_fields);
    RUN_TEST(test_joined_rows);
    RUN_TEST(test_distance);
    return 0;
}
