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
#include "binio.h"
#include "route_schema.h"
#include "snapshot_format.h"

typedef struct load_s {
    binio_reader_t sec[SEC_COUNT];
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
        FAIL("snapshot %s section is truncated", snapshot_section_names[tag]);
    if (ld->sec[tag].left != 0)
        FAIL("snapshot %s section has %zu bytes too many", snapshot_section_names[tag], ld->sec[tag].left);
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
    binio_reader_t r = ld->sec[tag];
    uint32_t n = binio_get_u32(&r);
    if (r.bad || (uint64_t)n * (4 + rest) != r.left)
        FAIL("snapshot %s section: %u partitions do not fit its %zu bytes", snapshot_section_names[tag], n, r.left);
    if (n == 0)
        return 0;
    int32_t *ids = xmalloc(n * sizeof(*ids));
    for (uint32_t i = 0; i < n; i++) {
        ids[i] = (int32_t)binio_get_u32(&r);
        binio_get_bytes(&r, rest);
    }
    qsort(ids, n, sizeof(*ids), cmp_i32);
    bool bad = false;
    for (uint32_t i = 0; i < n && !bad; i++)
        bad = ids[i] != (int32_t)i;
    free(ids);
    if (bad)
        FAIL("snapshot %s section: the partitions are not 0..%u, each once", snapshot_section_names[tag], n - 1);
    return 0;
}

/* OFFSETS, then (when present) POSITIONS for partitions OFFSETS lists. */
static int load_positions(load_t *ld, positions_t *positions)
{
    if (check_partition_ids(ld, SEC_OFFSETS, 8) != 0)
        return -1;
    binio_reader_t *r = &ld->sec[SEC_OFFSETS];
    uint32_t n = binio_get_u32(r);
    for (uint32_t i = 0; i < n; i++) {
        int32_t partition = (int32_t)binio_get_u32(r);
        int64_t next = (int64_t)binio_get_u64(r);
        if (next < 0)
            FAIL("snapshot offsets section: partition %d at offset %lld", (int)partition, (long long)next);
        positions_set(positions, partition, &(position_t){next, 0, 0, false, 0});
    }
    if (ld->seen[SEC_TIMES]) {
        if (check_partition_ids(ld, SEC_TIMES, 9) != 0)
            return -1;
        r = &ld->sec[SEC_TIMES];
        if (binio_get_u32(r) != n)
            FAIL("snapshot times section: not the offsets section's %u partitions", n);
        for (uint32_t i = 0; i < n; i++) {
            int32_t partition = (int32_t)binio_get_u32(r);
            position_t pos = positions_get(positions, partition);
            uint8_t has = binio_get_u8(r);
            int64_t t = (int64_t)binio_get_u64(r);
            if (has > 1 || (has == 1 && (t < -(INT64_C(1) << 62) || t > (INT64_C(1) << 62))))
                FAIL("snapshot times section: bad event time of partition %d", (int)partition);
            pos.has_time = has == 1;
            pos.event_us = has == 1 ? t : 0;
            positions_set(positions, partition, &pos);
        }
    }
    if (!ld->seen[SEC_POSITIONS])
        return 0;
    if (check_partition_ids(ld, SEC_POSITIONS, 16) != 0)
        return -1;
    r = &ld->sec[SEC_POSITIONS];
    uint32_t m = binio_get_u32(r);
    if (m != n)
        FAIL("snapshot positions section: %u partitions, offsets section %u", m, n);
    for (uint32_t i = 0; i < m; i++) {
        int32_t partition = (int32_t)binio_get_u32(r);
        position_t pos = positions_get(positions, partition);
        pos.fingerprint = binio_get_u64(r);
        pos.skipped = binio_get_u64(r);
        if (pos.skipped > (uint64_t)pos.next_offset)
            FAIL("snapshot positions section: partition %d skipped %llu offsets of %lld", (int)partition,
                 (unsigned long long)pos.skipped, (long long)pos.next_offset);
        positions_set(positions, partition, &pos);
    }
    return 0;
}

/* One counted table of a section: u32 n, then n times (u64 count, string). */
static int load_counted(load_t *ld, int tag, counted_t *c)
{
    binio_reader_t *r = &ld->sec[tag];
    uint32_t n = binio_get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint64_t count = binio_get_u64(r);
        size_t len;
        const char *s = binio_get_str(r, &len);
        if (r->bad)
            break;
        if (count == 0 || counted_get(c, s, len) != 0)
            FAIL("snapshot %s section: zero count or repeated string at entry %u", snapshot_section_names[tag], i);
        counted_add(c, s, len, count);
    }
    return 0;
}

/*
 * The joined views' counts. A snapshot of a release before them has none: they can be rebuilt exactly only when
 * its recent events are every event applied (*from_recent: load_views counts them as it restores them);
 * otherwise the snapshot cannot give these views and the state is rebuilt from the topic.
 */
static int load_route_counts(load_t *ld, views_t *v, uint64_t events_applied, bool *from_recent)
{
    route_counts_t *rc = views_route_counts(v);
    if (!ld->seen[SEC_ROUTE_COUNTS]) {
        binio_reader_t peek = ld->sec[SEC_RECENT];
        uint64_t total = binio_get_u64(&peek), count = binio_get_u64(&peek);
        if (peek.bad || total != events_applied || count != events_applied)
            FAIL("snapshot has no route_counts section (a release before the joined views) and its recent events "
                 "are not all the %llu applied: the views are rebuilt from the topic",
                 (unsigned long long)events_applied);
        *from_recent = true;
        return 0;
    }
    if (load_counted(ld, SEC_ROUTE_COUNTS, rc->airlines) != 0 || load_counted(ld, SEC_ROUTE_COUNTS, rc->pairs) != 0 ||
        load_counted(ld, SEC_ROUTE_COUNTS, rc->planes) != 0 || section_done(ld, SEC_ROUTE_COUNTS) != 0)
        return -1;
    if (counted_total(rc->airlines) != events_applied || counted_total(rc->pairs) != events_applied ||
        counted_total(rc->planes) < events_applied)
        FAIL("snapshot route counts add up to %llu airline, %llu pair and %llu plane counts for %llu events applied",
             (unsigned long long)counted_total(rc->airlines), (unsigned long long)counted_total(rc->pairs),
             (unsigned long long)counted_total(rc->planes), (unsigned long long)events_applied);
    return 0;
}

/* Counts a restored recent row in the route counts (the upgrade path of load_route_counts). */
static void count_recent_row(route_counts_t *rc, const recent_row_t *row)
{
    route_event_t ev = {0};
    ev.airline = (str_slice_t){row->airline, row->airline_len};
    ev.source_airport = (str_slice_t){row->source_airport, row->source_airport_len};
    ev.destination_airport = (str_slice_t){row->destination_airport, row->destination_airport_len};
    ev.equipment = (str_slice_t){row->equipment, row->equipment_len};
    route_counts_add(rc, &ev);
}

static int load_views(load_t *ld, views_t *v)
{
    const views_config_t *cfg = views_config(v);
    binio_reader_t *r = &ld->sec[SEC_CONFIG];
    int64_t window_us = (int64_t)binio_get_u64(r), grace_us = (int64_t)binio_get_u64(r);
    binio_get_u64(r); /* retention: the current configuration's applies */
    binio_get_u64(r); /* recent capacity: idem */
    uint64_t events_applied = binio_get_u64(r);
    if (section_done(ld, SEC_CONFIG) != 0)
        return -1;
    int64_t slide_us = window_us; /* a snapshot from before hopping windows: tumbling */
    if (ld->seen[SEC_SLIDE]) {
        slide_us = (int64_t)binio_get_u64(&ld->sec[SEC_SLIDE]);
        if (section_done(ld, SEC_SLIDE) != 0)
            return -1;
    }
    if (window_us != cfg->window_us || slide_us != cfg->slide_us || grace_us != cfg->grace_us)
        FAIL("snapshot was taken with window %lld us, slide %lld us and grace %lld us, now %lld, %lld and %lld us",
             (long long)window_us, (long long)slide_us, (long long)grace_us, (long long)cfg->window_us,
             (long long)cfg->slide_us, (long long)cfg->grace_us);
    uint64_t undecodable = 0;
    if (ld->seen[SEC_COUNTERS]) {
        undecodable = binio_get_u64(&ld->sec[SEC_COUNTERS]);
        if (section_done(ld, SEC_COUNTERS) != 0)
            return -1;
    }
    views_set_counters(v, events_applied, undecodable);

    counted_t *ac = views_airports(v);
    if (load_counted(ld, SEC_AIRPORTS, ac) != 0 || section_done(ld, SEC_AIRPORTS) != 0)
        return -1;
    if (counted_total(ac) != events_applied)
        FAIL("snapshot airports add up to %llu, not the %llu events applied",
             (unsigned long long)counted_total(ac), (unsigned long long)events_applied);
    bool routes_from_recent = false;
    if (load_route_counts(ld, v, events_applied, &routes_from_recent) != 0)
        return -1;

    r = &ld->sec[SEC_WINDOWS];
    windows_t *w = views_windows(v);
    /* The watermark is stored plus the grace period: what releases before per-partition event time saved as the
     * highest event time (they derived the watermark from it), so each release reads the other's. */
    uint8_t has_wm = binio_get_u8(r);
    int64_t wm_plus_grace = (int64_t)binio_get_u64(r);
    uint64_t late = binio_get_u64(r);
    uint64_t rows = binio_get_u64(r);
    if (!r->bad &&
        (has_wm > 1 || windows_restore_clock(w, has_wm == 1, wm_plus_grace - cfg->grace_us, late) != 0))
        FAIL("snapshot windows section: bad clock");
    if (!r->bad && rows > r->left / 20)
        FAIL("snapshot windows section: %llu rows do not fit", (unsigned long long)rows);
    for (uint64_t i = 0; i < rows && !r->bad; i++) {
        int64_t start = (int64_t)binio_get_u64(r);
        uint64_t count = binio_get_u64(r);
        size_t len;
        const char *s = binio_get_str(r, &len);
        if (r->bad)
            break;
        if (windows_restore_row(w, start, s, len, count) != 0)
            FAIL("snapshot windows section: row %llu is misaligned, zero or repeated", (unsigned long long)i);
    }
    if (section_done(ld, SEC_WINDOWS) != 0)
        return -1;


    r = &ld->sec[SEC_RECENT];
    recent_t *recent = views_recent(v);
    uint64_t total = binio_get_u64(r), count = binio_get_u64(r);
    if (!r->bad && (count > total || count > r->left / 45))
        FAIL("snapshot recent section: %llu rows of %llu pushed do not fit", (unsigned long long)count,
             (unsigned long long)total);
    /* A smaller capacity now keeps the newest rows. */
    uint64_t skip = count > recent_capacity(recent) ? count - recent_capacity(recent) : 0;
    recent_set_total_pushed(recent, total - count + skip);
    for (uint64_t i = 0; i < count && !r->bad; i++) {
        recent_row_t row;
        row.datetime_us = (int64_t)binio_get_u64(r);
        row.airline_id = (int32_t)binio_get_u32(r);
        row.source_airport_id = (int32_t)binio_get_u32(r);
        row.destination_airport_id = (int32_t)binio_get_u32(r);
        row.stops = (int32_t)binio_get_u32(r);
        uint8_t codeshare = binio_get_u8(r);
        row.codeshare = codeshare == 1;
        row.id = binio_get_str(r, &row.id_len);
        row.airline = binio_get_str(r, &row.airline_len);
        row.source_airport = binio_get_str(r, &row.source_airport_len);
        row.destination_airport = binio_get_str(r, &row.destination_airport_len);
        row.equipment = binio_get_str(r, &row.equipment_len);
        if (r->bad)
            break;
        if (codeshare > 1)
            FAIL("snapshot recent section: bad codeshare in row %llu", (unsigned long long)i);
        if (routes_from_recent)
            count_recent_row(views_route_counts(v), &row);
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
    binio_reader_t *r = &ld->sec[SEC_EVICTED];
    uint64_t file_len = binio_get_u64(r);
    uint64_t len = binio_get_u64(r);
    const unsigned char *rows = r->bad || len > r->left ? NULL : binio_get_bytes(r, (size_t)len);
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
    uint64_t at = binio_get_u64(&ld->sec[SEC_META]);
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
    if (len < SNAPSHOT_HEADER_LEN + SNAPSHOT_TRAILER_LEN)
        FAIL("snapshot is truncated: %zu bytes", len);
    if (memcmp(data, SNAPSHOT_MAGIC, SNAPSHOT_MAGIC_LEN) != 0)
        FAIL("not a snapshot: bad magic");
    uint32_t version = binio_rd32(data + 8);
    if (version != SNAPSHOT_VERSION)
        FAIL("snapshot version %u, expected %u", version, SNAPSHOT_VERSION);
    uint64_t body = binio_rd64(data + 16);
    if (body != len - SNAPSHOT_HEADER_LEN - SNAPSHOT_TRAILER_LEN)
        FAIL("snapshot is truncated or padded: body of %llu bytes in a file of %zu", (unsigned long long)body, len);
    uint64_t crc = route_schema_crc64_avro(data, len - SNAPSHOT_TRAILER_LEN);
    if (crc != binio_rd64(data + len - SNAPSHOT_TRAILER_LEN))
        FAIL("snapshot checksum mismatch");

    binio_reader_t all = binio_reader(data + SNAPSHOT_HEADER_LEN, (size_t)body);
    while (all.left > 0) {
        uint32_t tag = binio_get_u32(&all);
        binio_get_u32(&all);
        uint64_t slen = binio_get_u64(&all);
        const unsigned char *p = all.bad || slen > all.left ? NULL : binio_get_bytes(&all, (size_t)slen);
        if (p == NULL)
            FAIL("snapshot section header or length out of bounds");
        if (tag == 0 || tag >= SEC_COUNT)
            continue; /* a later version's section */
        if (ld->seen[tag])
            FAIL("snapshot has two %s sections", snapshot_section_names[tag]);
        ld->seen[tag] = true;
        ld->sec[tag] = binio_reader(p, (size_t)slen);
    }
    for (int tag = 1; tag < SEC_REQUIRED_END; tag++)
        if (!ld->seen[tag])
            FAIL("snapshot has no %s section", snapshot_section_names[tag]);

    binio_reader_t *t = &ld->sec[SEC_TOPIC];
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
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > SNAPSHOT_MAX_FILE) {
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
