/* neira-fake-agent: a scripted misbehaving agent. It serves the reference
 * agent's own handlers (agent_service) and only scripts the misbehaviour
 * around them: late or missing binds and markers, impostor listeners, crashes
 * mid-call, hangs, unhealthy answers, wrong method casing, stubborn SIGTERM
 * handling. Every step it takes is logged on stderr as "step: ...". */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_service.h"
#include "fa_script.h"
#include "neira_config.h"
#include "rpc.h"

#define FA_NAME "neira-fake-agent"
#define FA_MAX_CONNS 64
#define FA_SLOW_DEFAULT_MS 3000

typedef struct fa_agent fa_agent;

/* ud of one registered method path */
typedef struct {
	fa_agent *a;
	fa_method_id m;
	rpc_handler_fn fn; /* the reference handler it wraps */
} fa_handler;

struct fa_agent {
	fa_script sc;
	char path[4096];       /* the socket path (S1) */
	char bound_path[4200]; /* what was actually bound */
	int sfd;               /* signalfd from ag_signals_block() */
	int64_t start_ms;
	int64_t exit_at;       /* exit.when after_ms: deadline, or -1 */
	bool stopping;
	int64_t stop_at;
	ag_service svc;
	rpc_server *srv;
	int listen_fd;         /* impostor listener, or -1 */
	bool raw_file;         /* we put a raw socket file at bound_path */
	int conns[FA_MAX_CONNS];
	size_t n_conns;
	atomic_long counts[FA_M_COUNT];
	fa_handler handlers[FA_M_COUNT];
	char paths[2][FA_M_COUNT][96]; /* [camel][method]: must outlive the server */
};

static fa_agent agent; /* the process's one agent; its handlers reach it through ud */

/* number of the HealthCheck call the current handler thread is answering */
static _Thread_local long fa_cur_health_call;

/* ---- time: the one place that reads the clock ---------------------------- */

/* serve_from_child: fork before anything else (no grpc yet, so no fork
 * hazards). Returns 0 in the child, which goes on as the agent; the parent
 * relays stop signals to it and exits as it does. */
static int fa_launcher(void)
{
	sigset_t set;
	ag_stop_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL); /* the child inherits it */
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		return 0;
	ag_log(AG_LOG_INFO, "step: launcher, serving from forked child pid %d", (int)pid);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = pfd, .events = POLLIN } };
		/* without a pidfd (valgrind), look at the child every 50 ms */
		int n = poll(p, pfd >= 0 ? 2 : 1, pfd >= 0 ? -1 : 50);
		if (n < 0 && errno != EINTR)
			break;
		struct signalfd_siginfo si;
		if (n > 0 && (p[0].revents & POLLIN) && read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			ag_log(AG_LOG_INFO, "step: launcher relays signal %d to pid %d", (int)si.ssi_signo, (int)pid);
			kill(pid, (int)si.ssi_signo);
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			ag_log(AG_LOG_INFO, "step: launcher's child ended, launcher exits too");
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
	}
	_exit(1);
}

static int64_t fa_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- output ----------------------------------------------------------------- */

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) { /* a non-blocking pipe from the parent: wait for room */
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				poll(&pfd, 1, -1);
				continue;
			}
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fa_out(const char *what, const void *buf, size_t len)
{
	int rc = write_all(STDOUT_FILENO, buf, len);
	if (rc < 0)
		ag_log(AG_LOG_WARN, "cannot write %s to stdout: %s", what, strerror(-rc));
}

/* ---- ending the process --------------------------------------------------- */

static void fa_close_raw(fa_agent *a)
{
	for (size_t i = 0; i < a->n_conns; i++)
		close(a->conns[i]);
	a->n_conns = 0;
	if (a->listen_fd >= 0)
		close(a->listen_fd);
	a->listen_fd = -1;
}

/* A stop asked for by a signal (L7/A3): stop serving, remove the socket file
 * unless the script says to leave it, and exit with exit_code_on_term. */
__attribute__((noreturn)) static void fa_stop(fa_agent *a)
{
	int code = a->sc.exit_code_on_term;
	if (a->sc.leave_socket) {
		ag_log(AG_LOG_INFO, "step: exiting %d, leaving the socket file %s behind (script: leave_socket)", code,
		       a->bound_path[0] ? a->bound_path : "(none bound)");
		_exit(code); /* rpc_server_free() would remove the file */
	}
	ag_log(AG_LOG_INFO, "step: stopping the server");
	if (a->srv) {
		rpc_server_free(a->srv); /* removes the socket file it bound */
		rpc_global_shutdown();
		a->srv = NULL;
	}
	fa_close_raw(a);
	if (a->raw_file && unlink(a->bound_path) == 0)
		ag_log(AG_LOG_INFO, "step: removed %s", a->bound_path);
	close(a->sfd);
	fa_script_destroy(&a->sc);
	ag_log(AG_LOG_INFO, "step: exit %d", code);
	exit(code);
}

/* Die by signal sig: unblock it and restore its default action first (the
 * agent blocks the stop signals for its signalfd and ignores SIGPIPE). */
__attribute__((noreturn)) static void fa_die_by(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	signal(sig, SIG_DFL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig); /* a signal whose default action is not to terminate */
}

/* The scripted exit: like a crash, nothing is cleaned up (a bound socket file
 * stays, as it would after a real agent's crash). */
__attribute__((noreturn)) static void fa_scripted_exit(fa_agent *a)
{
	if (a->sc.exit.signal) {
		ag_log(AG_LOG_INFO, "step: dying by signal %d (%s) (script: exit)", a->sc.exit.signal,
		       strsignal(a->sc.exit.signal));
		fa_die_by(a->sc.exit.signal);
	}
	ag_log(AG_LOG_INFO, "step: exiting with code %d (script: exit)", a->sc.exit.code);
	_exit(a->sc.exit.code);
}

/* ---- the event loop of the main thread -------------------------------------- */

static void fa_on_signal(fa_agent *a, int sig)
{
	const char *name = sigabbrev_np(sig);
	if (a->sc.sigterm == FA_TERM_IGNORE) {
		ag_log(AG_LOG_INFO, "step: got SIG%s, ignoring it (script: sigterm ignore)", name ? name : "?");
		return;
	}
	if (a->stopping) {
		ag_log(AG_LOG_INFO, "step: got SIG%s, already stopping", name ? name : "?");
		return;
	}
	int64_t delay = a->sc.shutdown_delay_ms >= 0 ? a->sc.shutdown_delay_ms
			: a->sc.sigterm == FA_TERM_SLOW   ? FA_SLOW_DEFAULT_MS
							  : 0;
	ag_log(AG_LOG_INFO, "step: got SIG%s, stopping in %" PRId64 " ms", name ? name : "?", delay);
	a->stopping = true;
	a->stop_at = fa_now_ms() + delay;
}

static void fa_on_accept(fa_agent *a)
{
	for (;;) {
		int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				ag_log(AG_LOG_WARN, "accept: %s", strerror(errno));
			return;
		}
		if (a->sc.bind == FA_BIND_IMPOSTOR_GARBAGE) {
			static const char garbage[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
						      "\xde\xad\xbe\xef not a gRPC server\n";
			ag_log(AG_LOG_INFO, "step: impostor accepted a connection, writing garbage and closing it");
			(void)!write(fd, garbage, sizeof(garbage) - 1);
			close(fd);
		} else if (a->n_conns < FA_MAX_CONNS) {
			ag_log(AG_LOG_INFO, "step: impostor accepted a connection, never answering it");
			a->conns[a->n_conns++] = fd;
		} else {
			ag_log(AG_LOG_WARN, "impostor: %d connections held already, closing a new one", FA_MAX_CONNS);
			close(fd);
		}
	}
}

/* Read and drop what a silent impostor's peer sends; forget it at EOF. */
static void fa_on_conn(fa_agent *a, size_t i)
{
	char buf[4096];
	ssize_t n = read(a->conns[i], buf, sizeof(buf));
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return;
	close(a->conns[i]);
	a->conns[i] = a->conns[--a->n_conns];
}

static int64_t min_deadline(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* Wait ms (< 0: forever) while serving what the main thread owns: stop
 * signals (through the signalfd), the impostor listener and its peers, the
 * exit.after_ms deadline and a pending slow stop. The waits are the scripted
 * behaviour itself, but they stay event-driven: poll() with a deadline. */
static void fa_pause(fa_agent *a, int64_t ms)
{
	int64_t until = ms < 0 ? -1 : fa_now_ms() + ms;
	for (;;) {
		int64_t now = fa_now_ms();
		if (a->exit_at >= 0 && now >= a->exit_at)
			fa_scripted_exit(a);
		if (a->stopping && now >= a->stop_at)
			fa_stop(a);
		if (until >= 0 && now >= until)
			return;
		int64_t next = min_deadline(min_deadline(until, a->exit_at), a->stopping ? a->stop_at : -1);
		int timeout = next < 0 ? -1 : (int)(next - now);

		struct pollfd pfd[2 + FA_MAX_CONNS];
		nfds_t n = 0;
		pfd[n++] = (struct pollfd){ .fd = a->sfd, .events = POLLIN };
		if (a->listen_fd >= 0)
			pfd[n++] = (struct pollfd){ .fd = a->listen_fd, .events = POLLIN };
		nfds_t first_conn = n;
		for (size_t i = 0; i < a->n_conns; i++)
			pfd[n++] = (struct pollfd){ .fd = a->conns[i], .events = POLLIN };
		int rc = poll(pfd, n, timeout);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			ag_log(AG_LOG_ERROR, "poll: %s", strerror(errno));
			exit(1);
		}
		if (rc == 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(a->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				fa_on_signal(a, (int)si.ssi_signo);
		}
		/* peers first: fa_on_accept() appends to conns */
		for (nfds_t k = n; k-- > first_conn;)
			if (pfd[k].revents)
				fa_on_conn(a, k - first_conn);
		if (a->listen_fd >= 0 && (pfd[1].revents & POLLIN))
			fa_on_accept(a);
	}
}

/* ---- handlers: the reference ones, wrapped ------------------------------------ */

/* ag_service.healthy_fn: healthy=false for the first unhealthy_first
 * HealthCheck calls (H1 with negative answers). The standard health check
 * (A4) answers what the next HealthCheck would. */
static bool fa_healthy(void *ud)
{
	fa_agent *a = ud;
	long n = fa_cur_health_call ? fa_cur_health_call : atomic_load(&a->counts[FA_M_HEALTH]) + 1;
	bool healthy = n > a->sc.health.unhealthy_first;
	if (fa_cur_health_call)
		ag_log(AG_LOG_INFO, "step: HealthCheck call #%ld answers healthy=%s", n, healthy ? "true" : "false");
	return healthy;
}

/* Sleep ms on this thread, whatever the signal mask (async-signal-safe). */
static void fa_nap(int64_t ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

/* Issue 16 (L8): a descendant that outlives the agent in a session of its
 * own (out of reach of a kill of the agent's group) and holds every inherited
 * descriptor — the in-flight call's connection too — for ms, then exits: the
 * agent's death is then visible only as its exit, not as a broken stream. */
static void fa_start_holder(int64_t ms)
{
	pid_t pid = fork();
	if (pid < 0)
		ag_log(AG_LOG_WARN, "crash_holder: fork: %s", strerror(errno));
	if (pid != 0)
		return;
	setsid();
	fa_nap(ms);
	_exit(0);
}

__attribute__((noreturn)) static void fa_crash(const fa_call_script *c, const char *method, long n)
{
	static const char *const hows[] = { "abort", "SIGSEGV", "_exit" };
	if (c->crash_holder_ms > 0) {
		ag_log(AG_LOG_INFO, "step: a holder (own session) keeps the connection open for %" PRId64 " ms",
		       c->crash_holder_ms);
		fa_start_holder(c->crash_holder_ms);
	}
	if (c->crash_close_first_ms > 0) {
		ag_log(AG_LOG_INFO, "step: shutting down every socket, dying %" PRId64 " ms later",
		       c->crash_close_first_ms);
		for (int fd = 3; fd < 1024; fd++)
			shutdown(fd, SHUT_RDWR); /* ENOTSOCK for the rest: harmless */
		fa_nap(c->crash_close_first_ms);
	}
	ag_log(AG_LOG_INFO, "step: crashing (%s) during %s call #%ld, request read, no reply sent", hows[c->crash_how],
	       method, n);
	switch (c->crash_how) {
	case FA_CRASH_SEGV:
		fa_die_by(SIGSEGV);
	case FA_CRASH_EXIT:
		_exit(c->exit_code);
	case FA_CRASH_ABORT:
	default:
		abort();
	}
}

/* ---- issue 15: hostile replies, encoded by hand ------------------------------ */

static size_t pb_varint(uint8_t *o, uint64_t v)
{
	size_t n = 0;
	do {
		o[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return n;
}

/* A response whose length-delimited field `field` holds p[0..n) exactly (NUL
 * and non-UTF-8 bytes included: protobuf-c's char * fields cannot), plus,
 * for HealthCheck, healthy (field 1) and message "ok" (field 2). */
static void fa_reply_bytes(rpc_response *resp, uint32_t field, const char *p, size_t n, int healthy)
{
	uint8_t *o = malloc(n + 32);
	size_t k = 0;
	if (!o) {
		*resp = (rpc_response){ .status = RPC_INTERNAL, .details = "fake agent: out of memory" };
		return;
	}
	if (healthy >= 0) {
		o[k++] = 1 << 3 | 0;
		o[k++] = (uint8_t)healthy;
		o[k++] = 2 << 3 | 2;
		o[k++] = 2;
		o[k++] = 'o';
		o[k++] = 'k';
	}
	k += pb_varint(o + k, (uint64_t)field << 3 | 2);
	k += pb_varint(o + k, n);
	memcpy(o + k, p, n);
	*resp = (rpc_response){ .status = RPC_OK, .data = o, .len = k + n };
}

/* Does the HealthCheckRequest in req carry service (field 1) == want? A
 * hand-read of the wire format, as the replies above are hand-written. */
static bool fa_service_is(const uint8_t *req, size_t len, const char *want)
{
	const char *got = "";
	size_t got_n = 0, i = 0;
	while (i < len) {
		uint64_t key = 0, v = 0;
		for (int sh = 0; i < len && sh < 64; sh += 7) {
			key |= (uint64_t)(req[i] & 0x7f) << sh;
			if (!(req[i++] & 0x80))
				break;
		}
		if ((key & 7) == 0) { /* a varint field: skip it */
			while (i < len && (req[i++] & 0x80))
				;
			continue;
		}
		if ((key & 7) != 2)
			return false; /* nothing else is in this message */
		for (int sh = 0; i < len && sh < 64; sh += 7) {
			v |= (uint64_t)(req[i] & 0x7f) << sh;
			if (!(req[i++] & 0x80))
				break;
		}
		if (v > len - i)
			return false;
		if (key >> 3 == 1) {
			got = (const char *)req + i;
			got_n = (size_t)v;
		}
		i += (size_t)v;
	}
	return got_n == strlen(want) && memcmp(got, want, got_n) == 0;
}

static void fa_handle(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	fa_handler *h = ud;
	fa_agent *a = h->a;
	const fa_call_script *c = &a->sc.calls[h->m];
	const char *name = fa_method_name(h->m, false);
	long n = atomic_fetch_add(&a->counts[h->m], 1) + 1;
	bool is_health = h->m == FA_M_HEALTH;
	ag_log(AG_LOG_INFO, "step: %s call #%ld arrived on %s", name, n, rpc_ctx_method(ctx));
	if (is_health && a->sc.health.service && !fa_service_is(req, len, a->sc.health.service)) {
		/* H2: the request must name the service the script requires */
		ag_log(AG_LOG_INFO, "step: %s call #%ld names another service than \"%s\": NOT_FOUND (script: "
		       "health.service)", name, n, a->sc.health.service);
		*resp = (rpc_response){ .status = RPC_NOT_FOUND, .details = "fake agent: unknown service (script: health.service)" };
		return;
	}

	int64_t delay = c->delay_ms + (is_health ? a->sc.health.delay_ms : 0);
	if (delay > 0) {
		ag_log(AG_LOG_INFO, "step: %s call #%ld: waiting %" PRId64 " ms before answering", name, n, delay);
		if (!rpc_ctx_sleep_ms(ctx, delay)) {
			ag_log(AG_LOG_INFO, "step: %s call #%ld cancelled during the delay", name, n);
			*resp = (rpc_response){ .status = RPC_CANCELLED, .details = "cancelled" };
			return;
		}
	}
	if (c->crash_on == n)
		fa_crash(c, name, n);
	if (c->hang || (is_health && a->sc.health.hang)) {
		ag_log(AG_LOG_INFO, "step: %s call #%ld: hanging, never answering", name, n);
		rpc_ctx_sleep_ms(ctx, -1); /* only cancellation or shutdown ends it */
		ag_log(AG_LOG_INFO, "step: %s call #%ld: hang ended by cancellation or shutdown", name, n);
		*resp = (rpc_response){ .status = RPC_CANCELLED, .details = "cancelled" };
		return;
	}
	if (c->fail_every > 0 && n % c->fail_every == 0) {
		ag_log(AG_LOG_INFO, "step: %s call #%ld answers UNAVAILABLE (script: fail_every %" PRId64 ")", name, n,
		       c->fail_every);
		*resp = (rpc_response){ .status = RPC_UNAVAILABLE, .details = "fake agent: every Nth call fails" };
		return;
	}
	if (c->status) {
		ag_log(AG_LOG_INFO, "step: %s call #%ld answers %s (script)", name, n, rpc_status_name(c->status));
		*resp = (rpc_response){ .status = c->status,
					.details = c->details ? c->details : "fake agent: scripted failure" };
		return;
	}
	if (is_health && a->sc.has_version) {
		fa_cur_health_call = n;
		bool healthy = fa_healthy(a);
		fa_cur_health_call = 0;
		ag_log(AG_LOG_INFO, "step: %s call #%ld answers a %zu-byte version (script: version_hex)", name, n,
		       a->sc.version_len);
		fa_reply_bytes(resp, 3, a->sc.version, a->sc.version_len, healthy);
		return;
	}
	if (!is_health && (c->has_text || c->reply_bytes > 0)) {
		if (c->has_text) {
			ag_log(AG_LOG_INFO, "step: %s call #%ld answers %zu scripted bytes (text_hex)", name, n, c->text_len);
			fa_reply_bytes(resp, 1, c->text, c->text_len, -1);
		} else {
			ag_log(AG_LOG_INFO, "step: %s call #%ld answers a %" PRId64 "-byte reply (reply_bytes)", name, n,
			       c->reply_bytes);
			char *big = malloc((size_t)c->reply_bytes);
			if (big)
				memset(big, 'x', (size_t)c->reply_bytes);
			fa_reply_bytes(resp, 1, big ? big : "", big ? (size_t)c->reply_bytes : 0, -1);
			free(big);
		}
		return;
	}
	fa_cur_health_call = is_health ? n : 0;
	h->fn(&a->svc, ctx, req, len, resp);
	fa_cur_health_call = 0;
	ag_log(AG_LOG_INFO, "step: %s call #%ld answered %s", name, n, rpc_status_name(resp->status));
}

/* The method table for the scripted casing, plus grpc.health.v1 (A4). */
static size_t fa_methods_table(fa_agent *a, rpc_method *out)
{
	static const rpc_handler_fn fns[FA_M_COUNT] = { ag_handle_health, ag_handle_prompt, ag_handle_call };
	size_t n = 0;
	for (int camel = 0; camel < 2; camel++) {
		bool want = a->sc.methods == FA_METHODS_BOTH ||
			    (camel ? a->sc.methods == FA_METHODS_CAMEL : a->sc.methods == FA_METHODS_PASCAL);
		if (!want)
			continue;
		for (int m = 0; m < FA_M_COUNT; m++) {
			a->handlers[m] = (fa_handler){ a, (fa_method_id)m, fns[m] };
			snprintf(a->paths[camel][m], sizeof(a->paths[camel][m]), AG_SERVICE "%s",
				 fa_method_name((fa_method_id)m, camel));
			out[n++] = (rpc_method){ a->paths[camel][m], fa_handle, &a->handlers[m] };
		}
	}
	out[n++] = (rpc_method){ AG_PATH_STD_HEALTH, ag_handle_std_health, &a->svc };
	return n;
}

/* ---- steps ------------------------------------------------------------------- */

static void fa_print_huge_line(fa_agent *a)
{
	static char xs[65536];
	memset(xs, 'x', sizeof(xs));
	ag_log(AG_LOG_INFO, "step: printing a %" PRId64 "-byte line on stdout", a->sc.huge_line_bytes);
	for (int64_t left = a->sc.huge_line_bytes; left > 0;) {
		size_t chunk = left < (int64_t)sizeof(xs) ? (size_t)left : sizeof(xs);
		fa_out("the huge line", xs, chunk);
		left -= (int64_t)chunk;
	}
	fa_out("the huge line", "\n", 1);
}

/* Noise and near misses (L4), then the marker as scripted. */
static void fa_print_marker(fa_agent *a)
{
	for (size_t i = 0; i < a->sc.n_stdout_noise; i++) {
		ag_log(AG_LOG_INFO, "step: printing noise line \"%s\"", a->sc.stdout_noise[i]);
		fa_out("noise", a->sc.stdout_noise[i], strlen(a->sc.stdout_noise[i]));
		fa_out("noise", "\n", 1);
	}
	if (a->sc.near_misses) {
		static const char near[] = "NOT_AGENT_READY\nAGENT_READYX\n AGENT_READY\n";
		ag_log(AG_LOG_INFO, "step: printing near misses NOT_AGENT_READY, AGENT_READYX, \" AGENT_READY\"");
		fa_out("near misses", near, sizeof(near) - 1);
	}
	if (a->sc.noise_gap_ms > 0) { /* near misses in a read of their own (L4) */
		ag_log(AG_LOG_INFO, "step: %" PRId64 " ms between the noise and the marker", a->sc.noise_gap_ms);
		fa_pause(a, a->sc.noise_gap_ms);
	}
	switch (a->sc.marker) {
	case FA_MARKER_NEVER:
		ag_log(AG_LOG_INFO, "step: not printing AGENT_READY (script: marker never)");
		return;
	case FA_MARKER_SPLIT:
		ag_log(AG_LOG_INFO, "step: printing \"AGENT_\", then \"READY\\n\" %" PRId64 " ms later",
		       a->sc.marker_split_gap_ms);
		fa_out("the marker", "AGENT_", 6);
		fa_pause(a, a->sc.marker_split_gap_ms);
		fa_out("the marker", "READY\n", 6);
		break;
	case FA_MARKER_CRLF:
		ag_log(AG_LOG_INFO, "step: printing AGENT_READY\\r\\n");
		fa_out("the marker", "AGENT_READY\r\n", 13);
		break;
	case FA_MARKER_NORMAL:
	case FA_MARKER_BEFORE_BIND:
		ag_log(AG_LOG_INFO, "step: printing AGENT_READY%s",
		       a->sc.marker == FA_MARKER_BEFORE_BIND ? " before binding (a lie)" : "");
		if (ag_print_ready() < 0)
			ag_log(AG_LOG_WARN, "cannot write AGENT_READY to stdout: %s", strerror(errno));
		return;
	}
}

/* A raw AF_UNIX socket at bound_path: listening (impostor) or bound and
 * closed at once, which leaves a file that refuses connections (stale). */
static int fa_bind_raw(fa_agent *a, bool do_listen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(a->bound_path) >= sizeof(sun.sun_path)) {
		ag_log(AG_LOG_ERROR, "bind %s: path longer than sun_path (%zu bytes)", a->bound_path,
		       sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, a->bound_path, strlen(a->bound_path) + 1);
	struct stat st;
	if (lstat(a->bound_path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(a->bound_path); /* as grpc does before its own bind */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || (do_listen && listen(fd, 16) < 0)) {
		int e = errno;
		ag_log(AG_LOG_ERROR, "%s %s: %s", do_listen ? "bind/listen" : "bind", a->bound_path, strerror(e));
		close(fd);
		return -e;
	}
	a->raw_file = true;
	if (do_listen)
		a->listen_fd = fd;
	else
		close(fd);
	return 0;
}

static int fa_do_bind(fa_agent *a)
{
	static const char *const casing[] = { "PascalCase", "camelCase", "PascalCase and camelCase",
					      "none of the three" };
	fa_bind how = a->sc.bind;
	if (how == FA_BIND_NONE) {
		ag_log(AG_LOG_INFO, "step: not binding (script: bind none)");
		return 0;
	}
	snprintf(a->bound_path, sizeof(a->bound_path), "%s%s", a->path, how == FA_BIND_OTHER_PATH ? ".other" : "");
	if (how == FA_BIND_STALE_FILE) {
		int rc = fa_bind_raw(a, false);
		if (rc == 0)
			ag_log(AG_LOG_INFO, "step: left a stale socket file at %s (bound, closed, nobody listens)",
			       a->bound_path);
		return rc;
	}
	if (how == FA_BIND_IMPOSTOR_SILENT || how == FA_BIND_IMPOSTOR_GARBAGE) {
		int rc = fa_bind_raw(a, true);
		if (rc == 0)
			ag_log(AG_LOG_INFO, "step: impostor listening on %s (not gRPC, %s)", a->bound_path,
			       how == FA_BIND_IMPOSTOR_SILENT ? "never answers" : "answers garbage");
		return rc;
	}
	if (a->sc.listen_delay_ms > 0) {
		/* L5: the window in which the file exists and connects are refused */
		int rc = fa_bind_raw(a, false);
		if (rc < 0)
			return rc;
		ag_log(AG_LOG_INFO, "step: socket file %s bound, not listening for %" PRId64 " ms", a->bound_path,
		       a->sc.listen_delay_ms);
		fa_pause(a, a->sc.listen_delay_ms);
		a->raw_file = false; /* grpc replaces the file with its own listener */
	}
	rpc_method methods[2 * FA_M_COUNT + 1];
	size_t n = fa_methods_table(a, methods);
	char err[512];
	rpc_global_init();
	int rc = rpc_server_new(a->bound_path, methods, n, &a->srv, err, sizeof(err));
	if (rc < 0) {
		ag_log(AG_LOG_ERROR, "%s", err);
		rpc_global_shutdown();
		return rc;
	}
	ag_log(AG_LOG_INFO, "step: serving gRPC on unix:%s, methods %s", a->bound_path, casing[a->sc.methods]);
	return 0;
}

static void fa_exit_step(fa_agent *a, fa_exit_when when)
{
	if (a->sc.exit.when != when)
		return;
	if (a->sc.exit.after_ms > 0)
		ag_log(AG_LOG_INFO, "step: exiting in %" PRId64 " ms (script: exit)", a->sc.exit.after_ms);
	fa_pause(a, a->sc.exit.after_ms);
	fa_scripted_exit(a);
}

/* ---- issue 15: hostile process behaviour -------------------------------------- */

/* "fds: 0 1 2 …" on stdout: what the supervisor let this process inherit. */
static void fa_print_fds(void)
{
	char line[1024] = "fds:";
	size_t used = strlen(line);
	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && used + 8 < sizeof(line))
			used += (size_t)snprintf(line + used, sizeof(line) - used, " %d", fd);
	ag_log(AG_LOG_INFO, "step: printing the open descriptors: %s", line);
	line[used++] = '\n';
	fa_out("fds", line, used);
}

/* A child that only writes lines, forever, like `yes &` (async-signal-safe
 * calls only: after ready, grpc's threads exist). */
static void fa_start_flood(fa_agent *a)
{
	static const char *const names[] = { "", "stdout", "stderr", "stdout and stderr" };
	static char chunk[4096];
	for (size_t i = 0; i + 1 < sizeof(chunk); i += 2)
		chunk[i] = 'y', chunk[i + 1] = '\n';
	ag_log(AG_LOG_INFO, "step: starting a flood of \"y\" lines on %s (script: flood)", names[a->sc.flood.stream]);
	pid_t pid = fork();
	if (pid != 0) {
		if (pid < 0)
			ag_log(AG_LOG_WARN, "flood: fork: %s", strerror(errno));
		return;
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL); /* dies by SIGTERM like yes(1) */
	for (;;) {
		if (a->sc.flood.stream != FA_FLOOD_STDERR && write(STDOUT_FILENO, chunk, sizeof(chunk)) < 0 && errno != EINTR &&
		    errno != EAGAIN)
			_exit(0);
		if (a->sc.flood.stream != FA_FLOOD_STDOUT && write(STDERR_FILENO, chunk, sizeof(chunk)) < 0 &&
		    errno != EINTR && errno != EAGAIN)
			_exit(0);
	}
}

/* Children (or, with detach, grandchildren whose parent is gone) that sleep
 * holding stdout/stderr, optionally deaf to SIGTERM. Each prints
 * "descendant <pid>" on stdout, so a test can watch it. Before grpc starts:
 * a plain fork. */
static void fa_start_children(fa_agent *a)
{
	for (int64_t i = 0; i < a->sc.children.count; i++) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			ag_log(AG_LOG_WARN, "children: fork: %s", strerror(errno));
			return;
		}
		if (pid > 0) {
			if (a->sc.children.detach) /* the middle one exits at once */
				while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
					;
			continue;
		}
		if (a->sc.children.detach && fork() != 0)
			_exit(0);
		close(a->sfd);
		sigset_t none;
		sigemptyset(&none);
		if (a->sc.children.ignore_sigterm)
			signal(SIGTERM, SIG_IGN);
		sigprocmask(SIG_SETMASK, &none, NULL);
		char line[64];
		int n = snprintf(line, sizeof(line), "descendant %d\n", (int)getpid());
		(void)!write(STDOUT_FILENO, line, (size_t)n);
		for (;;)
			pause();
	}
	ag_log(AG_LOG_INFO, "step: started %" PRId64 " %s%s (script: children)", a->sc.children.count,
	       a->sc.children.detach ? "detached grandchildren" : "children",
	       a->sc.children.ignore_sigterm ? " that ignore SIGTERM" : "");
}

/* Replace the socket's directory (a supervisor's private dir, S4) by a
 * symlink to the target: a supervisor that follows the name then acts in
 * the target directory. */
static void fa_swap_privdir(fa_agent *a)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", a->path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir) {
		ag_log(AG_LOG_WARN, "privdir_swap: %s has no directory to swap", a->path);
		return;
	}
	*slash = '\0';
	if (rmdir(dir) < 0 || symlink(a->sc.privdir_swap, dir) < 0)
		ag_log(AG_LOG_WARN, "privdir_swap: %s → %s: %s", dir, a->sc.privdir_swap, strerror(errno));
	else
		ag_log(AG_LOG_INFO, "step: replaced the directory %s by a symlink to %s (script: privdir_swap)", dir,
		       a->sc.privdir_swap);
}

/* ---- command line -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: " FA_NAME " [--preset NAME] [--script FILE] [--script-json JSON] [--socket PATH]\n"
		"       " FA_NAME " --list-presets | --help | --version\n"
		"\n"
		"A scripted misbehaving agent for conformance tests: serves the reference\n"
		"agent's handlers with misbehaviour scripted around them. The script is one\n"
		"JSON object; --script/--script-json (in order, repeatable) override the\n"
		"preset's top-level keys. Every step is logged on stderr as \"step: ...\".\n"
		"\n"
		"Script keys (all optional):\n"
		"  bind_delay_ms N          wait before binding\n"
		"  listen_delay_ms N        first leave the socket file bound but not listening for N\n"
		"                           ms (connects are refused: bind() before listen()), then serve\n"
		"  marker WORD              normal | never | before_bind | split | crlf\n"
		"  marker_delay_ms N        wait between bind and marker\n"
		"  marker_split_gap_ms N    pause between \"AGENT_\" and \"READY\\n\" (split; default 50)\n"
		"  noise_gap_ms N           pause between the noise/near misses and the marker (default 0)\n"
		"  stdout_noise [\"..\"]      lines printed before the marker\n"
		"  near_misses BOOL         print NOT_AGENT_READY, AGENT_READYX, \" AGENT_READY\" first\n"
		"  huge_line_bytes N        print N 'x' bytes, then \\n, before anything else on stdout\n"
		"  stderr_lines [\"..\"]      lines printed on stderr at start\n"
		"  bind WORD                normal | none | other_path | stale_file | impostor_silent |\n"
		"                           impostor_garbage\n"
		"  leave_socket BOOL        on a SIGTERM stop, leave the socket file behind\n"
		"  serve_from_child BOOL    fork first; the child does everything else while this\n"
		"                           process only relays stop signals (a launcher: the\n"
		"                           socket's peer pid is not the supervisor's child, S4)\n"
		"  exit {when, after_ms, code | signal}\n"
		"                           when: before_bind | after_bind | after_ready (after_ms after\n"
		"                           that step) | after_ms (after_ms after start); code N or\n"
		"                           signal \"SIGKILL\"|N; no cleanup, like a crash\n"
		"  methods WORD             pascal (default) | camel | both | none\n"
		"  health {unhealthy_first N, delay_ms N, hang BOOL, service \"..\"}\n"
		"                           service: answer NOT_FOUND to a HealthCheck whose request\n"
		"                           names another service (H2)\n"
		"  calls {METHOD: {crash_on N, crash_how abort|segv|exit, exit_code N, hang BOOL,\n"
		"         delay_ms N, status CODE|NAME, details \"..\", crash_holder_ms N}}\n"
		"                           crash_holder_ms: before the crash, fork a holder in its own\n"
		"                           session that keeps the call's connection open N ms (L8)\n"
		"  calls.METHOD.crash_close_first_ms N\n"
		"                           before the crash, shut down every socket (the call's\n"
		"                           stream breaks) and die only N ms later (L8)\n"
		"                           METHOD: HealthCheck | ProcessPrompt | CallCustomFunction;\n"
		"                           order: delay, crash (on the Nth call, after reading the\n"
		"                           request, before replying), hang, status, normal answer\n"
		"  sigterm WORD             exit (default) | ignore | slow (same for SIGINT/HUP/QUIT)\n"
		"  shutdown_delay_ms N      delay between the signal and the stop (slow: default 3000)\n"
		"  exit_code_on_term N      exit code after a signal stop (default 0)\n"
		"  flood {stream stdout|stderr|both, when start|after_ready}\n"
		"                           a forked child writes \"y\" lines forever (like `yes &`)\n"
		"  children {count N, ignore_sigterm BOOL, detach BOOL}\n"
		"                           children (detach: grandchildren) sleeping on stdout/stderr;\n"
		"                           each prints \"descendant PID\" on stdout\n"
		"  setsid BOOL              call setsid() at start (fails as a group leader; carries on)\n"
		"  privdir_swap PATH        replace the socket's directory by a symlink to PATH\n"
		"  print_fds BOOL           print \"fds: 0 1 2 ...\" (inherited descriptors) first\n"
		"  health.version_hex HEX   the HealthCheck version as bytes (\"ff 00 41\")\n"
		"  calls.METHOD.text_hex HEX / reply_bytes N / fail_every N\n"
		"                           answer exactly these bytes / N 'x' bytes / UNAVAILABLE\n"
		"                           on every Nth call\n"
		"\n"
		"Environment: NEIRA_SOCKET_PATH (else $TMPDIR or /tmp + /neira_agent.sock),\n"
		"NEIRA_LOG_LEVEL, NEIRA_AGENT_MODE, as for neira-agent. Without --preset/--script\n"
		"options (as when a supervisor starts it), NEIRA_FAKE_PRESET, NEIRA_FAKE_SCRIPT (a\n"
		"file) and NEIRA_FAKE_SCRIPT_JSON give the preset and the script.\n"
		"\n"
		"Exit status: as scripted; 0 after a signal stop; 1 if the socket cannot be\n"
		"bound; 2 on a usage or script error.\n");
}

static int list_presets(void)
{
	size_t n;
	const fa_preset *p = fa_presets(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s\t%s\n", p[i].name, p[i].description);
	return 0;
}

/* Build the effective script from the preset and the overrides, in order. */
static int load_script(const char *preset, char **srcs, const bool *is_file, int n_srcs, fa_script *sc,
		       char **summary)
{
	char err[512];
	json_t *acc = json_object();
	int rc = 0;
	if (preset) {
		const fa_preset *p = fa_preset_find(preset);
		if (!p) {
			const char *near = fa_preset_nearest(preset);
			fprintf(stderr, FA_NAME ": unknown preset \"%s\"%s%s%s (see --list-presets)\n", preset,
				near ? " (did you mean \"" : "", near ? near : "", near ? "\"?)" : "");
			json_decref(acc);
			return -EINVAL;
		}
		char origin[128];
		snprintf(origin, sizeof(origin), "preset %s", preset);
		rc = fa_script_merge_text(acc, p->json, origin, err, sizeof(err));
	}
	for (int i = 0; rc == 0 && i < n_srcs; i++)
		rc = is_file[i] ? fa_script_merge_file(acc, srcs[i], err, sizeof(err))
				: fa_script_merge_text(acc, srcs[i], "--script-json", err, sizeof(err));
	if (rc == 0)
		rc = fa_script_parse(acc, sc, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, FA_NAME ": bad script: %s\n", err);
	else
		*summary = json_dumps(acc, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(acc);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "preset", required_argument, NULL, 'p' },	{ "script", required_argument, NULL, 'f' },
		{ "script-json", required_argument, NULL, 'j' }, { "socket", required_argument, NULL, 's' },
		{ "list-presets", no_argument, NULL, 'l' },	{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },		{ NULL, 0, NULL, 0 },
	};
	const char *preset = NULL, *socket_opt = NULL;
	char **srcs = calloc((size_t)argc, sizeof(*srcs));
	bool *is_file = calloc((size_t)argc, sizeof(*is_file));
	int n_srcs = 0, c;
	if (!srcs || !is_file)
		return 1;
	while ((c = getopt_long(argc, argv, "p:f:j:s:lhV", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			preset = optarg;
			break;
		case 'f':
		case 'j':
			is_file[n_srcs] = c == 'f';
			srcs[n_srcs++] = optarg;
			break;
		case 's':
			socket_opt = optarg;
			break;
		case 'l':
			free(srcs);
			free(is_file);
			return list_presets();
		case 'h':
			free(srcs);
			free(is_file);
			usage(stdout);
			return 0;
		case 'V':
			free(srcs);
			free(is_file);
			printf(FA_NAME " %s\n", NEIRA_VERSION);
			return 0;
		default:
			free(srcs);
			free(is_file);
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, FA_NAME ": unexpected argument '%s'\n", argv[optind]);
		free(srcs);
		free(is_file);
		return 2;
	}

	/* A supervisor starts the agent with no arguments (L3), so a harness
	 * hands the script over in the environment the supervisor passes on.
	 * Command-line options, when given, win over these. */
	const char *env_preset = getenv("NEIRA_FAKE_PRESET");
	const char *env_file = getenv("NEIRA_FAKE_SCRIPT");
	const char *env_json = getenv("NEIRA_FAKE_SCRIPT_JSON");
	if (!preset && env_preset && *env_preset)
		preset = env_preset;
	if (n_srcs == 0 && env_file && *env_file) {
		is_file[n_srcs] = true;
		srcs[n_srcs++] = (char *)env_file;
	}
	if (n_srcs == 0 && env_json && *env_json) {
		is_file[n_srcs] = false;
		srcs[n_srcs++] = (char *)env_json;
	}

	fa_agent *a = &agent;
	a->listen_fd = -1;
	a->exit_at = -1;
	fa_script_init(&a->sc);
	char *summary = NULL;
	int rc = load_script(preset, srcs, is_file, n_srcs, &a->sc, &summary);
	free(srcs);
	free(is_file);
	if (rc < 0) {
		fa_script_destroy(&a->sc);
		return 2;
	}

	ag_log_set_name(FA_NAME);
	bool unknown_level;
	const char *lvl = getenv("NEIRA_LOG_LEVEL");
	ag_log_set_level(ag_log_level_parse(lvl, &unknown_level));
	if (unknown_level)
		ag_log(AG_LOG_WARN, "NEIRA_LOG_LEVEL=%s is not a level; using info", lvl);

	/* scripted crashes must not leave core files in the tests' directories */
	struct rlimit nocore = { 0, 0 };
	setrlimit(RLIMIT_CORE, &nocore);

	if (socket_opt) {
		snprintf(a->path, sizeof(a->path), "%s", socket_opt);
	} else if (ag_socket_path(a->path, sizeof(a->path)) < 0) {
		ag_log(AG_LOG_ERROR, "socket path from NEIRA_SOCKET_PATH/TMPDIR is too long");
		free(summary);
		fa_script_destroy(&a->sc);
		return 1;
	}
	if (a->sc.print_fds)
		fa_print_fds();
	if (a->sc.setsid) {
		/* a group leader (as a supervisor that setpgid()s makes it)
		 * cannot: EPERM — and a hostile agent just carries on */
		pid_t sid = setsid();
		ag_log(AG_LOG_INFO, "step: setsid() = %d%s%s (script: setsid)", (int)sid, sid < 0 ? ": " : "",
		       sid < 0 ? strerror(errno) : "");
	}
	if (a->sc.serve_from_child && fa_launcher() < 0) {
		ag_log(AG_LOG_ERROR, "fork: %s", strerror(errno));
		free(summary);
		fa_script_destroy(&a->sc);
		return 1;
	}
	/* before any thread exists, so that all inherit the mask */
	a->sfd = ag_signals_block();
	if (a->sfd < 0) {
		ag_log(AG_LOG_ERROR, "signalfd: %s", strerror(-a->sfd));
		free(summary);
		fa_script_destroy(&a->sc);
		return 1;
	}
	a->start_ms = fa_now_ms();
	if (a->sc.exit.when == FA_EXIT_AFTER_MS)
		a->exit_at = a->start_ms + a->sc.exit.after_ms;
	ag_service_init(&a->svc);
	a->svc.version = FA_NAME " " NEIRA_VERSION;
	a->svc.healthy_fn = fa_healthy;
	a->svc.healthy_ud = a;

	ag_log(AG_LOG_INFO, "step: start, preset %s, socket %s, script %s", preset ? preset : "(none)", a->path,
	       summary ? summary : "?");
	free(summary);

	for (size_t i = 0; i < a->sc.n_stderr_lines; i++)
		dprintf(STDERR_FILENO, "%s\n", a->sc.stderr_lines[i]);
	if (a->sc.children.count > 0)
		fa_start_children(a);
	if (a->sc.flood.stream != FA_FLOOD_NONE && !a->sc.flood.after_ready)
		fa_start_flood(a);
	if (a->sc.privdir_swap)
		fa_swap_privdir(a);
	if (a->sc.huge_line_bytes > 0)
		fa_print_huge_line(a);
	fa_exit_step(a, FA_EXIT_BEFORE_BIND);
	if (a->sc.marker == FA_MARKER_BEFORE_BIND)
		fa_print_marker(a);
	if (a->sc.bind_delay_ms > 0) {
		ag_log(AG_LOG_INFO, "step: waiting %" PRId64 " ms before binding", a->sc.bind_delay_ms);
		fa_pause(a, a->sc.bind_delay_ms);
	}
	if (fa_do_bind(a) < 0) {
		close(a->sfd);
		fa_script_destroy(&a->sc);
		return 1;
	}
	fa_exit_step(a, FA_EXIT_AFTER_BIND);
	if (a->sc.marker != FA_MARKER_BEFORE_BIND) {
		if (a->sc.marker_delay_ms > 0) {
			ag_log(AG_LOG_INFO, "step: waiting %" PRId64 " ms before the marker", a->sc.marker_delay_ms);
			fa_pause(a, a->sc.marker_delay_ms);
		}
		fa_print_marker(a);
	}
	if (a->sc.flood.stream != FA_FLOOD_NONE && a->sc.flood.after_ready)
		fa_start_flood(a);
	fa_exit_step(a, FA_EXIT_AFTER_READY);
	ag_log(AG_LOG_INFO, "step: serving until a stop signal");
	fa_pause(a, -1); /* returns only through fa_stop()/fa_scripted_exit() */
	return 0;
}
