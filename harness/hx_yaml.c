/* hx_yaml: typed access to a libfyaml document for the scenario loader —
 * errors as "file:line:column: field PATH: cause", unknown keys with the
 * nearest known one. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hx_yaml.h"
#include "nv.h"

/* First scalar token at or under `n`: libfyaml 0.7 has no node start mark,
 * so a collection is located by its first scalar. */
const struct fy_mark *hx_ymark(struct fy_node *n)
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
		return hx_ymark(c);
	}
	struct fy_node_pair *p = fy_node_mapping_iterate(n, &it);
	return p ? hx_ymark(fy_node_pair_key(p)) : NULL;
}

int hx_yerr(hx_yctx *c, struct fy_node *n, const char *field, const char *fmt, ...)
{
	const struct fy_mark *m = hx_ymark(n);
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
json_t *hx_yscalar(struct fy_node *n)
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
json_t *hx_yjson(hx_yctx *c, struct fy_node *n, const char *field, int *rc)
{
	if (!n)
		return json_null();
	if (fy_node_is_alias(n)) {
		*rc = hx_yerr(c, n, field, "aliases are not supported");
		return NULL;
	}
	if (fy_node_is_scalar(n))
		return hx_yscalar(n);
	void *it = NULL;
	if (fy_node_is_sequence(n)) {
		json_t *a = json_array();
		struct fy_node *e;
		while ((e = fy_node_sequence_iterate(n, &it))) {
			json_t *v = hx_yjson(c, e, field, rc);
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
			*rc = hx_yerr(c, k, field, "mapping keys must be scalars");
			json_decref(o);
			return NULL;
		}
		char sub[256];
		snprintf(sub, sizeof(sub), "%s.%s", field, ks);
		json_t *v = hx_yjson(c, fy_node_pair_value(p), sub, rc);
		if (!v) {
			json_decref(o);
			return NULL;
		}
		json_object_set_new(o, ks, v);
	}
	return o;
}

/* Check that mapping `n` has only keys from `allowed` (NULL-terminated). */
int hx_ykeys(hx_yctx *c, struct fy_node *n, const char *field, const char *const *allowed)
{
	if (!fy_node_is_mapping(n))
		return hx_yerr(c, n, field, "expected a mapping");
	void *it = NULL;
	struct fy_node_pair *p;
	while ((p = fy_node_mapping_iterate(n, &it))) {
		struct fy_node *k = fy_node_pair_key(p);
		const char *ks = fy_node_is_scalar(k) ? fy_node_get_scalar0(k) : NULL;
		if (!ks)
			return hx_yerr(c, k, field, "mapping keys must be scalars");
		bool ok = false;
		for (size_t i = 0; allowed[i]; i++)
			ok = ok || !strcmp(allowed[i], ks);
		if (!ok) {
			char buf[512] = "";
			size_t na = 0;
			for (size_t i = 0; allowed[i]; i++, na++) {
				strncat(buf, i ? ", " : "", sizeof(buf) - strlen(buf) - 1);
				strncat(buf, allowed[i], sizeof(buf) - strlen(buf) - 1);
			}
			const char *near = nv_nearest(ks, (const char *const *)allowed, na);
			if (near)
				return hx_yerr(c, k, field, "unknown key '%s' (did you mean '%s'? known: %s)", ks, near, buf);
			return hx_yerr(c, k, field, "unknown key '%s' (known: %s)", ks, buf);
		}
	}
	return 0;
}

struct fy_node *hx_yget(struct fy_node *map, const char *key)
{
	return fy_node_mapping_lookup_by_string(map, key, FY_NT);
}

/* Plain-or-quoted string. */
int hx_ystr(hx_yctx *c, struct fy_node *map, const char *key, const char *field, bool required,
		   json_t *dst, const char *dst_key)
{
	struct fy_node *n = hx_yget(map, key);
	if (!n) {
		if (required)
			return hx_yerr(c, map, field, "required key '%s' is missing", key);
		return 0;
	}
	if (!fy_node_is_scalar(n) || fy_node_is_alias(n))
		return hx_yerr(c, n, field, "'%s' must be a string", key);
	size_t len;
	const char *s = fy_node_get_scalar(n, &len);
	json_object_set_new(dst, dst_key, json_stringn(s ? s : "", s ? len : 0));
	return 0;
}

int hx_ynum(hx_yctx *c, struct fy_node *map, const char *key, const char *field, bool required,
		   bool integer, json_t *dst)
{
	struct fy_node *n = hx_yget(map, key);
	if (!n) {
		if (required)
			return hx_yerr(c, map, field, "required key '%s' is missing", key);
		return 0;
	}
	json_t *v = fy_node_is_scalar(n) && fy_node_get_style(n) == FYNS_PLAIN ? hx_yscalar(n) : NULL;
	if (!v || !json_is_number(v) || (integer && !json_is_integer(v)) || json_number_value(v) < 0) {
		json_decref(v);
		return hx_yerr(c, n, field, "'%s' must be a non-negative %s", key,
			    integer ? "integer" : "number");
	}
	json_object_set_new(dst, key, v);
	return 0;
}

int hx_ybool(hx_yctx *c, struct fy_node *map, const char *key, const char *field, json_t *dst)
{
	struct fy_node *n = hx_yget(map, key);
	if (!n)
		return 0;
	json_t *v = fy_node_is_scalar(n) && fy_node_get_style(n) == FYNS_PLAIN ? hx_yscalar(n) : NULL;
	if (!v || !json_is_boolean(v)) {
		json_decref(v);
		return hx_yerr(c, n, field, "'%s' must be true or false", key);
	}
	json_object_set_new(dst, key, v);
	return 0;
}
