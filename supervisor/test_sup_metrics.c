/* Unit tests for sup_metrics: SPEC O2 histograms, gauge and exporters. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sup_metrics.h"

static void test_histogram_buckets(void **state)
{
	sup_histogram h = { 0 };
	/* value → bucket index: bounds are inclusive upper limits */
	static const struct {
		double v;
		int bucket;
	} t[] = {
		{ 0.5, 0 }, { 1, 0 }, { 1.5, 1 }, { 2, 1 }, { 3, 2 }, { 499, 8 }, { 500, 8 },
		{ 501, 9 }, { 60000, 14 }, { 60001, 15 }, { 1e9, 15 },
	};
	uint64_t expect[SUP_HISTOGRAM_BUCKETS] = { 0 };
	double sum = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sup_histogram_observe(&h, sup_histogram_ms_bounds, t[i].v);
		expect[t[i].bucket]++;
		sum += t[i].v;
	}
	sup_histogram_observe(&h, sup_histogram_ms_bounds, NAN); /* ignored */
	sup_histogram_observe(&h, sup_histogram_ms_bounds, INFINITY);
	assert_int_equal(h.count, sizeof(t) / sizeof(t[0]));
	assert_memory_equal(h.buckets, expect, sizeof(expect));
	assert_true(h.sum == sum);
	assert_true(h.min == 0.5);
	assert_true(h.max == 1e9);
}

static void test_quantile(void **state)
{
	sup_histogram h = { 0 };

	(void)state;
	assert_true(sup_histogram_quantile(&h, sup_histogram_ms_bounds, 0.5) == 0);
	for (int i = 0; i < 100; i++)
		sup_histogram_observe(&h, sup_histogram_ms_bounds, 7); /* all in (5,10] */
	/* clamped to the observed range, so a constant series reads exactly */
	assert_true(sup_histogram_quantile(&h, sup_histogram_ms_bounds, 0.5) == 7);
	assert_true(sup_histogram_quantile(&h, sup_histogram_ms_bounds, 0.99) == 7);
	for (int i = 0; i < 100; i++)
		sup_histogram_observe(&h, sup_histogram_ms_bounds, 400); /* (250,500] */
	double p50 = sup_histogram_quantile(&h, sup_histogram_ms_bounds, 0.5);
	double p99 = sup_histogram_quantile(&h, sup_histogram_ms_bounds, 0.99);
	assert_true(p50 >= 7 && p50 <= 10);
	assert_true(p99 > 250 && p99 <= 400);
}

static void test_failure_rate_window(void **state)
{
	sup_metrics m;

	(void)state;
	sup_metrics_init(&m);
	sup_metrics_observe_call(&m, 3, true); /* 1/1 = 1.0 */
	assert_int_equal(m.failure_rate.count, 1);
	assert_true(m.failure_rate.max == 1.0);
	sup_metrics_observe_call(&m, 3, false); /* 1/2 = 0.5 */
	assert_true(m.failure_rate.min == 0.5);
	assert_int_equal(m.failure_rate.buckets[6], 1); /* le=0.5 */
	assert_int_equal(m.failure_rate.buckets[13], 1); /* le=1.0 */
	/* 20 successes push the failure out of the last-20 window: rate 0 */
	for (int i = 0; i < 20; i++)
		sup_metrics_observe_call(&m, 3, false);
	assert_true(m.failure_rate.min == 0.0);
	assert_int_equal(m.n_recent, 20);
	/* 20 failures: rate climbs to 1.0 exactly */
	for (int i = 0; i < 20; i++)
		sup_metrics_observe_call(&m, 3, true);
	assert_int_equal(m.calls_total, 42);
	assert_int_equal(m.calls_failed, 21);
	assert_int_equal(m.response_time.count, 42);
	assert_int_equal(m.failure_rate.count, 42);
	assert_int_equal(m.failure_rate.buckets[13], 2); /* 1/1 first, 20/20 last */
	assert_int_equal(m.failure_rate.buckets[14], 0); /* the +Inf bucket stays empty */
	assert_int_equal(m.failure_rate.buckets[15], 0); /* padding never used */
}

/* Against a naive model: rate = failures among the last min(n, 20) calls. */
static void test_failure_rate_model(void **state)
{
	sup_metrics m;
	sup_histogram ref = { 0 };
	bool outcome[200];

	(void)state;
	sup_metrics_init(&m);
	for (int i = 0; i < 200; i++) {
		int from = i >= 19 ? i - 19 : 0, failed = 0;

		outcome[i] = (i * 7 + i / 13) % 5 < 2; /* an uneven, fixed pattern */
		sup_metrics_observe_call(&m, 1, outcome[i]);
		for (int k = from; k <= i; k++)
			failed += outcome[k];
		sup_histogram_observe(&ref, sup_histogram_ratio_bounds, (double)failed / (double)(i - from + 1));
	}
	assert_memory_equal(m.failure_rate.buckets, ref.buckets, sizeof(ref.buckets));
	assert_true(m.failure_rate.sum == ref.sum);
}

/* Parse one exposition line "name{labels} value"; returns false if malformed. */
static bool parse_sample(const char *line, char *name, size_t nlen, char *le, size_t lelen, double *value)
{
	const char *p = line, *sp;
	char *end;
	size_t n;

	while (*p && *p != '{' && *p != ' ')
		p++;
	n = (size_t)(p - line);
	if (n == 0 || n >= nlen)
		return false;
	memcpy(name, line, n);
	name[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!(name[i] == '_' || (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9')))
			return false;
	le[0] = '\0';
	if (*p == '{') {
		const char *close = strchr(p, '}');
		if (!close || strncmp(p, "{le=\"", 5) != 0 || close[-1] != '"')
			return false;
		n = (size_t)(close - 1 - (p + 5));
		if (n >= lelen)
			return false;
		memcpy(le, p + 5, n);
		le[n] = '\0';
		p = close + 1;
	}
	if (*p != ' ')
		return false;
	sp = p + 1;
	*value = strtod(sp, &end);
	return end != sp && *end == '\0';
}

static void check_exposition(const char *text, const sup_metrics *m)
{
	static const char *const names[] = { "python_api_initialization_time", "python_api_failure_rate",
		                             "python_api_recovery_time", "grpc_response_time" };
	char *copy = strdup(text), *save = NULL, *line;
	double last_cum[4] = { -1, -1, -1, -1 }, inf_count[4] = { -1, -1, -1, -1 }, count[4] = { -1, -1, -1, -1 };
	int gauge_seen = 0, type_lines = 0, help_lines = 0;

	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], le[32];
		double v;

		if (line[0] == '#') {
			type_lines += strncmp(line, "# TYPE ", 7) == 0;
			help_lines += strncmp(line, "# HELP ", 7) == 0;
			assert_true(strncmp(line, "# TYPE ", 7) == 0 || strncmp(line, "# HELP ", 7) == 0);
			continue;
		}
		assert_true(parse_sample(line, name, sizeof(name), le, sizeof(le), &v));
		assert_null(strchr(name, '.')); /* dots mapped to underscores */
		if (strcmp(name, "python_api_circuit_breaker_state") == 0) {
			gauge_seen++;
			assert_true(v == m->breaker_state);
			continue;
		}
		size_t k;
		for (k = 0; k < 4; k++)
			if (strncmp(name, names[k], strlen(names[k])) == 0)
				break;
		assert_true(k < 4);
		const char *suffix = name + strlen(names[k]);
		if (strcmp(suffix, "_bucket") == 0) {
			assert_true(le[0] != '\0');
			assert_true(v >= last_cum[k]); /* cumulative: non-decreasing */
			last_cum[k] = v;
			if (strcmp(le, "+Inf") == 0) {
				assert_true(inf_count[k] < 0); /* exactly one +Inf bucket */
				inf_count[k] = v;
			}
		} else if (strcmp(suffix, "_count") == 0) {
			count[k] = v;
		} else {
			assert_string_equal(suffix, "_sum");
		}
	}
	assert_int_equal(gauge_seen, 1);
	assert_int_equal(type_lines, 5);
	assert_int_equal(help_lines, 5);
	for (int k = 0; k < 4; k++) {
		assert_true(count[k] >= 0);
		assert_true(inf_count[k] == count[k]); /* +Inf == _count */
	}
	free(copy);
}

static void test_prometheus(void **state)
{
	sup_metrics m;
	char *text = NULL;
	int n;

	(void)state;
	sup_metrics_init(&m);
	n = sup_metrics_prometheus(&m, &text); /* empty snapshot is valid too */
	assert_true(n > 0);
	check_exposition(text, &m);
	free(text);

	sup_metrics_observe_init(&m, 12.5);
	sup_metrics_observe_init(&m, 80000);
	sup_metrics_observe_recovery(&m, 700);
	for (int i = 0; i < 30; i++)
		sup_metrics_observe_call(&m, 0.3 * i, i % 3 == 0);
	sup_metrics_set_breaker(&m, 2);
	n = sup_metrics_prometheus(&m, &text);
	assert_int_equal(n, (int)strlen(text));
	check_exposition(text, &m);
	assert_non_null(strstr(text, "# TYPE python_api_circuit_breaker_state gauge\n"));
	assert_non_null(strstr(text, "# TYPE grpc_response_time histogram\n"));
	assert_non_null(strstr(text, "python_api_initialization_time_bucket{le=\"25\"} 1\n"));
	assert_non_null(strstr(text, "python_api_initialization_time_bucket{le=\"60000\"} 1\n"));
	assert_non_null(strstr(text, "python_api_initialization_time_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(text, "python_api_initialization_time_sum 80012.5\n"));
	assert_non_null(strstr(text, "python_api_failure_rate_bucket{le=\"0.01\"}"));
	assert_non_null(strstr(text, "python_api_circuit_breaker_state 2\n"));
	assert_non_null(strstr(text, "milliseconds")); /* unit in HELP */
	free(text);
	assert_int_equal(sup_metrics_prometheus(NULL, &text), -EINVAL);
	assert_null(text);
}

static void test_json(void **state)
{
	sup_metrics m;
	json_t *j, *h, *b;

	(void)state;
	sup_metrics_init(&m);
	sup_metrics_observe_init(&m, 4);
	sup_metrics_observe_init(&m, 40);
	sup_metrics_observe_call(&m, 2, false);
	sup_metrics_set_breaker(&m, 1);
	j = sup_metrics_json(&m);
	assert_non_null(j);
	h = json_object_get(j, "python_api.initialization_time");
	assert_non_null(h);
	assert_int_equal(json_integer_value(json_object_get(h, "count")), 2);
	assert_true(json_real_value(json_object_get(h, "sum")) == 44);
	assert_true(json_real_value(json_object_get(h, "min")) == 4);
	assert_true(json_real_value(json_object_get(h, "max")) == 40);
	assert_non_null(json_object_get(h, "p50"));
	assert_non_null(json_object_get(h, "p99"));
	b = json_object_get(h, "buckets");
	assert_int_equal(json_array_size(b), 16);
	assert_true(json_real_value(json_object_get(json_array_get(b, 2), "le")) == 5);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 2), "count")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(b, 15), "le")), "+Inf");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(b, 15), "count")), 2);
	/* the ratio kind has 15 real bounds; the pad is not exported */
	assert_int_equal(json_array_size(json_object_get(json_object_get(j, "python_api.failure_rate"), "buckets")), 15);
	assert_non_null(json_object_get(j, "python_api.recovery_time"));
	assert_non_null(json_object_get(j, "grpc.response_time"));
	h = json_object_get(j, "python_api.circuit_breaker_state");
	assert_int_equal(json_integer_value(json_object_get(h, "value")), 1);
	assert_string_equal(json_string_value(json_object_get(h, "state")), "open");
	assert_int_equal(json_integer_value(json_object_get(j, "calls_total")), 1);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_buckets), cmocka_unit_test(test_quantile),
		cmocka_unit_test(test_failure_rate_window), cmocka_unit_test(test_failure_rate_model),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
