/* sup_error: fill, copy and render the SPEC O1 structured error record. */
#include "sup_error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sup__strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

void sup_error_init(sup_error *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

void sup_error_destroy(sup_error *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n_causes && i < SUP_ERROR_MAX_CAUSES; i++)
		free(e->causes[i]);
	memset(e, 0, sizeof(*e));
}

bool sup_error_is_set(const sup_error *e)
{
	return e && e->message[0] != '\0';
}

static const struct {
	int num;
	const char *name;
} sup__errno_names[] = {
#define E_(x) { x, #x }
	E_(ENOENT), E_(EACCES), E_(ENOEXEC), E_(ECONNREFUSED), E_(ENAMETOOLONG),
	E_(ETIMEDOUT), E_(EMFILE), E_(ENFILE), E_(ENOMEM), E_(EPIPE), E_(EINTR),
	E_(EAGAIN), E_(EINVAL), E_(ENOTDIR), E_(EISDIR), E_(ECHILD), E_(ESRCH),
	E_(EPERM), E_(EADDRINUSE), E_(ENOTSOCK), E_(EPROTO), E_(EEXIST),
	E_(ECONNRESET), E_(ENOBUFS), E_(EBADF), E_(ENOSPC), E_(ECANCELED),
	E_(ELOOP), E_(ETXTBSY), E_(E2BIG), E_(EIO),
#undef E_
};

const char *sup_errno_name(int errnum)
{
	static _Thread_local char fallback[16];

	if (errnum < 0)
		errnum = -errnum;
	/* EWOULDBLOCK == EAGAIN on Linux, so one entry covers both. */
	for (size_t i = 0; i < sizeof(sup__errno_names) / sizeof(sup__errno_names[0]); i++)
		if (sup__errno_names[i].num == errnum)
			return sup__errno_names[i].name;
	snprintf(fallback, sizeof(fallback), "E%d", errnum);
	return fallback;
}

static int64_t sup__wall_ms(void)
{
	struct timespec ts;

	/* O1 timestamp is for people reading the record, never for timeouts,
	 * so wall-clock time is the right clock here. */
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sup_error_vset(sup_error *e, const char *channel, int errnum, const char *fmt, va_list ap)
{
	char msg[sizeof(e->message)] = "", chan[sizeof(e->channel)];

	if (!e)
		return;
	/* Format before the reset: wrapping an error in itself
	 * ("init: %s", e->message) must read the old text, not freed or
	 * cleared storage. */
	if (fmt)
		vsnprintf(msg, sizeof(msg), fmt, ap);
	sup__strlcpy(chan, channel ? channel : "", sizeof(chan));
	sup_error_destroy(e);
	/* An empty message would read as "not set"; keep the record truthful. */
	sup__strlcpy(e->message, msg[0] ? msg : "unspecified error", sizeof(e->message));
	memcpy(e->channel, chan, sizeof(chan));
	e->errnum = errnum > 0 ? errnum : 0;
	e->timestamp_ms = sup__wall_ms();
	if (e->errnum > 0)
		sup_error_ctx(e, "errno", "%s", sup_errno_name(e->errnum));
}

void sup_error_set(sup_error *e, const char *channel, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sup_error_vset(e, channel, errnum, fmt, ap);
	va_end(ap);
}

void sup_error_add_cause(sup_error *e, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int r;

	if (!e || !fmt || e->n_causes >= SUP_ERROR_MAX_CAUSES)
		return;
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return; /* out of memory: the message alone must do */
	e->causes[e->n_causes++] = s;
}

void sup_error_ctx(sup_error *e, const char *key, const char *fmt, ...)
{
	va_list ap;
	size_t i;
	char k[sizeof(e->ctx[0].key)], v[sizeof(e->ctx[0].value)];

	if (!e || !key || !fmt)
		return;
	/* Local copies first: the value may quote the record itself. */
	sup__strlcpy(k, key, sizeof(k));
	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	for (i = 0; i < e->n_ctx; i++)
		if (strcmp(e->ctx[i].key, k) == 0)
			break;
	if (i == e->n_ctx) {
		if (e->n_ctx >= SUP_ERROR_MAX_CTX)
			return;
		memcpy(e->ctx[i].key, k, sizeof(k));
		e->n_ctx++;
	}
	memcpy(e->ctx[i].value, v, sizeof(v));
}

const char *sup_error_ctx_get(const sup_error *e, const char *key)
{
	if (!e || !key)
		return NULL;
	for (size_t i = 0; i < e->n_ctx; i++)
		if (strcmp(e->ctx[i].key, key) == 0)
			return e->ctx[i].value;
	return NULL;
}

void sup_error_copy(sup_error *dst, const sup_error *src)
{
	if (!dst || dst == src)
		return;
	sup_error_destroy(dst);
	if (!src)
		return;
	*dst = *src;
	dst->n_causes = 0;
	memset(dst->causes, 0, sizeof(dst->causes));
	for (size_t i = 0; i < src->n_causes && i < SUP_ERROR_MAX_CAUSES; i++) {
		char *s = strdup(src->causes[i]);

		if (!s)
			break;
		dst->causes[dst->n_causes++] = s;
	}
}

static void sup__iso8601(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char date[32];

	if (ms < 0 || !gmtime_r(&secs, &tm)) {
		snprintf(buf, len, "1970-01-01T00:00:00.000Z");
		return;
	}
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03dZ", date, (int)(ms % 1000));
}

/* json_string() rejects invalid UTF-8, and a child's output (quoted in
 * messages and context) may be anything: replace non-ASCII bytes then,
 * rather than lose the whole record. */
static json_t *sup__json_str(const char *s)
{
	json_t *j = json_string(s);
	char *copy;

	if (j)
		return j;
	copy = strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

json_t *sup_error_to_json(const sup_error *e)
{
	json_t *o, *stack, *ctx;
	char ts[48];

	if (!sup_error_is_set(e))
		return json_null();
	o = json_object();
	stack = json_array();
	ctx = json_object();
	if (!o || !stack || !ctx)
		goto fail;
	for (size_t i = 0; i < e->n_causes; i++)
		if (json_array_append_new(stack, sup__json_str(e->causes[i])) != 0)
			goto fail;
	for (size_t i = 0; i < e->n_ctx; i++)
		if (json_object_set_new(ctx, e->ctx[i].key, sup__json_str(e->ctx[i].value)) != 0)
			goto fail;
	sup__iso8601(e->timestamp_ms, ts, sizeof(ts));
	if (json_object_set_new(o, "message", sup__json_str(e->message)) != 0)
		goto fail;
	if (json_object_set_new(o, "stack", stack) != 0) {
		stack = NULL;
		goto fail;
	}
	stack = NULL;
	if (json_object_set_new(o, "context", ctx) != 0) {
		ctx = NULL;
		goto fail;
	}
	ctx = NULL;
	if (json_object_set_new(o, "timestamp", json_string(ts)) != 0 ||
	    json_object_set_new(o, "channel", sup__json_str(e->channel)) != 0 ||
	    json_object_set_new(o, "errno", json_integer(e->errnum)) != 0)
		goto fail;
	return o;
fail:
	json_decref(ctx);
	json_decref(stack);
	json_decref(o);
	return NULL;
}

int sup_error_format(const sup_error *e, char *buf, size_t len)
{
	size_t used = 0;
	int r;

	if (!e || (!buf && len > 0))
		return -EINVAL;
	if (len > 0)
		buf[0] = '\0';
/* Append with snprintf semantics: keep counting past the end so the caller
 * learns the full length. */
#define APPEND(...)                                                              \
	do {                                                                     \
		r = snprintf(used < len ? buf + used : NULL, used < len ? len - used : 0, \
		             __VA_ARGS__);                                       \
		if (r < 0)                                                       \
			return -EINVAL;                                          \
		used += (size_t)r;                                               \
	} while (0)

	if (!sup_error_is_set(e)) {
		APPEND("no error");
		return (int)used;
	}
	if (e->channel[0])
		APPEND("[%s] ", e->channel);
	APPEND("%s", e->message);
	for (size_t i = 0; i < e->n_causes; i++)
		APPEND("\n  caused by: %s", e->causes[i]);
	if (e->n_ctx > 0) {
		APPEND("\n  context:");
		for (size_t i = 0; i < e->n_ctx; i++)
			APPEND(" %s=%s", e->ctx[i].key, e->ctx[i].value);
	}
#undef APPEND
	return (int)used;
}
