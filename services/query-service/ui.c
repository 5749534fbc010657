/*
 * The dashboard's assets, served from the arrays cmake/embed.cmake generated from services/query-service/ui/.
 */
#include "ui.h"

#include <string.h>

#include "http_cache.h"
#include "http_server.h"

#define UI_ASSET(sym)                                                                                              \
    extern const unsigned char sym[];                                                                              \
    extern const size_t sym##_len;                                                                                 \
    extern const unsigned long long sym##_hash;
UI_ASSET(ui_asset_index_html)
UI_ASSET(ui_asset_app_js)
UI_ASSET(ui_asset_charts_js)
UI_ASSET(ui_asset_style_css)
UI_ASSET(ui_asset_favicon_svg)

typedef struct ui_asset_s {
    const char *path;
    const char *content_type;
    const unsigned char *bytes;
    const size_t *len;
    const unsigned long long *hash;
} ui_asset_t;

#define UI_ENTRY(path, type, sym) {path, type, sym, &sym##_len, &sym##_hash}
/*
 * Scripts go as application/javascript, not RFC 9239's text/javascript: h2o 2.2's compress filter only gzips
 * types its MIME map calls compressible, and it knows the older name only. Browsers take either for a module.
 */
static const ui_asset_t ui_assets[] = {
    UI_ENTRY("/ui", "text/html; charset=utf-8", ui_asset_index_html),
    UI_ENTRY("/ui/app.js", "application/javascript; charset=utf-8", ui_asset_app_js),
    UI_ENTRY("/ui/charts.js", "application/javascript; charset=utf-8", ui_asset_charts_js),
    UI_ENTRY("/ui/style.css", "text/css; charset=utf-8", ui_asset_style_css),
    UI_ENTRY("/ui/favicon.svg", "image/svg+xml", ui_asset_favicon_svg),
};

/*
 * Scripts and styles only from files of this origin (none inline), data only from its endpoints: the page cannot
 * be made to load anything from elsewhere, and a browser reports any attempt as an error (the browser test
 * fails on one).
 */
static const char ui_csp[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                             "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void ui_on_req(h2o_req_t *req, void *data)
{
    (void)data;
    h2o_iovec_t path = http_req_path(req);
    const ui_asset_t *asset = NULL;
    for (size_t i = 0; i < sizeof(ui_assets) / sizeof(ui_assets[0]); i++) {
        if (h2o_memis(path.base, path.len, ui_assets[i].path, strlen(ui_assets[i].path))) {
            asset = &ui_assets[i];
            break;
        }
    }
    if (asset == NULL) {
        http_send_error(req, 404, "no such dashboard file: %.*s", (int)(path.len > 200 ? 200 : path.len), path.base);
        return;
    }
    /*
     * The paths carry no version, so a browser must not use a copy without asking: no-cache makes it revalidate
     * each time, and the content's ETag makes that a 304 until the binary serves other bytes.
     */
    http_add_header(req, "cache-control", "no-cache");
    http_add_header(req, "content-security-policy", ui_csp);
    http_add_header(req, "x-content-type-options", "nosniff");
    char etag[HTTP_ETAG_MAX];
    http_etag_format(etag, *asset->hash, *asset->len, 0);
    if (http_answer_if_unchanged(req, etag))
        return;
    http_send(req, 200, asset->content_type, (const char *)asset->bytes, *asset->len);
}
