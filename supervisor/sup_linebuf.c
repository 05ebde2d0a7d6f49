/* sup_linebuf: bounded line splitter for a child's stdout/stderr (SPEC L4). */
#include "sup_linebuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SUP__DEFAULT_MAX_LINE 4096
#define SUP__MARKER "AGENT_READY"

void sup_linebuf_init(sup_linebuf *lb, size_t max_line)
{
	if (!lb)
		return;
	memset(lb, 0, sizeof(*lb));
	lb->max_line = max_line ? max_line : SUP__DEFAULT_MAX_LINE;
}

void sup_linebuf_destroy(sup_linebuf *lb)
{
	if (!lb)
		return;
	free(lb->buf);
	lb->buf = NULL;
	lb->len = lb->cap = 0;
	lb->discarding = false;
}

/* Deliver buf[0..len) as one line: one trailing '\r' is a CRLF ending, not
 * content. buf keeps max_line + 1 bytes so a line of exactly max_line bytes
 * plus '\r' is not mistaken for an over-long one. */
static void sup__emit(sup_linebuf *lb, bool overlong, sup_line_cb cb, void *ud)
{
	size_t len = lb->len;
	bool truncated = false;

	if (!overlong && len > 0 && lb->buf[len - 1] == '\r')
		len--;
	if (len > lb->max_line) {
		len = lb->max_line;
		truncated = true;
	}
	lb->buf[len] = '\0';
	lb->len = 0;
	if (cb)
		cb(ud, lb->buf, len, truncated);
}

int sup_linebuf_feed(sup_linebuf *lb, const char *data, size_t n, sup_line_cb cb, void *ud)
{
	size_t keep = lb ? lb->max_line + 1 : 0; /* content bytes buf may hold */

	if (!lb || (!data && n > 0))
		return -EINVAL;
	if (n > 0 && !lb->buf) {
		/* Fixed size from the start: memory is bounded by max_line
		 * whatever the child writes (L4: long lines bounded). */
		lb->buf = malloc(keep + 1);
		if (!lb->buf)
			return -ENOMEM;
		lb->cap = keep + 1;
	}
	while (n > 0) {
		const char *nl = memchr(data, '\n', n);
		size_t seg = nl ? (size_t)(nl - data) : n;
		size_t step = nl ? seg + 1 : seg;

		if (lb->discarding) {
			/* The tail of an over-long line, already delivered once
			 * truncated: dropped, so no part of it can pass for a
			 * marker (L4). */
			if (nl)
				lb->discarding = false;
		} else if (lb->len + seg > keep) {
			/* Too long: deliver now, once, and drop up to '\n'. */
			size_t room = keep - lb->len;

			memcpy(lb->buf + lb->len, data, room);
			lb->len = keep;
			/* More than max_line + 1 bytes before '\n': over-long
			 * even if the last one kept is '\r'. */
			sup__emit(lb, true, cb, ud);
			lb->discarding = nl == NULL;
		} else {
			memcpy(lb->buf + lb->len, data, seg);
			lb->len += seg;
			if (nl)
				sup__emit(lb, false, cb, ud);
		}
		data += step;
		n -= step;
	}
	return 0;
}

void sup_linebuf_flush(sup_linebuf *lb, sup_line_cb cb, void *ud)
{
	if (!lb)
		return;
	/* A line of max_line + 1 bytes without '\r' cut by EOF is still
	 * over-long and comes out truncated; anything shorter is whole. */
	if (!lb->discarding && lb->len > 0)
		sup__emit(lb, false, cb, ud);
	lb->len = 0;
	lb->discarding = false;
}

bool sup_is_marker(const char *line, size_t len, bool truncated)
{
	/* L4: the whole line, byte for byte; sizeof - 1 also rejects a line
	 * with an embedded NUL after "AGENT_READY". */
	return !truncated && line && len == sizeof(SUP__MARKER) - 1 && memcmp(line, SUP__MARKER, len) == 0;
}
