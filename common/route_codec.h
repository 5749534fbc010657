/*
 * route_codec: AirlineRouteEvent <-> Avro single-object encoding:
 *   C3 01 | CRC-64-AVRO fingerprint, 8 bytes little-endian | Avro binary of the record
 * The encoder is compiled at start from the schema avro-c parses from route_schema_json (a step per
 * field, of the field's type, bound to the event's member of its name) and writes Avro's binary
 * encoding straight into the output buffer, byte for byte what avro-c's own writer gives. The codec
 * is read-only once made (any thread may use it); nothing is allocated per event.
 */
#ifndef COMMON_ROUTE_CODEC_H
#define COMMON_ROUTE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "route_event.h"

typedef struct route_codec_s route_codec_t;

#define ROUTE_CODEC_HEADER_LEN 10

typedef enum {
    ROUTE_CODEC_OK = 0,
    ROUTE_CODEC_SCHEMA_INVALID = -1, /* the event does not fit the schema (encode) */
    ROUTE_CODEC_BAD_MARKER = -2,     /* decode: too short, or not C3 01 */
    ROUTE_CODEC_BAD_FINGERPRINT = -3,/* decode: written with another schema */
    ROUTE_CODEC_BAD_BODY = -4,       /* decode: truncated or malformed Avro, or trailing bytes */
} route_codec_status_t;

/* @returns a codec, or NULL with errstr filled when the embedded schema does not parse. */
route_codec_t *route_codec_new(char *errstr, size_t errstr_size);
void route_codec_free(route_codec_t *codec);

/*
 * Validates ev (route_event_validate) and appends its single-object encoding to out.
 * @returns ROUTE_CODEC_OK, or ROUTE_CODEC_SCHEMA_INVALID with the reason in errstr (out unchanged).
 */
route_codec_status_t route_codec_encode(route_codec_t *codec, const route_event_t *ev, buf_t *out, char *errstr,
                                        size_t errstr_size);

/*
 * The stamp of an encoded event: id and datetime are the record's first two fields and have fixed lengths
 * (36 and 26 characters, so one-byte length prefixes), hence fixed places. An event can be encoded ahead of
 * time with a placeholder stamp (route_codec_placeholder_stamp) off the loop, and given its real id and time
 * just before it is produced. encoded is what route_codec_encode appended for a stamped event.
 */
void route_codec_placeholder_stamp(route_event_t *ev);
void route_codec_restamp(char *encoded, const char id[ROUTE_EVENT_ID_LEN], const char datetime[TIMESTAMP_EVENT_LEN]);

/*
 * Decodes data[0..len) into ev. String slices point into data or into the codec: valid while data is and until the next decode.
 * @returns ROUTE_CODEC_OK or a negative status with errstr filled.
 */
route_codec_status_t route_codec_decode(route_codec_t *codec, const void *data, size_t len, route_event_t *ev,
                                        char *errstr, size_t errstr_size);

const char *route_codec_status_text(route_codec_status_t status);

#endif
