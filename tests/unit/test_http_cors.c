/*
 * http_cors: which --cors-origin values are origins (the headers themselves are checked over HTTP by
 * tests/integration/test_query_http_cache.py).
 */
#include "http_cors.h"
#include "test.h"

static void test_origin_error(void)
{
    ASSERT(http_cors_origin_error("*") == NULL);
    ASSERT(http_cors_origin_error("http://dash.example") == NULL);
    ASSERT(http_cors_origin_error("https://dash.example:8443") == NULL);
    ASSERT(http_cors_origin_error("http://127.0.0.1:3000") == NULL);
    ASSERT(http_cors_origin_error("http://[::1]:3000") == NULL);
    ASSERT(http_cors_origin_error("") != NULL);
    ASSERT(http_cors_origin_error("dash.example") != NULL);
    ASSERT(http_cors_origin_error("ftp://dash.example") != NULL);
    ASSERT(http_cors_origin_error("http://") != NULL);
    ASSERT(http_cors_origin_error("http://dash.example/") != NULL);
    ASSERT(http_cors_origin_error("http://dash.example/ui") != NULL);
    ASSERT(http_cors_origin_error("http://a.example, http://b.example") != NULL);
    /* Nothing that could end the header line. */
    ASSERT(http_cors_origin_error("http://dash.example\r\nSet-Cookie: x=1") != NULL);
    ASSERT(http_cors_origin_error("http://dash.example\n") != NULL);
    ASSERT(http_cors_origin_error("**") != NULL);
}

int main(void)
{
    RUN_TEST(test_origin_error);
    return 0;
}
