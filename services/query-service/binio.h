/*
 * binio: little-endian binary records, written into a buf_t and read back with every read bounds-checked (the
 * snapshot's format, snapshot.h). A reader's first failure sticks: after it every read returns zeros, and one
 * check at the end says whether all of it was there. Native stores where the host is little-endian.
 */
#ifndef QUERY_BINIO_H
#define QUERY_BINIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"

/* ---- writing (into a buf_t, which grows) ---- */

void binio_put_u8(buf_t *b, uint8_t v);
void binio_put_u32(buf_t *b, uint32_t v);
void binio_put_u64(buf_t *b, uint64_t v);
/* A string: u32 length, then its bytes. */
void binio_put_str(buf_t *b, const char *s, size_t len);
/* v at offset at of b (a length filled in once known). */
void binio_patch_u64(buf_t *b, size_t at, uint64_t v);

/* Hot loops: room for need bytes, then the inline stores below on the pointer, then binio_end. */
unsigned char *binio_begin(buf_t *b, size_t need);
void binio_end(buf_t *b, unsigned char *p);

static inline unsigned char *binio_w32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 4;
}

static inline unsigned char *binio_w64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
    return p + 8;
}

static inline unsigned char *binio_wstr(unsigned char *p, const char *s, size_t len)
{
    p = binio_w32(p, (uint32_t)len);
    if (len > 0)
        memcpy(p, s, len);
    return p + len;
}

/* ---- reading ---- */

typedef struct binio_reader_s {
    const unsigned char *p;
    size_t left;
    bool bad; /* a read went past the end: everything since returned zeros */
} binio_reader_t;

static inline binio_reader_t binio_reader(const void *data, size_t len)
{
    return (binio_reader_t){data, len, false};
}

/* The next n bytes, or NULL (and bad) when fewer are left. */
const unsigned char *binio_get_bytes(binio_reader_t *r, size_t n);
uint8_t binio_get_u8(binio_reader_t *r);
uint32_t binio_get_u32(binio_reader_t *r);
uint64_t binio_get_u64(binio_reader_t *r);
/* A string as binio_put_str wrote it: its bytes (not NUL-terminated) and *len; "" and 0 when bad. */
const char *binio_get_str(binio_reader_t *r, size_t *len);
/* True when the reader was read to its last byte and no further. */
static inline bool binio_done(const binio_reader_t *r)
{
    return !r->bad && r->left == 0;
}

/* Decodes 8 and 4 little-endian bytes. */
uint64_t binio_rd64(const unsigned char *p);
uint32_t binio_rd32(const unsigned char *p);

#endif
