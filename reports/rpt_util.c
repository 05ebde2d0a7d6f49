/* rpt_util: text buffer, escapers and file output shared by the renderers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rpt_internal.h"

void rpt__buf_free(rpt_buf *b)
{
	free(b->p);
	*b = (rpt_buf)RPT_BUF_INIT;
}

static bool buf_grow(rpt_buf *b, size_t extra)
{
	if (b->oom)
		return false;
	if (b->len + extra + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void rpt__buf_putn(rpt_buf *b, const char *s, size_t n)
{
	if (!buf_grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void rpt__buf_puts(rpt_buf *b, const char *s)
{
	if (s)
		rpt__buf_putn(b, s, strlen(s));
}

void rpt__buf_printf(rpt_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !buf_grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void rpt__buf_xml(rpt_buf *b, const char *s)
{
	if (!s)
		return;
	const char *run = s;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '\t':
		case '\n': break;
		default:
			/* XML 1.0 forbids C0 controls even as character references;
			 * DEL is legal but invisible. Agent output may contain both. */
			if (*p < 0x20 || *p == 0x7f)
				rep = "\xef\xbf\xbd";
		}
		if (rep) {
			rpt__buf_putn(b, run, (size_t)((const char *)p - run));
			rpt__buf_puts(b, rep);
			run = (const char *)p + 1;
		}
	}
	rpt__buf_puts(b, run);
}

void rpt__buf_md(rpt_buf *b, const char *s)
{
	if (!s)
		return;
	const char *run = s;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '|': rep = "\\|"; break;
		case '\\': rep = "\\\\"; break;
		case '`': rep = "\\`"; break;
		case '*': rep = "\\*"; break;
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '\r':
		case '\n': rep = " "; break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				rep = "\xef\xbf\xbd";
		}
		if (rep) {
			rpt__buf_putn(b, run, (size_t)((const char *)p - run));
			rpt__buf_puts(b, rep);
			run = (const char *)p + 1;
		}
	}
	rpt__buf_puts(b, run);
}

char *rpt__json_brief(const json_t *v)
{
	if (!v || json_is_null(v))
		return strdup("null");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_real(v)) {
		/* %.17g would show 500.41199999999998; people read 500.412 */
		char tmp[64];
		snprintf(tmp, sizeof(tmp), "%.10g", json_real_value(v));
		return strdup(tmp);
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
}

const char *rpt__str(const json_t *o, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : def;
}

const char *rpt__str_at(const json_t *a, size_t i, const char *def)
{
	const char *s = json_string_value(json_array_get(a, i));
	return s ? s : def;
}

const char *rpt__failure_text(const json_t *f)
{
	const char *m = rpt__str(f, "message", "");
	return *m ? m : rpt__str(f, "description", "");
}

double rpt__num(const json_t *o, const char *key, double def)
{
	const json_t *v = json_object_get(o, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

int rpt__mkdirs(const char *path)
{
	char tmp[4096];
	rpt__return_if_fail(path && *path, -EINVAL);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int rpt__write_file(const char *dir, const char *name, const rpt_buf *b, char *err, size_t errlen)
{
	char path[4096], tmp[4200];
	int fd = -1, rc;
	if (b->oom) {
		snprintf(err, errlen, "render %s: out of memory", name);
		return -ENOMEM;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		snprintf(err, errlen, "write %s/%s: path too long", dir, name);
		return -ENAMETOOLONG;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	for (size_t off = 0; off < b->len;) {
		ssize_t n = write(fd, b->p + off, b->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto fail;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = -errno;
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	snprintf(err, errlen, "write %s: %s", path, strerror(-rc));
	return rc;
}

void rpt__buf_cells(rpt_buf *b, const json_t *x, const char *const *keys, size_t n, const char *before,
		    const char *after, rpt_esc_fn esc)
{
	for (size_t k = 0; k < n; k++) {
		rpt__buf_puts(b, before);
		esc(b, rpt__str(x, keys[k], "—"));
		rpt__buf_puts(b, after);
	}
}

void rpt__buf_opt(rpt_buf *b, const char *before, const char *s, const char *after, rpt_esc_fn esc)
{
	if (!s)
		return;
	rpt__buf_puts(b, before);
	esc(b, s);
	rpt__buf_puts(b, after);
}

void rpt__buf_join(rpt_buf *b, const json_t *a, rpt_esc_fn esc)
{
	size_t j;
	const json_t *e;
	json_array_foreach(a, j, e) {
		rpt__buf_puts(b, j ? ", " : "");
		esc(b, json_string_value(e));
	}
}

bool rpt__buf_load_error(rpt_buf *b, const json_t *o, const char *before, const char *after, rpt_esc_fn esc)
{
	if (!json_object_get(o, "error"))
		return false;
	rpt__buf_puts(b, before);
	esc(b, rpt__str(o, "error", ""));
	rpt__buf_puts(b, ": ");
	esc(b, rpt__str(o, "file", ""));
	rpt__buf_puts(b, after);
	return true;
}

void rpt__fmt_duration(char *out, size_t n, double ms)
{
	if (!(ms >= 0)) { /* negative or NaN: not a duration */
		snprintf(out, n, "?");
		return;
	}
	/* Round once at the precision shown, then pick the unit from the
	 * rounded value, so 999.7 ms reads "1.0 s", never "1000 ms". */
	if (ms < 9.95) {
		snprintf(out, n, "%.1f ms", ms);
		return;
	}
	if (ms < 999.5) {
		snprintf(out, n, "%.0f ms", ms);
		return;
	}
	double tenths = (double)(long long)(ms / 100.0 + 0.5); /* seconds × 10 */
	if (tenths < 600) {
		snprintf(out, n, "%.1f s", tenths / 10.0);
		return;
	}
	long long s = (long long)(ms / 1000.0 + 0.5), m = (long long)(ms / 60000.0 + 0.5);
	if (s < 3600)
		snprintf(out, n, "%lld min %lld s", s / 60, s % 60);
	else
		snprintf(out, n, "%lld h %lld min", m / 60, m % 60);
}

void rpt__fmt_at(char *out, size_t n, double ms)
{
	if (ms < 10000)
		snprintf(out, n, "%.1f ms", ms);
	else
		snprintf(out, n, "%.3f s", ms / 1000);
}
