#include "tables.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "strhash.h"

/*
 * A code and its entry, in one allocation (the strings follow the struct). A deleted code keeps its slot with
 * present false, so the open-addressing table never needs to move entries.
 */
typedef struct slot_s {
    char *key;
    size_t key_len;
    uint64_t hash;
    bool present;
    table_entry_t entry;
    char *strings; /* owns the entry's strings */
} slot_t;

typedef struct table_s {
    slot_t **slots; /* power of two, at most half full */
    size_t cap, used;
    size_t present;
    uint64_t messages, tombstones, invalid;
} table_t;

struct tables_s {
    table_t kinds[REFERENCE_KINDS];
    uint64_t version;
};

static void table_init(table_t *tb)
{
    memset(tb, 0, sizeof(*tb));
    tb->cap = 1024;
    tb->slots = xcalloc(tb->cap, sizeof(slot_t *));
}

static void table_release(table_t *tb)
{
    for (size_t i = 0; i < tb->cap; i++) {
        if (tb->slots[i] != NULL) {
            free(tb->slots[i]->strings);
            free(tb->slots[i]->key);
            free(tb->slots[i]);
        }
    }
    free(tb->slots);
}

tables_t *tables_new(void)
{
    tables_t *t = xcalloc(1, sizeof(*t));
    for (int k = 0; k < REFERENCE_KINDS; k++)
        table_init(&t->kinds[k]);
    return t;
}

void tables_free(tables_t *t)
{
    if (t == NULL)
        return;
    for (int k = 0; k < REFERENCE_KINDS; k++)
        table_release(&t->kinds[k]);
    free(t);
}

void tables_clear(tables_t *t, reference_kind_t kind)
{
    if (kind >= REFERENCE_KINDS)
        return;
    table_release(&t->kinds[kind]);
    table_init(&t->kinds[kind]);
    t->version++;
}

static slot_t **find(const table_t *tb, const char *key, size_t len, uint64_t h)
{
    size_t mask = tb->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        slot_t **s = &tb->slots[i];
        if (*s == NULL || ((*s)->hash == h && (*s)->key_len == len && memcmp((*s)->key, key, len) == 0))
            return s;
    }
}

static void grow(table_t *tb)
{
    size_t old_cap = tb->cap;
    slot_t **old = tb->slots;
    tb->cap *= 2;
    tb->slots = xcalloc(tb->cap, sizeof(slot_t *));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i] != NULL)
            *find(tb, old[i]->key, old[i]->key_len, old[i]->hash) = old[i];
    free(old);
}

/* A string field: absent or null gives NULL; another type makes the value invalid (*ok false). */
static const char *get_string(struct json_object *o, const char *name, bool *ok, size_t *len)
{
    struct json_object *v;
    *len = 0;
    if (!json_object_object_get_ex(o, name, &v) || v == NULL)
        return NULL;
    if (!json_object_is_type(v, json_type_string)) {
        *ok = false;
        return NULL;
    }
    *len = (size_t)json_object_get_string_len(v);
    return json_object_get_string(v);
}

/* A coordinate: a JSON number within [-limit, limit], its text as published. */
static bool get_degrees(struct json_object *o, const char *name, double limit, double *out, const char **text)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, name, &v) || v == NULL ||
        !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return false;
    *out = json_object_get_double(v);
    *text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    return *out >= -limit && *out <= limit;
}

/* Copies s[0..len) into the arena at *at. @returns the copy, or NULL for NULL. */
static const char *put(char *arena, size_t *at, const char *s, size_t len)
{
    if (s == NULL)
        return NULL;
    char *p = arena + *at;
    memcpy(p, s, len);
    p[len] = '\0';
    *at += len + 1;
    return p;
}

/* Parses value into slot's entry (replacing its strings). @returns 0, or -1 when it is not an entry. */
static int parse_entry(slot_t *slot, const char *value, size_t value_len)
{
    if (value_len > INT_MAX) /* json-c takes an int */
        return -1;
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o = json_tokener_parse_ex(tok, value, (int)value_len);
    bool ok = o != NULL && json_tokener_get_error(tok) == json_tokener_success &&
              json_tokener_get_parse_end(tok) == value_len && json_object_is_type(o, json_type_object);
    json_tokener_free(tok);
    size_t nl, cl, kl, lat_l = 0, lon_l = 0;
    const char *name = NULL, *city = NULL, *country = NULL, *lat_t = NULL, *lon_t = NULL;
    double lat = 0, lon = 0;
    bool has_position = false;
    if (ok) {
        name = get_string(o, "name", &ok, &nl);
        city = get_string(o, "city", &ok, &cl);
        country = get_string(o, "country", &ok, &kl);
        has_position = get_degrees(o, "latitude", 90, &lat, &lat_t) && get_degrees(o, "longitude", 180, &lon, &lon_t);
        if (has_position) {
            lat_l = strlen(lat_t);
            lon_l = strlen(lon_t);
        }
    }
    if (!ok) {
        json_object_put(o);
        return -1;
    }
    char *arena = xmalloc(nl + cl + kl + lat_l + lon_l + 5);
    size_t at = 0;
    table_entry_t e = {0};
    e.name = put(arena, &at, name, nl);
    e.city = put(arena, &at, city, cl);
    e.country = put(arena, &at, country, kl);
    e.has_position = has_position;
    if (has_position) {
        e.latitude = lat;
        e.longitude = lon;
        e.latitude_text = put(arena, &at, lat_t, lat_l);
        e.longitude_text = put(arena, &at, lon_t, lon_l);
    }
    json_object_put(o);
    free(slot->strings);
    slot->strings = arena;
    slot->entry = e;
    return 0;
}

int tables_apply(tables_t *t, reference_kind_t kind, const char *key, size_t key_len, const char *value,
                 size_t value_len)
{
    if (kind >= REFERENCE_KINDS)
        return -1;
    table_t *tb = &t->kinds[kind];
    tb->messages++;
    if (key == NULL) {
        tb->invalid++;
        return -1;
    }
    uint64_t h = strhash(key, key_len);
    slot_t **s = find(tb, key, key_len, h);
    if (value == NULL) {
        tb->tombstones++;
        if (*s != NULL && (*s)->present) {
            (*s)->present = false;
            free((*s)->strings);
            (*s)->strings = NULL;
            tb->present--;
            t->version++;
        }
        return 0;
    }
    slot_t scratch = {0};
    if (parse_entry(&scratch, value, value_len) != 0) {
        tb->invalid++;
        return -1;
    }
    if (*s == NULL) {
        slot_t *slot = xcalloc(1, sizeof(*slot));
        slot->key = xstrndup(key, key_len);
        slot->key_len = key_len;
        slot->hash = h;
        *s = slot;
        if (++tb->used * 2 > tb->cap) {
            grow(tb);
            s = find(tb, key, key_len, h);
        }
    }
    free((*s)->strings);
    (*s)->strings = scratch.strings;
    (*s)->entry = scratch.entry;
    if (!(*s)->present)
        tb->present++;
    (*s)->present = true;
    t->version++;
    return 0;
}

const table_entry_t *tables_get(const tables_t *t, reference_kind_t kind, const char *code, size_t len)
{
    if (kind >= REFERENCE_KINDS)
        return NULL;
    slot_t *const *s = find(&t->kinds[kind], code, len, strhash(code, len));
    return *s != NULL && (*s)->present ? &(*s)->entry : NULL;
}

void tables_stats(const tables_t *t, reference_kind_t kind, tables_stats_t *out)
{
    const table_t *tb = &t->kinds[kind];
    out->entries = tb->present;
    out->messages = tb->messages;
    out->tombstones = tb->tombstones;
    out->invalid = tb->invalid;
}

uint64_t tables_version(const tables_t *t)
{
    return t->version;
}
