#include "views.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "timestamp.h"

struct views_s {
    views_config_t cfg;
    counted_t *airports;
    route_counts_t routes; /* what the joined views count beside the seed's views */
    windows_t *windows;
    recent_t *recent;
    positions_t *positions;
    bool *idle; /* index = partition; not part of the state (the wall clock decides it) */
    size_t n_idle;
    bool has_min;    /* every partition that is not idle has an event time: min_us is their minimum */
    int64_t min_us;
    uint64_t events_applied;
    uint64_t undecodable;
    uint64_t version;
    views_stats_t stats;
};

void views_config_default(views_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->window_us = WINDOWS_DEFAULT_SIZE_US;
    cfg->slide_us = WINDOWS_DEFAULT_SIZE_US;
    cfg->grace_us = WINDOWS_DEFAULT_SIZE_US;
    cfg->retention_us = WINDOWS_DEFAULT_RETENTION_US;
    cfg->recent_capacity = RECENT_DEFAULT_CAPACITY;
}

views_t *views_new(const views_config_t *cfg)
{
    views_t *v = xcalloc(1, sizeof(*v));
    v->cfg = *cfg;
    v->airports = counted_new(4096);
    route_counts_init(&v->routes);
    v->windows = windows_new(cfg->window_us, cfg->slide_us, cfg->retention_us, cfg->on_evicted, cfg->on_evicted_data);
    v->recent = recent_new(cfg->recent_capacity);
    v->positions = positions_new();
    /* Record the values in effect, so that snapshots compare like with like. */
    v->cfg.window_us = windows_size_us(v->windows);
    v->cfg.slide_us = windows_slide_us(v->windows);
    v->cfg.grace_us = cfg->grace_us < 0 ? v->cfg.window_us
                                        : cfg->grace_us > WINDOWS_MAX_SPAN_US ? WINDOWS_MAX_SPAN_US : cfg->grace_us;
    v->cfg.retention_us = windows_retention_us(v->windows);
    v->cfg.recent_capacity = recent_capacity(v->recent);
    return v;
}

void views_free(views_t *v)
{
    if (v == NULL)
        return;
    counted_free(v->airports);
    route_counts_free(&v->routes);
    windows_free(v->windows);
    recent_free(v->recent);
    positions_free(v->positions);
    free(v->idle);
    free(v);
}

bool views_partition_idle(const views_t *v, int32_t partition)
{
    return partition >= 0 && (size_t)partition < v->n_idle && v->idle[partition];
}

/*
 * The windows' watermark: the minimum of the event times of the partitions that are not idle, minus grace;
 * none while one of those has no event time yet, or while every partition is idle (views_advance_clock).
 */
static void update_watermark(views_t *v)
{
    size_t n = positions_count(v->positions);
    bool any = false;
    int64_t min = 0;
    v->has_min = false;
    for (size_t p = 0; p < n; p++) {
        if (views_partition_idle(v, (int32_t)p))
            continue;
        position_t pos = positions_get(v->positions, (int32_t)p);
        if (!pos.has_time)
            return;
        if (!any || pos.event_us < min)
            min = pos.event_us;
        any = true;
    }
    if (!any)
        return;
    v->has_min = true;
    v->min_us = min;
    if (windows_advance(v->windows, min - v->cfg.grace_us))
        v->version++;
}

int views_apply_at(views_t *v, const record_id_t *rec, const route_event_t *ev, int64_t datetime_us)
{
    position_t pos = positions_get(v->positions, rec->partition);
    counted_add(v->airports, ev->source_airport.ptr, ev->source_airport.len, 1);
    route_counts_add(&v->routes, ev);
    windows_add(v->windows, datetime_us, ev->equipment.ptr, ev->equipment.len,
                pos.has_time ? pos.event_us - v->cfg.grace_us : WINDOWS_NO_WATERMARK);
    recent_push(v->recent, ev, datetime_us);
    positions_advance(v->positions, rec);
    /*
     * Only a partition's event time moving on can move the minimum, and only if it was the minimum (or the
     * minimum is not known): most events skip the loop over the partitions.
     */
    if (positions_note_time(v->positions, rec->partition, datetime_us) && !views_partition_idle(v, rec->partition) &&
        (!v->has_min || !pos.has_time || pos.event_us <= v->min_us))
        update_watermark(v);
    v->events_applied++;
    v->version++;
    return 0;
}

int views_apply(views_t *v, const record_id_t *rec, const route_event_t *ev)
{
    int64_t us;
    if (timestamp_parse_event(ev->datetime.ptr, ev->datetime.len, &us) != 0)
        return -1;
    return views_apply_at(v, rec, ev, us);
}

void views_skip(views_t *v, const record_id_t *rec)
{
    positions_advance(v->positions, rec);
    v->undecodable++;
    v->version++;
}

void views_add_partitions(views_t *v, size_t count)
{
    if (count <= positions_count(v->positions))
        return;
    positions_ensure(v->positions, count);
    update_watermark(v);
    v->version++;
}

void views_set_idle(views_t *v, int32_t partition, bool idle)
{
    if (partition < 0 || views_partition_idle(v, partition) == idle)
        return;
    if ((size_t)partition >= v->n_idle) {
        size_t n = (size_t)partition + 1;
        v->idle = xrealloc(v->idle, n * sizeof(*v->idle));
        memset(v->idle + v->n_idle, 0, (n - v->n_idle) * sizeof(*v->idle));
        v->n_idle = n;
    }
    v->idle[partition] = idle;
    update_watermark(v);
}

void views_advance_clock(views_t *v, int64_t now_us)
{
    size_t n = positions_count(v->positions);
    for (size_t p = 0; p < n; p++)
        if (!views_partition_idle(v, (int32_t)p))
            return;
    if (n == 0)
        return;
    /* A state change worth a snapshot only when a window closes or goes: not every second of the clock. */
    windows_stats_t before, after;
    windows_stats(v->windows, &before);
    if (!windows_advance(v->windows, now_us - v->cfg.grace_us))
        return;
    windows_stats(v->windows, &after);
    if (after.closed != before.closed || after.windows != before.windows)
        v->version++;
}

uint64_t views_skip_deleted(views_t *v, int32_t partition, int64_t first_kept)
{
    uint64_t n = positions_skip_to(v->positions, partition, first_kept);
    if (n > 0)
        v->version++;
    return n;
}

uint64_t views_version(const views_t *v)
{
    return v->version;
}

const views_stats_t *views_stats(views_t *v)
{
    windows_stats_t ws;
    windows_stats(v->windows, &ws);
    views_stats_t *st = &v->stats;
    st->events_applied = v->events_applied;
    st->late_events = ws.late_events;
    st->undecodable = v->undecodable;
    st->offsets_skipped = positions_skipped_total(v->positions);
    st->windows_held = ws.windows;
    st->windows_open = ws.open;
    st->windows_closed = ws.closed;
    st->window_rows = ws.rows;
    st->has_watermark = ws.has_watermark;
    st->watermark_us = ws.watermark_us;
    st->source_airports = counted_size(v->airports);
    st->recent_events = recent_count(v->recent);
    st->state_bytes = sizeof(*v) + counted_bytes(v->airports) + route_counts_bytes(&v->routes) + ws.bytes +
                      recent_bytes(v->recent) + positions_count(v->positions) * sizeof(position_t);
    return st;
}

const views_config_t *views_config(const views_t *v)
{
    return &v->cfg;
}

counted_t *views_airports(views_t *v)
{
    return v->airports;
}

route_counts_t *views_route_counts(views_t *v)
{
    return &v->routes;
}

windows_t *views_windows(views_t *v)
{
    return v->windows;
}

recent_t *views_recent(views_t *v)
{
    return v->recent;
}

positions_t *views_positions(views_t *v)
{
    return v->positions;
}

void views_set_counters(views_t *v, uint64_t events_applied, uint64_t undecodable)
{
    v->events_applied = events_applied;
    v->undecodable = undecodable;
    v->version++;
}
