/*
 * metrics: Prometheus text exposition and the histogram's buckets and quantiles.
 */
#include <math.h>

#include "metrics.h"
#include "test.h"

static void test_counter_gauge_sample(void)
{
    buf_t out = BUF_INIT;
    metrics_write_counter(&out, "events_total", "Events produced.", "", 67663);
    metrics_write_sample(&out, "events_total", "reason=\"transform\"", 898);
    metrics_write_gauge(&out, "lag", "Consumer lag\\n \\ by partition.", "partition=\"0\"", 0.1);
    metrics_write_gauge(&out, "ratio", "A ratio.", NULL, 1e-7);
    metrics_write_gauge(&out, "inf", "Odd values.", "", INFINITY);
    metrics_write_sample(&out, "inf", "x=\"1\"", -INFINITY);
    metrics_write_sample(&out, "inf", "x=\"2\"", NAN);
    metrics_write_sample(&out, "big", "", 1e17);
    ASSERT_STR_EQ(out.data, "# HELP events_total Events produced.\n"
                            "# TYPE events_total counter\n"
                            "events_total 67663\n"
                            "events_total{reason=\"transform\"} 898\n"
                            "# HELP lag Consumer lag\\\\n \\\\ by partition.\n"
                            "# TYPE lag gauge\n"
                            "lag{partition=\"0\"} 0.1\n"
                            "# HELP ratio A ratio.\n"
                            "# TYPE ratio gauge\n"
                            "ratio 1e-07\n"
                            "# HELP inf Odd values.\n"
                            "# TYPE inf gauge\n"
                            "inf +Inf\n"
                            "inf{x=\"1\"} -Inf\n"
                            "inf{x=\"2\"} NaN\n"
                            "big 1e+17\n");
    buf_free(&out);
}

static void test_histogram(void)
{
    metrics_histogram_t h;
    metrics_histogram_init_latency(&h);
    ASSERT_EQ(h.n_bounds, 16);
    ASSERT(isnan(metrics_histogram_quantile(&h, 0.99)));
    /* 100 observations: 90 at 1 ms, 9 at 20 ms, 1 at 60 s (beyond the last bucket). */
    for (int i = 0; i < 90; i++)
        metrics_histogram_observe(&h, 0.001); /* on a bound: counts in that bucket (le) */
    for (int i = 0; i < 9; i++)
        metrics_histogram_observe(&h, 0.02);
    metrics_histogram_observe(&h, 60);
    ASSERT_EQ(h.count, 100);
    ASSERT_EQ(h.counts[3], 90);  /* le 0.001 */
    ASSERT_EQ(h.counts[7], 9);   /* le 0.025 */
    ASSERT_EQ(h.counts[16], 1);  /* +Inf */
    /* Linear interpolation inside the bucket, as histogram_quantile. */
    double q50 = metrics_histogram_quantile(&h, 0.5);
    ASSERT(fabs(q50 - (0.0005 + 0.0005 * 50.0 / 90.0)) < 1e-12);
    double q95 = metrics_histogram_quantile(&h, 0.95);
    ASSERT(fabs(q95 - (0.01 + 0.015 * 5.0 / 9.0)) < 1e-12);
    ASSERT(metrics_histogram_quantile(&h, 1.0) == 10); /* in +Inf: the highest finite bound */
    ASSERT(metrics_histogram_quantile(&h, -1) == -INFINITY);
    ASSERT(metrics_histogram_quantile(&h, 2) == INFINITY);

    buf_t out = BUF_INIT;
    metrics_write_histogram(&out, "lat_seconds", "Latency.", &h);
    static const char head[] = "# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
                               "lat_seconds_bucket{le=\"0.0001\"} 0\nlat_seconds_bucket{le=\"0.00025\"} 0\n";
    ASSERT(strncmp(out.data, head, sizeof(head) - 1) == 0);
    ASSERT(strstr(out.data, "lat_seconds_bucket{le=\"0.001\"} 90\n") != NULL);
    ASSERT(strstr(out.data, "lat_seconds_bucket{le=\"0.025\"} 99\n") != NULL);
    ASSERT(strstr(out.data, "lat_seconds_bucket{le=\"10\"} 99\n") != NULL);
    ASSERT(strstr(out.data, "lat_seconds_bucket{le=\"+Inf\"} 100\nlat_seconds_sum 60.27\nlat_seconds_count 100\n") != NULL);
    buf_free(&out);
}

int main(void)
{
    RUN_TEST(test_counter_gauge_sample);
    RUN_TEST(test_histogram);
    return 0;
}
