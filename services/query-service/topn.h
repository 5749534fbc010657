/*
 * topn: the best n items of a stream, kept in a min-heap whose root is the worst of those kept, then
 * heap-sorted into rank order. One implementation for every element type (as qsort), used by
 * counted_top() and windows_top().
 */
#ifndef QUERY_TOPN_H
#define QUERY_TOPN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define TOPN_MAX_ITEM_SIZE 64

/* True when a ranks before (is better than) b. */
typedef bool (*topn_before_fn)(const void *a, const void *b);

typedef struct topn_s {
    char *heap; /* the caller's output array, n items of size bytes */
    size_t size;
    size_t n;
    size_t k; /* items kept so far */
    topn_before_fn before;
} topn_t;

static inline void topn_init(topn_t *t, void *out, size_t n, size_t size, topn_before_fn before)
{
    if (size > TOPN_MAX_ITEM_SIZE)
        abort(); /* a programming error: the swap buffer below is fixed */
    *t = (topn_t){out, size, n, 0, before};
}

static inline void topn_swap_(topn_t *t, size_t i, size_t j)
{
    char tmp[TOPN_MAX_ITEM_SIZE];
    memcpy(tmp, t->heap + i * t->size, t->size);
    memcpy(t->heap + i * t->size, t->heap + j * t->size, t->size);
    memcpy(t->heap + j * t->size, tmp, t->size);
}

static inline void topn_sift_down_(topn_t *t, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, worst = i;
        if (l < n && t->before(t->heap + worst * t->size, t->heap + l * t->size))
            worst = l;
        if (r < n && t->before(t->heap + worst * t->size, t->heap + r * t->size))
            worst = r;
        if (worst == i)
            return;
        topn_swap_(t, i, worst);
        i = worst;
    }
}

/* The worst item kept once n are kept (a cheap pre-filter for callers), else NULL. */
static inline const void *topn_worst(const topn_t *t)
{
    return t->k == t->n && t->n > 0 ? t->heap : NULL;
}

static inline void topn_offer(topn_t *t, const void *item)
{
    if (t->n == 0)
        return;
    if (t->k < t->n) {
        size_t i = t->k++;
        memcpy(t->heap + i * t->size, item, t->size);
        while (i > 0) {
            size_t p = (i - 1) / 2;
            if (!t->before(t->heap + p * t->size, t->heap + i * t->size))
                return;
            topn_swap_(t, i, p);
            i = p;
        }
    } else if (t->before(item, t->heap)) {
        memcpy(t->heap, item, t->size);
        topn_sift_down_(t, t->k, 0);
    }
}

/* Sorts what was kept into rank order (best first). @returns how many were kept. */
static inline size_t topn_finish(topn_t *t)
{
    for (size_t m = t->k; m > 1; m--) {
        topn_swap_(t, 0, m - 1);
        topn_sift_down_(t, m - 1, 0);
    }
    return t->k;
}

#endif
