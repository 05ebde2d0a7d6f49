/* rpt_timeline: one scenario's events as an inline SVG, drawn to scale —
 * lanes for the agent process, its output and marker, the socket, health
 * attempts and the H1 waits (planned vs actual), supervisor state, breaker
 * state, calls, and the milestones (ready, fallback, shutdown). Everything
 * from the result file is escaped: agent output is untrusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nv.h"
#include "rpt_internal.h"

enum { W = 1200, LEFT = 96, RIGHT = 16, TOP = 22, LANE_H = 44, AXIS_H = 30 };
/* The failed checks' band above the lanes: up to BAND_ROWS rows of labels. */
enum { BAND_ROWS = 3, BAND_ROW_H = 13 };
#define PLOT_W ((double)(W - LEFT - RIGHT))
/* text_w's scale per label style: 10px labels, 10px semi-bold inside a
 * bar, 11px bold failure labels */
#define SCALE_LBL 1.0
#define SCALE_IN 1.08
#define SCALE_FAIL 1.2

/* The lanes are vocab/'s (each event declares its lane there). */
enum {
#define L__(id, name) L_##id = NV_LANE_##id,
	NV_LANES(L__)
#undef L__
	L_COUNT = NV_LANE_COUNT_
};

typedef struct tl {
	rpt_buf *b;
	size_t idx;
	double span;               /* ms from 0 to the right edge */
	double top;                /* y of the first lane (below the failed checks' band) */
	double right[L_COUNT][2];  /* per lane and text row: where the last label ended */
	double band[BAND_ROWS];    /* the same for the failed checks' band */
} tl;

static double X(const tl *t, double ms)
{
	if (ms < 0)
		ms = 0;
	return LEFT + ms / t->span * PLOT_W;
}

static double lane_y(const tl *t, int lane)
{
	return t->top + lane * LANE_H;
}

/* Width of a label in px, on the generous side: per code point a 10px
 * sans-serif advance (capitals and digits are wider than the average,
 * "AGENT_READY" measured 73 px where 11 × 6 px said 66), times `scale`. */
static double text_w(const char *s, double scale)
{
	double w = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xc0) == 0x80)
			continue; /* inside a UTF-8 sequence */
		w += *p >= 'A' && *p <= 'Z' ? 7.2 : *p >= '0' && *p <= '9' ? 6.4 : *p == ' ' ? 3.5 : 6.0;
	}
	return w * scale;
}

/* A <text> whose start is x, or — when it had to be moved to end at the
 * right edge — anchored there by its end, so the real width (fonts vary)
 * can never reach past the SVG. */
static void text_at(rpt_buf *b, const char *cls, double x, double w, double y, const char *text)
{
	if (x + w >= W - 2.5)
		rpt__buf_printf(b, "<text class=\"%s\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", cls, W - 2, y);
	else
		rpt__buf_printf(b, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\">", cls, x, y);
	rpt__buf_xml(b, text);
	rpt__buf_puts(b, "</text>\n");
}

/* Where a label of width w that wants to start at *x goes: into the first
 * of `n` rows whose last label it clears, moved right by up to `slack` px
 * if that is what it takes, and kept inside the SVG (a label that would
 * cross the right edge ends at it instead). Labels are placed left to
 * right. Returns the row, or -1 when it collides in every row: the caller
 * leaves it out (its mark's <title> still carries the text), so no two
 * labels overlap. */
static int place_label(double *rows, int n, double *x, double w, double slack)
{
	double want = *x + w > W - 2 ? W - 2 - w : *x;
	for (int row = 0; row < n; row++) {
		double at = want >= rows[row] + 4 ? want : rows[row] + 4;
		if (at - want <= slack && at + w <= W - 2) {
			rows[row] = at + w;
			*x = at;
			return row;
		}
	}
	return -1;
}

/* A point in time for a tooltip, "306.4 ms" or in a long run "144.235 s"
 * (rpt__fmt_at); the struct lets a call pass T(ms).s straight to printf. */
typedef struct tstr {
	char s[32];
} tstr;

static tstr T(double ms)
{
	tstr r;
	rpt__fmt_at(r.s, sizeof(r.s), ms);
	return r;
}

static void fmt_ms(char *out, size_t n, double ms)
{
	snprintf(out, n, ms >= 100 || ms == (double)(long long)ms ? "%.0f" : "%.1f", ms);
}

/* A label in a lane's text rows (below the bars), left-aligned at x;
 * moved to the second row when the first is taken there, dropped when both
 * are (the element's <title> still carries it). */
static void lane_label(tl *t, int lane, double x, const char *text, const char *cls)
{
	double w = text_w(text, SCALE_LBL);
	int row = place_label(t->right[lane], 2, &x, w, 0);
	if (row >= 0) /* two rows of 12 px under the bars, inside the lane */
		text_at(t->b, cls, x, w, lane_y(t, lane) + 29 + row * 12, text);
}

/* A bar in a lane from t0 to t1 (at least 2 px wide), with a tooltip and,
 * when it fits, its label inside; otherwise the label goes below. */
static void bar(tl *t, int lane, double t0, double t1, const char *cls, const char *fill, const char *inside,
		const char *below, const char *tip)
{
	double x0 = X(t, t0), x1 = X(t, t1);
	if (x1 - x0 < 2)
		x1 = x0 + 2;
	rpt__buf_printf(t->b, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\"", cls, x0,
			lane_y(t, lane) + 5, x1 - x0);
	if (fill)
		rpt__buf_printf(t->b, " fill=\"%s\"", fill);
	rpt__buf_puts(t->b, "><title>");
	rpt__buf_xml(t->b, tip);
	rpt__buf_puts(t->b, "</title></rect>\n");
	if (inside && text_w(inside, SCALE_IN) + 6 < x1 - x0) {
		rpt__buf_printf(t->b, "<text class=\"in\" x=\"%.1f\" y=\"%.1f\">", x0 + 3, lane_y(t, lane) + 15.5);
		rpt__buf_xml(t->b, inside);
		rpt__buf_puts(t->b, "</text>\n");
	} else if (below || inside) {
		lane_label(t, lane, x0, below ? below : inside, "lbl");
	}
}

/* A point marker (circle, diamond, cross or tick) with tooltip and label. */
static void point(tl *t, int lane, double ms, const char *shape, const char *cls, const char *label, const char *tip)
{
	double x = X(t, ms), y = lane_y(t, lane) + 12;
	if (!strcmp(shape, "diamond"))
		rpt__buf_printf(t->b, "<path class=\"%s\" d=\"M%.1f %.1f l6 6 l-6 6 l-6 -6 z\">", cls, x, y - 6);
	else if (!strcmp(shape, "cross"))
		rpt__buf_printf(t->b, "<path class=\"%s\" d=\"M%.1f %.1f l10 10 m0 -10 l-10 10\">", cls, x - 5, y - 5);
	else if (!strcmp(shape, "tick"))
		rpt__buf_printf(t->b, "<path class=\"%s\" d=\"M%.1f %.1f v14\">", cls, x, y - 7);
	else
		rpt__buf_printf(t->b, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"5\">", cls, x, y);
	rpt__buf_puts(t->b, "<title>");
	rpt__buf_xml(t->b, tip);
	rpt__buf_puts(t->b, "</title>");
	rpt__buf_puts(t->b, !strcmp(shape, "circle") ? "</circle>\n" : "</path>\n");
	if (label)
		lane_label(t, lane, x - 3, label, "lbl");
}

/* A milestone: dashed line over every lane plus a marker in the events lane. */
static void milestone(tl *t, double ms, const char *cls, const char *label, const char *tip)
{
	double x = X(t, ms);
	rpt__buf_printf(t->b, "<line class=\"ms %s\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", cls, x, t->top,
			x, t->top + L_COUNT * LANE_H);
	point(t, L_EVENTS, ms, "diamond", cls, label, tip);
}

static const char *state_fill(const char *s)
{
	static const struct {
		const char *name, *fill;
	} m[] = { { "starting", "#cbd5e0" }, { "health_check", "#f6e05e" }, { "ready", "#68d391" },
		  { "mock", "#f6ad55" },     { "stopping", "#a0aec0" },     { "stopped", "#e2e8f0" },
		  { "closed", "#9ae6b4" },   { "open", "#fc8181" },         { "half_open", "#fbd38d" } };
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(s, m[i].name))
			return m[i].fill;
	return "#e2e8f0";
}

static double nice_step(double span)
{
	double raw = span / 10, p = 1;
	while (p * 10 <= raw)
		p *= 10;
	while (p > raw && p > 1e-3)
		p /= 10;
	double m = raw / p;
	return p * (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10);
}

static void axis(tl *t)
{
	double y0 = t->top, y1 = t->top + L_COUNT * LANE_H, step = nice_step(t->span);
	/* long runs count in seconds: "30" under "s since start", not 30000 */
	bool secs = t->span >= 10000;
	for (int l = 0; l < L_COUNT; l++) {
		rpt__buf_printf(t->b, "<rect class=\"lane%s\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"/>\n",
				l % 2 ? " odd" : "", LEFT, lane_y(t, l), PLOT_W, LANE_H);
		rpt__buf_printf(t->b, "<text class=\"lane-name\" x=\"%d\" y=\"%.1f\">%s</text>\n", LEFT - 8,
				lane_y(t, l) + 16, nv_lane_name((nv_lane)l));
	}
	for (int k = 0;; k++) {
		double ms = k * step;
		if (ms > t->span + 1e-9)
			break;
		double x = X(t, ms);
		char lbl[32];
		if (secs)
			snprintf(lbl, sizeof(lbl), "%g", ms / 1000);
		else
			fmt_ms(lbl, sizeof(lbl), ms);
		rpt__buf_printf(t->b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, y0, x, y1 + 4);
		rpt__buf_printf(t->b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, y1 + 16, lbl);
	}
	rpt__buf_printf(t->b, "<text class=\"unit\" x=\"%d\" y=\"%.1f\">%s since start</text>\n", LEFT - 8, y1 + 16,
			secs ? "s" : "ms");
}

typedef struct open_call {
	double t;
	const char *method;
} open_call;

/* What draw_events carries from one event to the next: open intervals
 * (process, attempt, wait, state, breaker, calls) waiting for their end. */
typedef struct dstate {
	tl *t;
	double spawn_t, attempt_t, wait_t, state_t, br_t;
	const char *state, *br;
	json_int_t pid;
	open_call calls[16];
	size_t ncalls;
} dstate;

static void ev_spawn(dstate *d, const json_t *e, double ms)
{
	d->spawn_t = ms;
	d->pid = json_integer_value(json_object_get(e, "pid"));
}

static void ev_spawn_failed(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	snprintf(c, sizeof(c), "spawn failed: %s: %s", rpt__str(e, "path", "?"), rpt__str(e, "errno", "?"));
	point(t, L_AGENT, ms, "cross", "bad", "spawn failed", c);
}

static void ev_child_exit(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160], c[512], num[32];
	const json_t *sig = json_object_get(e, "signal");
	if (json_is_integer(sig))
		snprintf(a, sizeof(a), "signal %lld", (long long)json_integer_value(sig));
	else
		snprintf(a, sizeof(a), "exit %lld", (long long)json_integer_value(json_object_get(e, "code")));
	if (d->spawn_t >= 0) {
		snprintf(c, sizeof(c), "agent pid %lld: %s → %s", (long long)d->pid, T(d->spawn_t).s, T(ms).s);
		snprintf(num, sizeof(num), "pid %lld", (long long)d->pid);
		bar(t, L_AGENT, d->spawn_t, ms, "proc", NULL, num, NULL, c);
		d->spawn_t = -1;
	}
	snprintf(c, sizeof(c), "child exit at %s: %s", T(ms).s, a);
	point(t, L_AGENT, ms, "cross", json_is_integer(sig) || json_integer_value(json_object_get(e, "code")) ? "bad" : "end", a, c);
}

static void ev_output(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	const char *stream = rpt__str(e, "stream", "stdout");
	snprintf(c, sizeof(c), "%s [%s] ", T(ms).s, stream);
	rpt_buf tip = RPT_BUF_INIT;
	rpt__buf_puts(&tip, c);
	rpt__buf_puts(&tip, rpt__str(e, "line", ""));
	point(t, L_OUTPUT, ms, "tick", !strcmp(stream, "stderr") ? "err" : "out", NULL, tip.p ? tip.p : "");
	t->b->oom |= tip.oom;
	rpt__buf_free(&tip);
}

static void ev_marker(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	(void)e;
	snprintf(c, sizeof(c), "AGENT_READY marker at %s", T(ms).s);
	point(t, L_OUTPUT, ms, "diamond", "good", "AGENT_READY", c);
}

static void ev_socket_usable(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	(void)e;
	snprintf(c, sizeof(c), "socket accepts connections at %s", T(ms).s);
	point(t, L_SOCKET, ms, "circle", "good", "usable", c);
}

static void ev_socket_stale_removed(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	(void)e;
	snprintf(c, sizeof(c), "stale socket file removed at %s", T(ms).s);
	point(t, L_SOCKET, ms, "cross", "end", "stale removed", c);
}

static void ev_ready_timeout(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160], c[512];
	snprintf(a, sizeof(a), "ready_timeout %lld ms", (long long)json_integer_value(json_object_get(e, "timeout_ms")));
	snprintf(c, sizeof(c), "%s passed at %s without marker and usable socket", a, T(ms).s);
	milestone(t, ms, "warn", a, c);
}

static void ev_health_attempt(dstate *d, const json_t *e, double ms)
{
	(void)e;
	d->attempt_t = ms;
}

static void ev_health_result(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160], c[512], num[32];
	double dur = rpt__num(e, "duration_ms", ms - (d->attempt_t >= 0 ? d->attempt_t : ms));
	bool ok = json_is_true(json_object_get(e, "ok"));
	rpt__fmt_duration(num, sizeof(num), dur);
	snprintf(a, sizeof(a), "#%lld %s %s", (long long)json_integer_value(json_object_get(e, "attempt")),
		 rpt__str(e, "status", ok ? "OK" : "failed"), num);
	snprintf(c, sizeof(c), "health attempt %s at %s: %s", a, T(d->attempt_t >= 0 ? d->attempt_t : ms).s,
		 rpt__str(e, "message", ""));
	bar(t, L_HEALTH, d->attempt_t >= 0 ? d->attempt_t : ms - dur, ms, ok ? "hok" : "hbad", NULL, NULL, a, c);
	d->attempt_t = -1;
}

static void ev_health_wait(dstate *d, const json_t *e, double ms)
{
	(void)e;
	d->wait_t = ms;
}

static void ev_health_wait_end(dstate *d, const json_t *e, double ms)
{
	if (d->wait_t < 0)
	return;
	tl *t = d->t;
	char a[160], c[512], num[32], num2[32];
	double planned = rpt__num(e, "planned_ms", -1), actual = rpt__num(e, "actual_ms", ms - d->wait_t);
	snprintf(num, sizeof(num), "%.0f", planned);
	snprintf(num2, sizeof(num2), "%.1f", actual);
	snprintf(a, sizeof(a), "wait %s→%s ms", num, num2);
	snprintf(c, sizeof(c), "H1 wait after attempt %lld: planned %s ms, actual %s ms, ended: %s",
		 (long long)json_integer_value(json_object_get(e, "after_attempt")), num, num2,
		 rpt__str(e, "reason", "?"));
	char fill[48];
	snprintf(fill, sizeof(fill), "url(#hatch-%zu)", t->idx);
	bar(t, L_HEALTH, d->wait_t, ms, "wait", fill, a, NULL, c);
	d->wait_t = -1;
}

static void ev_state(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	if (d->state && d->state_t >= 0 && strcmp(d->state, "idle")) {
		snprintf(c, sizeof(c), "state %s from %s to %s", d->state, T(d->state_t).s, T(ms).s);
		bar(t, L_STATE, d->state_t, ms, "seg", state_fill(d->state), d->state, NULL, c);
	}
	d->state = rpt__str(e, "to", "?");
	d->state_t = ms;
}

static void ev_breaker(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	if (d->br && d->br_t >= 0) {
		snprintf(c, sizeof(c), "breaker %s from %s to %s", d->br, T(d->br_t).s, T(ms).s);
		bar(t, L_BREAKER, d->br_t, ms, "seg", state_fill(d->br), d->br, NULL, c);
	}
	d->br = rpt__str(e, "to", "?");
	d->br_t = ms;
}

static void ev_call_start(dstate *d, const json_t *e, double ms)
{
	if (d->ncalls < sizeof(d->calls) / sizeof(d->calls[0]))
		d->calls[d->ncalls++] = (open_call){ ms, rpt__str(e, "method", "?") };
}

static void ev_call_end(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160], num[32];
	const char *m = rpt__str(e, "method", "?");
	double st = ms - rpt__num(e, "duration_ms", 0);
	for (size_t k = 0; k < d->ncalls; k++)
		if (!strcmp(d->calls[k].method, m)) {
			st = d->calls[k].t;
			d->calls[k] = d->calls[--d->ncalls];
			break;
		}
	bool ok = json_is_true(json_object_get(e, "ok")), mock = json_is_true(json_object_get(e, "mock"));
	rpt__fmt_duration(num, sizeof(num), ms - st);
	snprintf(a, sizeof(a), "%s %s", m, rpt__str(e, "status", "?"));
	rpt_buf tip = RPT_BUF_INIT;
	rpt__buf_printf(&tip, "call %s%s at %s, %s, %s", m, mock ? " (mock)" : "", T(st).s, num,
			rpt__str(e, "status", "?"));
	if (rpt__str(e, "error", NULL)) {
		rpt__buf_puts(&tip, ": ");
		rpt__buf_puts(&tip, rpt__str(e, "error", ""));
	}
	bar(t, L_CALLS, st, ms, ok ? (mock ? "cmock" : "cok") : "cbad", NULL, a, a, tip.p ? tip.p : "");
	t->b->oom |= tip.oom;
	rpt__buf_free(&tip);
}

static void ev_call_rejected(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160], c[512];
	snprintf(c, sizeof(c), "call %s rejected before sending at %s: %s (breaker %s)",
		 rpt__str(e, "method", "?"), T(ms).s, rpt__str(e, "reason", "?"), rpt__str(e, "breaker", "?"));
	snprintf(a, sizeof(a), "rejected: %s", rpt__str(e, "reason", "?"));
	point(t, L_CALLS, ms, "cross", "bad", a, c);
}

static void ev_call_case_retry(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	snprintf(c, sizeof(c), "M1 casing retry of %s: %s → %s", rpt__str(e, "method", "?"),
		 rpt__str(e, "from", "?"), rpt__str(e, "to", "?"));
	point(t, L_CALLS, ms, "diamond", "warn", "case retry", c);
}

static void ev_ready(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160], c[512], num[32];
	rpt__fmt_duration(num, sizeof(num), rpt__num(e, "init_ms", ms));
	snprintf(a, sizeof(a), "ready %s", num);
	snprintf(c, sizeof(c), "ready at %s (init %s, agent %s)", T(ms).s, num, rpt__str(e, "agent_version", "?"));
	milestone(t, ms, "good", a, c);
}

static void ev_fallback(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160];
	snprintf(a, sizeof(a), "fallback: %s", rpt__str(e, "reason", "?"));
	rpt_buf tip = RPT_BUF_INIT;
	rpt__buf_printf(&tip, "fallback to mock at %s (%s): ", T(ms).s, rpt__str(e, "reason", "?"));
	rpt__buf_puts(&tip, rpt__str(e, "message", ""));
	milestone(t, ms, "bad", a, tip.p ? tip.p : "");
	t->b->oom |= tip.oom;
	rpt__buf_free(&tip);
}

static void ev_shutdown(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	snprintf(c, sizeof(c), "shutdown step %s at %s", rpt__str(e, "step", "?"), T(ms).s);
	point(t, L_EVENTS, ms, "tick", "end", rpt__str(e, "step", "?"), c);
}

static void ev_restart(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	snprintf(c, sizeof(c), "restart attempt %lld at %s", (long long)json_integer_value(json_object_get(e, "attempt")), T(ms).s);
	point(t, L_EVENTS, ms, "circle", "warn", "restart", c);
}

/* How each event is drawn; an event without an entry (one added to
 * vocab/nv_events.h later) still appears, as a tick on its vocabulary lane. */
static void (*const draw_table[NV_EV_COUNT_])(dstate *d, const json_t *e, double ms) = {
	[NV_EV_SPAWN] = ev_spawn,
	[NV_EV_SPAWN_FAILED] = ev_spawn_failed,
	[NV_EV_CHILD_EXIT] = ev_child_exit,
	[NV_EV_OUTPUT] = ev_output,
	[NV_EV_MARKER] = ev_marker,
	[NV_EV_SOCKET_USABLE] = ev_socket_usable,
	[NV_EV_SOCKET_STALE_REMOVED] = ev_socket_stale_removed,
	[NV_EV_READY_TIMEOUT] = ev_ready_timeout,
	[NV_EV_HEALTH_ATTEMPT] = ev_health_attempt,
	[NV_EV_HEALTH_RESULT] = ev_health_result,
	[NV_EV_HEALTH_WAIT] = ev_health_wait,
	[NV_EV_HEALTH_WAIT_END] = ev_health_wait_end,
	[NV_EV_STATE] = ev_state,
	[NV_EV_BREAKER] = ev_breaker,
	[NV_EV_CALL_START] = ev_call_start,
	[NV_EV_CALL_END] = ev_call_end,
	[NV_EV_CALL_REJECTED] = ev_call_rejected,
	[NV_EV_CALL_CASE_RETRY] = ev_call_case_retry,
	[NV_EV_READY] = ev_ready,
	[NV_EV_FALLBACK] = ev_fallback,
	[NV_EV_SHUTDOWN] = ev_shutdown,
	[NV_EV_RESTART] = ev_restart,
};

static void draw_events(tl *t, const json_t *events, double t_end)
{
	char c[512], num[32];
	dstate st = { .t = t, .spawn_t = -1, .attempt_t = -1, .wait_t = -1, .state_t = -1, .br_t = -1 };
	dstate *d = &st;
	size_t i;
	json_t *e;

	/* The breaker lane starts closed when the scenario made any call. */
	json_array_foreach(events, i, e) {
		const char *n = rpt__str(e, "event", "");
		if (!strcmp(n, "call_start") || !strcmp(n, "breaker")) {
			d->br = !strcmp(n, "breaker") ? rpt__str(e, "from", "closed") : "closed";
			d->br_t = 0;
			break;
		}
	}

	json_array_foreach(events, i, e) {
		const nv_event *ev = nv_event_find(rpt__str(e, "event", ""));
		double ms = rpt__num(e, "t_ms", 0);
		if (ev && draw_table[ev->id]) {
			draw_table[ev->id](d, e, ms);
		} else {
			snprintf(c, sizeof(c), "%s at %s", rpt__str(e, "event", "?"), T(ms).s);
			point(t, ev ? (int)ev->lane : L_EVENTS, ms, "tick", "end", rpt__str(e, "event", "?"), c);
		}
	}
	/* Open intervals run to the right edge. */
	if (d->spawn_t >= 0) {
		snprintf(c, sizeof(c), "agent pid %lld from %s, no exit recorded", (long long)d->pid, T(d->spawn_t).s);
		snprintf(num, sizeof(num), "pid %lld (running)", (long long)d->pid);
		bar(t, L_AGENT, d->spawn_t, t_end, "proc", NULL, num, NULL, c);
	}
	if (d->attempt_t >= 0)
		bar(t, L_HEALTH, d->attempt_t, t_end, "hbad", NULL, NULL, "no result", "health attempt without a result");
	if (d->state && d->state_t >= 0 && strcmp(d->state, "idle") && t_end > d->state_t) {
		snprintf(c, sizeof(c), "state %s from %s to the end", d->state, T(d->state_t).s);
		bar(t, L_STATE, d->state_t, t_end, "seg", state_fill(d->state), d->state, NULL, c);
	}
	if (d->br && d->br_t >= 0 && t_end > d->br_t) {
		snprintf(c, sizeof(c), "breaker %s from %s to the end", d->br, T(d->br_t).s);
		bar(t, L_BREAKER, d->br_t, t_end, "seg", state_fill(d->br), d->br, NULL, c);
	}
	for (size_t k = 0; k < d->ncalls; k++)
		bar(t, L_CALLS, d->calls[k].t, t_end, "cbad", NULL, d->calls[k].method, NULL, "call without an end");
}

/* ---- failed checks on the timeline (issue 14) ----
 * Each failed expectation gets a red mark where a reader should look: at
 * the measured time of the event it matched (a timed check too early or
 * too late, with its window drawn), at its window when the event never
 * came, else at the end of the run (final mode, snapshot, a call with no
 * end recorded). The mark and its label link to the check's row. */

typedef struct fail_mark {
	double t;            /* where the mark goes */
	int lane;
	double w0, w1;       /* the expected window; w0 < 0 = none */
	const char *where;   /* how t was found, for the tooltip */
	bool drawn;
} fail_mark;

static bool is_event_check(const json_t *x)
{
	const char *k = rpt__str(x, "kind", "");
	return !strcmp(k, "event") || !strcmp(k, "event_count") || !strcmp(k, "event_absent");
}

/* The time a timed event check counts from when its own event is missing:
 * the event matched by expectation `after` (an index among the event
 * checks), else by the previous event check, else supervisor creation (0)
 * for the first one. < 0 when that reference was not matched either. */
static double missing_ref(const json_t *exps, size_t k)
{
	const json_t *x = json_array_get(exps, k), *after = json_object_get(json_object_get(x, "expected"), "after");
	size_t i, n = 0;
	const json_t *e;
	double prev = -1;
	bool first = true;
	json_array_foreach(exps, i, e) {
		if (i == k)
			break;
		if (!is_event_check(e))
			continue;
		const json_t *m = json_object_get(e, "measured");
		double t = rpt__num(m, "t_ms", -1);
		if (json_is_integer(after) && (json_int_t)n == json_integer_value(after))
			return t;
		n++;
		first = false;
		if (t >= 0 && !strcmp(rpt__str(e, "kind", ""), "event"))
			prev = t;
	}
	if (json_is_integer(after))
		return -1;
	return first ? 0 : prev;
}

/* Whether event e matches the check's {event, where}: plain values must be
 * equal; a where value with an operator ({"op": …}) is taken as matching
 * (the harness judged it; the mark only needs a time). */
static bool event_matches(const json_t *e, const json_t *expected)
{
	if (strcmp(rpt__str(e, "event", ""), rpt__str(expected, "event", "?")))
		return false;
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)json_object_get(expected, "where"), k, v)
		if (!(json_is_object(v) && json_object_get(v, "op")) && !json_equal(json_object_get(e, k), (json_t *)v))
			return false;
	return true;
}

/* The lane an event is drawn in: its vocabulary lane, except the
 * milestones and steps that the draw table gathers in the events lane. */
static int lane_of_event(const char *name)
{
	const nv_event *ev = nv_event_find(name ? name : "");
	if (!ev)
		return L_EVENTS;
	switch (ev->id) {
	case NV_EV_READY:    /* ev_ready: milestone */
	case NV_EV_FALLBACK: /* ev_fallback: milestone */
	case NV_EV_RESTART:
	case NV_EV_SHUTDOWN:
		return L_EVENTS;
	default:
		return (int)ev->lane;
	}
}

static fail_mark locate_failure(const json_t *result, size_t k, double t_end)
{
	const json_t *exps = json_object_get(result, "expectations"), *events = json_object_get(result, "events");
	const json_t *x = json_array_get(exps, k), *want = json_object_get(x, "expected"),
		     *got = json_object_get(x, "measured"), *e;
	const char *kind = rpt__str(x, "kind", "");
	fail_mark m = { .t = t_end, .lane = L_EVENTS, .w0 = -1, .w1 = -1, .where = "at the end of the run" };
	size_t i;
	if (!strcmp(kind, "event")) {
		m.lane = lane_of_event(rpt__str(want, "event", NULL));
		const json_t *mn = json_object_get(want, "min_ms"), *mx = json_object_get(want, "max_ms");
		double t = rpt__num(got, "t_ms", -1);
		double ref = t >= 0 && json_is_number(json_object_get(got, "delta_ms")) ? t - rpt__num(got, "delta_ms", 0)
											   : missing_ref(exps, k);
		if ((mn || mx) && ref >= 0) {
			m.w0 = ref + (json_is_number(mn) ? json_number_value(mn) : 0);
			m.w1 = json_is_number(mx) ? ref + json_number_value(mx) : (t_end > m.w0 ? t_end : m.w0);
		}
		if (t >= 0) {
			m.t = t;
			m.where = "at the matched event";
		} else if (m.w0 >= 0) {
			/* never came: the mark where the window closed (or opened) */
			m.t = json_is_number(mx) ? m.w1 : m.w0;
			m.where = "at the expected window (no matching event)";
		} else {
			m.where = "at the end of the run (no matching event)";
		}
	} else if (!strcmp(kind, "event_absent") || !strcmp(kind, "event_count")) {
		/* the first event one too many, if there is one */
		json_int_t allowed = !strcmp(kind, "event_absent") ? 0 : json_integer_value(json_object_get(want, "count"));
		json_int_t seen = 0;
		m.lane = lane_of_event(rpt__str(want, "event", NULL));
		json_array_foreach(events, i, e)
			if (event_matches(e, want) && seen++ == allowed) {
				m.t = rpt__num(e, "t_ms", t_end);
				m.where = "at the first event beyond the expected count";
				break;
			}
	} else if (!strcmp(kind, "call")) {
		/* the call's end event: the same supervisor-measured duration */
		m.lane = L_CALLS;
		double d = rpt__num(got, "duration_ms", -1);
		json_array_foreach(events, i, e)
			if (d >= 0 && !strcmp(rpt__str(e, "event", ""), "call_end") &&
			    rpt__num(e, "duration_ms", -2) == d) {
				m.t = rpt__num(e, "t_ms", t_end);
				m.where = "at the call's end";
				break;
			}
	} else if (!strcmp(kind, "mode") || !strcmp(kind, "init") || !strcmp(kind, "reason") ||
		   !strcmp(kind, "snapshot")) {
		m.lane = L_STATE;
		m.where = "at the end of the run (a final-state check)";
	}
	return m;
}

static bool check_failed(const json_t *x)
{
	return strcmp(rpt__str(x, "verdict", ""), "pass") != 0;
}

/* The window behind the lanes' marks, so they stay visible on top of it. */
static void fail_window(tl *t, const json_t *x, const fail_mark *m)
{
	if (m->w0 < 0)
		return;
	double x0 = X(t, m->w0), x1 = X(t, m->w1);
	rpt__buf_printf(t->b, "<rect class=\"failwin\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"><title>",
			x0, lane_y(t, m->lane) + 1, x1 - x0 < 2 ? 2 : x1 - x0, LANE_H - 2);
	rpt__buf_xml(t->b, rpt__str(x, "id", "?"));
	rpt__buf_printf(t->b, ": expected between %s and %s</title></rect>\n", T(m->w0).s, T(m->w1).s);
	char what[64];
	snprintf(what, sizeof(what), "%.40s expected", rpt__str(x, "id", "?"));
	if (text_w(what, SCALE_FAIL) + 6 < x1 - x0) { /* name the window when it fits in it */
		rpt__buf_printf(t->b, "<text class=\"faillbl\" x=\"%.1f\" y=\"%.1f\">", x0 + 3, lane_y(t, m->lane) + 12);
		rpt__buf_xml(t->b, what);
		rpt__buf_puts(t->b, "</text>\n");
	}
}

/* The mark: a dashed line from the band down to a red triangle in the
 * lane, the label in the band; all one link to the check's row. */
static void fail_mark_draw(tl *t, const json_t *x, const fail_mark *m, const char *row_id)
{
	/* the triangle points down at the lane's marks (lane_y + 5…19) from
	 * just above them, so the event it matched stays visible */
	double px = X(t, m->t), y = lane_y(t, m->lane) - 6;
	char name[160], lbl[170];
	const char *label = rpt__str(json_object_get(x, "expected"), "label", NULL);
	snprintf(name, sizeof(name), "%s%s%s", rpt__str(x, "id", "?"), label ? " " : "", label ? label : "");
	snprintf(lbl, sizeof(lbl), "✗ %s", name);
	if (row_id && *row_id) {
		rpt__buf_puts(t->b, "<a class=\"failcheck\" href=\"#");
		rpt__buf_xml(t->b, row_id);
		rpt__buf_puts(t->b, "\">");
	} else {
		rpt__buf_puts(t->b, "<g class=\"failcheck\">");
	}
	rpt__buf_puts(t->b, "<title>");
	rpt__buf_xml(t->b, name);
	rpt__buf_printf(t->b, " failed, marked %s (%s): ", m->where, T(m->t).s);
	rpt__buf_xml(t->b, rpt__failure_text(x));
	rpt__buf_puts(t->b, "</title>\n");
	double lx = px - 4, w = text_w(lbl, SCALE_FAIL);
	/* a cluster of marks lines its labels up to the right of the first */
	int row = place_label(t->band, BAND_ROWS, &lx, w, 160);
	if (row >= 0)
		text_at(t->b, "faillbl", lx, w, TOP + (row + 1) * BAND_ROW_H - 3, lbl);
	/* the line starts under the band's rows, so it crosses no label */
	if (y > t->top - 3)
		rpt__buf_printf(t->b, "<line class=\"failline\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", px,
				t->top - 3, px, y);
	rpt__buf_printf(t->b, "<path class=\"failmark\" d=\"M%.1f %.1f h12 l-6 11 z\"/>\n", px - 6, y);
	rpt__buf_puts(t->b, row_id && *row_id ? "</a>\n" : "</g>\n");
}

void rpt__render_timeline(const json_t *result, size_t idx, const json_t *row_ids, rpt_buf *b)
{
	const json_t *events = json_object_get(result, "events"), *exps = json_object_get(result, "expectations"), *e;
	size_t i, n = json_is_array(events) ? json_array_size(events) : 0, nfail = 0;
	double t_max = 0;
	json_array_foreach(events, i, e)
		if (rpt__num(e, "t_ms", 0) > t_max)
			t_max = rpt__num(e, "t_ms", 0);
	/* Where each failed check is marked; its window may reach past the
	 * last event, and the plot widens to show it. */
	size_t nx = json_array_size(exps);
	fail_mark *marks = nx ? calloc(nx, sizeof(*marks)) : NULL;
	if (nx && !marks) {
		b->oom = true;
		return;
	}
	double right = t_max;
	json_array_foreach(exps, i, e) {
		if (!check_failed(e))
			continue;
		nfail++;
		marks[i] = locate_failure(result, i, t_max);
		if (marks[i].w1 > right)
			right = marks[i].w1;
		if (marks[i].t > right)
			right = marks[i].t;
	}
	tl t = { .b = b, .idx = idx, .span = right > 0 ? right * 1.03 : 10 };
	int band_rows = nfail < BAND_ROWS ? (int)nfail : BAND_ROWS;
	t.top = TOP + (nfail ? band_rows * BAND_ROW_H + 4 : 0);
	for (int l = 0; l < L_COUNT; l++)
		t.right[l][0] = t.right[l][1] = -1e9;
	for (int r = 0; r < BAND_ROWS; r++)
		t.band[r] = r < band_rows ? -1e9 : 1e9; /* rows past band_rows are full */
	int h = (int)t.top + L_COUNT * LANE_H + AXIS_H;
	char span[48];
	rpt__fmt_duration(span, sizeof(span), t_max);
	rpt__buf_printf(b,
			"<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
			"height=\"%d\" role=\"img\" aria-label=\"timeline of ",
			W, h, W, h);
	rpt__buf_xml(b, rpt__str(result, "name", ""));
	rpt__buf_printf(b,
			"\">\n<defs><pattern id=\"hatch-%zu\" patternUnits=\"userSpaceOnUse\" width=\"6\" height=\"6\" "
			"patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ebf8ff\"/>"
			"<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#63b3ed\" stroke-width=\"2.5\"/></pattern></defs>\n",
			idx);
	rpt__buf_printf(b, "<text class=\"cap\" x=\"%d\" y=\"14\">%zu events over %s", LEFT, n, span);
	rpt__buf_puts(b, n ? "" : " — no events recorded");
	if (nfail)
		rpt__buf_printf(b, " · %zu failed check%s marked in red (click one for its row)", nfail, nfail > 1 ? "s" : "");
	rpt__buf_puts(b, "</text>\n");
	axis(&t);
	json_array_foreach(exps, i, e)
		if (check_failed(e))
			fail_window(&t, e, &marks[i]);
	draw_events(&t, events, t_max);
	/* marks left to right, so their labels line up (place_label) */
	for (size_t done = 0; done < nfail; done++) {
		size_t k = nx;
		json_array_foreach(exps, i, e)
			if (check_failed(e) && !marks[i].drawn && (k == nx || marks[i].t < marks[k].t))
				k = i;
		marks[k].drawn = true;
		fail_mark_draw(&t, json_array_get(exps, k), &marks[k], rpt__str_at(row_ids, k, NULL));
	}
	rpt__buf_puts(b, "</svg>\n");
	free(marks);
}
