/*
 * render: the views as the seed's JSON, for the pull endpoints (handlers.c) and the push streams (push.c) alike.
 */
#ifndef QUERY_RENDER_H
#define QUERY_RENDER_H

#include <stddef.h>

#include "buf.h"
#include "recent.h"
#include "views.h"

#define RENDER_TOP_DEFAULT 10
#define RENDER_TOP_MAX 1000

/* The envelope of /top10_source_airport: the n (at most RENDER_TOP_MAX) top airports. Appended to out. */
void render_top_airports(views_t *views, size_t n, buf_t *out);
/* The envelope of /top10_equipment_30min_window. */
void render_top_windows(views_t *views, size_t n, buf_t *out);
/* One event as /dump_table shows it: a JSON object, keys in Flask's sorted order. */
void render_event_row(buf_t *out, const recent_row_t *row);

#endif
