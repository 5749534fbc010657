/* views: applying events updates the three views and the counters; bad datetimes touch nothing; apply rate. */
#include "test.h"

#include <time.h>

#include "query-service/snapshot.h"
#include "query-service/views.h"
#include "timestamp.h"

#define S INT64_C(1000000)

static void make_event(route_event_t *ev, const char *src, const char *equipment, const char *datetime)
{
    memset(ev, 0, sizeof(*ev));
    snprintf(ev->id_buf, sizeof(ev->id_buf), "d89ac153-e415-472f-8fd8-785c8491395d");
    ev->id = (str_slice_t){ev->id_buf, strlen(ev->id_buf)};
    snprintf(ev->datetime_buf, sizeof(ev->datetime_buf), "%s", datetime);
    ev->datetime = (str_slice_t){ev->datetime_buf, strlen(ev->datetime_buf)};
    ev->airline = (str_slice_t){"2B", 2};
    ev->airline_id = 410;
    ev->source_airport = (str_slice_t){src, strlen(src)};
    ev->source_airport_id = 2965;
    ev->destination_airport = (str_slice_t){"KZN", 3};
    ev->destination_airport_id = 2990;
    ev->stops = 0;
    ev->equipment = (str_slice_t){equipment, strlen(equipment)};
}

/* The next message of partition 0, as a consumer would hand it over. */
static record_id_t next_rec(views_t *v)
{
    int64_t offset = positions_get(views_positions(v), 0).next_offset;
    return (record_id_t){0, offset, (uint64_t)offset * 7 + 1};
}

static int apply_next(views_t *v, const route_event_t *ev)
{
    record_id_t rec = next_rec(v);
    return views_apply(v, &rec, ev);
}

static void test_apply(void)
{
    views_config_t cfg;
    views_config_default(&cfg);
    views_t *v = views_new(&cfg);
    route_event_t ev;
    uint64_t version = views_version(v);
    make_event(&ev, "AER", "CR2", "2021-05-04 09:58:32.123456");
    ASSERT_EQ(apply_next(v, &ev), 0);
    ASSERT_NE(views_version(v), version);
    make_event(&ev, "AER", "738", "2021-05-04 09:58:59.999999");
    ASSERT_EQ(apply_next(v, &ev), 0);
    make_event(&ev, "ATL", "738", "2021-05-04 09:59:00");
    ASSERT_EQ(apply_next(v, &ev), 0);

    ASSERT_EQ(counted_get(views_airports(v), "AER", 3), 2);
    ASSERT_EQ(counted_get(views_airports(v), "ATL", 3), 1);
    int64_t start;
    ASSERT_EQ(timestamp_parse_event("2021-05-04 09:58:30", 19, &start), 0);
    ASSERT_EQ(windows_get(views_windows(v), start, "738", 3), 1);
    ASSERT_EQ(windows_get(views_windows(v), start, "CR2", 3), 1);
    ASSERT_EQ(windows_get(views_windows(v), start + 30 * S, "738", 3), 1);
    recent_row_t row;
    ASSERT_EQ(recent_count(views_recent(v)), 3);
    ASSERT(recent_get(views_recent(v), 0, &row));
    ASSERT_MEM_EQ(row.equipment, row.equipment_len, "CR2");
    ASSERT_EQ(row.datetime_us, start + 2 * S + 123456);
    ASSERT(recent_get(views_recent(v), 2, &row));
    ASSERT_MEM_EQ(row.source_airport, row.source_airport_len, "ATL");

    const views_stats_t *st = views_stats(v);
    ASSERT_EQ(st->events_applied, 3);
    ASSERT_EQ(st->late_events, 0);
    ASSERT_EQ(st->windows_held, 2);
    ASSERT_EQ(st->source_airports, 2);
    ASSERT_EQ(st->recent_events, 3);
    ASSERT_GT(st->state_bytes, 0);

    /* Two windows later with one window of grace, 09:58:30 has closed: a late event still counts for
     * its airport and the recent table, not for the windows. */
    make_event(&ev, "ATL", "320", "2021-05-04 09:59:30.000000");
    ASSERT_EQ(apply_next(v, &ev), 0);
    make_event(&ev, "ATL", "CR2", "2021-05-04 09:58:45.000000");
    ASSERT_EQ(apply_next(v, &ev), 0);
    st = views_stats(v);
    ASSERT_EQ(st->late_events, 1);
    ASSERT_EQ(st->events_applied, 5);
    ASSERT_EQ(windows_get(views_windows(v), start, "CR2", 3), 1);
    ASSERT_EQ(counted_get(views_airports(v), "ATL", 3), 3);
    ASSERT_EQ(recent_count(views_recent(v)), 5);
    views_free(v);
}

static void test_bad_datetime_touches_nothing(void)
{
    views_config_t cfg;
    views_config_default(&cfg);
    views_t *v = views_new(&cfg);
    route_event_t ev;
    const char *bad[] = {"", "2021-05-04", "2021-13-04 09:58:32.1", "2021-05-04T09:58:32.123456", "yesterday"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint64_t version = views_version(v);
        make_event(&ev, "AER", "CR2", bad[i]);
        ASSERT_EQ(apply_next(v, &ev), -1);
        ASSERT_EQ(views_version(v), version);
        ASSERT_EQ(positions_get(views_positions(v), 0).next_offset, 0);
    }
    const views_stats_t *st = views_stats(v);
    ASSERT_EQ(st->events_applied, 0);
    ASSERT_EQ(st->source_airports, 0);
    ASSERT_EQ(st->windows_held, 0);
    ASSERT_EQ(st->recent_events, 0);
    views_free(v);
}

/* Every message moves its partition's position with the views: applied, skipped as undecodable, or deleted. */
static void test_positions_move_with_the_views(void)
{
    views_config_t cfg;
    views_config_default(&cfg);
    views_t *v = views_new(&cfg);
    route_event_t ev;
    make_event(&ev, "AER", "CR2", "2021-05-04 09:58:32.123456");
    ASSERT_EQ(views_apply(v, &(record_id_t){2, 40, 0xabc}, &ev), 0);
    position_t p = positions_get(views_positions(v), 2);
    ASSERT_EQ(p.next_offset, 41);
    ASSERT_EQ(p.fingerprint, 0xabc);
    ASSERT_EQ(positions_count(views_positions(v)), 3);
    ASSERT_EQ(positions_get(views_positions(v), 1).next_offset, 0); /* unknown: from the beginning */

    uint64_t version = views_version(v);
    views_skip(v, &(record_id_t){2, 41, 0xdef});
    ASSERT_NE(views_version(v), version);
    ASSERT_EQ(positions_get(views_positions(v), 2).next_offset, 42);
    ASSERT_EQ(views_stats(v)->undecodable, 1);
    ASSERT_EQ(views_stats(v)->events_applied, 1);

    /* Offsets 42..49 deleted before they were read: skipped, counted, fingerprint unknown. */
    ASSERT_EQ(views_skip_deleted(v, 2, 50), 8);
    p = positions_get(views_positions(v), 2);
    ASSERT_EQ(p.next_offset, 50);
    ASSERT_EQ(p.fingerprint, 0);
    ASSERT_EQ(p.skipped, 8);
    ASSERT_EQ(views_stats(v)->offsets_skipped, 8);
    /* Deleted offsets the views had already read are nothing to skip. */
    version = views_version(v);
    ASSERT_EQ(views_skip_deleted(v, 2, 30), 0);
    ASSERT_EQ(views_version(v), version);
    ASSERT_EQ(positions_get(views_positions(v), 2).next_offset, 50);
    views_free(v);
}

static void test_config(void)
{
    views_config_t cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.grace_us = -1;
    cfg.retention_us = -1;
    views_t *v = views_new(&cfg);
    const views_config_t *eff = views_config(v);
    ASSERT_EQ(eff->window_us, 30 * S);
    ASSERT_EQ(eff->grace_us, 30 * S);
    ASSERT_EQ(eff->retention_us, 3600 * S);
    ASSERT_EQ(eff->recent_capacity, RECENT_DEFAULT_CAPACITY);
    views_free(v);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Applies routes.dat (or synthetic rows) at ~66,000 events/s of event time; prints the rate, asserts counts only. */
static void test_apply_rate(void)
{
    enum { MAX_EVENTS = 70000, TOTAL = 2000000 };
    static char lines[MAX_EVENTS][256];
    static route_event_t evs[MAX_EVENTS];
    int n = 0;
    char err[256];
    const char *path = getenv("ROUTES_FILE"); /* as run.sh sets it; else synthetic rows */
    FILE *f = path != NULL ? fopen(path, "r") : NULL;
    while (f != NULL && n < MAX_EVENTS && fgets(lines[n], sizeof(lines[n]), f) != NULL) {
        size_t len = strcspn(lines[n], "\n");
        if (route_event_parse(lines[n], len, &evs[n], err, sizeof(err)) == ROUTE_EVENT_OK)
            n++;
    }
    if (f != NULL)
        fclose(f);
    const char *source = "routes.dat";
    if (n == 0) {
        source = "synthetic rows";
        for (n = 0; n < 60000; n++) {
            snprintf(lines[n], sizeof(lines[n]), "2B,410,A%d,2965,KZN,2990,,0,E%d %d", n % 3000, n % 700, n % 7);
            ASSERT_EQ(route_event_parse(lines[n], strlen(lines[n]), &evs[n], err, sizeof(err)), ROUTE_EVENT_OK);
        }
    }
    int64_t base = INT64_C(1620122312) * S;
    for (int i = 0; i < n; i++)
        route_event_stamp(&evs[i], base + i * 15);

    views_config_t cfg;
    views_config_default(&cfg);
    views_t *v = views_new(&cfg);
    double t0 = now_s();
    for (int i = 0; i < n; i++)
        ASSERT_EQ(apply_next(v, &evs[i]), 0);
    double t1 = now_s();
    for (int k = n; k < TOTAL; k++)
        views_apply_at(v, &(record_id_t){0, k, 1}, &evs[k % n], base + (int64_t)k * 15);
    double t2 = now_s();
    const views_stats_t *st = views_stats(v);
    ASSERT_EQ(st->events_applied, TOTAL);
    ASSERT_EQ(st->late_events, 0);
    ASSERT_EQ(counted_total(views_airports(v)), TOTAL);
    printf("apply rate (%s, %d distinct): views_apply with datetime parse %.2f M events/s; views_apply_at %.2f M "
           "events/s over %d events; windows held %zu, state %.1f MB\n",
           source, n, n / (t1 - t0) / 1e6, (TOTAL - n) / (t2 - t1) / 1e6, TOTAL - n, st->windows_held,
           st->state_bytes / 1e6);
    buf_t snap = BUF_INIT;
    double t3 = now_s();
    snapshot_state_t state = {v, "routes_data", {-1, BUF_INIT}, 0};
    snapshot_serialize(&state, &snap);
    double t4 = now_s();
    snapshot_seal(&snap);
    double t5 = now_s();
    printf("snapshot of this state: %.1f MB, serialize (loop thread) %.1f ms, CRC seal (threadpool) %.1f ms\n",
           snap.len / 1e6, (t4 - t3) * 1e3, (t5 - t4) * 1e3);
    buf_free(&snap);
    views_free(v);
}

int main(void)
{
    RUN_TEST(test_apply);
    RUN_TEST(test_bad_datetime_touches_nothing);
    RUN_TEST(test_positions_move_with_the_views);
    RUN_TEST(test_config);
    RUN_TEST(test_apply_rate);
    return 0;
}
