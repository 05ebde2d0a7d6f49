/* sup_metrics: the five metrics of SPEC O2 as a caller-owned snapshot,
 * exported as Prometheus text (dots → underscores) and as JSON. Values and
 * times are inputs; nothing here reads a clock. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define SUP_HISTOGRAM_BUCKETS 16
#define SUP_METRICS_RECENT 20

/* buckets[i] counts observations v with bounds[i-1] < v <= bounds[i]
 * (non-cumulative; exporters accumulate). The bounds depend on the kind:
 * see sup_histogram_ms_bounds / sup_histogram_ratio_bounds. min/max are 0
 * while count == 0. */
typedef struct sup_histogram {
	uint64_t count;
	double sum, min, max;
	uint64_t buckets[SUP_HISTOGRAM_BUCKETS];
} sup_histogram;

/* The fixed upper bounds (last one +Inf) for ms histograms and for the
 * failure-rate ratio histogram; SUP_HISTOGRAM_BUCKETS entries each. */
extern const double sup_histogram_ms_bounds[SUP_HISTOGRAM_BUCKETS];
extern const double sup_histogram_ratio_bounds[SUP_HISTOGRAM_BUCKETS];

/* Caller-owned, no heap. */
typedef struct sup_metrics {
	sup_histogram initialization_time, failure_rate, recovery_time, response_time;
	int breaker_state; /* 0 closed, 1 open, 2 half_open */
	uint64_t calls_total, calls_failed;
	/* ring of the last 20 call outcomes (1 = failed) for failure_rate */
	unsigned char recent[SUP_METRICS_RECENT];
	unsigned n_recent, recent_pos;
} sup_metrics;

void sup_metrics_init(sup_metrics *m);

/* Add one observation to a histogram with the given bounds. Non-finite
 * values are ignored: they have no place in sum or JSON. */
void sup_histogram_observe(sup_histogram *h, const double bounds[SUP_HISTOGRAM_BUCKETS], double v);

/* Estimated quantile q (0..1) from the buckets, Prometheus-style linear
 * interpolation inside the bucket, clamped to [min, max]. 0 when empty. */
double sup_histogram_quantile(const sup_histogram *h, const double bounds[SUP_HISTOGRAM_BUCKETS], double q);

/* python_api.initialization_time: spawn start → ready or mock, in ms. */
void sup_metrics_observe_init(sup_metrics *m, double ms);

/* grpc.response_time += ms; then python_api.failure_rate observes
 * failed/total over the last 20 calls (this one included). */
void sup_metrics_observe_call(sup_metrics *m, double ms, bool failed);

/* python_api.recovery_time: agent death → ready again, in ms (L8 restart). */
void sup_metrics_observe_recovery(sup_metrics *m, double ms);

/* python_api.circuit_breaker_state gauge: 0 closed, 1 open, 2 half_open
 * (same numbering as sup_breaker_state). */
void sup_metrics_set_breaker(sup_metrics *m, int state);

/* Prometheus text exposition (version 0.0.4) of all five metrics, names
 * with dots mapped to underscores. *out is malloc'd, NUL-terminated, owned
 * by the caller (free()). Returns its length, or -EINVAL / -ENOMEM with
 * *out = NULL. */
int sup_metrics_prometheus(const sup_metrics *m, char **out);

/* JSON snapshot keyed by the SPEC's dotted names:
 * "python_api.initialization_time": {"count","sum","min","max","p50","p99",
 * "buckets":[{"le":bound or "+Inf","count":cumulative}…]}, …,
 * "python_api.circuit_breaker_state": {"value":0,"state":"closed"},
 * plus "calls_total" and "calls_failed". New reference; NULL on ENOMEM. */
json_t *sup_metrics_json(const sup_metrics *m);
