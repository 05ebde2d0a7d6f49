/* hx_actions: every scenario action in one table — its syntax, its parser
 * (load time: every name and number checked) and what it does at run time
 * (drive commands, signals) — so that adding an action is one entry, and the
 * help text cannot drift from either. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hx_internal.h"
#include "hx_yaml.h"
#include "nv.h"

typedef struct hx_action {
	const char *name;
	const char *syntax;
	const char *help;
	bool word; /* may be written as a bare word */
	int (*parse)(hx_yctx *c, struct fy_node *v, const char *field, json_t *out);
	int (*run)(hx_ctx *x, const json_t *act, size_t index);
} hx_action;

/* ---- the run context ----------------------------------------------------- */

pid_t hx_last_agent_pid(const hx_ctx *x)
{
	pid_t pid = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(x->h.events, i, ev)
		if (!strcmp(json_string_value(json_object_get(ev, "event")) ?: "", "spawn"))
			pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
	return pid;
}

/* Records whether a wait on the host ran out of the scenario's time. If it
 * did, what the host's threads were blocked in goes into the failure (a CI
 * page then says "futex_wait_queue" rather than just "timeout") and, whole,
 * into the results JSON as "host_threads_at_timeout". */
static void set_timed_out(hx_ctx *x, bool timed_out)
{
	char st[4096];
	x->timed_out = timed_out;
	if (!timed_out)
		return;
	hx_thread_states(x->h.pid, st, sizeof(st));
	if (!st[0])
		return;
	json_object_set_new(x->res, "host_threads_at_timeout", json_string(st));
	size_t l = strlen(x->failure);
	snprintf(x->failure + l, sizeof(x->failure) - l, " [host pid %d threads (tid comm state wchan): %s]",
		 (int)x->h.pid, st);
}

json_t *hx_ctx_command(hx_ctx *x, json_t *cmd, const char *what)
{
	int rc;
	json_t *r = hx_host_command(&x->h, cmd, x->timeout, &rc);
	if (!r && !x->failure[0]) {
		if (rc == -ETIMEDOUT)
			snprintf(x->failure, sizeof(x->failure),
				 "%s: no reply before the scenario timeout (timeout_ms %.0f after the host's spawn)", what,
				 x->timeout);
		else
			snprintf(x->failure, sizeof(x->failure), "%s: %s", what,
				 rc == -EPIPE ? "the host exited without replying" : strerror(-rc));
		set_timed_out(x, rc == -ETIMEDOUT);
	}
	return r;
}

/* ---- parsers ------------------------------------------------------------ */

static int parse_none(hx_yctx *c, struct fy_node *v, const char *field, json_t *out)
{
	(void)out;
	if (v && !fy_node_is_null(v))
		return hx_yerr(c, v, field, "takes no value");
	return 0;
}

static const char *const methods[] = { "health", "process_prompt", "call_custom_function", NULL };

static int parse_call(hx_yctx *c, struct fy_node *v, const char *field, json_t *out)
{
	static const char *const keys[] = { "method", "prompt", "name", "args_json", "deadline_ms", NULL };
	int rc;
	if ((rc = hx_ykeys(c, v, field, keys)) < 0 || (rc = hx_ystr(c, v, "method", field, true, out, "method")) < 0 ||
	    (rc = hx_ystr(c, v, "prompt", field, false, out, "prompt")) < 0 ||
	    (rc = hx_ystr(c, v, "name", field, false, out, "name")) < 0 ||
	    (rc = hx_ystr(c, v, "args_json", field, false, out, "args_json")) < 0 ||
	    (rc = hx_ynum(c, v, "deadline_ms", field, false, true, out)) < 0)
		return rc;
	const char *m = json_string_value(json_object_get(out, "method"));
	bool ok = false;
	for (size_t j = 0; methods[j]; j++)
		ok = ok || !strcmp(m, methods[j]);
	if (!ok) {
		const char *near = nv_nearest(m, methods, 3);
		return hx_yerr(c, hx_yget(v, "method"), field,
			       "method '%s' is not health, process_prompt or call_custom_function%s%s%s", m,
			       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	}
	if (!strcmp(m, "call_custom_function") && !json_object_get(out, "name"))
		return hx_yerr(c, v, field, "call_custom_function needs 'name'");
	if (!strcmp(m, "process_prompt") && !json_object_get(out, "prompt"))
		return hx_yerr(c, v, field, "process_prompt needs 'prompt'");
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signals[] = { { "SIGKILL", SIGKILL }, { "SIGTERM", SIGTERM }, { "SIGSEGV", SIGSEGV }, { "SIGABRT", SIGABRT },
		{ "SIGINT", SIGINT } };

static int parse_signal(hx_yctx *c, struct fy_node *v, const char *field, json_t *out)
{
	const char *s = v && fy_node_is_scalar(v) ? fy_node_get_scalar0(v) : NULL;
	const char *names[sizeof(signals) / sizeof(signals[0])];
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
		names[i] = signals[i].name;
		if (s && !strcmp(s, signals[i].name)) {
			json_object_set_new(out, "signal", json_integer(signals[i].sig));
			json_object_set_new(out, "signal_name", json_string(s));
			return 0;
		}
	}
	const char *near = s ? nv_nearest(s, names, sizeof(names) / sizeof(names[0])) : NULL;
	return hx_yerr(c, v, field, "signal must be SIGKILL, SIGTERM, SIGSEGV, SIGABRT or SIGINT%s%s%s",
		       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
}

static int parse_ms(hx_yctx *c, struct fy_node *v, const char *field, json_t *out)
{
	json_t *j = v && fy_node_is_scalar(v) ? hx_yscalar(v) : NULL;
	if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 3600000) {
		json_decref(j);
		return hx_yerr(c, v, field, "must be an integer number of ms in 0..3600000");
	}
	json_object_set_new(out, "ms", j);
	return 0;
}

static int parse_wait_event(hx_yctx *c, struct fy_node *v, const char *field, json_t *out)
{
	static const char *const keys[] = { "event", "timeout_ms", NULL };
	int rc;
	if ((rc = hx_ykeys(c, v, field, keys)) < 0 || (rc = hx_ystr(c, v, "event", field, true, out, "event")) < 0 ||
	    (rc = hx_ynum(c, v, "timeout_ms", field, true, true, out)) < 0)
		return rc;
	char why[1024];
	if (hx_check_event(json_string_value(json_object_get(out, "event")), why, sizeof(why)) < 0)
		return hx_yerr(c, hx_yget(v, "event"), field, "%s", why);
	return 0;
}

static int parse_await(hx_yctx *c, struct fy_node *v, const char *field, json_t *out)
{
	static const char *const keys[] = { "timeout_ms", NULL };
	int rc;
	if (!v || fy_node_is_null(v))
		return 0;
	if ((rc = hx_ykeys(c, v, field, keys)) < 0 || (rc = hx_ynum(c, v, "timeout_ms", field, false, true, out)) < 0)
		return rc;
	return 0;
}

static int parse_kill_host(hx_yctx *c, struct fy_node *v, const char *field, json_t *out)
{
	int rc = parse_signal(c, v, field, out);
	if (rc == 0 && json_integer_value(json_object_get(out, "signal")) != SIGKILL)
		return hx_yerr(c, v, field, "kill_host takes SIGKILL (the signal nothing can catch)");
	return rc;
}

/* ---- run ---------------------------------------------------------------- */

static int run_simple(hx_ctx *x, const json_t *act, size_t index)
{
	(void)index;
	const char *what = json_string_value(json_object_get(act, "do"));
	json_t *r = hx_ctx_command(x, json_pack("{s:s}", "cmd", what), what);
	if (!r)
		return -1;
	if (!strcmp(what, "init") && !x->init_reply)
		x->init_reply = r;
	return 0;
}

static int run_stop(hx_ctx *x, const json_t *act, size_t index)
{
	(void)act;
	(void)index;
	x->final_snap = hx_ctx_command(x, json_pack("{s:s}", "cmd", "snapshot"), "stop (snapshot before)");
	x->stopped = true;
	if (!hx_ctx_command(x, json_pack("{s:s}", "cmd", "stop"), "stop"))
		return -1;
	return 1;
}

static json_t *call_cmd(const json_t *act, const char *cmd)
{
	json_t *c = json_pack("{s:s,s:O}", "cmd", cmd, "method", json_object_get(act, "method"));
	static const char *const ks[] = { "prompt", "name", "args_json", "deadline_ms" };
	for (size_t i = 0; i < 4; i++)
		if (json_object_get(act, ks[i]))
			json_object_set(c, ks[i], json_object_get(act, ks[i]));
	return c;
}

static int run_call(hx_ctx *x, const json_t *act, size_t index)
{
	(void)index;
	double sent = hx_now_ms() - x->h.t0;
	json_t *r = hx_ctx_command(x, call_cmd(act, "call"), "call");
	if (!r)
		return -1;
	json_object_set_new(r, "harness_ms", json_real(json_number_value(json_object_get(r, "rx_ms")) - sent));
	json_array_set(x->call_replies, (size_t)json_integer_value(json_object_get(act, "call_index")), r);
	return 0;
}

/* C3: the call is accepted at once; its reply (same id) arrives later and
 * is collected by await_calls or at the end of the run. */
static int run_call_async(hx_ctx *x, const json_t *act, size_t index)
{
	(void)index;
	double sent = hx_now_ms() - x->h.t0;
	int id = hx_host_send(&x->h, call_cmd(act, "call_async"));
	if (id < 0) {
		snprintf(x->failure, sizeof(x->failure), "call_async: write to the host: %s", strerror(-id));
		return -1;
	}
	char key[32];
	snprintf(key, sizeof(key), "%d", id);
	json_object_set_new(x->pending, key, json_pack("{s:O,s:f}", "index", json_object_get(act, "call_index"),
						       "sent", sent));
	/* the acknowledgement: the host has the call in flight */
	hx_want w = { id, "call_async" };
	int rc = hx_host_pump(&x->h, x->timeout, hx_reply_arrived, &w);
	if (rc < 0 || !hx_host_reply(&x->h, id, "call_async")) {
		json_t *err = hx_host_reply(&x->h, id, "error");
		snprintf(x->failure, sizeof(x->failure), "call_async: %s",
			 err ? json_string_value(json_object_get(err, "error")) : "no acknowledgement from the host");
		set_timed_out(x, rc == -ETIMEDOUT);
		return -1;
	}
	return 0;
}

/* Move the replies of answered call_async commands into call_replies;
 * returns how many are still out. */
size_t hx_collect_async(hx_ctx *x)
{
	const char *k;
	json_t *p, *tmp;
	json_object_foreach_safe(x->pending, tmp, k, p) {
		json_t *r = hx_host_reply(&x->h, atoi(k), "call");
		if (!r)
			continue;
		json_object_set_new(r, "harness_ms", json_real(json_number_value(json_object_get(r, "rx_ms")) -
							       json_number_value(json_object_get(p, "sent"))));
		json_object_set_new(r, "async", json_true());
		json_array_set(x->call_replies, (size_t)json_integer_value(json_object_get(p, "index")), r);
		json_object_del(x->pending, k);
	}
	return json_object_size(x->pending);
}

static bool all_answered(hx_host *h, const void *arg)
{
	(void)h;
	return hx_collect_async((hx_ctx *)arg) == 0;
}

static int run_await(hx_ctx *x, const json_t *act, size_t index)
{
	(void)index;
	json_t *t = json_object_get(act, "timeout_ms");
	double now = hx_now_ms() - x->h.t0;
	double dl = t ? now + (double)json_integer_value(t) * hx_time_scale() : x->timeout;
	int rc = hx_host_pump(&x->h, dl < x->timeout ? dl : x->timeout, all_answered, x);
	if (rc < 0) {
		snprintf(x->failure, sizeof(x->failure), "await_calls: %zu call(s) unanswered: %s",
			 json_object_size(x->pending), rc == -ETIMEDOUT ? "timed out" : "the host exited");
		set_timed_out(x, rc == -ETIMEDOUT && !t);
		return -1;
	}
	return 0;
}

static int run_kill_agent(hx_ctx *x, const json_t *act, size_t index)
{
	pid_t pid = hx_last_agent_pid(x);
	if (pid <= 1) {
		snprintf(x->failure, sizeof(x->failure), "action %zu kill_agent: no spawn event with a pid", index);
		return -1;
	}
	if (kill(pid, (int)json_integer_value(json_object_get(act, "signal"))) < 0) {
		snprintf(x->failure, sizeof(x->failure), "action %zu kill_agent pid %d: %s", index, (int)pid,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Issue 10: no agent outlives its host. The host is SIGKILLed (it can do
 * nothing about it); the agent must be gone within 100 ms — the kernel's
 * PR_SET_PDEATHSIG in a conforming supervisor, or whatever else it uses.
 * We are a subreaper, so the orphaned agent becomes our child: its exit is
 * watched on a pidfd and it is reaped here. */
static int run_kill_host(hx_ctx *x, const json_t *act, size_t index)
{
	pid_t agent = hx_last_agent_pid(x);
	int sig = (int)json_integer_value(json_object_get(act, "signal"));
	int afd = agent > 1 ? (int)syscall(SYS_pidfd_open, agent, 0) : -1;
	double t0 = hx_now_ms();
	if (kill(x->h.pid, sig) < 0) {
		snprintf(x->failure, sizeof(x->failure), "action %zu kill_host pid %d: %s", index, (int)x->h.pid,
			 strerror(errno));
		if (afd >= 0)
			close(afd);
		return -1;
	}
	x->host_killed_sig = sig;
	x->stopped = true;
	x->agent_pid_at_kill = agent;
	x->agent_gone_ms = -1;
	if (afd >= 0) {
		/* wait well past the bound so that a slow death is measured,
		 * not just called late */
		struct pollfd p = { .fd = afd, .events = POLLIN };
		int left = (int)(2000 * hx_time_scale());
		while (poll(&p, 1, left) < 0 && errno == EINTR)
			;
		if (p.revents)
			x->agent_gone_ms = hx_now_ms() - t0;
		close(afd);
	}
	return 1;
}

static int run_wait_ms(hx_ctx *x, const json_t *act, size_t index)
{
	(void)index;
	return hx_ctx_command(x, json_pack("{s:s,s:O}", "cmd", "wait", "ms", json_object_get(act, "ms")), "wait_ms")
		       ? 0
		       : -1;
}

static int run_wait_event(hx_ctx *x, const json_t *act, size_t index)
{
	(void)index;
	return hx_ctx_command(x,
			      json_pack("{s:s,s:O,s:O}", "cmd", "wait_event", "event", json_object_get(act, "event"),
					"timeout_ms", json_object_get(act, "timeout_ms")),
			      "wait_event")
		       ? 0
		       : -1;
}

static const hx_action actions[] = {
	{ "init", "init", "initialise: spawn the agent, wait for readiness (L4, L5), confirm (H4) or fall back (K2)",
	  true, parse_none, run_simple },
	{ "stop", "stop", "snapshot, then stop the supervisor (L7); the last action", true, parse_none, run_stop },
	{ "snapshot", "snapshot", "ask mode, breaker, metrics and fds", true, parse_none, run_simple },
	{ "call", "call: {method, prompt?, name?, args_json?, deadline_ms?}",
	  "a typed call; waits for its reply (method: health, process_prompt, call_custom_function)", false, parse_call,
	  run_call },
	{ "call_async", "call_async: {method, prompt?, name?, args_json?, deadline_ms?}",
	  "start a typed call and go on at once; its reply is collected by await_calls (C3: concurrent calls)", false,
	  parse_call, run_call_async },
	{ "await_calls", "await_calls: {timeout_ms?}", "wait until every call_async has its reply", false, parse_await,
	  run_await },
	{ "kill_agent", "kill_agent: SIGKILL|SIGTERM|SIGSEGV|SIGABRT|SIGINT", "signal the agent (last spawn pid)",
	  false, parse_signal, run_kill_agent },
	{ "kill_host", "kill_host: SIGKILL",
	  "kill the host itself; the agent must be gone within 100 ms (no orphan), the run ends here", false,
	  parse_kill_host, run_kill_host },
	{ "wait_ms", "wait_ms: N", "run the supervisor's loop for N ms", false, parse_ms, run_wait_ms },
	{ "wait_event", "wait_event: {event, timeout_ms}", "wait until the host emits the event (or the timeout)", false,
	  parse_wait_event, run_wait_event },
};
#define N_ACTIONS (sizeof(actions) / sizeof(actions[0]))

static const hx_action *find(const char *name)
{
	for (size_t i = 0; name && i < N_ACTIONS; i++)
		if (!strcmp(actions[i].name, name))
			return &actions[i];
	return NULL;
}

static int unknown(hx_yctx *c, struct fy_node *at, const char *field, const char *name)
{
	const char *names[N_ACTIONS];
	char list[512] = "";
	for (size_t i = 0; i < N_ACTIONS; i++) {
		names[i] = actions[i].name;
		size_t l = strlen(list);
		snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "", names[i]);
	}
	const char *near = nv_nearest(name, names, N_ACTIONS);
	if (near)
		return hx_yerr(c, at, field, "'%s' is not an action (did you mean '%s'? actions: %s)", name, near, list);
	return hx_yerr(c, at, field, "'%s' is not an action (actions: %s)", name, list);
}

int hx_action_parse(hx_yctx *c, struct fy_node *e, int i, int *ncalls, json_t *out)
{
	char field[64];
	snprintf(field, sizeof(field), "actions[%d]", i);
	const hx_action *a;
	struct fy_node *v = NULL;
	if (fy_node_is_scalar(e)) {
		const char *s = fy_node_get_scalar0(e);
		a = find(s);
		if (!a)
			return unknown(c, e, field, s ? s : "?");
		if (!a->word)
			return hx_yerr(c, e, field, "'%s' needs a value: %s", a->name, a->syntax);
	} else {
		if (!fy_node_is_mapping(e) || fy_node_mapping_item_count(e) != 1)
			return hx_yerr(c, e, field, "an action is a word or a mapping with one key");
		void *it = NULL;
		struct fy_node_pair *p = fy_node_mapping_iterate(e, &it);
		const char *k = fy_node_get_scalar0(fy_node_pair_key(p));
		v = fy_node_pair_value(p);
		a = find(k);
		if (!a)
			return unknown(c, fy_node_pair_key(p), field, k ? k : "?");
		snprintf(field, sizeof(field), "actions[%d].%s", i, k);
	}
	json_object_set_new(out, "do", json_string(a->name));
	int rc = a->parse(c, v, field, out);
	if (rc == 0 && a->parse == parse_call)
		json_object_set_new(out, "call_index", json_integer((*ncalls)++));
	return rc;
}

int hx_action_run(hx_ctx *x, const json_t *act, size_t index)
{
	const hx_action *a = find(json_string_value(json_object_get(act, "do")));
	if (!a) { /* cannot happen for a loaded scenario */
		snprintf(x->failure, sizeof(x->failure), "action %zu: unknown", index);
		return -1;
	}
	return a->run(x, act, index);
}

void hx_actions_help(FILE *f)
{
	for (size_t i = 0; i < N_ACTIONS; i++)
		fprintf(f, "  %s\n      %s\n", actions[i].syntax, actions[i].help);
}
