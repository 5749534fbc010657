#include "route_schema.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

/* CRC-64-AVRO table: T[i] = i shifted right 8 times, XOR EMPTY whenever a 1 falls off (the spec's loop). */
static const uint64_t crc64_avro_table[256] = {
    0x0000000000000000ULL, 0x2cf1cba6b75351faULL, 0x59e3974d6ea6a3f4ULL, 0x75125cebd9f5f20eULL,
    0xb3c72e9add4d47e8ULL, 0x9f36e53c6a1e1612ULL, 0xea24b9d7b3ebe41cULL, 0xc6d5727104b8b5e6ULL,
    0xe5341f40f335c0fbULL, 0xc9c5d4e644669101ULL, 0xbcd7880d9d93630fULL, 0x902643ab2ac032f5ULL,
    0x56f331da2e788713ULL, 0x7a02fa7c992bd6e9ULL, 0x0f10a69740de24e7ULL, 0x23e16d31f78d751dULL,
    0x48d27cf4afc4ceddULL, 0x6423b75218979f27ULL, 0x1131ebb9c1626d29ULL, 0x3dc0201f76313cd3ULL,
    0xfb15526e72898935ULL, 0xd7e499c8c5dad8cfULL, 0xa2f6c5231c2f2ac1ULL, 0x8e070e85ab7c7b3bULL,
    0xade663b45cf10e26ULL, 0x8117a812eba25fdcULL, 0xf405f4f93257add2ULL, 0xd8f43f5f8504fc28ULL,
    0x1e214d2e81bc49ceULL, 0x32d0868836ef1834ULL, 0x47c2da63ef1aea3aULL, 0x6b3311c55849bbc0ULL,
    0x91a4f9e95f899dbaULL, 0xbd55324fe8dacc40ULL, 0xc8476ea4312f3e4eULL, 0xe4b6a502867c6fb4ULL,
    0x2263d77382c4da52ULL, 0x0e921cd535978ba8ULL, 0x7b80403eec6279a6ULL, 0x57718b985b31285cULL,
    0x7490e6a9acbc5d41ULL, 0x58612d0f1bef0cbbULL, 0x2d7371e4c21afeb5ULL, 0x0182ba427549af4fULL,
    0xc757c83371f11aa9ULL, 0xeba60395c6a24b53ULL, 0x9eb45f7e1f57b95dULL, 0xb24594d8a804e8a7ULL,
    0xd976851df04d5367ULL, 0xf5874ebb471e029dULL, 0x809512509eebf093ULL, 0xac64d9f629b8a169ULL,
    0x6ab1ab872d00148fULL, 0x464060219a534575ULL, 0x33523cca43a6b77bULL, 0x1fa3f76cf4f5e681ULL,
    0x3c429a5d0378939cULL, 0x10b351fbb42bc266ULL, 0x65a10d106dde3068ULL, 0x4950c6b6da8d6192ULL,
    0x8f85b4c7de35d474ULL, 0xa3747f616966858eULL, 0xd666238ab0937780ULL, 0xfa97e82c07c0267aULL,
    0xa1f3b1a7f6bc745fULL, 0x8d027a0141ef25a5ULL, 0xf81026ea981ad7abULL, 0xd4e1ed4c2f498651ULL,
    0x12349f3d2bf133b7ULL, 0x3ec5549b9ca2624dULL, 0x4bd7087045579043ULL, 0x6726c3d6f204c1b9ULL,
    0x44c7aee70589b4a4ULL, 0x68366541b2dae55eULL, 0x1d2439aa6b2f1750ULL, 0x31d5f20cdc7c46aaULL,
    0xf700807dd8c4f34cULL, 0xdbf14bdb6f97a2b6ULL, 0xaee31730b66250b8ULL, 0x8212dc9601310142ULL,
    0xe921cd535978ba82ULL, 0xc5d006f5ee2beb78ULL, 0xb0c25a1e37de1976ULL, 0x9c3391b8808d488cULL,
    0x5ae6e3c98435fd6aULL, 0x7617286f3366ac90ULL, 0x03057484ea935e9eULL, 0x2ff4bf225dc00f64ULL,
    0x0c15d213aa4d7a79ULL, 0x20e419b51d1e2b83ULL, 0x55f6455ec4ebd98dULL, 0x79078ef873b88877ULL,
    0xbfd2fc8977003d91ULL, 0x9323372fc0536c6bULL, 0xe6316bc419a69e65ULL, 0xcac0a062aef5cf9fULL,
    0x3057484ea935e9e5ULL, 0x1ca683e81e66b81fULL, 0x69b4df03c7934a11ULL, 0x454514a570c01bebULL,
    0x839066d47478ae0dULL, 0xaf61ad72c32bfff7ULL, 0xda73f1991ade0df9ULL, 0xf6823a3fad8d5c03ULL,
    0xd563570e5a00291eULL, 0xf9929ca8ed5378e4ULL, 0x8c80c04334a68aeaULL, 0xa0710be583f5db10ULL,
    0x66a47994874d6ef6ULL, 0x4a55b232301e3f0cULL, 0x3f47eed9e9ebcd02ULL, 0x13b6257f5eb89cf8ULL,
    0x788534ba06f12738ULL, 0x5474ff1cb1a276c2ULL, 0x2166a3f7685784ccULL, 0x0d976851df04d536ULL,
    0xcb421a20dbbc60d0ULL, 0xe7b3d1866cef312aULL, 0x92a18d6db51ac324ULL, 0xbe5046cb024992deULL,
    0x9db12bfaf5c4e7c3ULL, 0xb140e05c4297b639ULL, 0xc452bcb79b624437ULL, 0xe8a377112c3115cdULL,
    0x2e7605602889a02bULL, 0x0287cec69fdaf1d1ULL, 0x7795922d462f03dfULL, 0x5b64598bf17c5225ULL,
    0xc15d213aa4d7a795ULL, 0xedacea9c1384f66fULL, 0x98beb677ca710461ULL, 0xb44f7dd17d22559bULL,
    0x729a0fa0799ae07dULL, 0x5e6bc406cec9b187ULL, 0x2b7998ed173c4389ULL, 0x0788534ba06f1273ULL,
    0x24693e7a57e2676eULL, 0x0898f5dce0b13694ULL, 0x7d8aa9373944c49aULL, 0x517b62918e179560ULL,
    0x97ae10e08aaf2086ULL, 0xbb5fdb463dfc717cULL, 0xce4d87ade4098372ULL, 0xe2bc4c0b535ad288ULL,
    0x898f5dce0b136948ULL, 0xa57e9668bc4038b2ULL, 0xd06cca8365b5cabcULL, 0xfc9d0125d2e69b46ULL,
    0x3a487354d65e2ea0ULL, 0x16b9b8f2610d7f5aULL, 0x63abe419b8f88d54ULL, 0x4f5a2fbf0fabdcaeULL,
    0x6cbb428ef826a9b3ULL, 0x404a89284f75f849ULL, 0x3558d5c396800a47ULL, 0x19a91e6521d35bbdULL,
    0xdf7c6c14256bee5bULL, 0xf38da7b29238bfa1ULL, 0x869ffb594bcd4dafULL, 0xaa6e30fffc9e1c55ULL,
    0x50f9d8d3fb5e3a2fULL, 0x7c0813754c0d6bd5ULL, 0x091a4f9e95f899dbULL, 0x25eb843822abc821ULL,
    0xe33ef64926137dc7ULL, 0xcfcf3def91402c3dULL, 0xbadd610448b5de33ULL, 0x962caaa2ffe68fc9ULL,
    0xb5cdc793086bfad4ULL, 0x993c0c35bf38ab2eULL, 0xec2e50de66cd5920ULL, 0xc0df9b78d19e08daULL,
    0x060ae909d526bd3cULL, 0x2afb22af6275ecc6ULL, 0x5fe97e44bb801ec8ULL, 0x7318b5e20cd34f32ULL,
    0x182ba427549af4f2ULL, 0x34da6f81e3c9a508ULL, 0x41c8336a3a3c5706ULL, 0x6d39f8cc8d6f06fcULL,
    0xabec8abd89d7b31aULL, 0x871d411b3e84e2e0ULL, 0xf20f1df0e77110eeULL, 0xdefed65650224114ULL,
    0xfd1fbb67a7af3409ULL, 0xd1ee70c110fc65f3ULL, 0xa4fc2c2ac90997fdULL, 0x880de78c7e5ac607ULL,
    0x4ed895fd7ae273e1ULL, 0x62295e5bcdb1221bULL, 0x173b02b01444d015ULL, 0x3bcac916a31781efULL,
    0x60ae909d526bd3caULL, 0x4c5f5b3be5388230ULL, 0x394d07d03ccd703eULL, 0x15bccc768b9e21c4ULL,
    0xd369be078f269422ULL, 0xff9875a13875c5d8ULL, 0x8a8a294ae18037d6ULL, 0xa67be2ec56d3662cULL,
    0x859a8fdda15e1331ULL, 0xa96b447b160d42cbULL, 0xdc791890cff8b0c5ULL, 0xf088d33678abe13fULL,
    0x365da1477c1354d9ULL, 0x1aac6ae1cb400523ULL, 0x6fbe360a12b5f72dULL, 0x434ffdaca5e6a6d7ULL,
    0x287cec69fdaf1d17ULL, 0x048d27cf4afc4cedULL, 0x719f7b249309bee3ULL, 0x5d6eb082245aef19ULL,
    0x9bbbc2f320e25affULL, 0xb74a095597b10b05ULL, 0xc25855be4e44f90bULL, 0xeea99e18f917a8f1ULL,
    0xcd48f3290e9addecULL, 0xe1b9388fb9c98c16ULL, 0x94ab6464603c7e18ULL, 0xb85aafc2d76f2fe2ULL,
    0x7e8fddb3d3d79a04ULL, 0x527e16156484cbfeULL, 0x276c4afebd7139f0ULL, 0x0b9d81580a22680aULL,
    0xf10a69740de24e70ULL, 0xddfba2d2bab11f8aULL, 0xa8e9fe396344ed84ULL, 0x8418359fd417bc7eULL,
    0x42cd47eed0af0998ULL, 0x6e3c8c4867fc5862ULL, 0x1b2ed0a3be09aa6cULL, 0x37df1b05095afb96ULL,
    0x143e7634fed78e8bULL, 0x38cfbd924984df71ULL, 0x4ddde17990712d7fULL, 0x612c2adf27227c85ULL,
    0xa7f958ae239ac963ULL, 0x8b08930894c99899ULL, 0xfe1acfe34d3c6a97ULL, 0xd2eb0445fa6f3b6dULL,
    0xb9d81580a22680adULL, 0x9529de261575d157ULL, 0xe03b82cdcc802359ULL, 0xccca496b7bd372a3ULL,
    0x0a1f3b1a7f6bc745ULL, 0x26eef0bcc83896bfULL, 0x53fcac5711cd64b1ULL, 0x7f0d67f1a69e354bULL,
    0x5cec0ac051134056ULL, 0x701dc166e64011acULL, 0x050f9d8d3fb5e3a2ULL, 0x29fe562b88e6b258ULL,
    0xef2b245a8c5e07beULL, 0xc3daeffc3b0d5644ULL, 0xb6c8b317e2f8a44aULL, 0x9a3978b155abf5b0ULL,
};

#define CRC64_AVRO_EMPTY 0xc15d213aa4d7a795ULL

uint64_t route_schema_crc64_avro(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t fp = CRC64_AVRO_EMPTY;
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ crc64_avro_table[(fp ^ p[i]) & 0xff];
    return fp;
}

/* ---- Parsing Canonical Form ---- */

typedef struct {
    char *data;
    size_t len, cap;
} pcf_out_t;

typedef struct {
    pcf_out_t out;
    char **names; /* fullnames of the named types defined so far */
    size_t nnames, capnames;
    char *errstr;
    size_t errstr_size;
    int depth;
} pcf_t;

#define PCF_MAX_DEPTH 256

static void out_append(pcf_out_t *o, const char *s, size_t len)
{
    if (o->len + len + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 128;
        while (cap < o->len + len + 1)
            cap *= 2;
        o->data = xrealloc(o->data, cap);
        o->cap = cap;
    }
    memcpy(o->data + o->len, s, len);
    o->len += len;
    o->data[o->len] = '\0';
}

static void out_str(pcf_out_t *o, const char *s)
{
    out_append(o, s, strlen(s));
}

/*
 * [STRINGS]: a JSON string with its characters as UTF-8, not \u escapes. Only what JSON cannot
 * hold raw is escaped, the way Jackson (the reference implementation's writer) does it.
 */
static void out_json_string(pcf_out_t *o, const char *s, size_t len)
{
    out_append(o, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\', esc[1] = (char)c;
            out_append(o, esc, 2);
        } else if (c < 0x20) {
            const char *short_esc = c == '\b' ? "\\b" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\f' ? "\\f"
                                                  : c == '\r' ? "\\r" : NULL;
            if (short_esc != NULL) {
                out_str(o, short_esc);
            } else {
                snprintf(esc, sizeof(esc), "\\u%04X", c);
                out_append(o, esc, 6);
            }
        } else {
            out_append(o, (const char *)&s[i], 1);
        }
    }
    out_append(o, "\"", 1);
}

static int pcf_fail(pcf_t *c, const char *fmt, const char *arg)
{
    snprintf(c->errstr, c->errstr_size, fmt, arg);
    return -1;
}

static bool is_primitive(const char *s)
{
    static const char *const prims[] = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"};
    for (size_t i = 0; i < sizeof(prims) / sizeof(prims[0]); i++)
        if (strcmp(s, prims[i]) == 0)
            return true;
    return false;
}

/* A name component: [A-Za-z_][A-Za-z0-9_]*, fullnames being such components joined by dots. */
static bool is_valid_fullname(const char *s)
{
    bool start = true;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        char ch = *s;
        bool alpha = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || ch == '_';
        if (ch == '.') {
            if (start)
                return false;
            start = true;
        } else if (alpha || (!start && ch >= '0' && ch <= '9')) {
            start = false;
        } else {
            return false;
        }
    }
    return !start;
}

static bool pcf_has_name(const pcf_t *c, const char *full)
{
    for (size_t i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], full) == 0)
            return true;
    return false;
}

/* The fullname of name in namespace ns (NULL or "" for none); the caller frees it. */
static char *make_fullname(const char *name, const char *ns)
{
    if (strchr(name, '.') != NULL || ns == NULL || *ns == '\0')
        return xstrdup(name);
    size_t nl = strlen(ns), ml = strlen(name);
    char *full = xmalloc(nl + 1 + ml + 1);
    memcpy(full, ns, nl);
    full[nl] = '.';
    memcpy(full + nl + 1, name, ml + 1);
    return full;
}

static int pcf_schema(pcf_t *c, json_object *s, const char *ns);

/* A reference by name: a primitive, or a named type defined earlier (or being defined: recursion). */
static int pcf_reference(pcf_t *c, const char *name, const char *ns)
{
    if (is_primitive(name)) {
        out_json_string(&c->out, name, strlen(name));
        return 0;
    }
    char *full = make_fullname(name, ns);
    bool found = pcf_has_name(c, full);
    if (!found && strchr(name, '.') == NULL && pcf_has_name(c, name)) {
        /* Tolerated like the Python and Java parsers: a short name may refer to the null namespace. */
        free(full);
        full = xstrdup(name);
        found = true;
    }
    if (!found) {
        free(full);
        return pcf_fail(c, "unknown type \"%s\"", name);
    }
    out_json_string(&c->out, full, strlen(full));
    free(full);
    return 0;
}

static const char *get_string(json_object *obj, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

/* Registers a named type's fullname; its namespace for nested names is then what precedes the last dot. */
static int pcf_define(pcf_t *c, json_object *s, const char *ns, char **full_out)
{
    const char *name = get_string(s, "name");
    if (name == NULL)
        return pcf_fail(c, "%s: named type without a string \"name\"", json_object_get_string(json_object_object_get(s, "type")));
    json_object *nsv;
    if (json_object_object_get_ex(s, "namespace", &nsv)) {
        if (json_object_is_type(nsv, json_type_string))
            ns = json_object_get_string(nsv);
        else if (!json_object_is_type(nsv, json_type_null))
            return pcf_fail(c, "%s: \"namespace\" is not a string", name);
    }
    if (ns != NULL && *ns != '\0' && !is_valid_fullname(ns))
        return pcf_fail(c, "invalid namespace \"%s\"", ns);
    char *full = make_fullname(name, ns);
    if (!is_valid_fullname(full) || is_primitive(full)) {
        pcf_fail(c, "invalid name \"%s\"", full);
        free(full);
        return -1;
    }
    if (pcf_has_name(c, full)) {
        pcf_fail(c, "type \"%s\" is defined twice", full);
        free(full);
        return -1;
    }
    if (c->nnames == c->capnames) {
        c->capnames = c->capnames ? c->capnames * 2 : 8;
        c->names = xrealloc(c->names, c->capnames * sizeof(*c->names));
    }
    c->names[c->nnames++] = full;
    *full_out = full;
    return 0;
}

static int pcf_record(pcf_t *c, json_object *s, const char *type, const char *full)
{
    json_object *fields;
    if (!json_object_object_get_ex(s, "fields", &fields) || !json_object_is_type(fields, json_type_array))
        return pcf_fail(c, "record \"%s\" has no \"fields\" array", full);

    /* Nested named types inherit the record's namespace: its fullname up to the last dot. */
    const char *dot = strrchr(full, '.');
    char *inner_ns = dot ? xstrndup(full, (size_t)(dot - full)) : NULL;
    int rc = -1;

    out_str(&c->out, "{\"name\":");
    out_json_string(&c->out, full, strlen(full));
    out_str(&c->out, ",\"type\":");
    out_json_string(&c->out, type, strlen(type));
    out_str(&c->out, ",\"fields\":[");
    size_t n = json_object_array_length(fields);
    for (size_t i = 0; i < n; i++) {
        json_object *f = json_object_array_get_idx(fields, i), *ft;
        if (!json_object_is_type(f, json_type_object)) {
            pcf_fail(c, "record \"%s\": a field is not an object", full);
            goto out;
        }
        const char *fname = get_string(f, "name");
        if (fname == NULL || strchr(fname, '.') != NULL || !is_valid_fullname(fname)) {
            pcf_fail(c, "record \"%s\": a field has no valid \"name\"", full);
            goto out;
        }
        if (!json_object_object_get_ex(f, "type", &ft)) {
            pcf_fail(c, "field \"%s\" has no \"type\"", fname);
            goto out;
        }
        if (i > 0)
            out_str(&c->out, ",");
        out_str(&c->out, "{\"name\":");
        out_json_string(&c->out, fname, strlen(fname));
        out_str(&c->out, ",\"type\":");
        if (pcf_schema(c, ft, inner_ns) != 0)
            goto out;
        out_str(&c->out, "}");
    }
    out_str(&c->out, "]}");
    rc = 0;
out:
    free(inner_ns);
    return rc;
}

static int pcf_enum(pcf_t *c, json_object *s, const char *full)
{
    json_object *syms;
    if (!json_object_object_get_ex(s, "symbols", &syms) || !json_object_is_type(syms, json_type_array))
        return pcf_fail(c, "enum \"%s\" has no \"symbols\" array", full);
    out_str(&c->out, "{\"name\":");
    out_json_string(&c->out, full, strlen(full));
    out_str(&c->out, ",\"type\":\"enum\",\"symbols\":[");
    size_t n = json_object_array_length(syms);
    for (size_t i = 0; i < n; i++) {
        json_object *sym = json_object_array_get_idx(syms, i);
        if (!json_object_is_type(sym, json_type_string))
            return pcf_fail(c, "enum \"%s\": a symbol is not a string", full);
        if (i > 0)
            out_str(&c->out, ",");
        out_json_string(&c->out, json_object_get_string(sym), (size_t)json_object_get_string_len(sym));
    }
    out_str(&c->out, "]}");
    return 0;
}

/* [INTEGERS]: size may be a JSON integer or a quoted one; it is written bare, without leading zeros. */
static int pcf_fixed(pcf_t *c, json_object *s, const char *full)
{
    json_object *sz;
    long long size = -1;
    if (json_object_object_get_ex(s, "size", &sz)) {
        if (json_object_is_type(sz, json_type_int)) {
            size = (long long)json_object_get_int64(sz);
        } else if (json_object_is_type(sz, json_type_string)) {
            const char *p = json_object_get_string(sz);
            size = *p ? 0 : -1;
            for (; *p && size >= 0; p++)
                size = (*p >= '0' && *p <= '9' && size < 100000000000LL) ? size * 10 + (*p - '0') : -1;
        }
    }
    if (size < 0)
        return pcf_fail(c, "fixed \"%s\" has no valid \"size\"", full);
    char num[32];
    snprintf(num, sizeof(num), "%lld", size);
    out_str(&c->out, "{\"name\":");
    out_json_string(&c->out, full, strlen(full));
    out_str(&c->out, ",\"type\":\"fixed\",\"size\":");
    out_str(&c->out, num);
    out_str(&c->out, "}");
    return 0;
}

static int pcf_object(pcf_t *c, json_object *s, const char *ns)
{
    json_object *tv, *sub;
    if (!json_object_object_get_ex(s, "type", &tv))
        return pcf_fail(c, "%s", "schema object without \"type\"");
    if (!json_object_is_type(tv, json_type_string))
        return pcf_schema(c, tv, ns); /* {"type": {...}} or {"type": [...]}: the inner schema */
    const char *type = json_object_get_string(tv);

    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 || strcmp(type, "enum") == 0 ||
        strcmp(type, "fixed") == 0) {
        char *full;
        if (pcf_define(c, s, ns, &full) != 0)
            return -1;
        if (type[0] == 'e' && type[1] == 'n')
            return pcf_enum(c, s, full);
        if (type[0] == 'f')
            return pcf_fixed(c, s, full);
        return pcf_record(c, s, type, full);
    }
    if (strcmp(type, "array") == 0) {
        if (!json_object_object_get_ex(s, "items", &sub))
            return pcf_fail(c, "%s", "array without \"items\"");
        out_str(&c->out, "{\"type\":\"array\",\"items\":");
        if (pcf_schema(c, sub, ns) != 0)
            return -1;
        out_str(&c->out, "}");
        return 0;
    }
    if (strcmp(type, "map") == 0) {
        if (!json_object_object_get_ex(s, "values", &sub))
            return pcf_fail(c, "%s", "map without \"values\"");
        out_str(&c->out, "{\"type\":\"map\",\"values\":");
        if (pcf_schema(c, sub, ns) != 0)
            return -1;
        out_str(&c->out, "}");
        return 0;
    }
    /* [PRIMITIVES] {"type":"int", ...} is "int"; {"type":"SomeName"} refers to a named type. */
    return pcf_reference(c, type, ns);
}

static int pcf_schema(pcf_t *c, json_object *s, const char *ns)
{
    int rc;
    if (++c->depth > PCF_MAX_DEPTH) {
        c->depth--;
        return pcf_fail(c, "schema nested deeper than %s levels", "256");
    }
    switch (json_object_get_type(s)) {
    case json_type_string:
        rc = pcf_reference(c, json_object_get_string(s), ns);
        break;
    case json_type_array: {
        size_t n = json_object_array_length(s);
        out_str(&c->out, "[");
        rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (i > 0)
                out_str(&c->out, ",");
            rc = pcf_schema(c, json_object_array_get_idx(s, i), ns);
        }
        out_str(&c->out, "]");
        break;
    }
    case json_type_object:
        rc = pcf_object(c, s, ns);
        break;
    default:
        rc = pcf_fail(c, "%s", "a schema must be a string, an object or an array");
        break;
    }
    c->depth--;
    return rc;
}

char *route_schema_canonical_form(const char *json, char *errstr, size_t errstr_size)
{
    pcf_t c = {.errstr = errstr, .errstr_size = errstr_size};
    enum json_tokener_error jerr;
    char *result = NULL;

    json_tokener *tok = json_tokener_new_ex(PCF_MAX_DEPTH);
    if (tok == NULL) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    size_t len = strlen(json);
    json_object *root = json_tokener_parse_ex(tok, json, (int)len);
    jerr = json_tokener_get_error(tok);
    if (root == NULL || jerr != json_tokener_success) {
        snprintf(errstr, errstr_size, "not JSON: %s",
                 jerr == json_tokener_continue ? "unexpected end" : json_tokener_error_desc(jerr));
        goto out;
    }
    for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
        if (json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
            snprintf(errstr, errstr_size, "not JSON: trailing text at offset %zu", i);
            goto out;
        }
    }
    if (pcf_schema(&c, root, NULL) == 0) {
        result = c.out.data;
        c.out.data = NULL;
    }
out:
    json_object_put(root);
    json_tokener_free(tok);
    free(c.out.data);
    for (size_t i = 0; i < c.nnames; i++)
        free(c.names[i]);
    free(c.names);
    return result;
}

static uint64_t schema_fp;

static void schema_fp_init(void)
{
    char err[256];
    char *pcf = route_schema_canonical_form(route_schema_json, err, sizeof(err));
    if (pcf == NULL) {
        /* The build embeds data/data_schema.json; if it is not a schema nothing can be encoded. */
        fprintf(stderr, "route_schema: embedded data/data_schema.json is not a valid schema: %s\n", err);
        abort();
    }
    schema_fp = route_schema_crc64_avro(pcf, strlen(pcf));
    free(pcf);
}

uint64_t route_schema_fingerprint(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, schema_fp_init);
    return schema_fp;
}
