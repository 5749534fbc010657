/*
 * query_string on arbitrary bytes: the input is "name\nquery"; every function runs on it and must stay
 * inside its buffers, NUL-terminate what it decodes, and keep its documented results.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "query_string.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *in = (const char *)data;
    const char *nl = memchr(in, '\n', size);
    size_t name_len = nl != NULL ? (size_t)(nl - in) : 0;
    if (name_len > 64)
        name_len = 64;
    char name[65];
    memcpy(name, in, name_len);
    name[name_len] = '\0';
    const char *qs = nl != NULL ? nl + 1 : in;
    size_t len = size - (size_t)(qs - in);
    /* A heap copy of exactly len bytes: ASan flags any read past the end. */
    char *copy = malloc(len > 0 ? len : 1);
    memcpy(copy, qs, len);

    char out[16];
    memset(out, 'X', sizeof(out));
    long n = query_string_get(copy, len, name, out, sizeof(out));
    if (n < -2 || n > (long)sizeof(out) - 1)
        abort();
    if (n >= 0 && (out[n] != '\0' || strlen(out) != (size_t)n))
        abort();
    char big[4096];
    long m = query_string_get(copy, len, name, big, sizeof(big));
    if (n >= 0 && (m != n || memcmp(out, big, (size_t)n) != 0))
        abort(); /* a larger buffer finds the same value */
    if (n == -1 && m != -1)
        abort(); /* absence does not depend on the buffer */

    char err[128];
    long v = -12345;
    if (query_string_get_long(copy, len, name, -1000, 1000, &v, err, sizeof(err)) == 0 && v != -12345 &&
        (v < -1000 || v > 1000))
        abort();
    bool b = false;
    query_string_get_bool(copy, len, name, &b, err, sizeof(err));
    static const char *const allowed[] = {"rate", "limit", "loop", "async", "n", "offset", NULL};
    const char *const mine[] = {name, NULL};
    query_string_check_names(copy, len, allowed, err, sizeof(err));
    if (name[0] != '\0' && strchr(name, '&') == NULL && strchr(name, '=') == NULL && strchr(name, '%') == NULL &&
        strchr(name, '+') == NULL && query_string_check_names(copy, len, mine, err, sizeof(err)) == 0 && len > 0 &&
        m == -1 && memchr(copy, '=', len) == NULL && memchr(copy, '&', len) == NULL && memchr(copy, '%', len) == NULL &&
        memchr(copy, '+', len) == NULL && memchr(copy, '\0', len) == NULL)
        abort(); /* one plain parameter that passes the check is name itself, so get must find it */
    free(copy);
    return 0;
}
