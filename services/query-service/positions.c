#include "positions.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* Bytes of the value that enter the fingerprint. */
#define FINGERPRINT_VALUE_BYTES 64

struct positions_s {
    position_t *parts; /* index = partition id */
    size_t n;
    uint64_t skipped_total;
};

positions_t *positions_new(void)
{
    return xcalloc(1, sizeof(positions_t));
}

void positions_free(positions_t *p)
{
    if (p == NULL)
        return;
    free(p->parts);
    free(p);
}

static position_t *slot(positions_t *p, int32_t partition)
{
    size_t i = (size_t)partition;
    if (i >= p->n) {
        size_t n = i + 1;
        p->parts = xrealloc(p->parts, n * sizeof(*p->parts));
        memset(p->parts + p->n, 0, (n - p->n) * sizeof(*p->parts));
        p->n = n;
    }
    return &p->parts[i];
}

void positions_advance(positions_t *p, const record_id_t *rec)
{
    if (rec->partition < 0)
        return;
    position_t *s = slot(p, rec->partition);
    s->next_offset = rec->offset + 1;
    s->fingerprint = rec->fingerprint;
}

uint64_t positions_skip_to(positions_t *p, int32_t partition, int64_t first_kept)
{
    if (partition < 0)
        return 0;
    position_t *s = slot(p, partition);
    if (first_kept <= s->next_offset)
        return 0;
    uint64_t n = (uint64_t)(first_kept - s->next_offset);
    s->next_offset = first_kept;
    s->fingerprint = 0;
    s->skipped += n;
    p->skipped_total += n;
    return n;
}

bool positions_note_time(positions_t *p, int32_t partition, int64_t event_us)
{
    if (partition < 0)
        return false;
    position_t *s = slot(p, partition);
    if (s->has_time && event_us <= s->event_us)
        return false;
    s->has_time = true;
    s->event_us = event_us;
    return true;
}

void positions_ensure(positions_t *p, size_t count)
{
    if (count > p->n)
        slot(p, (int32_t)(count - 1));
}

void positions_set(positions_t *p, int32_t partition, const position_t *pos)
{
    if (partition < 0)
        return;
    position_t *s = slot(p, partition);
    p->skipped_total += pos->skipped - s->skipped;
    *s = *pos;
}

position_t positions_get(const positions_t *p, int32_t partition)
{
    if (partition < 0 || (size_t)partition >= p->n)
        return (position_t){0, 0, 0, false, 0};
    return p->parts[partition];
}

size_t positions_count(const positions_t *p)
{
    return p->n;
}

uint64_t positions_skipped_total(const positions_t *p)
{
    return p->skipped_total;
}

/* One round of a multiply-xorshift mix (the finalizer of MurmurHash3's 64-bit variant). */
static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

static uint64_t absorb(uint64_t h, const unsigned char *p, size_t len)
{
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix(h ^ w);
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    return mix(h ^ w ^ ((uint64_t)len << 56));
}

uint64_t positions_fingerprint(int64_t timestamp, const void *key, size_t key_len, const void *value,
                               size_t value_len)
{
    uint64_t h = mix((uint64_t)timestamp ^ ((uint64_t)value_len << 32) ^ key_len);
    if (key != NULL)
        h = absorb(h, key, key_len);
    if (value != NULL)
        h = absorb(h, value, value_len < FINGERPRINT_VALUE_BYTES ? value_len : FINGERPRINT_VALUE_BYTES);
    return h != 0 ? h : 1;
}
