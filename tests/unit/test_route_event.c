#include <sys/wait.h>
#include <unistd.h>

#include "route_event.h"
#include "test.h"

static char err[256];

static route_event_status_t parse(const char *line, route_event_t *ev)
{
    err[0] = '\0';
    return route_event_parse(line, strlen(line), ev, err, sizeof(err));
}

static void test_parse_seed_line(void)
{
    route_event_t ev;
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2", &ev), ROUTE_EVENT_OK);
    ASSERT_MEM_EQ(ev.airline.ptr, ev.airline.len, "2B");
    ASSERT_EQ(ev.airline_id, 410);
    ASSERT_MEM_EQ(ev.source_airport.ptr, ev.source_airport.len, "AER");
    ASSERT_EQ(ev.source_airport_id, 2965);
    ASSERT_MEM_EQ(ev.destination_airport.ptr, ev.destination_airport.len, "KZN");
    ASSERT_EQ(ev.destination_airport_id, 2990);
    ASSERT_EQ(ev.codeshare, 0);
    ASSERT_EQ(ev.stops, 0);
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "CR2");
    ASSERT_EQ(route_event_validate(&ev, err, sizeof(err)), ROUTE_EVENT_OK);
}

static void test_parse_slices_point_into_line(void)
{
    const char *line = "ZM,19016,OSS,2913,FRU,2912,Y,0,734 320";
    route_event_t ev;
    ASSERT_EQ(parse(line, &ev), ROUTE_EVENT_OK);
    ASSERT(ev.airline.ptr == line);
    ASSERT(ev.equipment.ptr == line + strlen(line) - 7);
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "734 320");
    ASSERT_EQ(ev.codeshare, 1);
}

static void test_parse_backslash_n_is_transform_failure(void)
{
    route_event_t ev;
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,\\N,,0,CR2", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT(strstr(err, "destination_airport_id") != NULL);
    ASSERT_EQ(parse("2B,\\N,AER,2965,KZN,2990,,0,CR2", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT(strstr(err, "airline_id") != NULL);
    ASSERT_EQ(parse("2B,410,AER,\\N,KZN,2990,,0,CR2", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,\\N,CR2", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT(strstr(err, "stops") != NULL);
    /* \N in a string field is just text. */
    ASSERT_EQ(parse("\\N,410,AER,2965,KZN,2990,,0,\\N", &ev), ROUTE_EVENT_OK);
    ASSERT_MEM_EQ(ev.airline.ptr, ev.airline.len, "\\N");
}

static void test_parse_field_count(void)
{
    route_event_t ev;
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT(strstr(err, "fields") != NULL);
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2,extra", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT(strstr(err, "fields") != NULL);
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2,", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2,,,,,,,,,,,,", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT_EQ(parse("", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT_EQ(parse("\r", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT_EQ(parse("no commas at all", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    /* 9 empty fields: the ints fail */
    ASSERT_EQ(parse(",,,,,,,,", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
    ASSERT(strstr(err, "airline_id") != NULL);
    /* empty string fields are fine */
    ASSERT_EQ(parse(",1,,2,,3,,0,", &ev), ROUTE_EVENT_OK);
    ASSERT_EQ(ev.airline.len, 0);
    ASSERT_EQ(ev.equipment.len, 0);
}

static void test_parse_crlf_and_plain(void)
{
    route_event_t ev;
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2\r", &ev), ROUTE_EVENT_OK);
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "CR2");
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2", &ev), ROUTE_EVENT_OK);
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "CR2");
    /* only one trailing \r is the line ending; a \r inside a string field stays */
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2\r\r", &ev), ROUTE_EVENT_OK);
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "CR2\r");
    /* CRLF does not make a short line long enough */
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0\r", &ev), ROUTE_EVENT_TRANSFORM_FAILED);
}

static void test_parse_uses_len_not_nul(void)
{
    const char *buf = "2B,410,AER,2965,KZN,2990,,0,CR2\n3K,1,X,2,Y,3,,0,E";
    route_event_t ev;
    ASSERT_EQ(route_event_parse(buf, 31, &ev, err, sizeof(err)), ROUTE_EVENT_OK);
    ASSERT_MEM_EQ(ev.equipment.ptr, ev.equipment.len, "CR2");
}

static void test_codeshare_only_capital_y(void)
{
    static const struct {
        const char *line;
        int expect;
    } cases[] = {
        {"2B,410,AER,2965,KZN,2990,Y,0,CR2", 1},  {"2B,410,AER,2965,KZN,2990,,0,CR2", 0},
        {"2B,410,AER,2965,KZN,2990,y,0,CR2", 0},  {"2B,410,AER,2965,KZN,2990,N,0,CR2", 0},
        {"2B,410,AER,2965,KZN,2990, Y,0,CR2", 0}, {"2B,410,AER,2965,KZN,2990,YY,0,CR2", 0},
        {"2B,410,AER,2965,KZN,2990,Yes,0,CR2", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        route_event_t ev;
        ASSERT_EQ(parse(cases[i].line, &ev), ROUTE_EVENT_OK);
        ASSERT_EQ(ev.codeshare, cases[i].expect);
    }
}

/* Python's int() on the field text, as the seed converted them. */
static void test_int_python_semantics(void)
{
    static const struct {
        const char *text;
        int ok;
        int64_t value;
    } cases[] = {
        {"12", 1, 12},          {" 12 ", 1, 12},     {"\t12\t", 1, 12},     {"+3", 1, 3},
        {"-1", 1, -1},          {"007", 1, 7},       {"-0", 1, 0},          {"1_000", 1, 1000},
        {" -2147483648 ", 1, INT32_MIN},             {"2147483647", 1, INT32_MAX},
        {"1.5", 0, 0},          {"", 0, 0},          {"\\N", 0, 0},         {"12a", 0, 0},
        {"a12", 0, 0},          {" ", 0, 0},         {"+", 0, 0},           {"-", 0, 0},
        {"+-1", 0, 0},          {"--1", 0, 0},       {"1 2", 0, 0},         {"0x10", 0, 0},
        {"1e3", 0, 0},          {"_1", 0, 0},        {"1_", 0, 0},          {"1__0", 0, 0},
        {"- 1", 0, 0},          {"\"1\"", 0, 0},     {"N", 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char line[128];
        route_event_t ev;
        snprintf(line, sizeof(line), "2B,410,AER,2965,KZN,2990,,%s,CR2", cases[i].text);
        route_event_status_t st = parse(line, &ev);
        if (st != (cases[i].ok ? ROUTE_EVENT_OK : ROUTE_EVENT_TRANSFORM_FAILED))
            TEST_FAIL_("int(\"%s\"): status %d", cases[i].text, (int)st);
        if (cases[i].ok)
            ASSERT_EQ(ev.stops, cases[i].value);
    }
}

static void test_int32_overflow_is_schema_invalid(void)
{
    static const char *const big[] = {"2147483648", "-2147483649", "99999999999", "99999999999999999999999999",
                                      "-99999999999999999999999999"};
    for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
        char line[128];
        route_event_t ev;
        snprintf(line, sizeof(line), "2B,%s,AER,2965,KZN,2990,,0,CR2", big[i]);
        ASSERT_EQ(parse(line, &ev), ROUTE_EVENT_OK);
        route_event_stamp(&ev, 0);
        ASSERT_EQ(route_event_validate(&ev, err, sizeof(err)), ROUTE_EVENT_SCHEMA_INVALID);
        ASSERT(strstr(err, "airline_id") != NULL);
    }
}

static void test_non_utf8_is_schema_invalid(void)
{
    static const char *const bad[] = {
        "\xff",             /* never valid */
        "A\x80",            /* lone continuation */
        "\xc3",             /* truncated 2-byte */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong 3-byte */
        "\xed\xa0\x80",     /* UTF-16 surrogate */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xe2\x82",         /* truncated 3-byte */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[128];
        route_event_t ev;
        snprintf(line, sizeof(line), "2B,410,%s,2965,KZN,2990,,0,CR2", bad[i]);
        ASSERT_EQ(parse(line, &ev), ROUTE_EVENT_OK);
        ASSERT_EQ(route_event_validate(&ev, err, sizeof(err)), ROUTE_EVENT_SCHEMA_INVALID);
        ASSERT(strstr(err, "source_airport") != NULL);
    }
    /* Long ASCII runs go eight bytes at a time: a bad byte inside or after such a run is still found. */
    static const struct {
        const char *field;
        const char *at;
    } long_bad[] = {
        {"ABCDEFGHIJ\xff", "byte 10"},
        {"ABCDEFG\x80XYZ", "byte 7"},
        {"ABCDEFGHIJKLMNOPQ\xc3", "byte 17"},
        {"ABCDEFGHcaf\xc3\xa9IJKLMNOP\xed\xa0\x80", "byte 21"},
    };
    for (size_t i = 0; i < sizeof(long_bad) / sizeof(long_bad[0]); i++) {
        char line[128];
        route_event_t ev;
        snprintf(line, sizeof(line), "2B,410,%s,2965,KZN,2990,,0,CR2", long_bad[i].field);
        ASSERT_EQ(parse(line, &ev), ROUTE_EVENT_OK);
        ASSERT_EQ(route_event_validate(&ev, err, sizeof(err)), ROUTE_EVENT_SCHEMA_INVALID);
        ASSERT(strstr(err, long_bad[i].at) != NULL);
    }
    static const char *const good[] = {"ABCDEFGHIJKLMNOPQRSTUVWXYZ\xc3\xa9"
                                       "abcdefgh",
                                       "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x9b\xab", "\xf4\x8f\xbf\xbf",
                                       "\xed\x9f\xbf"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char line[128];
        route_event_t ev;
        snprintf(line, sizeof(line), "2B,410,AER,2965,KZN,2990,,0,%s", good[i]);
        ASSERT_EQ(parse(line, &ev), ROUTE_EVENT_OK);
        ASSERT_EQ(route_event_validate(&ev, err, sizeof(err)), ROUTE_EVENT_OK);
    }
}

static void test_stamp(void)
{
    route_event_t a, b;
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2", &a), ROUTE_EVENT_OK);
    b = a;
    route_event_stamp(&a, 1620122312123456LL);
    route_event_stamp(&b, 1620122312123456LL);
    ASSERT_EQ(a.id.len, ROUTE_EVENT_ID_LEN);
    ASSERT(a.id.ptr == a.id_buf);
    ASSERT_MEM_EQ(a.datetime.ptr, a.datetime.len, "2021-05-04 09:58:32.123456");
    ASSERT(a.datetime.ptr == a.datetime_buf);
    /* lowercase canonical UUID, version 4, RFC 4122 variant */
    for (int i = 0; i < ROUTE_EVENT_ID_LEN; i++) {
        char ch = a.id.ptr[i];
        if (i == 8 || i == 13 || i == 18 || i == 23)
            ASSERT_EQ(ch, '-');
        else
            ASSERT((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'));
    }
    ASSERT_EQ(a.id.ptr[14], '4');
    ASSERT(strchr("89ab", a.id.ptr[19]) != NULL);
    ASSERT(memcmp(a.id.ptr, b.id.ptr, ROUTE_EVENT_ID_LEN) != 0);
    ASSERT_EQ(route_event_validate(&a, err, sizeof(err)), ROUTE_EVENT_OK);
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, ROUTE_EVENT_ID_LEN);
}

/*
 * Across several refills of the per-thread random pool: every id v4, none repeated; a forked child does not
 * reuse the parent's pool.
 */
static void test_stamp_many_unique_and_fork(void)
{
    enum { N = 2000 };
    static char ids[N][ROUTE_EVENT_ID_LEN];
    route_event_t ev;
    ASSERT_EQ(parse("2B,410,AER,2965,KZN,2990,,0,CR2", &ev), ROUTE_EVENT_OK);
    for (int i = 0; i < N; i++) {
        route_event_stamp(&ev, 0);
        if (ev.id.ptr[14] != '4' || strchr("89ab", ev.id.ptr[19]) == NULL)
            TEST_FAIL_("not a v4 UUID: %.36s", ev.id.ptr);
        memcpy(ids[i], ev.id.ptr, ROUTE_EVENT_ID_LEN);
    }
    qsort(ids, N, ROUTE_EVENT_ID_LEN, cmp_id);
    for (int i = 1; i < N; i++)
        if (memcmp(ids[i - 1], ids[i], ROUTE_EVENT_ID_LEN) == 0)
            TEST_FAIL_("duplicate UUID %.36s", ids[i]);
    ASSERT(1);

    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    route_event_stamp(&ev, 0);
    if (pid == 0) {
        ssize_t w = write(fds[1], ev.id.ptr, ROUTE_EVENT_ID_LEN);
        _exit(w == ROUTE_EVENT_ID_LEN ? 0 : 1);
    }
    char child_id[ROUTE_EVENT_ID_LEN];
    ASSERT_EQ(read(fds[0], child_id, sizeof(child_id)), ROUTE_EVENT_ID_LEN);
    int status;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT(memcmp(child_id, ev.id.ptr, ROUTE_EVENT_ID_LEN) != 0);
    close(fds[0]);
    close(fds[1]);
}

static void test_status_text(void)
{
    ASSERT_STR_EQ(route_event_status_text(ROUTE_EVENT_TRANSFORM_FAILED), "A variable type transformation failed");
    ASSERT_STR_EQ(route_event_status_text(ROUTE_EVENT_SCHEMA_INVALID), "Schema invalid");
}

/*
 * routes.dat from ROUTES_FILE, else ../shared/data next to the repository. Missing is a failure,
 * not a skip: the seed's counts are the contract. A relative ROUTES_FILE (CI sets one) is tried
 * as given and then against the repository root, since ctest runs in the build directory.
 */
static char *read_routes_file(size_t *len)
{
    char root[4096], path[8192];
    const char *env = getenv("ROUTES_FILE");
    snprintf(root, sizeof(root), "%s", __FILE__);
    for (int i = 0; i < 3; i++) {
        char *slash = strrchr(root, '/');
        if (slash != NULL)
            *slash = '\0';
    }
    const char *candidates[3];
    int n = 0;
    if (env != NULL && *env != '\0') {
        candidates[n++] = env;
        if (env[0] != '/') {
            snprintf(path, sizeof(path), "%s/%s", root, env);
            candidates[n++] = path;
        }
    }
    candidates[n++] = "/work/shared/data/routes.dat"; /* the fallback, whether ROUTES_FILE is unset or missing */
    for (int i = 0; i < n; i++) {
        FILE *f = fopen(candidates[i], "rb");
        if (f == NULL)
            continue;
        size_t cap = 1 << 22, got = 0;
        char *data = malloc(cap);
        size_t r;
        while ((r = fread(data + got, 1, cap - got, f)) > 0) {
            got += r;
            if (got == cap)
                data = realloc(data, cap *= 2);
        }
        fclose(f);
        *len = got;
        return data;
    }
    TEST_FAIL_("routes.dat not found (ROUTES_FILE=%s, nor %s): set ROUTES_FILE to a copy of OpenFlights' routes.dat",
               env ? env : "(unset)", candidates[n - 1]);
    return NULL;
}

static void test_routes_dat_counts(void)
{
    size_t len, lines = 0, ok = 0, transform = 0, invalid = 0;
    char *data = read_routes_file(&len);
    size_t start = 0;
    while (start < len) {
        const char *nl = memchr(data + start, '\n', len - start);
        size_t end = nl ? (size_t)(nl - data) : len;
        route_event_t ev;
        lines++;
        route_event_status_t st = route_event_parse(data + start, end - start, &ev, err, sizeof(err));
        if (st == ROUTE_EVENT_OK) {
            route_event_stamp(&ev, 1620122312123456LL);
            st = route_event_validate(&ev, err, sizeof(err));
        }
        if (st == ROUTE_EVENT_OK)
            ok++;
        else if (st == ROUTE_EVENT_TRANSFORM_FAILED)
            transform++;
        else
            invalid++;
        start = end + 1;
    }
    free(data);
    ASSERT_EQ(lines, 67663);
    ASSERT_EQ(ok, 66765);
    ASSERT_EQ(transform, 898);
    ASSERT_EQ(invalid, 0);
}

int main(void)
{
    RUN_TEST(test_parse_seed_line);
    RUN_TEST(test_parse_slices_point_into_line);
    RUN_TEST(test_parse_backslash_n_is_transform_failure);
    RUN_TEST(test_parse_field_count);
    RUN_TEST(test_parse_crlf_and_plain);
    RUN_TEST(test_parse_uses_len_not_nul);
    RUN_TEST(test_codeshare_only_capital_y);
    RUN_TEST(test_int_python_semantics);
    RUN_TEST(test_int32_overflow_is_schema_invalid);
    RUN_TEST(test_non_utf8_is_schema_invalid);
    RUN_TEST(test_stamp);
    RUN_TEST(test_stamp_many_unique_and_fork);
    RUN_TEST(test_status_text);
    RUN_TEST(test_routes_dat_counts);
    return 0;
}
