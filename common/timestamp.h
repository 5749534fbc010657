/*
 * timestamp: the seed's time formats.
 *   event time  "2021-05-04 09:58:32.123456"  (UTC, microseconds; the AirlineRouteEvent.datetime field)
 *   window time "2021-05-04 09:58:30"
 *   http date   "Tue, 04 May 2021 09:58:32 GMT"  (how Flask's jsonify shows a datetime)
 */
#ifndef COMMON_TIMESTAMP_H
#define COMMON_TIMESTAMP_H

#include <stddef.h>
#include <stdint.h>

#define TIMESTAMP_EVENT_LEN 26   /* strlen("2021-05-04 09:58:32.123456") */
#define TIMESTAMP_WINDOW_LEN 19
#define TIMESTAMP_HTTP_LEN 29

/* Microseconds since the Unix epoch, wall clock. */
int64_t timestamp_now_us(void);
/* Writes the event format of us into out (>= TIMESTAMP_EVENT_LEN + 1 bytes). */
void timestamp_format_event(int64_t us, char *out);
/* Parses the event format (the fraction may have 0..6 digits, or be absent). @returns 0, or -1 if malformed. */
int timestamp_parse_event(const char *s, size_t len, int64_t *us);
/* "YYYY-MM-DD HH:MM:SS" of the whole seconds of us. */
void timestamp_format_window(int64_t us, char *out);
/* "Tue, 04 May 2021 09:58:32 GMT" of the whole seconds of us. */
void timestamp_format_http(int64_t us, char *out);

#endif
