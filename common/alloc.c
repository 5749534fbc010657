#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *alloc_check(void *p, size_t size)
{
    if (p == NULL && size != 0) {
        fprintf(stderr, "out of memory allocating %zu bytes\n", size);
        abort();
    }
    return p;
}

void *xmalloc(size_t size)
{
    return alloc_check(malloc(size), size);
}

void *xcalloc(size_t count, size_t size)
{
    return alloc_check(calloc(count, size), count * size);
}

void *xrealloc(void *ptr, size_t size)
{
    return alloc_check(realloc(ptr, size), size);
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t len)
{
    char *p = xmalloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}
