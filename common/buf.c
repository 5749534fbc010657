#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

void buf_init(buf_t *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_free(buf_t *b)
{
    free(b->data);
    buf_init(b);
}

void buf_reserve(buf_t *b, size_t extra)
{
    if (extra < b->cap - b->len) /* room for extra bytes and the NUL (cap > len always once allocated) */
        return;
    if (extra > SIZE_MAX / 2 - b->len) {
        fprintf(stderr, "buf: size overflow (%zu + %zu bytes)\n", b->len, extra);
        abort();
    }
    size_t need = b->len + extra + 1;
    size_t cap = b->cap < 64 ? 64 : b->cap;
    while (cap < need)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = '\0'; /* a fresh buf reads as "" */
}

void buf_append(buf_t *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_append_str(buf_t *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_append_char(buf_t *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void buf_append_u64(buf_t *b, uint64_t v)
{
    char digits[20]; /* UINT64_MAX has 20 */
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    buf_append(b, digits + sizeof(digits) - n, n);
}

void buf_append_i64(buf_t *b, int64_t v)
{
    if (v < 0) {
        buf_append_char(b, '-');
        buf_append_u64(b, -(uint64_t)v); /* well defined for INT64_MIN too */
        return;
    }
    buf_append_u64(b, (uint64_t)v);
}

void buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    va_list copy;
    va_copy(copy, ap);
    buf_reserve(b, 64);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, copy);
    va_end(copy);
    if (n < 0)
        return;
    if ((size_t)n >= b->cap - b->len) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

/*
 * Decodes one UTF-8 sequence at s[0..len) (len >= 1). @returns its length with *cp set, or, when the sequence is
 * invalid, minus the length of its maximal valid prefix (at least 1): Python's errors="replace" turns that whole
 * prefix into one U+FFFD (Unicode's "maximal subpart" practice), so "\xe2\x82" is one replacement, not two.
 */
static long utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* the valid range of the second byte */
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, *cp = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, *cp = c & 0x07;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else {
        return -1;
    }
    for (size_t i = 1; i < n; i++) {
        if (i >= len || s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
            return -(long)i;
        *cp = (*cp << 6) | (s[i] & 0x3f);
    }
    return (long)n;
}

/* Writes "\uXXXX" at d. @returns the end. */
static char *put_u_escape(char *d, uint32_t u)
{
    static const char hex[] = "0123456789abcdef";
    d[0] = '\\';
    d[1] = 'u';
    d[2] = hex[(u >> 12) & 0xf];
    d[3] = hex[(u >> 8) & 0xf];
    d[4] = hex[(u >> 4) & 0xf];
    d[5] = hex[u & 0xf];
    return d + 6;
}

/* json.dumps with ensure_ascii keeps only ' '..'~' minus '"' and '\\' as they are (DEL is escaped too). */
static inline int json_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

void buf_append_json_string(buf_t *b, const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    /* Room for the common case (all plain): the quotes and the bytes. An escape grows it below. */
    buf_reserve(b, len + 2);
    char *d = b->data + b->len;
    *d++ = '"';
    size_t i = 0;
    while (i < len) {
        /* Fast path: copy a run of plain ASCII straight into the reserved room. */
        size_t run = i;
        while (run < len && json_plain(s[run]))
            run++;
        if (run > i) {
            memcpy(d, s + i, run - i);
            d += run - i;
            i = run;
            if (i == len)
                break;
        }
        /* One escape writes at most 12 bytes (a surrogate pair) for at least 1 input byte: keep room for
         * 12 more plus the rest of the input, the closing quote and the NUL. */
        b->len = (size_t)(d - b->data);
        buf_reserve(b, 12 + (len - i - 1) + 1);
        d = b->data + b->len;
        unsigned char c = s[i];
        char short_esc = 0;
        switch (c) {
        case '"': short_esc = '"'; break;
        case '\\': short_esc = '\\'; break;
        case '\n': short_esc = 'n'; break;
        case '\r': short_esc = 'r'; break;
        case '\t': short_esc = 't'; break;
        case '\b': short_esc = 'b'; break;
        case '\f': short_esc = 'f'; break;
        default: break;
        }
        if (short_esc != 0) {
            d[0] = '\\';
            d[1] = short_esc;
            d += 2;
            i++;
            continue;
        }
        uint32_t cp;
        long n = utf8_decode(s + i, len - i, &cp);
        if (n < 0) {
            cp = 0xfffd;
            n = -n;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            d = put_u_escape(d, 0xd800 + (cp >> 10));
            d = put_u_escape(d, 0xdc00 + (cp & 0x3ff));
        } else {
            d = put_u_escape(d, cp);
        }
        i += (size_t)n;
    }
    *d++ = '"';
    *d = '\0';
    b->len = (size_t)(d - b->data);
}

char *buf_detach(buf_t *b, size_t *len)
{
    if (b->data == NULL)
        buf_reserve(b, 0);
    char *p = b->data;
    if (len != NULL)
        *len = b->len;
    buf_init(b);
    return p;
}

void buf_append_csv_field(buf_t *b, const char *s, size_t len)
{
    /* One pass to find out: the common case needs no quotes. */
    size_t i = 0;
    while (i < len && s[i] != ',' && s[i] != '"' && s[i] != '\n' && s[i] != '\r')
        i++;
    if (i == len) {
        buf_append(b, s, len);
        return;
    }
    buf_append_char(b, '"');
    for (i = 0; i < len; i++) {
        if (s[i] == '"')
            buf_append_char(b, '"');
        buf_append_char(b, s[i]);
    }
    buf_append_char(b, '"');
}
