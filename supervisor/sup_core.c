/* sup_core: the supervisor object, its single poll(2) event loop, the
 * launch/readiness/health pipeline (L1–L7, H1–H5, S1–S4, K2) and the O3
 * event stream. Typed calls are in sup_calls.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fiu-local.h>

#include "agent.pb-c.h"
#include "flt_points.h"
#include "sup_bytes.h"
#include "sup_internal.h"

extern char **environ;

#define return_if_fail(cond, val)                                                                  \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return (val);                                                              \
	} while (0)

static const char *const state_names[] = {
	"idle", "starting", "health_check", "ready", "mock", "stopping", "stopped",
};

const char *sup_state_name(sup_state st)
{
	return (unsigned)st < sizeof(state_names) / sizeof(state_names[0]) ? state_names[st] : "unknown";
}

int64_t sup__now(const sup *s)
{
	return s->env.now_us(s->env.ud);
}

static double ms_of(int64_t us)
{
	return (double)us / 1000.0;
}

/* ---- events (O3) --------------------------------------------------------- */

void sup__emit(sup *s, nv_event_id id, json_t *fields)
{
	json_t *ev = fields ? fields : json_object();
	if (!ev)
		return;
	if (s->ev_fn) {
		json_t *out = json_object();
		if (out) {
			json_object_set_new(out, "t_ms", json_real(ms_of(sup__now(s) - s->t0_us)));
			json_object_set_new(out, "event", json_string(nv_event_name(id)));
			json_object_update(out, ev);
			s->ev_fn(s->ev_ud, out);
			json_decref(out);
		}
	}
	json_decref(ev);
}

void sup__set_state(sup *s, sup_state to)
{
	if (s->state == to)
		return;
	sup_state from = s->state;
	s->state = to;
	sup__emit(s, NV_EV_STATE, json_pack("{s:s, s:s}", "from", sup_state_name(from), "to", sup_state_name(to)));
}

void sup__breaker_event(sup *s, sup_breaker_state from)
{
	if (s->br.state == from)
		return;
	sup_metrics_set_breaker(&s->m, (int)s->br.state);
	sup__emit(s, NV_EV_BREAKER,
		  json_pack("{s:s, s:s, s:i}", "from", sup_breaker_state_name(from), "to",
			    sup_breaker_state_name(s->br.state), "failures", s->br.failures));
}

static json_t *last_lines_json(const sup *s)
{
	json_t *a = json_array();
	unsigned n = s->n_last < SUP_LAST_LINES ? s->n_last : SUP_LAST_LINES;
	for (unsigned i = 0; i < n; i++) {
		unsigned idx = (s->n_last - n + i) % SUP_LAST_LINES;
		const char *l = s->last_lines[idx] ? s->last_lines[idx] : "";
		json_array_append_new(a, sup_json_bytes(l, strlen(l), NULL)); /* never dropped (issue 15) */
	}
	return a;
}

/* ---- lifecycle ------------------------------------------------------------ */

int sup_new(const sup_config *cfg, const sup_env *env, sup **out, sup_error *err)
{
	return_if_fail(out, -EINVAL);
	sup *s = calloc(1, sizeof(*s));
	if (!s) {
		sup_error_set(err, "supervisor", ENOMEM, "create supervisor: out of memory");
		return -ENOMEM;
	}
	sup_config_init(&s->cfg);
	/* Issue 15: a byte-for-byte copy (paths need not be UTF-8, so no
	 * detour through JSON), every number checked against its range */
	int crc = cfg ? sup_config_copy(&s->cfg, cfg, err) : 0;
	if (crc < 0) {
		sup_config_destroy(&s->cfg);
		free(s);
		return crc;
	}
	s->env.now_us = env && env->now_us ? env->now_us : sup_clock_now_us;
	s->env.poll = env && env->poll ? env->poll : sup_clock_poll;
	s->env.spawn = env && env->spawn ? env->spawn : sup_spawn_exec;
	s->env.ud = env ? env->ud : NULL;
	rpc_global_init(); /* first: grpc_init takes ms, not part of the timeline */
	s->grpc_ref = true;
	s->t0_us = sup__now(s);
	s->state = SUP_STATE_IDLE;
	s->ch.pid = 0;
	s->ch.pidfd = s->ch.out_fd = s->ch.err_fd = -1;
	s->privdir_fd = -1;
	s->exit_code = -1;
	s->init_ms = -1;
	sup_linebuf_init(&s->lb[0], 4096);
	sup_linebuf_init(&s->lb[1], 4096);
	/* the breaker only compares differences, so it runs in µs here (its
	 * parameters say _ms): whole-ms truncation could open C2's 30 s early */
	sup_breaker_init(&s->br, s->cfg.breaker_threshold, s->cfg.breaker_open_ms * 1000);
	sup_metrics_init(&s->m);
	*out = s;
	return 0;
}

void sup_set_event_cb(sup *s, sup_event_fn fn, void *ud)
{
	if (!s)
		return;
	s->ev_fn = fn;
	s->ev_ud = ud;
}

static void free_envp(sup *s)
{
	if (!s->envp)
		return;
	for (char **e = s->envp; *e; e++)
		free(*e);
	free(s->envp);
	s->envp = NULL;
}

static void health_call_release(sup *s)
{
	if (s->hc_call) {
		rpc_call_free(s->hc_call);
		s->hc_call = NULL;
	}
	if (s->hc_client) {
		rpc_client_free(s->hc_client);
		s->hc_client = NULL;
	}
}

void sup_free(sup *s)
{
	if (!s)
		return;
	sup_stop(s, NULL, NULL, NULL);
	health_call_release(s);
	if (s->client)
		rpc_client_free(s->client);
	free_envp(s);
	for (unsigned i = 0; i < SUP_LAST_LINES; i++)
		free(s->last_lines[i]);
	sup_linebuf_destroy(&s->lb[0]);
	sup_linebuf_destroy(&s->lb[1]);
	sup_error_destroy(&s->err);
	sup_config_destroy(&s->cfg);
	if (s->grpc_ref)
		rpc_global_shutdown();
	free(s);
}

/* ---- accessors ------------------------------------------------------------ */

bool sup_is_ready(const sup *s) { return s && s->state == SUP_STATE_READY; }
sup_state sup_get_state(const sup *s) { return s ? s->state : SUP_STATE_IDLE; }
const char *sup_reason(const sup *s) { return s ? s->reason : NULL; }
const sup_error *sup_last_error(const sup *s) { return s && sup_error_is_set(&s->err) ? &s->err : NULL; }
double sup_init_ms(const sup *s) { return s ? s->init_ms : -1; }
const char *sup_agent_version(const sup *s) { return s ? s->agent_version : ""; }
pid_t sup_child_pid(const sup *s) { return s && s->child_alive ? s->ch.pid : 0; }
const char *sup_socket_path(const sup *s) { return s ? s->sock : ""; }
sup_breaker_state sup_get_breaker(const sup *s) { return s ? s->br.state : SUP_BREAKER_CLOSED; }
const sup_metrics *sup_get_metrics(const sup *s) { return s ? &s->m : NULL; }
double sup_elapsed_ms(const sup *s) { return s ? ms_of(sup__now(s) - s->t0_us) : 0; }

/* ---- fallback (K2) -------------------------------------------------------- */

static void terminate_child(sup *s, bool announce);

/* Enter mock with a reason kind and the error already in s->err. */
static void go_mock(sup *s, const char *reason)
{
	health_call_release(s);
	if (s->in_init && s->init_ms < 0) {
		s->init_ms = ms_of(sup__now(s) - s->init_start_us);
		sup_metrics_observe_init(&s->m, s->init_ms);
	}
	s->reason = reason;
	sup_error_ctx(&s->err, "reason", "%s", reason);
	sup__set_state(s, SUP_STATE_MOCK);
	json_t *f = json_pack("{s:s, s:o*}", "reason", reason, "error", sup_error_to_json(&s->err));
	if (f) /* issue 15: the message may quote a non-UTF-8 path */
		sup_json_set_bytes(f, "message", s->err.message, strlen(s->err.message));
	sup__emit(s, NV_EV_FALLBACK, f);
	/* K2/L2: nothing is left behind — a child that never became ready
	 * is stopped the L7 way. */
	if (s->child_alive)
		terminate_child(s, true);
}

/* ---- child output and exit (L4, L6, L8) ----------------------------------- */

static void remember_line(sup *s, const char *line, size_t len)
{
	unsigned idx = s->n_last % SUP_LAST_LINES;
	free(s->last_lines[idx]);
	s->last_lines[idx] = strndup(line, len);
	s->n_last++;
}

static void on_marker(sup *s);

static const char *stream_name(int stream)
{
	return stream == 0 ? "stdout" : "stderr";
}

/* Issue 15: the lines of a window beyond the event budget, in one event. */
static void output_dropped_flush(sup *s, int stream)
{
	if (!s->out[stream].win_dropped_lines)
		return;
	sup__emit(s, NV_EV_OUTPUT_DROPPED,
		  json_pack("{s:s, s:I, s:I, s:I}", "stream", stream_name(stream), "lines",
			    (json_int_t)s->out[stream].win_dropped_lines, "bytes",
			    (json_int_t)s->out[stream].win_dropped_bytes, "total_lines",
			    (json_int_t)s->out[stream].dropped_lines));
	s->out[stream].win_dropped_lines = s->out[stream].win_dropped_bytes = 0;
}

/* May this line become an `output` event? At most
 * SUP_OUTPUT_EVENTS_PER_WINDOW per stream and window; the rest is counted. */
static bool output_event_allowed(sup *s, int stream, size_t len)
{
	int64_t now = sup__now(s);
	if (now - s->out[stream].win_start_us >= SUP_OUTPUT_WINDOW_US) {
		output_dropped_flush(s, stream);
		s->out[stream].win_start_us = now;
		s->out[stream].win_events = 0;
	}
	if (s->out[stream].win_events < SUP_OUTPUT_EVENTS_PER_WINDOW) {
		s->out[stream].win_events++;
		return true;
	}
	s->out[stream].win_dropped_lines++;
	s->out[stream].win_dropped_bytes += len;
	s->out[stream].dropped_lines++;
	return false;
}

static void on_line(sup *s, int stream, const char *line, size_t len, bool truncated)
{
	remember_line(s, line, len);
	/* L4: every line is looked at; only the event is rate-limited, and
	 * the marker's line always gets one */
	bool marker = stream == 0 && sup_is_marker(line, len, truncated);
	if (marker || output_event_allowed(s, stream, len)) {
		json_t *f = json_pack("{s:s, s:b}", "stream", stream_name(stream), "truncated", truncated);
		/* issue 15: bytes that are not UTF-8 come with line_b64 */
		if (f)
			sup_json_set_bytes(f, "line", line, len);
		sup__emit(s, NV_EV_OUTPUT, f);
	}
	if (marker)
		on_marker(s);
}

static void line_cb_out(void *ud, const char *line, size_t len, bool truncated)
{
	on_line(ud, 0, line, len, truncated);
}

static void line_cb_err(void *ud, const char *line, size_t len, bool truncated)
{
	on_line(ud, 1, line, len, truncated);
}

/* read(2) of a child pipe behind its fault points: an error (EINTR by
 * default) or a 1-byte short count. */
static ssize_t output_read(int fd, char *buf, size_t n)
{
	fiu_do_on(FLT_NAME(SUP_OUTPUT_READ), {
		errno = FLT_ERRNO(SUP_OUTPUT_READ);
		return -1;
	});
	fiu_do_on(FLT_NAME(SUP_OUTPUT_SHORT_READ), n = 1);
	return read(fd, buf, n);
}

/* Read what is there, at most SUP_OUTPUT_PASS_BYTES (issue 15: a flood
 * must leave the loop time for its deadlines; poll reports the rest on the
 * next pass); at EOF deliver the partial line and close. */
static void drain_fd(sup *s, int stream)
{
	int *fd = stream == 0 ? &s->ch.out_fd : &s->ch.err_fd;
	sup_line_cb cb = stream == 0 ? line_cb_out : line_cb_err;
	char buf[4096];
	size_t budget = SUP_OUTPUT_PASS_BYTES;
	int eintr = 0;
	while (*fd >= 0 && budget > 0) {
		ssize_t n = output_read(*fd, buf, budget < sizeof(buf) ? budget : sizeof(buf));
		if (n > 0) {
			budget -= (size_t)n;
			sup_linebuf_feed(&s->lb[stream], buf, (size_t)n, cb, s);
			continue;
		}
		/* EINTR: retry, but boundedly (the fault point can make every
		 * read fail with it) */
		if (n < 0 && errno == EINTR && ++eintr < 64)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		sup_linebuf_flush(&s->lb[stream], cb, s);
		output_dropped_flush(s, stream);
		close(*fd);
		*fd = -1;
	}
}

static void describe_exit(sup *s, sup_error *e, const char *what)
{
	if (s->exit_signal)
		sup_error_set(e, "supervisor", 0, "%s: agent %s (pid %d) killed by signal %d (%s)", what,
			      s->agent_path, (int)s->ch.pid, s->exit_signal, strsignal(s->exit_signal));
	else
		sup_error_set(e, "supervisor", 0, "%s: agent %s (pid %d) exited with code %d", what,
			      s->agent_path, (int)s->ch.pid, s->exit_code);
	sup_error_ctx(e, "path", "%s", s->agent_path);
	sup_error_ctx(e, "pid", "%d", (int)s->ch.pid);
	if (s->exit_signal)
		sup_error_ctx(e, "signal", "%d", s->exit_signal);
	else
		sup_error_ctx(e, "exit_code", "%d", s->exit_code);
	unsigned n = s->n_last < SUP_LAST_LINES ? s->n_last : SUP_LAST_LINES;
	for (unsigned i = 0; i < n && i < SUP_ERROR_MAX_CAUSES; i++) {
		unsigned idx = (s->n_last - n + i) % SUP_LAST_LINES;
		sup_error_add_cause(e, "output: %s", s->last_lines[idx] ? s->last_lines[idx] : "");
	}
}

static void schedule_restart(sup *s);

/* The child is gone (reaped). */
static void on_child_exit(sup *s, int status)
{
	s->child_alive = false;
	s->have_exit = true;
	if (WIFSIGNALED(status)) {
		s->exit_code = -1;
		s->exit_signal = WTERMSIG(status);
	} else {
		s->exit_code = WEXITSTATUS(status);
		s->exit_signal = 0;
	}
	drain_fd(s, 0);
	drain_fd(s, 1);
	if (s->ch.pidfd >= 0) {
		close(s->ch.pidfd);
		s->ch.pidfd = -1;
	}
	json_t *ev = json_pack("{s:i, s:o, s:o, s:o}", "pid", (int)s->ch.pid, "code",
			       s->exit_signal ? json_null() : json_integer(s->exit_code), "signal",
			       s->exit_signal ? json_integer(s->exit_signal) : json_null(), "last_lines",
			       last_lines_json(s));
	sup__emit(s, NV_EV_CHILD_EXIT, ev);

	switch (s->state) {
	case SUP_STATE_STARTING:
	case SUP_STATE_HEALTH_CHECK:
		/* L6: mock at once, not after the remaining timeouts */
		describe_exit(s, &s->err, "agent exited before it was ready");
		go_mock(s, "early_exit");
		break;
	case SUP_STATE_READY:
		/* L8: calls in flight notice child_alive == false */
		s->died_us = sup__now(s);
		s->died_in_call = true;
		describe_exit(s, &s->err, "agent died");
		/* not under a call in flight: freeing the client waits for its
		 * calls, and a descendant holding the connection keeps one open
		 * (issue 16, L8-crash-holder); the call frees it when it ends */
		if (s->client && s->calls_in_flight == 0) {
			rpc_client_free(s->client);
			s->client = NULL;
		}
		go_mock(s, "agent_died");
		if (s->cfg.restart)
			schedule_restart(s);
		break;
	default:
		break;
	}
}

/* Signal the agent's process group (issue 15: descendants too). The group
 * id is the agent's pid (setpgid in sup_spawn.c; setsid keeps it), and
 * while the agent is unreaped that number cannot name anybody else's group.
 * ESRCH: no such group (a spawn seam without setpgid, or the agent moved
 * itself elsewhere): the agent alone. */
static void signal_group(sup *s, int sig)
{
	if (kill(-s->ch.pid, sig) < 0 && errno == ESRCH)
		kill(s->ch.pid, sig);
}

static void check_reap(sup *s)
{
	if (!s->child_alive)
		return;
	siginfo_t si;
	int r;
	memset(&si, 0, sizeof(si));
	/* WNOWAIT: look without reaping. While the agent is a zombie its pid
	 * (= its group's id) stays reserved, so what remains of its group can
	 * be killed with no risk of hitting a recycled id (issue 15: a
	 * grandchild holding stdout, children of an agent that died). */
	do
		r = waitid(P_PID, (id_t)s->ch.pid, &si, WEXITED | WNOHANG | WNOWAIT);
	while (r < 0 && errno == EINTR);
	if (r < 0 || si.si_pid != s->ch.pid)
		return;
	signal_group(s, SIGKILL);
	int status;
	pid_t w;
	do
		w = waitpid(s->ch.pid, &status, WNOHANG);
	while (w < 0 && errno == EINTR);
	if (w == s->ch.pid)
		on_child_exit(s, status);
}

/* ---- socket readiness (L5, S4) -------------------------------------------- */

static int probe_socket_fd(void)
{
	fiu_do_on(FLT_NAME(SUP_READY_SOCKET), {
		errno = FLT_ERRNO(SUP_READY_SOCKET);
		return -1;
	});
	return socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
}

static int probe_connect(int fd, const struct sockaddr_un *sa)
{
	fiu_do_on(FLT_NAME(SUP_READY_CONNECT), {
		errno = FLT_ERRNO(SUP_READY_CONNECT);
		return -1;
	});
	return connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
}

/* One connect() to the socket: 0 when it accepts, negative errno if not.
 * With check_peer also verifies SO_PEERCRED (S4): -EPERM on a mismatch. */
static int probe_socket(sup *s, sup_error *perr)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, s->sock, strlen(s->sock) + 1);
	int fd = probe_socket_fd();
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (probe_connect(fd, &sa) < 0)
		rc = -errno;
	if (rc == 0 && s->cfg.check_peer) {
		struct ucred cr;
		socklen_t l = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0) {
			rc = -errno;
			sup_error_set(perr, "supervisor", -rc, "check peer of %s: getsockopt SO_PEERCRED: %s",
				      s->sock, strerror(-rc));
		} else if (cr.uid != getuid() || cr.pid != s->ch.pid) {
			rc = -EPERM;
			sup_error_set(perr, "supervisor", EPERM,
				      "check peer of %s: socket served by pid %d uid %d, expected our agent pid %d uid %d",
				      s->sock, (int)cr.pid, (int)cr.uid, (int)s->ch.pid, (int)getuid());
			sup_error_ctx(perr, "peer_pid", "%d", (int)cr.pid);
			sup_error_ctx(perr, "peer_uid", "%d", (int)cr.uid);
			sup_error_ctx(perr, "socket", "%s", s->sock);
		}
	}
	close(fd);
	return rc;
}

/* S4/issue 15: the socket file our agent serves on, seen accepting: only
 * this inode (owned by us) may be removed at stop without further proof. */
static void note_socket(sup *s)
{
	struct stat st;
	if (lstat(s->sock, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_uid == geteuid()) {
		s->sock_known = true;
		s->sock_dev = st.st_dev;
		s->sock_ino = st.st_ino;
	}
}

static void on_marker(sup *s)
{
	sup__emit(s, NV_EV_MARKER, NULL);
	if (s->state == SUP_STATE_STARTING || s->state == SUP_STATE_HEALTH_CHECK) {
		sup_health_marker(&s->h, sup__now(s));
		s->next_connect_us = 0; /* probe the socket right now */
	}
}

/* ---- the health series (H1–H4) -------------------------------------------- */

const char *sup__path_for(sup_method m, int casing)
{
	static const char *const p[SUP_METHOD_COUNT_][2] = {
		{ SUP_PKG "HealthCheck", SUP_PKG "healthCheck" },
		{ SUP_PKG "ProcessPrompt", SUP_PKG "processPrompt" },
		{ SUP_PKG "CallCustomFunction", SUP_PKG "callCustomFunction" },
	};
	return p[m][casing ? 1 : 0];
}

int sup__client_new(const char *sock, const rpc_client_opts *o, rpc_client **out)
{
	fiu_return_on(FLT_NAME(SUP_RPC_CHANNEL), -FLT_ERRNO(SUP_RPC_CHANNEL));
	return rpc_client_new(sock, o, out);
}

int sup__call_start(rpc_client *c, const char *path, const uint8_t *req, size_t len, int64_t deadline_ms,
		    rpc_call **out)
{
	fiu_return_on(FLT_NAME(SUP_RPC_CALL_START), -FLT_ERRNO(SUP_RPC_CALL_START));
	return rpc_call_start(c, path, req, len, deadline_ms, out);
}

/* message/version are the agent's bytes (issue 15: kept exactly, with
 * *_b64 when they are not UTF-8; NUL bytes included). */
static void health_result_n(sup *s, bool ok, const char *status, json_t *healthy, const char *message,
			    size_t message_len, const char *version, size_t version_len)
{
	int64_t now = sup__now(s);
	json_t *f = json_pack("{s:i, s:b, s:s, s:o, s:f}", "attempt", s->h.attempt, "ok", ok, "status", status,
			      "healthy", healthy ? healthy : json_null(), "duration_ms", ms_of(now - s->hc_start_us));
	if (f) {
		sup_json_set_bytes(f, "message", message ? message : "", message ? message_len : 0);
		sup_json_set_bytes(f, "version", version ? version : "", version ? version_len : 0);
	}
	sup__emit(s, NV_EV_HEALTH_RESULT, f);
	if (!ok) {
		/* message points into the reply: not NUL-terminated (%.*s; the
		 * sanitizer lane caught the %s this was) */
		int mlen = message ? (int)(message_len < 400 ? message_len : 400) : 0;
		sup_error_set(&s->err, "supervisor", 0, "health check %d/%d of %s failed: %s%s%.*s", s->h.attempt,
			      s->h.attempts, s->sock, status, mlen ? ": " : "", mlen, message ? message : "");
		sup_error_ctx(&s->err, "attempt", "%d", s->h.attempt);
		sup_error_ctx(&s->err, "status", "%s", status);
		sup_error_ctx(&s->err, "socket", "%s", s->sock);
		sup_error_ctx(&s->err, "path", "%s", s->agent_path);
	} else if (version) {
		size_t n = version_len < sizeof(s->agent_version) - 1 ? version_len : sizeof(s->agent_version) - 1;
		memcpy(s->agent_version, version, n);
		s->agent_version[n] = '\0';
		s->agent_version_len = n;
	}
	/* Issue 13: the channel that just confirmed the agent carries the
	 * calls that follow — already connected, no second channel, thread
	 * and handshake on the way to ready (≈ 4.5 ms measured between
	 * health_result and ready; the first call then finds its connection
	 * open). H1's fresh channel per attempt concerns the attempts, which
	 * are over. Its connect-attempt timeout stays H3's deadline (1 s by
	 * default) instead of grpc's 20 s: a reconnect to a peer that accepts
	 * and never answers gives up sooner, which no call deadline minds. */
	if (ok && !s->client && s->hc_client) {
		if (s->hc_call) {
			rpc_call_free(s->hc_call);
			s->hc_call = NULL;
		}
		s->client = s->hc_client;
		s->hc_client = NULL;
	}
	health_call_release(s);
	sup_health_attempt_done(&s->h, now, ok);
}

static void health_result(sup *s, bool ok, const char *status, json_t *healthy, const char *message,
			  const char *version)
{
	health_result_n(s, ok, status, healthy, message, message ? strlen(message) : 0, version,
			version ? strlen(version) : 0);
}

static int start_health_call(sup *s, const char *path)
{
	Neira__Agent__V1__HealthCheckRequest req = NEIRA__AGENT__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = (char *)"python-agent"; /* H2 */
	uint8_t buf[64];
	size_t n = neira__agent__v1__health_check_request__pack(&req, buf);
	int64_t left_ms = (s->hc_deadline_us - sup__now(s) + 999) / 1000;
	if (left_ms < 1)
		left_ms = 1;
	s->hc_path = path;
	return sup__call_start(s->hc_client, path, buf, n, left_ms, &s->hc_call);
}

static void start_attempt(sup *s)
{
	sup__set_state(s, SUP_STATE_HEALTH_CHECK);
	sup__emit(s, NV_EV_HEALTH_ATTEMPT, json_pack("{s:i, s:i}", "attempt", s->h.attempt, "of", s->h.attempts));
	s->hc_start_us = sup__now(s);
	s->hc_deadline_us = s->hc_start_us + s->cfg.health_deadline_ms * 1000; /* H3 */
	s->hc_case_retried = false;
	/* L5: no gRPC call before the socket accepts a connection */
	sup_error perr = SUP_ERROR_INIT;
	int rc = probe_socket(s, &perr);
	if (rc == -EPERM && s->cfg.check_peer && sup_error_is_set(&perr)) {
		sup_error_copy(&s->err, &perr);
		sup_error_destroy(&perr);
		go_mock(s, "peer_check_failed");
		return;
	}
	sup_error_destroy(&perr);
	if (rc == 0)
		note_socket(s);
	if (rc < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "connect %s: %s (%s)", s->sock, sup_errno_name(-rc), strerror(-rc));
		health_result(s, false, "CONNECT_FAILED", NULL, msg, NULL);
		return;
	}
	/* a fresh channel per attempt: gRPC's reconnect backoff never shifts
	 * the H1 schedule (H1(c)) */
	rpc_client_opts o = RPC_CLIENT_OPTS_INIT;
	o.reconnect_backoff_ms = 20;
	/* H3: an attempt's connection may not outlive the attempt, or a peer
	 * that accepts and never answers leaves grpc's socket open for 20 s.
	 * 100 ms past our own deadline: grpc's ms timers fired it 0.06 ms
	 * before H3's deadline on our clock once (S4-impostor, a flake hunt),
	 * ending the attempt early and as UNAVAILABLE; our deadline comes first */
	o.connect_timeout_ms = (int)s->cfg.health_deadline_ms + 100;
	rc = sup__client_new(s->sock, &o, &s->hc_client);
	if (rc == 0)
		rc = start_health_call(s, sup__path_for(SUP_METHOD_HEALTH, s->casing[SUP_METHOD_HEALTH]));
	if (rc < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "start call: %s", strerror(-rc));
		health_result(s, false, "INTERNAL", NULL, msg, NULL);
	}
}

static void finish_health_call(sup *s)
{
	rpc_result r = RPC_RESULT_INIT;
	if (rpc_call_finish(s->hc_call, &r) < 0) {
		health_result(s, false, "INTERNAL", NULL, "finish call failed", NULL);
		return;
	}
	if (r.status == RPC_UNIMPLEMENTED && !s->hc_case_retried && !s->casing_known[SUP_METHOD_HEALTH]) {
		/* M1 during the series: the same attempt retries the other casing */
		int other = !s->casing[SUP_METHOD_HEALTH];
		const char *from = s->hc_path, *to = sup__path_for(SUP_METHOD_HEALTH, other);
		sup__emit(s, NV_EV_CALL_CASE_RETRY, json_pack("{s:s, s:s, s:s}", "method", "health", "from", from, "to", to));
		rpc_result_destroy(&r);
		rpc_call_free(s->hc_call);
		s->hc_call = NULL;
		s->hc_case_retried = true;
		if (start_health_call(s, to) < 0)
			health_result(s, false, "INTERNAL", NULL, "start call failed", NULL);
		else
			s->casing[SUP_METHOD_HEALTH] = other;
		return;
	}
	if (r.status != RPC_OK) {
		char msg[600];
		if (r.status == RPC_UNIMPLEMENTED)
			snprintf(msg, sizeof(msg), "health: no casing works, tried %s and %s: %s",
				 sup__path_for(SUP_METHOD_HEALTH, 0), sup__path_for(SUP_METHOD_HEALTH, 1), r.details);
		else
			snprintf(msg, sizeof(msg), "%s", r.details ? r.details : "");
		health_result(s, false, rpc_status_name(r.status), NULL, msg, NULL);
		rpc_result_destroy(&r);
		return;
	}
	s->casing_known[SUP_METHOD_HEALTH] = true;
	Neira__Agent__V1__HealthCheckResponse *resp =
		neira__agent__v1__health_check_response__unpack(NULL, r.len, r.data);
	if (!resp) {
		health_result(s, false, "INTERNAL", NULL, "undecodable HealthCheckResponse", NULL);
	} else {
		/* H2: success iff healthy == true; message and version logged,
		 * byte for byte (protobuf-c's char * ends at a NUL) */
		const char *msg, *ver;
		size_t msg_n, ver_n;
		if (sup_wire_bytes(r.data, r.len, 2, &msg, &msg_n) < 0 || sup_wire_bytes(r.data, r.len, 3, &ver, &ver_n) < 0)
			msg = "", msg_n = 0, ver = "", ver_n = 0; /* unreachable: protobuf-c parsed it */
		health_result_n(s, resp->healthy, resp->healthy ? "OK" : "UNHEALTHY", json_boolean(resp->healthy), msg,
				msg_n, ver, ver_n);
		neira__agent__v1__health_check_response__free_unpacked(resp, NULL);
	}
	rpc_result_destroy(&r);
}

static void go_ready(sup *s)
{
	int64_t now = sup__now(s);
	if (s->init_ms < 0) {
		s->init_ms = ms_of(now - s->init_start_us);
		sup_metrics_observe_init(&s->m, s->init_ms);
	}
	rpc_client_opts o = RPC_CLIENT_OPTS_INIT;
	o.reconnect_backoff_ms = 20;
	int rc = s->client ? 0 : sup__client_new(s->sock, &o, &s->client);
	if (rc < 0) {
		sup_error_set(&s->err, "supervisor", -rc, "create client for %s: %s (%s)", s->sock,
			      sup_errno_name(-rc), strerror(-rc));
		sup_error_ctx(&s->err, "socket", "%s", s->sock);
		go_mock(s, "spawn_failed");
		return;
	}
	sup_error_destroy(&s->err);
	s->reason = NULL;
	sup__set_state(s, SUP_STATE_READY);
	json_t *f = json_pack("{s:f}", "init_ms", s->init_ms);
	if (f) /* issue 15: the version's bytes, never an empty event */
		sup_json_set_bytes(f, "agent_version", s->agent_version, s->agent_version_len);
	sup__emit(s, NV_EV_READY, f);
}

static void drive_health(sup *s)
{
	if (s->state != SUP_STATE_STARTING && s->state != SUP_STATE_HEALTH_CHECK)
		return;
	int64_t now = sup__now(s);
	/* L5: socket readiness = a connect() succeeds, probed every tick
	 * (and at once when the marker arrives) until the ready deadline */
	if (s->h.state == SUP_HS_WAIT_READY && !s->h.socket_ok && now >= s->next_connect_us) {
		s->next_connect_us = now + SUP_CONNECT_TICK_US;
		sup_error perr = SUP_ERROR_INIT;
		int rc = probe_socket(s, &perr);
		if (rc == -EPERM && sup_error_is_set(&perr)) {
			sup_error_copy(&s->err, &perr);
			sup_error_destroy(&perr);
			go_mock(s, "peer_check_failed");
			return;
		}
		sup_error_destroy(&perr);
		if (rc == 0) {
			note_socket(s);
			sup__emit(s, NV_EV_SOCKET_USABLE, NULL);
			sup_health_socket_usable(&s->h, now);
		}
	}
	for (;;) {
		if (s->state != SUP_STATE_STARTING && s->state != SUP_STATE_HEALTH_CHECK)
			return;
		now = sup__now(s);
		sup_health_action a = sup_health_step(&s->h, now);
		switch (a) {
		case SUP_HA_NONE:
			return;
		case SUP_HA_READY_TIMEOUT:
			sup__emit(s, NV_EV_READY_TIMEOUT, json_pack("{s:I}", "timeout_ms", (json_int_t)s->cfg.ready_timeout_ms));
			break;
		case SUP_HA_START_ATTEMPT:
			start_attempt(s);
			break;
		case SUP_HA_WAIT_START:
			sup__emit(s, NV_EV_HEALTH_WAIT, json_pack("{s:i, s:f}", "after_attempt", s->h.attempt, "planned_ms",
							      ms_of(s->h.planned_us)));
			break;
		case SUP_HA_WAIT_END:
			sup__emit(s, NV_EV_HEALTH_WAIT_END,
				  json_pack("{s:i, s:f, s:f, s:s}", "after_attempt", s->h.attempt, "planned_ms",
					    ms_of(s->h.planned_us), "actual_ms", ms_of(s->h.wait_actual_us), "reason",
					    s->h.wait_end_reason));
			break;
		case SUP_HA_READY:
			go_ready(s);
			return;
		case SUP_HA_FAILED:
			sup_error_add_cause(&s->err, "every health check failed (%d attempts, waits %lld ms base)",
					    s->h.attempts, (long long)s->cfg.health_base_delay_ms);
			go_mock(s, "health_failed");
			return;
		}
	}
}

/* ---- the event loop --------------------------------------------------------- */

static int64_t min_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int sup__loop_once(sup *s, int64_t deadline_us, int extra_fd, bool *extra_ready, rpc_call *call,
		   bool *call_ready)
{
	struct pollfd p[6];
	nfds_t n = 0;
	int i_out = -1, i_err = -1, i_pid = -1, i_hc = -1, i_extra = -1, i_call = -1;
	if (extra_ready)
		*extra_ready = false;
	if (call_ready)
		*call_ready = false;

	sup_state before = s->state;
	drive_health(s);
	/* The pass's first drive_health may end the start-up (a peer check
	 * failing at a probe, S4): the child is then stopped and its pipes are
	 * closed, so the wait below could have nothing to wait for and no end —
	 * init never returned. A changed state goes back to the caller, which
	 * looks at its own condition again. */
	if (s->state != before)
		return 0;
	int64_t dl = deadline_us;
	if (s->state == SUP_STATE_STARTING || s->state == SUP_STATE_HEALTH_CHECK) {
		dl = min_deadline(dl, sup_health_deadline(&s->h));
		if (s->h.state == SUP_HS_WAIT_READY && !s->h.socket_ok)
			dl = min_deadline(dl, s->next_connect_us);
		if (s->hc_call)
			dl = min_deadline(dl, s->hc_deadline_us);
	}
	if (s->child_alive && s->ch.pidfd < 0)
		dl = min_deadline(dl, sup__now(s) + SUP_REAP_TICK_US);

	if (s->ch.out_fd >= 0) {
		i_out = (int)n;
		p[n++] = (struct pollfd){ .fd = s->ch.out_fd, .events = POLLIN };
	}
	if (s->ch.err_fd >= 0) {
		i_err = (int)n;
		p[n++] = (struct pollfd){ .fd = s->ch.err_fd, .events = POLLIN };
	}
	if (s->child_alive && s->ch.pidfd >= 0) {
		i_pid = (int)n;
		p[n++] = (struct pollfd){ .fd = s->ch.pidfd, .events = POLLIN };
	}
	if (s->hc_call) {
		i_hc = (int)n;
		p[n++] = (struct pollfd){ .fd = rpc_call_fd(s->hc_call), .events = POLLIN };
	}
	if (extra_fd >= 0) {
		i_extra = (int)n;
		p[n++] = (struct pollfd){ .fd = extra_fd, .events = POLLIN };
	}
	if (call) {
		i_call = (int)n;
		p[n++] = (struct pollfd){ .fd = rpc_call_fd(call), .events = POLLIN };
	}
	int timeout = -1;
	if (dl >= 0) {
		int64_t left = dl - sup__now(s);
		timeout = left <= 0 ? 0 : (int)((left + 999) / 1000);
	}
	int rc = s->env.poll(s->env.ud, p, n, timeout);
	if (rc < 0 && rc != -EINTR) {
		/* still notice a child that is gone: L7's wait for the reap
		 * loops on this function and must end even if poll keeps failing */
		if (s->child_alive)
			check_reap(s);
		return rc;
	}
	if (rc > 0) {
		if (i_out >= 0 && p[i_out].revents)
			drain_fd(s, 0);
		if (i_err >= 0 && p[i_err].revents)
			drain_fd(s, 1);
		if (i_extra >= 0 && p[i_extra].revents && extra_ready)
			*extra_ready = true;
		if (i_call >= 0 && p[i_call].revents && call_ready)
			*call_ready = true;
		if (i_hc >= 0 && p[i_hc].revents && s->hc_call && rpc_call_done(s->hc_call))
			finish_health_call(s);
	}
	/* the pidfd last: output written just before exit is read first */
	if ((i_pid >= 0 && rc > 0 && p[i_pid].revents) || (s->child_alive && s->ch.pidfd < 0))
		check_reap(s);
	/* H3: our own per-attempt deadline on the injected clock */
	if (s->hc_call && sup__now(s) >= s->hc_deadline_us) {
		rpc_call_cancel(s->hc_call);
		health_result(s, false, "DEADLINE_EXCEEDED", NULL, "health check deadline exceeded", NULL);
	}
	drive_health(s);
	return 0;
}

/* ---- init (L1–L6, S1–S4) --------------------------------------------------- */

static int build_envp(sup *s)
{
	static const char *const ours[] = { "NEIRA_AGENT_MODE=", "NEIRA_LOG_LEVEL=", "NEIRA_SOCKET_PATH=" };
	size_t n = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	free_envp(s);
	fiu_return_on(FLT_NAME(SUP_ALLOC_ENVP), -FLT_ERRNO(SUP_ALLOC_ENVP));
	s->envp = calloc(n + 4, sizeof(char *));
	if (!s->envp)
		return -ENOMEM;
	size_t k = 0;
	for (char **e = environ; e && *e; e++) {
		bool skip = false;
		for (size_t i = 0; i < 3; i++)
			if (strncmp(*e, ours[i], strlen(ours[i])) == 0)
				skip = true;
		if (!skip)
			s->envp[k++] = strdup(*e);
	}
	/* L3 */
	s->envp[k++] = strdup("NEIRA_AGENT_MODE=production");
	s->envp[k++] = strdup("NEIRA_LOG_LEVEL=info");
	if (asprintf(&s->envp[k++], "NEIRA_SOCKET_PATH=%s", s->sock) < 0)
		s->envp[k - 1] = NULL;
	for (size_t i = 0; i < k; i++)
		if (!s->envp[i])
			return -ENOMEM;
	return 0;
}

static const char *tmpdir(void)
{
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* ---- the socket file: whose it is (S4, L7, issue 15) ------------------------ */

/* With a private dir every access goes through its held fd, never through
 * its name: an agent may replace the name with a symlink elsewhere. */
static int sock_lstat(sup *s, struct stat *st)
{
	if (s->privdir_fd >= 0)
		return fstatat(s->privdir_fd, SUP_SOCK_NAME, st, AT_SYMLINK_NOFOLLOW);
	return lstat(s->sock, st);
}

static int sock_unlink(sup *s)
{
	return s->privdir_fd >= 0 ? unlinkat(s->privdir_fd, SUP_SOCK_NAME, 0) : unlink(s->sock);
}

/* One connect(): 0 when something accepts, else -errno (-ECONNREFUSED:
 * nobody listens — the only proof that a socket file is stale). */
static int sock_connect(sup *s)
{
	char via[64];
	const char *p = s->sock;
	if (s->privdir_fd >= 0) {
		snprintf(via, sizeof(via), "/proc/self/fd/%d/" SUP_SOCK_NAME, s->privdir_fd);
		p = via;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(p) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, p, strlen(p) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (const struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* What is at the socket path: "absent", "not_socket", "ours" (the inode our
 * agent served on, owned by us), "stale" (a socket nobody listens on:
 * connect → ECONNREFUSED, and still the same file afterwards), "foreign"
 * (another user's; only with at_stop), or "live" (it accepts, or cannot be
 * proven stale). Only "ours" and "stale" may be unlinked. *rc is set to 0. */
static const char *judge_socket(sup *s, bool at_stop, int *rc)
{
	struct stat st, st2;
	*rc = 0;
	if (sock_lstat(s, &st) < 0)
		return "absent";
	if (!S_ISSOCK(st.st_mode))
		return "not_socket";
	if (s->sock_known && st.st_dev == s->sock_dev && st.st_ino == s->sock_ino && st.st_uid == geteuid())
		return "ours";
	if (at_stop && st.st_uid != geteuid())
		return "foreign";
	if (sock_connect(s) != -ECONNREFUSED)
		return "live";
	if (sock_lstat(s, &st2) < 0 || st2.st_dev != st.st_dev || st2.st_ino != st.st_ino)
		return "live"; /* replaced during the probe: not the file we judged */
	return "stale";
}

/* S1, S3, S4: decide the socket path; config errors before any spawn. */
static int prepare_socket(sup *s)
{
	sup_error e = SUP_ERROR_INIT;
	int rc;
	if (s->cfg.socket_private_dir && !s->privdir[0]) {
		char base[4096];
		snprintf(base, sizeof(base), "%s", tmpdir());
		size_t bl = strlen(base);
		while (bl > 1 && base[bl - 1] == '/')
			base[--bl] = '\0';
		snprintf(s->privdir, sizeof(s->privdir), "%s/neira-sup.XXXXXX", base);
		if (!mkdtemp(s->privdir)) { /* mkdtemp: mode 0700 (S4) */
			rc = -errno;
			sup_error_set(&s->err, "supervisor", -rc, "create private socket dir %s: %s (%s)", s->privdir,
				      sup_errno_name(-rc), strerror(-rc));
			s->privdir[0] = '\0';
			return rc;
		}
		/* issue 15: held open, so that stop works inside this very
		 * directory even if the agent swaps its name for a symlink */
		struct stat dst;
		s->privdir_fd = open(s->privdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s->privdir_fd < 0 || fstat(s->privdir_fd, &dst) < 0) {
			rc = -errno;
			sup_error_set(&s->err, "supervisor", -rc, "open private socket dir %s: %s (%s)", s->privdir,
				      sup_errno_name(-rc), strerror(-rc));
			if (s->privdir_fd >= 0)
				close(s->privdir_fd);
			s->privdir_fd = -1;
			rmdir(s->privdir);
			s->privdir[0] = '\0';
			return rc;
		}
		s->privdir_dev = dst.st_dev;
		s->privdir_ino = dst.st_ino;
		char p[8192];
		snprintf(p, sizeof(p), "%s/" SUP_SOCK_NAME, s->privdir);
		rc = sup_path_check_socket(p, &e);
		if (rc == 0)
			memcpy(s->sock, p, strlen(p) + 1); /* checked: fits (S3) */
	} else if (s->cfg.socket_path && *s->cfg.socket_path) {
		rc = sup_path_check_socket(s->cfg.socket_path, &e);
		if (rc == 0)
			memcpy(s->sock, s->cfg.socket_path, strlen(s->cfg.socket_path) + 1);
	} else if (!s->privdir[0]) {
		rc = sup_path_default_socket(NULL, s->sock, sizeof(s->sock), &e);
	} else {
		rc = 0;
	}
	if (rc < 0) {
		sup_error_copy(&s->err, &e);
		sup_error_destroy(&e);
		return rc;
	}
	sup_error_destroy(&e);
	/* L5: a file left from an earlier run must never count as readiness;
	 * issue 15: but only a provably stale one is removed — a socket that
	 * accepts is somebody's live server (a second supervisor on the same
	 * default path), and deleting it would cut that one off */
	const char *verdict = judge_socket(s, false, &rc);
	if (strcmp(verdict, "not_socket") == 0) {
		sup_error_set(&s->err, "supervisor", EEXIST, "prepare socket %s: a non-socket file is in the way",
			      s->sock);
		sup_error_ctx(&s->err, "socket", "%s", s->sock);
		return -EEXIST;
	}
	if (strcmp(verdict, "live") == 0) {
		sup_error_set(&s->err, "supervisor", EADDRINUSE,
			      "prepare socket %s: a live server already accepts connections there (another "
			      "supervisor's agent?); not removed, not spawning onto it",
			      s->sock);
		sup_error_ctx(&s->err, "socket", "%s", s->sock);
		return -EADDRINUSE;
	}
	if (strcmp(verdict, "absent") != 0) { /* stale (or our previous agent's) */
		if (sock_unlink(s) < 0 && errno != ENOENT) {
			rc = -errno;
			sup_error_set(&s->err, "supervisor", -rc, "remove stale socket %s: %s (%s)", s->sock,
				      sup_errno_name(-rc), strerror(-rc));
			return rc;
		}
		json_t *f = json_object();
		if (f)
			sup_json_set_bytes(f, "path", s->sock, strlen(s->sock));
		sup__emit(s, NV_EV_SOCKET_STALE_REMOVED, f);
	}
	return 0;
}

static bool is_missing_errno(int e)
{
	return e == ENOENT || e == EACCES || e == ENOEXEC || e == ENOTDIR || e == ELOOP || e == EISDIR ||
	       e == EPERM || e == ENAMETOOLONG;
}

/* Spawn and run the readiness pipeline until ready or mock. */
static void start_agent(sup *s)
{
	s->init_start_us = sup__now(s);
	s->init_ms = -1;
	s->in_init = true;
	sup__set_state(s, SUP_STATE_STARTING);

	sup_error e = SUP_ERROR_INIT;
	int rc = sup_path_agent(s->cfg.agent_path, s->cfg.agents_dir, NULL, NULL, s->agent_path,
				sizeof(s->agent_path), &e);
	if (rc < 0) {
		sup_error_copy(&s->err, &e);
		sup_error_destroy(&e);
		go_mock(s, "config_error");
		goto out;
	}
	sup_error_destroy(&e);
	rc = prepare_socket(s);
	if (rc < 0) {
		go_mock(s, rc == -EADDRINUSE ? "socket_in_use" : "config_error");
		goto out;
	}
	s->sock_known = false; /* learnt again from this agent (note_socket) */
	if (build_envp(s) < 0) {
		sup_error_set(&s->err, "supervisor", ENOMEM, "spawn %s: build environment: out of memory",
			      s->agent_path);
		go_mock(s, "spawn_failed");
		goto out;
	}
	s->n_last = 0;
	rc = s->env.spawn(s->env.ud, s->agent_path, s->envp, &s->ch, &e);
	if (rc < 0) {
		sup_error_copy(&s->err, &e);
		sup_error_destroy(&e);
		json_t *f = json_pack("{s:s}", "errno", sup_errno_name(-rc));
		if (f) { /* issue 15: the path's bytes, whatever they are */
			sup_json_set_bytes(f, "path", s->agent_path, strlen(s->agent_path));
			sup_json_set_bytes(f, "message", s->err.message, strlen(s->err.message));
		}
		sup__emit(s, NV_EV_SPAWN_FAILED, f);
		go_mock(s, is_missing_errno(-rc) ? "missing_executable" : "spawn_failed");
		goto out;
	}
	sup_error_destroy(&e);
	s->child_alive = true;
	s->have_exit = false;
	sup_linebuf_destroy(&s->lb[0]);
	sup_linebuf_destroy(&s->lb[1]);
	sup_linebuf_init(&s->lb[0], 4096);
	sup_linebuf_init(&s->lb[1], 4096);
	json_t *sf = json_pack("{s:i}", "pid", (int)s->ch.pid);
	if (sf) { /* issue 15: paths are bytes */
		sup_json_set_bytes(sf, "path", s->agent_path, strlen(s->agent_path));
		sup_json_set_bytes(sf, "socket", s->sock, strlen(s->sock));
	}
	sup__emit(s, NV_EV_SPAWN, sf);
	/* L5: marker and socket share one deadline counted from the spawn */
	int64_t now = sup__now(s);
	sup_health_init(&s->h, s->cfg.health_attempts, s->cfg.health_base_delay_ms * 1000,
			s->cfg.ready_timeout_ms * 1000, now);
	s->next_connect_us = now;
	while (s->state == SUP_STATE_STARTING || s->state == SUP_STATE_HEALTH_CHECK) {
		int lrc = sup__loop_once(s, -1, -1, NULL, NULL, NULL);
		if (lrc < 0) {
			/* the loop's own errno, not whatever errno holds by now */
			sup_error_set(&s->err, "supervisor", -lrc, "event loop: poll: %s (%s)", sup_errno_name(-lrc),
				      strerror(-lrc));
			go_mock(s, "spawn_failed");
		}
	}
out:
	s->in_init = false;
}

int sup_init(sup *s)
{
	return_if_fail(s, -EINVAL);
	return_if_fail(!s->init_called, -EALREADY);
	s->init_called = true;
	sup__emit(s, NV_EV_INIT_START, NULL);
	start_agent(s);
	return s->state == SUP_STATE_READY ? 1 : 0;
}

/* ---- restart (L8, beyond) ---------------------------------------------------- */

static void schedule_restart(sup *s)
{
	if (s->restarts >= s->cfg.restart_max)
		return;
	s->restarts++;
	int64_t delay = s->cfg.restart_base_delay_ms;
	for (int i = 1; i < s->restarts && i < 30; i++)
		delay *= 2;
	s->restart_pending = true;
	s->restart_due_us = sup__now(s) + delay * 1000;
	sup__emit(s, NV_EV_RESTART, json_pack("{s:i, s:I}", "attempt", s->restarts, "delay_ms", (json_int_t)delay));
}

/* Called only at top level (never from inside the loop): a due restart runs
 * the whole pipeline again; success observes python_api.recovery_time. */
static void run_restart_if_due(sup *s)
{
	if (!s->restart_pending || s->state != SUP_STATE_MOCK || sup__now(s) < s->restart_due_us)
		return;
	s->restart_pending = false;
	health_call_release(s);
	start_agent(s);
	if (s->state == SUP_STATE_READY) {
		sup_metrics_observe_recovery(&s->m, ms_of(sup__now(s) - s->died_us));
		sup_breaker_state from = s->br.state;
		sup_breaker_init(&s->br, s->cfg.breaker_threshold, s->cfg.breaker_open_ms * 1000);
		sup__breaker_event(s, from);
	} else if (s->cfg.restart) {
		schedule_restart(s);
	}
}

int sup_run(sup *s, int64_t timeout_ms, int extra_fd)
{
	return_if_fail(s, -EINVAL);
	/* issue 15: -1 is forever; other negatives and more than a day are
	 * mistakes (and near INT64_MAX the µs sum below would overflow) */
	return_if_fail(timeout_ms >= -1 && timeout_ms <= SUP_MAX_MS, -ERANGE);
	int64_t end = timeout_ms < 0 ? -1 : sup__now(s) + timeout_ms * 1000;
	for (;;) {
		run_restart_if_due(s);
		int64_t dl = end;
		if (s->restart_pending)
			dl = min_deadline(dl, s->restart_due_us);
		bool extra = false;
		int rc = sup__loop_once(s, dl, extra_fd, &extra, NULL, NULL);
		if (rc < 0)
			return rc;
		if (extra)
			return 1;
		if (end >= 0 && sup__now(s) >= end) {
			run_restart_if_due(s);
			return 0;
		}
	}
}

/* ---- stop (L7) ---------------------------------------------------------------- */

static void shutdown_step(sup *s, const char *step, int64_t start_us, json_t *extra)
{
	json_t *f = extra ? extra : json_object();
	json_object_set_new(f, "step", json_string(step));
	json_object_set_new(f, "elapsed_ms", json_real(ms_of(sup__now(s) - start_us)));
	sup__emit(s, NV_EV_SHUTDOWN, f);
}

static void terminate_child(sup *s, bool announce)
{
	(void)announce;
	int64_t start = sup__now(s);
	sup_state prev = s->state;
	if (s->child_alive) {
		s->state = SUP_STATE_STOPPING; /* exit now is expected: no L6/L8 */
		/* issue 15: the whole process group, not the agent alone */
		signal_group(s, SIGTERM);
		shutdown_step(s, "sigterm", start, json_pack("{s:i, s:i}", "pid", (int)s->ch.pid, "pgid", (int)s->ch.pid));
		int64_t grace_end = sup__now(s) + s->cfg.shutdown_grace_ms * 1000;
		while (s->child_alive && sup__now(s) < grace_end)
			sup__loop_once(s, grace_end, -1, NULL, NULL, NULL);
		if (s->child_alive) {
			signal_group(s, SIGKILL);
			shutdown_step(s, "sigkill", start, json_pack("{s:i, s:i}", "pid", (int)s->ch.pid, "pgid", (int)s->ch.pid));
			while (s->child_alive)
				sup__loop_once(s, -1, -1, NULL, NULL, NULL);
		}
		shutdown_step(s, "reaped", start,
			      json_pack("{s:i, s:o, s:o}", "pid", (int)s->ch.pid, "code",
					s->exit_signal ? json_null() : json_integer(s->exit_code), "signal",
					s->exit_signal ? json_integer(s->exit_signal) : json_null()));
		s->state = prev;
	}
	drain_fd(s, 0);
	drain_fd(s, 1);
	output_dropped_flush(s, 0);
	output_dropped_flush(s, 1);
	for (int *fd = &s->ch.out_fd; fd; fd = fd == &s->ch.out_fd ? &s->ch.err_fd : NULL)
		if (*fd >= 0) {
			close(*fd);
			*fd = -1;
		}
	if (s->ch.pidfd >= 0) {
		close(s->ch.pidfd);
		s->ch.pidfd = -1;
	}
	/* L7 + issue 15: remove the socket only if it is the one our agent
	 * served on or provably stale — never another server's live socket —
	 * and inside the private dir through its fd, never through a symlink */
	if (s->sock[0]) {
		int unused;
		const char *why = judge_socket(s, true, &unused);
		bool existed = strcmp(why, "absent") != 0 && strcmp(why, "not_socket") != 0;
		bool removed = (strcmp(why, "ours") == 0 || strcmp(why, "stale") == 0) && sock_unlink(s) == 0;
		json_t *f = json_pack("{s:b, s:b, s:s}", "existed", existed, "removed", removed, "why", why);
		if (f)
			sup_json_set_bytes(f, "path", s->sock, strlen(s->sock));
		shutdown_step(s, "socket_removed", start, f);
	}
	if (s->privdir[0]) {
		struct stat st;
		if (lstat(s->privdir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_dev == s->privdir_dev &&
		    st.st_ino == s->privdir_ino) {
			rmdir(s->privdir);
		} else if (lstat(s->privdir, &st) == 0 && S_ISLNK(st.st_mode)) {
			/* the agent put a symlink where our dir was: unlink() removes
			 * the link itself (never what it points to) */
			unlink(s->privdir);
			json_t *f = json_object();
			if (f)
				sup_json_set_bytes(f, "path", s->privdir, strlen(s->privdir));
			shutdown_step(s, "privdir_replaced", start, f);
		}
		if (s->privdir_fd >= 0)
			close(s->privdir_fd);
		s->privdir_fd = -1;
		s->privdir[0] = '\0';
	}
}

int sup_stop(sup *s, int *exit_code, int *sig, double *elapsed_ms)
{
	return_if_fail(s, -EINVAL);
	int64_t start = sup__now(s);
	bool had_child = s->child_alive;
	if (!s->stopped) {
		s->restart_pending = false;
		sup__set_state(s, SUP_STATE_STOPPING);
		health_call_release(s);
		if (s->client) {
			rpc_client_free(s->client);
			s->client = NULL;
		}
		terminate_child(s, true);
		/* L7 "every descriptor closed": grpc closes a destroyed channel's
		 * socket and its event engine's poller (epoll, eventfd) on its own
		 * threads, after rpc_client_free returns — the harness once saw
		 * them still open after the stop reply (P2-stability, 7 → 10
		 * fds). Dropping our grpc_init reference here waits for that
		 * (grpc_shutdown_blocking when it is the last one). */
		if (s->grpc_ref) {
			rpc_global_shutdown();
			s->grpc_ref = false;
		}
		s->stopped = true;
		sup__set_state(s, SUP_STATE_STOPPED);
		shutdown_step(s, "done", start, json_pack("{s:b}", "had_child", had_child));
	}
	if (exit_code)
		*exit_code = s->have_exit ? s->exit_code : -1;
	if (sig)
		*sig = s->have_exit ? s->exit_signal : 0;
	if (elapsed_ms)
		*elapsed_ms = ms_of(sup__now(s) - start);
	return 0;
}
