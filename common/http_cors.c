#include "http_cors.h"

#include <string.h>

/* How long a browser may reuse a preflight's answer. */
#define PREFLIGHT_MAX_AGE "600"

const char *http_cors_origin_error(const char *origin)
{
    if (strcmp(origin, "*") == 0)
        return NULL;
    const char *host;
    if (strncmp(origin, "http://", 7) == 0)
        host = origin + 7;
    else if (strncmp(origin, "https://", 8) == 0)
        host = origin + 8;
    else
        return "an origin starts with http:// or https:// (or is *)";
    if (*host == '\0')
        return "the origin has no host";
    /* Host, optional port: nothing that could end the header or make it a path. */
    for (const char *p = host; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        if (!ok)
            return "an origin is scheme://host[:port], without a path or anything else";
    }
    return NULL;
}

void http_cors_add_headers(h2o_req_t *req, const char *origin)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_ACCESS_CONTROL_ALLOW_ORIGIN, NULL, origin, strlen(origin));
    /* A cache between must not hand one origin's answer to another when it names a single origin. */
    if (strcmp(origin, "*") != 0)
        h2o_set_header_token(&req->pool, &req->res.headers, H2O_TOKEN_VARY, H2O_STRLIT("origin"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-expose-headers"), 0, NULL,
                          H2O_STRLIT("etag, x-state-age-seconds"));
}

bool http_cors_is_preflight(h2o_req_t *req)
{
    return h2o_memis(req->method.base, req->method.len, H2O_STRLIT("OPTIONS")) &&
           h2o_find_header_by_str(&req->headers, H2O_STRLIT("access-control-request-method"), -1) != -1;
}

void http_cors_send_preflight(h2o_req_t *req, const char *allowed_methods)
{
    req->res.status = 204;
    req->res.reason = "No Content";
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-methods"), 0, NULL,
                          allowed_methods, strlen(allowed_methods));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-allow-headers"), 0, NULL,
                          H2O_STRLIT("content-type, if-none-match, last-event-id"));
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("access-control-max-age"), 0, NULL,
                          H2O_STRLIT(PREFLIGHT_MAX_AGE));
    h2o_send_inline(req, NULL, 0);
}
