#include "views.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "timestamp.h"

struct views_s {
    views_config_t cfg;
    counted_t *airports;
    windows_t *windows;
    recent_t *recent;
    positions_t *positions;
    uint64_t events_applied;
    uint64_t undecodable;
    uint64_t version;
    views_stats_t stats;
};

void views_config_default(views_config_t *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->window_us = WINDOWS_DEFAULT_SIZE_US;
    cfg->grace_us = WINDOWS_DEFAULT_SIZE_US;
    cfg->retention_us = WINDOWS_DEFAULT_RETENTION_US;
    cfg->recent_capacity = RECENT_DEFAULT_CAPACITY;
}

views_t *views_new(const views_config_t *cfg)
{
    views_t *v = xcalloc(1, sizeof(*v));
    v->cfg = *cfg;
    v->airports = counted_new(4096);
    v->windows = windows_new(cfg->window_us, cfg->grace_us, cfg->retention_us, cfg->on_evicted, cfg->on_evicted_data);
    v->recent = recent_new(cfg->recent_capacity);
    v->positions = positions_new();
    /* Record the values in effect, so that snapshots compare like with like. */
    v->cfg.window_us = windows_size_us(v->windows);
    v->cfg.grace_us = windows_grace_us(v->windows);
    v->cfg.retention_us = windows_retention_us(v->windows);
    v->cfg.recent_capacity = recent_capacity(v->recent);
    return v;
}

void views_free(views_t *v)
{
    if (v == NULL)
        return;
    counted_free(v->airports);
    windows_free(v->windows);
    recent_free(v->recent);
    positions_free(v->positions);
    free(v);
}

int views_apply_at(views_t *v, const record_id_t *rec, const route_event_t *ev, int64_t datetime_us)
{
    counted_add(v->airports, ev->source_airport.ptr, ev->source_airport.len, 1);
    windows_add(v->windows, datetime_us, ev->equipment.ptr, ev->equipment.len);
    recent_push(v->recent, ev, datetime_us);
    positions_advance(v->positions, rec);
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
    st->state_bytes = sizeof(*v) + counted_bytes(v->airports) + ws.bytes + recent_bytes(v->recent) +
                      positions_count(v->positions) * sizeof(position_t);
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
