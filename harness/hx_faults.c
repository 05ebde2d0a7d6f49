/* hx_faults: fault plans in scenarios (issue 6) — validation of the
 * `faults:` list, turning a plan into neira-host's environment (in-code and
 * supervisor-side posix points through NEIRA_FAULTS, agent-side posix points
 * through neira-fault-exec and libfiu's preloads), faults that start after
 * an event (a drive "fault" command, or libfiu's FIFO remote control for the
 * agent), and the `sweep` and `chaos` commands. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flt.h"
#include "hx.h"

#ifndef HX_FAULT_EXEC
#define HX_FAULT_EXEC "neira-fault-exec"
#endif
#define HX_FIU_DIR "/usr/lib/fiu"

/* ---- validation ---------------------------------------------------------- */

static int code_point(const char *name)
{
	for (int i = 0; i < FLT_POINT_COUNT_; i++)
		if (!strcmp(name, flt_point_name((flt_point)i)))
			return i;
	return -1;
}

#define BAD(idx, key, ...)                                                                         \
	do {                                                                                       \
		*bad_index = (idx);                                                                \
		*bad_key = (key);                                                                  \
		snprintf(msg, msglen, __VA_ARGS__);                                                \
		json_decref(out);                                                                  \
		return -EINVAL;                                                                    \
	} while (0)

int hx_faults_normalise(const json_t *raw, json_t **norm, char *msg, size_t msglen, int *bad_index,
			const char **bad_key)
{
	static const char *const keys[] = { "point", "side", "mode", "nth", "probability", "seed", "errno",
					    "when", NULL };
	json_t *out = json_array();
	*norm = NULL;
	*bad_index = -1;
	*bad_key = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(raw, i, e) {
		int ix = (int)i;
		if (!json_is_object(e))
			BAD(ix, NULL, "a fault is a mapping {point, side, mode, nth, probability, seed, errno, when}");
		const char *k;
		json_t *v;
		json_object_foreach(e, k, v) {
			bool ok = false;
			for (size_t j = 0; keys[j]; j++)
				ok = ok || !strcmp(k, keys[j]);
			if (!ok)
				BAD(ix, k, "unknown key '%s' (known: point, side, mode, nth, probability, seed, errno, when)", k);
		}
		const char *point = json_string_value(json_object_get(e, "point"));
		if (!point || !*point)
			BAD(ix, "point", "required key 'point' is missing or not a string");
		bool code = code_point(point) >= 0;
		bool posix = !strncmp(point, "posix/", 6) || !strncmp(point, "libc/", 5);
		if (!code && !posix) {
			char list[2048] = "";
			for (int p = 0; p < FLT_POINT_COUNT_; p++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, "%s%s", p ? ", " : "", flt_point_name((flt_point)p));
			}
			BAD(ix, "point", "unknown point '%s' (in-code points: %s; or a libfiu posix/… or libc/… point)",
			    point, list);
		}
		const char *side = json_object_get(e, "side") ? json_string_value(json_object_get(e, "side"))
							       : "supervisor";
		if (!side || (strcmp(side, "supervisor") && strcmp(side, "agent") && strcmp(side, "both")))
			BAD(ix, "side", "side must be supervisor, agent or both");
		if (code && strcmp(side, "supervisor"))
			BAD(ix, "side", "'%s' is an in-code point of the supervisor: side must be supervisor", point);
		const char *mode = json_object_get(e, "mode") ? json_string_value(json_object_get(e, "mode"))
							       : "always";
		if (!mode || (strcmp(mode, "always") && strcmp(mode, "once") && strcmp(mode, "nth") &&
			      strcmp(mode, "probability")))
			BAD(ix, "mode", "mode must be always, once, nth or probability");
		json_t *n = json_object_get(e, "nth"), *pr = json_object_get(e, "probability"),
		       *sd = json_object_get(e, "seed");
		if (!strcmp(mode, "nth") && (!json_is_integer(n) || json_integer_value(n) < 1))
			BAD(ix, "nth", "mode nth needs 'nth', an integer >= 1");
		if (strcmp(mode, "nth") && n)
			BAD(ix, "nth", "'nth' only applies to mode nth");
		if (!strcmp(mode, "probability") &&
		    (!json_is_number(pr) || json_number_value(pr) < 0 || json_number_value(pr) > 1))
			BAD(ix, "probability", "mode probability needs 'probability', a number in 0..1");
		if (strcmp(mode, "probability") && pr)
			BAD(ix, "probability", "'probability' only applies to mode probability");
		if (sd && (!json_is_integer(sd) || json_integer_value(sd) < 0))
			BAD(ix, "seed", "'seed' must be a non-negative integer");
		if (!code && strcmp(side, "supervisor") && !strcmp(mode, "nth"))
			BAD(ix, "mode", "mode nth is not available for posix points on side %s (libfiu's preload "
			    "has no counting mode there; use once, always or probability)", side);
		json_t *ej = json_object_get(e, "errno");
		int en = 0;
		if (json_is_integer(ej))
			en = (int)json_integer_value(ej);
		else if (json_is_string(ej))
			en = flt_errno_from_name(json_string_value(ej));
		if (ej && (en <= 0 || en >= 4096))
			BAD(ix, "errno", "errno must be a name like ECONNREFUSED or a positive number");
		if (!ej && code)
			en = flt_point_errno((flt_point)code_point(point));
		json_t *w = json_object_get(e, "when");
		const char *after = NULL;
		if (w) {
			const char *wk;
			json_t *wv;
			json_object_foreach(w, wk, wv)
				if (strcmp(wk, "after_event"))
					BAD(ix, "when", "when takes one key, after_event");
			after = json_string_value(json_object_get(w, "after_event"));
			if (!json_is_object(w) || !after || !*after)
				BAD(ix, "when", "when must be {after_event: EVENT_NAME}");
		}
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "point", point, "kind", code ? "code" : "posix",
				      "side", side, "mode", mode, "seed", sd ? json_integer_value(sd) : (json_int_t)0);
		if (n)
			json_object_set(o, "nth", n);
		if (pr)
			json_object_set(o, "probability", pr);
		json_object_set_new(o, "errno", en ? json_integer(en) : json_null());
		json_object_set_new(o, "errno_name", en && flt_errno_name(en) ? json_string(flt_errno_name(en)) : json_null());
		json_object_set_new(o, "when", after ? json_pack("{s:s}", "after_event", after) : json_null());
		json_array_append_new(out, o);
	}
	*norm = out;
	return 0;
}

/* ---- applying a plan ------------------------------------------------------- */

/* The entry neira-host's runtime (faults/flt_runtime.c) takes. */
static json_t *host_entry(const json_t *f)
{
	json_t *o = json_pack("{s:O, s:O, s:O, s:O}", "point", json_object_get(f, "point"), "mode",
			      json_object_get(f, "mode"), "seed", json_object_get(f, "seed"), "errno",
			      json_object_get(f, "errno"));
	if (json_object_get(f, "nth"))
		json_object_set(o, "nth", json_object_get(f, "nth"));
	if (json_object_get(f, "probability"))
		json_object_set(o, "probability", json_object_get(f, "probability"));
	return o;
}

/* One libfiu remote-control / FIU_ENABLE command (fiu-run syntax). */
static void fiu_command(const json_t *f, char *buf, size_t len)
{
	const char *mode = json_string_value(json_object_get(f, "mode"));
	json_t *en = json_object_get(f, "errno");
	char info[32] = "";
	if (json_is_integer(en))
		snprintf(info, sizeof(info), ",failinfo=%lld", (long long)json_integer_value(en));
	if (!strcmp(mode, "probability"))
		snprintf(buf, len, "enable_random name=%s,probability=%g%s",
			 json_string_value(json_object_get(f, "point")),
			 json_number_value(json_object_get(f, "probability")), info);
	else
		snprintf(buf, len, "enable name=%s%s%s", json_string_value(json_object_get(f, "point")), info,
			 !strcmp(mode, "once") ? ",onetime" : "");
}

static bool on_side(const json_t *f, const char *side)
{
	const char *s = json_string_value(json_object_get(f, "side"));
	return !strcmp(s, side) || !strcmp(s, "both");
}

static void add_env(char ***envp, size_t *n, const char *k, const char *v)
{
	size_t l = strlen(k) + strlen(v) + 2;
	char *s = malloc(l);
	if (!s)
		return;
	snprintf(s, l, "%s=%s", k, v);
	(*envp)[(*n)++] = s;
}

int hx_faults_setup(hx_faults *fx, const json_t *faults, const char *dir, const char *agent_path,
		    char ***envp, size_t *n_env, char **host_agent, char *err, size_t errlen)
{
	memset(fx, 0, sizeof(*fx));
	fx->pending = json_array();
	fx->agent_pid = 0;
	if (!json_array_size(faults))
		return 0;
	json_t *host_plan = json_array();
	char agent_en[8192] = "";
	bool host_preload = false, agent_posix = false, agent_ctrl = false;
	size_t i;
	json_t *f;
	json_array_foreach(faults, i, f) {
		bool code = !strcmp(json_string_value(json_object_get(f, "kind")), "code");
		bool later = !json_is_null(json_object_get(f, "when"));
		if (later && !code && on_side(f, "agent"))
			json_array_append(fx->pending, (json_t *)f);
		if (on_side(f, "supervisor")) {
			if (!code)
				host_preload = true;
			/* a `when` on the supervisor side is started by
			 * neira-host itself, at the event (flt_on_event) */
			json_t *he = host_entry(f);
			if (later)
				json_object_set(he, "after_event",
						json_object_get(json_object_get(f, "when"), "after_event"));
			json_array_append_new(host_plan, he);
		}
		if (!code && on_side(f, "agent")) {
			agent_posix = true;
			if (later) {
				agent_ctrl = true;
			} else {
				size_t l = strlen(agent_en);
				fiu_command(f, agent_en + l + (l ? 1 : 0), sizeof(agent_en) - l - 1);
				if (l)
					agent_en[l] = '\n';
			}
		}
	}
	/* the FIFOs of libfiu's remote control live next to the scenario dir,
	 * not in it: the stray-file invariant must not see them */
	snprintf(fx->ctrl_dir, sizeof(fx->ctrl_dir), "%s-fiu", dir);
	if (agent_ctrl && mkdir(fx->ctrl_dir, 0700) < 0) {
		snprintf(err, errlen, "mkdir %s: %s", fx->ctrl_dir, strerror(errno));
		json_decref(host_plan);
		return -errno;
	}
	if (!agent_ctrl)
		fx->ctrl_dir[0] = '\0';
	if (json_array_size(host_plan)) {
		char *t = json_dumps(host_plan, JSON_COMPACT);
		add_env(envp, n_env, "NEIRA_FAULTS", t ? t : "[]");
		free(t);
	}
	json_decref(host_plan);
	if (host_preload) {
		add_env(envp, n_env, "LD_PRELOAD", HX_FIU_DIR "/fiu_run_preload.so " HX_FIU_DIR "/fiu_posix_preload.so");
		add_env(envp, n_env, "FIU_ENABLE", "");
		add_env(envp, n_env, "FIU_CTRL_FIFO", "");
	}
	if (host_preload || agent_posix) {
		/* the agent goes through neira-fault-exec: the supervisor's
		 * preload must not leak to it (L3 passes the environment on) */
		const char *fe = getenv("NEIRA_FAULT_EXEC");
		add_env(envp, n_env, "NEIRA_FAULT_EXEC_AGENT", agent_path);
		if (agent_posix)
			add_env(envp, n_env, "NEIRA_FAULT_AGENT_ENABLE", agent_en);
		if (agent_ctrl) {
			char p[sizeof(fx->ctrl_dir) + 8];
			snprintf(p, sizeof(p), "%s/agent", fx->ctrl_dir);
			add_env(envp, n_env, "NEIRA_FAULT_AGENT_CTRL", p);
		}
		*host_agent = strdup(fe && *fe ? fe : HX_FAULT_EXEC);
	}
	return 0;
}

/* Send one command to the agent's libfiu remote control and read its reply
 * (0 = done). Bounded: 2 s. */
static int agent_ctrl(hx_faults *fx, const char *cmd)
{
	char in[800], out[800];
	snprintf(in, sizeof(in), "%s/agent-%d.in", fx->ctrl_dir, (int)fx->agent_pid);
	snprintf(out, sizeof(out), "%s/agent-%d.out", fx->ctrl_dir, (int)fx->agent_pid);
	int ofd = open(out, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (ofd < 0)
		return -errno;
	int ifd = open(in, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (ifd < 0) {
		int e = -errno;
		close(ofd);
		return e;
	}
	char line[600];
	int l = snprintf(line, sizeof(line), "%s\n", cmd);
	ssize_t w = write(ifd, line, (size_t)l);
	close(ifd);
	int rc = w == l ? -ETIMEDOUT : -EIO;
	double end = hx_now_ms() + 2000;
	while (w == l && hx_now_ms() < end) {
		struct pollfd p = { .fd = ofd, .events = POLLIN };
		if (poll(&p, 1, (int)(end - hx_now_ms()) + 1) <= 0)
			continue;
		char r[32];
		ssize_t n = read(ofd, r, sizeof(r) - 1);
		if (n > 0) {
			r[n] = '\0';
			rc = atoi(r) == 0 ? 0 : -EIO;
			break;
		}
	}
	close(ofd);
	return rc;
}

void hx_faults_on_event(hx_faults *fx, const json_t *ev, int (*send)(void *ud, json_t *cmd), void *ud)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (!name || !fx->pending)
		return;
	if (!strcmp(name, "spawn"))
		fx->agent_pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
	size_t i = 0;
	while (i < json_array_size(fx->pending)) {
		json_t *f = json_array_get(fx->pending, i);
		if (strcmp(json_string_value(json_object_get(json_object_get(f, "when"), "after_event")), name)) {
			i++;
			continue;
		}
		(void)send; /* supervisor-side faults start inside neira-host */
		(void)ud;
		if (!strcmp(json_string_value(json_object_get(f, "kind")), "posix") && on_side(f, "agent") &&
		    fx->agent_pid > 0 && fx->ctrl_dir[0]) {
			char c[600];
			fiu_command(f, c, sizeof(c));
			int rc = agent_ctrl(fx, c);
			fx->agent_ctrl_rc = rc;
			if (getenv("HX_FAULTS_DEBUG"))
				fprintf(stderr, "hx_faults: agent %d: %s -> %d\n", (int)fx->agent_pid, c, rc);
			if (rc < 0)
				fx->agent_ctrl_failures++;
		}
		json_array_remove(fx->pending, i);
	}
}

void hx_faults_cleanup(hx_faults *fx)
{
	if (fx->ctrl_dir[0]) {
		DIR *d = opendir(fx->ctrl_dir);
		if (d) {
			struct dirent *e;
			while ((e = readdir(d))) {
				char p[1200];
				if (e->d_name[0] == '.')
					continue;
				snprintf(p, sizeof(p), "%s/%s", fx->ctrl_dir, e->d_name);
				unlink(p);
			}
			closedir(d);
		}
		rmdir(fx->ctrl_dir);
		fx->ctrl_dir[0] = '\0';
	}
	json_decref(fx->pending);
	fx->pending = NULL;
}

/* ---- sweep and chaos ------------------------------------------------------- */

/* Run a scenario in a child process (it becomes a subreaper and must not
 * share our state), bounded by its timeout + 30 s. Returns the result. */
static json_t *run_isolated(const hx_scenario *sc, const hx_paths *paths)
{
	FILE *res = tmpfile(), *log = tmpfile();
	if (!res || !log) {
		if (res)
			fclose(res);
		if (log)
			fclose(log);
		return hx_result_error(sc->name, sc->file, "tmpfile failed");
	}
	fflush(stdout);
	fflush(stderr);
	double deadline = hx_now_ms() + (double)json_integer_value(json_object_get(sc->doc, "timeout_ms")) + 30000;
	pid_t pid = fork();
	if (pid == 0) {
		json_t *r = hx_run_scenario(sc, paths, false, log);
		json_dumpf(r, res, JSON_COMPACT);
		fflush(res);
		_exit(0);
	}
	json_t *r = NULL;
	if (pid > 0) {
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		while (pfd >= 0 && hx_now_ms() < deadline && poll(&p, 1, (int)(deadline - hx_now_ms()) + 1) == 0)
			;
		if (pfd < 0 || hx_now_ms() >= deadline)
			kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		if (pfd >= 0)
			close(pfd);
		rewind(res);
		json_error_t je;
		r = json_loadf(res, 0, &je);
		if (!r) {
			char m[128];
			snprintf(m, sizeof(m), "scenario runner died (%s %d) or hung",
				 WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
			r = hx_result_error(sc->name, sc->file, m);
		}
	} else {
		r = hx_result_error(sc->name, sc->file, "fork failed");
	}
	fclose(res);
	fclose(log);
	return r;
}

static json_t *last_reply(const json_t *res, const char *kind)
{
	json_t *last = NULL;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(res, "replies"), i, r)
		if (!strcmp(json_string_value(json_object_get(r, "reply")) ?: "", kind))
			last = r;
	return last;
}

/* The fault-run invariants on a result: every harness invariant held, the
 * run finished (no timeout, no missing reply), the supervisor ended ready
 * or mock, and a mock carries a structured error with an operation and an
 * errno or exit status. Returns true if all held; `why` says what did not,
 * `outcome` is a short cell for the table. */
static bool check_fault_run(const json_t *res, char *why, size_t whylen, char *outcome, size_t olen)
{
	why[0] = '\0';
	size_t i;
	json_t *iv;
	json_array_foreach(json_object_get(res, "invariants"), i, iv)
		if (strcmp(json_string_value(json_object_get(iv, "verdict")), "pass")) {
			size_t l = strlen(why);
			snprintf(why + l, whylen - l, "%s%s: %s", l ? "; " : "",
				 json_string_value(json_object_get(iv, "name")),
				 json_string_value(json_object_get(iv, "message")));
		}
	const char *err = json_string_value(json_object_get(res, "error"));
	if (err) {
		size_t l = strlen(why);
		snprintf(why + l, whylen - l, "%s%s", l ? "; " : "", err);
	}
	json_t *snap = last_reply(res, "snapshot");
	const char *mode = json_string_value(json_object_get(snap, "mode"));
	json_t *e = json_object_get(snap, "error");
	if (!mode) {
		snprintf(outcome, olen, "no-mode");
		if (!why[0])
			snprintf(why, whylen, "no final snapshot");
		return false;
	}
	if (!strcmp(mode, "mock")) {
		const char *reason = json_string_value(json_object_get(snap, "reason"));
		json_t *ctx = json_object_get(e, "context");
		const char *en = json_string_value(json_object_get(ctx, "errno"));
		bool has_cause = en || json_object_get(ctx, "exit_code") || json_object_get(ctx, "signal") ||
				 json_object_get(ctx, "status");
		const char *m = json_string_value(json_object_get(e, "message"));
		snprintf(outcome, olen, "mock %s %s", reason ? reason : "?", en ? en : "");
		if (!m || !*m || !has_cause) {
			size_t l = strlen(why);
			snprintf(why + l, whylen - l, "%smock without a structured error naming the operation and "
				 "its errno/status (error: %s)", l ? "; " : "", m ? m : "null");
		}
	} else {
		snprintf(outcome, olen, "%s", mode);
	}
	return !why[0];
}

static json_t *fault_counts(const json_t *res, const char *point)
{
	json_t *snap = last_reply(res, "snapshot");
	return json_object_get(json_object_get(snap, "faults"), point);
}

static void usage_faults(FILE *f)
{
	fprintf(f, "Usage: neira-harness sweep SCENARIO [--points GLOB] [--max-nth K] [-v]\n"
		   "       neira-harness chaos --seed S --runs N [--time-budget SEC] [--out DIR] [-v]\n");
}

static int cmd_sweep(int argc, char **argv, const char *dir, const hx_paths *paths)
{
	const char *name = NULL, *glob = "*";
	long kmax = 3;
	bool verbose = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--points") && i + 1 < argc)
			glob = argv[++i];
		else if (!strcmp(argv[i], "--max-nth") && i + 1 < argc)
			kmax = atol(argv[++i]);
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			usage_faults(stderr);
			return 2;
		}
	}
	if (!name || kmax < 1) {
		usage_faults(stderr);
		return 2;
	}
	char path[4096], err[1024];
	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
	hx_scenario *sc;
	if (hx_scenario_load(path, &sc, err, sizeof(err)) < 0) {
		fprintf(stderr, "neira-harness: %s\n", err);
		return 2;
	}
	/* the sweep checks invariants, not the scenario's own expectations:
	 * a failing point is supposed to change the outcome */
	json_object_set_new(sc->doc, "expect", json_object());
	json_object_set_new(sc->doc, "timeout_ms", json_integer(20000));
	printf("sweep %s: in-code points matching '%s', n = 1..%ld\n", sc->name, glob, kmax);
	printf("%-30s %3s  %-8s %-34s %s\n", "point", "n", "fired", "outcome", "verdict");
	int runs = 0, bad = 0, unreached = 0;
	double t0 = hx_now_ms();
	for (int p = 0; p < FLT_POINT_COUNT_; p++) {
		const char *pn = flt_point_name((flt_point)p);
		if (fnmatch(glob, pn, 0))
			continue;
		for (long n = 1; n <= kmax; n++) {
			json_t *plan = json_pack("[{s:s, s:s, s:s, s:i, s:I, s:o, s:n, s:n}]", "point", pn, "kind", "code",
						 "side", "supervisor", "seed", 0, "nth", (json_int_t)n, "errno",
						 flt_point_errno((flt_point)p) ? json_integer(flt_point_errno((flt_point)p))
									       : json_null(),
						 "errno_name", "when");
			json_object_set_new(json_array_get(plan, 0), "mode", json_string("nth"));
			json_object_set_new(sc->doc, "faults", plan);
			json_t *res = run_isolated(sc, paths);
			runs++;
			char why[2048], outcome[128];
			bool ok = check_fault_run(res, why, sizeof(why), outcome, sizeof(outcome));
			json_t *fc = fault_counts(res, pn);
			long fired = (long)json_integer_value(json_object_get(fc, "fired"));
			long calls = (long)json_integer_value(json_object_get(fc, "calls"));
			char fcell[32];
			snprintf(fcell, sizeof(fcell), fc ? "%ld/%ld" : "?", fired, calls);
			printf("%-30s %3ld  %-8s %-34s %s%s%s\n", pn, n, fcell, outcome, ok ? "ok" : "VIOLATION",
			       ok ? "" : ": ", ok ? "" : why);
			if (!ok && verbose)
				hx_print_timeline(res, stdout);
			fflush(stdout);
			bad += !ok;
			json_decref(res);
			if (fc == NULL || fired == 0) {
				unreached++;
				break; /* the point is not reached n times: larger n would not fire either */
			}
		}
	}
	printf("sweep: %d run(s), %d violation(s), %d point(s) reached fewer than --max-nth times (%.1f s)\n",
	       runs, bad, unreached, (hx_now_ms() - t0) / 1000.0);
	hx_scenario_free(sc);
	return bad ? 1 : 0;
}

/* ---- chaos ---------------------------------------------------------------- */

static uint64_t rnd(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long pick(uint64_t *x, long n)
{
	return (long)(rnd(x) % (uint64_t)n);
}

/* Presets that end in a bounded time with the chaos config below. */
static const char *const chaos_presets[] = {
	"well-behaved", "never-ready", "wrong-case-methods", "both-case", "no-methods", "crash-mid-call",
	"flaky-health", "unhealthy-forever", "exits-early", "dies-after-ready", "lies-ready", "stale-socket",
	"impostor-garbage", "split-marker", "noisy-stdout", "slow-shutdown",
};

/* A random scenario in scenario-file syntax (JSON is YAML). */
static json_t *chaos_scenario(uint64_t seed, int run)
{
	uint64_t x = seed * 1000003u + (uint64_t)run;
	rnd(&x);
	char name[64];
	snprintf(name, sizeof(name), "chaos-%llu-%d", (unsigned long long)seed, run);
	const char *preset = chaos_presets[pick(&x, (long)(sizeof(chaos_presets) / sizeof(chaos_presets[0])))];
	json_t *agent = json_pack("{s:s, s:s}", "kind", "fake", "preset", preset);
	if (pick(&x, 3) == 0) { /* a random tweak on top of the preset */
		static const char *const tweaks[] = {
			"{\"bind_delay_ms\": 150}", "{\"marker\": \"split\"}", "{\"marker\": \"crlf\"}",
			"{\"health\": {\"unhealthy_first\": 1}}", "{\"health\": {\"delay_ms\": 200}}",
			"{\"stderr_lines\": [\"warming up\"]}",
		};
		json_t *t = json_loads(tweaks[pick(&x, (long)(sizeof(tweaks) / sizeof(tweaks[0])))], 0, NULL);
		json_object_set_new(agent, "script", t);
	}
	json_t *faults = json_array();
	long nf = 1 + pick(&x, 2);
	for (long i = 0; i < nf; i++) {
		flt_point p = (flt_point)pick(&x, FLT_POINT_COUNT_);
		json_t *f = json_pack("{s:s}", "point", flt_point_name(p));
		long m = pick(&x, 4);
		/* "always" on an EINTR point is a livelock no kernel produces:
		 * keep the error points bounded (nth/once/probability) */
		if (m == 0 && flt_point_errno(p) != EINTR && p != FLT_SUP_LOOP_POLL) {
			json_object_set_new(f, "mode", json_string("always"));
		} else if (m == 1) {
			json_object_set_new(f, "mode", json_string("once"));
		} else if (m == 2 || m == 0) {
			json_object_set_new(f, "mode", json_string("nth"));
			json_object_set_new(f, "nth", json_integer(1 + pick(&x, 4)));
		} else {
			json_object_set_new(f, "mode", json_string("probability"));
			json_object_set_new(f, "probability", json_real((double)(1 + pick(&x, 5)) / 10.0));
			json_object_set_new(f, "seed", json_integer(pick(&x, 1000000)));
		}
		if (pick(&x, 4) == 0)
			json_object_set_new(f, "when", json_pack("{s:s}", "after_event", "ready"));
		json_array_append_new(faults, f);
	}
	return json_pack("{s:s, s:s, s:[s], s:o, s:{s:s, s:s, s:s, s:s, s:s}, s:o, s:[s, {s:{s:s, s:s}}, "
			 "{s:{s:s}}, s], s:i, s:{s:[{s:s}]}}",
			 "name", name, "description", "chaos run: random fake agent x random fault plan",
			 "clauses", "K2", "agent", agent, "config", "ready_timeout_ms", "1000",
			 "health_base_delay_ms", "50", "health_deadline_ms", "500", "shutdown_grace_ms", "500",
			 "call_deadline_ms", "1000", "faults", faults, "actions", "init", "call", "method",
			 "process_prompt", "prompt", "chaos", "call", "method", "health", "stop", "timeout_ms", 20000,
			 "expect", "events", "event", "init_start");
}

/* Parse + run a chaos scenario source; NULL result if it does not parse. */
static json_t *chaos_run(json_t *src, const hx_paths *paths, char *why, size_t whylen, char *outcome,
			 size_t olen, bool *ok)
{
	char *text = json_dumps(src, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	hx_scenario *sc = NULL;
	char err[1024];
	/* the source expects only init_start (a scenario must check
	 * something, and a reproducer file must parse); chaos itself checks
	 * the fault-run invariants */
	int rc = hx_scenario_parse("chaos", text, strlen(text), &sc, err, sizeof(err));
	free(text);
	if (rc < 0) {
		snprintf(why, whylen, "generated scenario does not parse: %s", err);
		*ok = false;
		return NULL;
	}
	json_t *res = run_isolated(sc, paths);
	*ok = check_fault_run(res, why, whylen, outcome, olen);
	hx_scenario_free(sc);
	return res;
}

static int cmd_chaos(int argc, char **argv, const hx_paths *paths)
{
	unsigned long long seed = 1;
	long runs = 10;
	double budget = 0;
	const char *outdir = ".";
	bool verbose = false, have_seed = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
			have_seed = true;
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--time-budget") && i + 1 < argc) {
			budget = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			outdir = argv[++i];
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else {
			usage_faults(stderr);
			return 2;
		}
	}
	if (!have_seed || runs < 1) {
		usage_faults(stderr);
		return 2;
	}
	double t0 = hx_now_ms();
	int bad = 0, done = 0;
	printf("chaos --seed %llu --runs %ld%s\n", seed, runs, budget > 0 ? " (time budget set)" : "");
	for (long r = 0; r < runs; r++) {
		if (budget > 0 && hx_now_ms() - t0 > budget * 1000) {
			printf("time budget of %.0f s used up after %d run(s)\n", budget, done);
			break;
		}
		json_t *src = chaos_scenario(seed, (int)r);
		char why[2048] = "", outcome[128] = "";
		bool ok;
		json_t *res = chaos_run(src, paths, why, sizeof(why), outcome, sizeof(outcome), &ok);
		done++;
		char *plan = json_dumps(json_object_get(src, "faults"), JSON_COMPACT);
		printf("[%ld] %-18s %-34s %s %s\n", r, json_string_value(json_object_get(json_object_get(src, "agent"), "preset")),
		       outcome, ok ? "ok" : "VIOLATION", plan ? plan : "");
		free(plan);
		if (!ok) {
			bad++;
			printf("    %s\n", why);
			if (verbose && res)
				hx_print_timeline(res, stdout);
			/* minimise: the agent's tweak and each fault alone, keep
			 * the smallest plan that still fails */
			json_t *faults = json_object_get(src, "faults");
			for (size_t i = 0; json_array_size(faults) > 1 && i < json_array_size(faults);) {
				json_t *trial = json_deep_copy(src);
				json_array_remove(json_object_get(trial, "faults"), i);
				char w2[2048], o2[128];
				bool ok2;
				json_t *r2 = chaos_run(trial, paths, w2, sizeof(w2), o2, sizeof(o2), &ok2);
				json_decref(r2);
				if (!ok2) {
					json_decref(src);
					src = trial;
					faults = json_object_get(src, "faults");
				} else {
					json_decref(trial);
					i++;
				}
			}
			const char *nm = json_string_value(json_object_get(src, "name"));
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s.yaml", outdir, nm);
			json_object_set_new(src, "description",
					    json_sprintf("chaos failure, seed %llu run %ld: %s", seed, r, why));
			if (json_dump_file(src, p, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
				printf("    seed %llu run %ld: reproduce with: neira-harness run %s\n", seed, r, p);
		}
		json_decref(res);
		json_decref(src);
		fflush(stdout);
	}
	printf("chaos: seed %llu, %d run(s), %d violation(s) (%.1f s)\n", seed, done, bad, (hx_now_ms() - t0) / 1000.0);
	return bad ? 1 : 0;
}

int hx_faults_main(const char *cmd, int argc, char **argv, const char *dir, const hx_paths *paths)
{
	if (!strcmp(cmd, "sweep"))
		return cmd_sweep(argc, argv, dir, paths);
	return cmd_chaos(argc, argv, paths);
}
