/* Unit tests of the supervisor core (sup_core.c, sup_calls.c, sup_spawn.c)
 * with an injected clock: the fake clock advances only when the loop would
 * wait with nothing ready, so H1 timelines are exact and nothing sleeps.
 * Scripted agents are this binary re-run as a helper (SUP_TEST_HELPER in the
 * environment, inherited through L3), serving with rpc_server_new. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "nt_slack.h"

#include "agent.pb-c.h"
#include "rpc.h"
#include "sup.h"

static char self_path[4096];

/* ---- helper agents ---------------------------------------------------------- */

static int h_unhealthy_left;
static bool h_late_marker;

static void *late_marker(void *arg)
{
	(void)arg;
	poll(NULL, 0, 100);
	printf("AGENT_READY\n");
	fflush(stdout);
	return NULL;
}

static void h_health(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ud, (void)ctx, (void)req, (void)len;
	Neira__Agent__V1__HealthCheckResponse r = NEIRA__AGENT__V1__HEALTH_CHECK_RESPONSE__INIT;
	if (h_late_marker) {
		h_late_marker = false;
		pthread_t t;
		pthread_create(&t, NULL, late_marker, NULL);
		pthread_detach(t);
	}
	r.healthy = h_unhealthy_left <= 0;
	if (h_unhealthy_left > 0)
		h_unhealthy_left--;
	r.message = (char *)(r.healthy ? "fine" : "not yet");
	r.version = (char *)"helper 1";
	resp->len = neira__agent__v1__health_check_response__get_packed_size(&r);
	resp->data = malloc(resp->len + 1);
	neira__agent__v1__health_check_response__pack(&r, resp->data);
	resp->status = RPC_OK;
}

static void h_prompt(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ud, (void)ctx;
	Neira__Agent__V1__ProcessPromptRequest *q = neira__agent__v1__process_prompt_request__unpack(NULL, len, req);
	Neira__Agent__V1__ProcessPromptResponse r = NEIRA__AGENT__V1__PROCESS_PROMPT_RESPONSE__INIT;
	char buf[256];
	snprintf(buf, sizeof(buf), "echo: %s", q ? q->prompt : "?");
	r.text = buf;
	resp->len = neira__agent__v1__process_prompt_response__get_packed_size(&r);
	resp->data = malloc(resp->len + 1);
	neira__agent__v1__process_prompt_response__pack(&r, resp->data);
	resp->status = RPC_OK;
	neira__agent__v1__process_prompt_request__free_unpacked(q, NULL);
}

static void h_custom(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ud;
	Neira__Agent__V1__CallCustomFunctionRequest *q =
		neira__agent__v1__call_custom_function_request__unpack(NULL, len, req);
	const char *name = q ? q->name : "";
	if (strcmp(name, "die") == 0)
		_exit(7); /* mid-call: request read, no reply (L8) */
	if (strcmp(name, "unavailable") == 0) {
		resp->status = RPC_UNAVAILABLE;
		resp->details = "scripted unavailable";
	} else if (strcmp(name, "not_found") == 0) {
		resp->status = RPC_NOT_FOUND;
		resp->details = "scripted not found";
	} else if (strcmp(name, "hang") == 0) {
		rpc_ctx_sleep_ms(ctx, -1);
		resp->status = RPC_CANCELLED;
	} else {
		Neira__Agent__V1__CallCustomFunctionResponse r = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_RESPONSE__INIT;
		r.result_json = q ? q->args_json : (char *)"null";
		resp->len = neira__agent__v1__call_custom_function_response__get_packed_size(&r);
		resp->data = malloc(resp->len + 1);
		neira__agent__v1__call_custom_function_response__pack(&r, resp->data);
		resp->status = RPC_OK;
	}
	neira__agent__v1__call_custom_function_request__free_unpacked(q, NULL);
}

#define P "/neira.agent.v1.PythonAgent/"

/* SUP_TEST_HELPER roles:
 *   exit3       print lines on both streams, exit 3 (L6)
 *   silent      never bind, never print; wait for SIGTERM (H1 never-ready)
 *   stubborn    like silent but ignore SIGTERM (L7 SIGKILL path)
 *   agent[:opts] serve; opts (comma list): unhealthy=N, camel, noprompt,
 *               nomarker */
static int helper_main(const char *role)
{
	if (strcmp(role, "exit3") == 0) {
		printf("hello\nbye\n");
		fflush(stdout);
		fprintf(stderr, "oops\n");
		return 3;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (strcmp(role, "silent") == 0) {
		pause();
		return 0;
	}
	if (strcmp(role, "stubborn") == 0) {
		signal(SIGTERM, SIG_IGN);
		/* readiness through the stdout pipe, AFTER SIG_IGN: the test's
		 * clock stands still until this line arrives (issue 15: the
		 * SIGTERM used to beat the signal() call under ASan) */
		printf("stubborn: SIGTERM ignored\n");
		fflush(stdout);
		for (;;)
			pause();
	}
	sigprocmask(SIG_BLOCK, &set, NULL);
	bool camel = strstr(role, "camel") != NULL, noprompt = strstr(role, "noprompt") != NULL;
	const char *u = strstr(role, "unhealthy=");
	h_unhealthy_left = u ? atoi(u + 10) : 0;
	h_late_marker = strstr(role, "late_marker") != NULL;
	rpc_method m[3] = {
		{ camel ? P "healthCheck" : P "HealthCheck", h_health, NULL },
		{ camel ? P "callCustomFunction" : P "CallCustomFunction", h_custom, NULL },
		{ camel ? P "processPrompt" : P "ProcessPrompt", h_prompt, NULL },
	};
	rpc_global_init();
	rpc_server *srv = NULL;
	char err[256];
	if (rpc_server_new(getenv("NEIRA_SOCKET_PATH"), m, noprompt ? 2 : 3, &srv, err, sizeof(err)) < 0) {
		fprintf(stderr, "helper: %s\n", err);
		return 1;
	}
	if (!strstr(role, "nomarker")) {
		printf("noise\nAGENT_READY\n");
		fflush(stdout);
	}
	int sig;
	sigwait(&set, &sig);
	rpc_server_free(srv);
	rpc_global_shutdown();
	return 0;
}

/* ---- fake environment --------------------------------------------------------- */

typedef struct fake {
	int64_t now_us;
	int spawns;
	json_t *events;
	const char *gate_line; /* the fake clock stands still until this output line */
	bool gate_open;
	const char *squat_path; /* spawn also listens here, in the test's own process */
	int squat_fd;
} fake;

static int64_t fake_now(void *ud)
{
	return ((fake *)ud)->now_us;
}

/* Real fds are polled for real (a bounded real wait lets children and gRPC
 * answer); if nothing is ready the fake clock jumps by the whole timeout:
 * long waits cost little real time and attempts take 0 fake ms. The bound
 * must exceed any real start-up or answer time of the helper agents on a
 * loaded 2-core machine: at 30 ms a slow answer let the fake clock jump
 * past a 10 s call deadline and the tests flaked. */
static int fake_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout_ms)
{
	fake *f = ud;
	/* a wait with nothing to wait for and no end never returns: the
	 * supervisor must never ask for one (it once did: see
	 * test_S4_peer_check_fails_at_first_probe) */
	if (n == 0 && timeout_ms < 0)
		fail_msg("poll() of no fd with no timeout: the supervisor would wait forever");
	int cap = (int)nt_ms(300);
	int rc = poll(fds, n, timeout_ms < 0 ? -1 : (timeout_ms < cap ? timeout_ms : cap));
	if (rc != 0 || timeout_ms == 0)
		return rc < 0 ? -errno : rc;
	if (f->gate_line && !f->gate_open)
		return 0; /* a real wait for the gate line; fake time stands still */
	if (timeout_ms > 0)
		f->now_us += (int64_t)timeout_ms * 1000;
	return 0;
}

static int fake_spawn(void *ud, const char *path, char *const envp[], sup_child *c, sup_error *err)
{
	fake *f = ud;
	f->spawns++;
	int rc = sup_spawn_exec(NULL, path, envp, c, err);
	if (rc == 0 && f->squat_path) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", f->squat_path);
		f->squat_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_true(f->squat_fd >= 0);
		assert_int_equal(bind(f->squat_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		assert_int_equal(listen(f->squat_fd, 4), 0);
	}
	return rc;
}

static void collect(void *ud, const json_t *ev)
{
	fake *f = ud;
	const char *line = json_string_value(json_object_get(ev, "line"));
	if (f->gate_line && line && strcmp(line, f->gate_line) == 0)
		f->gate_open = true;
	json_array_append_new(f->events, json_deep_copy(ev));
}

typedef struct fx {
	fake f;
	sup_env env;
	sup_config cfg;
	char dir[64];
	char sock[128];
	sup *s;
} fx;

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	x->f.now_us = 1000000;
	x->f.events = json_array();
	x->env = (sup_env){ .now_us = fake_now, .poll = fake_poll, .spawn = fake_spawn, .ud = &x->f };
	sup_config_init(&x->cfg);
	snprintf(x->dir, sizeof(x->dir), "/tmp/test_sup_loop.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->sock, sizeof(x->sock), "%s/a.sock", x->dir);
	sup_config_set(&x->cfg, "socket_path", x->sock, NULL);
	sup_config_set(&x->cfg, "agent_path", self_path, NULL);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	sup_free(x->s);
	json_decref(x->f.events);
	sup_config_destroy(&x->cfg);
	unsetenv("SUP_TEST_HELPER");
	/* L7: nothing of the agent is left */
	assert_int_equal(access(x->sock, F_OK), -1);
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	rmdir(x->dir);
	free(x);
	return 0;
}

static void start(fx *x, const char *helper)
{
	if (helper)
		setenv("SUP_TEST_HELPER", helper, 1);
	assert_int_equal(sup_new(&x->cfg, &x->env, &x->s, NULL), 0);
	sup_set_event_cb(x->s, collect, &x->f);
	sup_init(x->s);
}

/* i-th event named `name` (0-based), or NULL. */
static json_t *ev(fx *x, const char *name, int i)
{
	size_t k;
	json_t *e;
	json_array_foreach(x->f.events, k, e) {
		if (strcmp(json_string_value(json_object_get(e, "event")), name) == 0 && i-- == 0)
			return e;
	}
	return NULL;
}

static int count(fx *x, const char *name)
{
	int n = 0;
	while (ev(x, name, n))
		n++;
	return n;
}

static double t_of(json_t *e)
{
	assert_non_null(e);
	return json_real_value(json_object_get(e, "t_ms"));
}

static size_t idx_of(fx *x, json_t *e)
{
	size_t k;
	json_t *v;
	json_array_foreach(x->f.events, k, v) if (v == e) return k;
	fail();
	return 0;
}

/* Exact to the µs normally. Under valgrind pidfd_open is not available, so
 * the loop falls back to a 10 ms reap tick that also advances the fake
 * clock during attempts: allow that much slack there. */
static double tol(void)
{
	return getenv("NEIRA_UNDER_VALGRIND") ? 200.0 : 0.001;
}

/* ---- L2, S3, L6 ---------------------------------------------------------------- */

static void test_L2_missing_binary_mock_at_once(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "agent_path", "/nonexistent/neira-agent", NULL);
	start(x, NULL);
	assert_false(sup_is_ready(x->s));
	assert_string_equal(sup_reason(x->s), "missing_executable");
	assert_string_equal(sup_error_ctx_get(sup_last_error(x->s), "errno"), "ENOENT");
	assert_non_null(strstr(sup_last_error(x->s)->message, "/nonexistent/neira-agent"));
	assert_non_null(ev(x, "spawn_failed", 0));
	assert_null(ev(x, "spawn", 0));
	assert_true(sup_init_ms(x->s) < 1.0); /* no timeout sat out (fake ms) */
}

static void test_L2_non_executable_file(void **state)
{
	fx *x = *state;
	char p[128];
	snprintf(p, sizeof(p), "%s/agent.txt", x->dir);
	FILE *f = fopen(p, "w");
	fputs("not a program\n", f);
	fclose(f);
	chmod(p, 0644);
	sup_config_set(&x->cfg, "agent_path", p, NULL);
	start(x, NULL);
	assert_string_equal(sup_reason(x->s), "missing_executable");
	assert_string_equal(sup_error_ctx_get(sup_last_error(x->s), "errno"), "EACCES");
	unlink(p);
}

static void test_S3_path_too_long_before_spawn(void **state)
{
	fx *x = *state;
	char p[300];
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[200] = '\0';
	sup_config_set(&x->cfg, "socket_path", p, NULL);
	start(x, "agent");
	assert_string_equal(sup_reason(x->s), "config_error");
	assert_int_equal(x->f.spawns, 0); /* S3: refused before any spawn */
	assert_null(ev(x, "spawn", 0));
	assert_non_null(sup_last_error(x->s));
}

static void test_L6_early_exit_mock_at_once(void **state)
{
	fx *x = *state;
	start(x, "exit3");
	assert_string_equal(sup_reason(x->s), "early_exit");
	const sup_error *e = sup_last_error(x->s);
	assert_string_equal(sup_error_ctx_get(e, "exit_code"), "3");
	bool saw_bye = false;
	for (size_t i = 0; i < e->n_causes; i++)
		if (strstr(e->causes[i], "bye"))
			saw_bye = true;
	assert_true(saw_bye);
	json_t *ce = ev(x, "child_exit", 0);
	assert_int_equal(json_integer_value(json_object_get(ce, "code")), 3);
	assert_true(t_of(ev(x, "fallback", 0)) < 500.0); /* not after ready_timeout */
	assert_null(ev(x, "health_attempt", 0));
}

/* ---- H1 timelines with the fake clock ------------------------------------------- */

static void check_h1_schedule(fx *x, double T)
{
	/* attempt 2 at T+0.5 s, 3 at T+1.5 s, mock at T+3.5 s (attempts 0 fake ms) */
	assert_float_equal(t_of(ev(x, "health_attempt", 0)), T, tol());
	assert_float_equal(t_of(ev(x, "health_attempt", 1)), T + 500, tol());
	assert_float_equal(t_of(ev(x, "health_attempt", 2)), T + 1500, tol());
	assert_null(ev(x, "health_attempt", 3));
	assert_float_equal(t_of(ev(x, "fallback", 0)), T + 3500, tol());
	for (int i = 0; i < 3; i++) {
		json_t *w = ev(x, "health_wait", i);
		assert_float_equal(json_real_value(json_object_get(w, "planned_ms")), 500.0 * (1 << i), 0.001);
		assert_string_equal(json_string_value(json_object_get(ev(x, "health_wait_end", i), "reason")),
				    "elapsed");
	}
	assert_string_equal(sup_reason(x->s), "health_failed");
}

static void test_H1_never_ready_exact_schedule(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "ready_timeout_ms", "1000", NULL);
	start(x, "silent");
	double spawn_t = t_of(ev(x, "spawn", 0));
	assert_float_equal(t_of(ev(x, "ready_timeout", 0)), spawn_t + 1000, tol());
	check_h1_schedule(x, spawn_t + 1000);
	assert_string_equal(json_string_value(json_object_get(ev(x, "health_result", 0), "status")),
			    "CONNECT_FAILED");
	/* L5 Resolved: mock at ≈ ready_timeout + 3.5 s */
	assert_float_equal(sup_init_ms(x->s), 4500, tol());
}

static void test_H1a_negative_answers_still_wait(void **state)
{
	fx *x = *state;
	start(x, "agent:unhealthy=99");
	double T = t_of(ev(x, "health_attempt", 0));
	check_h1_schedule(x, T);
	json_t *r = ev(x, "health_result", 2);
	assert_string_equal(json_string_value(json_object_get(r, "status")), "UNHEALTHY");
	assert_true(json_is_false(json_object_get(r, "healthy")));
}

static void test_H1_success_at_attempt_k(void **state)
{
	fx *x = *state;
	static const struct {
		const char *helper;
		int k;
		double at;
	} rows[] = { { "agent", 1, 0 }, { "agent:unhealthy=1", 2, 500 }, { "agent:unhealthy=2", 3, 1500 } };
	for (size_t i = 0; i < 3; i++) {
		json_array_clear(x->f.events);
		start(x, rows[i].helper);
		assert_true(sup_is_ready(x->s));
		double T = t_of(ev(x, "health_attempt", 0));
		assert_float_equal(t_of(ev(x, "health_attempt", rows[i].k - 1)), T + rows[i].at, tol());
		assert_null(ev(x, "health_attempt", rows[i].k));
		assert_string_equal(sup_agent_version(x->s), "helper 1");
		sup_free(x->s);
		x->s = NULL;
	}
}

static void test_H4_L5_confirmation_after_marker_and_socket(void **state)
{
	fx *x = *state;
	/* a stale socket file from an earlier run must not count (L5) */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	memcpy(sa.sun_path, x->sock, strlen(x->sock) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	start(x, "agent");
	assert_true(sup_is_ready(x->s));
	assert_non_null(ev(x, "socket_stale_removed", 0));
	size_t usable = idx_of(x, ev(x, "socket_usable", 0)), marker = idx_of(x, ev(x, "marker", 0));
	size_t att = idx_of(x, ev(x, "health_attempt", 0));
	assert_true(usable < att && marker < att); /* L5: no call before usable */
	assert_int_equal(count(x, "health_attempt"), 1);
	assert_true(idx_of(x, ev(x, "socket_stale_removed", 0)) < idx_of(x, ev(x, "spawn", 0)));
}

static void test_H1b_marker_during_wait_ends_it(void **state)
{
	fx *x = *state;
	/* real clock here: the marker comes 100 ms (real) into the 500 ms wait */
	x->env = (sup_env){ .spawn = fake_spawn, .ud = &x->f };
	sup_config_set(&x->cfg, "ready_timeout_ms", "200", NULL);
	start(x, "agent:nomarker,unhealthy=1,late_marker");
	assert_true(sup_is_ready(x->s));
	assert_non_null(ev(x, "ready_timeout", 0));
	assert_int_equal(count(x, "health_attempt"), 2);
	json_t *we = ev(x, "health_wait_end", 0);
	assert_string_equal(json_string_value(json_object_get(we, "reason")), "marker");
	assert_true(json_real_value(json_object_get(we, "actual_ms")) < 450);
}

/* ---- calls: M1/M2, C1–C4, K1, L8 ------------------------------------------------ */

static void test_M1_camel_case_resolved_and_remembered(void **state)
{
	fx *x = *state;
	start(x, "agent:camel");
	assert_true(sup_is_ready(x->s));
	sup_reply r = SUP_REPLY_INIT;
	assert_int_equal(sup_call_process_prompt(x->s, "hi", 0, &r), 0);
	assert_string_equal(r.text, "echo: hi");
	sup_reply_destroy(&r);
	int retries = count(x, "call_case_retry");
	assert_int_equal(sup_call_process_prompt(x->s, "again", 0, &r), 0);
	sup_reply_destroy(&r);
	assert_int_equal(count(x, "call_case_retry"), retries); /* remembered */
	assert_string_equal(sup_method_path(x->s, SUP_METHOD_PROCESS_PROMPT), P "processPrompt");
	assert_int_equal(x->s ? (int)sup_get_breaker(x->s) : -1, SUP_BREAKER_CLOSED);
}

static void test_M2_no_casing_lists_paths_breaker_untouched(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "breaker_threshold", "1", NULL);
	start(x, "agent:noprompt");
	sup_reply r = SUP_REPLY_INIT;
	assert_int_equal(sup_call_process_prompt(x->s, "hi", 0, &r), -EIO);
	assert_non_null(strstr(r.err.message, P "ProcessPrompt"));
	assert_non_null(strstr(r.err.message, P "processPrompt"));
	sup_reply_destroy(&r);
	assert_int_equal(sup_get_breaker(x->s), SUP_BREAKER_CLOSED); /* M2/C4 */
}

static void test_C1_C4_breaker_in_calls(void **state)
{
	fx *x = *state;
	start(x, "agent");
	sup_reply r = SUP_REPLY_INIT;
	/* C4: bad args rejected before sending never count */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(sup_call_custom_function(x->s, "echo", "{not json", 0, &r), -EINVAL);
		sup_reply_destroy(&r);
	}
	/* application errors are answers, not transport failures */
	assert_int_equal(sup_call_custom_function(x->s, "not_found", "{}", 0, &r), -EIO);
	sup_reply_destroy(&r);
	assert_int_equal(sup_get_breaker(x->s), SUP_BREAKER_CLOSED);
	/* C1: 5 consecutive counted failures open it */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(sup_call_custom_function(x->s, "unavailable", "{}", 0, &r), -EIO);
		sup_reply_destroy(&r);
	}
	assert_int_equal(sup_get_breaker(x->s), SUP_BREAKER_OPEN);
	/* C2: fail fast without touching the agent */
	int starts = count(x, "call_start"), rejected = count(x, "call_rejected");
	assert_int_equal(sup_call_custom_function(x->s, "echo", "{}", 0, &r), -EAGAIN);
	assert_non_null(strstr(r.err.message, "circuit breaker is OPEN"));
	sup_reply_destroy(&r);
	assert_int_equal(count(x, "call_start"), starts); /* nothing sent */
	assert_int_equal(count(x, "call_rejected"), rejected + 1);
	/* C2→C3 after 30 s (fake): one trial; success closes */
	sup_run(x->s, 30000, -1);
	assert_int_equal(sup_call_custom_function(x->s, "echo", "[1]", 0, &r), 0);
	assert_string_equal(r.result_json, "[1]");
	sup_reply_destroy(&r);
	assert_int_equal(sup_get_breaker(x->s), SUP_BREAKER_CLOSED);
	assert_non_null(ev(x, "breaker", 0));
}

static void test_K1_mock_answers(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "agent_path", "/nonexistent/agent", NULL);
	start(x, NULL);
	sup_reply r = SUP_REPLY_INIT;
	assert_int_equal(sup_call_process_prompt(x->s, "hi", 0, &r), 0);
	assert_true(r.mock && r.ok);
	assert_string_equal(r.text, "[mock] hi");
	sup_reply_destroy(&r);
	assert_int_equal(sup_call_custom_function(x->s, "sum", "{\"a\":1}", 0, &r), 0);
	assert_true(r.mock);
	assert_string_equal(r.result_json, "{\"args\":{\"a\":1},\"mock\":true,\"name\":\"sum\"}");
	sup_reply_destroy(&r);
}

static void test_L8_agent_dies_mid_call(void **state)
{
	fx *x = *state;
	start(x, "agent");
	assert_true(sup_is_ready(x->s));
	sup_reply r = SUP_REPLY_INIT;
	int drc = sup_call_custom_function(x->s, "die", "{}", 60000, &r);
	if (drc != -EPIPE)
		print_message("L8: %d %s %s\n", drc, r.status_name, r.err.message);
	assert_int_equal(drc, -EPIPE);
	assert_non_null(strstr(r.err.message, "agent died"));
	assert_string_equal(sup_error_ctx_get(&r.err, "exit_code"), "7");
	assert_true(r.duration_ms < 5000);
	sup_reply_destroy(&r);
	assert_string_equal(sup_reason(x->s), "agent_died");
	assert_int_equal(x->s ? sup_get_metrics(x->s)->calls_failed : 0, 1);
	/* later calls: mock */
	assert_int_equal(sup_call_process_prompt(x->s, "x", 0, &r), 0);
	assert_true(r.mock);
	sup_reply_destroy(&r);
}

static void test_L7_stop_sigkill_after_grace(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "shutdown_grace_ms", "300", NULL);
	sup_config_set(&x->cfg, "ready_timeout_ms", "50", NULL);
	sup_config_set(&x->cfg, "health_base_delay_ms", "1", NULL);
	x->f.gate_line = "stubborn: SIGTERM ignored"; /* no SIGTERM before SIG_IGN */
	start(x, "stubborn");
	assert_true(x->f.gate_open);
	/* health_failed → the child is stopped the L7 way: SIGTERM ignored → SIGKILL */
	assert_string_equal(sup_reason(x->s), "health_failed");
	json_t *k = NULL;
	for (int i = 0; (k = ev(x, "shutdown", i)); i++)
		if (strcmp(json_string_value(json_object_get(k, "step")), "sigkill") == 0)
			break;
	assert_non_null(k);
	assert_float_equal(json_real_value(json_object_get(k, "elapsed_ms")), 300, 30);
	assert_int_equal(sup_child_pid(x->s), 0);
}

static void test_L7_clean_stop_and_S4_private_dir_peer_check(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "socket_path", "", NULL);
	sup_config_set(&x->cfg, "socket_private_dir", "true", NULL);
	sup_config_set(&x->cfg, "check_peer", "true", NULL);
	start(x, "agent");
	assert_true(sup_is_ready(x->s));
	char sock[128], dir[128];
	snprintf(sock, sizeof(sock), "%s", sup_socket_path(x->s));
	snprintf(dir, sizeof(dir), "%s", sock);
	*strrchr(dir, '/') = '\0';
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	int code = -2, sig = -2;
	assert_int_equal(sup_stop(x->s, &code, &sig, NULL), 0);
	assert_int_equal(code, 0);
	assert_int_equal(sig, 0);
	assert_int_equal(access(sock, F_OK), -1);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(sup_get_state(x->s), SUP_STATE_STOPPED);
}

/* S4: the socket is already served by another process (here: the test
 * itself) when the supervisor first probes it, so the peer check fails in
 * the loop pass's first drive_health. That stopped the child and closed its
 * pipes, and the same pass then polled no fd with no timeout: init never
 * returned (seen once in ~25 runs of memcheck-S4-peer-check, where valgrind's
 * timing put the failing probe first; found again in 10 runs in a loop). */
static void test_S4_peer_check_fails_at_first_probe(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "check_peer", "true", NULL);
	x->f.squat_path = x->sock;
	start(x, "silent");
	assert_string_equal(sup_reason(x->s), "peer_check_failed");
	assert_int_equal(sup_child_pid(x->s), 0); /* stopped at the fallback (K2) */
	assert_null(ev(x, "health_attempt", 0));
	close(x->f.squat_fd);
	unlink(x->sock); /* not the supervisor's to remove: it is not its agent's */
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *role = getenv("SUP_TEST_HELPER");
	if (role)
		return helper_main(role);
	if (!realpath(argv[0], self_path))
		return 99;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_L2_missing_binary_mock_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L2_non_executable_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_S3_path_too_long_before_spawn, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L6_early_exit_mock_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_H1_never_ready_exact_schedule, setup, teardown),
		cmocka_unit_test_setup_teardown(test_H1a_negative_answers_still_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_H1_success_at_attempt_k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_H4_L5_confirmation_after_marker_and_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_H1b_marker_during_wait_ends_it, setup, teardown),
		cmocka_unit_test_setup_teardown(test_M1_camel_case_resolved_and_remembered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_M2_no_casing_lists_paths_breaker_untouched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_C1_C4_breaker_in_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_K1_mock_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L8_agent_dies_mid_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L7_stop_sigkill_after_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L7_clean_stop_and_S4_private_dir_peer_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_S4_peer_check_fails_at_first_probe, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
