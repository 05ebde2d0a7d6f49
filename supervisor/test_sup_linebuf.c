/* Unit tests for sup_linebuf: the L4 line reader on adversarial input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sup_linebuf.h"

#define MAXL 64

/* Everything the callback saw, for comparison. */
struct seen {
	size_t n;
	struct {
		char text[MAXL + 2];
		size_t len;
		bool truncated;
	} line[64];
	size_t markers;
};

static void collect(void *ud, const char *line, size_t len, bool truncated)
{
	struct seen *s = ud;

	assert_true(len <= MAXL);
	assert_int_equal(line[len], '\0'); /* NUL-terminated for convenience */
	if (sup_is_marker(line, len, truncated))
		s->markers++;
	assert_true(s->n < 64);
	memcpy(s->line[s->n].text, line, len + 1);
	s->line[s->n].len = len;
	s->line[s->n].truncated = truncated;
	s->n++;
}

/* For lines longer than struct seen holds: lengths and flags only. */
static void collect_big(void *ud, const char *line, size_t len, bool truncated)
{
	struct seen *s = ud;

	assert_int_equal(line[len], '\0');
	if (sup_is_marker(line, len, truncated))
		s->markers++;
	assert_true(s->n < 64);
	s->line[s->n].len = len;
	s->line[s->n].truncated = truncated;
	s->n++;
}

static void feed_all(sup_linebuf *lb, const char *data, size_t n, size_t chunk, struct seen *s)
{
	for (size_t off = 0; off < n; off += chunk)
		assert_int_equal(sup_linebuf_feed(lb, data + off, n - off < chunk ? n - off : chunk, collect, s), 0);
}

static void expect_line(const struct seen *s, size_t i, const char *text, size_t len, bool truncated)
{
	assert_true(i < s->n);
	assert_int_equal(s->line[i].len, len);
	assert_memory_equal(s->line[i].text, text, len);
	assert_int_equal(s->line[i].truncated, truncated);
}

static void test_marker_byte_by_byte(void **state)
{
	static const char in[] = "starting\nloading model\r\nAGENT_READY\r\nafter\n";
	sup_linebuf lb;
	struct seen s = { 0 };

	(void)state;
	sup_linebuf_init(&lb, MAXL);
	feed_all(&lb, in, sizeof(in) - 1, 1, &s);
	assert_int_equal(s.n, 4);
	expect_line(&s, 0, "starting", 8, false);
	expect_line(&s, 1, "loading model", 13, false); /* the \r of \r\n is gone */
	expect_line(&s, 2, "AGENT_READY", 11, false);
	assert_int_equal(s.markers, 1);
	sup_linebuf_destroy(&lb);
}

static void test_near_misses(void **state)
{
	static const struct {
		const char *line;
		size_t len;
		bool truncated, marker;
	} t[] = {
		{ "AGENT_READY", 11, false, true },
		{ "AGENT_READY", 11, true, false },   /* cut from a longer line */
		{ "NOT_AGENT_READY", 15, false, false },
		{ "AGENT_READYX", 12, false, false },
		{ " AGENT_READY", 12, false, false },
		{ "AGENT_READY ", 12, false, false }, /* no whitespace stripping */
		{ "AGENT_READY\r", 12, false, false }, /* a second \r is content */
		{ "AGENT_READY\0x", 13, false, false },
		{ "agent_ready", 11, false, false },
		{ "AGENT_READ", 10, false, false },
		{ "", 0, false, false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_int_equal(sup_is_marker(t[i].line, t[i].len, t[i].truncated), t[i].marker);
	assert_false(sup_is_marker(NULL, 11, false));

	/* the same through the reader: only the exact line counts */
	static const char in[] = "NOT_AGENT_READY\nAGENT_READYX\n AGENT_READY\nAGENT_READY \nAGENT_READY\r\r\n";
	sup_linebuf lb;
	struct seen s = { 0 };
	sup_linebuf_init(&lb, MAXL);
	feed_all(&lb, in, sizeof(in) - 1, 3, &s);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.markers, 0);
	expect_line(&s, 4, "AGENT_READY\r", 12, false); /* only one \r is removed */
	sup_linebuf_destroy(&lb);
}

static void test_empty_lines_nul_and_flush(void **state)
{
	static const char in[] = "\n\r\n\na\0b\npartial\r";
	sup_linebuf lb;
	struct seen s = { 0 };

	(void)state;
	sup_linebuf_init(&lb, MAXL);
	feed_all(&lb, in, sizeof(in) - 1, sizeof(in) - 1, &s);
	assert_int_equal(s.n, 4);
	expect_line(&s, 0, "", 0, false);
	expect_line(&s, 1, "", 0, false);
	expect_line(&s, 2, "", 0, false);
	expect_line(&s, 3, "a\0b", 3, false); /* embedded NUL kept; len rules */
	sup_linebuf_flush(&lb, collect, &s);
	assert_int_equal(s.n, 5);
	expect_line(&s, 4, "partial", 7, false);
	sup_linebuf_flush(&lb, collect, &s); /* nothing left */
	assert_int_equal(s.n, 5);
	/* flush of a marker with no final newline still finds it */
	assert_int_equal(sup_linebuf_feed(&lb, "AGENT_READY", 11, collect, &s), 0);
	sup_linebuf_flush(&lb, collect, &s);
	assert_int_equal(s.markers, 1);
	sup_linebuf_destroy(&lb);
	sup_linebuf_destroy(&lb); /* idempotent */
}

static void test_long_lines(void **state)
{
	sup_linebuf lb;
	struct seen s = { 0 };
	char exact[MAXL + 2], over[MAXL + 1];

	(void)state;
	sup_linebuf_init(&lb, MAXL);
	/* exactly max_line bytes, then CRLF: whole, not truncated */
	memset(exact, 'e', MAXL);
	exact[MAXL] = '\r';
	exact[MAXL + 1] = '\n';
	feed_all(&lb, exact, sizeof(exact), 1, &s);
	assert_int_equal(s.n, 1);
	expect_line(&s, 0, exact, MAXL, false);
	/* max_line + 1 bytes: delivered once, truncated */
	memset(over, 'o', sizeof(over));
	feed_all(&lb, over, sizeof(over), 7, &s);
	assert_int_equal(s.n, 1); /* not yet: it might still be "...\r\n" */
	feed_all(&lb, "\n", 1, 1, &s);
	assert_int_equal(s.n, 2);
	expect_line(&s, 1, over, MAXL, true);
	/* max_line + 2 bytes ending in \r before \n: still over-long */
	memset(exact, 'q', MAXL + 1);
	exact[MAXL + 1] = '\r';
	feed_all(&lb, exact, MAXL + 2, MAXL + 2, &s);
	feed_all(&lb, "\nnext\n", 6, 6, &s);
	assert_int_equal(s.n, 4);
	expect_line(&s, 2, exact, MAXL, true);
	expect_line(&s, 3, "next", 4, false);
	/* max_line bytes, '\r', more: the '\r' is content, so over-long */
	memset(exact, 'r', MAXL);
	exact[MAXL] = '\r';
	exact[MAXL + 1] = 'b';
	feed_all(&lb, exact, MAXL + 2, 3, &s);
	feed_all(&lb, "\n", 1, 1, &s);
	assert_int_equal(s.n, 5);
	expect_line(&s, 4, exact, MAXL, true);
	s.n = 4;
	/* an over-long line whose tail looks like a marker: the tail is dropped */
	char trick[MAXL + 32];
	memset(trick, 'z', MAXL);
	memcpy(trick + MAXL, "AGENT_READY\n", 12);
	feed_all(&lb, trick, MAXL + 12, 5, &s);
	assert_int_equal(s.n, 5);
	assert_true(s.line[4].truncated);
	assert_int_equal(s.markers, 0);
	/* the heap buffer never grew past max_line + 2 */
	assert_true(lb.cap <= MAXL + 2);
	sup_linebuf_destroy(&lb);
}

static void test_megabyte_line_then_marker(void **state)
{
	const size_t big = 1024 * 1024;
	char *junk = malloc(big);
	sup_linebuf lb;
	struct seen s = { 0 };

	(void)state;
	assert_non_null(junk);
	memset(junk, 'j', big);
	junk[1000] = '\0'; /* and a NUL in the middle for good measure */
	sup_linebuf_init(&lb, 4096);
	/* in pipe-sized pieces, as read(2) would hand them over */
	for (size_t off = 0; off < big; off += 65536)
		assert_int_equal(sup_linebuf_feed(&lb, junk + off, 65536, collect_big, &s), 0);
	assert_true(lb.cap <= 4096 + 2); /* memory bounded by max_line */
	assert_int_equal(sup_linebuf_feed(&lb, "\nAGENT_READY\n", 13, collect_big, &s), 0);
	assert_int_equal(s.n, 2); /* the junk once (truncated), then the marker */
	assert_true(s.line[0].truncated);
	assert_int_equal(s.line[0].len, 4096);
	assert_int_equal(s.markers, 1);
	free(junk);
	sup_linebuf_destroy(&lb);
}

/* Every split point of a fixed input yields the same line sequence. */
static void test_every_split_point(void **state)
{
	char in[3 * MAXL];
	size_t n = 0;
	struct seen whole = { 0 };
	sup_linebuf lb;

	(void)state;
#define ADD(str) (memcpy(in + n, str, sizeof(str) - 1), n += sizeof(str) - 1)
	ADD("noise\r\n\nAGENT_READ");
	ADD("Y\r\nx\0y\n");
	memset(in + n, 'L', MAXL + 5);
	n += MAXL + 5;
	ADD("AGENT_READY\r\nNOT_AGENT_READY\nlast");
#undef ADD
	sup_linebuf_init(&lb, MAXL);
	feed_all(&lb, in, n, n, &whole);
	sup_linebuf_flush(&lb, collect, &whole);
	sup_linebuf_destroy(&lb);
	assert_int_equal(whole.n, 7);
	assert_int_equal(whole.markers, 1);

	for (size_t a = 0; a <= n; a++) {
		for (size_t b = a; b <= n; b += 7) { /* two cuts: a, and b spaced through the rest */
			struct seen s = { 0 };

			sup_linebuf_init(&lb, MAXL);
			assert_int_equal(sup_linebuf_feed(&lb, in, a, collect, &s), 0);
			assert_int_equal(sup_linebuf_feed(&lb, in + a, b - a, collect, &s), 0);
			assert_int_equal(sup_linebuf_feed(&lb, in + b, n - b, collect, &s), 0);
			sup_linebuf_flush(&lb, collect, &s);
			sup_linebuf_destroy(&lb);
			assert_int_equal(s.n, whole.n);
			assert_int_equal(s.markers, whole.markers);
			for (size_t i = 0; i < s.n; i++)
				expect_line(&s, i, whole.line[i].text, whole.line[i].len, whole.line[i].truncated);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_marker_byte_by_byte),   cmocka_unit_test(test_near_misses),
		cmocka_unit_test(test_empty_lines_nul_and_flush), cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_megabyte_line_then_marker), cmocka_unit_test(test_every_split_point),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
