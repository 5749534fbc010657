#include "envelope.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return n;
}

double envelope_round2(double value)
{
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
    case json_type_int:
        buf_printf(out, "%lld", (long long)json_object_get_int64(v));
        break;
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
    case json_type_object: {
        bool first = true;
        buf_append_char(out, '{');
        json_object_object_foreach(v, key, child)
        {
            if (!first)
                buf_append_char(out, ',');
            first = false;
            buf_append_json_string(out, key, strlen(key));
            buf_append_char(out, ':');
            render_value(out, child);
        }
        buf_append_char(out, '}');
        break;
    }
    }
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
