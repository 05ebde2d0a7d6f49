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

#include "hx.h"

typedef struct pctx {
	const char *file;
	char *err;
	size_t errlen;
} pctx;

/* First scalar token at or under `n`: libfyaml 0.7 has no node start mark,
 * so a collection is located by its first scalar. */
static const struct fy_mark *node_mark(struct fy_node *n)
{
	if (!n)
		return NULL;
	if (fy_node_is_scalar(n)) {
		struct fy_token *t = fy_node_get_scalar_token(n);
		return t ? fy_token_start_mark(t) : NULL;
	}
	void *it = NULL;
	if (fy_node_is_sequence(n)) {
		struct fy_node *c = fy_node_sequence_iterate(n, &it);
		return node_mark(c);
	}
	struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
	return p ? node_mark(fy_node_pair_key(p)) : NULL;
}

__attribute__((format(printf, 4, 5)))
static int perr(pctx *c, struct fy_node *n, const char *field, const char *fmt, ...)
{
	const struct fy_mark *m = node_mark(n);
	int off = snprintf(c->err, c->errlen, "%s:%d:%d: field %s: ", c->file, m ? m->line + 1 : 0,
			   m ? m->column + 1 : 0, field);
	if (off < 0 || (size_t)off >= c->errlen)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err + off, c->errlen - (size_t)off, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Typed view of a scalar: plain scalars follow YAML 1.2 core (null, bool,
 * int, float); quoted ones are strings. */
static json_t *scalar_json(struct fy_node *n)
{
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);
	if (!s)
		return json_null();
	if (fy_node_get_style(n) != FYNS_PLAIN)
		return json_stringn(s, len);
	char buf[64];
	if (len < sizeof(buf)) {
		memcpy(buf, s, len);
		buf[len] = '\0';
		if (!strcmp(buf, "null") || !strcmp(buf, "~") || len == 0)
			return json_null();
		if (!strcmp(buf, "true"))
			return json_true();
		if (!strcmp(buf, "false"))
			return json_false();
		char *end;
		errno = 0;
		long long v = strtoll(buf, &end, 10);
		if (*end == '\0' && errno == 0 && end != buf)
			return json_integer(v);
		double d = strtod(buf, &end);
		if (*end == '\0' && end != buf)
			return json_real(d);
	}
	return json_stringn(s, len);
}

/* Generic conversion (scripts, `where` values, config values). */
static json_t *to_json(pctx *c, struct fy_node *n, const char *field, int *rc)
{
	if (!n)
		return json_null();
	if (fy_node_is_alias(n)) {
		*rc = perr(c, n, field, "aliases are not supported");
		return NULL;
	}
	if (fy_node_is_scalar(n))
		return scalar_json(n);
	void *it = NULL;
	if (fy_node_is_sequence(n)) {
		json_t *a = json_array();
		struct fy_node *e;
		while ((e = fy_node_sequence_iterate(n, &it))) {
			json_t *v = to_json(c, e, field, rc);
			if (!v) {
				json_decref(a);
				return NULL;
			}
			json_array_append_new(a, v);
		}
		return a;
	}
	json_t *o = json_object();
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		const char *ks = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!ks) {
			*rc = perr(c, k, field, "mapping keys must be scalars");
			json_decref(o);
			return NULL;
		}
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.%s", field, ks);
		json_t *v = to_json(c, fy_node_pair_value(p), sub, rc);
		if (!v) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, ks, v);
	}
	return o;
}

/* Check that mapping `n` has only keys from `allowed` (NULL-terminated). */
static int check_keys(pctx *c, struct fy_node *n, const char *field, const char *const *allowed)
{
	if (!fy_node_is_mapping(n))
		return perr(c, n, field, "expected a mapping");
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		const char *ks = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!ks)
			return perr(c, k, field, "mapping keys must be scalars");
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || !strcmp(allowed[i], ks);
		if (!ok) {
			char buf[512] = "";
			for (size_t i = 0; allowed[i]; i++) {
				strncat(buf, i ? ", " : "", sizeof(buf) - strlen(buf) - 1);
				strncat(buf, allowed[i], sizeof(buf) - strlen(buf) - 1);
			}
			return perr(c, k, field, "unknown key '%s' (known: %s)", ks, buf);
		}
	}
	return 0;
}

static struct fy_node *get(struct fy_node *map, const char *key)
{
	return fy_node_mapping_lookup_by_string(map, key, FY_NT);
}

/* Plain-or-quoted string. */
static int get_str(pctx *c, struct fy_node *map, const char *key, const char *field, bool required,
		   json_t *dst, const char *dst_key)
{
	struct fy_node *n = get(map, key);
	if (!n) {
		if (required)
			return perr(c, map, field, "required key '%s' is missing", key);
		return 0;
	}
	if (!fy_node_is_scalar(n) || fy_node_is_alias(n))
		return perr(c, n, field, "'%s' must be a string", key);
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);
	json_object_set_new(dst, dst_key, json_stringn(s ? s : "", s ? len : 0));
	return 0;
}

static int get_num(pctx *c, struct fy_node *map, const char *key, const char *field, bool required,
		   bool integer, json_t *dst)
{
	struct fy_node *n = get(map, key);
	if (!n) {
		if (required)
			return perr(c, map, field, "required key '%s' is missing", key);
		return 0;
	}
	json_t *v = fy_node_is_scalar(n) && fy_node_get_style(n) == FYNS_PLAIN ? scalar_json(n) : NULL;
	if (!v || !json_is_number(v) || (integer && !json_is_integer(v)) || json_number_value(v) < 0) {
		json_decref(v);
		return perr(c, n, field, "'%s' must be a non-negative %s", key,
			    integer ? "integer" : "number");
	}
	json_object_set_new(dst, key, v);
	return 0;
}

static int get_bool(pctx *c, struct fy_node *map, const char *key, const char *field, json_t *dst)
{
	struct fy_node *n = get(map, key);
	if (!n)
		return 0;
	json_t *v = fy_node_is_scalar(n) && fy_node_get_style(n) == FYNS_PLAIN ? scalar_json(n) : NULL;
	if (!v || !json_is_boolean(v)) {
		json_decref(v);
		return perr(c, n, field, "'%s' must be true or false", key);
	}
	json_object_set_new(dst, key, v);
	return 0;
}

static bool valid_clause(const char *s)
{
	static const struct { char f; int max; } fam[] = {
		{ 'L', 8 }, { 'H', 5 }, { 'M', 2 }, { 'C', 4 }, { 'K', 2 },
		{ 'S', 4 }, { 'O', 3 }, { 'P', 3 }, { 'A', 4 },
	};
	if (!s[0] || !s[1] || s[2])
		return false;
	for (size_t i = 0; i < sizeof(fam) / sizeof(fam[0]); i++)
		if (s[0] == fam[i].f && s[1] >= '1' && s[1] <= '0' + fam[i].max)
			return true;
	return false;
}

static int parse_clauses(pctx *c, struct fy_node *root, json_t *doc)
{
	struct fy_node *n = get(root, "clauses");
	if (!n)
		return perr(c, root, "clauses", "required key 'clauses' is missing");
	if (!fy_node_is_sequence(n) || fy_node_sequence_item_count(n) == 0)
		return perr(c, n, "clauses", "must be a non-empty list of SPEC clause IDs");
	json_t *a = json_array();
	json_object_set_new(doc, "clauses", a);
	void *it = NULL;
	struct fy_node *e;
	int i = 0;
	while ((e = fy_node_sequence_iterate(n, &it))) {
		const char *s = fy_node_is_scalar(e) ? fy_node_get_scalar0(e) : NULL;
		if (!s || !valid_clause(s))
			return perr(c, e, "clauses", "item %d: '%s' is not a SPEC clause ID (L1–L8, H1–H5, "
				    "M1–M2, C1–C4, K1–K2, S1–S4, O1–O3, P1–P3, A1–A4)", i, s ? s : "?");
		json_array_append_new(a, json_string(s));
		i++;
	}
	return 0;
}

static int parse_agent(pctx *c, struct fy_node *root, json_t *doc)
{
	static const char *const keys[] = { "kind", "preset", "script", "path", NULL };
	struct fy_node *n = get(root, "agent");
	if (!n)
		return perr(c, root, "agent", "required key 'agent' is missing");
	int rc = check_keys(c, n, "agent", keys);
	if (rc < 0)
		return rc;
	json_t *a = json_object();
	json_object_set_new(doc, "agent", a);
	if ((rc = get_str(c, n, "kind", "agent.kind", true, a, "kind")) < 0)
		return rc;
	const char *kind = json_string_value(json_object_get(a, "kind"));
	if (strcmp(kind, "reference") && strcmp(kind, "fake") && strcmp(kind, "missing") &&
	    strcmp(kind, "path") && strcmp(kind, "discovered"))
		return perr(c, get(n, "kind"), "agent.kind",
			    "'%s' is not one of reference, fake, missing, path, discovered", kind);
	if ((rc = get_str(c, n, "preset", "agent.preset", false, a, "preset")) < 0 ||
	    (rc = get_str(c, n, "path", "agent.path", !strcmp(kind, "path"), a, "path")) < 0)
		return rc;
	struct fy_node *s = get(n, "script");
	if (s) {
		if (!fy_node_is_mapping(s))
			return perr(c, s, "agent.script", "must be a mapping (the fake agent's script)");
		json_t *j = to_json(c, s, "agent.script", &rc);
		if (!j)
			return rc;
		json_object_set_new(a, "script", j);
	}
	if (strcmp(kind, "fake") && (get(n, "preset") || s))
		return perr(c, get(n, "preset") ? get(n, "preset") : s, "agent",
			    "preset/script only apply to kind: fake");
	if (!json_object_get(a, "preset"))
		json_object_set_new(a, "preset", json_null());
	if (!json_object_get(a, "script"))
		json_object_set_new(a, "script", json_null());
	return 0;
}

static int parse_config(pctx *c, struct fy_node *root, json_t *doc)
{
	json_t *cfg = json_object();
	json_object_set_new(doc, "config", cfg);
	struct fy_node *n = get(root, "config");
	if (!n || fy_node_is_null(n))
		return 0;
	if (!fy_node_is_mapping(n))
		return perr(c, n, "config", "must be a mapping of supervisor config keys");
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		const char *k = fy_node_get_scalar0(fy_node_pair_key(p));
		struct fy_node *v = fy_node_pair_value(p);
		char field[128];
		snprintf(field, sizeof(field), "config.%s", k ? k : "?");
		if (!k || !v || !fy_node_is_scalar(v) || fy_node_is_alias(v))
			return perr(c, v ? v : fy_node_pair_key(p), field, "must be a scalar value");
		/* passed as text to --set KEY=VALUE; the supervisor validates it */
		size_t len;
		const char *s = fy_node_get_scalar(v, &len);
		json_object_set_new(cfg, k, json_stringn(s ? s : "", s ? len : 0));
	}
	return 0;
}

static const char *const methods[] = { "health", "process_prompt", "call_custom_function", NULL };

static int parse_action(pctx *c, struct fy_node *e, int i, json_t *out)
{
	char field[64];
	snprintf(field, sizeof(field), "actions[%d]", i);
	int rc;
	if (fy_node_is_scalar(e)) {
		const char *s = fy_node_get_scalar0(e);
		if (s && (!strcmp(s, "init") || !strcmp(s, "stop") || !strcmp(s, "snapshot"))) {
			json_object_set_new(out, "do", json_string(s));
			return 0;
		}
		return perr(c, e, field, "'%s' is not an action (init, stop, snapshot, call, kill_agent, "
			    "wait_ms, wait_event)", s ? s : "?");
	}
	if (!fy_node_is_mapping(e) || fy_node_mapping_item_count(e) != 1)
		return perr(c, e, field, "an action is a word or a mapping with one key");
	void *it = NULL;
	struct fy_node_pair *p = fy_node_mapping_iterate(e, &it);
	const char *k = fy_node_get_scalar0(fy_node_pair_key(p));
	struct fy_node *v = fy_node_pair_value(p);
	if (!k)
		return perr(c, e, field, "bad action key");
	snprintf(field, sizeof(field), "actions[%d].%s", i, k);
	json_object_set_new(out, "do", json_string(k));
	if (!strcmp(k, "snapshot") || !strcmp(k, "init") || !strcmp(k, "stop")) {
		if (v && !fy_node_is_null(v))
			return perr(c, v, field, "takes no value");
		return 0;
	}
	if (!strcmp(k, "call")) {
		static const char *const keys[] = { "method", "prompt", "name", "args_json",
						    "deadline_ms", NULL };
		if ((rc = check_keys(c, v, field, keys)) < 0 ||
		    (rc = get_str(c, v, "method", field, true, out, "method")) < 0 ||
		    (rc = get_str(c, v, "prompt", field, false, out, "prompt")) < 0 ||
		    (rc = get_str(c, v, "name", field, false, out, "name")) < 0 ||
		    (rc = get_str(c, v, "args_json", field, false, out, "args_json")) < 0 ||
		    (rc = get_num(c, v, "deadline_ms", field, false, true, out)) < 0)
			return rc;
		const char *m = json_string_value(json_object_get(out, "method"));
		bool ok = false;
		for (size_t j = 0; methods[j]; j++)
			ok = ok || !strcmp(m, methods[j]);
		if (!ok)
			return perr(c, get(v, "method"), field,
				    "method '%s' is not health, process_prompt or call_custom_function", m);
		if (!strcmp(m, "call_custom_function") && !json_object_get(out, "name"))
			return perr(c, v, field, "call_custom_function needs 'name'");
		return 0;
	}
	if (!strcmp(k, "kill_agent")) {
		const char *s = v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
		int sig = 0;
		if (s && !strcmp(s, "SIGKILL"))
			sig = 9;
		else if (s && !strcmp(s, "SIGTERM"))
			sig = 15;
		else if (s && !strcmp(s, "SIGSEGV"))
			sig = 11;
		else if (s && !strcmp(s, "SIGABRT"))
			sig = 6;
		if (!sig)
			return perr(c, v ? v : e, field, "signal must be SIGKILL, SIGTERM, SIGSEGV or SIGABRT");
		json_object_set_new(out, "signal", json_integer(sig));
		json_object_set_new(out, "signal_name", json_string(s));
		return 0;
	}
	if (!strcmp(k, "wait_ms")) {
		json_t *j = v && fy_node_is_scalar(v) ? scalar_json(v) : NULL;
		if (!json_is_integer(j) || json_integer_value(j) < 0) {
			json_decref(j);
			return perr(c, v ? v : e, field, "must be a non-negative integer (ms)");
		}
		json_object_set_new(out, "ms", j);
		return 0;
	}
	if (!strcmp(k, "wait_event")) {
		static const char *const keys[] = { "event", "timeout_ms", NULL };
		if ((rc = check_keys(c, v, field, keys)) < 0 ||
		    (rc = get_str(c, v, "event", field, true, out, "event")) < 0 ||
		    (rc = get_num(c, v, "timeout_ms", field, true, true, out)) < 0)
			return rc;
		return 0;
	}
	return perr(c, fy_node_pair_key(p), field, "'%s' is not an action (init, stop, snapshot, call, "
		    "kill_agent, wait_ms, wait_event)", k);
}

static int parse_actions(pctx *c, struct fy_node *root, json_t *doc)
{
	struct fy_node *n = get(root, "actions");
	if (!n)
		return perr(c, root, "actions", "required key 'actions' is missing");
	if (!fy_node_is_sequence(n))
		return perr(c, n, "actions", "must be a list");
	json_t *a = json_array();
	json_object_set_new(doc, "actions", a);
	void *it = NULL;
	struct fy_node *e;
	int i = 0, calls = 0;
	while ((e = fy_node_sequence_iterate(n, &it))) {
		json_t *o = json_object();
		json_array_append_new(a, o);
		int rc = parse_action(c, e, i, o);
		if (rc < 0)
			return rc;
		if (!strcmp(json_string_value(json_object_get(o, "do")), "call"))
			json_object_set_new(o, "call_index", json_integer(calls++));
		i++;
	}
	return 0;
}

/* A `where` value or a metric/snapshot expectation: a scalar (equality) or
 * {contains, min, max, ne, present}. */
static int parse_match(pctx *c, struct fy_node *v, const char *field, json_t **out)
{
	static const char *const ops[] = { "contains", "min", "max", "ne", "present", NULL };
	int rc = 0;
	if (v && fy_node_is_mapping(v)) {
		if ((rc = check_keys(c, v, field, ops)) < 0)
			return rc;
		json_t *o = to_json(c, v, field, &rc);
		if (!o)
			return rc;
		json_t *mn = json_object_get(o, "min"), *mx = json_object_get(o, "max");
		if ((mn && !json_is_number(mn)) || (mx && !json_is_number(mx))) {
			json_decref(o);
			return perr(c, v, field, "min/max must be numbers");
		}
		*out = json_pack("{s:o}", "op", o);
		return 0;
	}
	if (v && !fy_node_is_scalar(v))
		return perr(c, v, field, "must be a scalar or a mapping of {contains, min, max, ne, present}");
	*out = to_json(c, v, field, &rc);
	return *out ? 0 : rc;
}

static int parse_match_map(pctx *c, struct fy_node *n, const char *field, json_t *dst, const char *key)
{
	if (!n)
		return 0;
	if (!fy_node_is_mapping(n))
		return perr(c, n, field, "must be a mapping of field: value");
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

static int parse_events(pctx *c, struct fy_node *n, json_t *exp)
{
	static const char *const keys[] = { "event", "where", "after", "min_ms", "max_ms", "label",
					    "count", "absent", "ordered", "clause", "note", NULL };
	if (!fy_node_is_sequence(n))
		return perr(c, n, "expect.events", "must be a list");
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
		if ((rc = check_keys(c, e, field, keys)) < 0 ||
		    (rc = get_str(c, e, "event", field, true, o, "event")) < 0 ||
		    (rc = get_str(c, e, "label", field, false, o, "label")) < 0 ||
		    (rc = get_str(c, e, "clause", field, false, o, "clause")) < 0 ||
		    (rc = get_str(c, e, "note", field, false, o, "note")) < 0 ||
		    (rc = get_num(c, e, "min_ms", field, false, false, o)) < 0 ||
		    (rc = get_num(c, e, "max_ms", field, false, false, o)) < 0 ||
		    (rc = get_num(c, e, "count", field, false, true, o)) < 0 ||
		    (rc = get_bool(c, e, "absent", field, o)) < 0 ||
		    (rc = get_bool(c, e, "ordered", field, o)) < 0)
			goto out;
		char wf[80];
		snprintf(wf, sizeof(wf), "%s.where", field);
		if ((rc = parse_match_map(c, get(e, "where"), wf, o, "where")) < 0)
			goto out;
		const char *cl = json_string_value(json_object_get(o, "clause"));
		if (cl && !valid_clause(cl)) {
			rc = perr(c, get(e, "clause"), field, "'%s' is not a SPEC clause ID", cl);
			goto out;
		}
		bool counting = json_object_get(o, "count") || json_is_true(json_object_get(o, "absent"));
		if (counting && (json_object_get(o, "min_ms") || json_object_get(o, "max_ms") ||
				 get(e, "after") || json_object_get(o, "label"))) {
			rc = perr(c, e, field, "count/absent checks cannot have after/min_ms/max_ms/label");
			goto out;
		}
		if (json_object_get(o, "count") && json_is_true(json_object_get(o, "absent"))) {
			rc = perr(c, e, field, "use either count or absent");
			goto out;
		}
		struct fy_node *af = get(e, "after");
		if (af) {
			json_t *av = fy_node_is_scalar(af) ? scalar_json(af) : NULL;
			long long idx = -1;
			if (json_is_integer(av)) {
				idx = json_integer_value(av);
			} else if (json_is_string(av)) {
				json_t *l = json_object_get(labels, json_string_value(av));
				idx = l ? json_integer_value(l) : -1;
			}
			json_decref(av);
			if (idx < 0 || idx >= i) {
				rc = perr(c, af, field, "'after' must name the label or index of an earlier "
					  "expected event");
				goto out;
			}
			json_t *ref = json_array_get(a, (size_t)idx);
			if (json_object_get(ref, "count") || json_object_get(ref, "absent")) {
				rc = perr(c, af, field, "'after' refers to a count/absent check");
				goto out;
			}
			json_object_set_new(o, "after", json_integer(idx));
		}
		const char *lb = json_string_value(json_object_get(o, "label"));
		if (lb) {
			if (json_object_get(labels, lb)) {
				rc = perr(c, get(e, "label"), field, "label '%s' used twice", lb);
				goto out;
			}
			json_object_set_new(labels, lb, json_integer(i));
		}
		json_t *mn = json_object_get(o, "min_ms"), *mx = json_object_get(o, "max_ms");
		if (mn && mx && json_number_value(mn) > json_number_value(mx)) {
			rc = perr(c, e, field, "min_ms > max_ms");
			goto out;
		}
		i++;
	}
out:
	json_decref(labels);
	return rc;
}

static int parse_calls(pctx *c, struct fy_node *n, json_t *exp, int ncalls)
{
	static const char *const keys[] = { "index", "ok", "mock", "status", "error_contains",
					    "text_contains", "result_contains", "max_ms", "min_ms",
					    "error_null", "clause", NULL };
	if (!fy_node_is_sequence(n))
		return perr(c, n, "expect.calls", "must be a list");
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
		if ((rc = check_keys(c, e, field, keys)) < 0 ||
		    (rc = get_num(c, e, "index", field, true, true, o)) < 0 ||
		    (rc = get_bool(c, e, "ok", field, o)) < 0 ||
		    (rc = get_bool(c, e, "mock", field, o)) < 0 ||
		    (rc = get_bool(c, e, "error_null", field, o)) < 0 ||
		    (rc = get_str(c, e, "status", field, false, o, "status")) < 0 ||
		    (rc = get_str(c, e, "error_contains", field, false, o, "error_contains")) < 0 ||
		    (rc = get_str(c, e, "text_contains", field, false, o, "text_contains")) < 0 ||
		    (rc = get_str(c, e, "result_contains", field, false, o, "result_contains")) < 0 ||
		    (rc = get_str(c, e, "clause", field, false, o, "clause")) < 0 ||
		    (rc = get_num(c, e, "max_ms", field, false, false, o)) < 0 ||
		    (rc = get_num(c, e, "min_ms", field, false, false, o)) < 0)
			return rc;
		if (json_integer_value(json_object_get(o, "index")) >= ncalls)
			return perr(c, get(e, "index"), field, "index %lld but the scenario has %d call "
				    "action(s)", json_integer_value(json_object_get(o, "index")), ncalls);
		if (json_object_size(o) <= 1)
			return perr(c, e, field, "nothing to check (give ok, mock, status, …)");
		i++;
	}
	return 0;
}

static int parse_expect(pctx *c, struct fy_node *root, json_t *doc)
{
	static const char *const keys[] = { "mode", "reason", "init", "events", "calls", "metrics",
					    "snapshot", "fd_slack", NULL };
	struct fy_node *n = get(root, "expect");
	if (!n)
		return perr(c, root, "expect", "required key 'expect' is missing");
	int rc = check_keys(c, n, "expect", keys);
	if (rc < 0)
		return rc;
	json_t *exp = json_object();
	json_object_set_new(doc, "expect", exp);
	if ((rc = get_str(c, n, "mode", "expect.mode", false, exp, "mode")) < 0 ||
	    (rc = get_str(c, n, "reason", "expect.reason", false, exp, "reason")) < 0 ||
	    (rc = get_num(c, n, "fd_slack", "expect.fd_slack", false, true, exp)) < 0)
		return rc;
	const char *mode = json_string_value(json_object_get(exp, "mode"));
	if (mode && strcmp(mode, "ready") && strcmp(mode, "mock"))
		return perr(c, get(n, "mode"), "expect.mode", "'%s' is not ready or mock", mode);
	struct fy_node *in = get(n, "init");
	if (in) {
		static const char *const ik[] = { "mode", "reason", "max_init_ms", NULL };
		json_t *o = json_object();
		json_object_set_new(exp, "init", o);
		if ((rc = check_keys(c, in, "expect.init", ik)) < 0 ||
		    (rc = get_str(c, in, "mode", "expect.init", false, o, "mode")) < 0 ||
		    (rc = get_str(c, in, "reason", "expect.init", false, o, "reason")) < 0 ||
		    (rc = get_num(c, in, "max_init_ms", "expect.init", false, false, o)) < 0)
			return rc;
	}
	struct fy_node *ev = get(n, "events");
	if (ev && (rc = parse_events(c, ev, exp)) < 0)
		return rc;
	int ncalls = 0;
	json_t *act;
	size_t i;
	json_array_foreach(json_object_get(doc, "actions"), i, act)
		ncalls += json_object_get(act, "call_index") != NULL;
	struct fy_node *cl = get(n, "calls");
	if (cl && (rc = parse_calls(c, cl, exp, ncalls)) < 0)
		return rc;
	if ((rc = parse_match_map(c, get(n, "metrics"), "expect.metrics", exp, "metrics")) < 0 ||
	    (rc = parse_match_map(c, get(n, "snapshot"), "expect.snapshot", exp, "snapshot")) < 0)
		return rc;
	/* a scenario that checks nothing proves nothing */
	if (!mode && !json_object_get(exp, "reason") && !in && !ev && !cl && !get(n, "metrics") &&
	    !get(n, "snapshot"))
		return perr(c, n, "expect", "no expectation given");
	return 0;
}

/* faults: a list of fault plans, checked and normalised by hx_faults.c. */
static int parse_faults(pctx *c, struct fy_node *f, json_t *doc)
{
	int rc = 0;
	if (!f || fy_node_is_null(f)) {
		json_object_set_new(doc, "faults", json_array());
		return 0;
	}
	if (!fy_node_is_sequence(f))
		return perr(c, f, "faults", "must be a list of {point, side, mode, nth, probability, seed, errno, when}");
	json_t *raw = to_json(c, f, "faults", &rc), *norm = NULL;
	if (!raw)
		return rc;
	char msg[2600];
	int idx;
	const char *key;
	rc = hx_faults_normalise(raw, &norm, msg, sizeof(msg), &idx, &key);
	if (rc < 0) {
		struct fy_node *item = fy_node_sequence_get_by_index(f, idx < 0 ? 0 : idx);
		struct fy_node *at = item && key && fy_node_is_mapping(item) ? get(item, key) : NULL;
		char field[80];
		snprintf(field, sizeof(field), "faults[%d]%s%s", idx, key ? "." : "", key ? key : "");
		json_decref(raw);
		return perr(c, at ? at : item ? item : f, field, "%s", msg);
	}
	json_decref(raw);
	json_object_set_new(doc, "faults", norm);
	return 0;
}

/* env: {NAME: value | null} — neira-host's environment (the agent inherits
 * it, L3); null unsets a variable; "{dir}" is the scenario's temp dir. */
static int parse_env(pctx *c, struct fy_node *root, json_t *doc)
{
	json_t *env = json_object();
	json_object_set_new(doc, "env", env);
	struct fy_node *n = get(root, "env");
	if (!n || fy_node_is_null(n))
		return 0;
	if (!fy_node_is_mapping(n))
		return perr(c, n, "env", "must be a mapping of variable names to strings or null");
	struct fy_node_pair *pair;
	void *it = NULL;
	while ((pair = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *kn = fy_node_pair_key(pair), *vn = fy_node_pair_value(pair);
		const char *k = fy_node_get_scalar0(kn);
		if (!k || !*k || strchr(k, '='))
			return perr(c, kn, "env", "a variable name must be a non-empty scalar without '='");
		json_t *typed = vn && fy_node_is_scalar(vn) && fy_node_get_style(vn) == FYNS_PLAIN ? scalar_json(vn)
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
			return perr(c, vn, field, "must be a string or null");
		}
	}
	return 0;
}

static int parse_root(pctx *c, struct fy_node *root, json_t *doc)
{
	static const char *const keys[] = { "name", "description", "clauses", "agent", "config",
					    "env", "setup", "faults", "actions", "expect", "timeout_ms",
					    "tolerance", "repeat", NULL };
	int rc;
	if (!root)
		return perr(c, NULL, "(root)", "empty document");
	if ((rc = check_keys(c, root, "(root)", keys)) < 0 ||
	    (rc = get_str(c, root, "name", "name", true, doc, "name")) < 0 ||
	    (rc = get_str(c, root, "description", "description", true, doc, "description")) < 0 ||
	    (rc = get_str(c, root, "tolerance", "tolerance", false, doc, "tolerance")) < 0 ||
	    (rc = get_num(c, root, "timeout_ms", "timeout_ms", false, true, doc)) < 0 ||
	    (rc = get_num(c, root, "repeat", "repeat", false, true, doc)) < 0 ||
	    (rc = parse_clauses(c, root, doc)) < 0 || (rc = parse_agent(c, root, doc)) < 0 ||
	    (rc = parse_config(c, root, doc)) < 0)
		return rc;
	const char *name = json_string_value(json_object_get(doc, "name"));
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_'))
			return perr(c, get(root, "name"), "name", "'%s': use letters, digits, - and _", name);
	if (!*name)
		return perr(c, get(root, "name"), "name", "empty");
	if ((rc = parse_faults(c, get(root, "faults"), doc)) < 0)
		return rc;
	json_t *setup = json_object();
	json_object_set_new(doc, "setup", setup);
	struct fy_node *s = get(root, "setup");
	if (s) {
		static const char *const sk[] = { "stale_socket", NULL };
		if ((rc = check_keys(c, s, "setup", sk)) < 0 ||
		    (rc = get_bool(c, s, "stale_socket", "setup", setup)) < 0)
			return rc;
	}
	if ((rc = parse_env(c, root, doc)) < 0 || (rc = parse_actions(c, root, doc)) < 0 ||
	    (rc = parse_expect(c, root, doc)) < 0)
		return rc;
	json_int_t rep = json_integer_value(json_object_get(doc, "repeat"));
	if (json_object_get(doc, "repeat") && (rep < 1 || rep > 1000))
		return perr(c, get(root, "repeat"), "repeat", "must be 1..1000 (runs of the whole scenario)");
	if (!json_object_get(doc, "timeout_ms"))
		json_object_set_new(doc, "timeout_ms", json_integer(30000));
	return 0;
}

static int finish(pctx *c, struct fy_document *fyd, hx_scenario **out)
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
	pctx c = { .file = path, .err = err, .errlen = errlen };
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
	pctx c = { .file = label, .err = err, .errlen = errlen };
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
