/*
 * route_schema: data/data_schema.json (embedded at build time, so there is one copy), its Avro
 * Parsing Canonical Form and the CRC-64-AVRO fingerprint that single-object encoding carries.
 * avro-c has neither; both are implemented here from the Avro specification.
 */
#ifndef COMMON_ROUTE_SCHEMA_H
#define COMMON_ROUTE_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

/* The schema text of data/data_schema.json as built into the binary. */
extern const char route_schema_json[];

/* CRC-64-AVRO (the Rabin fingerprint of the Avro spec) of data[0..len). */
uint64_t route_schema_crc64_avro(const void *data, size_t len);

/*
 * The Parsing Canonical Form of any Avro schema given as JSON text (spec rules [PRIMITIVES], [FULLNAMES],
 * [STRIP], [ORDER], [STRINGS], [INTEGERS], [WHITESPACE]). @returns a string the caller frees, or NULL
 * with errstr filled when json is not a valid schema.
 */
char *route_schema_canonical_form(const char *json, char *errstr, size_t errstr_size);

/* Fingerprint of the embedded schema's canonical form, computed once. */
uint64_t route_schema_fingerprint(void);

#endif
