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
#define PLOT_W ((double)(W - LEFT - RIGHT))
#define CHAR_W 6.0 /* average advance of the 10px label font */

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
	double right[L_COUNT][2];  /* per lane and text row: where the last label ended */
} tl;

static double X(const tl *t, double ms)
{
	if (ms < 0)
		ms = 0;
	return LEFT + ms / t->span * PLOT_W;
}

static double lane_y(int lane)
{
	return TOP + lane * LANE_H;
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
	double w = (double)strlen(text) * CHAR_W;
	if (x + w > W - 2)
		x = W - 2 - w;
	for (int row = 0; row < 2; row++) {
		if (x < t->right[lane][row] + 4)
			continue;
		t->right[lane][row] = x + w;
		rpt__buf_printf(t->b, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\">", cls, x, lane_y(lane) + 30 + row * 11);
		rpt__buf_xml(t->b, text);
		rpt__buf_puts(t->b, "</text>\n");
		return;
	}
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
			lane_y(lane) + 5, x1 - x0);
	if (fill)
		rpt__buf_printf(t->b, " fill=\"%s\"", fill);
	rpt__buf_puts(t->b, "><title>");
	rpt__buf_xml(t->b, tip);
	rpt__buf_puts(t->b, "</title></rect>\n");
	if (inside && (double)strlen(inside) * CHAR_W + 6 < x1 - x0) {
		rpt__buf_printf(t->b, "<text class=\"in\" x=\"%.1f\" y=\"%.1f\">", x0 + 3, lane_y(lane) + 15.5);
		rpt__buf_xml(t->b, inside);
		rpt__buf_puts(t->b, "</text>\n");
	} else if (below || inside) {
		lane_label(t, lane, x0, below ? below : inside, "lbl");
	}
}

/* A point marker (circle, diamond, cross or tick) with tooltip and label. */
static void point(tl *t, int lane, double ms, const char *shape, const char *cls, const char *label, const char *tip)
{
	double x = X(t, ms), y = lane_y(lane) + 12;
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
	rpt__buf_printf(t->b, "<line class=\"ms %s\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", cls, x, TOP, x,
			TOP + L_COUNT * LANE_H);
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
	double y0 = TOP, y1 = TOP + L_COUNT * LANE_H, step = nice_step(t->span);
	for (int l = 0; l < L_COUNT; l++) {
		rpt__buf_printf(t->b, "<rect class=\"lane%s\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%d\"/>\n",
				l % 2 ? " odd" : "", LEFT, lane_y(l), PLOT_W, LANE_H);
		rpt__buf_printf(t->b, "<text class=\"lane-name\" x=\"%d\" y=\"%.1f\">%s</text>\n", LEFT - 8,
				lane_y(l) + 16, nv_lane_name((nv_lane)l));
	}
	for (int k = 0;; k++) {
		double ms = k * step;
		if (ms > t->span + 1e-9)
			break;
		double x = X(t, ms);
		char lbl[32];
		fmt_ms(lbl, sizeof(lbl), ms);
		rpt__buf_printf(t->b, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", x, y0, x, y1 + 4);
		rpt__buf_printf(t->b, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, y1 + 16, lbl);
	}
	rpt__buf_printf(t->b, "<text class=\"unit\" x=\"%d\" y=\"%.1f\">ms since start</text>\n", LEFT - 8, y1 + 16);
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
		snprintf(c, sizeof(c), "agent pid %lld: %.1f → %.1f ms", (long long)d->pid, d->spawn_t, ms);
		snprintf(num, sizeof(num), "pid %lld", (long long)d->pid);
		bar(t, L_AGENT, d->spawn_t, ms, "proc", NULL, num, NULL, c);
		d->spawn_t = -1;
	}
	snprintf(c, sizeof(c), "child exit at %.1f ms: %s", ms, a);
	point(t, L_AGENT, ms, "cross", json_is_integer(sig) || json_integer_value(json_object_get(e, "code")) ? "bad" : "end", a, c);
}

static void ev_output(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	const char *stream = rpt__str(e, "stream", "stdout");
	snprintf(c, sizeof(c), "%.1f ms [%s] ", ms, stream);
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
	snprintf(c, sizeof(c), "AGENT_READY marker at %.1f ms", ms);
	point(t, L_OUTPUT, ms, "diamond", "good", "AGENT_READY", c);
}

static void ev_socket_usable(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	(void)e;
	snprintf(c, sizeof(c), "socket accepts connections at %.1f ms", ms);
	point(t, L_SOCKET, ms, "circle", "good", "usable", c);
}

static void ev_socket_stale_removed(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	(void)e;
	snprintf(c, sizeof(c), "stale socket file removed at %.1f ms", ms);
	point(t, L_SOCKET, ms, "cross", "end", "stale removed", c);
}

static void ev_ready_timeout(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160], c[512];
	snprintf(a, sizeof(a), "ready_timeout %lld ms", (long long)json_integer_value(json_object_get(e, "timeout_ms")));
	snprintf(c, sizeof(c), "%s passed at %.1f ms without marker and usable socket", a, ms);
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
	fmt_ms(num, sizeof(num), dur);
	snprintf(a, sizeof(a), "#%lld %s %s ms", (long long)json_integer_value(json_object_get(e, "attempt")),
		 rpt__str(e, "status", ok ? "OK" : "failed"), num);
	snprintf(c, sizeof(c), "health attempt %s at %.1f ms: %s", a, d->attempt_t >= 0 ? d->attempt_t : ms,
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
		snprintf(c, sizeof(c), "state %s from %.1f to %.1f ms", d->state, d->state_t, ms);
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
		snprintf(c, sizeof(c), "breaker %s from %.1f to %.1f ms", d->br, d->br_t, ms);
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
	fmt_ms(num, sizeof(num), ms - st);
	snprintf(a, sizeof(a), "%s %s", m, rpt__str(e, "status", "?"));
	rpt_buf tip = RPT_BUF_INIT;
	rpt__buf_printf(&tip, "call %s%s at %.1f ms, %s ms, %s", m, mock ? " (mock)" : "", st, num,
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
	snprintf(c, sizeof(c), "call %s rejected before sending at %.1f ms: %s (breaker %s)",
		 rpt__str(e, "method", "?"), ms, rpt__str(e, "reason", "?"), rpt__str(e, "breaker", "?"));
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
	fmt_ms(num, sizeof(num), rpt__num(e, "init_ms", ms));
	snprintf(a, sizeof(a), "ready %s ms", num);
	snprintf(c, sizeof(c), "ready at %.1f ms (init %s ms, agent %s)", ms, num, rpt__str(e, "agent_version", "?"));
	milestone(t, ms, "good", a, c);
}

static void ev_fallback(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char a[160];
	snprintf(a, sizeof(a), "fallback: %s", rpt__str(e, "reason", "?"));
	rpt_buf tip = RPT_BUF_INIT;
	rpt__buf_printf(&tip, "fallback to mock at %.1f ms (%s): ", ms, rpt__str(e, "reason", "?"));
	rpt__buf_puts(&tip, rpt__str(e, "message", ""));
	milestone(t, ms, "bad", a, tip.p ? tip.p : "");
	t->b->oom |= tip.oom;
	rpt__buf_free(&tip);
}

static void ev_shutdown(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	snprintf(c, sizeof(c), "shutdown step %s at %.1f ms", rpt__str(e, "step", "?"), ms);
	point(t, L_EVENTS, ms, "tick", "end", rpt__str(e, "step", "?"), c);
}

static void ev_restart(dstate *d, const json_t *e, double ms)
{
	tl *t = d->t;
	char c[512];
	snprintf(c, sizeof(c), "restart attempt %lld at %.1f ms", (long long)json_integer_value(json_object_get(e, "attempt")), ms);
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
			snprintf(c, sizeof(c), "%s at %.1f ms", rpt__str(e, "event", "?"), ms);
			point(t, ev ? (int)ev->lane : L_EVENTS, ms, "tick", "end", rpt__str(e, "event", "?"), c);
		}
	}
	/* Open intervals run to the right edge. */
	if (d->spawn_t >= 0) {
		snprintf(c, sizeof(c), "agent pid %lld from %.1f ms, no exit recorded", (long long)d->pid, d->spawn_t);
		snprintf(num, sizeof(num), "pid %lld (running)", (long long)d->pid);
		bar(t, L_AGENT, d->spawn_t, t_end, "proc", NULL, num, NULL, c);
	}
	if (d->attempt_t >= 0)
		bar(t, L_HEALTH, d->attempt_t, t_end, "hbad", NULL, NULL, "no result", "health attempt without a result");
	if (d->state && d->state_t >= 0 && strcmp(d->state, "idle") && t_end > d->state_t) {
		snprintf(c, sizeof(c), "state %s from %.1f ms to the end", d->state, d->state_t);
		bar(t, L_STATE, d->state_t, t_end, "seg", state_fill(d->state), d->state, NULL, c);
	}
	if (d->br && d->br_t >= 0 && t_end > d->br_t) {
		snprintf(c, sizeof(c), "breaker %s from %.1f ms to the end", d->br, d->br_t);
		bar(t, L_BREAKER, d->br_t, t_end, "seg", state_fill(d->br), d->br, NULL, c);
	}
	for (size_t k = 0; k < d->ncalls; k++)
		bar(t, L_CALLS, d->calls[k].t, t_end, "cbad", NULL, d->calls[k].method, NULL, "call without an end");
}

void rpt__render_timeline(const json_t *result, size_t idx, rpt_buf *b)
{
	const json_t *events = json_object_get(result, "events"), *e;
	size_t i, n = json_is_array(events) ? json_array_size(events) : 0;
	double t_max = 0;
	json_array_foreach(events, i, e)
		if (rpt__num(e, "t_ms", 0) > t_max)
			t_max = rpt__num(e, "t_ms", 0);
	tl t = { .b = b, .idx = idx, .span = t_max > 0 ? t_max * 1.03 : 10 };
	for (int l = 0; l < L_COUNT; l++)
		t.right[l][0] = t.right[l][1] = -1e9;
	int h = TOP + L_COUNT * LANE_H + AXIS_H;
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
	rpt__buf_printf(b, "<text class=\"cap\" x=\"%d\" y=\"14\">%zu events, 0–%.1f ms", LEFT, n, t_max);
	rpt__buf_puts(b, n ? "" : " — no events recorded");
	rpt__buf_puts(b, "</text>\n");
	/* Failed checks carry no timestamp; name them over the timeline so the
	 * reader looks for them in it. */
	size_t nfail = 0;
	rpt_buf ids = RPT_BUF_INIT;
	json_array_foreach(json_object_get(result, "expectations"), i, e)
		if (strcmp(rpt__str(e, "verdict", ""), "pass")) {
			rpt__buf_puts(&ids, nfail++ ? ", " : "");
			rpt__buf_puts(&ids, rpt__str(e, "id", "?"));
		}
	if (nfail) {
		rpt__buf_printf(b, "<text class=\"failnote\" x=\"%d\" y=\"14\" text-anchor=\"end\">failed: ", W - RIGHT);
		rpt__buf_xml(b, ids.p);
		rpt__buf_puts(b, "</text>\n");
	}
	b->oom |= ids.oom;
	rpt__buf_free(&ids);
	axis(&t);
	draw_events(&t, events, t_max);
	rpt__buf_puts(b, "</svg>\n");
}
