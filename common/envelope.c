#include "envelope.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"

int envelope_format_pyfloat(double value, char *out, size_t out_size)
{
    if (isnan(value))
        return snprintf(out, out_size, "NaN");
    if (isinf(value))
        return snprintf(out, out_size, value > 0 ? "Infinity" : "-Infinity");
    /* Python's repr: the shortest digits that read back as the same double... */
    char digits[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(digits, sizeof(digits), "%.*e", precision - 1, value);
        if (strtod(digits, NULL) == value)
            break;
    }
    /* ...laid out positionally when the decimal exponent is in [-4, 16), else as d.ddde+XX. */
    char *e = strchr(digits, 'e');
    int exponent = atoi(e + 1);
    *e = '\0';
    char mantissa[24];
    size_t m = 0;
    bool negative = digits[0] == '-';
    for (const char *p = digits + negative; *p; p++)
        if (*p != '.')
            mantissa[m++] = *p;
    while (m > 1 && mantissa[m - 1] == '0')
        m--; /* %.*e pads with zeros; repr does not */
    mantissa[m] = '\0';
    int n = 0;
    if (exponent < -4 || exponent >= 16) {
        n = snprintf(out, out_size, "%s%c%s%s%se%c%02d", negative ? "-" : "", mantissa[0], m > 1 ? "." : "",
                     mantissa + 1, "", exponent < 0 ? '-' : '+', abs(exponent));
    } else if (exponent < 0) {
        n = snprintf(out, out_size, "%s0.%0*d%s", negative ? "-" : "", -exponent - 1, 0, mantissa);
        if (exponent == -1) /* %0*d with width 0 still prints one zero */
            n = snprintf(out, out_size, "%s0.%s", negative ? "-" : "", mantissa);
    } else if ((int)m <= exponent + 1) {
        n = snprintf(out, out_size, "%s%s%0*d.0", negative ? "-" : "", mantissa, exponent + 1 - (int)m, 0);
        if ((int)m == exponent + 1)
            n = snprintf(out, out_size, "%s%s.0", negative ? "-" : "", mantissa);
    } else {
        n = snprintf(out, out_size, "%s%.*s.%s", negative ? "-" : "", exponent + 1, mantissa, mantissa + exponent + 1);
    }
    if (n >= (int)out_size)
        n = out_size > 0 ? (int)out_size - 1 : 0;
    return n;
}

double envelope_round2(double value)
{
    /* From 2^53 on every double is integral; below 1e16 "%.2f" fits the buffer. */
    if (!isfinite(value) || fabs(value) >= 1e16)
        return value;
    char text[64];
    snprintf(text, sizeof(text), "%.2f", value);
    return strtod(text, NULL);
}

struct json_object *envelope_new_pyfloat(double value)
{
    char text[40];
    envelope_format_pyfloat(value, text, sizeof(text));
    return json_object_new_double_s(value, text);
}

static void render_object(buf_t *out, struct json_object *v);

/* json-c writes non-ASCII raw and doubles its own way: this writes what Python's json.dumps writes. */
static void render_value(buf_t *out, struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        buf_append_str(out, "null");
        break;
    case json_type_boolean:
        buf_append_str(out, json_object_get_boolean(v) ? "true" : "false");
        break;
    case json_type_int: {
        int64_t i = json_object_get_int64(v);
        if (i == INT64_MAX) /* maybe a uint64 above it, which get_int64 clamps: json-c prints those right */
            buf_append_str(out, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
        else
            buf_printf(out, "%" PRId64, i);
        break;
    }
    case json_type_double: {
        char text[40];
        int n = envelope_format_pyfloat(json_object_get_double(v), text, sizeof(text));
        buf_append(out, text, (size_t)n);
        break;
    }
    case json_type_string:
        buf_append_json_string(out, json_object_get_string(v), (size_t)json_object_get_string_len(v));
        break;
    case json_type_array: {
        size_t n = json_object_array_length(v);
        buf_append_char(out, '[');
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                buf_append_char(out, ',');
            render_value(out, json_object_array_get_idx(v, i));
        }
        buf_append_char(out, ']');
        break;
    }
    case json_type_object:
        render_object(out, v);
        break;
    }
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(((const struct lh_entry *const *)a)[0]->k, ((const struct lh_entry *const *)b)[0]->k);
}

/* Keys in code point order, as json.dumps(sort_keys=True): UTF-8 byte order is code point order. */
static void render_object(buf_t *out, struct json_object *v)
{
    struct lh_entry *small[16], **entries = small;
    size_t n = (size_t)json_object_object_length(v), i = 0;
    if (n > sizeof(small) / sizeof(small[0]))
        entries = xmalloc(n * sizeof(*entries));
    bool sorted = true;
    for (struct lh_entry *e = json_object_get_object(v)->head; e != NULL && i < n; e = e->next) {
        entries[i] = e;
        if (i > 0 && strcmp(entries[i - 1]->k, e->k) > 0)
            sorted = false;
        i++;
    }
    if (!sorted)
        qsort(entries, i, sizeof(*entries), compare_keys);
    buf_append_char(out, '{');
    for (size_t j = 0; j < i; j++) {
        const char *key = entries[j]->k;
        if (j > 0)
            buf_append_char(out, ',');
        buf_append_json_string(out, key, strlen(key));
        buf_append_char(out, ':');
        render_value(out, (struct json_object *)lh_entry_v(entries[j]));
    }
    buf_append_char(out, '}');
    if (entries != small)
        free(entries);
}

void envelope_render(buf_t *out, int status, bool error, const char *message, struct json_object *data)
{
    buf_append_str(out, "{\"data\":");
    if (data != NULL)
        render_value(out, data);
    else
        buf_append_str(out, "[]");
    buf_printf(out, ",\"error\":%s,\"message\":", error ? "true" : "false");
    buf_append_json_string(out, message, strlen(message));
    buf_printf(out, ",\"statusCode\":%d}\n", status);
}
