#include "snapshot.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "atomic_file.h"
#include "binio.h"
#include "route_schema.h"
#include "snapshot_format.h"

const char *const snapshot_section_names[SEC_COUNT] = {
    "",          "topic",    "offsets", "config", "airports", "windows", "recent", "evicted",
    "positions", "counters", "meta",    "times",  "slide",  "route_counts"};

/* @returns where the section's length goes, patched by section_end. */
static size_t section_begin(buf_t *b, uint32_t tag)
{
    binio_put_u32(b, tag);
    binio_put_u32(b, 0);
    size_t at = b->len;
    binio_put_u64(b, 0);
    return at;
}

static void section_end(buf_t *b, size_t at)
{
    binio_patch_u64(b, at, (uint64_t)(b->len - at - 8));
}

static void put_window_row(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                           uint64_t count)
{
    (void)end_us;
    buf_t *b = data;
    unsigned char *p = binio_begin(b, 20 + len);
    binio_end(b, binio_wstr(binio_w64(binio_w64(p, (uint64_t)start_us), count), equipment, len));
}

static void put_counted(buf_t *out, const counted_t *c)
{
    binio_put_u32(out, (uint32_t)counted_size(c));
    for (size_t i = 0; i < counted_size(c); i++) {
        counted_entry_t e = counted_at(c, i);
        unsigned char *p = binio_begin(out, 12 + e.len);
        binio_end(out, binio_wstr(binio_w64(p, e.count), e.key, e.len));
    }
}

static void put_positions(buf_t *out, const positions_t *positions)
{
    size_t n = positions_count(positions);
    size_t at = section_begin(out, SEC_OFFSETS);
    binio_put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        binio_put_u32(out, (uint32_t)i);
        binio_put_u64(out, (uint64_t)positions_get(positions, (int32_t)i).next_offset);
    }
    section_end(out, at);

    at = section_begin(out, SEC_POSITIONS);
    binio_put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        position_t pos = positions_get(positions, (int32_t)i);
        binio_put_u32(out, (uint32_t)i);
        binio_put_u64(out, pos.fingerprint);
        binio_put_u64(out, pos.skipped);
    }
    section_end(out, at);

    at = section_begin(out, SEC_TIMES);
    binio_put_u32(out, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        position_t pos = positions_get(positions, (int32_t)i);
        binio_put_u32(out, (uint32_t)i);
        binio_put_u8(out, pos.has_time ? 1 : 0);
        binio_put_u64(out, (uint64_t)pos.event_us);
    }
    section_end(out, at);
}

static void put_recent(buf_t *out, recent_t *recent)
{
    size_t at = section_begin(out, SEC_RECENT);
    uint64_t count = recent_count(recent);
    binio_put_u64(out, recent_total_pushed(recent));
    binio_put_u64(out, count);
    for (uint64_t i = 0; i < count; i++) {
        recent_row_t r;
        recent_get(recent, i, &r);
        size_t need = 8 + 4 * 4 + 1 + 5 * 4 + r.id_len + r.airline_len + r.source_airport_len +
                      r.destination_airport_len + r.equipment_len;
        unsigned char *p = binio_begin(out, need);
        p = binio_w64(p, (uint64_t)r.datetime_us);
        p = binio_w32(p, (uint32_t)r.airline_id);
        p = binio_w32(p, (uint32_t)r.source_airport_id);
        p = binio_w32(p, (uint32_t)r.destination_airport_id);
        p = binio_w32(p, (uint32_t)r.stops);
        *p++ = r.codeshare ? 1 : 0;
        p = binio_wstr(p, r.id, r.id_len);
        p = binio_wstr(p, r.airline, r.airline_len);
        p = binio_wstr(p, r.source_airport, r.source_airport_len);
        p = binio_wstr(p, r.destination_airport, r.destination_airport_len);
        p = binio_wstr(p, r.equipment, r.equipment_len);
        binio_end(out, p);
    }
    section_end(out, at);
}

void snapshot_serialize(const snapshot_state_t *s, buf_t *out)
{
    views_t *v = s->views;
    buf_reset(out);
    const views_stats_t *st = views_stats(v);
    recent_t *recent = views_recent(v);
    /* One reservation for the usual case: recent rows dominate. */
    buf_reserve(out, 4096 + (size_t)recent_count(recent) * 120 + st->window_rows * 40 + st->source_airports * 24 +
                         route_counts_bytes(views_route_counts(v)) +
                         positions_count(views_positions(v)) * 48);

    buf_append(out, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN);
    binio_put_u32(out, SNAPSHOT_VERSION);
    binio_put_u32(out, 0);
    binio_put_u64(out, 0); /* body length, patched below */

    size_t at = section_begin(out, SEC_TOPIC);
    buf_append(out, s->topic, strlen(s->topic));
    section_end(out, at);

    put_positions(out, views_positions(v));

    at = section_begin(out, SEC_COUNTERS);
    binio_put_u64(out, st->undecodable);
    section_end(out, at);

    at = section_begin(out, SEC_META);
    binio_put_u64(out, (uint64_t)s->current_at_us);
    section_end(out, at);

    const views_config_t *cfg = views_config(v);
    at = section_begin(out, SEC_CONFIG);
    binio_put_u64(out, (uint64_t)cfg->window_us);
    binio_put_u64(out, (uint64_t)cfg->grace_us);
    binio_put_u64(out, (uint64_t)cfg->retention_us);
    binio_put_u64(out, (uint64_t)cfg->recent_capacity);
    binio_put_u64(out, st->events_applied);
    section_end(out, at);

    at = section_begin(out, SEC_SLIDE);
    binio_put_u64(out, (uint64_t)cfg->slide_us);
    section_end(out, at);

    at = section_begin(out, SEC_AIRPORTS);
    put_counted(out, views_airports(v));
    section_end(out, at);

    const route_counts_t *rc = views_route_counts(v);
    at = section_begin(out, SEC_ROUTE_COUNTS);
    put_counted(out, rc->airlines);
    put_counted(out, rc->pairs);
    put_counted(out, rc->planes);
    section_end(out, at);

    windows_t *w = views_windows(v);
    windows_stats_t ws;
    windows_stats(w, &ws);
    at = section_begin(out, SEC_WINDOWS);
    binio_put_u8(out, ws.has_watermark ? 1 : 0);
    binio_put_u64(out, (uint64_t)(ws.watermark_us + cfg->grace_us));
    binio_put_u64(out, ws.late_events);
    binio_put_u64(out, (uint64_t)ws.rows);
    windows_foreach(w, put_window_row, out);
    section_end(out, at);

    put_recent(out, recent);

    const snapshot_evicted_t *evicted = &s->evicted;
    if (evicted->file_len >= 0) {
        at = section_begin(out, SEC_EVICTED);
        binio_put_u64(out, (uint64_t)evicted->file_len);
        binio_put_u64(out, evicted->pending.len);
        buf_append(out, evicted->pending.data, evicted->pending.len);
        section_end(out, at);
    }

    binio_patch_u64(out, 16, (uint64_t)(out->len - SNAPSHOT_HEADER_LEN));
    binio_put_u64(out, 0); /* CRC, filled by snapshot_seal off the loop */
}

void snapshot_seal(buf_t *snap)
{
    if (snap->len < SNAPSHOT_HEADER_LEN + SNAPSHOT_TRAILER_LEN)
        return;
    size_t body = snap->len - SNAPSHOT_TRAILER_LEN;
    binio_patch_u64(snap, body, route_schema_crc64_avro(snap->data, body));
}

int snapshot_write_file(const char *dir, buf_t *snap, char *errstr, size_t errstr_size)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SNAPSHOT_FILE_NAME) >= sizeof(path)) {
        snprintf(errstr, errstr_size, "state directory path too long: %s", dir);
        return -1;
    }
    snapshot_seal(snap);
    return atomic_file_write(path, snap->data, snap->len, false, errstr, errstr_size);
}
