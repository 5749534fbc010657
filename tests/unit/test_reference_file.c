/* reference_file: OpenFlights CSV (quotes, \N, escaped quotes), one message per IATA and ICAO code, duplicates
 * (first wins; an active airline over a defunct one), rejected lines, the JSON entries. */
#include "test.h"

#include "ingest-gateway/reference_file.h"

#define S(s) (s), strlen(s)

/* The value published under code, NULL when none. */
static const char *value_of(const reference_file_t *f, const char *code, char *out, size_t out_size)
{
    for (size_t i = 0; i < f->count; i++) {
        const reference_message_t *m = &f->messages[i];
        if (m->key_len == strlen(code) && memcmp(f->bytes.data + m->key_off, code, m->key_len) == 0) {
            snprintf(out, out_size, "%.*s", (int)m->value_len, f->bytes.data + m->value_off);
            return out;
        }
    }
    return NULL;
}

static void test_airports(void)
{
    const char *data =
        "3682,\"Hartsfield Jackson Atlanta International Airport\",\"Atlanta\",\"United States\",\"ATL\",\"KATL\","
        "33.6367,-84.428101,1026,-5,\"A\",\"America/New_York\",\"airport\",\"OurAirports\"\n"
        "1,\"Goroka, \\\"Eastern\\\" Airport\",\"Goroka\",\"Papua New Guinea\",\\N,\"AYGA\",-6.08,145.39,5282,10,"
        "\"U\",\"Pacific/Port_Moresby\",\"airport\",\"OurAirports\"\r\n"
        "9,\"Second ATL\",\"Elsewhere\",\"Nowhere\",\"ATL\",\\N,1.0,2.0,0,0,\"U\",\"x\",\"airport\",\"x\"\n"
        "10,\"Bad latitude\",\"X\",\"Y\",\"BAD\",\"XBAD\",north,2.0\n"
        "11,\"Too short\"\n";
    reference_file_t f;
    reference_file_parse(&f, REFERENCE_AIRPORTS, data, strlen(data));
    ASSERT_EQ(f.lines, 5);
    ASSERT_EQ(f.entries, 3);
    ASSERT_EQ(f.rejected, 2);
    ASSERT_EQ(f.count, 3); /* ATL (first wins), KATL, AYGA */
    char v[1024];
    ASSERT(value_of(&f, "ATL", v, sizeof(v)) != NULL);
    ASSERT_STR_EQ(v, "{\"airport_id\":3682,\"city\":\"Atlanta\",\"country\":\"United States\",\"iata\":\"ATL\","
                     "\"icao\":\"KATL\",\"latitude\":33.6367,\"longitude\":-84.428101,"
                     "\"name\":\"Hartsfield Jackson Atlanta International Airport\"}");
    ASSERT(value_of(&f, "KATL", v, sizeof(v)) != NULL);
    ASSERT(strstr(v, "\"airport_id\":3682") != NULL);
    ASSERT(value_of(&f, "AYGA", v, sizeof(v)) != NULL);
    ASSERT(strstr(v, "\"iata\":null") != NULL);
    ASSERT(strstr(v, "\"name\":\"Goroka, \\\"Eastern\\\" Airport\"") != NULL); /* comma and quotes inside */
    ASSERT(value_of(&f, "BAD", v, sizeof(v)) == NULL);
    reference_file_free(&f);
}

static void test_airlines_active_wins(void)
{
    const char *data = "10,\"Old Air\",\\N,\"AA\",\"OLD\",\"\",\"Nowhere\",\"N\"\n"
                       "24,\"American Airlines\",\\N,\"AA\",\"AAL\",\"AMERICAN\",\"United States\",\"Y\"\n"
                       "25,\"Later Air\",\\N,\"AA\",\"LTR\",\"\",\"Somewhere\",\"Y\"\n"
                       "-1,\"Unknown\",\\N,\"-\",\"N/A\",\\N,\\N,\"Y\"\n";
    reference_file_t f;
    reference_file_parse(&f, REFERENCE_AIRLINES, data, strlen(data));
    char v[1024];
    ASSERT(value_of(&f, "AA", v, sizeof(v)) != NULL);
    ASSERT(strstr(v, "\"name\":\"American Airlines\"") != NULL); /* active, then the first */
    ASSERT(strstr(v, "\"active\":true") != NULL);
    ASSERT(value_of(&f, "OLD", v, sizeof(v)) != NULL); /* its ICAO code is its own */
    ASSERT(value_of(&f, "-", v, sizeof(v)) == NULL);
    ASSERT(value_of(&f, "N/A", v, sizeof(v)) == NULL);
    ASSERT_EQ(f.rejected, 1); /* no code at all */
    ASSERT_EQ(f.count, 4);    /* AA, OLD, AAL, LTR */
    reference_file_free(&f);
}

static void test_planes(void)
{
    const char *data = "\"Boeing 737-800\",\"738\",\"B738\"\n\"Some prop\",\\N,\"PROP\"\n\"\",\"XXX\",\"XXXX\"\n";
    reference_file_t f;
    reference_file_parse(&f, REFERENCE_PLANES, data, strlen(data));
    char v[512];
    ASSERT(value_of(&f, "738", v, sizeof(v)) != NULL);
    ASSERT_STR_EQ(v, "{\"iata\":\"738\",\"icao\":\"B738\",\"name\":\"Boeing 737-800\"}");
    ASSERT(value_of(&f, "PROP", v, sizeof(v)) != NULL);
    ASSERT_EQ(f.rejected, 1); /* no name */
    ASSERT_EQ(f.count, 3);
    reference_file_free(&f);
}

static void test_missing_file(void)
{
    reference_file_t f;
    ASSERT_EQ(reference_file_load(&f, REFERENCE_PLANES, "/nonexistent/planes.dat"), -1);
    ASSERT(strstr(f.error, "planes file /nonexistent/planes.dat") != NULL);
    ASSERT_EQ(f.count, 0);
    reference_file_free(&f);
}

int main(void)
{
    RUN_TEST(test_airports);
    RUN_TEST(test_airlines_active_wins);
    RUN_TEST(test_planes);
    RUN_TEST(test_missing_file);
    return 0;
}
