/*
 * alloc: allocation that cannot fail silently (redis zmalloc, smallchat chatMalloc).
 * A long-running service does not limp on after OOM: these abort with a message.
 */
#ifndef COMMON_ALLOC_H
#define COMMON_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* @returns a NUL-terminated copy the caller frees. */
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);

#endif
