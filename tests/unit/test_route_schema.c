#include "route_schema.h"
#include "test.h"

/* The fingerprint of data/data_schema.json, cross-checked with python3-avro's canonical_form. */
#define ROUTE_SCHEMA_FINGERPRINT 0x9a0dbfac723a67c3ULL
#define ROUTE_SCHEMA_CANONICAL                                                                                          \
    "{\"name\":\"AirlineRouteEvent\",\"type\":\"record\",\"fields\":[{\"name\":\"id\",\"type\":\"string\"},"            \
    "{\"name\":\"datetime\",\"type\":\"string\"},{\"name\":\"airline\",\"type\":\"string\"},"                           \
    "{\"name\":\"airline_id\",\"type\":\"int\"},{\"name\":\"source_airport\",\"type\":\"string\"},"                     \
    "{\"name\":\"source_airport_id\",\"type\":\"int\"},{\"name\":\"destination_airport\",\"type\":\"string\"},"         \
    "{\"name\":\"destination_airport_id\",\"type\":\"int\"},{\"name\":\"codeshare\",\"type\":\"boolean\"},"             \
    "{\"name\":\"stops\",\"type\":\"int\"},{\"name\":\"equipment\",\"type\":\"string\"}]}"

/*
 * Apache Avro's share/test/data/schema-tests.txt (cases 000-033), the vectors every Avro
 * implementation checks: input, Parsing Canonical Form and, where given, the signed decimal of the
 * 64-bit Rabin fingerprint (has_fp = 0 where the file gives none).
 */
static const struct {
    const char *input, *canonical;
    int has_fp;
    int64_t fp;
} avro_vectors[] = {
    {"\"null\"", "\"null\"", 1, INT64_C(7195948357588979594)},
    {"{\"type\":\"null\"}", "\"null\"", 0, 0},
    {"\"boolean\"", "\"boolean\"", 1, INT64_C(-6970731678124411036)},
    {"{\"type\":\"boolean\"}", "\"boolean\"", 0, 0},
    {"\"int\"", "\"int\"", 1, INT64_C(8247732601305521295)},
    {"{\"type\":\"int\"}", "\"int\"", 0, 0},
    {"\"long\"", "\"long\"", 1, INT64_C(-3434872931120570953)},
    {"{\"type\":\"long\"}", "\"long\"", 0, 0},
    {"\"float\"", "\"float\"", 1, INT64_C(5583340709985441680)},
    {"{\"type\":\"float\"}", "\"float\"", 0, 0},
    {"\"double\"", "\"double\"", 1, INT64_C(-8181574048448539266)},
    {"{\"type\":\"double\"}", "\"double\"", 0, 0},
    {"\"bytes\"", "\"bytes\"", 1, INT64_C(5746618253357095269)},
    {"{\"type\":\"bytes\"}", "\"bytes\"", 0, 0},
    {"\"string\"", "\"string\"", 1, INT64_C(-8142146995180207161)},
    {"{\"type\":\"string\"}", "\"string\"", 0, 0},
    {"[  ]", "[]", 1, INT64_C(-1241056759729112623)},
    {"[ \"int\"  ]", "[\"int\"]", 1, INT64_C(-5232228896498058493)},
    {"[ \"int\" , {\"type\":\"boolean\"} ]", "[\"int\",\"boolean\"]", 1, INT64_C(5392556393470105090)},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\"}", "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1,
     INT64_C(-4824392279771201922)},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"x.y.foo\",\"type\":\"record\",\"fields\":[]}", 1, INT64_C(5916914534497305771)},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"a.b.foo\", \"namespace\":\"x.y\"}",
     "{\"name\":\"a.b.foo\",\"type\":\"record\",\"fields\":[]}", 1, INT64_C(-4616218487480524110)},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"Useful info\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1, INT64_C(-4824392279771201922)},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1, INT64_C(-4824392279771201922)},
    {"{\"fields\":[], \"type\":\"record\", \"name\":\"foo\", \"doc\":\"foo\", \"aliases\":[\"foo\",\"bar\"]}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[]}", 1, INT64_C(-4824392279771201922)},
    {"{\"fields\":[{\"type\":{\"type\":\"boolean\"}, \"name\":\"f1\"}], \"type\":\"record\", \"name\":\"foo\"}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"}]}", 1,
     INT64_C(7843277075252814651)},
    {"{ \"fields\":[{\"type\":\"boolean\", \"aliases\":[], \"name\":\"f1\", \"default\":\"true\"},\n"
     "            {\"order\":\"descending\",\"name\":\"f2\",\"doc\":\"Hello\",\"type\":\"int\"}],\n"
     "  \"type\":\"record\", \"name\":\"foo\"\n}",
     "{\"name\":\"foo\",\"type\":\"record\",\"fields\":[{\"name\":\"f1\",\"type\":\"boolean\"},{\"name\":\"f2\",\"type\":"
     "\"int\"}]}",
     1, INT64_C(-4860222112080293046)},
    {"{\"type\":\"enum\", \"name\":\"foo\", \"symbols\":[\"A1\"]}", "{\"name\":\"foo\",\"type\":\"enum\",\"symbols\":[\"A1\"]}",
     1, INT64_C(-6342190197741309591)},
    {"{\"namespace\":\"x.y.z\", \"type\":\"enum\", \"name\":\"foo\", \"doc\":\"foo bar\", \"symbols\":[\"A1\", \"A2\"]}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"enum\",\"symbols\":[\"A1\",\"A2\"]}", 1, INT64_C(-4448647247586288245)},
    {"{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", "{\"name\":\"foo\",\"type\":\"fixed\",\"size\":15}", 1,
     INT64_C(1756455273707447556)},
    {"{\"namespace\":\"x.y.z\", \"type\":\"fixed\", \"name\":\"foo\", \"doc\":\"foo bar\", \"size\":32}",
     "{\"name\":\"x.y.z.foo\",\"type\":\"fixed\",\"size\":32}", 1, INT64_C(-3064184465700546786)},
    {"{ \"items\":{\"type\":\"null\"}, \"type\":\"array\"}", "{\"type\":\"array\",\"items\":\"null\"}", 1,
     INT64_C(-589620603366471059)},
    {"{ \"values\":\"string\", \"type\":\"map\"}", "{\"type\":\"map\",\"values\":\"string\"}", 1,
     INT64_C(-8732877298790414990)},
    {"  {\"name\":\"PigValue\",\"type\":\"record\",\n"
     "   \"fields\":[{\"name\":\"value\", \"type\":[\"null\", \"int\", \"long\", \"PigValue\"]}]}",
     "{\"name\":\"PigValue\",\"type\":\"record\",\"fields\":[{\"name\":\"value\",\"type\":[\"null\",\"int\",\"long\","
     "\"PigValue\"]}]}",
     1, INT64_C(-1759257747318642341)},
};

/* More canonical-form cases (expected outputs from python3-avro 1.11.1, except where noted). */
static const struct {
    const char *input, *canonical;
} more_vectors[] = {
    /* [FULLNAMES]: namespaces inherited by nested types, references by short and full name */
    {"{\"type\":\"record\",\"name\":\"Outer\",\"namespace\":\"com.example\",\"fields\":[{\"name\":\"inner\",\"type\":"
     "{\"type\":\"record\",\"name\":\"Inner\",\"fields\":[{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
     "\"namespace\":\"other\",\"symbols\":[\"X\"]}},{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\""
     ":4}}]}},{\"name\":\"again\",\"type\":\"Inner\"},{\"name\":\"again2\",\"type\":\"com.example.Inner\"},{\"name\":"
     "\"e2\",\"type\":\"other.E\"}]}",
     "{\"name\":\"com.example.Outer\",\"type\":\"record\",\"fields\":[{\"name\":\"inner\",\"type\":{\"name\":"
     "\"com.example.Inner\",\"type\":\"record\",\"fields\":[{\"name\":\"e\",\"type\":{\"name\":\"other.E\",\"type\":"
     "\"enum\",\"symbols\":[\"X\"]}},{\"name\":\"f\",\"type\":{\"name\":\"com.example.F\",\"type\":\"fixed\",\"size\":4}}"
     "]}},{\"name\":\"again\",\"type\":\"com.example.Inner\"},{\"name\":\"again2\",\"type\":\"com.example.Inner\"},"
     "{\"name\":\"e2\",\"type\":\"other.E\"}]}"},
    /* a dotted name sets the namespace of what it encloses */
    {"{\"type\":\"record\",\"name\":\"a.b.R\",\"namespace\":\"ignored\",\"fields\":[{\"name\":\"n\",\"type\":{\"type\":"
     "\"fixed\",\"name\":\"N\",\"size\":2}}]}",
     "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":[{\"name\":\"n\",\"type\":{\"name\":\"a.b.N\",\"type\":"
     "\"fixed\",\"size\":2}}]}"},
    /* [PRIMITIVES] and [STRIP] with a logical type: "long", as the spec and the Java reference say
     * (python3-avro keeps {"type":"long"} here) */
    {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":{\"type\":"
     "\"array\",\"items\":[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-millis\"}]}}}]}",
     "{\"name\":\"R\",\"type\":\"record\",\"fields\":[{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":{\"type\":"
     "\"array\",\"items\":[\"null\",\"long\"]}}}]}"},
    /* [STRINGS]: \u escapes become the characters */
    {"{\"type\":\"enum\",\"name\":\"\\u0045num\",\"symbols\":[\"\\u0041\",\"B\"]}",
     "{\"name\":\"Enum\",\"type\":\"enum\",\"symbols\":[\"A\",\"B\"]}"},
    /* [INTEGERS]: a quoted size is written bare, without leading zeros */
    {"{\"type\":\"fixed\",\"name\":\"Q\",\"size\":\"0016\"}", "{\"name\":\"Q\",\"type\":\"fixed\",\"size\":16}"},
    /* [ORDER] whatever the input order; [WHITESPACE] */
    {" { \"size\" : 3 ,\n\t\"type\" : \"fixed\" , \"name\" : \"W\" } ", "{\"name\":\"W\",\"type\":\"fixed\",\"size\":3}"},
    {"{\"values\":{\"items\":\"bytes\",\"type\":\"array\"},\"type\":\"map\"}",
     "{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":\"bytes\"}}"},
    /* a union inside a namespace: references resolve in it */
    {"{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":[{\"name\":\"u\",\"type\":[\"null\",{\"type\":"
     "\"record\",\"name\":\"S\",\"fields\":[]},\"S\",\"n.S\"]}]}",
     "{\"name\":\"n.R\",\"type\":\"record\",\"fields\":[{\"name\":\"u\",\"type\":[\"null\",{\"name\":\"n.S\",\"type\":"
     "\"record\",\"fields\":[]},\"n.S\",\"n.S\"]}]}"},
    /* primitive names are never namespaced */
    {"{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":[{\"name\":\"i\",\"type\":\"int\"}]}",
     "{\"name\":\"n.R\",\"type\":\"record\",\"fields\":[{\"name\":\"i\",\"type\":\"int\"}]}"},
};

static void test_crc64_avro(void)
{
    ASSERT_U64_EQ(route_schema_crc64_avro("", 0), 0xc15d213aa4d7a795ULL);
    ASSERT_U64_EQ(route_schema_crc64_avro("a", 1), 0x0ade663b45cf10e2ULL);
    ASSERT_U64_EQ(route_schema_crc64_avro("123456789", 9), 0xa2cdcf9465b2c75fULL);
    unsigned char all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    ASSERT_U64_EQ(route_schema_crc64_avro(all, sizeof(all)), 0x0da4cfe132c16598ULL);
}

static void test_avro_spec_vectors(void)
{
    char err[256];
    for (size_t i = 0; i < sizeof(avro_vectors) / sizeof(avro_vectors[0]); i++) {
        err[0] = '\0';
        char *pcf = route_schema_canonical_form(avro_vectors[i].input, err, sizeof(err));
        if (pcf == NULL)
            TEST_FAIL_("case %03zu: %s", i, err);
        ASSERT_STR_EQ(pcf, avro_vectors[i].canonical);
        uint64_t fp = route_schema_crc64_avro(pcf, strlen(pcf));
        if (avro_vectors[i].has_fp)
            ASSERT_U64_EQ(fp, (uint64_t)avro_vectors[i].fp);
        free(pcf);
    }
}

static void test_more_canonical_forms(void)
{
    char err[256];
    for (size_t i = 0; i < sizeof(more_vectors) / sizeof(more_vectors[0]); i++) {
        err[0] = '\0';
        char *pcf = route_schema_canonical_form(more_vectors[i].input, err, sizeof(err));
        if (pcf == NULL)
            TEST_FAIL_("case %zu: %s", i, err);
        ASSERT_STR_EQ(pcf, more_vectors[i].canonical);
        /* canonical form is a fixed point */
        char *again = route_schema_canonical_form(pcf, err, sizeof(err));
        ASSERT_STR_EQ(again, pcf);
        free(again);
        free(pcf);
    }
}

static void test_invalid_schemas(void)
{
    static const char *const bad[] = {
        "",
        "not json",
        "{\"type\":\"int\"} trailing",
        "\"Undefined\"",
        "42",
        "null",
        "{}",
        "{\"type\":\"record\",\"fields\":[]}",
        "{\"type\":\"record\",\"name\":\"R\"}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\"}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"type\":\"int\"}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"Nope\"}]}",
        "{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}",
        "{\"type\":\"record\",\"name\":\"int\",\"fields\":[]}",
        "[{\"type\":\"fixed\",\"name\":\"D\",\"size\":1},{\"type\":\"fixed\",\"name\":\"D\",\"size\":1}]",
        "{\"type\":\"enum\",\"name\":\"E\"}",
        "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[1]}",
        "{\"type\":\"fixed\",\"name\":\"F\"}",
        "{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}",
        "{\"type\":\"fixed\",\"name\":\"F\",\"size\":\"x\"}",
        "{\"type\":\"array\"}",
        "{\"type\":\"map\"}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"r\",\"type\":\"R2\"}]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char err[256] = "";
        char *pcf = route_schema_canonical_form(bad[i], err, sizeof(err));
        if (pcf != NULL)
            TEST_FAIL_("accepted %s as %s", bad[i], pcf);
        ASSERT(err[0] != '\0');
    }
    /* deep nesting is an error, not a stack overflow */
    size_t depth = 100000;
    char *deep = malloc(depth * 2 + 8);
    char *p = deep;
    for (size_t i = 0; i < depth; i++)
        *p++ = '[';
    for (size_t i = 0; i < depth; i++)
        *p++ = ']';
    *p = '\0';
    char err[256] = "";
    ASSERT(route_schema_canonical_form(deep, err, sizeof(err)) == NULL);
    ASSERT(err[0] != '\0');
    free(deep);
}

static void test_route_schema_fingerprint(void)
{
    char err[256];
    char *pcf = route_schema_canonical_form(route_schema_json, err, sizeof(err));
    ASSERT_STR_EQ(pcf, ROUTE_SCHEMA_CANONICAL);
    ASSERT_U64_EQ(route_schema_crc64_avro(pcf, strlen(pcf)), ROUTE_SCHEMA_FINGERPRINT);
    ASSERT_U64_EQ(route_schema_fingerprint(), ROUTE_SCHEMA_FINGERPRINT);
    ASSERT_U64_EQ(route_schema_fingerprint(), ROUTE_SCHEMA_FINGERPRINT);
    free(pcf);
}

int main(void)
{
    RUN_TEST(test_crc64_avro);
    RUN_TEST(test_avro_spec_vectors);
    RUN_TEST(test_more_canonical_forms);
    RUN_TEST(test_invalid_schemas);
    RUN_TEST(test_route_schema_fingerprint);
    return 0;
}
