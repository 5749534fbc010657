#include "metrics.h"

#include <math.h>
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
    if (h->count == 0)
        return NAN;
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

static void write_header(buf_t *out, const char *name, const char *help, const char *type)
{
    buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void metrics_write_sample(buf_t *out, const char *name, const char *labels, double value)
{
    if (labels != NULL && labels[0] != '\0')
        buf_printf(out, "%s{%s} %.17g\n", name, labels, value);
    else
        buf_printf(out, "%s %.17g\n", name, value);
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
        buf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, h->bounds[i], (unsigned long long)cumulative);
    }
    buf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.17g\n%s_count %llu\n", name, (unsigned long long)h->count,
               name, h->sum, name, (unsigned long long)h->count);
}
