/*
 * log: each call is one JSON object on one line of stderr, parseable, with the message escaped; levels filter.
 */
#include <pthread.h>
#include <unistd.h>

#include <json-c/json.h>

#include "log.h"
#include "test.h"

/* Runs fn with stderr sent to a temp file; returns what it wrote (caller frees). */
static char *capture_stderr(void (*fn)(void))
{
    FILE *tmp = tmpfile();
    ASSERT(tmp != NULL);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    long size = ftell(tmp) >= 0 ? lseek(fileno(tmp), 0, SEEK_END) : 0;
    char *text = calloc(1, (size_t)size + 1);
    ASSERT_EQ(pread(fileno(tmp), text, (size_t)size, 0), size);
    fclose(tmp);
    return text;
}

static void emit_some(void)
{
    log_init("test-service", LOG_INFO);
    log_debug("hidden", "not shown at info");
    log_info("listening", "listening on %s:%d", "127.0.0.1", 5000);
    log_error("weird", "quote \" backslash \\ newline \n tab \t utf8 \xc3\xa9 bad \xff");
}

static void test_lines_parse(void)
{
    char *text = capture_stderr(emit_some);
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_tokener_parse(line);
        ASSERT(o != NULL);
        const char *ts = json_object_get_string(json_object_object_get(o, "ts"));
        ASSERT(ts != NULL && strlen(ts) == 24 && ts[10] == 'T' && ts[23] == 'Z');
        ASSERT_STR_EQ(json_object_get_string(json_object_object_get(o, "service")), "test-service");
        if (lines == 0) {
            ASSERT_STR_EQ(json_object_get_string(json_object_object_get(o, "level")), "info");
            ASSERT_STR_EQ(json_object_get_string(json_object_object_get(o, "event")), "listening");
            ASSERT_STR_EQ(json_object_get_string(json_object_object_get(o, "msg")), "listening on 127.0.0.1:5000");
        } else {
            ASSERT_STR_EQ(json_object_get_string(json_object_object_get(o, "level")), "error");
            ASSERT_STR_EQ(json_object_get_string(json_object_object_get(o, "msg")),
                          "quote \" backslash \\ newline \n tab \t utf8 \xc3\xa9 bad \xef\xbf\xbd");
        }
        json_object_put(o);
        lines++;
    }
    ASSERT_EQ(lines, 2);
    free(text);
}

static void *log_many(void *arg)
{
    for (int i = 0; i < 200; i++)
        log_warn("thread", "thread %ld line %d %0300d", (long)(intptr_t)arg, i, 0);
    return NULL;
}

static void emit_threads(void)
{
    log_init("t", LOG_DEBUG);
    pthread_t t[4];
    for (long i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, log_many, (void *)(intptr_t)i);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
}

static void test_threads_do_not_interleave(void)
{
    char *text = capture_stderr(emit_threads);
    char *save = NULL;
    int lines = 0;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        struct json_object *o = json_tokener_parse(line);
        if (o == NULL)
            ASSERT(o != NULL);
        json_object_put(o);
        lines++;
    }
    ASSERT_EQ(lines, 800);
    free(text);
}

static void test_level_parse(void)
{
    log_level_t l;
    ASSERT_EQ(log_level_parse("debug", &l), 0);
    ASSERT_EQ(l, LOG_DEBUG);
    ASSERT_EQ(log_level_parse("error", &l), 0);
    ASSERT_EQ(l, LOG_ERROR);
    ASSERT_EQ(log_level_parse("verbose", &l), -1);
}

int main(void)
{
    RUN_TEST(test_lines_parse);
    RUN_TEST(test_threads_do_not_interleave);
    RUN_TEST(test_level_parse);
    return 0;
}
