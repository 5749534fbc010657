#include "snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "atomic_file.h"
#include "route_schema.h"

#define MAGIC "FRSNAP01"
#define MAGIC_LEN 8
#define VERSION 1
#define HEADER_LEN 24 /* magic, version, zero, body length */
#define TRAILER_LEN 8
#define SECTION_HEADER_LEN 16
#define MAX_FILE (UINT64_C(1) << 32) /* far above any real state; keeps a bad length from allocating wildly */

enum {
    SEC_TOPIC = 1,
    SEC_OFFSETS,
    SEC_CONFIG,
    SEC_AIRPORTS,
    SEC_WINDOWS,
    SEC_RECENT,
    SEC_EVICTED,   /* equipment_windows.csv's part of the state */
    SEC_POSITIONS, /* per partition: the fingerprint of the message applied last, the offsets skipped */
    SEC_COUNTERS,  /* undecodable messages */
    SEC_META,      /* when the views last held everything the topic held */
    SEC_COUNT
};
static const char *const section_names[SEC_COUNT] = {"",       "topic",  "offsets", "config",    "airports", "windows",
                                                     "recent", "evicted", "positions", "counters", "meta"};
/* Sections every snapshot has; those from EVICTED on came later and are optional. */
#define SEC_REQUIRED_END SEC_EVICTED

/* ---- writing ---- */

static __attribute__((unused)) void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static __attribute__((unused)) void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* Hot writers: the caller reserved room; p advances. Native stores where the host is little-endian. */
static inline unsigned char *w32(unsigned char *p, uint32_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 4);
#else
    le32(p, v);
#endif
    return p + 4;
}

static inline unsigned char *w64(unsigned char *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    le64(p, v);
#endif
    return p + 8;
}

static inline unsigned char *wstr(unsigned char *p, const char *s, size_t len)
{
    p = w32(p, (uint32_t)len);
    if (len > 0)
        memcpy(p, s, len);
    return p + len;
}

/* Room for need more bytes. @returns where they go; commit with put_end. */
static inline unsigned char *put_begin(buf_t *b, size_t need)
{
    buf_reserve(b, need);
    return (unsigned char *)b->data + b->len;
}

static inline void put_end(buf_t *b, unsigned char *p)
{
    b->len = (size_t)(p - (unsigned char *)b->data);
    b->data[b->len] = '\0';
}

static void put_u8(buf_t *b, uint8_t v)
{
    buf_append(b, &v, 1);
}

static void put_u32(buf_t *b, uint32_t v)
{
    put_end(b, w32(put_begin(b, 4), v));
}

static void put_u64(buf_t *b, uint64_t v)
{
    put_end(b, w64(put_begin(b, 8), v));
}

/* @returns where the section's length goes, patched by section_end. */
static size_t section_begin(buf_t *b, uint32_t tag)
{
    put_u32(b, tag);
    put_u32(b, 0);
    size_t at = b->len;
    put_u64(b, 0);
    return at;
}

static void section_end(buf_t *b, size_t at)
{
    le64((unsigned char *)b->data + at, (uint64_t)(b->len - at - 8));
}

static void put_airport(void *data, const char *airport, size_t len, uint64_t count)
{
    buf_t *b = data;
    unsigned char *p = put_begin(b, 12 + len);
    put_end(b, wstr(w64(p, count), airport, len));
}

static void put_window_row(void *data, int64_t start_us, int64_t end_us, const char *equipment, size_t len,
                           uint64_t count)
{
    (void)end_us;
    buf_t *b = data;
    unsigned char *p = put_begin(b, 20 + len);
    put_end(b, wstr(w64(w64(p, (uint64_t)start_us), count), equipment, len));
}

void snapshot_serialize(const snapshot_state_t *s, buf_t *out)
{
    views_t *v = s->views;
    buf_reset(out);
    const views_stats_t *st = views_stats(v);
    recent_t *recent = views_recent(v);
    positions_t *positions = views_positions(v);
    size_t n_parts = positions_count(positions);
    /* One reservation for the usual case: recent rows dominate. */
    buf_reserve(out, 4096 + (size_t)recent_count(recent) * 120 + st->window_rows * 40 + st->source_airports * 24 +
                         n_parts * 32);

    buf_append(out, MAGIC, MAGIC_LEN);
    put_u32(out, VERSION);
    put_u32(out, 0);
    put_u64(out, 0); /* body length, patched below */

    size_t at = section_begin(out, SEC_TOPIC);
    buf_append(out, s->topic, strlen(s->topic));
    section_end(out, at);

    at = section_begin(out, SEC_OFFSETS);
    put_u32(out, (uint32_t)n_parts);
    for (size_t i = 0; i < n_parts; i++) {
        put_u32(out, (uint32_t)i);
        put_u64(out, (uint64_t)positions_get(positions, (int32_t)i).next_offset);
    }
    section_end(out, at);

    at = section_begin(out, SEC_POSITIONS);
    put_u32(out, (uint32_t)n_parts);
    for (size_t i = 0; i < n_parts; i++) {
        position_t pos = positions_get(positions, (int32_t)i);
        put_u32(out, (uint32_t)i);
        put_u64(out, pos.fingerprint);
        put_u64(out, pos.skipped);
    }
    section_end(out, at);

    at = section_begin(out, SEC_COUNTERS);
    put_u64(out, st->undecodable);
    section_end(out, at);

    at = section_begin(out, SEC_META);
    put_u64(out, (uint64_t)s->current_at_us);
    section_end(out, at);

    const views_config_t *cfg = views_config(v);
    at = section_begin(out, SEC_CONFIG);
    put_u64(out, (uint64_t)cfg->window_us);
    put_u64(out, (uint64_t)cfg->grace_us);
    put_u64(out, (uint64_t)cfg->retention_us);
    put_u64(out, (uint64_t)cfg->recent_capacity);
    put_u64(out, st->events_applied);
    section_end(out, at);

    counted_t *ac = views_airports(v);
    at = section_begin(out, SEC_AIRPORTS);
    put_u32(out, (uint32_t)counted_size(ac));
    for (size_t i = 0; i < counted_size(ac); i++) {
        counted_entry_t e = counted_at(ac, i);
        put_airport(out, e.key, e.len, e.count);
    }
    section_end(out, at);

    windows_t *w = views_windows(v);
    windows_stats_t ws;
    windows_stats(w, &ws);
    at = section_begin(out, SEC_WINDOWS);
    put_u8(out, ws.has_watermark ? 1 : 0);
    put_u64(out, (uint64_t)ws.max_event_us);
    put_u64(out, ws.late_events);
    put_u64(out, (uint64_t)ws.rows);
    windows_foreach(w, put_window_row, out);
    section_end(out, at);

    at = section_begin(out, SEC_RECENT);
    uint64_t count = recent_count(recent);
    put_u64(out, recent_total_pushed(recent));
    put_u64(out, count);
    for (uint64_t i = 0; i < count; i++) {
        recent_row_t r;
        recent_get(recent, i, &r);
        size_t need = 8 + 4 * 4 + 1 + 5 * 4 + r.id_len + r.airline_len + r.source_airport_len +
                      r.destination_airport_len + r.equipment_len;
        unsigned char *p = put_begin(out, need);
        p = w64(p, (uint64_t)r.datetime_us);
        p = w32(p, (uint32_t)r.airline_id);
        p = w32(p, (uint32_t)r.source_airport_id);
        p = w32(p, (uint32_t)r.destination_airport_id);
        p = w32(p, (uint32_t)r.stops);
        *p++ = r.codeshare ? 1 : 0;
        p = wstr(p, r.id, r.id_len);
        p = wstr(p, r.airline, r.airline_len);
        p = wstr(p, r.source_airport, r.source_airport_len);
        p = wstr(p, r.destination_airport, r.destination_airport_len);
        p = wstr(p, r.equipment, r.equipment_len);
        put_end(out, p);
    }
    section_end(out, at);

    const snapshot_evicted_t *evicted = &s->evicted;
    if (evicted->file_len >= 0) {
        at = section_begin(out, SEC_EVICTED);
        put_u64(out, (uint64_t)evicted->file_len);
        put_u64(out, evicted->pending.len);
        buf_append(out, evicted->pending.data, evicted->pending.len);
        section_end(out, at);
    }

    le64((unsigned char *)out->data + 16, (uint64_t)(out->len - HEADER_LEN));
    put_u64(out, 0); /* CRC, filled by snapshot_seal off the loop */
}

void snapshot_seal(buf_t *snap)
{
    if (snap->len < HEADER_LEN + TRAILER_LEN)
        return;
    size_t body = snap->len - TRAILER_LEN;
    le64((unsigned char *)snap->data + body, route_schema_crc64_avro(snap->data, body));
}

int snapshot_write_file(const char *dir, buf_t *snap, char *errstr, size_t errstr_size)
{
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SNAPSHOT_FILE_NAME) >= sizeof(path)) {
        snprintf(errstr, errstr_size, "state directory path too long: %s", dir);
        return -1;
    }
    snapshot_seal(snap);
    return atomic_file_write(path, snap->data, snap->len, true, errstr, errstr_size);
}

/* ---- reading: every get checks the bounds; the first failure sticks ---- */

typedef struct reader_s {
    const unsigned char *p;
    size_t left;
    bool bad;
} reader_t;

static const unsigned char *get_bytes(reader_t *r, size_t n)
{
    if (r->bad || n > r->left) {
        r->bad = true;
        return NULL;
    }
    const unsigned char *p = r->p;
    r->p += n;
    r->left -= n;
    return p;
}

static uint64_t rd64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t rd32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t get_u8(reader_t *r)
{
    const unsigned char *p = get_bytes(r, 1);
    return p != NULL ? p[0] : 0;
}

static uint32_t get_u32(reader_t *r)
{
    const unsigned char *p = get_bytes(r, 4);
    return p != NULL ? rd32(p) : 0;
}

static uint64_t get_u64(reader_t *r)
{
    const unsigned char *p = get_bytes(r, 8);
    return p != NULL ? rd64(p) : 0;
}

static const char *get_str(reader_t *r, size_t *len)
{
    *len = get_u32(r);
    const char *s = (const char *)get_bytes(r, *len);
    if (s == NULL)
        *len = 0;
    return s != NULL ? s : "";
}

typedef struct load_s {
    reader_t sec[SEC_COUNT];
    bool seen[SEC_COUNT];
    char *errstr;
    size_t errstr_size;
} load_t;

#define FAIL(...)                                                                                                      \
    do {                                                                                                               \
        snprintf(ld->errstr, ld->errstr_size, __VA_ARGS__);                                                            \
        return -1;                                                                                                     \
    } while (0)

/* A section must be read to its last byte, no further. */
static int section_done(load_t *ld, int tag)
{
    if (ld->sec[tag].bad)
        FAIL("snapshot %s section is truncated", section_names[tag]);
    if (ld->sec[tag].left != 0)
        FAIL("snapshot %s section has %zu bytes too many", section_names[tag], ld->sec[tag].left);
    return 0;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Reads the section's n partition ids (each followed by rest bytes, read by the caller in a second pass) and checks
 * that they are 0..n-1, each once: a topic's partitions, and nothing that would size a table wildly. */
static int check_partition_ids(load_t *ld, int tag, size_t rest)
{
    reader_t r = ld->sec[tag];
    uint32_t n = get_u32(&r);
    if (r.bad || (uint64_t)n * (4 + rest) != r.left)
        FAIL("snapshot %s section: %u partitions do not fit its %zu bytes", section_names[tag], n, r.left);
    if (n == 0)
        return 0;
    int32_t *ids = xmalloc(n * sizeof(*ids));
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = (int32_t)get_u32(&r);
        get_bytes(&r, rest);
    }
    qsort(ids, n, sizeof(*ids), cmp_i32);
    bool bad = false;
    for (uint32_t i = 0; i < n && !bad; i++)
        bad = ids[i] != (int32_t)i;
    free(ids);
    if (bad)
        FAIL("snapshot %s section: the partitions are not 0..%u, each once", section_names[tag], n - 1);
    return 0;
}

/* OFFSETS, then (when present) POSITIONS for partitions OFFSETS lists. */
static int load_positions(load_t *ld, positions_t *positions)
{
    if (check_partition_ids(ld, SEC_OFFSETS, 8) != 0)
        return -1;
    reader_t *r = &ld->sec[SEC_OFFSETS];
    uint32_t n = get_u32(r);
    for (uint32_t i = 0; i < n; i++) {
        int32_t partition = (int32_t)get_u32(r);
        int64_t next = (int64_t)get_u64(r);
        if (next < 0)
            FAIL("snapshot offsets section: partition %d at offset %lld", (int)partition, (long long)next);
        positions_set(positions, partition, &(position_t){next, 0, 0});
    }
    if (!ld->seen[SEC_POSITIONS])
        return 0;
    if (check_partition_ids(ld, SEC_POSITIONS, 16) != 0)
        return -1;
    r = &ld->sec[SEC_POSITIONS];
    uint32_t m = get_u32(r);
    if (m != n)
        FAIL("snapshot positions section: %u partitions, offsets section %u", m, n);
    for (uint32_t i = 0; i < m; i++) {
        int32_t partition = (int32_t)get_u32(r);
        position_t pos = positions_get(positions, partition);
        pos.fingerprint = get_u64(r);
        pos.skipped = get_u64(r);
        if (pos.skipped > (uint64_t)pos.next_offset)
            FAIL("snapshot positions section: partition %d skipped %llu offsets of %lld", (int)partition,
                 (unsigned long long)pos.skipped, (long long)pos.next_offset);
        positions_set(positions, partition, &pos);
    }
    return 0;
}

static int load_views(load_t *ld, views_t *v)
{
    const views_config_t *cfg = views_config(v);
    reader_t *r = &ld->sec[SEC_CONFIG];
    int64_t window_us = (int64_t)get_u64(r), grace_us = (int64_t)get_u64(r);
    get_u64(r); /* retention: the current configuration's applies */
    get_u64(r); /* recent capacity: idem */
    uint64_t events_applied = get_u64(r);
    if (section_done(ld, SEC_CONFIG) != 0)
        return -1;
    if (window_us != cfg->window_us || grace_us != cfg->grace_us)
        FAIL("snapshot was taken with window %lld us and grace %lld us, now %lld us and %lld us",
             (long long)window_us, (long long)grace_us, (long long)cfg->window_us, (long long)cfg->grace_us);
    uint64_t undecodable = 0;
    if (ld->seen[SEC_COUNTERS]) {
        undecodable = get_u64(&ld->sec[SEC_COUNTERS]);
        if (section_done(ld, SEC_COUNTERS) != 0)
            return -1;
    }
    views_set_counters(v, events_applied, undecodable);

    r = &ld->sec[SEC_AIRPORTS];
    counted_t *ac = views_airports(v);
    uint32_t n = get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint64_t count = get_u64(r);
        size_t len;
        const char *s = get_str(r, &len);
        if (r->bad)
            break;
        if (count == 0 || counted_get(ac, s, len) != 0)
            FAIL("snapshot airports section: zero count or repeated airport at entry %u", i);
        counted_add(ac, s, len, count);
    }
    if (section_done(ld, SEC_AIRPORTS) != 0)
        return -1;
    if (counted_total(ac) != events_applied)
        FAIL("snapshot airports add up to %llu, not the %llu events applied",
             (unsigned long long)counted_total(ac), (unsigned long long)events_applied);

    r = &ld->sec[SEC_WINDOWS];
    windows_t *w = views_windows(v);
    uint8_t has_max = get_u8(r);
    int64_t max_event = (int64_t)get_u64(r);
    uint64_t late = get_u64(r);
    uint64_t rows = get_u64(r);
    if (!r->bad && (has_max > 1 || windows_restore_clock(w, has_max == 1, max_event, late) != 0))
        FAIL("snapshot windows section: bad clock");
    if (!r->bad && rows > r->left / 20)
        FAIL("snapshot windows section: %llu rows do not fit", (unsigned long long)rows);
    for (uint64_t i = 0; i < rows && !r->bad; i++) {
        int64_t start = (int64_t)get_u64(r);
        uint64_t count = get_u64(r);
        size_t len;
        const char *s = get_str(r, &len);
        if (r->bad)
            break;
        if (windows_restore_row(w, start, s, len, count) != 0)
            FAIL("snapshot windows section: row %llu is misaligned, zero or repeated", (unsigned long long)i);
    }
    if (section_done(ld, SEC_WINDOWS) != 0)
        return -1;
    if (rows > 0 && !has_max)
        FAIL("snapshot windows section: rows without a watermark");

    r = &ld->sec[SEC_RECENT];
    recent_t *recent = views_recent(v);
    uint64_t total = get_u64(r), count = get_u64(r);
    if (!r->bad && (count > total || count > r->left / 45))
        FAIL("snapshot recent section: %llu rows of %llu pushed do not fit", (unsigned long long)count,
             (unsigned long long)total);
    /* A smaller capacity now keeps the newest rows. */
    uint64_t skip = count > recent_capacity(recent) ? count - recent_capacity(recent) : 0;
    recent_set_total_pushed(recent, total - count + skip);
    for (uint64_t i = 0; i < count && !r->bad; i++) {
        recent_row_t row;
        row.datetime_us = (int64_t)get_u64(r);
        row.airline_id = (int32_t)get_u32(r);
        row.source_airport_id = (int32_t)get_u32(r);
        row.destination_airport_id = (int32_t)get_u32(r);
        row.stops = (int32_t)get_u32(r);
        uint8_t codeshare = get_u8(r);
        row.codeshare = codeshare == 1;
        row.id = get_str(r, &row.id_len);
        row.airline = get_str(r, &row.airline_len);
        row.source_airport = get_str(r, &row.source_airport_len);
        row.destination_airport = get_str(r, &row.destination_airport_len);
        row.equipment = get_str(r, &row.equipment_len);
        if (r->bad)
            break;
        if (codeshare > 1)
            FAIL("snapshot recent section: bad codeshare in row %llu", (unsigned long long)i);
        if (i >= skip)
            recent_push_row(recent, &row);
    }
    return section_done(ld, SEC_RECENT);
}

static int load_evicted(load_t *ld, snapshot_evicted_t *out)
{
    out->file_len = -1;
    buf_reset(&out->pending);
    if (!ld->seen[SEC_EVICTED])
        return 0;
    reader_t *r = &ld->sec[SEC_EVICTED];
    uint64_t file_len = get_u64(r);
    uint64_t len = get_u64(r);
    const unsigned char *rows = r->bad || len > r->left ? NULL : get_bytes(r, (size_t)len);
    if (rows == NULL || file_len > INT64_MAX)
        FAIL("snapshot evicted section is out of bounds");
    if (section_done(ld, SEC_EVICTED) != 0)
        return -1;
    out->file_len = (int64_t)file_len;
    buf_append(&out->pending, rows, (size_t)len);
    return 0;
}

static int load_meta(load_t *ld, int64_t *current_at_us)
{
    *current_at_us = 0;
    if (!ld->seen[SEC_META])
        return 0;
    uint64_t at = get_u64(&ld->sec[SEC_META]);
    if (section_done(ld, SEC_META) != 0)
        return -1;
    if (at > INT64_MAX)
        FAIL("snapshot meta section: bad time");
    *current_at_us = (int64_t)at;
    return 0;
}

/* Checks and decodes everything into out, which the caller clears on failure. */
static int load(load_t *ld, const unsigned char *data, size_t len, const views_config_t *cfg, snapshot_state_t *out)
{
    if (len < HEADER_LEN + TRAILER_LEN)
        FAIL("snapshot is truncated: %zu bytes", len);
    if (memcmp(data, MAGIC, MAGIC_LEN) != 0)
        FAIL("not a snapshot: bad magic");
    uint32_t version = rd32(data + 8);
    if (version != VERSION)
        FAIL("snapshot version %u, expected %u", version, VERSION);
    uint64_t body = rd64(data + 16);
    if (body != len - HEADER_LEN - TRAILER_LEN)
        FAIL("snapshot is truncated or padded: body of %llu bytes in a file of %zu", (unsigned long long)body, len);
    uint64_t crc = route_schema_crc64_avro(data, len - TRAILER_LEN);
    if (crc != rd64(data + len - TRAILER_LEN))
        FAIL("snapshot checksum mismatch");

    reader_t all = {data + HEADER_LEN, (size_t)body, false};
    while (all.left > 0) {
        uint32_t tag = get_u32(&all);
        get_u32(&all);
        uint64_t slen = get_u64(&all);
        const unsigned char *p = all.bad || slen > all.left ? NULL : get_bytes(&all, (size_t)slen);
        if (p == NULL)
            FAIL("snapshot section header or length out of bounds");
        if (tag == 0 || tag >= SEC_COUNT)
            continue; /* a later version's section */
        if (ld->seen[tag])
            FAIL("snapshot has two %s sections", section_names[tag]);
        ld->seen[tag] = true;
        ld->sec[tag] = (reader_t){p, (size_t)slen, false};
    }
    for (int tag = 1; tag < SEC_REQUIRED_END; tag++)
        if (!ld->seen[tag])
            FAIL("snapshot has no %s section", section_names[tag]);

    reader_t *t = &ld->sec[SEC_TOPIC];
    if (memchr(t->p, '\0', t->left) != NULL)
        FAIL("snapshot topic name holds a NUL byte");
    out->topic = xstrndup((const char *)t->p, t->left);

    if (load_evicted(ld, &out->evicted) != 0 || load_meta(ld, &out->current_at_us) != 0)
        return -1;
    out->views = views_new(cfg);
    if (load_views(ld, out->views) != 0 || load_positions(ld, views_positions(out->views)) != 0)
        return -1;
    /*
     * Each message the views took (applied or undecodable) moved one offset. Fewer offsets read than that means
     * views saved without their offsets (a release that took the offsets from elsewhere could write that with
     * Kafka down): resuming would read the topic again on top of the views.
     */
    const positions_t *pos = views_positions(out->views);
    uint64_t read = 0;
    for (size_t i = 0; i < positions_count(pos); i++) {
        position_t p = positions_get(pos, (int32_t)i);
        read += (uint64_t)p.next_offset - p.skipped;
    }
    const views_stats_t *st = views_stats(out->views);
    if (read < st->events_applied + st->undecodable)
        FAIL("snapshot offsets account for %llu messages, its views for %llu: views saved without their offsets",
             (unsigned long long)read, (unsigned long long)(st->events_applied + st->undecodable));
    return 0;
}

void snapshot_state_clear(snapshot_state_t *s)
{
    views_free(s->views);
    free(s->topic);
    buf_free(&s->evicted.pending);
    memset(s, 0, sizeof(*s));
    s->evicted.file_len = -1;
}

int snapshot_load_buffer(const void *data, size_t len, const views_config_t *cfg, snapshot_state_t *out, char *errstr,
                         size_t errstr_size)
{
    memset(out, 0, sizeof(*out));
    out->evicted.file_len = -1;
    load_t ld;
    memset(&ld, 0, sizeof(ld));
    ld.errstr = errstr;
    ld.errstr_size = errstr_size;
    int rc = load(&ld, data, len, cfg, out);
    if (rc != 0)
        snapshot_state_clear(out);
    return rc;
}

int snapshot_load(const char *dir, const views_config_t *cfg, snapshot_state_t *out, char *errstr, size_t errstr_size)
{
    memset(out, 0, sizeof(*out));
    out->evicted.file_len = -1;
    char path[PATH_MAX];
    if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SNAPSHOT_FILE_NAME) >= sizeof(path)) {
        snprintf(errstr, errstr_size, "state directory path too long: %s", dir);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 1;
        snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > MAX_FILE) {
        snprintf(errstr, errstr_size, "%s: not a regular file of a sane size", path);
        close(fd);
        return -1;
    }
    size_t len = (size_t)sb.st_size, got = 0;
    unsigned char *data = xmalloc(len > 0 ? len : 1);
    while (got < len) {
        ssize_t k = read(fd, data + got, len - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    int rc;
    if (got != len) {
        snprintf(errstr, errstr_size, "%s: short read (%zu of %zu bytes)", path, got, len);
        rc = -1;
    } else {
        char reason[400];
        rc = snapshot_load_buffer(data, len, cfg, out, reason, sizeof(reason));
        if (rc != 0)
            snprintf(errstr, errstr_size, "%s: %s", path, reason);
    }
    free(data);
    return rc;
}
