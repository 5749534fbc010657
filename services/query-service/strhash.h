/*
 * strhash: the hash the query-service's tables share (internal). Short keys (airport codes,
 * equipment lists) are hashed 8 bytes at a time and finished with a murmur3-style mix. Not
 * persisted anywhere, so byte order does not matter.
 */
#ifndef QUERY_STRHASH_H
#define QUERY_STRHASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t strhash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t strhash(const char *p, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len;
    while (len >= 8) {
        uint64_t k;
        memcpy(&k, p, 8);
        h = (h ^ strhash_mix(k)) * 0x100000001b3ULL;
        p += 8;
        len -= 8;
    }
    uint64_t k = 0;
    if (len > 0)
        memcpy(&k, p, len);
    return strhash_mix(h ^ k);
}

/* Byte order, a prefix first (as strcmp on the bytes). @returns <0, 0, >0. */
static inline int strhash_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen;
}

#endif
