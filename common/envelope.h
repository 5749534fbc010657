/*
 * envelope: the seed's Flask jsonify response, byte for byte:
 *   {"data":[...],"error":false,"message":"produce","statusCode":200}\n
 * Flask sorts keys and, outside debug mode, writes compact separators and a final newline.
 * Floats print as Python's repr() does (98.67, 100.0, 0.0), not json-c's 17 digits.
 */
#ifndef COMMON_ENVELOPE_H
#define COMMON_ENVELOPE_H

#include <stdbool.h>
#include <json-c/json.h>

#include "buf.h"

/*
 * Appends the envelope to out. data is a json-c array or NULL (written as []); it is only read,
 * the caller keeps ownership. Objects inside data must already hold their keys in sorted order.
 */
void envelope_render(buf_t *out, int status, bool error, const char *message, struct json_object *data);

/* A json-c double that serializes as Python's repr() of value. Caller owns the returned object. */
struct json_object *envelope_new_pyfloat(double value);

/* Python repr() of a double into out (at least 32 bytes). @returns the length. */
int envelope_format_pyfloat(double value, char *out, size_t out_size);

/* round(value, 2) as Python computes it (correctly rounded decimal). */
double envelope_round2(double value);

#endif
