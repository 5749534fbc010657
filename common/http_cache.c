#include "http_cache.h"

#include <stdio.h>
#include <string.h>

/* v in lowercase hex without leading zeros (as %llx) at p. @returns the end. */
static char *put_hex(char *p, uint64_t v)
{
    char digits[16];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v != 0);
    while (n > 0)
        *p++ = digits[--n];
    return p;
}

/* By hand, not snprintf: every view answer formats one, and printf's machinery was a percent of a request. */
void http_etag_format(char out[HTTP_ETAG_MAX], uint64_t a, uint64_t b, uint64_t c)
{
    char *p = out;
    *p++ = 'W';
    *p++ = '/';
    *p++ = '"';
    p = put_hex(p, a);
    *p++ = '-';
    p = put_hex(p, b);
    *p++ = '-';
    p = put_hex(p, c);
    *p++ = '"';
    *p = '\0';
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* The opaque part of a tag (between the quotes), W/ dropped; @returns false when tag is not "..." or W/"...". */
static bool opaque_of(const char *tag, size_t len, const char **opaque, size_t *opaque_len)
{
    if (len >= 2 && tag[0] == 'W' && tag[1] == '/') {
        tag += 2;
        len -= 2;
    }
    if (len < 2 || tag[0] != '"' || tag[len - 1] != '"' || memchr(tag + 1, '"', len - 2) != NULL)
        return false;
    *opaque = tag + 1;
    *opaque_len = len - 2;
    return true;
}

bool http_etag_listed(const char *if_none_match, size_t len, const char *etag)
{
    const char *want;
    size_t want_len;
    if (!opaque_of(etag, strlen(etag), &want, &want_len))
        return false;
    const char *p = if_none_match, *end = if_none_match + len;
    while (p < end) {
        while (p < end && (is_ows(*p) || *p == ','))
            p++;
        /* A tag ends at the comma after its closing quote (its opaque part holds no quote, but may hold commas). */
        const char *start = p;
        const char *tag = p;
        if (end - tag >= 2 && tag[0] == 'W' && tag[1] == '/')
            tag += 2;
        const char *stop;
        if (tag < end && *tag == '"') {
            const char *closing = memchr(tag + 1, '"', (size_t)(end - tag - 1));
            stop = closing == NULL ? end : memchr(closing, ',', (size_t)(end - closing));
        } else {
            stop = memchr(p, ',', (size_t)(end - p));
        }
        if (stop == NULL)
            stop = end;
        const char *last = stop;
        while (last > start && is_ows(last[-1]))
            last--;
        size_t n = (size_t)(last - start);
        const char *have;
        size_t have_len;
        if (n == 1 && start[0] == '*')
            return true;
        if (n > 0 && opaque_of(start, n, &have, &have_len) && have_len == want_len &&
            memcmp(have, want, want_len) == 0)
            return true;
        p = stop;
    }
    return false;
}

bool http_answer_if_unchanged(h2o_req_t *req, const char *etag)
{
    size_t etag_len = strlen(etag);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ETAG, NULL, h2o_strdup(&req->pool, etag, etag_len).base,
                   etag_len);
    bool listed = false;
    /* Several If-None-Match fields are one list. */
    for (ssize_t i = -1; (i = h2o_find_header(&req->headers, H2O_TOKEN_IF_NONE_MATCH, i)) != -1;) {
        const h2o_iovec_t *v = &req->headers.entries[i].value;
        if (http_etag_listed(v->base, v->len, etag)) {
            listed = true;
            break;
        }
    }
    if (!listed)
        return false;
    req->res.status = 304;
    req->res.reason = "Not Modified";
    h2o_send_inline(req, NULL, 0);
    return true;
}
