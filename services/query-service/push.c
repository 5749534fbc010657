#include "push.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "http_push.h"
#include "http_server.h"
#include "recent.h"
#include "render.h"
#include "sse.h"

/* Events per message of /stream/events: a backlog goes out as several messages, never as one huge one. */
#define PUSH_EVENTS_PER_MESSAGE 1000
/* Distinct `n` rendered once per interval; a subscriber beyond them gets its own rendering. */
#define PUSH_RENDER_SLOTS 8
/* View states handed to subscribers per slice of the loop. */
#define PUSH_SENDS_PER_SLICE 1000
/* How long a client waits before it reconnects (the SSE retry field). */
#define PUSH_RETRY_MS 1000
/* "<20 digits>-<36 characters of a UUID>" and a NUL, with room to spare. */
#define PUSH_ID_MAX 96

typedef struct push_sub_s {
    struct push_sub_s *prev, *next;
    push_t *owner;
    http_push_t *http;
    push_stream_t stream;
    size_t n;
    uint64_t sent_epoch; /* views: the state last sent (epoch, change); none yet: sent_change UINT64_MAX */
    uint64_t sent_change;
    uint64_t next_seq; /* events: the sequence number of the next event to look at */
    char *filter[4];   /* events: source_airport, destination_airport, airline, equipment; NULL: any */
    uint64_t last_write_ms;
    uint64_t sent_pass; /* views: the pass over the subscribers (push_t.pass) that last sent it a state */
    bool ended; /* told why and ended: it goes once h2o is done with it */
} push_sub_t;

typedef struct push_render_s {
    size_t n;
    buf_t msg;
    bool used;
} push_render_t;

struct push_s {
    uv_loop_t *loop;
    push_config_t cfg;
    uv_timer_t timer;
    views_t *views;
    uint64_t epoch;
    push_sub_t *subs[PUSH_STREAMS];
    size_t counts[PUSH_STREAMS];
    size_t total;
    push_stats_t stats;
    push_render_t renders[PUSH_RENDER_SLOTS];
    buf_t scratch;
    buf_t body;
    uint64_t pass;            /* passes over the view subscribers, one per interval, each in slices */
    uint64_t pass_started_ns; /* its first slice, 0: no pass under way */
    push_sub_t *pass_next[PUSH_STREAMS]; /* where the pass goes on in the next slice (NULL: at the end) */
    uint64_t applied_since_events; /* events applied since tick_events last ran */
    bool closing;
    bool timer_closed; /* its close callback ran */
    bool free_when_closed;
};

const char *push_stream_name(push_stream_t stream)
{
    static const char *const names[PUSH_STREAMS] = {"top10_source_airport", "top10_equipment_30min_window",
                                                    "events"};
    return names[stream];
}

/* What a view's state depends on, as its ETag says (handlers.c): events applied, or the views' version. */
static uint64_t view_change(const push_t *p, push_stream_t stream)
{
    return stream == PUSH_TOP_AIRPORTS ? views_stats(p->views)->events_applied : views_version(p->views);
}

static void view_id(const push_t *p, push_stream_t stream, char out[PUSH_ID_MAX])
{
    snprintf(out, PUSH_ID_MAX, "%" PRIx64 "-%" PRIx64, p->epoch, view_change(p, stream));
}

static void sub_write(push_sub_t *s, const buf_t *bytes, bool replace)
{
    if (replace)
        http_push_replace(s->http, bytes->data, bytes->len);
    else
        http_push_append(s->http, bytes->data, bytes->len);
    s->last_write_ms = uv_now(s->owner->loop);
}

/* One control message (resume, dropped, end): event name and a JSON object. */
static void sub_tell(push_sub_t *s, const char *event, const char *json)
{
    push_t *p = s->owner;
    buf_reset(&p->scratch);
    sse_append_message(&p->scratch, event, NULL, json, strlen(json));
    sub_write(s, &p->scratch, false);
}

static void sub_end(push_sub_t *s)
{
    s->ended = true;
    http_push_end(s->http);
}

static void on_sub_closed(http_push_t *http, void *data)
{
    (void)http;
    push_sub_t *s = data;
    push_t *p = s->owner;
    if (p->pass_next[s->stream] == s)
        p->pass_next[s->stream] = s->next;
    if (s->prev != NULL)
        s->prev->next = s->next;
    else
        p->subs[s->stream] = s->next;
    if (s->next != NULL)
        s->next->prev = s->prev;
    p->counts[s->stream]--;
    p->total--;
    for (size_t i = 0; i < 4; i++)
        free(s->filter[i]);
    free(s);
}

/* ---- the views: rendered once per interval for each n asked ---- */

static void render_view(push_t *p, push_stream_t stream, size_t n, buf_t *msg)
{
    char id[PUSH_ID_MAX];
    view_id(p, stream, id);
    buf_reset(&p->body);
    if (stream == PUSH_TOP_AIRPORTS)
        render_top_airports(p->views, n, &p->body);
    else
        render_top_windows(p->views, n, &p->body);
    buf_reset(msg);
    sse_append_message(msg, NULL, id, p->body.data, p->body.len);
}

static void send_view(push_sub_t *s, bool replace)
{
    push_t *p = s->owner;
    buf_t *msg = NULL;
    for (size_t i = 0; i < PUSH_RENDER_SLOTS && msg == NULL; i++) {
        push_render_t *r = &p->renders[i];
        if (!r->used) {
            r->used = true;
            r->n = s->n;
            render_view(p, s->stream, s->n, &r->msg);
        }
        if (r->n == s->n)
            msg = &r->msg;
    }
    if (msg == NULL) {
        render_view(p, s->stream, s->n, &p->scratch);
        msg = &p->scratch;
    }
    /* Slow clients: the state supersedes any older one still waiting for them. */
    sub_write(s, msg, replace);
    s->sent_epoch = p->epoch;
    s->sent_change = view_change(p, s->stream);
    s->sent_pass = p->pass;
    p->stats.messages_sent[s->stream]++;
}

/*
 * Sends the view's new state to the subscribers that do not have it and got nothing yet in this pass, at most
 * *budget of them. @returns false when the budget ran out first: the next slice goes on from there (not from the
 * start: with 10,000 subscribers, walking past the served ones again cost more than the sends). A subscriber
 * served early in a pass waits for the next one, however often the view changes meanwhile: one message per
 * interval. Subscribers that arrive during a pass were sent the state as they subscribed.
 */
static bool tick_views(push_t *p, push_stream_t stream, size_t *budget)
{
    for (size_t i = 0; i < PUSH_RENDER_SLOTS; i++)
        p->renders[i].used = false;
    uint64_t change = view_change(p, stream);
    for (push_sub_t *s = p->pass_next[stream], *next; s != NULL; s = next) {
        next = s->next;
        if (s->ended || s->sent_pass == p->pass || (s->sent_epoch == p->epoch && s->sent_change == change))
            continue;
        if (*budget == 0) {
            p->pass_next[stream] = s;
            return false;
        }
        send_view(s, true);
        (*budget)--;
    }
    p->pass_next[stream] = NULL;
    return true;
}

/* ---- the events ---- */

static bool field_is(const char *want, const char *have, size_t len)
{
    return want == NULL || (strlen(want) == len && memcmp(want, have, len) == 0);
}

static bool event_matches(const push_sub_t *s, const recent_row_t *row)
{
    return field_is(s->filter[0], row->source_airport, row->source_airport_len) &&
           field_is(s->filter[1], row->destination_airport, row->destination_airport_len) &&
           field_is(s->filter[2], row->airline, row->airline_len) &&
           field_is(s->filter[3], row->equipment, row->equipment_len);
}

/* "<next sequence number>-<id of the event before it>": where a client resumes, and how that is checked. */
static void events_id(recent_t *recent, uint64_t next_seq, char out[PUSH_ID_MAX])
{
    recent_row_t row;
    if (next_seq > 0 && recent_get_seq(recent, next_seq - 1, &row))
        snprintf(out, PUSH_ID_MAX, "%" PRIu64 "-%.*s", next_seq, (int)(row.id_len < 40 ? row.id_len : 40), row.id);
    else
        snprintf(out, PUSH_ID_MAX, "%" PRIu64 "-", next_seq);
}

/* Sends the events from s->next_seq on, in messages of at most PUSH_EVENTS_PER_MESSAGE, while the client keeps up. */
static void send_events(push_sub_t *s, bool even_if_empty)
{
    push_t *p = s->owner;
    recent_t *recent = views_recent(p->views);
    uint64_t total = recent_total_pushed(recent);
    for (bool first = true; s->next_seq < total || (first && even_if_empty); first = false) {
        if (http_push_waiting(s->http) > p->cfg.max_waiting)
            return; /* the rest at the next interval, if it is still held then */
        buf_reset(&p->body);
        buf_append_str(&p->body, "{\"data\":[");
        size_t rows = 0;
        uint64_t seq = s->next_seq;
        for (; seq < total && rows < PUSH_EVENTS_PER_MESSAGE; seq++) {
            recent_row_t row;
            if (!recent_get_seq(recent, seq, &row) || !event_matches(s, &row))
                continue;
            if (rows++ > 0)
                buf_append_char(&p->body, ',');
            render_event_row(&p->body, &row);
        }
        buf_append_str(&p->body, "],\"error\":false,\"message\":\"events\",\"statusCode\":200}");
        s->next_seq = seq;
        if (rows == 0 && !(first && even_if_empty))
            continue;
        char id[PUSH_ID_MAX];
        events_id(recent, s->next_seq, id);
        buf_reset(&p->scratch);
        sse_append_message(&p->scratch, NULL, id, p->body.data, p->body.len);
        sub_write(s, &p->scratch, false);
        p->stats.messages_sent[PUSH_EVENTS]++;
    }
}

static void drop_slow(push_sub_t *s, uint64_t missed)
{
    char json[256];
    snprintf(json, sizeof(json),
             "{\"reason\":\"too slow: %" PRIu64 " event(s) it had not received are no longer held\"}", missed);
    sub_tell(s, "dropped", json);
    sub_end(s);
    s->owner->stats.dropped_slow++;
}

static void tick_events(push_t *p)
{
    p->applied_since_events = 0;
    recent_t *recent = views_recent(p->views);
    uint64_t first = recent_total_pushed(recent) - recent_count(recent);
    for (push_sub_t *s = p->subs[PUSH_EVENTS], *next; s != NULL; s = next) {
        next = s->next;
        if (s->ended)
            continue;
        if (s->next_seq < first)
            drop_slow(s, first - s->next_seq);
        else
            send_events(s, false);
    }
}

void push_event_applied(push_t *p)
{
    /* Before the ring of recent events overtakes a client that keeps up (a backlog applied in a burst). */
    if (p->subs[PUSH_EVENTS] != NULL && ++p->applied_since_events >= recent_capacity(views_recent(p->views)) / 2)
        tick_events(p);
}

/*
 * Where a returning client resumes: right after the event its Last-Event-ID names, if that event is still held
 * at that place. @returns the sequence number, or UINT64_MAX when it cannot (why in reason).
 */
static uint64_t events_resume_at(recent_t *recent, const char *last_event_id, const char **reason)
{
    uint64_t total = recent_total_pushed(recent), first = total - recent_count(recent);
    char *end;
    unsigned long long next = strtoull(last_event_id, &end, 10);
    if (end == last_event_id || *end != '-') {
        *reason = "Last-Event-ID is not an id of this stream";
        return UINT64_MAX;
    }
    const char *event_id = end + 1;
    if (next > total) {
        *reason = "Last-Event-ID is ahead of the events held (the topic was reset, or another replica sent it)";
        return UINT64_MAX;
    }
    if (next == 0)
        return first == 0 && *event_id == '\0' ? 0 : (*reason = "the events before are no longer held", UINT64_MAX);
    recent_row_t row;
    if (!recent_get_seq(recent, next - 1, &row)) {
        *reason = "the last event received is no longer held";
        return UINT64_MAX;
    }
    if (strlen(event_id) != row.id_len || memcmp(event_id, row.id, row.id_len) != 0) {
        *reason = "the last event received is not where this replica holds it (another replica, or a reset)";
        return UINT64_MAX;
    }
    return next;
}

/* ---- subscribing ---- */

static void on_tick(uv_timer_t *t)
{
    push_t *p = t->data;
    if (p->views == NULL)
        return;
    /*
     * Thousands of subscribers are served in slices, the loop running between them (the consumer, HTTP): each
     * write to a socket costs tens of microseconds in the kernel.
     */
    uint64_t t0 = uv_hrtime();
    if (p->pass_started_ns == 0) {
        p->pass_started_ns = t0;
        p->pass++;
        p->pass_next[PUSH_TOP_AIRPORTS] = p->subs[PUSH_TOP_AIRPORTS];
        p->pass_next[PUSH_TOP_WINDOWS] = p->subs[PUSH_TOP_WINDOWS];
    }
    size_t budget = PUSH_SENDS_PER_SLICE;
    bool done = tick_views(p, PUSH_TOP_AIRPORTS, &budget) && tick_views(p, PUSH_TOP_WINDOWS, &budget);
    if (!done) {
        uv_timer_start(&p->timer, on_tick, 0, (uint64_t)p->cfg.interval_ms); /* the next slice at once */
        return;
    }
    if (budget < PUSH_SENDS_PER_SLICE || p->pass_started_ns != t0)
        metrics_histogram_observe(&p->stats.fanout_seconds, (double)(uv_hrtime() - p->pass_started_ns) / 1e9);
    p->pass_started_ns = 0;
    if (p->subs[PUSH_EVENTS] != NULL)
        tick_events(p);
    uint64_t now = uv_now(p->loop);
    for (size_t st = 0; st < PUSH_STREAMS; st++) {
        for (push_sub_t *s = p->subs[st], *next; s != NULL; s = next) {
            next = s->next;
            if (!s->ended && now - s->last_write_ms >= (uint64_t)p->cfg.heartbeat_ms && !http_push_busy(s->http)) {
                buf_reset(&p->scratch);
                sse_append_comment(&p->scratch, "heartbeat");
                sub_write(s, &p->scratch, false);
            }
        }
    }
}

push_t *push_new(uv_loop_t *loop, const push_config_t *cfg)
{
    push_t *p = xcalloc(1, sizeof(*p));
    p->loop = loop;
    p->cfg = *cfg;
    metrics_histogram_init_latency(&p->stats.fanout_seconds);
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, on_tick, (uint64_t)cfg->interval_ms, (uint64_t)cfg->interval_ms);
    /* The streams hold the loop through their connections; the timer alone must not. */
    uv_unref((uv_handle_t *)&p->timer);
    return p;
}

void push_set_views(push_t *p, views_t *views, uint64_t epoch)
{
    p->views = views;
    p->epoch = epoch;
    /* New views (a topic reset): their events are numbered from their own start, the first they hold. */
    uint64_t first_held = recent_total_pushed(views_recent(views)) - recent_count(views_recent(views));
    for (push_sub_t *s = p->subs[PUSH_EVENTS]; s != NULL; s = s->next)
        s->next_seq = first_held;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? xstrdup(s) : NULL;
}

static void open_view(push_sub_t *s, const char *last_event_id)
{
    push_t *p = s->owner;
    if (last_event_id != NULL) {
        char id[PUSH_ID_MAX];
        view_id(p, s->stream, id);
        bool missed = strcmp(id, last_event_id) != 0;
        sub_tell(s, "resume", missed ? "{\"missed\":true}" : "{\"missed\":false}");
        if (!missed) {
            s->sent_epoch = p->epoch;
            s->sent_change = view_change(p, s->stream);
            return;
        }
    }
    for (size_t i = 0; i < PUSH_RENDER_SLOTS; i++)
        p->renders[i].used = false; /* the renderings of the last interval are out of date */
    send_view(s, false);
}

static void open_events(push_sub_t *s, const char *last_event_id)
{
    recent_t *recent = views_recent(s->owner->views);
    s->next_seq = recent_total_pushed(recent);
    if (last_event_id != NULL) {
        const char *reason = NULL;
        uint64_t at = events_resume_at(recent, last_event_id, &reason);
        if (at != UINT64_MAX) {
            s->next_seq = at;
            sub_tell(s, "resume", "{\"resumed\":true}");
        } else {
            char json[320];
            snprintf(json, sizeof(json), "{\"reason\":\"%s\",\"resumed\":false}", reason);
            sub_tell(s, "resume", json);
        }
    }
    /* An id at once: a client that goes away before any event comes back knows where it was. */
    send_events(s, true);
}

void push_subscribe(push_t *p, h2o_req_t *req, push_stream_t stream, size_t n, const push_filter_t *filter,
                    const char *last_event_id)
{
    if (p->closing || p->views == NULL) {
        http_send_error(req, 503, "the query-service is %s", p->closing ? "shutting down" : "starting");
        return;
    }
    if (p->total >= (size_t)p->cfg.max_subscribers) {
        p->stats.refused++;
        http_send_error(req, 429, "too many subscribers: %zu streams open, the limit is %ld (--max-subscribers)",
                        p->total, p->cfg.max_subscribers);
        return;
    }
    push_sub_t *s = xcalloc(1, sizeof(*s));
    s->owner = p;
    s->stream = stream;
    s->n = n;
    s->sent_change = UINT64_MAX;
    if (filter != NULL) {
        s->filter[0] = dup_or_null(filter->source_airport);
        s->filter[1] = dup_or_null(filter->destination_airport);
        s->filter[2] = dup_or_null(filter->airline);
        s->filter[3] = dup_or_null(filter->equipment);
    }
    s->next = p->subs[stream];
    if (s->next != NULL)
        s->next->prev = s;
    p->subs[stream] = s;
    p->counts[stream]++;
    p->total++;
    s->http = http_push_start(req, "text/event-stream; charset=utf-8", on_sub_closed, s);
    buf_reset(&p->scratch);
    sse_append_retry(&p->scratch, PUSH_RETRY_MS);
    sub_write(s, &p->scratch, false);
    if (stream == PUSH_EVENTS)
        open_events(s, last_event_id);
    else
        open_view(s, last_event_id);
}

size_t push_subscribers(const push_t *p, push_stream_t stream)
{
    return p->counts[stream];
}

const push_stats_t *push_stats(const push_t *p)
{
    return &p->stats;
}

static void push_release(push_t *p)
{
    for (size_t i = 0; i < PUSH_RENDER_SLOTS; i++)
        buf_free(&p->renders[i].msg);
    buf_free(&p->scratch);
    buf_free(&p->body);
    free(p);
}

static void on_timer_closed(uv_handle_t *h)
{
    push_t *p = h->data;
    p->timer_closed = true;
    if (p->free_when_closed)
        push_release(p);
}

void push_close(push_t *p)
{
    if (p->closing)
        return;
    p->closing = true;
    for (size_t st = 0; st < PUSH_STREAMS; st++) {
        for (push_sub_t *s = p->subs[st], *next; s != NULL; s = next) {
            next = s->next;
            if (s->ended)
                continue;
            sub_tell(s, "end", "{\"reason\":\"the query-service is shutting down\"}");
            sub_end(s);
        }
    }
    uv_close((uv_handle_t *)&p->timer, on_timer_closed);
}

void push_free(push_t *p)
{
    if (p == NULL)
        return;
    /*
     * Streams still open (the shutdown deadline stopped the loop under them) may yet call on_sub_closed: like
     * http_server_free, everything is left to process exit.
     */
    if (p->total > 0)
        return;
    if (!p->closing) {
        p->closing = true;
        uv_close((uv_handle_t *)&p->timer, on_timer_closed);
    }
    if (p->timer_closed)
        push_release(p);
    else
        p->free_when_closed = true;
}
