#include "metrics.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void metrics_histogram_init_latency(metrics_histogram_t *h)
{
    static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
    memset(h, 0, sizeof(*h));
    h->n_bounds = (int)(sizeof(bounds) / sizeof(bounds[0]));
    memcpy(h->bounds, bounds, sizeof(bounds));
}

void metrics_histogram_observe(metrics_histogram_t *h, double value)
{
    int i = 0;
    while (i < h->n_bounds && value > h->bounds[i])
        i++;
    h->counts[i]++;
    h->count++;
    h->sum += value;
}

double metrics_histogram_quantile(const metrics_histogram_t *h, double q)
{
    if (h->count == 0 || isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    double rank = q * (double)h->count;
    uint64_t cumulative = 0;
    for (int i = 0; i <= h->n_bounds; i++) {
        uint64_t before = cumulative;
        cumulative += h->counts[i];
        if ((double)cumulative >= rank) {
            if (i == h->n_bounds)
                return h->n_bounds > 0 ? h->bounds[h->n_bounds - 1] : NAN; /* +Inf bucket: its lower bound */
            double lower = i == 0 ? 0 : h->bounds[i - 1];
            double in_bucket = (double)h->counts[i];
            return lower + (h->bounds[i] - lower) * (in_bucket > 0 ? (rank - (double)before) / in_bucket : 1);
        }
    }
    return NAN;
}

/* A sample value as Prometheus writes it: +Inf, -Inf, NaN, else the shortest digits that read back exactly. */
static void append_value(buf_t *out, double value)
{
    if (isnan(value)) {
        buf_append_str(out, "NaN");
        return;
    }
    if (isinf(value)) {
        buf_append_str(out, value > 0 ? "+Inf" : "-Inf");
        return;
    }
    char text[40];
    int precision = 1;
    for (; precision <= 17; precision++) {
        snprintf(text, sizeof(text), "%.*e", precision - 1, value);
        if (strtod(text, NULL) == value)
            break;
    }
    /* Integral and ordinary values positionally (10, not %g's 1e+01), the very large and small as d.ddde+XX. */
    int exponent = atoi(strchr(text, 'e') + 1);
    if (exponent >= -4 && exponent < 16)
        snprintf(text, sizeof(text), "%.*g", precision > exponent + 1 ? precision : exponent + 1, value);
    buf_append_str(out, text);
}

static void write_header(buf_t *out, const char *name, const char *help, const char *type)
{
    /* HELP text escapes backslash and newline (exposition format 0.0.4). */
    buf_printf(out, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            buf_append_str(out, "\\\\");
        else if (*p == '\n')
            buf_append_str(out, "\\n");
        else
            buf_append_char(out, *p);
    }
    buf_printf(out, "\n# TYPE %s %s\n", name, type);
}

void metrics_write_sample(buf_t *out, const char *name, const char *labels, double value)
{
    if (labels != NULL && labels[0] != '\0')
        buf_printf(out, "%s{%s} ", name, labels);
    else
        buf_printf(out, "%s ", name);
    append_value(out, value);
    buf_append_char(out, '\n');
}

void metrics_write_counter(buf_t *out, const char *name, const char *help, const char *labels, double value)
{
    write_header(out, name, help, "counter");
    metrics_write_sample(out, name, labels, value);
}

void metrics_write_gauge(buf_t *out, const char *name, const char *help, const char *labels, double value)
{
    write_header(out, name, help, "gauge");
    metrics_write_sample(out, name, labels, value);
}

void metrics_write_histogram(buf_t *out, const char *name, const char *help, const metrics_histogram_t *h)
{
    write_header(out, name, help, "histogram");
    uint64_t cumulative = 0;
    for (int i = 0; i < h->n_bounds; i++) {
        cumulative += h->counts[i];
        buf_printf(out, "%s_bucket{le=\"", name);
        append_value(out, h->bounds[i]);
        buf_printf(out, "\"} %llu\n", (unsigned long long)cumulative);
    }
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum ", name, (unsigned long long)h->count, name);
    append_value(out, h->sum);
    buf_printf(out, "\n%s_count %llu\n", name, (unsigned long long)h->count);
}
