#include "counted.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "strhash.h"
#include "topn.h"

typedef struct entry_s {
    uint64_t count;
    size_t off; /* of the key in the arena */
    uint32_t len;
    uint32_t hash;
} entry_t;

/* A table slot: 0 = empty, else entry index + 1; hash caches the entry's hash to skip most compares. */
typedef struct slot_s {
    uint32_t idx;
    uint32_t hash;
} slot_t;

struct counted_s {
    slot_t *slots;
    size_t mask; /* slots - 1 */
    entry_t *entries;
    size_t n, cap;
    char *arena;
    size_t arena_len, arena_cap;
    uint64_t total;
};

counted_t *counted_new(size_t expected)
{
    size_t slots = 16;
    while (slots < 2 * expected)
        slots *= 2;
    counted_t *c = xcalloc(1, sizeof(*c));
    c->slots = xcalloc(slots, sizeof(*c->slots));
    c->mask = slots - 1;
    c->cap = slots / 2;
    c->entries = xmalloc(c->cap * sizeof(*c->entries));
    c->arena_cap = slots * 4;
    c->arena = xmalloc(c->arena_cap);
    return c;
}

void counted_free(counted_t *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    free(c->entries);
    free(c->arena);
    free(c);
}

void counted_clear(counted_t *c)
{
    memset(c->slots, 0, (c->mask + 1) * sizeof(*c->slots));
    c->n = 0;
    c->arena_len = 0;
    c->total = 0;
}

static void grow_slots(counted_t *c)
{
    size_t nslots = (c->mask + 1) * 2;
    slot_t *slots = xcalloc(nslots, sizeof(*slots));
    for (size_t i = 0; i < c->n; i++) {
        size_t j = c->entries[i].hash & (nslots - 1);
        while (slots[j].idx != 0)
            j = (j + 1) & (nslots - 1);
        slots[j].idx = (uint32_t)i + 1;
        slots[j].hash = c->entries[i].hash;
    }
    free(c->slots);
    c->slots = slots;
    c->mask = nslots - 1;
}

/* @returns the slot holding key, or the empty slot where it belongs. */
static slot_t *find(const counted_t *c, const char *key, size_t len, uint32_t hash)
{
    size_t j = hash & c->mask;
    for (;;) {
        slot_t *s = &c->slots[j];
        if (s->idx == 0)
            return s;
        const entry_t *e = &c->entries[s->idx - 1];
        if (s->hash == hash && e->len == len && memcmp(c->arena + e->off, key, len) == 0)
            return s;
        j = (j + 1) & c->mask;
    }
}

uint64_t counted_add(counted_t *c, const char *key, size_t len, uint64_t delta)
{
    uint32_t hash = (uint32_t)strhash(key, len);
    slot_t *s = find(c, key, len, hash);
    c->total += delta;
    if (s->idx != 0) {
        entry_t *e = &c->entries[s->idx - 1];
        e->count += delta;
        return e->count;
    }
    /* First sight: intern the key. Load factor stays at most 1/2. */
    if (c->n + 1 > (c->mask + 1) / 2) {
        grow_slots(c);
        s = find(c, key, len, hash);
    }
    if (c->n == c->cap) {
        c->cap *= 2;
        c->entries = xrealloc(c->entries, c->cap * sizeof(*c->entries));
    }
    if (c->arena_len + len > c->arena_cap) {
        while (c->arena_len + len > c->arena_cap)
            c->arena_cap *= 2;
        c->arena = xrealloc(c->arena, c->arena_cap);
    }
    if (len > 0)
        memcpy(c->arena + c->arena_len, key, len);
    entry_t *e = &c->entries[c->n];
    e->count = delta;
    e->off = c->arena_len;
    e->len = (uint32_t)len;
    e->hash = hash;
    c->arena_len += len;
    s->idx = (uint32_t)++c->n;
    s->hash = hash;
    return delta;
}

uint64_t counted_get(const counted_t *c, const char *key, size_t len)
{
    slot_t *s = find(c, key, len, (uint32_t)strhash(key, len));
    return s->idx != 0 ? c->entries[s->idx - 1].count : 0;
}

counted_entry_t counted_at(const counted_t *c, size_t i)
{
    const entry_t *e = &c->entries[i];
    return (counted_entry_t){c->arena + e->off, e->len, e->count};
}

size_t counted_size(const counted_t *c)
{
    return c->n;
}

uint64_t counted_total(const counted_t *c)
{
    return c->total;
}

size_t counted_bytes(const counted_t *c)
{
    return sizeof(*c) + (c->mask + 1) * sizeof(slot_t) + c->cap * sizeof(entry_t) + c->arena_cap;
}

bool counted_ranks_before(const counted_entry_t *a, const counted_entry_t *b, counted_order_t order)
{
    if (a->count != b->count)
        return a->count > b->count;
    int cmp = strhash_cmp(a->key, a->len, b->key, b->len);
    return order == COUNTED_KEY_ASC ? cmp < 0 : cmp > 0;
}

static bool before_asc(const void *a, const void *b)
{
    return counted_ranks_before(a, b, COUNTED_KEY_ASC);
}

static bool before_desc(const void *a, const void *b)
{
    return counted_ranks_before(a, b, COUNTED_KEY_DESC);
}

size_t counted_top(const counted_t *c, size_t n, counted_order_t order, counted_entry_t *out)
{
    topn_t top;
    topn_init(&top, out, n, sizeof(*out), order == COUNTED_KEY_ASC ? before_asc : before_desc);
    for (size_t i = 0; i < c->n; i++) {
        /* Most entries lose on count alone: skip them before building a candidate. */
        const counted_entry_t *worst = topn_worst(&top);
        if (worst != NULL && c->entries[i].count < worst->count)
            continue;
        counted_entry_t e = counted_at(c, i);
        topn_offer(&top, &e);
    }
    return topn_finish(&top);
}
