/* Integration tests of the supervisor with the REAL reference agent
 * (neira-agent, path in argv[1]) over a real Unix socket and the real clock:
 * ready in the normal case with no call before the socket is usable (L5,
 * H4, P1), mock for a missing binary (L2), clean shutdown leaving no
 * process, fd or file behind (L7), kill -9 during a call (L8), and every
 * one of many starts ending ready (P2). */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <errno.h>
#include <poll.h>
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

#include "rpc.h"
#include "sup.h"

static const char *agent;

/* The fd count once it has settled back to at most `want`, or as it is
 * after a bounded wait: grpc closes a destroyed channel's socket and its
 * poller on its own threads, after the call that destroyed them returned. A
 * leak never settles; fewer than `want` is no leak (a baseline taken while a
 * previous test's channel was still being closed by grpc: "5 != 8" under
 * valgrind, its three fds gone by the end). On failure, every descriptor
 * is listed. (The "15 fds for 12" once seen here under valgrind were
 * valgrind's own descriptors; rpc_count_fds no longer counts them.) */
static int settled_fds(int want, int64_t limit_ms)
{
	int n = rpc_count_fds();
	for (int64_t waited = 0; n > want && waited < limit_ms; waited += 5) {
		poll(NULL, 0, 5); /* the timer: there is no event for "an fd closed" */
		n = rpc_count_fds();
	}
	if (n > want) { /* the evidence: what each descriptor is */
		DIR *d = opendir("/proc/self/fd");
		struct dirent *de;
		while (d && (de = readdir(d))) {
			char p[300], t[256];
			snprintf(p, sizeof(p), "/proc/self/fd/%s", de->d_name);
			ssize_t k = readlink(p, t, sizeof(t) - 1);
			if (k > 0)
				print_message("fd %s -> %.*s\n", de->d_name, (int)k, t);
		}
		if (d)
			closedir(d);
	}
	return n;
}

static int64_t T(int64_t ms)
{
	return nt_ms(ms); /* upper bounds only (nt_slack.h) */
}

typedef struct fx {
	char dir[64], sock[128];
	sup_config cfg;
	json_t *events;
	sup *s;
	int fds0;
} fx;

static void collect(void *ud, const json_t *ev)
{
	json_array_append_new(((fx *)ud)->events, json_deep_copy(ev));
}

static long idx(fx *x, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(x->events, i, e) if (strcmp(json_string_value(json_object_get(e, "event")), name) == 0) return (long)i;
	return -1;
}

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "/tmp/test_sup_int.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->sock, sizeof(x->sock), "%s/neira_agent.sock", x->dir);
	sup_config_init(&x->cfg);
	sup_config_set(&x->cfg, "agent_path", agent, NULL);
	sup_config_set(&x->cfg, "socket_path", x->sock, NULL);
	char v[32];
	snprintf(v, sizeof(v), "%lld", (long long)T(15000));
	sup_config_set(&x->cfg, "ready_timeout_ms", v, NULL);
	snprintf(v, sizeof(v), "%lld", (long long)T(1000));
	sup_config_set(&x->cfg, "health_deadline_ms", v, NULL);
	x->events = json_array();
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	sup_free(x->s);
	json_decref(x->events);
	sup_config_destroy(&x->cfg);
	rmdir(x->dir);
	free(x);
	return 0;
}

static void start(fx *x)
{
	rpc_global_init(); /* keep grpc's own fds out of the fd balance */
	x->fds0 = rpc_count_fds();
	assert_int_equal(sup_new(&x->cfg, NULL, &x->s, NULL), 0);
	sup_set_event_cb(x->s, collect, x);
	sup_init(x->s);
	rpc_global_shutdown();
}

static void test_L5_H4_P1_ready_with_reference_agent(void **state)
{
	fx *x = *state;
	start(x);
	assert_true(sup_is_ready(x->s));
	assert_true(sup_agent_version(x->s)[0] != '\0');
	/* L5: no gRPC call before the socket was usable and the marker seen */
	assert_true(idx(x, "socket_usable") >= 0 && idx(x, "marker") >= 0);
	assert_true(idx(x, "socket_usable") < idx(x, "health_attempt"));
	assert_true(idx(x, "marker") < idx(x, "health_attempt"));
	assert_true(sup_init_ms(x->s) < T(3000)); /* P1 */
	sup_reply r = SUP_REPLY_INIT;
	assert_int_equal(sup_call_custom_function(x->s, "sum", "[1,2,3]", 0, &r), 0);
	assert_false(r.mock);
	sup_reply_destroy(&r);
	assert_int_equal(sup_call_process_prompt(x->s, "hello world", 0, &r), 0);
	assert_non_null(r.text);
	sup_reply_destroy(&r);
}

static void test_L2_missing_binary_is_mock(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "agent_path", "/nonexistent/neira-agent", NULL);
	start(x);
	assert_string_equal(sup_reason(x->s), "missing_executable");
	assert_int_equal(sup_child_pid(x->s), 0);
}

static void on_hup(int sig)
{
	(void)sig;
}

/* What the spawned child starts with (sup_spawn: a vfork-style clone, issue
 * 13): no blocked, ignored or caught signal of the host's, its own process
 * group (L7), stdin/stdout/stderr only (issue 15) — however the host had
 * its signals and descriptors set. The child is a shell script that execs
 * cat on its own /proc status; cat inherits exactly what the spawn set up. */
static void test_spawn_child_starts_clean(void **state)
{
	(void)state;
	char dir[] = "/tmp/neira-spawn-XXXXXX", script[64];
	assert_non_null(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/child.sh", dir);
	FILE *f = fopen(script, "w");
	assert_non_null(f);
	/* sh -c: a script's shell keeps the script open; the glob is read by
	 * the shell itself (its directory fd is the 3 listed) */
	fputs("#!/bin/sh\nexec /bin/sh -c 'cd /proc/$$/fd && echo fds: *; exec cat /proc/self/status /proc/self/stat'\n",
	      f);
	fclose(f);
	chmod(script, 0755);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	struct sigaction ign = { .sa_handler = SIG_IGN }, hup = { .sa_handler = on_hup }, o1, o2;
	sigaction(SIGUSR2, &ign, &o1);
	sigaction(SIGHUP, &hup, &o2);
	int leak = open("/dev/null", O_RDONLY); /* not close-on-exec: must not reach the child */
	assert_true(leak >= 0);
	sup_child c;
	sup_error err = { 0 };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	int rc = sup_spawn_exec(NULL, script, envp, &c, &err);
	close(leak);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	sigaction(SIGUSR2, &o1, NULL);
	sigaction(SIGHUP, &o2, NULL);
	assert_int_equal(rc, 0);
	char out[8192];
	size_t n = 0;
	struct pollfd pfd = { .fd = c.out_fd, .events = POLLIN };
	while (n + 1 < sizeof(out) && poll(&pfd, 1, (int)nt_ms(10000)) > 0) {
		ssize_t r = read(c.out_fd, out + n, sizeof(out) - 1 - n);
		if (r <= 0 && !(r < 0 && errno == EAGAIN))
			break;
		n += r > 0 ? (size_t)r : 0;
	}
	out[n] = '\0';
	int st;
	assert_int_equal(waitpid(c.pid, &st, 0), c.pid);
	close(c.out_fd);
	close(c.err_fd);
	if (c.pidfd >= 0)
		close(c.pidfd);
	unlink(script);
	rmdir(dir);
	print_message("%s", out);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_non_null(strstr(out, "fds: 0 1 2 3\n"));
	assert_non_null(strstr(out, "\nSigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(out, "\nSigIgn:\t0000000000000000\n"));
	assert_non_null(strstr(out, "\nSigCgt:\t0000000000000000\n"));
	/* /proc/self/stat: "pid (comm) state ppid pgrp": pgrp == pid */
	char *stat = strstr(out, "(cat) ");
	assert_non_null(stat);
	int ppid, pgrp;
	assert_int_equal(sscanf(stat, "(cat) %*c %d %d", &ppid, &pgrp), 2);
	assert_int_equal(ppid, getpid());
	assert_int_equal(pgrp, c.pid);
}

static void test_L7_clean_shutdown_nothing_left(void **state)
{
	fx *x = *state;
	start(x);
	assert_true(sup_is_ready(x->s));
	pid_t pid = sup_child_pid(x->s);
	int code = -2, sig = -2;
	double ms = 0;
	assert_int_equal(sup_stop(x->s, &code, &sig, &ms), 0);
	assert_int_equal(code, 0); /* A3: exits 0 on SIGTERM */
	assert_int_equal(sig, 0);
	assert_int_equal(kill(pid, 0), -1); /* reaped: no such process */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(access(x->sock, F_OK), -1);
	sup_free(x->s);
	x->s = NULL;
	rpc_global_init();
	assert_true(settled_fds(x->fds0, T(2000)) <= x->fds0);
	rpc_global_shutdown();
}

static void test_L8_kill9_during_sleep_call(void **state)
{
	fx *x = *state;
	start(x);
	assert_true(sup_is_ready(x->s));
	/* kill -9 the agent from a helper process 200 ms into a 10 s call */
	pid_t agent_pid = sup_child_pid(x->s);
	pid_t killer = fork();
	if (killer == 0) {
		/* the test's own helper, not the supervisor: a timed poll */
		poll(NULL, 0, 200);
		kill(agent_pid, SIGKILL);
		_exit(0);
	}
	sup_reply r = SUP_REPLY_INIT;
	int rc = sup_call_custom_function(x->s, "sleep_ms", "{\"ms\":10000}", 20000, &r);
	assert_int_equal(rc, -EPIPE);
	assert_non_null(strstr(r.err.message, "agent died"));
	assert_string_equal(sup_error_ctx_get(&r.err, "signal"), "9");
	assert_true(r.duration_ms < T(2000)); /* promptly, not after 10–20 s */
	sup_reply_destroy(&r);
	assert_string_equal(sup_reason(x->s), "agent_died");
	waitpid(killer, NULL, 0);
}

/* P2: with a healthy agent every start ends ready — no spurious mock. The
 * count is bounded so the test stays quick; the benchmark does 200. */
static void test_P2_every_start_ready(void **state)
{
	fx *x = *state;
	int runs = getenv("NEIRA_UNDER_VALGRIND") ? 5 : 30, ready = 0;
	double worst = 0;
	rpc_global_init();
	int fds0 = rpc_count_fds();
	for (int i = 0; i < runs; i++) {
		sup *s = NULL;
		assert_int_equal(sup_new(&x->cfg, NULL, &s, NULL), 0);
		sup_init(s);
		if (sup_is_ready(s))
			ready++;
		else
			print_error("start %d ended in mock: %s\n", i, sup_reason(s) ? sup_reason(s) : "?");
		if (sup_init_ms(s) > worst)
			worst = sup_init_ms(s);
		assert_int_equal(sup_stop(s, NULL, NULL, NULL), 0);
		sup_free(s);
	}
	print_message("P2: %d/%d starts ready, slowest init %.1f ms\n", ready, runs, worst);
	assert_int_equal(ready, runs);
	assert_true(settled_fds(fds0, T(2000)) <= fds0); /* nothing accumulates across starts */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	rpc_global_shutdown();
}

int main(int argc, char **argv)
{
	agent = argc > 1 ? argv[1] : getenv("NEIRA_AGENT");
	if (!agent)
		return 77;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_L5_H4_P1_ready_with_reference_agent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L2_missing_binary_is_mock, setup, teardown),
		cmocka_unit_test(test_spawn_child_starts_clean),
		cmocka_unit_test_setup_teardown(test_L7_clean_shutdown_nothing_left, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L8_kill9_during_sleep_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_P2_every_start_ready, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
