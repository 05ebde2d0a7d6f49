/* hx_expect: a scenario's expectations (events with time windows, call
 * outcomes, values) checked against what was measured, each a record with
 * expected, measured and a message that says what differed. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hx_internal.h"
#include "nv.h"

void hx_add_exp(hx_checker *c, const char *clause, const char *kind, const char *desc, bool pass,
		    json_t *expected, json_t *measured, const char *msg)
{
	char id[16];
	snprintf(id, sizeof(id), "E%zu", json_array_size(c->exps) + 1);
	json_array_append_new(c->exps,
			      json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s}", "id", id, "clause",
					clause ? clause : c->clause0, "kind", kind, "description", desc,
					"verdict", pass ? "pass" : "fail", "expected",
					expected ? expected : json_null(), "measured",
					measured ? measured : json_null(), "message", msg ? msg : ""));
	c->failed += !pass;
}



/* Text form of a value for comparisons: strings as-is, objects by their
 * "kind"/"message" if any, else compact JSON. Caller frees. */
char *hx_text_of(const json_t *v)
{
	if (!v)
		return strdup("(absent)");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		char b[32];
		snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
		return strdup(b);
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static const char *kind_of(const json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_object(v)) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		if (k)
			return k;
	}
	return NULL;
}

static bool status_equal(const json_t *v, const char *want)
{
	if (json_is_string(v))
		return !strcasecmp(json_string_value(v), want);
	if (json_is_integer(v)) {
		long long c = json_integer_value(v);
		if (c >= 0 && c < 64 && nv_status_name((int)c) && !strcasecmp(nv_status_name((int)c), want))
			return true;
		char b[32];
		snprintf(b, sizeof(b), "%lld", c);
		return !strcmp(b, want);
	}
	return false;
}

/* Does actual value `v` satisfy expectation `m` (scalar or {"op":{…}})? */
bool hx_match_value(const json_t *v, const json_t *m)
{
	json_t *op = json_object_get(m, "op");
	if (json_is_object(m) && op) {
		json_t *x;
		if ((x = json_object_get(op, "present")) && json_is_true(x) != (v != NULL))
			return false;
		if ((x = json_object_get(op, "min")) &&
		    (!json_is_number(v) || json_number_value(v) < json_number_value(x)))
			return false;
		if ((x = json_object_get(op, "max")) &&
		    (!json_is_number(v) || json_number_value(v) > json_number_value(x)))
			return false;
		if ((x = json_object_get(op, "ne")) && v && hx_match_value(v, x))
			return false;
		if ((x = json_object_get(op, "contains"))) {
			char *t = hx_text_of(v), *w = hx_text_of(x);
			bool ok = v && t && w && strstr(t, w);
			free(t);
			free(w);
			if (!ok)
				return false;
		}
		return true;
	}
	if (!v)
		return false;
	if (json_is_number(m) && json_is_number(v))
		return json_number_value(m) == json_number_value(v);
	if (json_is_string(m) && json_is_string(v))
		return !strcmp(json_string_value(m), json_string_value(v));
	if (json_is_string(m) && json_is_object(v) && kind_of(v)) /* reason objects */
		return !strcmp(json_string_value(m), kind_of(v));
	return json_equal((json_t *)v, (json_t *)m);
}

static bool event_matches(const json_t *ev, const json_t *exp)
{
	if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "",
		   json_string_value(json_object_get(exp, "event"))))
		return false;
	const char *k;
	json_t *m;
	json_object_foreach(json_object_get(exp, "where"), k, m) /* "error.context.errno": a path */
		if (!hx_match_value(strchr(k, '.') ? hx_dig((json_t *)ev, k) : json_object_get(ev, k), m))
			return false;
	return true;
}

/* Dotted path lookup ("breaker.state"); keys may contain dots themselves
 * ("python_api.initialization_time.count"), so the longest key wins. */
json_t *hx_dig(json_t *root, const char *path)
{
	if (!json_is_object(root))
		return NULL;
	json_t *v = json_object_get(root, path);
	if (v)
		return v;
	for (size_t i = strlen(path); i-- > 0;) {
		if (path[i] != '.')
			continue;
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)i, path);
		if ((v = json_object_get(root, key)) && (v = hx_dig(v, path + i + 1)))
			return v;
	}
	return NULL;
}

void hx_check_events(hx_checker *c, json_t *exp_events, json_t *events)
{
	size_t ne = json_array_size(exp_events);
	long *matched = calloc(ne + 1, sizeof(long));
	long cursor = 0, prev = -1, prev_exp = -1;
	size_t i;
	json_t *x;
	json_array_foreach(exp_events, i, x) {
		matched[i] = -1;
		const char *name = json_string_value(json_object_get(x, "event"));
		const char *clause = json_string_value(json_object_get(x, "clause"));
		char *wh = json_dumps(json_object_get(x, "where") ?: json_object(), JSON_COMPACT);
		char desc[512];
		json_t *cnt = json_object_get(x, "count");
		bool absent = json_is_true(json_object_get(x, "absent"));
		if (cnt || absent) {
			long want = absent ? 0 : (long)json_integer_value(cnt);
			long got = 0, first = -1;
			size_t j;
			json_t *ev;
			json_array_foreach(events, j, ev)
				if (event_matches(ev, x)) {
					if (first < 0)
						first = (long)j;
					got++;
				}
			snprintf(desc, sizeof(desc), "%s %s where %s", absent ? "no event" : "count of",
				 name, wh);
			bool ok = got == want;
			char msg[256];
			snprintf(msg, sizeof(msg), "expected %ld matching event(s), saw %ld", want, got);
			hx_add_exp(c, clause, absent ? "event_absent" : "event_count", desc, ok,
				json_pack("{s:s,s:O,s:i}", "event", name, "where",
					  json_object_get(x, "where") ?: json_null(), "count", (int)want),
				json_pack("{s:i}", "count", (int)got), ok ? "" : msg);
			free(wh);
			continue;
		}
		bool ordered = !json_is_false(json_object_get(x, "ordered"));
		long j = -1;
		for (long k = ordered ? cursor : 0; k < (long)json_array_size(events); k++)
			if (event_matches(json_array_get(events, (size_t)k), x)) {
				j = k;
				break;
			}
		json_t *after = json_object_get(x, "after");
		long ref = after ? matched[json_integer_value(after)] : prev;
		bool ref_missing = (after || prev >= 0) && ref < 0 && (after || prev != -1);
		json_t *mn = json_object_get(x, "min_ms"), *mx = json_object_get(x, "max_ms");
		/* in the scenario's words: its labels, where it wrote them */
		const char *label = json_string_value(json_object_get(x, "label"));
		long ref_exp = after ? (long)json_integer_value(after) : prev_exp;
		const char *ref_label = ref_exp >= 0 ? json_string_value(json_object_get(
								    json_array_get(exp_events, (size_t)ref_exp), "label"))
						     : NULL;
		char timed[96] = "";
		if ((mn || mx) && ref_label)
			snprintf(timed, sizeof(timed), " timed after '%s'", ref_label);
		else if ((mn || mx) && after)
			snprintf(timed, sizeof(timed), " timed after expected event #%ld", ref_exp);
		else if ((mn || mx) && prev < 0 && i == 0)
			snprintf(timed, sizeof(timed), " timed from supervisor creation");
		else if (mn || mx)
			snprintf(timed, sizeof(timed), " timed after the previous expected event");
		snprintf(desc, sizeof(desc), "%s%s%s where %s%s", label ? label : "", label ? ": " : "", name, wh,
			 timed);
		json_t *expected = json_pack("{s:s,s:O}", "event", name, "where",
					     json_object_get(x, "where") ?: json_null());
		if (label)
			json_object_set_new(expected, "label", json_string(label));
		if (mn)
			json_object_set(expected, "min_ms", mn);
		if (mx)
			json_object_set(expected, "max_ms", mx);
		if (after)
			json_object_set(expected, "after", after);
		if (j < 0) {
			long anywhere = -1;
			for (long k = 0; k < (long)json_array_size(events); k++)
				if (event_matches(json_array_get(events, (size_t)k), x)) {
					anywhere = k;
					break;
				}
			char msg[256];
			if (anywhere >= 0)
				snprintf(msg, sizeof(msg), "seen only out of order (event #%ld, before the "
					 "previous expected event #%ld)", anywhere, cursor - 1);
			else
				snprintf(msg, sizeof(msg), "no matching event in the stream");
			hx_add_exp(c, clause, "event", desc, false, expected, NULL, msg);
			free(wh);
			continue;
		}
		matched[i] = j;
		double t = json_number_value(json_object_get(json_array_get(events, (size_t)j), "t_ms"));
		double t_ref = ref >= 0 ? json_number_value(json_object_get(
							 json_array_get(events, (size_t)ref), "t_ms"))
					: 0.0;
		double delta = t - t_ref;
		json_t *measured = json_pack("{s:f,s:i}", "t_ms", t, "index", (int)j);
		bool ok = true;
		char msg[256] = "";
		if (mn || mx) {
			json_object_set_new(measured, "delta_ms", json_real(delta));
			if (ref_missing) {
				ok = false;
				snprintf(msg, sizeof(msg), "reference event was not matched, cannot time");
			} else if (mn && delta < json_number_value(mn)) {
				ok = false;
				snprintf(msg, sizeof(msg), "%.3f ms after its reference, expected ≥ %g ms",
					 delta, json_number_value(mn));
			} else if (mx && delta > json_number_value(mx)) {
				ok = false;
				snprintf(msg, sizeof(msg), "%.3f ms after its reference, expected ≤ %g ms",
					 delta, json_number_value(mx));
			}
		}
		hx_add_exp(c, clause, "event", desc, ok, expected, measured, msg);
		if (ordered) {
			cursor = j + 1;
			prev = j;
			prev_exp = (long)i;
		}
		free(wh);
	}
	free(matched);
}

void hx_check_calls(hx_checker *c, json_t *exp_calls, json_t *call_replies)
{
	size_t i;
	json_t *x;
	json_array_foreach(exp_calls, i, x) {
		int idx = (int)json_integer_value(json_object_get(x, "index"));
		json_t *r = json_array_get(call_replies, (size_t)idx);
		const char *clause = json_string_value(json_object_get(x, "clause"));
		json_t *expected = json_deep_copy(x);
		json_object_del(expected, "clause");
		char desc[128];
		snprintf(desc, sizeof(desc), "call #%d outcome", idx);
		if (!r) {
			hx_add_exp(c, clause, "call", desc, false, expected, NULL,
				"no reply to this call (it was never answered or never sent)");
			continue;
		}
		char msg[1024] = "";
		size_t ml = 0;
#define BAD(...) (ml += (size_t)snprintf(msg + ml, ml < sizeof(msg) ? sizeof(msg) - ml : 0, __VA_ARGS__))
		json_t *v;
		if ((v = json_object_get(x, "ok")) && json_is_true(json_object_get(r, "ok")) != json_is_true(v))
			BAD("ok is %s, expected %s; ", json_is_true(json_object_get(r, "ok")) ? "true" : "false",
			    json_is_true(v) ? "true" : "false");
		if ((v = json_object_get(x, "mock")) &&
		    json_is_true(json_object_get(r, "mock")) != json_is_true(v))
			BAD("mock is %s, expected %s; ",
			    json_is_true(json_object_get(r, "mock")) ? "true" : "false",
			    json_is_true(v) ? "true" : "false");
		if ((v = json_object_get(x, "status")) &&
		    !status_equal(json_object_get(r, "status"), json_string_value(v))) {
			char *t = hx_text_of(json_object_get(r, "status"));
			BAD("status is %s, expected %s; ", t ? t : "?", json_string_value(v));
			free(t);
		}
		if ((v = json_object_get(x, "error_null"))) {
			json_t *e = json_object_get(r, "error");
			bool isnull = !e || json_is_null(e);
			if (isnull != json_is_true(v))
				BAD("error is %s; ", isnull ? "null" : "set");
		}
		static const char *const sub[][2] = { { "error_contains", "error" },
						      { "text_contains", "text" },
						      { "result_contains", "result_json" } };
		for (size_t k = 0; k < 3; k++) {
			if (!(v = json_object_get(x, sub[k][0])))
				continue;
			json_t *fv = json_object_get(r, sub[k][1]);
			char *t = fv && !json_is_null(fv) ? hx_text_of(fv) : NULL;
			if (!t || !strstr(t, json_string_value(v)))
				BAD("%s is %s, expected it to contain \"%s\"; ", sub[k][1], t ? t : "null",
				    json_string_value(v));
			free(t);
		}
		/* measured from outside: command sent → reply received */
		double rt = json_number_value(json_object_get(r, "harness_ms"));
		if ((v = json_object_get(x, "max_ms")) && rt > json_number_value(v))
			BAD("took %.1f ms (harness round trip), expected ≤ %g ms; ", rt, json_number_value(v));
		if ((v = json_object_get(x, "min_ms")) && rt < json_number_value(v))
			BAD("took %.1f ms (harness round trip), expected ≥ %g ms; ", rt, json_number_value(v));
#undef BAD
		json_t *measured = json_deep_copy(r);
		hx_add_exp(c, clause, "call", desc, ml == 0, expected, measured, msg);
	}
}

void hx_check_value(hx_checker *c, const char *clause, const char *kind, const char *desc,
			json_t *actual, json_t *want)
{
	bool ok = hx_match_value(actual, want);
	char msg[512] = "";
	if (!ok) {
		char *a = hx_text_of(actual), *w = hx_text_of(want);
		snprintf(msg, sizeof(msg), "measured %s, expected %s", a ? a : "?", w ? w : "?");
		free(a);
		free(w);
	}
	hx_add_exp(c, clause, kind, desc, ok, json_deep_copy(want), actual ? json_deep_copy(actual) : NULL,
		msg);
}
