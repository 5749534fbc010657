#include "binio.h"

#include <string.h>

unsigned char *binio_begin(buf_t *b, size_t need)
{
    buf_reserve(b, need);
    return (unsigned char *)b->data + b->len;
}

void binio_end(buf_t *b, unsigned char *p)
{
    b->len = (size_t)(p - (unsigned char *)b->data);
    b->data[b->len] = '\0';
}

void binio_put_u8(buf_t *b, uint8_t v)
{
    buf_append(b, &v, 1);
}

void binio_put_u32(buf_t *b, uint32_t v)
{
    binio_end(b, binio_w32(binio_begin(b, 4), v));
}

void binio_put_u64(buf_t *b, uint64_t v)
{
    binio_end(b, binio_w64(binio_begin(b, 8), v));
}

void binio_put_str(buf_t *b, const char *s, size_t len)
{
    binio_end(b, binio_wstr(binio_begin(b, 4 + len), s, len));
}

void binio_patch_u64(buf_t *b, size_t at, uint64_t v)
{
    binio_w64((unsigned char *)b->data + at, v);
}

uint64_t binio_rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint32_t binio_rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const unsigned char *binio_get_bytes(binio_reader_t *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

uint8_t binio_get_u8(binio_reader_t *r)
{
    const unsigned char *p = binio_get_bytes(r, 1);
    return p != NULL ? p[0] : 0;
}

uint32_t binio_get_u32(binio_reader_t *r)
{
    const unsigned char *p = binio_get_bytes(r, 4);
    return p != NULL ? binio_rd32(p) : 0;
}

uint64_t binio_get_u64(binio_reader_t *r)
{
    const unsigned char *p = binio_get_bytes(r, 8);
    return p != NULL ? binio_rd64(p) : 0;
}

const char *binio_get_str(binio_reader_t *r, size_t *len)
{
    *len = binio_get_u32(r);
    const char *s = (const char *)binio_get_bytes(r, *len);
    if (s == NULL)
        *len = 0;
    return s != NULL ? s : "";
}
