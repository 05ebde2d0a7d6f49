/* sup_metrics: SPEC O2 histograms and gauge, with Prometheus and JSON
 * exporters. Observations are inputs; no clock is read here. */
#include "sup_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds end at the first +Inf; entries after it are padding, never
 * exported (the ratio kind has only 15 real bounds). */
const double sup_histogram_ms_bounds[SUP_HISTOGRAM_BUCKETS] = {
	1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, INFINITY,
};
const double sup_histogram_ratio_bounds[SUP_HISTOGRAM_BUCKETS] = {
	0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0, INFINITY, INFINITY,
};

static size_t sup__nbounds(const double bounds[SUP_HISTOGRAM_BUCKETS])
{
	for (size_t i = 0; i < SUP_HISTOGRAM_BUCKETS; i++)
		if (isinf(bounds[i]))
			return i + 1;
	return SUP_HISTOGRAM_BUCKETS;
}

void sup_metrics_init(sup_metrics *m)
{
	if (m)
		memset(m, 0, sizeof(*m));
}

void sup_histogram_observe(sup_histogram *h, const double bounds[SUP_HISTOGRAM_BUCKETS], double v)
{
	size_t n, i;

	if (!h || !bounds || !isfinite(v))
		return;
	n = sup__nbounds(bounds);
	for (i = 0; i + 1 < n; i++)
		if (v <= bounds[i])
			break;
	h->buckets[i]++;
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (h->count == 0 || v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
}

double sup_histogram_quantile(const sup_histogram *h, const double bounds[SUP_HISTOGRAM_BUCKETS], double q)
{
	size_t n;
	double rank, cum = 0, v;

	if (!h || !bounds || h->count == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	n = sup__nbounds(bounds);
	rank = q * (double)h->count;
	v = h->max;
	for (size_t i = 0; i < n; i++) {
		double c = (double)h->buckets[i];

		if (c > 0 && cum + c >= rank) {
			double lo = i == 0 ? (bounds[0] > 0 ? 0 : bounds[0]) : bounds[i - 1];
			double hi = bounds[i];

			/* The +Inf bucket has no width to interpolate in: the
			 * observed max is the best estimate, as in Prometheus'
			 * histogram_quantile() returning the highest finite bound. */
			v = isinf(hi) ? h->max : lo + (hi - lo) * ((rank - cum) / c);
			break;
		}
		cum += c;
	}
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

void sup_metrics_observe_init(sup_metrics *m, double ms)
{
	if (m)
		sup_histogram_observe(&m->initialization_time, sup_histogram_ms_bounds, ms);
}

void sup_metrics_observe_call(sup_metrics *m, double ms, bool failed)
{
	unsigned n_failed = 0;

	if (!m)
		return;
	sup_histogram_observe(&m->response_time, sup_histogram_ms_bounds, ms);
	m->calls_total++;
	if (failed)
		m->calls_failed++;
	m->recent[m->recent_pos] = failed ? 1 : 0;
	m->recent_pos = (m->recent_pos + 1) % SUP_METRICS_RECENT;
	if (m->n_recent < SUP_METRICS_RECENT)
		m->n_recent++;
	/* The ring holds exactly the last n_recent outcomes once it wraps, and
	 * slots 0..n_recent-1 before that; either way the first n_recent slots
	 * are the window. */
	for (unsigned i = 0; i < m->n_recent; i++)
		n_failed += m->recent[i];
	sup_histogram_observe(&m->failure_rate, sup_histogram_ratio_bounds,
	                      (double)n_failed / (double)m->n_recent);
}

void sup_metrics_observe_recovery(sup_metrics *m, double ms)
{
	if (m)
		sup_histogram_observe(&m->recovery_time, sup_histogram_ms_bounds, ms);
}

void sup_metrics_set_breaker(sup_metrics *m, int state)
{
	if (m)
		m->breaker_state = state;
}

static const char *sup__breaker_name(int state)
{
	switch (state) {
	case 0:
		return "closed";
	case 1:
		return "open";
	case 2:
		return "half_open";
	}
	return "unknown";
}

/* One row per histogram the exporters walk, so the five O2 names live in
 * one place. */
struct sup__hist_desc {
	const char *dotted, *prom, *help;
	size_t offset;
	const double *bounds;
};

static const struct sup__hist_desc sup__hists[] = {
	{ "python_api.initialization_time", "python_api_initialization_time",
	  "Supervisor initialisation, spawn to ready or mock, in milliseconds.",
	  offsetof(sup_metrics, initialization_time), sup_histogram_ms_bounds },
	{ "python_api.failure_rate", "python_api_failure_rate",
	  "Failed share (0..1) of the last 20 calls, observed after each call.",
	  offsetof(sup_metrics, failure_rate), sup_histogram_ratio_bounds },
	{ "python_api.recovery_time", "python_api_recovery_time",
	  "Agent death to ready again after a restart, in milliseconds.",
	  offsetof(sup_metrics, recovery_time), sup_histogram_ms_bounds },
	{ "grpc.response_time", "grpc_response_time",
	  "Duration of calls to the agent, in milliseconds.",
	  offsetof(sup_metrics, response_time), sup_histogram_ms_bounds },
};

#define SUP__NHISTS (sizeof(sup__hists) / sizeof(sup__hists[0]))

static const sup_histogram *sup__hist(const sup_metrics *m, const struct sup__hist_desc *d)
{
	return (const sup_histogram *)((const char *)m + d->offset);
}

/* Prometheus float text: "+Inf" for infinity, else shortest round-trip. */
static void sup__prom_float(char *buf, size_t len, double v)
{
	if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else if (isnan(v))
		snprintf(buf, len, "NaN");
	else
		snprintf(buf, len, "%.15g", v);
}

static void sup__prom_hist(FILE *f, const struct sup__hist_desc *d, const sup_histogram *h)
{
	size_t n = sup__nbounds(d->bounds);
	uint64_t cum = 0;
	char num[64];

	fprintf(f, "# HELP %s %s\n# TYPE %s histogram\n", d->prom, d->help, d->prom);
	for (size_t i = 0; i < n; i++) {
		cum += h->buckets[i];
		sup__prom_float(num, sizeof(num), d->bounds[i]);
		fprintf(f, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", d->prom, num, cum);
	}
	sup__prom_float(num, sizeof(num), h->sum);
	fprintf(f, "%s_sum %s\n%s_count %" PRIu64 "\n", d->prom, num, d->prom, h->count);
}

int sup_metrics_prometheus(const sup_metrics *m, char **out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!m)
		return -EINVAL;
	f = open_memstream(&text, &len);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; i < SUP__NHISTS; i++) {
		sup__prom_hist(f, &sup__hists[i], sup__hist(m, &sup__hists[i]));
		if (i == 0)
			/* Keep the SPEC's O2 order: the gauge is listed second. */
			fprintf(f,
			        "# HELP python_api_circuit_breaker_state Circuit breaker state: 0 closed, 1 open, 2 half_open.\n"
			        "# TYPE python_api_circuit_breaker_state gauge\n"
			        "python_api_circuit_breaker_state %d\n",
			        m->breaker_state);
	}
	if (ferror(f) | fclose(f)) {
		free(text);
		return -ENOMEM;
	}
	if (len > INT32_MAX) {
		free(text);
		return -ENOMEM;
	}
	*out = text;
	return (int)len;
}

static json_t *sup__json_hist(const sup_histogram *h, const double *bounds)
{
	size_t n = sup__nbounds(bounds);
	uint64_t cum = 0;
	json_t *o, *b;

	b = json_array();
	if (!b)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		cum += h->buckets[i];
		if (json_array_append_new(b, json_pack("{s:o,s:I}", "le",
		                                       isinf(bounds[i]) ? json_string("+Inf") : json_real(bounds[i]),
		                                       "count", (json_int_t)cum)) != 0) {
			json_decref(b);
			return NULL;
		}
	}
	/* "o" steals b even on failure, so no decref on the error path. */
	o = json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:o}", "count", (json_int_t)h->count, "sum", h->sum, "min", h->min,
	              "max", h->max, "p50", sup_histogram_quantile(h, bounds, 0.5), "p99",
	              sup_histogram_quantile(h, bounds, 0.99), "buckets", b);
	return o;
}

json_t *sup_metrics_json(const sup_metrics *m)
{
	json_t *o;

	if (!m)
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	for (size_t i = 0; i < SUP__NHISTS; i++) {
		json_t *h = sup__json_hist(sup__hist(m, &sup__hists[i]), sup__hists[i].bounds);

		if (json_object_set_new(o, sup__hists[i].dotted, h) != 0)
			goto fail;
	}
	if (json_object_set_new(o, "python_api.circuit_breaker_state",
	                        json_pack("{s:i,s:s}", "value", m->breaker_state, "state",
	                                  sup__breaker_name(m->breaker_state))) != 0 ||
	    json_object_set_new(o, "calls_total", json_integer((json_int_t)m->calls_total)) != 0 ||
	    json_object_set_new(o, "calls_failed", json_integer((json_int_t)m->calls_failed)) != 0)
		goto fail;
	return o;
fail:
	json_decref(o);
	return NULL;
}
