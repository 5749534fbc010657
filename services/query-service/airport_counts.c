#include "airport_counts.h"
#include "topn.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "strhash.h"

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

struct airport_counts_s {
    slot_t *slots;
    size_t mask; /* slots - 1 */
    entry_t *entries;
    size_t n, cap;
    char *arena;
    size_t arena_len, arena_cap;
    uint64_t total;
};

#define INITIAL_SLOTS 1024

airport_counts_t *airport_counts_new(void)
{
    airport_counts_t *ac = xcalloc(1, sizeof(*ac));
    ac->slots = xcalloc(INITIAL_SLOTS, sizeof(*ac->slots));
    ac->mask = INITIAL_SLOTS - 1;
    ac->cap = INITIAL_SLOTS / 2;
    ac->entries = xmalloc(ac->cap * sizeof(*ac->entries));
    ac->arena_cap = 4096;
    ac->arena = xmalloc(ac->arena_cap);
    return ac;
}

void airport_counts_free(airport_counts_t *ac)
{
    if (ac == NULL)
        return;
    free(ac->slots);
    free(ac->entries);
    free(ac->arena);
    free(ac);
}

static void grow_slots(airport_counts_t *ac)
{
    size_t nslots = (ac->mask + 1) * 2;
    slot_t *slots = xcalloc(nslots, sizeof(*slots));
    for (size_t i = 0; i < ac->n; i++) {
        size_t j = ac->entries[i].hash & (nslots - 1);
        while (slots[j].idx != 0)
            j = (j + 1) & (nslots - 1);
        slots[j].idx = (uint32_t)i + 1;
        slots[j].hash = ac->entries[i].hash;
    }
    free(ac->slots);
    ac->slots = slots;
    ac->mask = nslots - 1;
}

/* @returns the slot holding key, or the empty slot where it belongs. */
static slot_t *find(const airport_counts_t *ac, const char *key, size_t len, uint32_t hash)
{
    size_t j = hash & ac->mask;
    for (;;) {
        slot_t *s = &ac->slots[j];
        if (s->idx == 0)
            return s;
        const entry_t *e = &ac->entries[s->idx - 1];
        if (s->hash == hash && e->len == len && memcmp(ac->arena + e->off, key, len) == 0)
            return s;
        j = (j + 1) & ac->mask;
    }
}

uint64_t airport_counts_add(airport_counts_t *ac, const char *airport, size_t len, uint64_t delta)
{
    uint32_t hash = (uint32_t)strhash(airport, len);
    slot_t *s = find(ac, airport, len, hash);
    ac->total += delta;
    if (s->idx != 0) {
        entry_t *e = &ac->entries[s->idx - 1];
        e->count += delta;
        return e->count;
    }
    /* First sight: intern the key. Load factor stays at most 1/2. */
    if (ac->n + 1 > (ac->mask + 1) / 2) {
        grow_slots(ac);
        s = find(ac, airport, len, hash);
    }
    if (ac->n == ac->cap) {
        ac->cap *= 2;
        ac->entries = xrealloc(ac->entries, ac->cap * sizeof(*ac->entries));
    }
    if (ac->arena_len + len > ac->arena_cap) {
        while (ac->arena_len + len > ac->arena_cap)
            ac->arena_cap *= 2;
        ac->arena = xrealloc(ac->arena, ac->arena_cap);
    }
    if (len > 0)
        memcpy(ac->arena + ac->arena_len, airport, len);
    entry_t *e = &ac->entries[ac->n];
    e->count = delta;
    e->off = ac->arena_len;
    e->len = (uint32_t)len;
    e->hash = hash;
    ac->arena_len += len;
    s->idx = (uint32_t)++ac->n;
    s->hash = hash;
    return delta;
}

uint64_t airport_counts_get(const airport_counts_t *ac, const char *airport, size_t len)
{
    slot_t *s = find(ac, airport, len, (uint32_t)strhash(airport, len));
    return s->idx != 0 ? ac->entries[s->idx - 1].count : 0;
}

/* true when a ranks before b: count desc, then airport asc. */
static int ranks_before(const airport_count_t *a, const airport_count_t *b)
{
    if (a->count != b->count)
        return a->count > b->count;
    return strhash_cmp(a->airport, a->len, b->airport, b->len) < 0;
}

static bool ranks_before_item(const void *a, const void *b)
{
    return ranks_before(a, b);
}

size_t airport_counts_top(const airport_counts_t *ac, size_t n, airport_count_t *out)
{
    topn_t top;
    topn_init(&top, out, n, sizeof(*out), ranks_before_item);
    for (size_t i = 0; i < ac->n; i++) {
        const entry_t *e = &ac->entries[i];
        airport_count_t c = {ac->arena + e->off, e->len, e->count};
        topn_offer(&top, &c);
    }
    return topn_finish(&top);
}

void airport_counts_foreach(const airport_counts_t *ac, airport_counts_cb cb, void *data)
{
    for (size_t i = 0; i < ac->n; i++)
        cb(data, ac->arena + ac->entries[i].off, ac->entries[i].len, ac->entries[i].count);
}

size_t airport_counts_size(const airport_counts_t *ac)
{
    return ac->n;
}

uint64_t airport_counts_total(const airport_counts_t *ac)
{
    return ac->total;
}

size_t airport_counts_bytes(const airport_counts_t *ac)
{
    return sizeof(*ac) + (ac->mask + 1) * sizeof(slot_t) + ac->cap * sizeof(entry_t) + ac->arena_cap;
}
