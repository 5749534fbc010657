/*
 * query_string: parameters of an application/x-www-form-urlencoded string
 * ("rate=100&limit=5&loop"), percent- and plus-decoded. Pure functions, fuzzed.
 */
#ifndef COMMON_QUERY_STRING_H
#define COMMON_QUERY_STRING_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Finds the first parameter called name in qs[0..len) and decodes its value into out (NUL-terminated).
 * @returns the decoded length (0 for "loop" or "loop="), -1 when absent, -2 when the value is malformed
 *          (bad %-escape, embedded NUL) or longer than out_size - 1.
 */
long query_string_get(const char *qs, size_t len, const char *name, char *out, size_t out_size);

/*
 * Integer parameter in [min, max]. @returns 0 and sets *out (left alone when absent: the caller's default
 * stays), or -1 with a sentence for the client in errstr ("parameter 'rate' must be an integer from 1 to 1000000").
 */
int query_string_get_long(const char *qs, size_t len, const char *name, long min, long max, long *out, char *errstr,
                          size_t errstr_size);

/* Boolean parameter: absent leaves *out; "", 1, true, yes, on = true; 0, false, no, off = false; else -1 + errstr. */
int query_string_get_bool(const char *qs, size_t len, const char *name, bool *out, char *errstr, size_t errstr_size);

/* Each parameter name in qs must be one of allowed (NULL-terminated). @returns 0, or -1 + errstr naming the unknown one. */
int query_string_check_names(const char *qs, size_t len, const char *const *allowed, char *errstr, size_t errstr_size);

#endif
