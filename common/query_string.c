#include "query_string.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..len) into out (NUL-terminated). @returns the length, or -1 when malformed or too long. */
static long decode(const char *s, size_t len, char *out, size_t out_size)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < len ? hex_value(s[i + 1]) : -1;
            int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0' || n + 1 >= out_size)
            return -1;
        out[n++] = c;
    }
    if (out_size == 0)
        return -1;
    out[n] = '\0';
    return (long)n;
}

/* Calls fn for each name=value pair; stops when fn returns non-zero and returns that. */
typedef int (*pair_fn)(const char *name, size_t name_len, const char *value, size_t value_len, void *ctx);

static int for_each_pair(const char *qs, size_t len, pair_fn fn, void *ctx)
{
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(qs + i, '&', len - i);
        size_t end = amp != NULL ? (size_t)(amp - qs) : len;
        if (end > i) {
            const char *eq = memchr(qs + i, '=', end - i);
            size_t name_end = eq != NULL ? (size_t)(eq - qs) : end;
            const char *value = eq != NULL ? eq + 1 : qs + end;
            size_t value_len = eq != NULL ? end - name_end - 1 : 0;
            int rc = fn(qs + i, name_end - i, value, value_len, ctx);
            if (rc != 0)
                return rc;
        }
        i = end + 1;
    }
    return 0;
}

typedef struct find_ctx_s {
    const char *name;
    char *out;
    size_t out_size;
    long result;
} find_ctx_t;

static int find_pair(const char *name, size_t name_len, const char *value, size_t value_len, void *p)
{
    find_ctx_t *ctx = p;
    char decoded[256];
    long n = decode(name, name_len, decoded, sizeof(decoded));
    if (n < 0 || strcmp(decoded, ctx->name) != 0)
        return 0;
    long v = decode(value, value_len, ctx->out, ctx->out_size);
    ctx->result = v < 0 ? -2 : v;
    return 1;
}

long query_string_get(const char *qs, size_t len, const char *name, char *out, size_t out_size)
{
    find_ctx_t ctx = {name, out, out_size, -1};
    for_each_pair(qs, len, find_pair, &ctx);
    return ctx.result;
}

int query_string_get_long(const char *qs, size_t len, const char *name, long min, long max, long *out, char *errstr,
                          size_t errstr_size)
{
    char value[64];
    long n = query_string_get(qs, len, name, value, sizeof(value));
    if (n == -1)
        return 0;
    char *end = value;
    errno = 0;
    long v = n > 0 ? strtol(value, &end, 10) : 0;
    if (n <= 0 || errno != 0 || *end != '\0' || end == value || v < min || v > max) {
        snprintf(errstr, errstr_size, "parameter '%s' must be an integer from %ld to %ld", name, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int query_string_get_bool(const char *qs, size_t len, const char *name, bool *out, char *errstr, size_t errstr_size)
{
    static const char *const yes[] = {"", "1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    char value[16];
    long n = query_string_get(qs, len, name, value, sizeof(value));
    if (n == -1)
        return 0;
    if (n >= 0) {
        for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
            if (strcasecmp(value, yes[i]) == 0) {
                *out = true;
                return 0;
            }
        for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
            if (strcasecmp(value, no[i]) == 0) {
                *out = false;
                return 0;
            }
    }
    snprintf(errstr, errstr_size, "parameter '%s' must be true or false (1, true, yes, on / 0, false, no, off)", name);
    return -1;
}

typedef struct names_ctx_s {
    const char *const *allowed;
    char *errstr;
    size_t errstr_size;
} names_ctx_t;

static int check_name(const char *name, size_t name_len, const char *value, size_t value_len, void *p)
{
    names_ctx_t *ctx = p;
    (void)value;
    (void)value_len;
    char decoded[256];
    if (decode(name, name_len, decoded, sizeof(decoded)) >= 0) {
        for (size_t i = 0; ctx->allowed[i] != NULL; i++)
            if (strcmp(decoded, ctx->allowed[i]) == 0)
                return 0;
    }
    char list[256] = "";
    for (size_t i = 0; ctx->allowed[i] != NULL; i++) {
        if (i > 0)
            strncat(list, ", ", sizeof(list) - strlen(list) - 1);
        strncat(list, ctx->allowed[i], sizeof(list) - strlen(list) - 1);
    }
    snprintf(ctx->errstr, ctx->errstr_size, "unknown parameter '%.*s'; this endpoint takes: %s",
             (int)(name_len > 64 ? 64 : name_len), name, list);
    return 1;
}

int query_string_check_names(const char *qs, size_t len, const char *const *allowed, char *errstr, size_t errstr_size)
{
    names_ctx_t ctx = {allowed, errstr, errstr_size};
    return for_each_pair(qs, len, check_name, &ctx) != 0 ? -1 : 0;
}
