/*
 * A tiny assertion kit in the spirit of libuv's test/task.h: typed asserts that print both values
 * and the location, then abort. One executable per module, registered with CTest.
 */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_checks;

#define TEST_FAIL_(...)                                                                                                \
    do {                                                                                                               \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                                                \
        fprintf(stderr, __VA_ARGS__);                                                                                  \
        fprintf(stderr, "\n");                                                                                         \
        abort();                                                                                                       \
    } while (0)

#define ASSERT(cond)                                                                                                   \
    do {                                                                                                               \
        test_checks++;                                                                                                 \
        if (!(cond))                                                                                                   \
            TEST_FAIL_("assertion failed: %s", #cond);                                                                 \
    } while (0)

#define ASSERT_INT_(a, op, b)                                                                                          \
    do {                                                                                                               \
        int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                                                  \
        test_checks++;                                                                                                 \
        if (!(a_ op b_))                                                                                               \
            TEST_FAIL_("%s %s %s: %" PRId64 " vs %" PRId64, #a, #op, #b, a_, b_);                                      \
    } while (0)
#define ASSERT_EQ(a, b) ASSERT_INT_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_INT_(a, >=, b)

#define ASSERT_U64_EQ(a, b)                                                                                            \
    do {                                                                                                               \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                                               \
        test_checks++;                                                                                                 \
        if (a_ != b_)                                                                                                  \
            TEST_FAIL_("%s == %s: 0x%016" PRIx64 " vs 0x%016" PRIx64, #a, #b, a_, b_);                                 \
    } while (0)

#define ASSERT_STR_EQ(a, b)                                                                                            \
    do {                                                                                                               \
        const char *a_ = (a), *b_ = (b);                                                                               \
        test_checks++;                                                                                                 \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0)                                                           \
            TEST_FAIL_("%s == %s:\n  got      \"%s\"\n  expected \"%s\"", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

/* Compares a (pointer, length) slice with a C string. */
#define ASSERT_MEM_EQ(ptr, len, str)                                                                                   \
    do {                                                                                                               \
        const char *s_ = (str);                                                                                        \
        size_t l_ = (size_t)(len);                                                                                     \
        test_checks++;                                                                                                 \
        if (l_ != strlen(s_) || memcmp((ptr), s_, l_) != 0)                                                            \
            TEST_FAIL_("%s == %s:\n  got      \"%.*s\"\n  expected \"%s\"", #ptr, #str, (int)l_, (const char *)(ptr), s_); \
    } while (0)

/* Each test file defines its cases and lists them in main with RUN_TEST. */
#define RUN_TEST(fn)                                                                                                   \
    do {                                                                                                               \
        int before_ = test_checks;                                                                                     \
        fn();                                                                                                          \
        if (test_checks == before_)                                                                                    \
            TEST_FAIL_("%s made no assertion", #fn);                                                                   \
        printf("ok %s (%d checks)\n", #fn, test_checks - before_);                                                     \
    } while (0)

#endif
