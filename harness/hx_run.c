/* hx_run: one run of a scenario, in phases — set up the private dir and the
 * host's command line, drive the actions, stop, check the world
 * (invariants) and the expectations. `repeat: N` is hx_repeat.c. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hx_internal.h"

extern char **environ;

json_t *hx_result_error(const char *name, const char *file, const char *message)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:[],s:s,s:f,s:{s:n,s:n,s:n},s:{},s:[],s:[],s:[],s:[],s:{},"
			 "s:s}",
			 "schema", "neira.scenario-result/1", "name", name, "file", file,
			 "description", "", "clauses", "verdict", "error", "duration_ms", 0.0, "agent",
			 "kind", "preset", "script", "config", "expectations", "events", "replies",
			 "invariants", "metrics", "error", message);
}

/* ---- phase 1: the private dir, the host's command line and environment ---- */

static char **build_argv(hx_ctx *x)
{
	json_t *agent = json_object_get(x->doc, "agent"), *cfg = json_object_get(x->doc, "config");
	const char *kind = json_string_value(json_object_get(agent, "kind"));
	char *agent_path = NULL;
	if (!strcmp(kind, "discovered")) {
		int arc = hx_make_agents_dir(x->dir, x->paths->ref_agent, x->agents_dir, sizeof(x->agents_dir));
		if (arc < 0)
			snprintf(x->errbuf, sizeof(x->errbuf), "setup agents dir under %s: %s", x->dir, strerror(-arc));
		else if (json_array_size(json_object_get(x->doc, "faults")))
			snprintf(x->errbuf, sizeof(x->errbuf), "agent kind discovered cannot take a fault plan");
	} else if (!strcmp(kind, "reference"))
		agent_path = strdup(x->paths->ref_agent);
	else if (!strcmp(kind, "fake"))
		agent_path = strdup(x->paths->fake_agent);
	else if (!strcmp(kind, "missing"))
		agent_path = hx_strdup2("%s%s", x->dir, "/no-such-agent");
	else
		agent_path = hx_subst_dir(json_string_value(json_object_get(agent, "path")), x->dir);
	snprintf(x->sock, sizeof(x->sock), "%s/a.sock", x->dir);
	char **argv = calloc(8 + 2 * json_object_size(cfg), sizeof(char *));
	size_t ac = 0;
	argv[ac++] = strdup(x->paths->host);
	if (agent_path) {
		argv[ac++] = strdup("--agent");
		argv[ac++] = agent_path;
	} else { /* L1: no explicit path; the supervisor must find the agent */
		argv[ac++] = strdup("--set");
		argv[ac++] = hx_strdup2("agents_dir=%s%s", x->agents_dir, "");
	}
	if (!json_object_get(cfg, "socket_path")) {
		argv[ac++] = strdup("--set");
		argv[ac++] = hx_strdup2("socket_path=%s%s", x->sock, "");
	}
	const char *k;
	json_t *v;
	json_object_foreach(cfg, k, v) {
		char *val = hx_subst_dir(json_string_value(v), x->dir);
		argv[ac++] = strdup("--set");
		argv[ac++] = hx_strdup2("%s=%s", k, val ? val : "");
		if (!strcmp(k, "socket_path") && val)
			snprintf(x->sock, sizeof(x->sock), "%s", val);
		free(val);
	}
	argv[ac++] = strdup("drive");
	argv[ac] = NULL;
	return argv;
}

/* Ours, minus stale fake-agent controls, plus the scenario's env, the fake
 * agent's script and the fault plan's variables. */
static char **build_envp(hx_ctx *x, char **argv)
{
	size_t ne = 0;
	while (environ[ne])
		ne++;
	json_t *senv = json_object_get(x->doc, "env"), *agent = json_object_get(x->doc, "agent");
	char **envp = calloc(ne + 3 + 8 + json_object_size(senv), sizeof(char *));
	size_t ec = 0;
	for (size_t i = 0; i < ne; i++) {
		if (!strncmp(environ[i], "NEIRA_FAKE_", 11))
			continue;
		const char *eq = strchr(environ[i], '=');
		char name[256];
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - environ[i]) : 0, environ[i]);
		if (json_object_get(senv, name)) /* the scenario's env: replaced or unset */
			continue;
		envp[ec++] = strdup(environ[i]);
	}
	const char *ek;
	json_t *evv;
	json_object_foreach(senv, ek, evv) {
		if (json_is_null(evv))
			continue;
		char *val = hx_subst_dir(json_string_value(evv), x->dir);
		envp[ec++] = hx_strdup2("%s=%s", ek, val ? val : "");
		free(val);
	}
	if (!strcmp(json_string_value(json_object_get(agent, "kind")), "fake")) {
		json_t *script = json_object_get(agent, "script");
		const char *preset = json_string_value(json_object_get(agent, "preset"));
		if (json_is_object(script)) {
			char sp[600];
			snprintf(sp, sizeof(sp), "%s/script.json", x->dir);
			if (json_dump_file(script, sp, JSON_COMPACT) < 0)
				snprintf(x->errbuf, sizeof(x->errbuf), "cannot write %s", sp);
			envp[ec++] = hx_strdup2("NEIRA_FAKE_SCRIPT=%s%s", sp, "");
		}
		if (preset)
			envp[ec++] = hx_strdup2("NEIRA_FAKE_PRESET=%s%s", preset, "");
	}
	char *wrapped = NULL;
	if (!x->errbuf[0] && hx_faults_setup(&x->fx, json_object_get(x->doc, "faults"), x->dir, argv[2], &envp, &ec,
					     &wrapped, x->errbuf, sizeof(x->errbuf)) == 0 && wrapped) {
		free(argv[2]); /* the agent runs through neira-fault-exec */
		argv[2] = wrapped;
	}
	envp[ec] = NULL;
	return envp;
}

static void free_strv(char **v)
{
	for (size_t j = 0; v && v[j]; j++)
		free(v[j]);
	free(v);
}

/* NEIRA_HOST_WRAPPER (words split on spaces, e.g. "valgrind --error-exitcode=99 …")
 * runs the host under a tool: a memcheck error then fails host_exit_clean
 * through the exit code. */
static int spawn_wrapped(hx_ctx *x, char **argv, char **envp)
{
	const char *wrap = getenv("NEIRA_HOST_WRAPPER");
	if (!wrap || !*wrap)
		return hx_host_spawn(&x->h, argv, envp);
	size_t words = 1, n = 0;
	for (const char *q = wrap; *q; q++)
		words += *q == ' ';
	while (argv[n])
		n++;
	char **run_argv = calloc(words + n + 1, sizeof(char *)), *copy = strdup(wrap);
	size_t w = 0;
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		run_argv[w++] = t;
	for (size_t j = 0; j < n; j++)
		run_argv[w++] = argv[j];
	run_argv[w] = NULL;
	int rc = hx_host_spawn(&x->h, run_argv, envp);
	free(run_argv);
	free(copy);
	return rc;
}

/* ---- phase 2: the actions ------------------------------------------------- */

/* `hello` (docs/adapter-contract.md §5): the host's protocol, name and
 * capabilities; a host that answers with an error speaks protocol 0 and has
 * none. A required capability it lacks makes the scenario not applicable. */
static bool hello(hx_ctx *x)
{
	json_t *r = hx_ctx_command(x, json_pack("{s:s}", "cmd", "hello"), "hello");
	if (!r)
		return false;
	bool proto1 = !strcmp(json_string_value(json_object_get(r, "reply")) ?: "", "hello");
	json_t *caps = proto1 && json_is_array(json_object_get(r, "capabilities")) ? json_object_get(r, "capabilities")
										    : NULL;
	json_object_set_new(x->res, "host",
			    json_pack("{s:I,s:O,s:O}", "protocol",
				      proto1 ? json_integer_value(json_object_get(r, "protocol")) : (json_int_t)0,
				      "supervisor", proto1 && json_object_get(r, "supervisor") ? json_object_get(r, "supervisor")
											    : json_null(),
				      "capabilities", caps ? caps : json_array()));
	size_t i, j;
	json_t *need, *have;
	json_array_foreach(json_object_get(x->doc, "requires"), i, need) {
		bool ok = false;
		json_array_foreach(caps, j, have)
			ok = ok || json_equal(need, have);
		if (!ok) {
			size_t l = strlen(x->not_applicable);
			snprintf(x->not_applicable + l, sizeof(x->not_applicable) - l, "%s%s", l ? ", " : "requires ",
				 json_string_value(need));
		}
	}
	if (x->not_applicable[0]) {
		size_t l = strlen(x->not_applicable);
		snprintf(x->not_applicable + l, sizeof(x->not_applicable) - l, ", which this host (%s) does not have",
			 json_string_value(json_object_get(json_object_get(r, "supervisor"), "name")) ?: "protocol 0");
	}
	return true;
}

static void drive_actions(hx_ctx *x)
{
	if (!hello(x) || x->not_applicable[0])
		return; /* EOF on stdin then stops the host, which must still exit cleanly */
	/* fd baseline, before init: from outside (/proc) and the host's own count */
	x->pre_snap = hx_ctx_command(x, json_pack("{s:s}", "cmd", "snapshot"), "the first snapshot");
	if (!x->pre_snap)
		return;
	x->host_fds_pre = hx_count_fds(x->h.pid);
	x->host_fd_pre = hx_fd_targets(x->h.pid);
	size_t ai;
	json_t *act;
	json_array_foreach(json_object_get(x->doc, "actions"), ai, act) {
		if (hx_run_interrupted()) {
			snprintf(x->failure, sizeof(x->failure), "interrupted (SIGINT/SIGTERM) before action %zu", ai);
			return;
		}
		if (hx_action_run(x, act, ai) != 0)
			break;
	}
	if (x->failure[0] || x->host_killed_sig)
		return;
	if (!x->stopped) {
		x->final_snap = hx_ctx_command(x, json_pack("{s:s}", "cmd", "snapshot"), "snapshot before stop");
		x->stopped = true;
		if (!hx_ctx_command(x, json_pack("{s:s}", "cmd", "stop"), "stop"))
			return;
	}
	hx_collect_async(x);
	/* L7: stop returns once the agent is reaped. Read right at the stop
	 * reply — the host still runs (it stays until stdin's EOF), so a child
	 * it has not reaped yet is visible now, alive or as its zombie; later,
	 * a runtime that reaps on its own (libuv) would hide a stop that did
	 * not wait. */
	x->reap_checked = true;
	size_t i;
	json_t *ev;
	json_array_foreach(x->h.events, i, ev) {
		if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "", "spawn"))
			continue;
		pid_t pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
		char st;
		x->reap_spawned++;
		if (pid > 1 && hx_pid_alive(pid, &st)) {
			size_t l = strlen(x->reap_msg);
			snprintf(x->reap_msg + l, sizeof(x->reap_msg) - l,
				 "agent pid %d still exists at the stop reply (state %c%s); ", (int)pid, st,
				 st == 'Z' ? ", an unreaped zombie" : "");
		}
	}
	x->host_fds_post = hx_count_fds(x->h.pid);
	/* grpc closes a destroyed channel's socket and its poller's epoll and
	 * eventfd on its own threads, after the host's stop reply (seen now and
	 * then: 7 fds before init, 10 just after stop, all three grpc's). A
	 * leak is an fd that is never released: the count is re-read until it
	 * is back at the baseline, for at most 2 s (x20 under a tool), and the
	 * time it took is reported. poll() is the timer: there is no event for
	 * "another process closed an fd". */
	json_int_t slack = json_integer_value(json_object_get(json_object_get(x->doc, "expect"), "fd_slack"));
	double t0 = hx_now_ms(), limit = 2000 * hx_time_scale();
	while (x->host_fds_post > x->host_fds_pre + slack && hx_now_ms() - t0 < limit && !x->h.exited) {
		poll(NULL, 0, 5);
		x->host_fds_post = hx_count_fds(x->h.pid);
	}
	x->fd_settle_ms = hx_now_ms() - t0;
	x->host_fd_post = hx_fd_targets(x->h.pid);
	/* A host that exits at its stop reply has no fds left to count (a
	 * zombie's /proc/PID/fd is empty), or is counted a moment before it
	 * goes: that measurement proves nothing, and the contract has the host
	 * stay until stdin's EOF, answering any command after stop with an
	 * error reply (adapter contract §2). So a command now, after the
	 * count: its reply shows the host was there to be counted; a host that
	 * left gives EOF (its pidfd, readable from its exit on, says the same).
	 * No timer guesses how soon an exiting host shows it. */
	int rc;
	json_t *alive = hx_host_command(&x->h, json_pack("{s:s}", "cmd", "hello"), x->timeout, &rc);
	struct pollfd pp = { .fd = x->h.pidfd, .events = POLLIN };
	x->host_gone_at_fd_check = !alive && (rc == -EPIPE || poll(&pp, 1, 0) == 1);
}

/* ---- phase 3: the host must exit on its own; nothing may outlive it ------ */

static void finish_host(hx_ctx *x)
{
	json_t *invs = json_object_get(x->res, "invariants");
	if (x->reap_checked)
		hx_add_inv(invs, x->log, HX_INV_agent_stopped_and_reaped, !x->reap_msg[0],
			   x->reap_msg[0] ? x->reap_msg
			   : x->reap_spawned ? "every spawned agent pid was gone at the stop reply"
					     : "no agent was spawned");
	/* EOF on stdin = stop + exit; then the host must exit on its own */
	hx_close_fd(&x->h.in_fd);
	if (x->h.pid <= 0)
		return;
	/* A run that went well: 10 s. One that failed or timed out (the host may
	 * be mid-init): stopping at EOF takes the L7 grace (shutdown_grace_ms,
	 * default 2 s) and a reap, so that + 1 s — a seed stuck in its own 15 s
	 * socket wait is not waited out (issue 13). */
	json_t *g = json_object_get(json_object_get(x->doc, "config"), "shutdown_grace_ms");
	double l7 = g ? (json_is_string(g) ? atof(json_string_value(g)) : json_number_value(g)) : 2000;
	double grace = (x->timed_out || x->failure[0] ? l7 + 1000 : 10000) * hx_time_scale();
	if (hx_host_pump(&x->h, hx_now_ms() - x->h.t0 + grace, NULL, NULL) == -ETIMEDOUT) {
		kill(-x->h.pid, SIGKILL);
		kill(x->h.pid, SIGKILL);
		size_t l = strlen(x->failure);
		snprintf(x->failure + l, sizeof(x->failure) - l, "%sthe host did not exit after stdin EOF; killed",
			 l ? "; " : "");
		hx_host_pump(&x->h, hx_now_ms() - x->h.t0 + 5000, NULL, NULL);
	}
	if (!x->h.exited && waitpid(x->h.pid, &x->h.wstatus, 0) == x->h.pid)
		x->h.exited = true;
}

/* ---- phase 5: expectations ------------------------------------------------ */

static void check_expectations(hx_ctx *x, hx_checker *c)
{
	json_t *exp = json_object_get(x->doc, "expect"), *w;
	if ((w = json_object_get(exp, "mode")))
		hx_check_value(c, NULL, "mode", "final mode (last snapshot)", json_object_get(x->final_snap, "mode"), w);
	if ((w = json_object_get(exp, "reason")))
		hx_check_value(c, NULL, "reason", "final reason kind (last snapshot)",
			       json_object_get(x->final_snap, "reason"), w);
	json_t *in = json_object_get(exp, "init");
	if (in) {
		if ((w = json_object_get(in, "mode")))
			hx_check_value(c, NULL, "init", "init reply mode", json_object_get(x->init_reply, "mode"), w);
		if ((w = json_object_get(in, "reason")))
			hx_check_value(c, NULL, "init", "init reply reason", json_object_get(x->init_reply, "reason"), w);
		if ((w = json_object_get(in, "max_init_ms"))) {
			json_t *m = json_pack("{s:{s:O}}", "op", "max", w);
			hx_check_value(c, NULL, "init", "init reply init_ms", json_object_get(x->init_reply, "init_ms"), m);
			json_decref(m);
		}
	}
	if (json_object_get(exp, "events"))
		hx_check_events(c, json_object_get(exp, "events"), x->h.events);
	if (json_object_get(exp, "calls"))
		hx_check_calls(c, json_object_get(exp, "calls"), x->call_replies);
	const char *k;
	json_object_foreach(json_object_get(exp, "metrics"), k, w) {
		char d[200];
		snprintf(d, sizeof(d), "metric %s", k);
		hx_check_value(c, NULL, "metric", d, hx_dig(json_object_get(x->final_snap, "metrics"), k), w);
	}
	json_object_foreach(json_object_get(exp, "snapshot"), k, w) {
		char d[200];
		snprintf(d, sizeof(d), "snapshot %s", k);
		hx_check_value(c, NULL, "snapshot", d, hx_dig(x->final_snap, k), w);
	}
	hx_faults_check_fired(c, json_object_get(x->doc, "faults"), x->final_snap);
}

static void release(hx_ctx *x, char **argv, char **envp)
{
	free(x->h.obuf);
	free(x->h.ebuf);
	json_decref(x->h.timeline);
	json_decref(x->h.junk);
	json_decref(x->h.stderr_lines);
	json_decref(x->h.bad_events);
	json_decref(x->h.bad_replies);
	json_decref(x->call_replies);
	json_decref(x->pending);
	json_decref(x->host_fd_pre);
	json_decref(x->host_fd_post);
	json_decref(x->shm_before);
	free_strv(argv);
	free_strv(envp);
	json_decref(x->doc);
}

static void verdict(hx_ctx *x, hx_checker *c)
{
	json_object_set(x->res, "metrics", json_object_get(x->final_snap, "metrics") ?: json_object());
	size_t i;
	json_t *iv;
	int inv_failed = 0;
	json_array_foreach(json_object_get(x->res, "invariants"), i, iv)
		inv_failed += !strcmp(json_string_value(json_object_get(iv, "verdict")), "fail");
	const char *v = x->errbuf[0]			       ? "error"
			: (x->failure[0] || c->failed || inv_failed) ? "fail"
			: x->not_applicable[0]			       ? "not_applicable"
								       : "pass";
	if (x->not_applicable[0]) /* its own verdict: never counted as a pass */
		json_object_set_new(x->res, "not_applicable", json_string(x->not_applicable));
	if (x->errbuf[0])
		json_object_set_new(x->res, "error", json_string(x->errbuf));
	else if (x->failure[0])
		json_object_set_new(x->res, "error", json_string(x->failure));
	json_object_set_new(x->res, "verdict", json_string(v));
	json_object_set_new(x->res, "duration_ms", json_real(hx_now_ms() - x->t_start));
	if (!x->log)
		return;
	/* the error and n/a reason are in the result, printed from there */
	if (strcmp(v, "pass") && json_array_size(x->h.stderr_lines)) {
		size_t n = json_array_size(x->h.stderr_lines);
		fprintf(x->log, "    host stderr (last %zu of %zu lines):\n", n > 15 ? 15 : n, n);
		for (size_t j = n > 15 ? n - 15 : 0; j < n; j++)
			fprintf(x->log, "      | %s\n", json_string_value(json_array_get(x->h.stderr_lines, j)));
	}
}

/* Every event of the host, as it arrives: the plan's `when` faults. */
static void on_event(void *ud, const json_t *ev)
{
	hx_ctx *x = ud;
	hx_faults_on_event(&x->fx, ev, hx_host_send, &x->h);
}

json_t *hx_run_once(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log)
{
	hx_ctx x = { .sc = sc, .paths = paths, .verbose = verbose, .log = log, .host_fds_pre = -1, .host_fds_post = -1,
		     .agent_gone_ms = -1, .live_fd = -1 };
	x.doc = json_deep_copy(sc->doc); /* owned: {dir} is substituted into it */
	x.t_start = hx_now_ms();
	x.harness_fds_before = hx_count_fds(getpid());
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	x.res = json_pack("{s:s,s:s,s:s,s:O,s:O,s:s,s:f,s:O,s:O,s:[],s:[],s:[],s:[],s:{},s:n}", "schema",
			  "neira.scenario-result/1", "name", sc->name, "file", sc->file, "description",
			  json_object_get(x.doc, "description"), "clauses", json_object_get(x.doc, "clauses"), "verdict",
			  "error", "duration_ms", 0.0, "agent", json_object_get(x.doc, "agent"), "config",
			  json_object_get(x.doc, "config"), "expectations", "events", "replies", "invariants", "metrics",
			  "error");
	x.h = (hx_host){ .pid = -1, .pidfd = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .log = log, .verbose = verbose };
	x.h.events = json_object_get(x.res, "events");
	x.h.replies = json_object_get(x.res, "replies");
	x.h.timeline = json_array();
	x.h.junk = json_array();
	x.h.stderr_lines = json_array();
	x.h.bad_events = json_array();
	x.h.bad_replies = json_array();
	x.h.on_event = on_event;
	x.h.on_event_ud = &x;
	x.pending = json_object();
	x.call_replies = json_array();
	size_t ai;
	json_t *act;
	json_array_foreach(json_object_get(x.doc, "actions"), ai, act)
		if (json_object_get(act, "call_index"))
			json_array_append_new(x.call_replies, json_null());
	char **argv = NULL, **envp = NULL;

	const char *tmp = getenv("TMPDIR");
	snprintf(x.dir, sizeof(x.dir), "%s/neira-hx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(x.dir)) {
		snprintf(x.errbuf, sizeof(x.errbuf), "mkdtemp %s: %s", x.dir, strerror(errno));
		x.dir[0] = '\0';
		goto checks;
	}
	hx_run_register_dir(x.dir); /* removed even if we are interrupted */
	hx_subst_all(json_object_get(x.doc, "expect"), "{dir}", x.dir);
	argv = build_argv(&x);
	if (argv[1] && !strcmp(argv[1], "--agent")) /* the path the host was given */
		hx_subst_all(json_object_get(x.doc, "expect"), "{agent}", argv[2]);
	envp = build_envp(&x, argv);
	x.timeout = (double)json_integer_value(json_object_get(x.doc, "timeout_ms")) * hx_time_scale();
	if (!x.errbuf[0] && json_is_true(json_object_get(json_object_get(x.doc, "setup"), "live_socket"))) {
		x.live_fd = hx_make_live_socket(x.sock);
		struct stat lst;
		if (x.live_fd < 0)
			snprintf(x.errbuf, sizeof(x.errbuf), "setup live_socket at %s: %s", x.sock, strerror(-x.live_fd));
		else if (stat(x.sock, &lst) == 0) {
			x.live_dev = lst.st_dev;
			x.live_ino = lst.st_ino;
		}
	}
	if (!x.errbuf[0] && json_is_true(json_object_get(json_object_get(x.doc, "setup"), "stale_socket"))) {
		int rc = hx_make_stale_socket(x.sock);
		if (rc < 0)
			snprintf(x.errbuf, sizeof(x.errbuf), "setup stale_socket at %s: %s", x.sock, strerror(-rc));
	}
	if (verbose && log) {
		fprintf(log, "  dir %s\n  argv:", x.dir);
		for (size_t i = 0; argv[i]; i++)
			fprintf(log, " %s", argv[i]);
		fprintf(log, "\n");
	}
	if (!x.errbuf[0] && access(paths->host, X_OK) < 0)
		snprintf(x.errbuf, sizeof(x.errbuf), "host not executable at %s: %s", paths->host, strerror(errno));
	if (!x.errbuf[0] && json_object_get(json_object_get(x.doc, "env"), "LD_PRELOAD"))
		x.shm_before = hx_shm_names();
	if (!x.errbuf[0]) {
		int rc = spawn_wrapped(&x, argv, envp);
		if (rc < 0)
			snprintf(x.errbuf, sizeof(x.errbuf), "spawn %s: %s", paths->host, strerror(-rc));
		else
			hx_run_register_host(x.h.pid);
	}
	if (!x.errbuf[0])
		drive_actions(&x);
	finish_host(&x);
	hx_run_register_host(0);
	if (hx_run_interrupted() && !x.errbuf[0]) /* not a verdict on the supervisor */
		snprintf(x.errbuf, sizeof(x.errbuf), "interrupted (SIGINT/SIGTERM): the host and its agent were "
			 "killed, the scenario dir removed");

checks:
	hx_check_world(&x);
	hx_close_fd(&x.h.in_fd);
	hx_close_fd(&x.h.out_fd);
	hx_close_fd(&x.h.err_fd);
	hx_close_fd(&x.h.pidfd);
	if (x.dir[0]) {
		hx_rm_rf(x.dir);
		hx_run_register_dir(NULL);
	}
	hx_faults_cleanup(&x.fx);
	if (x.shm_before) { /* every process of the run is gone (hx_check_world) */
		char swept[1024];
		hx_shm_sweep(x.shm_before, swept, sizeof(swept));
		if (swept[0])
			json_object_set_new(x.res, "cleanup",
					    json_sprintf("removed libfaketime's /dev/shm objects left by exited "
							 "processes: %s", swept));
	}
	int after = hx_count_fds(getpid());
	char m[128];
	snprintf(m, sizeof(m), "harness fds: %d before, %d after", x.harness_fds_before, after);
	hx_add_inv(json_object_get(x.res, "invariants"), log, HX_INV_no_fd_leak_in_harness, after <= x.harness_fds_before, m);
	/* no log: a failed check's details (the events around it) are printed
	 * from the result, in the scenario's words (hx_term) */
	hx_checker c = { .exps = json_object_get(x.res, "expectations"),
			 .clause0 = json_string_value(json_array_get(json_object_get(x.doc, "clauses"), 0)) };
	if (!x.errbuf[0] && !x.not_applicable[0])
		check_expectations(&x, &c);
	verdict(&x, &c);
	release(&x, argv, envp);
	return x.res;
}
