/* fa_script: parse a fake agent's script (a JSON object, through jansson) into
 * an fa_script, with an error naming the key for anything it does not know. */
#include "fa_script.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nv.h"

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *fa_method_name(fa_method_id m, bool camel)
{
	static const char *const pascal[FA_M_COUNT] = { "HealthCheck", "ProcessPrompt", "CallCustomFunction" };
	static const char *const lower[FA_M_COUNT] = { "healthCheck", "processPrompt", "callCustomFunction" };
	if ((unsigned)m >= FA_M_COUNT)
		return "?";
	return camel ? lower[m] : pascal[m];
}

void fa_script_init(fa_script *s)
{
	memset(s, 0, sizeof(*s));
	s->marker = FA_MARKER_NORMAL;
	s->marker_split_gap_ms = 50;
	s->bind = FA_BIND_NORMAL;
	s->exit.when = FA_EXIT_NEVER;
	s->methods = FA_METHODS_PASCAL;
	s->sigterm = FA_TERM_EXIT;
	s->shutdown_delay_ms = -1;
	for (int m = 0; m < FA_M_COUNT; m++) {
		s->calls[m].crash_how = FA_CRASH_ABORT;
		s->calls[m].exit_code = 1;
	}
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void fa_script_destroy(fa_script *s)
{
	free_strv(s->stdout_noise, s->n_stdout_noise);
	free_strv(s->stderr_lines, s->n_stderr_lines);
	for (int m = 0; m < FA_M_COUNT; m++) {
		free(s->calls[m].details);
		free(s->calls[m].text);
	}
	free(s->privdir_swap);
	free(s->version);
	free(s->health.service);
	fa_script_init(s);
}

/* ---- errors and typed getters ------------------------------------------- */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a real number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "?";
}

/* A non-negative integer no larger than max. */
static int get_uint(const json_t *v, const char *key, int64_t max, int64_t *out, char *err, size_t errlen)
{
	if (!json_is_integer(v))
		return fail(err, errlen, "%s: expected a non-negative integer, got %s", key, type_name(v));
	json_int_t n = json_integer_value(v);
	if (n < 0 || n > max)
		return fail(err, errlen, "%s: %lld is out of range 0..%lld", key, (long long)n, (long long)max);
	*out = n;
	return 0;
}

#define MS_MAX ((int64_t)24 * 3600 * 1000) /* a day: more is a typo */

static int get_ms(const json_t *v, const char *key, int64_t *out, char *err, size_t errlen)
{
	return get_uint(v, key, MS_MAX, out, err, errlen);
}

static int get_code(const json_t *v, const char *key, int *out, char *err, size_t errlen)
{
	int64_t n;
	int rc = get_uint(v, key, 255, &n, err, errlen);
	if (rc == 0)
		*out = (int)n;
	return rc;
}

static int get_bool(const json_t *v, const char *key, bool *out, char *err, size_t errlen)
{
	if (!json_is_boolean(v))
		return fail(err, errlen, "%s: expected true or false, got %s", key, type_name(v));
	*out = json_is_true(v);
	return 0;
}

/* One of the words in names (NULL-terminated); *out = its index. */
static int get_enum(const json_t *v, const char *key, const char *const *names, int *out, char *err,
		    size_t errlen)
{
	char known[256] = "";
	size_t used = 0;
	for (int i = 0; names[i]; i++) {
		if (json_is_string(v) && strcmp(json_string_value(v), names[i]) == 0) {
			*out = i;
			return 0;
		}
		int n = snprintf(known + used, sizeof(known) - used, "%s\"%s\"", i ? ", " : "", names[i]);
		if (n > 0 && (size_t)n < sizeof(known) - used)
			used += (size_t)n;
	}
	if (!json_is_string(v))
		return fail(err, errlen, "%s: expected one of %s, got %s", key, known, type_name(v));
	return fail(err, errlen, "%s: \"%s\" is not one of %s", key, json_string_value(v), known);
}

static int get_strv(const json_t *v, const char *key, char ***out, size_t *n_out, char *err, size_t errlen)
{
	if (!json_is_array(v))
		return fail(err, errlen, "%s: expected an array of strings, got %s", key, type_name(v));
	size_t n = json_array_size(v), i;
	const json_t *e;
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			return fail(err, errlen, "%s[%zu]: expected a string, got %s", key, i, type_name(e));
	}
	char **strv = calloc(n ? n : 1, sizeof(*strv));
	if (!strv)
		return fail(err, errlen, "%s: out of memory", key);
	json_array_foreach(v, i, e) {
		strv[i] = strdup(json_string_value(e));
		if (!strv[i]) {
			free_strv(strv, i);
			return fail(err, errlen, "%s: out of memory", key);
		}
	}
	free_strv(*out, *n_out); /* a key given twice: the last one wins */
	*out = strv;
	*n_out = n;
	return 0;
}

/* Bytes given as hex digits (pairs, spaces allowed): JSON cannot carry
 * non-UTF-8 bytes, and the hostile scripts of issue 15 need them. */
static int get_hex(const json_t *v, const char *key, char **out, size_t *n_out, bool *has, char *err, size_t errlen)
{
	if (!json_is_string(v))
		return fail(err, errlen, "%s: expected a string of hex byte pairs, got %s", key, type_name(v));
	const char *h = json_string_value(v);
	char *buf = malloc(strlen(h) / 2 + 1);
	size_t n = 0;
	if (!buf)
		return fail(err, errlen, "%s: out of memory", key);
	for (const char *p = h; *p;) {
		if (*p == ' ') {
			p++;
			continue;
		}
		unsigned byte;
		if (!p[1] || sscanf(p, "%2x", &byte) != 1 || !strchr("0123456789abcdefABCDEF", p[0]) ||
		    !strchr("0123456789abcdefABCDEF", p[1])) {
			free(buf);
			return fail(err, errlen, "%s: \"%s\" is not hex byte pairs (e.g. \"61 00 ff\")", key, h);
		}
		buf[n++] = (char)byte;
		p += 2;
	}
	buf[n] = '\0';
	free(*out); /* a key given twice: the last one wins */
	*out = buf;
	*n_out = n;
	*has = true;
	return 0;
}

static int get_str(const json_t *v, const char *key, char **out, char *err, size_t errlen)
{
	if (!json_is_string(v))
		return fail(err, errlen, "%s: expected a string, got %s", key, type_name(v));
	char *c = strdup(json_string_value(v));
	if (!c)
		return fail(err, errlen, "%s: out of memory", key);
	free(*out);
	*out = c;
	return 0;
}

static int get_object(const json_t *v, const char *key, char *err, size_t errlen)
{
	if (!json_is_object(v))
		return fail(err, errlen, "%s: expected an object, got %s", key, type_name(v));
	return 0;
}

static int unknown_key(const char *prefix, const char *key, const char *known, char *err, size_t errlen)
{
	return fail(err, errlen, "unknown key \"%s%s\" (known: %s)", prefix, key, known);
}

/* ---- signals --------------------------------------------------------------- */

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },   { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "ABRT", SIGABRT }, { "FPE", SIGFPE },   { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 }, { "BUS", SIGBUS },   { "TRAP", SIGTRAP }, { "SYS", SIGSYS },
};

int fa_signal_parse(const char *s)
{
	if (!s || !*s)
		return 0;
	char *end;
	long n = strtol(s, &end, 10);
	if (*end == '\0')
		return (n > 0 && n < NSIG) ? (int)n : 0;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < N_ELEM(signals); i++)
		if (strcasecmp(s, signals[i].name) == 0)
			return signals[i].sig;
	return 0;
}

/* ---- sections ------------------------------------------------------------- */

static int parse_exit(const json_t *obj, fa_script *s, char *err, size_t errlen)
{
	static const char *const whens[] = { "before_bind", "after_bind", "after_ready", "after_ms", NULL };
	int rc = get_object(obj, "exit", err, errlen);
	if (rc < 0)
		return rc;
	const char *key;
	const json_t *v;
	bool has_code = false, has_when = false;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "when") == 0) {
			int w;
			rc = get_enum(v, "exit.when", whens, &w, err, errlen);
			s->exit.when = (fa_exit_when)(w + FA_EXIT_BEFORE_BIND);
			has_when = true;
		} else if (strcmp(key, "after_ms") == 0) {
			rc = get_ms(v, "exit.after_ms", &s->exit.after_ms, err, errlen);
		} else if (strcmp(key, "code") == 0) {
			rc = get_code(v, "exit.code", &s->exit.code, err, errlen);
			has_code = true;
		} else if (strcmp(key, "signal") == 0) {
			if (json_is_integer(v) || json_is_string(v)) {
				char num[32];
				if (json_is_integer(v))
					snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
				s->exit.signal = fa_signal_parse(json_is_string(v) ? json_string_value(v) : num);
				if (s->exit.signal == 0)
					rc = fail(err, errlen, "exit.signal: %s%s%s is not a signal (use a name like \"SIGSEGV\" or a number 1..%d)",
						  json_is_string(v) ? "\"" : "", json_is_string(v) ? json_string_value(v) : num,
						  json_is_string(v) ? "\"" : "", NSIG - 1);
			} else {
				rc = fail(err, errlen, "exit.signal: expected a signal name or number, got %s", type_name(v));
			}
		} else {
			rc = unknown_key("exit.", key, "when, after_ms, code, signal", err, errlen);
		}
		if (rc < 0)
			return rc;
	}
	if (!has_when)
		return fail(err, errlen, "exit.when: missing (one of \"before_bind\", \"after_bind\", \"after_ready\", \"after_ms\")");
	if (has_code && s->exit.signal)
		return fail(err, errlen, "exit: give either \"code\" or \"signal\", not both");
	return 0;
}

static int parse_health(const json_t *obj, fa_script *s, char *err, size_t errlen)
{
	int rc = get_object(obj, "health", err, errlen);
	if (rc < 0)
		return rc;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "unhealthy_first") == 0)
			rc = get_uint(v, "health.unhealthy_first", INT64_MAX, &s->health.unhealthy_first, err, errlen);
		else if (strcmp(key, "delay_ms") == 0)
			rc = get_ms(v, "health.delay_ms", &s->health.delay_ms, err, errlen);
		else if (strcmp(key, "hang") == 0)
			rc = get_bool(v, "health.hang", &s->health.hang, err, errlen);
		else if (strcmp(key, "version_hex") == 0)
			rc = get_hex(v, "health.version_hex", &s->version, &s->version_len, &s->has_version, err, errlen);
		else if (strcmp(key, "service") == 0)
			rc = get_str(v, "health.service", &s->health.service, err, errlen);
		else
			rc = unknown_key("health.", key, "unhealthy_first, delay_ms, hang, version_hex, service", err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_status(const json_t *v, const char *key, int *out, char *err, size_t errlen)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 1 || n > 16)
			return fail(err, errlen, "%s: %lld is not a non-OK gRPC status code (1..16)", key, (long long)n);
		*out = (int)n;
		return 0;
	}
	if (json_is_string(v)) {
		for (int c = 1; c <= 16; c++)
			if (strcasecmp(json_string_value(v), nv_status_name(c)) == 0) {
				*out = c;
				return 0;
			}
		return fail(err, errlen, "%s: \"%s\" is not a non-OK gRPC status name (e.g. \"UNAVAILABLE\")", key,
			    json_string_value(v));
	}
	return fail(err, errlen, "%s: expected a gRPC status code (1..16) or name, got %s", key, type_name(v));
}

static int parse_call(const json_t *obj, const char *method, fa_call_script *c, char *err, size_t errlen)
{
	static const char *const hows[] = { "abort", "segv", "exit", NULL };
	char prefix[64], k[96];
	snprintf(prefix, sizeof(prefix), "calls.%s.", method);
	snprintf(k, sizeof(k), "calls.%s", method);
	int rc = get_object(obj, k, err, errlen);
	if (rc < 0)
		return rc;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		snprintf(k, sizeof(k), "%s%s", prefix, key);
		if (strcmp(key, "crash_on") == 0) {
			rc = get_uint(v, k, INT64_MAX, &c->crash_on, err, errlen);
		} else if (strcmp(key, "crash_how") == 0) {
			int how;
			rc = get_enum(v, k, hows, &how, err, errlen);
			c->crash_how = (fa_crash_how)how;
		} else if (strcmp(key, "exit_code") == 0) {
			rc = get_code(v, k, &c->exit_code, err, errlen);
		} else if (strcmp(key, "hang") == 0) {
			rc = get_bool(v, k, &c->hang, err, errlen);
		} else if (strcmp(key, "delay_ms") == 0) {
			rc = get_ms(v, k, &c->delay_ms, err, errlen);
		} else if (strcmp(key, "status") == 0) {
			rc = parse_status(v, k, &c->status, err, errlen);
		} else if (strcmp(key, "details") == 0) {
			if (!json_is_string(v)) {
				rc = fail(err, errlen, "%s: expected a string, got %s", k, type_name(v));
			} else {
				free(c->details);
				c->details = strdup(json_string_value(v));
				if (!c->details)
					rc = fail(err, errlen, "%s: out of memory", k);
			}
		} else if (strcmp(key, "fail_every") == 0) {
			rc = get_uint(v, k, INT64_MAX, &c->fail_every, err, errlen);
		} else if (strcmp(key, "reply_bytes") == 0) {
			rc = get_uint(v, k, (int64_t)1 << 30, &c->reply_bytes, err, errlen);
		} else if (strcmp(key, "text_hex") == 0) {
			rc = get_hex(v, k, &c->text, &c->text_len, &c->has_text, err, errlen);
		} else if (strcmp(key, "crash_holder_ms") == 0) {
			rc = get_ms(v, k, &c->crash_holder_ms, err, errlen);
		} else if (strcmp(key, "crash_close_first_ms") == 0) {
			rc = get_ms(v, k, &c->crash_close_first_ms, err, errlen);
		} else {
			rc = unknown_key(prefix, key,
					 "crash_on, crash_how, exit_code, hang, delay_ms, status, details, fail_every, reply_bytes, "
					 "text_hex, crash_holder_ms, crash_close_first_ms",
					 err, errlen);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_calls(const json_t *obj, fa_script *s, char *err, size_t errlen)
{
	int rc = get_object(obj, "calls", err, errlen);
	if (rc < 0)
		return rc;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		int m;
		for (m = 0; m < FA_M_COUNT; m++)
			if (strcmp(key, fa_method_name((fa_method_id)m, false)) == 0)
				break;
		if (m == FA_M_COUNT)
			return fail(err, errlen,
				    "unknown key \"calls.%s\": not a method (known: HealthCheck, ProcessPrompt, CallCustomFunction)",
				    key);
		rc = parse_call(v, key, &s->calls[m], err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_flood(const json_t *obj, fa_script *s, char *err, size_t errlen)
{
	static const char *const streams[] = { "stdout", "stderr", "both", NULL };
	static const char *const whens[] = { "start", "after_ready", NULL };
	int rc = get_object(obj, "flood", err, errlen), e;
	if (rc < 0)
		return rc;
	const char *key;
	const json_t *v;
	s->flood.stream = FA_FLOOD_STDOUT;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "stream") == 0) {
			rc = get_enum(v, "flood.stream", streams, &e, err, errlen);
			s->flood.stream = (fa_flood_stream)(e + FA_FLOOD_STDOUT);
		} else if (strcmp(key, "when") == 0) {
			rc = get_enum(v, "flood.when", whens, &e, err, errlen);
			s->flood.after_ready = e == 1;
		} else {
			rc = unknown_key("flood.", key, "stream, when", err, errlen);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int parse_children(const json_t *obj, fa_script *s, char *err, size_t errlen)
{
	int rc = get_object(obj, "children", err, errlen);
	if (rc < 0)
		return rc;
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "count") == 0)
			rc = get_uint(v, "children.count", 16, &s->children.count, err, errlen);
		else if (strcmp(key, "ignore_sigterm") == 0)
			rc = get_bool(v, "children.ignore_sigterm", &s->children.ignore_sigterm, err, errlen);
		else if (strcmp(key, "detach") == 0)
			rc = get_bool(v, "children.detach", &s->children.detach, err, errlen);
		else
			rc = unknown_key("children.", key, "count, ignore_sigterm, detach", err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- the top level ----------------------------------------------------------- */

#define TOP_KEYS                                                                                   \
	"bind_delay_ms, listen_delay_ms, marker, marker_delay_ms, marker_split_gap_ms, noise_gap_ms, stdout_noise, near_misses, "     \
	"huge_line_bytes, stderr_lines, bind, leave_socket, serve_from_child, exit, methods, health, "  \
	"calls, sigterm, shutdown_delay_ms, exit_code_on_term, flood, children, setsid, privdir_swap, print_fds"

int fa_script_parse(const json_t *obj, fa_script *s, char *err, size_t errlen)
{
	static const char *const markers[] = { "normal", "never", "before_bind", "split", "crlf", NULL };
	static const char *const binds[] = { "normal",		"none",		   "other_path", "stale_file",
					     "impostor_silent", "impostor_garbage", NULL };
	static const char *const methods[] = { "pascal", "camel", "both", "none", NULL };
	static const char *const terms[] = { "exit", "ignore", "slow", NULL };
	if (!obj || !s)
		return fail(err, errlen, "fa_script_parse: invalid argument");
	if (!json_is_object(obj))
		return fail(err, errlen, "a script is a JSON object, got %s", type_name(obj));
	const char *key;
	const json_t *v;
	int rc, e;
	json_object_foreach((json_t *)obj, key, v) {
		if (strcmp(key, "bind_delay_ms") == 0) {
			rc = get_ms(v, key, &s->bind_delay_ms, err, errlen);
		} else if (strcmp(key, "listen_delay_ms") == 0) {
			rc = get_ms(v, key, &s->listen_delay_ms, err, errlen);
		} else if (strcmp(key, "marker") == 0) {
			rc = get_enum(v, key, markers, &e, err, errlen);
			s->marker = (fa_marker)e;
		} else if (strcmp(key, "marker_delay_ms") == 0) {
			rc = get_ms(v, key, &s->marker_delay_ms, err, errlen);
		} else if (strcmp(key, "marker_split_gap_ms") == 0) {
			rc = get_ms(v, key, &s->marker_split_gap_ms, err, errlen);
		} else if (strcmp(key, "noise_gap_ms") == 0) {
			rc = get_ms(v, key, &s->noise_gap_ms, err, errlen);
		} else if (strcmp(key, "stdout_noise") == 0) {
			rc = get_strv(v, key, &s->stdout_noise, &s->n_stdout_noise, err, errlen);
		} else if (strcmp(key, "near_misses") == 0) {
			rc = get_bool(v, key, &s->near_misses, err, errlen);
		} else if (strcmp(key, "huge_line_bytes") == 0) {
			rc = get_uint(v, key, (int64_t)1 << 30, &s->huge_line_bytes, err, errlen);
		} else if (strcmp(key, "stderr_lines") == 0) {
			rc = get_strv(v, key, &s->stderr_lines, &s->n_stderr_lines, err, errlen);
		} else if (strcmp(key, "bind") == 0) {
			rc = get_enum(v, key, binds, &e, err, errlen);
			s->bind = (fa_bind)e;
		} else if (strcmp(key, "leave_socket") == 0) {
			rc = get_bool(v, key, &s->leave_socket, err, errlen);
		} else if (strcmp(key, "serve_from_child") == 0) {
			rc = get_bool(v, key, &s->serve_from_child, err, errlen);
		} else if (strcmp(key, "exit") == 0) {
			rc = parse_exit(v, s, err, errlen);
		} else if (strcmp(key, "methods") == 0) {
			rc = get_enum(v, key, methods, &e, err, errlen);
			s->methods = (fa_methods)e;
		} else if (strcmp(key, "health") == 0) {
			rc = parse_health(v, s, err, errlen);
		} else if (strcmp(key, "calls") == 0) {
			rc = parse_calls(v, s, err, errlen);
		} else if (strcmp(key, "sigterm") == 0) {
			rc = get_enum(v, key, terms, &e, err, errlen);
			s->sigterm = (fa_sigterm)e;
		} else if (strcmp(key, "shutdown_delay_ms") == 0) {
			rc = get_ms(v, key, &s->shutdown_delay_ms, err, errlen);
		} else if (strcmp(key, "exit_code_on_term") == 0) {
			rc = get_code(v, key, &s->exit_code_on_term, err, errlen);
		} else if (strcmp(key, "flood") == 0) {
			rc = parse_flood(v, s, err, errlen);
		} else if (strcmp(key, "children") == 0) {
			rc = parse_children(v, s, err, errlen);
		} else if (strcmp(key, "setsid") == 0) {
			rc = get_bool(v, key, &s->setsid, err, errlen);
		} else if (strcmp(key, "privdir_swap") == 0) {
			rc = get_str(v, key, &s->privdir_swap, err, errlen);
		} else if (strcmp(key, "print_fds") == 0) {
			rc = get_bool(v, key, &s->print_fds, err, errlen);
		} else {
			rc = unknown_key("", key, TOP_KEYS, err, errlen);
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- sources ------------------------------------------------------------------- */

static int merge(json_t *acc, json_t *obj, const char *origin, char *err, size_t errlen)
{
	if (!json_is_object(obj)) {
		int rc = fail(err, errlen, "%s: a script is a JSON object, got %s", origin, type_name(obj));
		json_decref(obj);
		return rc;
	}
	int rc = json_object_update(acc, obj) == 0 ? 0 : fail(err, errlen, "%s: out of memory", origin);
	json_decref(obj);
	return rc;
}

int fa_script_merge_text(json_t *acc, const char *text, const char *origin, char *err, size_t errlen)
{
	if (!acc || !text)
		return fail(err, errlen, "fa_script_merge_text: invalid argument");
	json_error_t jerr;
	json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!obj)
		return fail(err, errlen, "%s: not JSON: %s (line %d, column %d)", origin, jerr.text, jerr.line,
			    jerr.column);
	return merge(acc, obj, origin, err, errlen);
}

int fa_script_merge_file(json_t *acc, const char *file, char *err, size_t errlen)
{
	if (!acc || !file)
		return fail(err, errlen, "fa_script_merge_file: invalid argument");
	FILE *f = fopen(file, "re");
	if (!f) {
		int e = errno;
		fail(err, errlen, "script %s: %s", file, strerror(e));
		return -e;
	}
	json_error_t jerr;
	json_t *obj = json_loadf(f, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	fclose(f);
	if (!obj)
		return fail(err, errlen, "script %s: not JSON: %s (line %d, column %d)", file, jerr.text, jerr.line,
			    jerr.column);
	char origin[300];
	snprintf(origin, sizeof(origin), "script %s", file);
	return merge(acc, obj, origin, err, errlen);
}
