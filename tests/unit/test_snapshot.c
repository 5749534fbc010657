/* snapshot: round trip of a large random state, every kind of corruption rejected whole, missing file. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "query-service/snapshot.h"

#define S INT64_C(1000000)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(uint32_t n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(rng >> 33) % n;
}

static char tmpdir[256];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_snapshot.XXXXXX");
    ASSERT(mkdtemp(tmpdir) != NULL);
}

static void remove_tmpdir(void)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, SNAPSHOT_FILE_NAME);
    unlink(path);
    rmdir(tmpdir);
}

static void small_config(views_config_t *cfg)
{
    views_config_default(cfg);
    cfg->window_us = 10 * S;
    cfg->grace_us = 5 * S;
    cfg->retention_us = 60 * S;
    cfg->recent_capacity = 5000;
}

/* Messages of a 3-partition topic, in the order a consumer would apply them. */
static record_id_t next_record(views_t *v)
{
    int32_t p = (int32_t)rnd(3);
    int64_t offset = positions_get(views_positions(v), p).next_offset;
    return (record_id_t){p, offset, positions_fingerprint(offset, &p, sizeof(p), &rng, sizeof(rng))};
}

/* Random events, some out of order (some late), some with long strings; more than the ring holds; a few
 * undecodable messages and offsets deleted before they were read. */
static views_t *random_views(const views_config_t *cfg, int events)
{
    views_t *v = views_new(cfg);
    route_event_t ev;
    char src[16], eq[400], airline[8];
    int64_t t = INT64_C(1620122312) * S;
    for (int i = 0; i < events; i++) {
        memset(&ev, 0, sizeof(ev));
        t += rnd(2000);
        int64_t when = t - (rnd(10) == 0 ? (int64_t)rnd(20) * S : 0);
        route_event_stamp(&ev, when);
        snprintf(src, sizeof(src), "S%u", rnd(300));
        if (rnd(500) == 0) {
            memset(eq, 'q', 300);
            eq[300] = '\0';
        } else {
            snprintf(eq, sizeof(eq), "E%u %u", rnd(40), rnd(3));
        }
        snprintf(airline, sizeof(airline), "A%u", rnd(50));
        ev.airline = (str_slice_t){airline, strlen(airline)};
        ev.airline_id = (int64_t)rnd(20000) - 5;
        ev.source_airport = (str_slice_t){src, strlen(src)};
        ev.source_airport_id = rnd(9000);
        ev.destination_airport = (str_slice_t){"KZN", rnd(4)};
        ev.destination_airport_id = rnd(9000);
        ev.codeshare = rnd(2);
        ev.stops = rnd(3);
        ev.equipment = (str_slice_t){eq, strlen(eq)};
        record_id_t rec = next_record(v);
        if (rnd(100) == 0) {
            views_skip(v, &rec);
        } else if (rnd(1000) == 0) {
            ASSERT_GT(views_skip_deleted(v, rec.partition, rec.offset + 1 + rnd(10)), 0);
        } else {
            ASSERT_EQ(views_apply(v, &rec, &ev), 0);
        }
    }
    return v;
}

static void assert_rows_equal(const recent_row_t *a, const recent_row_t *b)
{
    ASSERT_EQ(a->datetime_us, b->datetime_us);
    ASSERT(a->id_len == b->id_len && memcmp(a->id, b->id, a->id_len) == 0);
    ASSERT(a->airline_len == b->airline_len && memcmp(a->airline, b->airline, a->airline_len) == 0);
    ASSERT(a->source_airport_len == b->source_airport_len &&
           memcmp(a->source_airport, b->source_airport, a->source_airport_len) == 0);
    ASSERT(a->destination_airport_len == b->destination_airport_len &&
           memcmp(a->destination_airport, b->destination_airport, a->destination_airport_len) == 0);
    ASSERT(a->equipment_len == b->equipment_len && memcmp(a->equipment, b->equipment, a->equipment_len) == 0);
    ASSERT_EQ(a->airline_id, b->airline_id);
    ASSERT_EQ(a->source_airport_id, b->source_airport_id);
    ASSERT_EQ(a->destination_airport_id, b->destination_airport_id);
    ASSERT_EQ(a->stops, b->stops);
    ASSERT_EQ(a->codeshare, b->codeshare);
}

static void dump_airport(void *data, const char *airport, size_t len, uint64_t count)
{
    buf_printf(data, "%.*s=%llu;", (int)len, airport, (unsigned long long)count);
}

static void dump_window(void *data, int64_t start_us, int64_t end_us, const char *eq, size_t len, uint64_t count)
{
    buf_printf(data, "%lld-%lld:%.*s=%llu;", (long long)start_us, (long long)end_us, (int)len, eq,
               (unsigned long long)count);
}

/* Everything observable, as text: equal text = equal views (orders included). */
static void describe(views_t *v, buf_t *out)
{
    buf_reset(out);
    const views_stats_t *st = views_stats(v);
    buf_printf(out, "applied=%llu late=%llu windows=%zu open=%zu rows=%zu wm=%d:%lld airports=%zu recent=%llu "
               "undecodable=%llu skipped=%llu\n",
               (unsigned long long)st->events_applied, (unsigned long long)st->late_events, st->windows_held,
               st->windows_open, st->window_rows, st->has_watermark, (long long)st->watermark_us, st->source_airports,
               (unsigned long long)st->recent_events, (unsigned long long)st->undecodable,
               (unsigned long long)st->offsets_skipped);
    const positions_t *pos = views_positions(v);
    for (size_t i = 0; i < positions_count(pos); i++) {
        position_t p = positions_get(pos, (int32_t)i);
        buf_printf(out, "p%zu=%lld/%016llx/%llu/%d:%lld;", i, (long long)p.next_offset,
                   (unsigned long long)p.fingerprint, (unsigned long long)p.skipped, p.has_time,
                   (long long)p.event_us);
    }
    for (size_t i = 0; i < counted_size(views_airports(v)); i++) {
        counted_entry_t e = counted_at(views_airports(v), i);
        dump_airport(out, e.key, e.len, e.count);
    }
    windows_foreach(views_windows(v), dump_window, out);
    const route_counts_t *rc = views_route_counts(v);
    const counted_t *tables[] = {rc->airlines, rc->pairs, rc->planes};
    for (size_t t = 0; t < 3; t++) {
        buf_printf(out, "\nroute_counts%zu:", t);
        for (size_t i = 0; i < counted_size(tables[t]); i++) {
            counted_entry_t e = counted_at(tables[t], i);
            dump_airport(out, e.key, e.len, e.count);
        }
    }
    buf_printf(out, "pushed=%llu\n", (unsigned long long)recent_total_pushed(views_recent(v)));
}

static void assert_views_equal(views_t *a, views_t *b)
{
    buf_t da = BUF_INIT, db = BUF_INIT;
    describe(a, &da);
    describe(b, &db);
    ASSERT_STR_EQ(da.data, db.data);
    buf_free(&da);
    buf_free(&db);
    recent_t *ra = views_recent(a), *rb = views_recent(b);
    ASSERT_EQ(recent_count(ra), recent_count(rb));
    for (uint64_t i = 0; i < recent_count(ra); i++) {
        recent_row_t x, y;
        ASSERT(recent_get(ra, i, &x) && recent_get(rb, i, &y));
        assert_rows_equal(&x, &y);
    }
    window_count_t ta[50], tb[50];
    size_t na = windows_top(views_windows(a), 50, ta), nb = windows_top(views_windows(b), 50, tb);
    ASSERT_EQ(na, nb);
    for (size_t i = 0; i < na; i++) {
        ASSERT_EQ(ta[i].start_us, tb[i].start_us);
        ASSERT_EQ(ta[i].count, tb[i].count);
        ASSERT(ta[i].len == tb[i].len && memcmp(ta[i].equipment, tb[i].equipment, ta[i].len) == 0);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Serializes v as a state of topic, with no record of equipment_windows.csv. */
static void serialize(views_t *v, const char *topic, buf_t *out)
{
    snapshot_state_t s = {v, (char *)topic, {-1, BUF_INIT}, 0};
    snapshot_serialize(&s, out);
}

static void test_round_trip(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = random_views(&cfg, 20000);
    const views_stats_t *st = views_stats(v);
    ASSERT_GT(st->late_events, 0);
    ASSERT_GT(st->windows_closed, 0);
    ASSERT_EQ(st->recent_events, 5000);
    ASSERT_GT(st->undecodable, 0);
    ASSERT_GT(st->offsets_skipped, 0);
    ASSERT_EQ(positions_count(views_positions(v)), 3);

    buf_t snap = BUF_INIT;
    make_tmpdir();
    char err[512];
    double t0 = now_s();
    snapshot_state_t in = {v, "routes_data", {-1, BUF_INIT}, INT64_C(1764612345) * S};
    snapshot_serialize(&in, &snap);
    double t1 = now_s();
    ASSERT_EQ(snapshot_write_file(tmpdir, &snap, err, sizeof(err)), 0);
    double t2 = now_s();
    printf("snapshot of %zu bytes: serialize %.2f ms, seal+write+fsync %.2f ms\n", snap.len, (t1 - t0) * 1e3,
           (t2 - t1) * 1e3);

    snapshot_state_t out;
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, err, sizeof(err)), 0);
    ASSERT_STR_EQ(out.topic, "routes_data");
    ASSERT_EQ(out.current_at_us, in.current_at_us);
    ASSERT_EQ(out.evicted.file_len, -1);
    views_t *back = out.views;
    assert_views_equal(v, back); /* positions included: offsets, fingerprints, offsets skipped */

    /* Both go on identically: same late decisions, same evictions, same positions. */
    route_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.source_airport = (str_slice_t){"X", 1};
    ev.equipment = (str_slice_t){"E1 0", 4};
    for (int i = 0; i < 100; i++) {
        route_event_stamp(&ev, views_stats(v)->watermark_us + ((int64_t)i - 50) * S / 4);
        record_id_t rec = next_record(v);
        views_apply(v, &rec, &ev);
        views_apply(back, &rec, &ev);
    }
    assert_views_equal(v, back);

    /* Serializing the restored state gives the same bytes. */
    buf_t snap2 = BUF_INIT;
    serialize(v, "routes_data", &snap);
    serialize(back, "routes_data", &snap2);
    ASSERT_EQ(snap.len, snap2.len);
    ASSERT(memcmp(snap.data, snap2.data, snap.len) == 0);
    buf_free(&snap2);
    buf_free(&snap);
    snapshot_state_clear(&out);
    ASSERT(out.views == NULL && out.topic == NULL);
    views_free(v);
    remove_tmpdir();
}

static void test_missing(void)
{
    views_config_t cfg;
    small_config(&cfg);
    make_tmpdir();
    snapshot_state_t out;
    memset(&out, 0x5a, sizeof(out)); /* must be cleared */
    char err[256] = "";
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, err, sizeof(err)), 1);
    ASSERT(out.views == NULL && out.topic == NULL && out.evicted.file_len == -1 && out.evicted.pending.len == 0);
    ASSERT_EQ(snapshot_load("/nonexistent/dir", &cfg, &out, err, sizeof(err)), 1);
    remove_tmpdir();
}

static int load_bytes(const void *data, size_t len, const views_config_t *cfg, char *err, size_t errsize)
{
    snapshot_state_t out;
    int rc = snapshot_load_buffer(data, len, cfg, &out, err, errsize);
    if (rc != 0) {
        ASSERT(out.views == NULL && out.topic == NULL && out.evicted.pending.data == NULL);
        ASSERT(err[0] != '\0');
    }
    snapshot_state_clear(&out);
    return rc;
}

static void write_raw(const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, SNAPSHOT_FILE_NAME);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT(fd >= 0);
    ASSERT_EQ(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void test_corrupt(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = random_views(&cfg, 3000);
    buf_t snap = BUF_INIT;
    char err[512];
    serialize(v, "routes_data", &snap);
    snapshot_seal(&snap);
    ASSERT_EQ(load_bytes(snap.data, snap.len, &cfg, err, sizeof(err)), 0);

    /* Every single flipped byte (sampled) and every truncation (sampled) is caught. */
    char *copy = malloc(snap.len);
    for (size_t i = 0; i < snap.len; i += 1 + i / 50) {
        memcpy(copy, snap.data, snap.len);
        copy[i] ^= 0x5a;
        err[0] = '\0';
        ASSERT_EQ(load_bytes(copy, snap.len, &cfg, err, sizeof(err)), -1);
    }
    for (size_t len = 0; len < snap.len; len += 1 + len / 20)
        ASSERT_EQ(load_bytes(snap.data, len, &cfg, err, sizeof(err)), -1);
    memcpy(copy, snap.data, snap.len);
    memcpy(copy, "FRSNAP02", 8);
    ASSERT_EQ(load_bytes(copy, snap.len, &cfg, err, sizeof(err)), -1);
    ASSERT(strstr(err, "magic") != NULL);

    /* Through the file: reasons name the file and say what is wrong. */
    make_tmpdir();
    snapshot_state_t out;
    write_raw("", 0);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, err, sizeof(err)), -1);
    ASSERT(strstr(err, "truncated") != NULL);
    write_raw(snap.data, snap.len - 1);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, err, sizeof(err)), -1);
    write_raw(copy, snap.len);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, err, sizeof(err)), -1);
    ASSERT(strstr(err, "magic") != NULL);
    memcpy(copy, snap.data, snap.len);
    copy[snap.len / 2] ^= 1;
    write_raw(copy, snap.len);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, err, sizeof(err)), -1);
    ASSERT(strstr(err, "checksum") != NULL);
    ASSERT(out.views == NULL && out.topic == NULL);
    /* Another window size: rebuilt, not misread. */
    write_raw(snap.data, snap.len);
    views_config_t other = cfg;
    other.window_us = 30 * S;
    ASSERT_EQ(snapshot_load(tmpdir, &other, &out, err, sizeof(err)), -1);
    ASSERT(strstr(err, "window") != NULL);
    /* A smaller recent capacity keeps the newest rows; retention may change. */
    other = cfg;
    other.recent_capacity = 10;
    other.retention_us = 0;
    ASSERT_EQ(snapshot_load(tmpdir, &other, &out, err, sizeof(err)), 0);
    ASSERT_EQ(recent_count(views_recent(out.views)), 10);
    uint64_t pushed = recent_total_pushed(views_recent(v));
    ASSERT_EQ(recent_total_pushed(views_recent(out.views)), pushed);
    recent_row_t a, b;
    ASSERT(recent_get_seq(views_recent(out.views), pushed - 1, &a) && recent_get_seq(views_recent(v), pushed - 1, &b));
    assert_rows_equal(&a, &b);
    ASSERT(!recent_get_seq(views_recent(out.views), pushed - 11, &a));
    snapshot_state_clear(&out);
    remove_tmpdir();
    free(copy);
    buf_free(&snap);
    views_free(v);
}

/* A valid CRC over inconsistent contents is still rejected (what a fuzzer that fixes the CRC finds). */
static void test_consistent_crc_bad_content(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = random_views(&cfg, 500);
    buf_t snap = BUF_INIT;
    char err[512];
    serialize(v, "t", &snap);
    int rejected = 0, accepted = 0;
    for (size_t i = 24; i < snap.len - 8; i += 1 + i / 64) {
        buf_t copy = BUF_INIT;
        buf_append(&copy, snap.data, snap.len);
        copy.data[i] ^= (char)0x81;
        snapshot_seal(&copy);
        int rc = load_bytes(copy.data, copy.len, &cfg, err, sizeof(err));
        rc == 0 ? accepted++ : rejected++;
        buf_free(&copy);
    }
    /* Flips inside string bytes or ids are legitimately accepted; structure flips are not. */
    printf("re-sealed flips: %d rejected, %d accepted (string and number contents)\n", rejected, accepted);
    ASSERT_GT(rejected, 0);
    buf_free(&snap);
    views_free(v);
}

static void test_empty_views(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = views_new(&cfg);
    buf_t snap = BUF_INIT;
    char err[256];
    serialize(v, "", &snap);
    snapshot_seal(&snap);
    snapshot_state_t out;
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &out, err, sizeof(err)), 0);
    ASSERT_EQ(positions_count(views_positions(out.views)), 0);
    ASSERT_STR_EQ(out.topic, "");
    assert_views_equal(v, out.views);
    snapshot_state_clear(&out);
    views_free(v);
    buf_free(&snap);
}

/* The equipment_windows.csv record: round trip, absent in an older snapshot, and a bad length rejected. */
static void test_evicted_record(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = random_views(&cfg, 300);
    char err[256];
    snapshot_state_t in = {v, "t", {12345, BUF_INIT}, 0}, out;
    buf_append_str(&in.evicted.pending, "2021-05-04 09:58:00,2021-05-04 09:58:30,\"A,B\",3\n");
    buf_t snap = BUF_INIT;
    snapshot_serialize(&in, &snap);
    snapshot_seal(&snap);
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &out, err, sizeof(err)), 0);
    ASSERT_EQ(out.evicted.file_len, 12345);
    ASSERT_EQ(out.evicted.pending.len, in.evicted.pending.len);
    ASSERT(memcmp(out.evicted.pending.data, in.evicted.pending.data, in.evicted.pending.len) == 0);
    snapshot_state_clear(&out);

    /* Without the record (file_len -1, as a snapshot written before it existed): -1, nothing pending. */
    serialize(v, "t", &snap);
    snapshot_seal(&snap);
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &out, err, sizeof(err)), 0);
    ASSERT_EQ(out.evicted.file_len, -1);
    ASSERT_EQ(out.evicted.pending.len, 0);
    snapshot_state_clear(&out);

    /* A pending length past the section: rejected, outputs cleared. */
    snapshot_serialize(&in, &snap);
    size_t len_at = snap.len - 8 /* CRC */ - in.evicted.pending.len - 8;
    snap.data[len_at] = (char)0xff;
    snapshot_seal(&snap);
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &out, err, sizeof(err)), -1);
    ASSERT(strstr(err, "evicted") != NULL);
    ASSERT(out.views == NULL);
    ASSERT_EQ(out.evicted.file_len, -1);
    buf_free(&snap);
    buf_free(&in.evicted.pending);
    views_free(v);
}

/* Finds section tag in a serialized snapshot: @returns its header's offset, or 0. */
static size_t find_section(const buf_t *snap, uint32_t tag, uint64_t *len)
{
    size_t at = 24;
    while (at + 16 <= snap->len - 8) {
        uint32_t t;
        memcpy(&t, snap->data + at, 4);
        memcpy(len, snap->data + at + 8, 8);
        if (t == tag)
            return at;
        at += 16 + (size_t)*len;
    }
    return 0;
}

/* Removes section tag and fixes the body length (the caller seals). */
static void drop_section(buf_t *snap, uint32_t tag)
{
    uint64_t len;
    size_t at = find_section(snap, tag, &len);
    ASSERT_GT(at, 0);
    size_t cut = 16 + (size_t)len;
    memmove(snap->data + at, snap->data + at + cut, snap->len - at - cut);
    snap->len -= cut;
    uint64_t body = snap->len - 24 - 8;
    memcpy(snap->data + 16, &body, 8);
}

/*
 * Views saved without their offsets (what a Kafka-less start-up of the release before wrote: the offsets came from
 * the consumer, which knew no partition yet) are refused, so the topic is read once into new views instead of
 * again on top of them. Partitions other than 0..n-1 are refused too.
 */
static void test_views_without_offsets(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = views_new(&cfg);
    route_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.source_airport = (str_slice_t){"ATL", 3};
    ev.equipment = (str_slice_t){"320", 3};
    route_event_stamp(&ev, INT64_C(1620122312) * S);
    for (int64_t i = 0; i < 10; i++)
        ASSERT_EQ(views_apply(v, &(record_id_t){(int32_t)(i % 2), i / 2, 1 + (uint64_t)i}, &ev), 0);
    buf_t snap = BUF_INIT;
    char err[512];
    serialize(v, "t", &snap);
    snapshot_seal(&snap);
    ASSERT_EQ(load_bytes(snap.data, snap.len, &cfg, err, sizeof(err)), 0);

    /* The same views with an empty offsets section (and no positions section, as that release wrote). */
    uint64_t len;
    size_t at = find_section(&snap, 2 /* OFFSETS */, &len);
    ASSERT_GT(at, 0);
    buf_t broken = BUF_INIT;
    buf_append(&broken, snap.data, at + 16);
    uint32_t zero = 0;
    buf_append(&broken, &zero, 4);
    buf_append(&broken, snap.data + at + 16 + len, snap.len - at - 16 - len);
    uint64_t four = 4;
    memcpy(broken.data + at + 8, &four, 8);
    uint64_t body = broken.len - 24 - 8;
    memcpy(broken.data + 16, &body, 8);
    drop_section(&broken, 8 /* POSITIONS */);
    drop_section(&broken, 11 /* TIMES */);
    snapshot_seal(&broken);
    ASSERT_EQ(load_bytes(broken.data, broken.len, &cfg, err, sizeof(err)), -1);
    ASSERT(strstr(err, "without their offsets") != NULL);
    printf("views without offsets: %s\n", err);

    /* Partitions 0 and 5 (not 0..1) in the offsets section: refused, not a table sized by a hostile id. */
    buf_reset(&broken);
    buf_append(&broken, snap.data, snap.len);
    at = find_section(&broken, 2, &len);
    uint32_t five = 5;
    memcpy(broken.data + at + 16 + 4 + 12, &five, 4);
    snapshot_seal(&broken);
    ASSERT_EQ(load_bytes(broken.data, broken.len, &cfg, err, sizeof(err)), -1);
    ASSERT(strstr(err, "partitions are not") != NULL);

    buf_free(&broken);
    buf_free(&snap);
    views_free(v);
}

/*
 * A snapshot of the release before (no positions, counters, meta, times or slide section) still restores: offsets
 * as saved, fingerprints unknown (the consumer then resumes unchecked), nothing skipped, no undecodable count, no
 * partition event times, tumbling windows.
 */
static void test_older_release(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = random_views(&cfg, 2000);
    buf_t snap = BUF_INIT;
    char err[512];
    serialize(v, "t", &snap);
    drop_section(&snap, 8);  /* POSITIONS */
    drop_section(&snap, 9);  /* COUNTERS */
    drop_section(&snap, 10); /* META */
    drop_section(&snap, 11); /* TIMES */
    drop_section(&snap, 12); /* SLIDE */
    snapshot_seal(&snap);
    snapshot_state_t out;
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &out, err, sizeof(err)), 0);
    const positions_t *a = views_positions(v), *b = views_positions(out.views);
    ASSERT_EQ(positions_count(a), positions_count(b));
    for (size_t i = 0; i < positions_count(a); i++) {
        ASSERT_EQ(positions_get(a, (int32_t)i).next_offset, positions_get(b, (int32_t)i).next_offset);
        ASSERT_EQ(positions_get(b, (int32_t)i).fingerprint, 0);
        ASSERT_EQ(positions_get(b, (int32_t)i).skipped, 0);
        ASSERT(!positions_get(b, (int32_t)i).has_time);
    }
    ASSERT_EQ(views_stats(out.views)->undecodable, 0);
    ASSERT_EQ(views_stats(out.views)->events_applied, views_stats(v)->events_applied);
    ASSERT_EQ(out.current_at_us, 0);
    snapshot_state_clear(&out);
    buf_free(&snap);
    views_free(v);
}

/*
 * A snapshot of a release before the joined views has no route counts: they are rebuilt from its recent events
 * when those are every event applied (the same counts as had they been saved), and the snapshot is refused (the
 * views are rebuilt from the topic) when some events have left the recent ring.
 */
static void test_without_route_counts(void)
{
    views_config_t cfg;
    small_config(&cfg);
    char err[512];
    snapshot_state_t out;
    views_t *v = random_views(&cfg, 3000); /* the ring holds 5,000: every event */
    buf_t snap = BUF_INIT;
    serialize(v, "t", &snap);
    drop_section(&snap, 13); /* ROUTE_COUNTS */
    snapshot_seal(&snap);
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &out, err, sizeof(err)), 0);
    assert_views_equal(v, out.views);
    snapshot_state_clear(&out);
    views_free(v);

    v = random_views(&cfg, 6000); /* 1,000 events have left the ring */
    serialize(v, "t", &snap);
    drop_section(&snap, 13);
    snapshot_seal(&snap);
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &out, err, sizeof(err)), -1);
    ASSERT(strstr(err, "no route_counts section") != NULL);
    ASSERT(out.views == NULL);
    buf_free(&snap);
    views_free(v);
}

/* A snapshot written by release 1ef21c0 (tests/unit/data/README.md) restores: an upgrade keeps the state. */
static void test_release_1ef21c0(void)
{
    views_config_t cfg;
    views_config_default(&cfg);
    FILE *f = fopen(TEST_DATA_DIR "/snapshot-1ef21c0.bin", "rb");
    ASSERT(f != NULL);
    static unsigned char data[1 << 16];
    size_t len = fread(data, 1, sizeof(data), f);
    fclose(f);
    ASSERT_GT(len, 0);
    snapshot_state_t out;
    char err[512];
    ASSERT_EQ(snapshot_load_buffer(data, len, &cfg, &out, err, sizeof(err)), 0);
    ASSERT_STR_EQ(out.topic, "golden-snapshot");
    const views_stats_t *st = views_stats(out.views);
    ASSERT_EQ(st->events_applied, 38);
    ASSERT_EQ(st->source_airports, 16);
    ASSERT_EQ(counted_get(views_airports(out.views), "KZN", 3), 7);
    ASSERT_EQ(counted_total(views_route_counts(out.views)->airlines), 38); /* rebuilt from its 38 recent events */
    ASSERT_EQ(counted_total(views_route_counts(out.views)->pairs), 38);
    const positions_t *pos = views_positions(out.views);
    ASSERT_EQ(positions_count(pos), 3);
    ASSERT_EQ(positions_get(pos, 0).next_offset, 31);
    ASSERT_EQ(positions_get(pos, 1).next_offset, 2);
    ASSERT_EQ(positions_get(pos, 2).next_offset, 5);
    ASSERT_EQ(positions_get(pos, 0).fingerprint, 0); /* none then: the consumer resumes unchecked */
    ASSERT(!positions_get(pos, 0).has_time);
    ASSERT_EQ(recent_count(views_recent(out.views)), 38);
    ASSERT(st->has_watermark); /* the release's highest event time - grace */
    ASSERT_EQ(out.evicted.file_len, 0);
    /* What it restored saves and restores again, the same. */
    buf_t snap = BUF_INIT;
    serialize(out.views, "golden-snapshot", &snap);
    snapshot_seal(&snap);
    snapshot_state_t again;
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &again, err, sizeof(err)), 0);
    assert_views_equal(out.views, again.views);
    snapshot_state_clear(&again);
    buf_free(&snap);
    snapshot_state_clear(&out);
}

int main(void)
{
    RUN_TEST(test_round_trip);
    RUN_TEST(test_evicted_record);
    RUN_TEST(test_missing);
    RUN_TEST(test_corrupt);
    RUN_TEST(test_consistent_crc_bad_content);
    RUN_TEST(test_empty_views);
    RUN_TEST(test_views_without_offsets);
    RUN_TEST(test_older_release);
    RUN_TEST(test_without_route_counts);
    RUN_TEST(test_release_1ef21c0);
    return 0;
}
