/*
 * metrics: Prometheus text exposition (version 0.0.4) helpers and a fixed-bucket histogram.
 * Single-threaded: observe and render on the loop thread.
 */
#ifndef COMMON_METRICS_H
#define COMMON_METRICS_H

#include <stdint.h>

#include "buf.h"

#define METRICS_HISTOGRAM_MAX_BUCKETS 32

typedef struct metrics_histogram_s {
    double bounds[METRICS_HISTOGRAM_MAX_BUCKETS]; /* upper bounds, ascending; +Inf implied */
    uint64_t counts[METRICS_HISTOGRAM_MAX_BUCKETS + 1]; /* not cumulative; last is +Inf */
    int n_bounds;
    uint64_t count;
    double sum;
} metrics_histogram_t;

/* Latency buckets in seconds from 100 us to 10 s. */
void metrics_histogram_init_latency(metrics_histogram_t *h);
void metrics_histogram_observe(metrics_histogram_t *h, double value);
/* The q-quantile (0..1) estimated by linear interpolation inside its bucket, as PromQL's histogram_quantile. */
double metrics_histogram_quantile(const metrics_histogram_t *h, double q);

/* Writes "# HELP", "# TYPE" and the sample. labels is "" or 'reason="transform"' (without braces). */
void metrics_write_counter(buf_t *out, const char *name, const char *help, const char *labels, double value);
void metrics_write_gauge(buf_t *out, const char *name, const char *help, const char *labels, double value);
/* For a second labelled sample of a metric already introduced: only the sample line. */
void metrics_write_sample(buf_t *out, const char *name, const char *labels, double value);
void metrics_write_histogram(buf_t *out, const char *name, const char *help, const metrics_histogram_t *h);

#endif
