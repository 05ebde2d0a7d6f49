/* sup_linebuf: splits a child's output stream into lines on adversarial
 * input (SPEC L4): split reads, CRLF, NUL bytes, endless lines. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Caller-owned; buf is heap-owned, never larger than max_line + 2 (room
 * for one "\r" before deciding truncation, and the NUL). */
typedef struct sup_linebuf {
	char *buf;
	size_t len, cap, max_line;
	bool discarding; /* dropping the tail of an over-long line */
} sup_linebuf;

/* line is NUL-terminated for convenience but may contain NUL bytes; len is
 * authoritative. It points into the buffer: valid only during the call. */
typedef void (*sup_line_cb)(void *ud, const char *line, size_t len, bool truncated);

/* max_line 0 is taken as 4096. Allocates nothing until the first feed. */
void sup_linebuf_init(sup_linebuf *lb, size_t max_line);
void sup_linebuf_destroy(sup_linebuf *lb);

/* Calls cb for every complete line, without "\n" and without one trailing
 * "\r". A line longer than max_line is delivered once, cut to max_line with
 * truncated = true; the rest up to its newline is dropped. Returns 0 or
 * -ENOMEM (the bytes of this feed after the failure point are lost). */
int sup_linebuf_feed(sup_linebuf *lb, const char *data, size_t n, sup_line_cb cb, void *ud);

/* At EOF: deliver a pending partial line (after stripping one trailing
 * "\r"; truncated = false unless it already holds max_line + 1 bytes), and
 * reset. The tail of an already-delivered over-long line is not delivered. */
void sup_linebuf_flush(sup_linebuf *lb, sup_line_cb cb, void *ud);

/* L4: true iff the line is exactly "AGENT_READY" and not truncated. No
 * whitespace is stripped beyond the one "\r" the reader already removed, so
 * " AGENT_READY" and "AGENT_READY " are not markers: an agent printing
 * those is not following A1, and guessing would hide it. */
bool sup_is_marker(const char *line, size_t len, bool truncated);
