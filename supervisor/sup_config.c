/* sup_config: SPEC defaults as fields, set by key from the API or the CLI
 * (`--set KEY=VALUE`); one table drives parsing, errors and JSON. */
#include "sup_config.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUP__DAY_MS (24LL * 60 * 60 * 1000)
#define SUP__MAX_COUNT 1000

enum sup__kind { SUP__STR, SUP__BOOL, SUP__INT, SUP__I64 };

static const struct sup__field {
	const char *key;
	enum sup__kind kind;
	size_t offset;
	long long min, max;
} sup__fields[] = {
#define F_(name, kind, lo, hi) { #name, kind, offsetof(sup_config, name), lo, hi }
	F_(agent_path, SUP__STR, 0, 0),
	F_(agents_dir, SUP__STR, 0, 0),
	F_(socket_path, SUP__STR, 0, 0),
	F_(socket_private_dir, SUP__BOOL, 0, 1),
	F_(check_peer, SUP__BOOL, 0, 1),
	F_(ready_timeout_ms, SUP__I64, 0, SUP__DAY_MS),
	F_(health_attempts, SUP__INT, 1, SUP__MAX_COUNT),
	F_(health_base_delay_ms, SUP__I64, 0, SUP__DAY_MS),
	F_(health_deadline_ms, SUP__I64, 0, SUP__DAY_MS),
	F_(call_deadline_ms, SUP__I64, 0, SUP__DAY_MS),
	F_(breaker_threshold, SUP__INT, 1, SUP__MAX_COUNT),
	F_(breaker_open_ms, SUP__I64, 0, SUP__DAY_MS),
	F_(shutdown_grace_ms, SUP__I64, 0, SUP__DAY_MS),
	F_(restart, SUP__BOOL, 0, 1),
	F_(restart_base_delay_ms, SUP__I64, 0, SUP__DAY_MS),
	F_(restart_max, SUP__INT, 0, SUP__MAX_COUNT),
#undef F_
};

#define SUP__NFIELDS (sizeof(sup__fields) / sizeof(sup__fields[0]))

const char *const *sup_config_keys(void)
{
	static const char *keys[SUP__NFIELDS + 1];

	/* Filled on every call from the constant table: idempotent, so
	 * concurrent first calls write the same values. */
	for (size_t i = 0; i < SUP__NFIELDS; i++)
		keys[i] = sup__fields[i].key;
	keys[SUP__NFIELDS] = NULL;
	return keys;
}

void sup_config_init(sup_config *c)
{
	if (!c)
		return;
	memset(c, 0, sizeof(*c));
	c->ready_timeout_ms = 15000;    /* L5 */
	c->health_attempts = 3;         /* H1 */
	c->health_base_delay_ms = 500;  /* H1: 0.5 s, 1 s, 2 s */
	c->health_deadline_ms = 1000;   /* H3 */
	c->call_deadline_ms = 10000;
	c->breaker_threshold = 5;       /* C1 */
	c->breaker_open_ms = 30000;     /* C2 */
	c->shutdown_grace_ms = 2000;    /* L7 */
	c->restart = false;             /* L8: restart is opt-in */
	c->restart_base_delay_ms = 500;
	c->restart_max = 3;
}

void sup_config_destroy(sup_config *c)
{
	if (!c)
		return;
	free(c->agent_path);
	free(c->agents_dir);
	free(c->socket_path);
	sup_config_init(c);
}

static const struct sup__field *sup__find(const char *key)
{
	for (size_t i = 0; i < SUP__NFIELDS; i++)
		if (strcmp(sup__fields[i].key, key) == 0)
			return &sup__fields[i];
	return NULL;
}

static int sup__parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes" }, *const no[] = { "false", "0", "no" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* Whole-string decimal: strtoll alone would accept " 12", "12x" (with a
 * check) and "" (as 0), none of which a person means as a number. */
static int sup__parse_ll(const char *v, long long *out)
{
	char *end;

	if ((v[0] < '0' || v[0] > '9') && v[0] != '-' && v[0] != '+')
		return -EINVAL;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (end == v || *end != '\0')
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	return 0;
}

static int sup__unknown_key(const char *key, sup_error *err)
{
	char known[512];
	size_t used = 0;

	known[0] = '\0';
	for (size_t i = 0; i < SUP__NFIELDS && used < sizeof(known); i++) {
		int r = snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "", sup__fields[i].key);

		if (r < 0)
			break;
		used += (size_t)r;
	}
	sup_error_set(err, "config", ENOENT, "config: unknown key \"%s\" (known: %s)", key, known);
	sup_error_ctx(err, "key", "%s", key);
	return -ENOENT;
}

static int sup__bad_value(const char *key, const char *value, const char *why, sup_error *err)
{
	sup_error_set(err, "config", EINVAL, "config %s=\"%s\": %s", key, value, why);
	sup_error_ctx(err, "key", "%s", key);
	sup_error_ctx(err, "value", "%s", value);
	return -EINVAL;
}

int sup_config_set(sup_config *c, const char *key, const char *value, sup_error *err)
{
	const struct sup__field *f;
	char *p, why[96];
	long long n;
	int r;

	if (!c || !key) {
		sup_error_set(err, "config", EINVAL, "config: no %s given", c ? "key" : "configuration");
		return -EINVAL;
	}
	f = sup__find(key);
	if (!f)
		return sup__unknown_key(key, err);
	if (!value)
		return sup__bad_value(key, "(null)", "no value given", err);
	p = (char *)c + f->offset;
	switch (f->kind) {
	case SUP__STR: {
		char **slot = (char **)(void *)p;
		char *copy = NULL;

		/* An empty value unsets, so `--set socket_path=` restores S1's
		 * default rule. */
		if (value[0] != '\0') {
			copy = strdup(value);
			if (!copy) {
				sup_error_set(err, "config", ENOMEM, "config %s: cannot copy value", key);
				return -ENOMEM;
			}
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	case SUP__BOOL:
		if (sup__parse_bool(value, (bool *)(void *)p) < 0)
			return sup__bad_value(key, value, "not a boolean (true/false/1/0/yes/no)", err);
		return 0;
	case SUP__INT:
	case SUP__I64:
		r = sup__parse_ll(value, &n);
		if (r == -EINVAL)
			return sup__bad_value(key, value, "not an integer", err);
		if (r < 0 || n < f->min || n > f->max) {
			snprintf(why, sizeof(why), "out of range (%lld..%lld)", f->min, f->max);
			return sup__bad_value(key, value, why, err);
		}
		if (f->kind == SUP__INT)
			*(int *)(void *)p = (int)n;
		else
			*(int64_t *)(void *)p = (int64_t)n;
		return 0;
	}
	return -EINVAL;
}

int sup_config_copy(sup_config *dst, const sup_config *src, sup_error *err)
{
	sup_config tmp;

	if (!dst || !src) {
		sup_error_set(err, "config", EINVAL, "config copy: no %s given", dst ? "source" : "destination");
		return -EINVAL;
	}
	sup_config_init(&tmp);
	for (size_t i = 0; i < SUP__NFIELDS; i++) {
		const struct sup__field *f = &sup__fields[i];
		const char *sp = (const char *)src + f->offset;
		char *dp = (char *)&tmp + f->offset;
		long long n = 0;

		switch (f->kind) {
		case SUP__STR: {
			const char *v = *(char *const *)(const void *)sp;
			char **slot = (char **)(void *)dp;

			/* bytes as they are: a path need not be UTF-8 (issue 15) */
			if (v && v[0] != '\0' && !(*slot = strdup(v))) {
				sup_config_destroy(&tmp);
				sup_error_set(err, "config", ENOMEM, "config copy %s: out of memory", f->key);
				return -ENOMEM;
			}
			continue;
		}
		case SUP__BOOL:
			*(bool *)(void *)dp = *(const bool *)(const void *)sp;
			continue;
		case SUP__INT:
			n = *(const int *)(const void *)sp;
			break;
		case SUP__I64:
			n = *(const int64_t *)(const void *)sp;
			break;
		}
		/* a struct filled by hand gets the checks --set gets (issue 15:
		 * near INT64_MAX the supervisor's µs arithmetic would overflow) */
		if (n < f->min || n > f->max) {
			char why[96];
			sup_config_destroy(&tmp);
			snprintf(why, sizeof(why), "%lld", n);
			sup_error_set(err, "config", ERANGE, "config %s=%s: out of range (%lld..%lld)", f->key, why,
				      f->min, f->max);
			sup_error_ctx(err, "key", "%s", f->key);
			sup_error_ctx(err, "value", "%s", why);
			return -ERANGE;
		}
		if (f->kind == SUP__INT)
			*(int *)(void *)dp = (int)n;
		else
			*(int64_t *)(void *)dp = (int64_t)n;
	}
	sup_config_destroy(dst);
	*dst = tmp;
	return 0;
}

int sup_config_set_kv(sup_config *c, const char *key_eq_value, sup_error *err)
{
	const char *eq;
	char *key;
	int r;

	if (!key_eq_value) {
		sup_error_set(err, "config", EINVAL, "config: no KEY=VALUE given");
		return -EINVAL;
	}
	eq = strchr(key_eq_value, '=');
	if (!eq) {
		sup_error_set(err, "config", EINVAL, "config: \"%s\" is not KEY=VALUE (missing '=')", key_eq_value);
		sup_error_ctx(err, "text", "%s", key_eq_value);
		return -EINVAL;
	}
	key = strndup(key_eq_value, (size_t)(eq - key_eq_value));
	if (!key) {
		sup_error_set(err, "config", ENOMEM, "config: cannot copy \"%s\"", key_eq_value);
		return -ENOMEM;
	}
	r = sup_config_set(c, key, eq + 1, err);
	free(key);
	return r;
}

static json_t *sup__escaped(const char *s)
{
	size_t n = strlen(s);
	char *buf = malloc(n * 4 + 1), *o = buf;
	json_t *v;

	if (!buf)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x80)
			*o++ = (char)*p;
		else
			o += sprintf(o, "\\x%02x", *p);
	}
	*o = '\0';
	v = json_string(buf);
	free(buf);
	return v;
}

json_t *sup_config_json(const sup_config *c)
{
	json_t *o;

	if (!c)
		return json_null();
	o = json_object();
	if (!o)
		return NULL;
	for (size_t i = 0; i < SUP__NFIELDS; i++) {
		const struct sup__field *f = &sup__fields[i];
		const char *p = (const char *)c + f->offset;
		json_t *v = NULL;

		switch (f->kind) {
		case SUP__STR: {
			const char *s = *(char *const *)(const void *)p;

			v = s ? json_string(s) : json_null();
			/* A path need not be UTF-8: show its bytes, non-UTF-8 ones
			 * as \xNN (display only: sup_new copies the struct) */
			if (s && !v)
				v = sup__escaped(s);
			break;
		}
		case SUP__BOOL:
			v = json_boolean(*(const bool *)(const void *)p);
			break;
		case SUP__INT:
			v = json_integer(*(const int *)(const void *)p);
			break;
		case SUP__I64:
			v = json_integer(*(const int64_t *)(const void *)p);
			break;
		}
		if (json_object_set_new(o, f->key, v) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}
