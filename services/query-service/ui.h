/*
 * ui: the live dashboard (GET /ui) and its assets (GET /ui/<name>), embedded in the binary at build time from
 * services/query-service/ui/ (cmake/embed.cmake), so the page needs nothing but this service: no CDN, no
 * internet. The page reads the service's own endpoints (the /stream/ views, /status, /metrics, /windows,
 * /source_airports) by relative URLs.
 */
#ifndef QUERY_UI_H
#define QUERY_UI_H

#include <h2o.h>

/*
 * The route handler of "/ui" and of the prefix "/ui/": answers the asset with its Content-Type, a
 * Cache-Control that makes browsers revalidate, a content ETag (304 when the browser holds it), and a
 * Content-Security-Policy allowing nothing but this origin; 404 for a name that is not an asset. data unused.
 */
void ui_on_req(h2o_req_t *req, void *data);

#endif
