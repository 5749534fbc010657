/*
 * config: defaults < environment < flags, -X pairs, --help, and every way a value can be wrong.
 */
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

static char *listen_addr;
static long port;
static int loop_flag;

static const config_option_t opts[] = {
    {"listen", "TEST_LISTEN", CONFIG_STRING, &listen_addr, "127.0.0.1", 0, 0, "address to listen on"},
    {"port", "TEST_PORT", CONFIG_INT, &port, "5000", 1, 65535, "TCP port"},
    {"loop", "TEST_LOOP", CONFIG_BOOL, &loop_flag, NULL, 0, 0, "replay forever"},
};
#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

/* Values no default would set: a parse that leaves them did not apply the table's defaults. */
static void reset(void)
{
    listen_addr = "unset";
    port = -7;
    loop_flag = 0;
    unsetenv("TEST_LISTEN");
    unsetenv("TEST_PORT");
    unsetenv("TEST_LOOP");
}

static int parse(config_kv_t *kv, char *err, size_t err_size, int argc, char **argv)
{
    return config_parse(opts, N_OPTS, kv, argc, argv, "prog", "A test program.", err, err_size);
}

#define PARSE(kv, err, ...)                                                                                            \
    ({                                                                                                                 \
        char *argv_[] = {"prog", __VA_ARGS__};                                                                         \
        err[0] = '\0';                                                                                                 \
        parse(kv, err, sizeof(err), (int)(sizeof(argv_) / sizeof(argv_[0])), argv_);                                   \
    })

static void test_defaults_env_flags(void)
{
    char err[256];
    config_kv_t kv = {0};
    reset();
    char *argv0[] = {"prog"};
    ASSERT_EQ(parse(&kv, err, sizeof(err), 1, argv0), 0);
    ASSERT_STR_EQ(listen_addr, "127.0.0.1");
    ASSERT_EQ(port, 5000);
    ASSERT_EQ(loop_flag, 0);

    /* The environment overrides the default, a flag overrides the environment. */
    setenv("TEST_LISTEN", "0.0.0.0", 1);
    setenv("TEST_PORT", "6000", 1);
    setenv("TEST_LOOP", "true", 1);
    ASSERT_EQ(parse(&kv, err, sizeof(err), 1, argv0), 0);
    ASSERT_STR_EQ(listen_addr, "0.0.0.0");
    ASSERT_EQ(port, 6000);
    ASSERT_EQ(loop_flag, 1);
    ASSERT_EQ(PARSE(&kv, err, "--port", "7000", "--listen=::1", "--loop=false"), 0);
    ASSERT_EQ(port, 7000);
    ASSERT_STR_EQ(listen_addr, "::1");
    ASSERT_EQ(loop_flag, 0);
    ASSERT_EQ(PARSE(&kv, err, "--loop"), 0);
    ASSERT_EQ(loop_flag, 1);
    reset();
}

static void test_kafka_properties(void)
{
    char err[256];
    config_kv_t kv = {0};
    reset();
    ASSERT_EQ(PARSE(&kv, err, "-X", "acks=all", "-Xlinger.ms=5", "-X", "sasl.password=a=b"), 0);
    ASSERT_EQ(kv.count, 3);
    ASSERT_STR_EQ(kv.keys[0], "acks");
    ASSERT_STR_EQ(kv.values[0], "all");
    ASSERT_STR_EQ(kv.keys[1], "linger.ms");
    ASSERT_STR_EQ(kv.values[1], "5");
    ASSERT_STR_EQ(kv.keys[2], "sasl.password");
    ASSERT_STR_EQ(kv.values[2], "a=b"); /* split at the first '=' */
    config_kv_free(&kv);
    ASSERT_EQ(kv.count, 0);

    ASSERT_EQ(PARSE(&kv, err, "-X", "novalue"), -1);
    ASSERT(strstr(err, "novalue") != NULL);
    ASSERT_EQ(PARSE(&kv, err, "-X", "=v"), -1);
    ASSERT_EQ(PARSE(&kv, err, "-X"), -1);
    ASSERT(strstr(err, "-X") != NULL);
    config_kv_free(&kv);
    /* A program without -X support. */
    char *argv[] = {"prog", "-X", "a=b"};
    ASSERT_EQ(config_parse(opts, N_OPTS, NULL, 3, argv, "prog", "", err, sizeof(err)), -1);
}

static void test_errors(void)
{
    char err[256];
    config_kv_t kv = {0};
    reset();
    ASSERT_EQ(PARSE(&kv, err, "--nope"), -1);
    ASSERT(strstr(err, "--nope") != NULL);
    ASSERT_EQ(PARSE(&kv, err, "-v"), -1);
    ASSERT(strstr(err, "-v") != NULL);
    ASSERT_EQ(PARSE(&kv, err, "stray"), -1);
    ASSERT(strstr(err, "stray") != NULL);
    ASSERT_EQ(PARSE(&kv, err, "--port"), -1); /* missing value */
    ASSERT(strstr(err, "port") != NULL);

    static const char *const bad_ints[] = {"0", "65536", "12x", "", " 80", "80 ", "0x50", "99999999999999999999999"};
    for (size_t i = 0; i < sizeof(bad_ints) / sizeof(bad_ints[0]); i++) {
        ASSERT_EQ(PARSE(&kv, err, "--port", (char *)bad_ints[i]), -1);
        ASSERT(strstr(err, "from 1 to 65535") != NULL);
        ASSERT_EQ(port, 5000); /* the default: the refused value was not stored */
    }
    ASSERT_EQ(PARSE(&kv, err, "--port=1"), 0);
    ASSERT_EQ(port, 1);
    ASSERT_EQ(PARSE(&kv, err, "--port=65535"), 0);
    ASSERT_EQ(port, 65535);
    ASSERT_EQ(PARSE(&kv, err, "--port=+80"), 0);
    ASSERT_EQ(port, 80);

    ASSERT_EQ(PARSE(&kv, err, "--loop=maybe"), -1);
    ASSERT(strstr(err, "loop") != NULL);

    setenv("TEST_PORT", "http", 1);
    char *argv0[] = {"prog"};
    ASSERT_EQ(parse(&kv, err, sizeof(err), 1, argv0), -1);
    ASSERT(strstr(err, "TEST_PORT") != NULL);
    reset();
    config_kv_free(&kv);
}

/* A default is checked like any value: a table whose default breaks its own bounds is refused by name. */
static void test_a_bad_default_is_refused(void)
{
    static const config_option_t bad[] = {{"port", NULL, CONFIG_INT, &port, "80000", 1, 65535, "TCP port"}};
    char err[256];
    char *argv0[] = {"prog"};
    ASSERT_EQ(config_parse(bad, 1, NULL, 1, argv0, "prog", "", err, sizeof(err)), -1);
    ASSERT(strstr(err, "default: --port must be an integer from 1 to 65535, got '80000'") != NULL);
}

static void test_help(void)
{
    char err[256];
    config_kv_t kv = {0};
    reset();
    /* --help prints the usage to stdout: send it to a file and read it back. */
    fflush(stdout);
    FILE *tmp = tmpfile();
    ASSERT(tmp != NULL);
    int saved = dup(fileno(stdout));
    dup2(fileno(tmp), fileno(stdout));
    int rc = PARSE(&kv, err, "--port", "80", "--help", "--nope");
    int rc2 = PARSE(&kv, err, "-h");
    fflush(stdout);
    dup2(saved, fileno(stdout));
    close(saved);
    ASSERT_EQ(rc, 1);
    ASSERT_EQ(rc2, 1);
    char text[4096] = "";
    rewind(tmp);
    size_t n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    ASSERT(strstr(text, "Usage: prog") != NULL);
    ASSERT(strstr(text, "A test program.") != NULL);
    ASSERT(strstr(text, "--listen VALUE") != NULL);
    ASSERT(strstr(text, "[TEST_PORT]") != NULL);
    ASSERT(strstr(text, "(default: 127.0.0.1)") != NULL);
    ASSERT(strstr(text, "(default: 5000)") != NULL); /* the default, not the --port 80 parsed before --help */
    ASSERT(strstr(text, "(default: 80)") == NULL);
    ASSERT(strstr(text, "-X key=value") != NULL);
    reset();
}

int main(void)
{
    RUN_TEST(test_defaults_env_flags);
    RUN_TEST(test_kafka_properties);
    RUN_TEST(test_errors);
    RUN_TEST(test_a_bad_default_is_refused);
    RUN_TEST(test_help);
    return 0;
}
