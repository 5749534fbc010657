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

/* Random events, some out of order (some late), some with long strings; more than the ring holds. */
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
        ASSERT_EQ(views_apply(v, &ev), 0);
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
    buf_printf(out, "applied=%llu late=%llu windows=%zu open=%zu rows=%zu wm=%d:%lld airports=%zu recent=%llu\n",
               (unsigned long long)st->events_applied, (unsigned long long)st->late_events, st->windows_held,
               st->windows_open, st->window_rows, st->has_watermark, (long long)st->watermark_us, st->source_airports,
               (unsigned long long)st->recent_events);
    airport_counts_foreach(views_airports(v), dump_airport, out);
    windows_foreach(views_windows(v), dump_window, out);
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

static void test_round_trip(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = random_views(&cfg, 20000);
    const views_stats_t *st = views_stats(v);
    ASSERT_GT(st->late_events, 0);
    ASSERT_GT(st->windows_closed, 0);
    ASSERT_EQ(st->recent_events, 5000);

    int32_t parts[3] = {0, 2, 1};
    int64_t offs[3] = {100, 0, 123456789012LL};
    buf_t snap = BUF_INIT;
    make_tmpdir();
    char err[512];
    double t0 = now_s();
    snapshot_serialize(v, parts, offs, 3, "routes_data", NULL, &snap);
    double t1 = now_s();
    ASSERT_EQ(snapshot_write_file(tmpdir, &snap, err, sizeof(err)), 0);
    double t2 = now_s();
    printf("snapshot of %zu bytes: serialize %.2f ms, seal+write+fsync %.2f ms\n", snap.len, (t1 - t0) * 1e3,
           (t2 - t1) * 1e3);

    views_t *back = NULL;
    int32_t *bp = NULL;
    int64_t *bo = NULL;
    size_t n = 0;
    char topic[64];
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &back, &bp, &bo, &n, topic, sizeof(topic), NULL, err, sizeof(err)), 0);
    ASSERT_STR_EQ(topic, "routes_data");
    ASSERT_EQ(n, 3);
    for (size_t i = 0; i < 3; i++) {
        ASSERT_EQ(bp[i], parts[i]);
        ASSERT_EQ(bo[i], offs[i]);
    }
    assert_views_equal(v, back);

    /* Both go on identically: same late decisions, same evictions. */
    route_event_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.source_airport = (str_slice_t){"X", 1};
    ev.equipment = (str_slice_t){"E1 0", 4};
    for (int i = 0; i < 100; i++) {
        route_event_stamp(&ev, views_stats(v)->watermark_us + ((int64_t)i - 50) * S / 4);
        views_apply(v, &ev);
        views_apply(back, &ev);
    }
    assert_views_equal(v, back);

    /* Serializing the restored state gives the same bytes. */
    buf_t snap2 = BUF_INIT;
    free(bp);
    free(bo);
    snapshot_serialize(v, parts, offs, 3, "routes_data", NULL, &snap);
    snapshot_serialize(back, parts, offs, 3, "routes_data", NULL, &snap2);
    ASSERT_EQ(snap.len, snap2.len);
    ASSERT(memcmp(snap.data, snap2.data, snap.len) == 0);
    buf_free(&snap2);
    buf_free(&snap);
    views_free(back);
    views_free(v);
    remove_tmpdir();
}

static void test_missing(void)
{
    views_config_t cfg;
    small_config(&cfg);
    make_tmpdir();
    views_t *v = (views_t *)&cfg; /* must be cleared */
    int32_t *p = (int32_t *)&cfg;
    int64_t *o = (int64_t *)&cfg;
    size_t n = 7;
    char topic[64] = "x", err[256] = "";
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &v, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), 1);
    ASSERT(v == NULL && p == NULL && o == NULL && n == 0 && topic[0] == '\0');
    ASSERT_EQ(snapshot_load("/nonexistent/dir", &cfg, &v, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), 1);
    remove_tmpdir();
}

static int load_bytes(const void *data, size_t len, const views_config_t *cfg, char *err, size_t errsize)
{
    views_t *v = NULL;
    int32_t *p = NULL;
    int64_t *o = NULL;
    size_t n = 0;
    char topic[64];
    int rc = snapshot_load_buffer(data, len, cfg, &v, &p, &o, &n, topic, sizeof(topic), NULL, err, errsize);
    if (rc != 0) {
        ASSERT(v == NULL && p == NULL && o == NULL && n == 0 && topic[0] == '\0');
        ASSERT(err[0] != '\0');
    }
    views_free(v);
    free(p);
    free(o);
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
    int32_t parts[2] = {0, 1};
    int64_t offs[2] = {1500, 1500};
    buf_t snap = BUF_INIT;
    char err[512];
    snapshot_serialize(v, parts, offs, 2, "routes_data", NULL, &snap);
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
    views_t *out = NULL;
    int32_t *p = NULL;
    int64_t *o = NULL;
    size_t n = 0;
    char topic[64];
    write_raw("", 0);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), -1);
    ASSERT(strstr(err, "truncated") != NULL);
    write_raw(snap.data, snap.len - 1);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), -1);
    write_raw(copy, snap.len);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), -1);
    ASSERT(strstr(err, "magic") != NULL);
    memcpy(copy, snap.data, snap.len);
    copy[snap.len / 2] ^= 1;
    write_raw(copy, snap.len);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), -1);
    ASSERT(strstr(err, "checksum") != NULL);
    ASSERT(out == NULL && p == NULL && o == NULL && n == 0);
    /* A topic name longer than the caller's room. */
    write_raw(snap.data, snap.len);
    ASSERT_EQ(snapshot_load(tmpdir, &cfg, &out, &p, &o, &n, topic, 5, NULL, err, sizeof(err)), -1);
    /* Another window size: rebuilt, not misread. */
    views_config_t other = cfg;
    other.window_us = 30 * S;
    ASSERT_EQ(snapshot_load(tmpdir, &other, &out, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), -1);
    ASSERT(strstr(err, "window") != NULL);
    /* A smaller recent capacity keeps the newest rows; retention may change. */
    other = cfg;
    other.recent_capacity = 10;
    other.retention_us = 0;
    ASSERT_EQ(snapshot_load(tmpdir, &other, &out, &p, &o, &n, topic, sizeof(topic), NULL, err, sizeof(err)), 0);
    ASSERT_EQ(recent_count(views_recent(out)), 10);
    ASSERT_EQ(recent_total_pushed(views_recent(out)), 3000);
    recent_row_t a, b;
    ASSERT(recent_get_seq(views_recent(out), 2999, &a) && recent_get_seq(views_recent(v), 2999, &b));
    assert_rows_equal(&a, &b);
    ASSERT(!recent_get_seq(views_recent(out), 2989, &a));
    views_free(out);
    free(p);
    free(o);
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
    snapshot_serialize(v, NULL, NULL, 0, "t", NULL, &snap);
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
    char err[256], topic[16];
    snapshot_serialize(v, NULL, NULL, 0, "", NULL, &snap);
    snapshot_seal(&snap);
    views_t *back = NULL;
    int32_t *p = NULL;
    int64_t *o = NULL;
    size_t n = 9;
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &back, &p, &o, &n, topic, sizeof(topic), NULL, err,
                                   sizeof(err)),
              0);
    ASSERT(p == NULL && o == NULL && n == 0);
    ASSERT_STR_EQ(topic, "");
    assert_views_equal(v, back);
    views_free(back);
    views_free(v);
    buf_free(&snap);
}

/* The equipment_windows.csv record: round trip, absent in an older snapshot, and a bad length rejected. */
static void test_evicted_record(void)
{
    views_config_t cfg;
    small_config(&cfg);
    views_t *v = random_views(&cfg, 300);
    char err[256], topic[16];
    views_t *back = NULL;
    int32_t *p = NULL;
    int64_t *o = NULL;
    size_t n = 0;
    snapshot_evicted_t in = {12345, BUF_INIT}, out = {7, BUF_INIT};
    buf_append_str(&in.pending, "2021-05-04 09:58:00,2021-05-04 09:58:30,\"A,B\",3\n");
    buf_t snap = BUF_INIT;
    snapshot_serialize(v, NULL, NULL, 0, "t", &in, &snap);
    snapshot_seal(&snap);
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &back, &p, &o, &n, topic, sizeof(topic), &out, err,
                                   sizeof(err)),
              0);
    ASSERT_EQ(out.file_len, 12345);
    ASSERT_EQ(out.pending.len, in.pending.len);
    ASSERT(memcmp(out.pending.data, in.pending.data, in.pending.len) == 0);
    views_free(back);

    /* Without the record (NULL, as a snapshot written before it existed): file_len -1, nothing pending. */
    snapshot_serialize(v, NULL, NULL, 0, "t", NULL, &snap);
    snapshot_seal(&snap);
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &back, &p, &o, &n, topic, sizeof(topic), &out, err,
                                   sizeof(err)),
              0);
    ASSERT_EQ(out.file_len, -1);
    ASSERT_EQ(out.pending.len, 0);
    views_free(back);

    /* A pending length past the section: rejected, outputs cleared. */
    snapshot_serialize(v, NULL, NULL, 0, "t", &in, &snap);
    size_t len_at = snap.len - 8 /* CRC */ - in.pending.len - 8;
    snap.data[len_at] = (char)0xff;
    snapshot_seal(&snap);
    out.file_len = 99;
    ASSERT_EQ(snapshot_load_buffer(snap.data, snap.len, &cfg, &back, &p, &o, &n, topic, sizeof(topic), &out, err,
                                   sizeof(err)),
              -1);
    ASSERT(strstr(err, "evicted") != NULL);
    ASSERT(back == NULL);
    ASSERT_EQ(out.file_len, -1);
    buf_free(&snap);
    buf_free(&in.pending);
    buf_free(&out.pending);
    views_free(v);
}

int main(void)
{
    RUN_TEST(test_round_trip);
    RUN_TEST(test_evicted_record);
    RUN_TEST(test_missing);
    RUN_TEST(test_corrupt);
    RUN_TEST(test_consistent_crc_bad_content);
    RUN_TEST(test_empty_views);
    return 0;
}
