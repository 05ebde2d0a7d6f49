/* hx_scenario: scenario YAML → normalised JSON, with libfyaml. Every field is
 * checked; an error names file:line:column and the field path, and the
 * scenario fails (issue 5: "a malformed file gets an error with file, line
 * and field"). Unknown keys are errors too, so a typo never silently drops
 * an expectation. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <libfyaml.h>

#include "flt.h"
#include "hx_internal.h"
#include "hx_yaml.h"
#include "nv.h"
#include "rpt.h"

/* the one clause catalogue: reports/clauses.json (rpt_clause_known) */
static bool valid_clause(const char *s)
{
	return rpt_clause_known(s);
}

static int parse_clauses(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	struct fy_node *n = hx_yget(root, "clauses");
	if (!n)
		return hx_yerr(c, root, "clauses", "required key 'clauses' is missing");
	if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) == 0)
		return hx_yerr(c, n, "clauses", "must be a non-empty list of SPEC clause IDs");
	json_t *a = json_array();
	json_object_set_new(doc, "clauses", a);
	void *it = NULL;
	struct fy_node *e;
	int i = 0;
	while ((e = fy_node_sequence_iterate(n, &it))) {
		const char *s = fy_node_is_scalar(e) ? fy_node_get_scalar0(e) : NULL;
		if (!s || !valid_clause(s))
			return hx_yerr(c, e, "clauses", "item %d: '%s' is not a clause of the catalogue (reports/clauses.json: "
				    "L1–L8, H1–H5, M1–M2, C1–C4, K1–K2, S1–S4, O1–O3, P1–P3, A1–A4)", i, s ? s : "?");
		json_array_append_new(a, json_string(s));
		i++;
	}
	return 0;
}

static int parse_agent(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	static const char *const keys[] = { "kind", "preset", "script", "path", NULL };
	struct fy_node *n = hx_yget(root, "agent");
	if (!n)
		return hx_yerr(c, root, "agent", "required key 'agent' is missing");
	int rc = hx_ykeys(c, n, "agent", keys);
	if (rc < 0)
		return rc;
	json_t *a = json_object();
	json_object_set_new(doc, "agent", a);
	if ((rc = hx_ystr(c, n, "kind", "agent.kind", true, a, "kind")) < 0)
		return rc;
	const char *kind = json_string_value(json_object_get(a, "kind"));
	if (strcmp(kind, "reference") && strcmp(kind, "fake") && strcmp(kind, "missing") &&
	    strcmp(kind, "path") && strcmp(kind, "discovered"))
		return hx_yerr(c, hx_yget(n, "kind"), "agent.kind",
			    "'%s' is not one of reference, fake, missing, path, discovered", kind);
	if ((rc = hx_ystr(c, n, "preset", "agent.preset", false, a, "preset")) < 0 ||
	    (rc = hx_ystr(c, n, "path", "agent.path", !strcmp(kind, "path"), a, "path")) < 0)
		return rc;
	struct fy_node *s = hx_yget(n, "script");
	if (s) {
		if (!fy_node_is_mapping(s))
			return hx_yerr(c, s, "agent.script", "must be a mapping (the fake agent's script)");
		json_t *j = hx_yjson(c, s, "agent.script", &rc);
		if (!j)
			return rc;
		json_object_set_new(a, "script", j);
	}
	if (strcmp(kind, "fake") && (hx_yget(n, "preset") || s))
		return hx_yerr(c, hx_yget(n, "preset") ? hx_yget(n, "preset") : s, "agent",
			    "preset/script only apply to kind: fake");
	char why[1024];
	const char *preset = json_string_value(json_object_get(a, "preset"));
	if (preset && hx_check_preset(preset, why, sizeof(why)) < 0)
		return hx_yerr(c, hx_yget(n, "preset"), "agent.preset", "%s", why);
	if (!strcmp(kind, "fake") && hx_check_script(preset, json_object_get(a, "script"), why, sizeof(why)) < 0)
		return hx_yerr(c, s ? s : n, "agent.script", "%s", why);
	if (!json_object_get(a, "preset"))
		json_object_set_new(a, "preset", json_null());
	if (!json_object_get(a, "script"))
		json_object_set_new(a, "script", json_null());
	return 0;
}

static int parse_config(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	json_t *cfg = json_object();
	json_object_set_new(doc, "config", cfg);
	struct fy_node *n = hx_yget(root, "config");
	if (!n || fy_node_is_null(n))
		return 0;
	if (!fy_node_is_mapping(n))
		return hx_yerr(c, n, "config", "must be a mapping of supervisor config keys");
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		const char *k = fy_node_get_scalar0(fy_node_pair_key(p));
		struct fy_node *v = fy_node_pair_value(p);
		char field[128];
		snprintf(field, sizeof(field), "config.%s", k ? k : "?");
		if (!k || !v || !fy_node_is_scalar(v) || fy_node_is_alias(v))
			return hx_yerr(c, v ? v : fy_node_pair_key(p), field, "must be a scalar value");
		/* passed as text to --set KEY=VALUE; checked now by the parser
		 * neira-host uses for it */
		size_t len;
		const char *s = fy_node_get_scalar(v, &len);
		char why[1024], val[1024];
		snprintf(val, sizeof(val), "%.*s", s ? (int)len : 0, s ? s : "");
		if (hx_check_config(k, val, why, sizeof(why)) < 0)
			return hx_yerr(c, strstr(why, "unknown config key") ? fy_node_pair_key(p) : v, field, "%s", why);
		json_object_set_new(cfg, k, json_stringn(s ? s : "", s ? len : 0));
	}
	return 0;
}

static int parse_actions(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	struct fy_node *n = hx_yget(root, "actions");
	if (!n)
		return hx_yerr(c, root, "actions", "required key 'actions' is missing");
	if (!fy_node_is_sequence(n))
		return hx_yerr(c, n, "actions", "must be a list");
	json_t *a = json_array();
	json_object_set_new(doc, "actions", a);
	void *it = NULL;
	struct fy_node *e;
	int i = 0, calls = 0;
	while ((e = fy_node_sequence_iterate(n, &it))) {
		json_t *o = json_object();
		json_array_append_new(a, o);
		int rc = hx_action_parse(c, e, i, &calls, o); /* the action table, hx_actions.c */
		if (rc < 0)
			return rc;
		i++;
	}
	return 0;
}

/* A `where` value or a metric/snapshot expectation: a scalar (equality) or
 * {contains, min, max, ne, present}. */
static int parse_match(hx_yctx *c, struct fy_node *v, const char *field, json_t **out)
{
	static const char *const ops[] = { "contains", "min", "max", "ne", "present", NULL };
	int rc = 0;
	if (v && fy_node_is_mapping(v)) {
		if ((rc = hx_ykeys(c, v, field, ops)) < 0)
			return rc;
		json_t *o = hx_yjson(c, v, field, &rc);
		if (!o)
			return rc;
		json_t *mn = json_object_get(o, "min"), *mx = json_object_get(o, "max");
		if ((mn && !json_is_number(mn)) || (mx && !json_is_number(mx))) {
			json_decref(o);
			return hx_yerr(c, v, field, "min/max must be numbers");
		}
		*out = json_pack("{s:o}", "op", o);
		return 0;
	}
	if (v && !fy_node_is_scalar(v))
		return hx_yerr(c, v, field, "must be a scalar or a mapping of {contains, min, max, ne, present}");
	*out = hx_yjson(c, v, field, &rc);
	return *out ? 0 : rc;
}

static int parse_match_map(hx_yctx *c, struct fy_node *n, const char *field, json_t *dst, const char *key)
{
	if (!n)
		return 0;
	if (!fy_node_is_mapping(n))
		return hx_yerr(c, n, field, "must be a mapping of field: value");
	json_t *o = json_object();
	json_object_set_new(dst, key, o);
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		const char *k = fy_node_get_scalar0(fy_node_pair_key(p));
		char sub[160];
		snprintf(sub, sizeof(sub), "%s.%s", field, k ? k : "?");
		json_t *m = NULL;
		int rc = parse_match(c, fy_node_pair_value(p), sub, &m);
		if (rc < 0)
			return rc;
		json_object_set_new(o, k ? k : "?", m);
	}
	return 0;
}

static int parse_events(hx_yctx *c, struct fy_node *n, json_t *exp)
{
	static const char *const keys[] = { "event", "where", "after", "min_ms", "max_ms", "label",
					    "count", "absent", "ordered", "clause", "note", NULL };
	if (!fy_node_is_sequence(n))
		return hx_yerr(c, n, "expect.events", "must be a list");
	json_t *a = json_array();
	json_object_set_new(exp, "events", a);
	json_t *labels = json_object();
	void *it = NULL;
	struct fy_node *e;
	int i = 0, rc = 0;
	while ((e = fy_node_sequence_iterate(n, &it))) {
		char field[64];
		snprintf(field, sizeof(field), "expect.events[%d]", i);
		json_t *o = json_object();
		json_array_append_new(a, o);
		if ((rc = hx_ykeys(c, e, field, keys)) < 0 ||
		    (rc = hx_ystr(c, e, "event", field, true, o, "event")) < 0 ||
		    (rc = hx_ystr(c, e, "label", field, false, o, "label")) < 0 ||
		    (rc = hx_ystr(c, e, "clause", field, false, o, "clause")) < 0 ||
		    (rc = hx_ystr(c, e, "note", field, false, o, "note")) < 0 ||
		    (rc = hx_ynum(c, e, "min_ms", field, false, false, o)) < 0 ||
		    (rc = hx_ynum(c, e, "max_ms", field, false, false, o)) < 0 ||
		    (rc = hx_ynum(c, e, "count", field, false, true, o)) < 0 ||
		    (rc = hx_ybool(c, e, "absent", field, o)) < 0 ||
		    (rc = hx_ybool(c, e, "ordered", field, o)) < 0)
			goto out;
		char wf[80], why[1024];
		snprintf(wf, sizeof(wf), "%s.where", field);
		if ((rc = parse_match_map(c, hx_yget(e, "where"), wf, o, "where")) < 0)
			goto out;
		/* a misspelt event or field would make absent/count checks pass
		 * by accident: both are checked against the vocabulary */
		const char *evn = json_string_value(json_object_get(o, "event"));
		if (hx_check_event(evn, why, sizeof(why)) < 0) {
			rc = hx_yerr(c, hx_yget(e, "event"), field, "%s", why);
			goto out;
		}
		const char *wk;
		json_t *wv;
		json_object_foreach(json_object_get(o, "where"), wk, wv)
			if (hx_check_event_field(evn, wk, why, sizeof(why)) < 0) {
				struct fy_node *wn = hx_yget(e, "where");
				rc = hx_yerr(c, wn ? fy_node_mapping_lookup_key_by_string(wn, wk, FY_NT) : e, wf, "%s", why);
				goto out;
			}
		const char *cl = json_string_value(json_object_get(o, "clause"));
		if (cl && !valid_clause(cl)) {
			rc = hx_yerr(c, hx_yget(e, "clause"), field, "'%s' is not a SPEC clause ID", cl);
			goto out;
		}
		bool counting = json_object_get(o, "count") || json_is_true(json_object_get(o, "absent"));
		if (counting && (json_object_get(o, "min_ms") || json_object_get(o, "max_ms") ||
				 hx_yget(e, "after") || json_object_get(o, "label"))) {
			rc = hx_yerr(c, e, field, "count/absent checks cannot have after/min_ms/max_ms/label");
			goto out;
		}
		if (json_object_get(o, "count") && json_is_true(json_object_get(o, "absent"))) {
			rc = hx_yerr(c, e, field, "use either count or absent");
			goto out;
		}
		struct fy_node *af = hx_yget(e, "after");
		if (af) {
			json_t *av = fy_node_is_scalar(af) ? hx_yscalar(af) : NULL;
			long long idx = -1;
			if (json_is_integer(av)) {
				idx = json_integer_value(av);
			} else if (json_is_string(av)) {
				json_t *l = json_object_get(labels, json_string_value(av));
				idx = l ? json_integer_value(l) : -1;
			}
			json_decref(av);
			if (idx < 0 || idx >= i) {
				rc = hx_yerr(c, af, field, "'after' must name the label or index of an earlier "
					  "expected event");
				goto out;
			}
			json_t *ref = json_array_get(a, (size_t)idx);
			if (json_object_get(ref, "count") || json_object_get(ref, "absent")) {
				rc = hx_yerr(c, af, field, "'after' refers to a count/absent check");
				goto out;
			}
			json_object_set_new(o, "after", json_integer(idx));
		}
		const char *lb = json_string_value(json_object_get(o, "label"));
		if (lb) {
			if (json_object_get(labels, lb)) {
				rc = hx_yerr(c, hx_yget(e, "label"), field, "label '%s' used twice", lb);
				goto out;
			}
			json_object_set_new(labels, lb, json_integer(i));
		}
		json_t *mn = json_object_get(o, "min_ms"), *mx = json_object_get(o, "max_ms");
		if (mn && mx && json_number_value(mn) > json_number_value(mx)) {
			rc = hx_yerr(c, e, field, "min_ms > max_ms");
			goto out;
		}
		i++;
	}
out:
	json_decref(labels);
	return rc;
}

static int parse_calls(hx_yctx *c, struct fy_node *n, json_t *exp, int ncalls)
{
	static const char *const keys[] = { "index", "ok", "mock", "status", "error_contains",
					    "text_contains", "result_contains", "max_ms", "min_ms",
					    "error_null", "clause", NULL };
	if (!fy_node_is_sequence(n))
		return hx_yerr(c, n, "expect.calls", "must be a list");
	json_t *a = json_array();
	json_object_set_new(exp, "calls", a);
	void *it = NULL;
	struct fy_node *e;
	int i = 0, rc;
	while ((e = fy_node_sequence_iterate(n, &it))) {
		char field[64];
		snprintf(field, sizeof(field), "expect.calls[%d]", i);
		json_t *o = json_object();
		json_array_append_new(a, o);
		if ((rc = hx_ykeys(c, e, field, keys)) < 0 ||
		    (rc = hx_ynum(c, e, "index", field, true, true, o)) < 0 ||
		    (rc = hx_ybool(c, e, "ok", field, o)) < 0 ||
		    (rc = hx_ybool(c, e, "mock", field, o)) < 0 ||
		    (rc = hx_ybool(c, e, "error_null", field, o)) < 0 ||
		    (rc = hx_ystr(c, e, "status", field, false, o, "status")) < 0 ||
		    (rc = hx_ystr(c, e, "error_contains", field, false, o, "error_contains")) < 0 ||
		    (rc = hx_ystr(c, e, "text_contains", field, false, o, "text_contains")) < 0 ||
		    (rc = hx_ystr(c, e, "result_contains", field, false, o, "result_contains")) < 0 ||
		    (rc = hx_ystr(c, e, "clause", field, false, o, "clause")) < 0 ||
		    (rc = hx_ynum(c, e, "max_ms", field, false, false, o)) < 0 ||
		    (rc = hx_ynum(c, e, "min_ms", field, false, false, o)) < 0)
			return rc;
		if (json_integer_value(json_object_get(o, "index")) >= ncalls)
			return hx_yerr(c, hx_yget(e, "index"), field, "index %lld but the scenario has %d call "
				    "action(s)", json_integer_value(json_object_get(o, "index")), ncalls);
		if (json_object_size(o) <= 1)
			return hx_yerr(c, e, field, "nothing to check (give ok, mock, status, …)");
		i++;
	}
	return 0;
}

static int parse_expect(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	static const char *const keys[] = { "mode", "reason", "init", "events", "calls", "metrics",
					    "snapshot", "fd_slack", NULL };
	struct fy_node *n = hx_yget(root, "expect");
	if (!n)
		return hx_yerr(c, root, "expect", "required key 'expect' is missing");
	int rc = hx_ykeys(c, n, "expect", keys);
	if (rc < 0)
		return rc;
	json_t *exp = json_object();
	json_object_set_new(doc, "expect", exp);
	if ((rc = hx_ystr(c, n, "mode", "expect.mode", false, exp, "mode")) < 0 ||
	    (rc = hx_ystr(c, n, "reason", "expect.reason", false, exp, "reason")) < 0 ||
	    (rc = hx_ynum(c, n, "fd_slack", "expect.fd_slack", false, true, exp)) < 0)
		return rc;
	const char *mode = json_string_value(json_object_get(exp, "mode"));
	if (mode && strcmp(mode, "ready") && strcmp(mode, "mock"))
		return hx_yerr(c, hx_yget(n, "mode"), "expect.mode", "'%s' is not ready or mock", mode);
	struct fy_node *in = hx_yget(n, "init");
	if (in) {
		static const char *const ik[] = { "mode", "reason", "max_init_ms", NULL };
		json_t *o = json_object();
		json_object_set_new(exp, "init", o);
		if ((rc = hx_ykeys(c, in, "expect.init", ik)) < 0 ||
		    (rc = hx_ystr(c, in, "mode", "expect.init", false, o, "mode")) < 0 ||
		    (rc = hx_ystr(c, in, "reason", "expect.init", false, o, "reason")) < 0 ||
		    (rc = hx_ynum(c, in, "max_init_ms", "expect.init", false, false, o)) < 0)
			return rc;
	}
	struct fy_node *ev = hx_yget(n, "events");
	if (ev && (rc = parse_events(c, ev, exp)) < 0)
		return rc;
	int ncalls = 0;
	json_t *act;
	size_t i;
	json_array_foreach(json_object_get(doc, "actions"), i, act)
		ncalls += json_object_get(act, "call_index") != NULL;
	struct fy_node *cl = hx_yget(n, "calls");
	if (cl && (rc = parse_calls(c, cl, exp, ncalls)) < 0)
		return rc;
	if ((rc = parse_match_map(c, hx_yget(n, "metrics"), "expect.metrics", exp, "metrics")) < 0 ||
	    (rc = parse_match_map(c, hx_yget(n, "snapshot"), "expect.snapshot", exp, "snapshot")) < 0)
		return rc;
	/* a scenario that checks nothing proves nothing */
	if (!mode && !json_object_get(exp, "reason") && !in && !ev && !cl && !hx_yget(n, "metrics") &&
	    !hx_yget(n, "snapshot"))
		return hx_yerr(c, n, "expect", "no expectation given");
	return 0;
}

/* faults: a list of fault plans, checked and normalised by hx_faults.c. */
static int parse_faults(hx_yctx *c, struct fy_node *f, json_t *doc)
{
	int rc = 0;
	if (!f || fy_node_is_null(f)) {
		json_object_set_new(doc, "faults", json_array());
		return 0;
	}
	if (!fy_node_is_sequence(f))
		return hx_yerr(c, f, "faults", "must be a list of {point, side, mode, nth, probability, seed, errno, when}");
	json_t *raw = hx_yjson(c, f, "faults", &rc), *norm = NULL;
	if (!raw)
		return rc;
	char msg[2600];
	int idx;
	const char *key;
	rc = flt_plan_normalise(raw, &norm, msg, sizeof(msg), &idx, &key); /* the one parser */
	if (rc < 0) {
		struct fy_node *item = fy_node_sequence_get_by_index(f, idx < 0 ? 0 : idx);
		struct fy_node *at = item && key && fy_node_is_mapping(item) ? hx_yget(item, key) : NULL;
		char field[80];
		snprintf(field, sizeof(field), "faults[%d]%s%s", idx, key ? "." : "", key ? key : "");
		json_decref(raw);
		return hx_yerr(c, at ? at : item ? item : f, field, "%s", msg);
	}
	json_decref(raw);
	json_object_set_new(doc, "faults", norm);
	return 0;
}

/* requires: [CAPABILITY…] — what the host must be able to do
 * (vocab/nv_caps.h); a host that lacks one makes the scenario not
 * applicable. A fault plan with in-code points needs fault_points. */
static int parse_requires(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	json_t *req = json_array();
	json_object_set_new(doc, "requires", req);
	struct fy_node *n = hx_yget(root, "requires");
	if (n && !fy_node_is_sequence(n))
		return hx_yerr(c, n, "requires", "must be a list of capabilities");
	void *it = NULL;
	struct fy_node *e;
	while (n && (e = fy_node_sequence_iterate(n, &it))) {
		const char *s = fy_node_is_scalar(e) ? fy_node_get_scalar0(e) : NULL;
		if (!s || !nv_cap_known(s)) {
			const char *const *caps = nv_caps();
			size_t k = 0;
			while (caps[k])
				k++;
			const char *near = s ? nv_nearest(s, caps, k) : NULL;
			return hx_yerr(c, e, "requires", "unknown capability '%s'%s%s%s (docs/adapter-contract.md §5)",
				       s ? s : "?", near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		}
		json_array_append_new(req, json_string(s));
	}
	size_t i;
	json_t *f;
	bool code = false;
	json_array_foreach(json_object_get(doc, "faults"), i, f)
		code = code || strcmp(json_string_value(json_object_get(f, "side")), "agent");
	bool have = false;
	json_array_foreach(req, i, f)
		have = have || !strcmp(json_string_value(f), "fault_points");
	if (code && !have) /* supervisor-side faults go through the host's own runtime */
		json_array_append_new(req, json_string("fault_points"));
	return 0;
}

/* env: {NAME: value | null} — neira-host's environment (the agent inherits
 * it, L3); null unsets a variable; "{dir}" is the scenario's temp dir. */
static int parse_env(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	json_t *env = json_object();
	json_object_set_new(doc, "env", env);
	struct fy_node *n = hx_yget(root, "env");
	if (!n || fy_node_is_null(n))
		return 0;
	if (!fy_node_is_mapping(n))
		return hx_yerr(c, n, "env", "must be a mapping of variable names to strings or null");
	struct fy_node_pair *pair;
	void *it = NULL;
	while ((pair = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *kn = fy_node_pair_key(pair), *vn = fy_node_pair_value(pair);
		const char *k = fy_node_get_scalar0(kn);
		if (!k || !*k || strchr(k, '='))
			return hx_yerr(c, kn, "env", "a variable name must be a non-empty scalar without '='");
		json_t *typed = vn && fy_node_is_scalar(vn) && fy_node_get_style(vn) == FYNS_PLAIN ? hx_yscalar(vn)
												: NULL;
		bool is_null = !vn || fy_node_is_null(vn) || json_is_null(typed);
		json_decref(typed);
		if (is_null) {
			json_object_set_new(env, k, json_null());
		} else if (fy_node_is_scalar(vn)) {
			json_object_set_new(env, k, json_string(fy_node_get_scalar0(vn)));
		} else {
			char field[160];
			snprintf(field, sizeof(field), "env.%s", k);
			return hx_yerr(c, vn, field, "must be a string or null");
		}
	}
	return 0;
}

static int parse_root(hx_yctx *c, struct fy_node *root, json_t *doc)
{
	static const char *const keys[] = { "name", "description", "clauses", "agent", "config",
					    "env", "setup", "faults", "actions", "expect", "timeout_ms",
					    "tolerance", "repeat", "repeat_at_once", "memcheck", "requires", NULL };
	int rc;
	if (!root)
		return hx_yerr(c, NULL, "(root)", "empty document");
	if ((rc = hx_ykeys(c, root, "(root)", keys)) < 0 ||
	    (rc = hx_ystr(c, root, "name", "name", true, doc, "name")) < 0 ||
	    (rc = hx_ystr(c, root, "description", "description", true, doc, "description")) < 0 ||
	    (rc = hx_ystr(c, root, "tolerance", "tolerance", false, doc, "tolerance")) < 0 ||
	    (rc = hx_ynum(c, root, "timeout_ms", "timeout_ms", false, true, doc)) < 0 ||
	    (rc = hx_ynum(c, root, "repeat", "repeat", false, true, doc)) < 0 ||
	    (rc = hx_ynum(c, root, "repeat_at_once", "repeat_at_once", false, true, doc)) < 0 ||
	    (rc = hx_ybool(c, root, "memcheck", "memcheck", doc)) < 0 ||
	    (rc = parse_clauses(c, root, doc)) < 0 || (rc = parse_agent(c, root, doc)) < 0 ||
	    (rc = parse_config(c, root, doc)) < 0)
		return rc;
	const char *name = json_string_value(json_object_get(doc, "name"));
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return hx_yerr(c, hx_yget(root, "name"), "name", "'%s': use letters, digits, - and _", name);
	if (!*name)
		return hx_yerr(c, hx_yget(root, "name"), "name", "empty");
	if ((rc = parse_faults(c, hx_yget(root, "faults"), doc)) < 0 || (rc = parse_requires(c, root, doc)) < 0)
		return rc;
	json_t *setup = json_object();
	json_object_set_new(doc, "setup", setup);
	struct fy_node *s = hx_yget(root, "setup");
	if (s) {
		static const char *const sk[] = { "stale_socket", "live_socket", NULL };
		if ((rc = hx_ykeys(c, s, "setup", sk)) < 0 ||
		    (rc = hx_ybool(c, s, "stale_socket", "setup", setup)) < 0 ||
		    (rc = hx_ybool(c, s, "live_socket", "setup", setup)) < 0)
			return rc;
	}
	if ((rc = parse_env(c, root, doc)) < 0 || (rc = parse_actions(c, root, doc)) < 0 ||
	    (rc = parse_expect(c, root, doc)) < 0)
		return rc;
	json_int_t rep = json_integer_value(json_object_get(doc, "repeat"));
	if (json_object_get(doc, "repeat") && (rep < 1 || rep > 1000))
		return hx_yerr(c, hx_yget(root, "repeat"), "repeat", "must be 1..1000 (runs of the whole scenario)");
	json_int_t par = json_integer_value(json_object_get(doc, "repeat_at_once"));
	if (json_object_get(doc, "repeat_at_once") && (par < 1 || par > 16))
		return hx_yerr(c, hx_yget(root, "repeat_at_once"), "repeat_at_once", "must be 1..16 (runs at a time)");
	if (json_object_get(doc, "repeat_at_once") && rep < 2)
		return hx_yerr(c, hx_yget(root, "repeat_at_once"), "repeat_at_once",
			       "needs `repeat: N` with N ≥ 2 (it says how many of those runs go at a time)");
	/* Every wait on the host ends this long after its spawn. Each scenario's
	 * SPEC waits fit in it with room (the longest without its own,
	 * S4-impostor, takes 4.7 s on the Node host under a CPU hog); one that needs more says so (H3, C2). A
	 * seed design that never answers fails after 10 s, not 30 (issue 13). */
	if (!json_object_get(doc, "timeout_ms"))
		json_object_set_new(doc, "timeout_ms", json_integer(HX_DEFAULT_TIMEOUT_MS));
	return 0;
}

static int finish(hx_yctx *c, struct fy_document *fyd, hx_scenario **out)
{
	int rc;
	json_t *doc = json_object();
	if (!fyd) {
		snprintf(c->err, c->errlen, "%s: not valid YAML (libfyaml could not build a document)",
			 c->file);
		rc = -EINVAL;
	} else {
		rc = parse_root(c, fy_document_root(fyd), doc);
	}
	fy_document_destroy(fyd);
	if (rc < 0) {
		json_decref(doc);
		return rc;
	}
	hx_scenario *sc = calloc(1, sizeof(*sc));
	if (!sc) {
		json_decref(doc);
		return -ENOMEM;
	}
	sc->file = strdup(c->file);
	sc->name = strdup(json_string_value(json_object_get(doc, "name")));
	sc->doc = doc;
	json_object_set_new(doc, "file", json_string(c->file));
	*out = sc;
	return 0;
}

/* libfyaml prints its own diagnostics with positions; keep them (quiet off
 * only for errors) so that a syntax error still shows file:line:col. */
static struct fy_document *build(const char *path, const char *text, size_t len)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_DEFAULT_DOC };
	cfg.flags &= ~(enum fy_parse_cfg_flags)FYPCF_QUIET;
	return path ? fy_document_build_from_file(&cfg, path)
		    : fy_document_build_from_string(&cfg, text, len);
}

int hx_scenario_load(const char *path, hx_scenario **out, char *err, size_t errlen)
{
	hx_yctx c = { .file = path, .err = err, .errlen = errlen };
	FILE *f = fopen(path, "r");
	if (!f) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		return -e;
	}
	fclose(f);
	return finish(&c, build(path, NULL, 0), out);
}

int hx_scenario_parse(const char *label, const char *text, size_t len, hx_scenario **out,
		      char *err, size_t errlen)
{
	hx_yctx c = { .file = label, .err = err, .errlen = errlen };
	return finish(&c, build(NULL, text, len), out);
}

void hx_scenario_free(hx_scenario *sc)
{
	if (!sc)
		return;
	free(sc->file);
	free(sc->name);
	json_decref(sc->doc);
	free(sc);
}

bool hx_scenario_has_clause(const hx_scenario *sc, const char *id)
{
	bool family = true;
	for (const char *p = id; *p; p++)
		family = family && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'));
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(sc->doc, "clauses"), i, c) {
		const char *s = json_string_value(c);
		if (!strcmp(s, id))
			return true;
		if (family && strchr(id, s[0]))
			return true;
	}
	return false;
}
