/* ac_checks: every agent-side check, declared once in AC_CHECKS (name,
 * clause, need, what) and run in that order. Most checks share one "main"
 * agent run, started and observed the way a conforming supervisor does
 * (L3 environment, NEIRA_SOCKET_PATH in a private 0700 directory, no
 * arguments); the S1 variants, the start/stop cycles and the fault check start
 * agents of their own. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <protobuf-c/protobuf-c.h>

#include "ac_internal.h"
#include "agent.pb-c.h"
#include "health.pb-c.h"

#define SVC "/neira.agent.v1.PythonAgent/"
#define STD_HEALTH "/grpc.health.v1.Health/"
#define DEFAULT_SOCK_NAME "neira_agent.sock"
#define FOUR_MB 4000000
#define SLOW_CALLS 64          /* more than a plausible worker pool */
#define SLOW_DEADLINE_MS 300

typedef enum { SESSION_MAIN, SESSION_OWN } ac_session;

typedef struct ac_run ac_run;
typedef void (*ac_check_fn)(ac_run *r, ac_result *res);

/* ---- the registry ------------------------------------------------------------ */

#define AC_CHECKS(X)                                                                                   \
	X(marker_after_listen, "marker-after-listen", "A1", AC_REQUIRED, SESSION_MAIN,                \
	  "AGENT_READY is printed only once the socket accepts connections (connect() raced "        \
	  "against the marker from the spawn)")                                                        \
	X(marker_exact, "marker-exact", "A1", AC_REQUIRED, SESSION_MAIN,                              \
	  "the marker line is exactly AGENT_READY\\n, printed once")                                   \
	X(binds_socket_path, "binds-NEIRA_SOCKET_PATH", "S1", AC_REQUIRED, SESSION_MAIN,               \
	  "the agent binds exactly $NEIRA_SOCKET_PATH and nothing else in its directory")             \
	X(health_check, "HealthCheck", "A2", AC_REQUIRED, SESSION_MAIN,                               \
	  "HealthCheck under its PascalCase path: healthy=1, message=2, version=3 by the contract")    \
	X(process_prompt, "ProcessPrompt", "A2", AC_REQUIRED, SESSION_MAIN,                           \
	  "ProcessPrompt: text=1, request_id=2 echoed")                                                \
	X(call_function, "CallCustomFunction", "A2", AC_REQUIRED, SESSION_MAIN,                       \
	  "CallCustomFunction: result_json=1 is JSON, request_id=2 echoed (or a clean error status)") \
	X(unknown_method, "unknown-method", "A3", AC_REQUIRED, SESSION_MAIN,                          \
	  "an unknown method or service is answered UNIMPLEMENTED promptly, not a hang or a crash")   \
	X(casings, "casings-served", "A2", AC_INFORMATIVE, SESSION_MAIN,                              \
	  "which method-name casings the agent serves (PascalCase is the contract)")                  \
	X(std_health_check, "grpc.health.v1-Check", "A4", AC_OPTIONAL, SESSION_MAIN,                 \
	  "grpc.health.v1.Health/Check answers SERVING (absent = not served, not a failure)")         \
	X(std_health_watch, "grpc.health.v1-Watch", "A4", AC_OPTIONAL, SESSION_MAIN,                 \
	  "grpc.health.v1.Health/Watch sends SERVING at once (absent = not served)")                  \
	X(concurrent_calls, "concurrent-calls", "A2", AC_REQUIRED, SESSION_MAIN,                      \
	  "N concurrent ProcessPrompt calls all answered, each with its own request_id")             \
	X(deadline_cancel, "deadline-cancelled", "A2", AC_REQUIRED, SESSION_MAIN,                     \
	  "calls past their deadline are cancelled on the agent side: their workers come back")      \
	X(large_message, "4MB-message", "A2", AC_REQUIRED, SESSION_MAIN,                               \
	  "a 4 MB request is served, and its 4 MB reply arrives")                                      \
	X(malformed, "malformed-protobuf", "A2", AC_REQUIRED, SESSION_MAIN,                           \
	  "malformed protobuf bytes get an error status, and the agent keeps serving")                \
	X(sigterm, "sigterm-clean-exit", "L7", AC_REQUIRED, SESSION_MAIN,                             \
	  "SIGTERM: exit 0 within the grace period, socket removed, no process left")                 \
	X(logs_to_stderr, "logs-to-stderr", "A3", AC_REQUIRED, SESSION_MAIN,                          \
	  "stdout carries the marker only; logs go to stderr")                                         \
	X(tmpdir_default, "default-path-TMPDIR", "S1", AC_REQUIRED, SESSION_OWN,                      \
	  "without NEIRA_SOCKET_PATH: $TMPDIR (trailing slashes removed)/neira_agent.sock")           \
	X(tmp_fallback, "default-path-/tmp", "S1", AC_REQUIRED, SESSION_OWN,                          \
	  "without NEIRA_SOCKET_PATH and TMPDIR: /tmp/neira_agent.sock (a private /tmp)")              \
	X(long_path, "path-107-bytes", "S1", AC_REQUIRED, SESSION_OWN,                                 \
	  "a NEIRA_SOCKET_PATH of 107 bytes, the sun_path limit (S3), is bound and served")           \
	X(cycles, "start-stop-cycles", "L7", AC_REQUIRED, SESSION_OWN,                                \
	  "repeated start/SIGTERM cycles leak nothing: no process, socket file or descriptor")        \
	X(listen_fault, "listen-EADDRINUSE", "A1", AC_REQUIRED, SESSION_OWN,                           \
	  "listen() fails with EADDRINUSE (libfiu preload): exit non-zero with a message, no marker")

#define AC__DECL(fn, name, clause, need, session, what) static void chk_##fn(ac_run *r, ac_result *res);
AC_CHECKS(AC__DECL)
#undef AC__DECL

static const struct {
	ac_check_def def;
	ac_session session;
	ac_check_fn fn;
} checks[] = {
#define AC__ROW(fn, name, clause, need, session, what) { { name, clause, need, what }, session, chk_##fn },
	AC_CHECKS(AC__ROW)
#undef AC__ROW
};
#define N_CHECKS (sizeof(checks) / sizeof(checks[0]))

size_t ac_check_count(void)
{
	return N_CHECKS;
}

const ac_check_def *ac_check_get(size_t i)
{
	return i < N_CHECKS ? &checks[i].def : NULL;
}

const char *ac_verdict_name(ac_verdict v)
{
	static const char *const n[] = { "PASS", "FAIL", "ABSENT", "SKIP", "INFO" };
	return (unsigned)v < 5 ? n[v] : "?";
}

/* ---- the run ------------------------------------------------------------------ */

/* What the start of an agent looked like from outside (A1). */
typedef struct ac_obs {
	int64_t t_connect_us;    /* first successful connect() from spawn; -1 never */
	bool connect_at_marker;  /* a connect() right as the marker arrived succeeded */
	int last_connect_err;    /* errno of the last failed probe */
	bool ready;              /* marker seen and the socket accepts */
} ac_obs;

struct ac_run {
	const ac_config *cfg;
	const ac_clock *clk;
	char dir[128];       /* private 0700 directory for this run (short: S1 long-path) */
	char sock[PATH_MAX]; /* the main session's NEIRA_SOCKET_PATH */
	ac_agent main;
	ac_obs main_obs;
	bool main_started;
	char main_err[600]; /* why the main session is not usable ("" = it is) */
	rpc_client *client;
	unsigned req_seq;
};

static int64_t ms_us(const ac_run *r, double ms)
{
	return (int64_t)(ms * r->cfg->scale * 1000.0);
}

static void setf(ac_result *res, ac_verdict v, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void setf(ac_result *res, ac_verdict v, const char *fmt, ...)
{
	res->verdict = v;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->measured, sizeof(res->measured), fmt, ap);
	va_end(ap);
}

static void expect(ac_result *res, const char *text)
{
	snprintf(res->expected, sizeof(res->expected), "%s", text);
}

static const char *errname(int e)
{
	const char *n = strerrorname_np(e < 0 ? -e : e);
	return n ? n : "E?";
}

static double us_ms(int64_t us)
{
	return (double)us / 1000.0;
}

/* The stderr tail's last line, for "with a message" and failures. */
static void last_stderr_line(const ac_agent *a, char *buf, size_t len)
{
	size_t n = a->err_len;
	while (n > 0 && (a->err_tail[n - 1] == '\n' || a->err_tail[n - 1] == '\r'))
		n--;
	size_t s = n;
	while (s > 0 && a->err_tail[s - 1] != '\n')
		s--;
	snprintf(buf, len, "%.*s", (int)(n - s > 200 ? 200 : n - s), a->err_tail + s);
}

/* Spawn and observe until the marker is out and the socket accepts (or the
 * deadline, or the agent exits). With `probe`, a connect() is tried at each
 * output event and every millisecond until it succeeds, so that a marker
 * printed before listen() is caught with the gap measured (A1). */
static int observe_start(ac_run *r, ac_agent *a, const char *probe, int64_t deadline, ac_obs *o)
{
	*o = (ac_obs){ .t_connect_us = -1 };
	bool marker_handled = false;
	int64_t gap_deadline = deadline;
	for (;;) {
		if (a->marker_count > 0 && o->t_connect_us >= 0)
			break;
		if (a->exited)
			break;
		int left = ac_ms_left(r->clk, a->marker_count ? gap_deadline : deadline);
		if (left == 0)
			break;
		int rc = ac_agent_pump(a, probe && o->t_connect_us < 0 ? 1 : left);
		if (rc < 0)
			return rc;
		if (probe && o->t_connect_us < 0) {
			int c = ac_probe_connect(probe);
			if (c == 0)
				o->t_connect_us = ac_now_us(r->clk) - a->t_spawn_us;
			else
				o->last_connect_err = -c;
		}
		if (a->marker_count > 0 && !marker_handled) {
			marker_handled = true;
			o->connect_at_marker = o->t_connect_us >= 0;
			/* measure the gap for up to 5 s past the marker */
			int64_t g = ac_now_us(r->clk) + ms_us(r, 5000);
			gap_deadline = g < deadline ? g : deadline;
			if (!probe)
				break;
		}
	}
	o->ready = a->marker_count > 0 && (!probe || o->t_connect_us >= 0) && !a->exited;
	return 0;
}

static void describe_not_ready(ac_run *r, const ac_agent *a, const ac_obs *o, int timeout_ms, char *buf,
			       size_t len)
{
	char ex[64], tail[256];
	ac_agent_exit_text(a, ex, sizeof(ex));
	last_stderr_line(a, tail, sizeof(tail));
	(void)r;
	if (a->exited && a->marker_count == 0)
		snprintf(buf, len, "agent ended (%s) %.1f ms after exec without AGENT_READY; stderr: \"%s\"",
			 ex, us_ms(a->t_exit_us), tail);
	else if (a->marker_count == 0)
		snprintf(buf, len, "no AGENT_READY within %d ms (%zu other stdout lines); stderr: \"%s\"",
			 timeout_ms, a->total_lines, tail);
	else if (o->t_connect_us < 0)
		snprintf(buf, len, "AGENT_READY at %.1f ms but the socket never accepted a connection: "
			 "connect: %s", us_ms(a->t_marker_us), errname(o->last_connect_err));
	else
		snprintf(buf, len, "agent ended (%s) right after it was ready", ex);
}

static int start_agent(ac_run *r, ac_agent *a, const ac_spawn_opts *so, const char *probe, ac_obs *o,
		       char *err, size_t errlen)
{
	int rc = ac_agent_spawn(a, so, r->clk, err, errlen);
	if (rc < 0)
		return rc;
	int timeout = (int)(r->cfg->ready_timeout_ms * r->cfg->scale);
	rc = observe_start(r, a, probe, ac_now_us(r->clk) + (int64_t)timeout * 1000, o);
	if (rc < 0) {
		snprintf(err, errlen, "poll the agent's pipes and pidfd: %s", strerror(-rc));
		return rc;
	}
	if (!o->ready)
		describe_not_ready(r, a, o, timeout, err, errlen);
	return 0;
}

static void start_main(ac_run *r)
{
	r->main_started = true;
	ac_spawn_opts so = { .argv = r->cfg->agent_argv, .socket_path = r->sock };
	char err[600] = "";
	int rc = start_agent(r, &r->main, &so, r->sock, &r->main_obs, err, sizeof(err));
	if (rc < 0 || !r->main_obs.ready) {
		snprintf(r->main_err, sizeof(r->main_err), "%s", err[0] ? err : "agent not ready");
		return;
	}
	rpc_client_opts co = RPC_CLIENT_OPTS_INIT;
	rc = rpc_client_new(r->sock, &co, &r->client);
	if (rc < 0)
		snprintf(r->main_err, sizeof(r->main_err), "grpc channel to unix:%.200s: %s", r->sock, strerror(-rc));
}

static void stop_main(ac_run *r)
{
	rpc_client_free(r->client);
	r->client = NULL;
	ac_agent_destroy(&r->main);
}

/* A unary call of the main session with the contract's message. */
static int call_msg(ac_run *r, const char *path, const ProtobufCMessage *m, double timeout_ms, rpc_result *out)
{
	size_t n = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf)
		return -ENOMEM;
	protobuf_c_message_pack(m, buf);
	int rc = rpc_client_call(r->client, path, buf, n, (int64_t)(timeout_ms * r->cfg->scale), out);
	free(buf);
	return rc;
}

static bool main_gone(ac_run *r, ac_result *res)
{
	ac_agent_pump(&r->main, 0);
	if (!r->main.exited)
		return false;
	char ex[64], tail[256];
	ac_agent_exit_text(&r->main, ex, sizeof(ex));
	last_stderr_line(&r->main, tail, sizeof(tail));
	setf(res, AC_FAIL, "the agent died (%s); stderr: \"%s\"", ex, tail);
	return true;
}

/* ---- A1 -------------------------------------------------------------------------------- */

static void chk_marker_after_listen(ac_run *r, ac_result *res)
{
	const ac_agent *a = &r->main;
	const ac_obs *o = &r->main_obs;
	expect(res, "a connect() succeeds at the moment AGENT_READY arrives");
	json_object_set_new(res->data, "exec_to_marker_ms", a->t_marker_us >= 0 ? json_real(us_ms(a->t_marker_us)) : json_null());
	json_object_set_new(res->data, "exec_to_listen_ms", o->t_connect_us >= 0 ? json_real(us_ms(o->t_connect_us)) : json_null());
	if (a->marker_count == 0 || (o->t_connect_us < 0 && !o->connect_at_marker && a->marker_count == 0)) {
		setf(res, AC_FAIL, "%s", r->main_err);
		return;
	}
	if (o->connect_at_marker) {
		setf(res, AC_PASS, "socket accepted %.1f ms after exec, AGENT_READY %.1f ms after exec (%.1f ms later)",
		     us_ms(o->t_connect_us), us_ms(a->t_marker_us), us_ms(a->t_marker_us - o->t_connect_us));
		return;
	}
	if (o->t_connect_us >= 0) {
		double gap = us_ms(o->t_connect_us - a->t_marker_us);
		json_object_set_new(res->data, "gap_ms", json_real(gap));
		setf(res, AC_FAIL, "AGENT_READY printed %.1f ms before the socket accepted connections "
		     "(marker %.1f ms, listen %.1f ms after exec)", gap, us_ms(a->t_marker_us), us_ms(o->t_connect_us));
		return;
	}
	setf(res, AC_FAIL, "AGENT_READY at %.1f ms, but the socket never accepted a connection (connect: %s)",
	     us_ms(a->t_marker_us), errname(o->last_connect_err));
}

static void chk_marker_exact(ac_run *r, ac_result *res)
{
	ac_agent *a = &r->main;
	expect(res, "one line \"AGENT_READY\\n\"");
	if (a->marker_count == 0) {
		setf(res, AC_FAIL, "no marker line: %s", r->main_err);
		return;
	}
	ac_agent_pump(a, 0);
	json_object_set_new(res->data, "line", json_string(a->marker_raw));
	json_object_set_new(res->data, "count", json_integer(a->marker_count));
	if (!a->marker_exact)
		setf(res, AC_FAIL, "marker line is \"%s\" (not exactly AGENT_READY\\n)", a->marker_raw);
	else if (a->marker_count > 1)
		setf(res, AC_FAIL, "AGENT_READY printed %d times", a->marker_count);
	else
		setf(res, AC_PASS, "\"%s\", once, after %zu other stdout line(s)", a->marker_raw, a->total_lines - 1);
}

/* ---- S1 -------------------------------------------------------------------------------- */

/* Names in dir (besides . and ..), comma separated. */
static int list_dir(const char *dir, char *buf, size_t len, int *count)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	buf[0] = '\0';
	*count = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		size_t k = strlen(buf);
		snprintf(buf + k, len - k, "%s%s", k ? ", " : "", e->d_name);
		(*count)++;
	}
	closedir(d);
	return 0;
}

static void chk_binds_socket_path(ac_run *r, ac_result *res)
{
	expect(res, "a socket at exactly $NEIRA_SOCKET_PATH, nothing else beside it");
	if (r->main_err[0]) {
		setf(res, AC_FAIL, "%s", r->main_err);
		return;
	}
	struct stat st;
	char names[512];
	int count = 0;
	list_dir(r->dir, names, sizeof(names), &count);
	json_object_set_new(res->data, "socket_path", json_string(r->sock));
	json_object_set_new(res->data, "dir_entries", json_string(names));
	if (lstat(r->sock, &st) < 0 || !S_ISSOCK(st.st_mode))
		setf(res, AC_FAIL, "%s is not a socket (%s); directory holds: %s", r->sock,
		     errno ? errname(errno) : "other file type", names);
	else if (count != 1)
		setf(res, AC_FAIL, "socket bound, but the directory also holds other files: %s", names);
	else
		setf(res, AC_PASS, "socket at %s (%zu bytes), accepting; nothing else created", r->sock, strlen(r->sock));
}

/* An agent of its own with the S1 environment given; expects its socket at
 * `seen` (the path as the checker sees it). */
static void s1_variant(ac_run *r, ac_result *res, const ac_spawn_opts *so, const char *seen, const char *desc)
{
	ac_agent a;
	ac_obs o;
	char err[600] = "";
	int rc = start_agent(r, &a, so, seen, &o, err, sizeof(err));
	json_object_set_new(res->data, "expected_socket", json_string(seen));
	if (rc < 0)
		setf(res, AC_FAIL, "%s", err);
	else if (!o.ready)
		setf(res, AC_FAIL, "%s: %s", desc, err);
	else
		setf(res, AC_PASS, "%s: socket at %s, accepting %.1f ms after exec", desc, seen, us_ms(o.t_connect_us));
	if (rc == 0 && !a.exited) {
		ac_agent_signal(&a, SIGTERM);
		ac_agent_wait_exit(&a, ac_now_us(r->clk) + ms_us(r, r->cfg->grace_ms));
	}
	ac_agent_destroy(&a);
	unlink(seen); /* if the agent left it: reported by the L7 checks, not here */
}

static void chk_tmpdir_default(ac_run *r, ac_result *res)
{
	char tdir[160], tmpdir_env[200], seen[200];
	snprintf(tdir, sizeof(tdir), "%s/tmpdir", r->dir);
	if (mkdir(tdir, 0700) < 0 && errno != EEXIST) {
		setf(res, AC_SKIP, "mkdir %s: %s", tdir, strerror(errno));
		return;
	}
	snprintf(tmpdir_env, sizeof(tmpdir_env), "%s//", tdir); /* S1: trailing slashes removed */
	snprintf(seen, sizeof(seen), "%s/" DEFAULT_SOCK_NAME, tdir);
	expect(res, "socket at $TMPDIR/neira_agent.sock with TMPDIR's trailing slashes removed");
	ac_spawn_opts so = { .argv = r->cfg->agent_argv, .socket_path = NULL, .set_tmpdir = true,
			     .tmpdir = tmpdir_env };
	char desc[256];
	snprintf(desc, sizeof(desc), "TMPDIR=%s", tmpdir_env);
	s1_variant(r, res, &so, seen, desc);
	rmdir(tdir);
}

static void chk_tmp_fallback(ac_run *r, ac_result *res)
{
	char tdir[160], seen[200];
	snprintf(tdir, sizeof(tdir), "%s/private-tmp", r->dir);
	if (mkdir(tdir, 01777) < 0 && errno != EEXIST) {
		setf(res, AC_SKIP, "mkdir %s: %s", tdir, strerror(errno));
		return;
	}
	chmod(tdir, 01777);
	snprintf(seen, sizeof(seen), "%s/" DEFAULT_SOCK_NAME, tdir);
	expect(res, "socket at /tmp/neira_agent.sock (here: a private /tmp in a mount namespace)");
	ac_spawn_opts so = { .argv = r->cfg->agent_argv, .socket_path = NULL, .set_tmpdir = true, .tmpdir = NULL,
			     .private_tmp = tdir };
	ac_agent probe;
	char err[600] = "";
	/* can this machine give the agent a private /tmp at all? (a spawn that
	 * fails at unshare/mount says so before exec) */
	int rc = ac_agent_spawn(&probe, &so, r->clk, err, sizeof(err));
	ac_agent_destroy(&probe);
	unlink(seen);
	char topbuf[256], topdir[480] = "";
	if (ac__agent_tmp_top(r->cfg->agent_argv[0], topbuf, sizeof(topbuf))) /* the mount point made for it */
		snprintf(topdir, sizeof(topdir), "%s/%s", tdir, topbuf);
	if (rc < 0 && (strstr(err, "unshare") || strstr(err, "bind-mount"))) {
		setf(res, AC_SKIP, "cannot give the agent a private /tmp here (%s); the real /tmp is not touched", err);
	} else {
		s1_variant(r, res, &so, seen, "no NEIRA_SOCKET_PATH, no TMPDIR");
	}
	if (topdir[0])
		rmdir(topdir);
	rmdir(tdir);
}

static void chk_long_path(ac_run *r, ac_result *res)
{
	size_t max = rpc_socket_path_max(); /* 107 on Linux */
	char sub[160], path[PATH_MAX];
	snprintf(sub, sizeof(sub), "%s/l", r->dir);
	size_t base = strlen(sub) + 1; /* "<sub>/" */
	if (base + 6 > max) {
		setf(res, AC_SKIP, "private directory %s is too long to build a %zu-byte path in it", r->dir, max);
		return;
	}
	if (mkdir(sub, 0700) < 0 && errno != EEXIST) {
		setf(res, AC_SKIP, "mkdir %s: %s", sub, strerror(errno));
		return;
	}
	size_t name_len = max - base - 5; /* + ".sock" */
	char name[128];
	memset(name, 'x', name_len);
	name[name_len] = '\0';
	snprintf(path, sizeof(path), "%s/%s.sock", sub, name);
	expect(res, "the agent serves on a socket path of exactly the sun_path limit");
	json_object_set_new(res->data, "path_bytes", json_integer((json_int_t)strlen(path)));
	ac_spawn_opts so = { .argv = r->cfg->agent_argv, .socket_path = path };
	char desc[64];
	snprintf(desc, sizeof(desc), "NEIRA_SOCKET_PATH of %zu bytes", strlen(path));
	s1_variant(r, res, &so, path, desc);
	rmdir(sub);
}

/* ---- A2 -------------------------------------------------------------------------------- */

static bool need_main(ac_run *r, ac_result *res)
{
	if (r->main_err[0]) {
		setf(res, AC_FAIL, "not checked, the agent is not ready: %s", r->main_err);
		return false;
	}
	return !main_gone(r, res);
}

static void call_status_text(const rpc_result *out, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%.160s%s", rpc_status_name(out->status), out->details && out->details[0] ? " \"" : "",
		 out->details ? out->details : "", out->details && out->details[0] ? "\"" : "");
}

static void chk_health_check(ac_run *r, ac_result *res)
{
	expect(res, "OK; healthy=true, message and version set; fields as in proto/agent.proto");
	if (!need_main(r, res))
		return;
	Neira__Agent__V1__HealthCheckRequest req = NEIRA__AGENT__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = "python-agent"; /* H2 */
	rpc_result out = RPC_RESULT_INIT;
	int rc = call_msg(r, SVC "HealthCheck", &req.base, r->cfg->call_timeout_ms, &out);
	if (rc < 0) {
		setf(res, AC_FAIL, "call " SVC "HealthCheck: %s", strerror(-rc));
		return;
	}
	char st[256];
	call_status_text(&out, st, sizeof(st));
	if (out.status != RPC_OK) {
		setf(res, AC_FAIL, SVC "HealthCheck → %s", st);
		rpc_result_destroy(&out);
		return;
	}
	ac_wire_report w;
	Neira__Agent__V1__HealthCheckResponse *m = (Neira__Agent__V1__HealthCheckResponse *)ac_wire_decode(
		&neira__agent__v1__health_check_response__descriptor, out.data, out.len, "healthy,message,version", &w);
	char ws[800];
	ac_wire_summary(&w, ws, sizeof(ws));
	if (m) {
		json_object_set_new(res->data, "healthy", json_boolean(m->healthy));
		json_object_set_new(res->data, "message", json_string(m->message));
		json_object_set_new(res->data, "version", json_string(m->version));
	}
	json_object_set_new(res->data, "unknown_fields", json_string(w.unknown));
	if (!m || w.mismatched[0] || w.missing[0])
		setf(res, AC_FAIL, "reply: %s", ws);
	else if (!m->healthy)
		setf(res, AC_FAIL, "healthy=false (message \"%.80s\")", m->message);
	else
		setf(res, AC_PASS, "healthy=true, message \"%.60s\", version \"%.40s\"%s%s", m->message, m->version,
		     w.unknown[0] ? "; fields beyond the contract: " : "", w.unknown);
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	rpc_result_destroy(&out);
}

static void next_request_id(ac_run *r, char *buf, size_t len)
{
	snprintf(buf, len, "ac-%d-%u", (int)getpid(), ++r->req_seq);
}

static void chk_process_prompt(ac_run *r, ac_result *res)
{
	expect(res, "OK; text set; request_id echoed");
	if (!need_main(r, res))
		return;
	char rid[64];
	next_request_id(r, rid, sizeof(rid));
	Neira__Agent__V1__ProcessPromptRequest req = NEIRA__AGENT__V1__PROCESS_PROMPT_REQUEST__INIT;
	req.prompt = "agent-check: hello, agent";
	req.request_id = rid;
	rpc_result out = RPC_RESULT_INIT;
	int rc = call_msg(r, SVC "ProcessPrompt", &req.base, r->cfg->call_timeout_ms, &out);
	if (rc < 0) {
		setf(res, AC_FAIL, "call " SVC "ProcessPrompt: %s", strerror(-rc));
		return;
	}
	char st[256];
	call_status_text(&out, st, sizeof(st));
	if (out.status != RPC_OK) {
		setf(res, AC_FAIL, SVC "ProcessPrompt → %s", st);
		rpc_result_destroy(&out);
		return;
	}
	ac_wire_report w;
	Neira__Agent__V1__ProcessPromptResponse *m = (Neira__Agent__V1__ProcessPromptResponse *)ac_wire_decode(
		&neira__agent__v1__process_prompt_response__descriptor, out.data, out.len, "text,request_id", &w);
	char ws[800];
	ac_wire_summary(&w, ws, sizeof(ws));
	if (m) {
		json_object_set_new(res->data, "text", json_string(m->text));
		json_object_set_new(res->data, "request_id", json_string(m->request_id));
	}
	if (!m || w.mismatched[0] || w.missing[0])
		setf(res, AC_FAIL, "reply: %s", ws);
	else if (strcmp(m->request_id, rid) != 0)
		setf(res, AC_FAIL, "request_id \"%s\" sent, \"%.60s\" came back", rid, m->request_id);
	else
		setf(res, AC_PASS, "text \"%.80s\", request_id echoed%s%s", m->text,
		     w.unknown[0] ? "; fields beyond the contract: " : "", w.unknown);
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	rpc_result_destroy(&out);
}

static void chk_call_function(ac_run *r, ac_result *res)
{
	expect(res, "OK with result_json JSON and request_id echoed, or a non-UNIMPLEMENTED error status");
	if (!need_main(r, res))
		return;
	char rid[64];
	next_request_id(r, rid, sizeof(rid));
	Neira__Agent__V1__CallCustomFunctionRequest req = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_REQUEST__INIT;
	req.name = (char *)r->cfg->function;
	req.args_json = (char *)r->cfg->function_args;
	req.request_id = rid;
	rpc_result out = RPC_RESULT_INIT;
	int rc = call_msg(r, SVC "CallCustomFunction", &req.base, r->cfg->call_timeout_ms, &out);
	if (rc < 0) {
		setf(res, AC_FAIL, "call " SVC "CallCustomFunction: %s", strerror(-rc));
		return;
	}
	char st[256];
	call_status_text(&out, st, sizeof(st));
	json_object_set_new(res->data, "function", json_string(r->cfg->function));
	json_object_set_new(res->data, "status", json_string(rpc_status_name(out.status)));
	if (out.status == RPC_UNIMPLEMENTED || out.status == RPC_DEADLINE_EXCEEDED || out.status == RPC_UNAVAILABLE) {
		setf(res, AC_FAIL, SVC "CallCustomFunction(%s) → %s", r->cfg->function, st);
		rpc_result_destroy(&out);
		return;
	}
	if (out.status != RPC_OK) {
		/* the function is the agent's business; a clean error status is fine */
		setf(res, AC_PASS, "%s(%s) → %s (an application error; pass --function to check a reply)",
		     r->cfg->function, r->cfg->function_args, st);
		rpc_result_destroy(&out);
		return;
	}
	ac_wire_report w;
	Neira__Agent__V1__CallCustomFunctionResponse *m = (Neira__Agent__V1__CallCustomFunctionResponse *)ac_wire_decode(
		&neira__agent__v1__call_custom_function_response__descriptor, out.data, out.len, "result_json,request_id", &w);
	char ws[800];
	ac_wire_summary(&w, ws, sizeof(ws));
	json_error_t je;
	json_t *parsed = m ? json_loads(m->result_json, JSON_DECODE_ANY, &je) : NULL;
	if (m)
		json_object_set_new(res->data, "result_json", json_string(m->result_json));
	if (!m || w.mismatched[0] || w.missing[0])
		setf(res, AC_FAIL, "reply: %s", ws);
	else if (!parsed)
		setf(res, AC_FAIL, "result_json is not JSON: %s (\"%.60s\")", je.text, m->result_json);
	else if (strcmp(m->request_id, rid) != 0)
		setf(res, AC_FAIL, "request_id \"%s\" sent, \"%.60s\" came back", rid, m->request_id);
	else
		setf(res, AC_PASS, "%s(%s) → %.100s, request_id echoed", r->cfg->function, r->cfg->function_args,
		     m->result_json);
	json_decref(parsed);
	if (m)
		protobuf_c_message_free_unpacked(&m->base, NULL);
	rpc_result_destroy(&out);
}

/* ---- calls in flight (A3/M1 probes, load) ------------------------------------------------- */

typedef struct {
	rpc_call *call;
	char rid[64];
	int64_t t_start;
	int64_t t_done; /* -1 running */
	rpc_result out;
} ac_inflight;

/* Start n calls — call i to paths[i], or every one to path when paths is
 * NULL — each with the request built by mk, and wait for all up to
 * deadline_us. Returns how many completed. */
static int run_calls(ac_run *r, ac_inflight *c, size_t n, const char *path, const char *const *paths,
		     uint8_t *(*mk)(ac_run *r, ac_inflight *c, size_t *len, void *ud), void *ud,
		     int64_t call_timeout_ms, int64_t deadline_us, int *start_err)
{
	*start_err = 0;
	for (size_t i = 0; i < n; i++) {
		c[i] = (ac_inflight){ .t_done = -1, .out = RPC_RESULT_INIT };
		size_t len;
		next_request_id(r, c[i].rid, sizeof(c[i].rid));
		uint8_t *buf = mk(r, &c[i], &len, ud);
		c[i].t_start = ac_now_us(r->clk);
		int rc = buf ? rpc_call_start(r->client, paths ? paths[i] : path, buf, len, call_timeout_ms, &c[i].call)
			     : -ENOMEM;
		free(buf);
		if (rc < 0) {
			*start_err = rc;
			c[i].call = NULL;
			c[i].t_done = c[i].t_start;
		}
	}
	int done = 0;
	for (size_t i = 0; i < n; i++)
		done += c[i].call == NULL;
	struct pollfd *p = calloc(n, sizeof(*p));
	size_t *idx = calloc(n, sizeof(*idx));
	while (p && idx && (size_t)done < n) {
		nfds_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (c[i].t_done < 0) {
				p[k] = (struct pollfd){ .fd = rpc_call_fd(c[i].call), .events = POLLIN };
				idx[k++] = i;
			}
		int left = ac_ms_left(r->clk, deadline_us);
		if (left == 0)
			break;
		int pr = poll(p, k, left);
		if (pr < 0 && errno != EINTR)
			break;
		for (nfds_t j = 0; pr > 0 && j < k; j++) {
			ac_inflight *x = &c[idx[j]];
			if (!p[j].revents || !rpc_call_done(x->call))
				continue;
			x->t_done = ac_now_us(r->clk);
			rpc_call_finish(x->call, &x->out);
			done++;
		}
	}
	free(p);
	free(idx);
	return done;
}

static void free_calls(ac_inflight *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rpc_call_free(c[i].call); /* cancels one still running */
		rpc_result_destroy(&c[i].out);
	}
}

/* An empty message: a valid request of every type. */
static uint8_t *mk_empty(ac_run *r, ac_inflight *c, size_t *len, void *ud)
{
	(void)r, (void)c, (void)ud;
	*len = 0;
	return malloc(1);
}

/* Probe n paths at once with empty requests, each with the probe deadline
 * (2 s): an agent that hangs on them costs one deadline, not n. */
static void probe_paths(ac_run *r, ac_inflight *c, size_t n, const char *const *paths, int *start_err)
{
	int64_t to = (int64_t)(2000 * r->cfg->scale);
	run_calls(r, c, n, NULL, paths, mk_empty, NULL, to, ac_now_us(r->clk) + to * 1000 + ms_us(r, 1000), start_err);
}

/* ---- A3 / M1 ----------------------------------------------------------------------------- */

static void chk_unknown_method(ac_run *r, ac_result *res)
{
	static const char *const paths[] = { SVC "NoSuchMethod", "/neira.agentcheck.NoSuchService/Method" };
	expect(res, "UNIMPLEMENTED within the call deadline; the agent stays up");
	if (!need_main(r, res))
		return;
	char text[512] = "";
	bool ok = true;
	ac_inflight c[2];
	int se;
	probe_paths(r, c, 2, paths, &se);
	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(text);
		if (!c[i].call) {
			snprintf(text + k, sizeof(text) - k, "%s%s: call failed: %s", k ? "; " : "", paths[i], strerror(-se));
			ok = false;
		} else if (c[i].t_done < 0) {
			snprintf(text + k, sizeof(text) - k, "%s%s: no completion, not even at its deadline", k ? "; " : "",
				 paths[i]);
			ok = false;
		} else {
			snprintf(text + k, sizeof(text) - k, "%s%s → %s in %.1f ms%s", k ? "; " : "", paths[i],
				 rpc_status_name(c[i].out.status), us_ms(c[i].t_done - c[i].t_start),
				 c[i].out.status == RPC_DEADLINE_EXCEEDED ? " (a hang)" : "");
			ok &= c[i].out.status == RPC_UNIMPLEMENTED;
		}
	}
	free_calls(c, 2);
	if (main_gone(r, res)) {
		size_t k = strlen(res->measured);
		snprintf(res->measured + k, sizeof(res->measured) - k, " after: %.300s", text);
		return;
	}
	setf(res, ok ? AC_PASS : AC_FAIL, "%s", text);
}

static void chk_casings(ac_run *r, ac_result *res)
{
	static const char *const methods[][2] = { { "HealthCheck", "healthCheck" },
						   { "ProcessPrompt", "processPrompt" },
						   { "CallCustomFunction", "callCustomFunction" } };
	expect(res, "PascalCase served (the contract); camelCase optional");
	if (!need_main(r, res))
		return;
	char pascal[128] = "", camel[128] = "", path[6][128];
	const char *paths[6];
	for (size_t i = 0; i < 6; i++) {
		snprintf(path[i], sizeof(path[i]), SVC "%s", methods[i / 2][i % 2]);
		paths[i] = path[i];
	}
	ac_inflight c[6];
	int se;
	probe_paths(r, c, 6, paths, &se);
	json_t *served = json_object();
	for (size_t i = 0; i < 6; i++) {
		bool yes = c[i].call && c[i].t_done >= 0 && c[i].out.status != RPC_UNIMPLEMENTED &&
			   c[i].out.status != RPC_DEADLINE_EXCEEDED && c[i].out.status != RPC_UNAVAILABLE;
		json_object_set_new(served, methods[i / 2][i % 2], json_boolean(yes));
		if (yes) {
			char *dst = i % 2 ? camel : pascal;
			size_t k = strlen(dst);
			snprintf(dst + k, 128 - k, "%s%s", k ? " " : "", methods[i / 2][i % 2]);
		}
	}
	free_calls(c, 6);
	json_object_set_new(res->data, "served", served);
	setf(res, AC_INFO, "PascalCase: %s; camelCase: %s", pascal[0] ? pascal : "none", camel[0] ? camel : "none");
}

/* ---- A4 -------------------------------------------------------------------------------- */

static void std_health(ac_run *r, ac_result *res, bool watch)
{
	expect(res, watch ? "first message status SERVING (or UNIMPLEMENTED: absent)"
			  : "OK, status SERVING (or UNIMPLEMENTED: absent)");
	if (!need_main(r, res))
		return;
	Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = "";
	uint8_t buf[8];
	size_t n = grpc__health__v1__health_check_request__pack(&req, buf);
	rpc_result out = RPC_RESULT_INIT;
	const char *path = watch ? STD_HEALTH "Watch" : STD_HEALTH "Check";
	int64_t t0 = ac_now_us(r->clk);
	int rc = watch ? rpc_client_stream_first(r->client, path, buf, n, (int64_t)(r->cfg->call_timeout_ms * r->cfg->scale), &out)
		       : rpc_client_call(r->client, path, buf, n, (int64_t)(r->cfg->call_timeout_ms * r->cfg->scale), &out);
	double ms = us_ms(ac_now_us(r->clk) - t0);
	if (rc < 0) {
		setf(res, AC_FAIL, "call %s: %s", path, strerror(-rc));
		return;
	}
	char st[256];
	call_status_text(&out, st, sizeof(st));
	if (out.status == RPC_UNIMPLEMENTED) {
		setf(res, AC_ABSENT, "%s → UNIMPLEMENTED: not served (optional)", path);
	} else if (out.status != RPC_OK) {
		setf(res, AC_FAIL, "%s → %s after %.1f ms", path, st, ms);
	} else {
		ac_wire_report w;
		Grpc__Health__V1__HealthCheckResponse *m = (Grpc__Health__V1__HealthCheckResponse *)ac_wire_decode(
			&grpc__health__v1__health_check_response__descriptor, out.data, out.len, NULL, &w);
		const ProtobufCEnumValue *ev = m ? protobuf_c_enum_descriptor_get_value(
			&grpc__health__v1__health_check_response__serving_status__descriptor, m->status) : NULL;
		const char *sname = ev ? ev->name : "?";
		json_object_set_new(res->data, "status", json_string(sname));
		if (m && m->status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING)
			setf(res, AC_PASS, "%s → SERVING in %.1f ms%s", path, ms, watch ? " (first message)" : "");
		else
			setf(res, AC_FAIL, "%s → status %s, expected SERVING (HealthCheck says healthy)", path, sname);
		if (m)
			protobuf_c_message_free_unpacked(&m->base, NULL);
	}
	rpc_result_destroy(&out);
}

static void chk_std_health_check(ac_run *r, ac_result *res)
{
	std_health(r, res, false);
}

static void chk_std_health_watch(ac_run *r, ac_result *res)
{
	std_health(r, res, true);
}

/* ---- load -------------------------------------------------------------------------------- */

static uint8_t *mk_prompt(ac_run *r, ac_inflight *c, size_t *len, void *ud)
{
	(void)r;
	Neira__Agent__V1__ProcessPromptRequest req = NEIRA__AGENT__V1__PROCESS_PROMPT_REQUEST__INIT;
	req.prompt = ud ? (char *)ud : "concurrent call";
	req.request_id = c->rid;
	*len = neira__agent__v1__process_prompt_request__get_packed_size(&req);
	uint8_t *b = malloc(*len ? *len : 1);
	if (b)
		neira__agent__v1__process_prompt_request__pack(&req, b);
	return b;
}

static uint8_t *mk_slow(ac_run *r, ac_inflight *c, size_t *len, void *ud)
{
	(void)ud;
	Neira__Agent__V1__CallCustomFunctionRequest req = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_REQUEST__INIT;
	req.name = (char *)r->cfg->slow_function;
	req.args_json = (char *)r->cfg->slow_args;
	req.request_id = c->rid;
	*len = neira__agent__v1__call_custom_function_request__get_packed_size(&req);
	uint8_t *b = malloc(*len ? *len : 1);
	if (b)
		neira__agent__v1__call_custom_function_request__pack(&req, b);
	return b;
}

/* n concurrent ProcessPrompt: how many OK with their own request_id; max latency. */
static int concurrent_prompts(ac_run *r, size_t n, double *max_ms, double *total_ms, char *first_bad, size_t blen)
{
	ac_inflight *c = calloc(n, sizeof(*c));
	if (!c)
		return -ENOMEM;
	int start_err;
	int64_t t0 = ac_now_us(r->clk);
	run_calls(r, c, n, SVC "ProcessPrompt", NULL, mk_prompt, NULL,
		  (int64_t)(r->cfg->call_timeout_ms * r->cfg->scale), t0 + ms_us(r, r->cfg->call_timeout_ms + 1000),
		  &start_err);
	*total_ms = us_ms(ac_now_us(r->clk) - t0);
	*max_ms = 0;
	int good = 0;
	first_bad[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		bool ok = false;
		if (c[i].t_done >= 0 && c[i].out.status == RPC_OK) {
			Neira__Agent__V1__ProcessPromptResponse *m =
				neira__agent__v1__process_prompt_response__unpack(NULL, c[i].out.len, c[i].out.data);
			ok = m && !strcmp(m->request_id, c[i].rid);
			if (!ok && !first_bad[0])
				snprintf(first_bad, blen, "call %zu: request_id \"%s\" answered with \"%.40s\"", i, c[i].rid,
					 m ? m->request_id : "(unparsable reply)");
			if (m)
				neira__agent__v1__process_prompt_response__free_unpacked(m, NULL);
		} else if (!first_bad[0]) {
			if (c[i].t_done < 0)
				snprintf(first_bad, blen, "call %zu: no answer within %d ms", i, r->cfg->call_timeout_ms + 1000);
			else
				snprintf(first_bad, blen, "call %zu: %s %.80s", i, rpc_status_name(c[i].out.status),
					 c[i].out.details ? c[i].out.details : "");
		}
		if (c[i].t_done >= 0 && us_ms(c[i].t_done - c[i].t_start) > *max_ms)
			*max_ms = us_ms(c[i].t_done - c[i].t_start);
		good += ok;
	}
	free_calls(c, n);
	free(c);
	return good;
}

static void chk_concurrent_calls(ac_run *r, ac_result *res)
{
	size_t n = (size_t)r->cfg->concurrency;
	char e[256];
	snprintf(e, sizeof(e), "%zu of %zu OK, each reply with its own request_id", n, n);
	expect(res, e);
	if (!need_main(r, res))
		return;
	double max_ms, total_ms;
	char bad[256];
	int good = concurrent_prompts(r, n, &max_ms, &total_ms, bad, sizeof(bad));
	json_object_set_new(res->data, "calls", json_integer((json_int_t)n));
	json_object_set_new(res->data, "ok", json_integer(good));
	json_object_set_new(res->data, "max_latency_ms", json_real(max_ms));
	json_object_set_new(res->data, "total_ms", json_real(total_ms));
	if (good == (int)n)
		setf(res, AC_PASS, "%d/%zu OK in %.1f ms (slowest %.1f ms)", good, n, total_ms, max_ms);
	else
		setf(res, AC_FAIL, "%d/%zu OK in %.1f ms; first bad: %s", good < 0 ? 0 : good, n, total_ms, bad);
}

static int thread_count(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int n = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void chk_deadline_cancel(ac_run *r, ac_result *res)
{
	char e[256];
	snprintf(e, sizeof(e), "%d calls of %s(%s) end DEADLINE_EXCEEDED at %d ms; then %d fresh calls are served",
		 SLOW_CALLS, r->cfg->slow_function, r->cfg->slow_args, SLOW_DEADLINE_MS, r->cfg->concurrency);
	expect(res, e);
	if (!need_main(r, res))
		return;
	/* is there a slow function at all? one call with a short deadline */
	ac_inflight one;
	int se;
	run_calls(r, &one, 1, SVC "CallCustomFunction", NULL, mk_slow, NULL,
		  (int64_t)(SLOW_DEADLINE_MS * r->cfg->scale), ac_now_us(r->clk) + ms_us(r, SLOW_DEADLINE_MS + 2000), &se);
	int st0 = one.t_done >= 0 ? one.out.status : RPC_DEADLINE_EXCEEDED;
	char st0_text[256];
	call_status_text(&one.out, st0_text, sizeof(st0_text));
	free_calls(&one, 1);
	if (st0 != RPC_DEADLINE_EXCEEDED) {
		setf(res, AC_SKIP, "%s(%s) → %s: no slow function to test with (pass --slow-function NAME=ARGS)",
		     r->cfg->slow_function, r->cfg->slow_args, st0_text);
		return;
	}
	int threads_before = thread_count(r->main.pid);
	ac_inflight *c = calloc(SLOW_CALLS, sizeof(*c));
	if (!c) {
		setf(res, AC_FAIL, "out of memory");
		return;
	}
	int64_t t0 = ac_now_us(r->clk);
	run_calls(r, c, SLOW_CALLS, SVC "CallCustomFunction", NULL, mk_slow, NULL,
		  (int64_t)(SLOW_DEADLINE_MS * r->cfg->scale), t0 + ms_us(r, SLOW_DEADLINE_MS + 3000), &se);
	int expired = 0;
	double last_ms = 0;
	for (size_t i = 0; i < SLOW_CALLS; i++) {
		if (c[i].t_done >= 0 && c[i].out.status == RPC_DEADLINE_EXCEEDED)
			expired++;
		if (c[i].t_done >= 0 && us_ms(c[i].t_done - t0) > last_ms)
			last_ms = us_ms(c[i].t_done - t0);
	}
	free_calls(c, SLOW_CALLS);
	free(c);
	int threads_peak = thread_count(r->main.pid);
	/* The agent's side: if the expired handlers were not cancelled they still
	 * hold their workers, and fresh calls queue behind them. */
	double max_ms, total_ms;
	char bad[256];
	int good = concurrent_prompts(r, (size_t)r->cfg->concurrency, &max_ms, &total_ms, bad, sizeof(bad));
	int threads_after = thread_count(r->main.pid);
	json_object_set_new(res->data, "expired", json_integer(expired));
	json_object_set_new(res->data, "last_expiry_ms", json_real(last_ms));
	json_object_set_new(res->data, "fresh_ok", json_integer(good));
	json_object_set_new(res->data, "fresh_max_ms", json_real(max_ms));
	json_object_set_new(res->data, "agent_threads", json_pack("{sisisi}", "before", threads_before, "after_expiry",
								  threads_peak, "after_fresh", threads_after));
	if (main_gone(r, res))
		return;
	if (expired != SLOW_CALLS)
		setf(res, AC_FAIL, "only %d/%d calls ended DEADLINE_EXCEEDED (last after %.1f ms)", expired, SLOW_CALLS,
		     last_ms);
	else if (good != r->cfg->concurrency)
		setf(res, AC_FAIL, "%d/%d expired, but then %d/%d fresh calls served: expired handlers still hold "
		     "the agent's workers (not cancelled); %s", expired, SLOW_CALLS, good, r->cfg->concurrency, bad);
	else
		setf(res, AC_PASS, "%d/%d expired by %.1f ms; then %d/%d fresh calls served in %.1f ms "
		     "(agent threads %d → %d → %d)", expired, SLOW_CALLS, last_ms, good, r->cfg->concurrency, total_ms,
		     threads_before, threads_peak, threads_after);
}

static void chk_large_message(ac_run *r, ac_result *res)
{
	expect(res, "OK to a 4,000,000-byte prompt; the reply's size reported");
	if (!need_main(r, res))
		return;
	char *big = malloc(FOUR_MB + 1);
	if (!big) {
		setf(res, AC_FAIL, "out of memory for the 4 MB prompt");
		return;
	}
	for (size_t i = 0; i < FOUR_MB; i++)
		big[i] = (char)('a' + i % 26);
	big[FOUR_MB] = '\0';
	ac_inflight c;
	int se;
	int64_t t0 = ac_now_us(r->clk);
	int64_t to = (int64_t)(10000 * r->cfg->scale);
	run_calls(r, &c, 1, SVC "ProcessPrompt", NULL, mk_prompt, big, to, t0 + to * 1000 + ms_us(r, 1000), &se);
	free(big);
	double ms = us_ms(ac_now_us(r->clk) - t0);
	char st[256];
	call_status_text(&c.out, st, sizeof(st));
	if (c.t_done < 0 || c.out.status != RPC_OK) {
		setf(res, AC_FAIL, "4 MB ProcessPrompt → %s after %.1f ms", c.t_done < 0 ? "no answer" : st, ms);
		free_calls(&c, 1);
		return;
	}
	Neira__Agent__V1__ProcessPromptResponse *m =
		neira__agent__v1__process_prompt_response__unpack(NULL, c.out.len, c.out.data);
	size_t tl = m ? strlen(m->text) : 0;
	json_object_set_new(res->data, "request_bytes", json_integer(FOUR_MB));
	json_object_set_new(res->data, "reply_bytes", json_integer((json_int_t)c.out.len));
	json_object_set_new(res->data, "ms", json_real(ms));
	if (!m)
		setf(res, AC_FAIL, "the reply (%zu bytes) does not parse as ProcessPromptResponse", c.out.len);
	else if (strcmp(m->request_id, c.rid))
		setf(res, AC_FAIL, "request_id not echoed on the 4 MB call");
	else if (tl >= FOUR_MB)
		setf(res, AC_PASS, "request %d bytes, reply %zu bytes, round trip %.1f ms", FOUR_MB, c.out.len, ms);
	else
		setf(res, AC_PASS, "request %d bytes OK in %.1f ms; reply only %zu bytes (the agent does not echo: "
		     "the 4 MB reply direction not exercised)", FOUR_MB, ms, c.out.len);
	if (m)
		neira__agent__v1__process_prompt_response__free_unpacked(m, NULL);
	free_calls(&c, 1);
}

static void chk_malformed(ac_run *r, ac_result *res)
{
	/* field 1, length-delimited, length 2^32-1 with 0 bytes following: no
	 * protobuf implementation can parse it */
	static const uint8_t junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f };
	static const char *const methods[] = { "HealthCheck", "ProcessPrompt", "CallCustomFunction" };
	expect(res, "an error status (not OK, not a hang) for each method; the agent still serves");
	if (!need_main(r, res))
		return;
	char text[400] = "";
	bool ok = true;
	for (size_t i = 0; i < 3; i++) {
		char path[96];
		snprintf(path, sizeof(path), SVC "%s", methods[i]);
		rpc_result out = RPC_RESULT_INIT;
		int rc = rpc_client_call(r->client, path, junk, sizeof(junk), (int64_t)(r->cfg->call_timeout_ms * r->cfg->scale), &out);
		size_t k = strlen(text);
		const char *sn = rc < 0 ? strerror(-rc) : rpc_status_name(out.status);
		snprintf(text + k, sizeof(text) - k, "%s%s → %s", k ? ", " : "", methods[i], sn);
		ok &= rc == 0 && out.status != RPC_OK && out.status != RPC_DEADLINE_EXCEEDED &&
		      out.status != RPC_UNAVAILABLE && out.status != RPC_UNIMPLEMENTED;
		rpc_result_destroy(&out);
	}
	if (main_gone(r, res))
		return;
	/* still serving? */
	Neira__Agent__V1__HealthCheckRequest req = NEIRA__AGENT__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = "python-agent";
	rpc_result out = RPC_RESULT_INIT;
	int rc = call_msg(r, SVC "HealthCheck", &req.base, r->cfg->call_timeout_ms, &out);
	bool alive = rc == 0 && out.status == RPC_OK;
	rpc_result_destroy(&out);
	if (ok && alive)
		setf(res, AC_PASS, "%s; HealthCheck after: OK", text);
	else
		setf(res, AC_FAIL, "%s; HealthCheck after: %s", text, alive ? "OK" : "failed");
}

/* ---- L7 ---------------------------------------------------------------------------------- */

/* SIGTERM and judge the exit: within grace, code 0, socket gone, nothing left. */
static bool stop_and_judge(ac_run *r, ac_agent *a, const char *sock, char *text, size_t len, double *stop_ms)
{
	int64_t t0 = ac_now_us(r->clk);
	int rc = ac_agent_signal(a, SIGTERM);
	if (rc < 0 && !a->exited) {
		snprintf(text, len, "kill SIGTERM %d: %s", (int)a->pid, strerror(-rc));
		return false;
	}
	int grace = (int)(r->cfg->grace_ms * r->cfg->scale);
	rc = ac_agent_wait_exit(a, t0 + (int64_t)grace * 1000);
	*stop_ms = us_ms(ac_now_us(r->clk) - t0);
	if (rc <= 0) {
		/* where it stuck, as far as its own log says (the reference agent
		 * logs each step of its stop) */
		char tail[256];
		last_stderr_line(a, tail, sizeof(tail));
		snprintf(text, len, "still running %d ms after SIGTERM (the grace period): SIGKILLed; its last stderr line: \"%s\"",
			 grace, tail);
		ac_agent_destroy(a);
		unlink(sock);
		return false;
	}
	char ex[64];
	ac_agent_exit_text(a, ex, sizeof(ex));
	struct stat st;
	bool sock_left = lstat(sock, &st) == 0;
	pid_t left[16];
	int nleft = ac_agent_reap_leftovers(a, left, 16);
	bool clean = WIFEXITED(a->wstatus) && WEXITSTATUS(a->wstatus) == 0;
	snprintf(text, len, "%s %.1f ms after SIGTERM; socket %s; %d process(es) left%s", ex, *stop_ms,
		 sock_left ? "LEFT BEHIND" : "removed", nleft < 0 ? 0 : nleft, nleft > 0 ? " (killed)" : "");
	if (sock_left)
		unlink(sock);
	return clean && !sock_left && nleft <= 0;
}

static void chk_sigterm(ac_run *r, ac_result *res)
{
	char e[128];
	snprintf(e, sizeof(e), "exit 0 within %d ms of SIGTERM, socket removed, no child left", r->cfg->grace_ms);
	expect(res, e);
	if (!need_main(r, res))
		return;
	char text[400];
	double ms;
	bool ok = stop_and_judge(r, &r->main, r->sock, text, sizeof(text), &ms);
	json_object_set_new(res->data, "stop_ms", json_real(ms));
	setf(res, ok ? AC_PASS : AC_FAIL, "%s", text);
}

static void chk_logs_to_stderr(ac_run *r, ac_result *res)
{
	ac_agent *a = &r->main;
	expect(res, "no stdout line besides AGENT_READY");
	if (!r->main_started || (a->marker_count == 0 && r->main_err[0])) {
		setf(res, AC_FAIL, "not checked: %s", r->main_err[0] ? r->main_err : "the agent did not run");
		return;
	}
	/* whatever it printed until it was stopped (the L7 check stopped it) */
	while (a->out_fd >= 0 && ac_agent_pump(a, 0) > 0)
		;
	size_t other = a->total_lines - (size_t)a->marker_count;
	json_object_set_new(res->data, "stdout_other_lines", json_integer((json_int_t)other));
	json_object_set_new(res->data, "stderr_bytes", json_integer((json_int_t)a->err_total));
	if (other == 0) {
		setf(res, AC_PASS, "stdout: the marker only; stderr: %zu bytes of log", a->err_total);
		return;
	}
	const char *first = "";
	for (size_t i = 0; i < a->n_lines; i++)
		if (strncmp(a->lines[i].text, AC_MARKER, strlen(AC_MARKER)) != 0 ||
		    (a->lines[i].text[strlen(AC_MARKER)] && strcmp(a->lines[i].text + strlen(AC_MARKER), "\\r"))) {
			first = a->lines[i].text;
			break;
		}
	setf(res, AC_FAIL, "%zu stdout line(s) besides the marker, first: \"%.120s\"", other, first);
}

static void chk_cycles(ac_run *r, ac_result *res)
{
	int n = r->cfg->cycles;
	char e[160];
	snprintf(e, sizeof(e), "%d × (start to ready, SIGTERM, exit 0 in grace); no process, file or fd left", n);
	expect(res, e);
	char sock[PATH_MAX + 16];
	snprintf(sock, sizeof(sock), "%s/cycle.sock", r->dir);
	int fds_before = rpc_count_fds();
	double start_max = 0, stop_max = 0, start_sum = 0;
	int clean = 0;
	char first_bad[512] = "";
	for (int i = 0; i < n; i++) {
		ac_agent a;
		ac_obs o;
		char err[600] = "";
		ac_spawn_opts so = { .argv = r->cfg->agent_argv, .socket_path = sock };
		int rc = start_agent(r, &a, &so, sock, &o, err, sizeof(err));
		if (rc < 0 || !o.ready) {
			if (!first_bad[0])
				snprintf(first_bad, sizeof(first_bad), "cycle %d: %s", i + 1, err);
			ac_agent_destroy(&a);
			unlink(sock);
			continue;
		}
		double start_ms = us_ms(a.t_marker_us > o.t_connect_us ? a.t_marker_us : o.t_connect_us);
		start_sum += start_ms;
		if (start_ms > start_max)
			start_max = start_ms;
		char text[400];
		double stop_ms;
		bool ok = stop_and_judge(r, &a, sock, text, sizeof(text), &stop_ms);
		if (stop_ms > stop_max)
			stop_max = stop_ms;
		if (ok)
			clean++;
		else if (!first_bad[0])
			snprintf(first_bad, sizeof(first_bad), "cycle %d: %s", i + 1, text);
		ac_agent_destroy(&a);
	}
	int fds_after = rpc_count_fds();
	char names[512];
	int count = 0;
	list_dir(r->dir, names, sizeof(names), &count);
	json_object_set_new(res->data, "cycles", json_integer(n));
	json_object_set_new(res->data, "clean", json_integer(clean));
	json_object_set_new(res->data, "start_mean_ms", json_real(clean ? start_sum / clean : 0));
	json_object_set_new(res->data, "start_max_ms", json_real(start_max));
	json_object_set_new(res->data, "stop_max_ms", json_real(stop_max));
	json_object_set_new(res->data, "checker_fds", json_pack("{sisi}", "before", fds_before, "after", fds_after));
	if (clean == n && fds_after == fds_before && count == 0)
		setf(res, AC_PASS, "%d/%d clean; start mean %.1f ms (max %.1f), stop max %.1f ms; checker fds %d → %d; "
		     "directory empty", clean, n, clean ? start_sum / clean : 0, start_max, stop_max, fds_before, fds_after);
	else
		setf(res, AC_FAIL, "%d/%d clean; checker fds %d → %d; directory: %s; first problem: %s", clean, n,
		     fds_before, fds_after, count ? names : "empty", first_bad[0] ? first_bad : "-");
}

/* ---- faults -------------------------------------------------------------------------------- */

static void chk_listen_fault(ac_run *r, ac_result *res)
{
	expect(res, "exit non-zero with a message on stderr, never AGENT_READY");
	char run_so[PATH_MAX], posix_so[PATH_MAX];
	snprintf(run_so, sizeof(run_so), "%s/fiu_run_preload.so", r->cfg->fiu_dir);
	snprintf(posix_so, sizeof(posix_so), "%s/fiu_posix_preload.so", r->cfg->fiu_dir);
	if (access(run_so, R_OK) < 0 || access(posix_so, R_OK) < 0) {
		setf(res, AC_SKIP, "libfiu's preloads not found in %s (package libfiu-dev / fiu-utils)", r->cfg->fiu_dir);
		return;
	}
	char preload[2 * PATH_MAX + 32], sock[PATH_MAX + 16];
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s %s", run_so, posix_so);
	snprintf(sock, sizeof(sock), "%s/fault.sock", r->dir);
	/* the harness's agent-side preload: posix/io/net/listen fails, errno 98 */
	char fiu[64];
	snprintf(fiu, sizeof(fiu), "FIU_ENABLE=enable name=posix/io/net/listen,failinfo=%d", EADDRINUSE);
	const char *extra[] = { preload, fiu, NULL };
	ac_spawn_opts so = { .argv = r->cfg->agent_argv, .socket_path = sock, .extra_env = extra };
	ac_agent a;
	char err[600] = "";
	int rc = ac_agent_spawn(&a, &so, r->clk, err, sizeof(err));
	if (rc < 0) {
		setf(res, AC_FAIL, "%s", err);
		return;
	}
	int timeout = (int)(r->cfg->ready_timeout_ms * r->cfg->scale);
	int64_t deadline = ac_now_us(r->clk) + (int64_t)timeout * 1000;
	while (!a.exited && a.marker_count == 0 && ac_ms_left(r->clk, deadline) > 0)
		ac_agent_pump(&a, ac_ms_left(r->clk, deadline));
	/* whatever it says last, before judging */
	while (a.exited && (a.out_fd >= 0 || a.err_fd >= 0) && ac_agent_pump(&a, 100) > 0)
		;
	char ex[64], tail[256];
	ac_agent_exit_text(&a, ex, sizeof(ex));
	last_stderr_line(&a, tail, sizeof(tail));
	json_object_set_new(res->data, "exit", json_string(ex));
	json_object_set_new(res->data, "stderr_last_line", json_string(tail));
	if (a.marker_count > 0) {
		bool serving = ac_probe_connect(sock) == 0;
		if (serving)
			setf(res, AC_SKIP, "the preload did not reach the agent's listen() (a static binary or raw "
			     "syscalls?): it bound and printed AGENT_READY normally");
		else
			setf(res, AC_FAIL, "AGENT_READY printed %.1f ms after exec although listen() failed", us_ms(a.t_marker_us));
	} else if (!a.exited) {
		setf(res, AC_FAIL, "no exit within %d ms after listen() failed: the agent hangs without serving", timeout);
	} else if (WIFEXITED(a.wstatus) && WEXITSTATUS(a.wstatus) != 0 && a.err_total > 0) {
		setf(res, AC_PASS, "%s after %.1f ms, no marker; stderr: \"%s\"", ex, us_ms(a.t_exit_us), tail);
	} else {
		setf(res, AC_FAIL, "%s after %.1f ms, %s", ex, us_ms(a.t_exit_us),
		     a.err_total ? "expected a non-zero exit code" : "and no message on stderr");
	}
	ac_agent_destroy(&a);
	unlink(sock);
}

/* ---- selection and the run ------------------------------------------------------------------ */

static bool in_list(const char *list, const ac_check_def *d)
{
	if (!list)
		return false;
	char buf[1024];
	snprintf(buf, sizeof(buf), "%s", list);
	char *save = NULL;
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		if (!strcasecmp(t, d->name) || !strcasecmp(t, d->clause))
			return true;
	return false;
}

static bool selected(const ac_config *cfg, const ac_check_def *d)
{
	if (cfg->only && !in_list(cfg->only, d))
		return false;
	return !in_list(cfg->skip, d);
}

int ac_run_checks(const ac_config *cfg, ac_result *results, void (*on_result)(void *ud, size_t i, const ac_result *r),
		  void *ud, char *err, size_t errlen)
{
	return_if_fail(cfg && results && cfg->agent_argv && cfg->agent_argv[0], -EINVAL);
	ac_run *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->cfg = cfg;
	r->clk = cfg->clk;
	r->main = (ac_agent)AC_AGENT_INIT;
	const char *tmp = getenv("TMPDIR");
	/* a short base: the S1 long-path check needs room below 107 bytes */
	snprintf(r->dir, sizeof(r->dir), "%s/neira-ac-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(r->dir)) { /* 0700: S4's private directory */
		snprintf(err, errlen, "mkdtemp %s: %s", r->dir, strerror(errno));
		free(r);
		return -EIO;
	}
	snprintf(r->sock, sizeof(r->sock), "%s/agent.sock", r->dir);
	rpc_global_init();

	size_t last_main = 0;
	bool any_main = false;
	for (size_t i = 0; i < N_CHECKS; i++)
		if (checks[i].session == SESSION_MAIN && selected(cfg, &checks[i].def)) {
			last_main = i;
			any_main = true;
		}
	for (size_t i = 0; i < N_CHECKS; i++) {
		ac_result *res = &results[i];
		*res = (ac_result){ .verdict = AC_SKIP, .data = json_object() };
		if (checks[i].session == SESSION_MAIN && any_main && !r->main_started && !ac_interrupted())
			start_main(r);
		if (!selected(cfg, &checks[i].def)) {
			setf(res, AC_SKIP, "not selected");
		} else if (ac_interrupted()) {
			setf(res, AC_SKIP, "not run: interrupted");
		} else {
			int64_t t0 = ac_now_us(r->clk);
			checks[i].fn(r, res);
			res->duration_ms = us_ms(ac_now_us(r->clk) - t0);
		}
		if (checks[i].session == SESSION_MAIN && any_main && i >= last_main && r->main.pid) {
			stop_main(r); /* before any agent of its own starts */
			unlink(r->sock);
		}
		if (on_result)
			on_result(ud, i, res);
	}
	stop_main(r);
	unlink(r->sock);
	rpc_global_shutdown();
	/* every check removes what it made; whatever an agent left is removed
	 * here (the checks above have reported it) */
	char names[512];
	int count = 0;
	if (list_dir(r->dir, names, sizeof(names), &count) == 0 && count > 0) {
		DIR *d = opendir(r->dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, "..")))
				continue;
			unlinkat(dirfd(d), e->d_name, 0);
			unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
		}
		if (d)
			closedir(d);
	}
	rmdir(r->dir);
	free(r);
	return 0;
}

/* ---- startup figures (benchmark) ---------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static json_t *stats(double *v, int n)
{
	if (n == 0)
		return json_null();
	qsort(v, (size_t)n, sizeof(double), cmp_double);
	int p95 = (int)((n - 1) * 0.95 + 0.5);
	return json_pack("{sisfsfsfsf}", "n", n, "min_ms", v[0], "median_ms", v[n / 2], "p95_ms", v[p95], "max_ms",
			 v[n - 1]);
}

json_t *ac_bench_startup(const ac_config *cfg, int n, char *err, size_t errlen)
{
	return_if_fail(cfg && n > 0, NULL);
	ac_run r = { .cfg = cfg, .clk = cfg->clk, .main = AC_AGENT_INIT };
	const char *tmp = getenv("TMPDIR");
	snprintf(r.dir, sizeof(r.dir), "%s/neira-ac-XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	if (!mkdtemp(r.dir)) {
		snprintf(err, errlen, "mkdtemp %s: %s", r.dir, strerror(errno));
		return NULL;
	}
	snprintf(r.sock, sizeof(r.sock), "%s/agent.sock", r.dir);
	double *marker = calloc((size_t)n, sizeof(double)), *call = calloc((size_t)n, sizeof(double));
	int nm = 0, nc = 0, failed = 0;
	rpc_global_init();
	for (int i = 0; marker && call && i < n && !ac_interrupted(); i++) {
		ac_agent a;
		ac_obs o;
		char e[600] = "";
		ac_spawn_opts so = { .argv = cfg->agent_argv, .socket_path = r.sock };
		/* no connect probes: they would cost the agent time */
		int rc = ac_agent_spawn(&a, &so, r.clk, e, sizeof(e));
		if (rc == 0)
			rc = observe_start(&r, &a, NULL, ac_now_us(r.clk) + ms_us(&r, cfg->ready_timeout_ms), &o);
		if (rc < 0 || a.marker_count == 0) {
			if (!failed++)
				snprintf(err, errlen, "start %d: %s", i + 1, e[0] ? e : "no AGENT_READY");
			ac_agent_destroy(&a);
			continue;
		}
		marker[nm++] = us_ms(a.t_marker_us);
		/* exec → first successful call: a fresh channel, as a supervisor's */
		rpc_client *c = NULL;
		rpc_client_opts co = RPC_CLIENT_OPTS_INIT;
		if (rpc_client_new(r.sock, &co, &c) == 0) {
			Neira__Agent__V1__HealthCheckRequest req = NEIRA__AGENT__V1__HEALTH_CHECK_REQUEST__INIT;
			req.service = "python-agent";
			uint8_t buf[32];
			size_t len = neira__agent__v1__health_check_request__pack(&req, buf);
			rpc_result out = RPC_RESULT_INIT;
			if (rpc_client_call(c, SVC "HealthCheck", buf, len, (int64_t)(2000 * cfg->scale), &out) == 0 &&
			    out.status == RPC_OK)
				call[nc++] = us_ms(ac_now_us(r.clk) - a.t_spawn_us);
			rpc_result_destroy(&out);
			rpc_client_free(c);
		}
		ac_agent_signal(&a, SIGTERM);
		ac_agent_wait_exit(&a, ac_now_us(r.clk) + ms_us(&r, cfg->grace_ms));
		ac_agent_destroy(&a);
		unlink(r.sock);
	}
	rpc_global_shutdown();
	rmdir(r.dir);
	json_t *out = NULL;
	if (marker && call)
		out = json_pack("{sosososi}", "exec_to_marker", stats(marker, nm), "exec_to_first_call", stats(call, nc),
				"starts", json_integer(n), "failed", failed);
	free(marker);
	free(call);
	if (!out && !err[0])
		snprintf(err, errlen, "out of memory");
	return out;
}
