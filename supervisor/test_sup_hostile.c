/* Hostile agents against the supervisor (issue 15), with real processes on
 * the real clock: neira-fake-agent presets that flood their output, leave
 * descendants behind, swap the private dir for a symlink, send non-UTF-8
 * bytes or huge replies; two supervisors on one socket path; inputs out of
 * range. Each test failed before its fix. argv[1] = neira-fake-agent,
 * argv[2] = neira-host. Nothing sleeps: every wait is a poll with a
 * deadline (the supervisor's loop, or pidfds/pipes). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "nt_slack.h"

#include "sup.h"
#include "sup_bytes.h"

static const char *fake_agent, *neira_host;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fx {
	sup_config cfg;
	char dir[64];
	char sock[128];
	sup *s;
	json_t *events;    /* every event but output, in order */
	long outputs[2];   /* output events per stream */
	json_t *special;   /* output lines "descendant N" and "fds: …" */
} fx;

static void collect(void *ud, const json_t *ev)
{
	fx *x = ud;
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (strcmp(name, "output") == 0) {
		const char *st = json_string_value(json_object_get(ev, "stream"));
		const char *line = json_string_value(json_object_get(ev, "line"));
		x->outputs[strcmp(st, "stdout") == 0 ? 0 : 1]++;
		if (line && (strncmp(line, "descendant ", 11) == 0 || strncmp(line, "fds:", 4) == 0))
			json_array_append_new(x->special, json_string(line));
		return;
	}
	json_array_append_new(x->events, json_deep_copy(ev));
}

static int setup(void **state)
{
	fx *x = calloc(1, sizeof(*x));
	x->events = json_array();
	x->special = json_array();
	sup_config_init(&x->cfg);
	snprintf(x->dir, sizeof(x->dir), "/tmp/test_sup_hostile.XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->sock, sizeof(x->sock), "%s/a.sock", x->dir);
	sup_config_set(&x->cfg, "socket_path", x->sock, NULL);
	sup_config_set(&x->cfg, "agent_path", fake_agent, NULL);
	sup_config_set(&x->cfg, "shutdown_grace_ms", "300", NULL);
	/* H3's 1 s per attempt is the SPEC's for a machine that runs the
	 * supervisor natively. Under valgrind a flood starves grpc's threads
	 * (valgrind runs one thread at a time and the loop always has output to
	 * read): the health answer was measured at 0.7-1.5 s there, so a slower
	 * CI machine failed all three attempts. These tests are about floods,
	 * not H3 (test_sup_health pins H3), so the deadline stretches with the
	 * tests' other allowances (nt_slack.h). */
	if (nt_slack() > 1) {
		char v[32];
		snprintf(v, sizeof(v), "%.0f", 1000 * nt_slack());
		sup_config_set(&x->cfg, "health_deadline_ms", v, NULL);
	}
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx *x = *state;
	sup_free(x->s);
	json_decref(x->events);
	json_decref(x->special);
	sup_config_destroy(&x->cfg);
	unsetenv("NEIRA_FAKE_PRESET");
	unsetenv("NEIRA_FAKE_SCRIPT_JSON");
	/* L7: nothing of the agent is left: no zombie, no socket */
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(access(x->sock, F_OK), -1);
	assert_int_equal(rmdir(x->dir), 0); /* empty: nothing left behind */
	free(x);
	return 0;
}

static void start(fx *x, const char *preset, const char *script)
{
	if (preset)
		setenv("NEIRA_FAKE_PRESET", preset, 1);
	if (script)
		setenv("NEIRA_FAKE_SCRIPT_JSON", script, 1);
	assert_int_equal(sup_new(&x->cfg, NULL, &x->s, NULL), 0);
	sup_set_event_cb(x->s, collect, x);
	sup_init(x->s);
}

static json_t *ev(fx *x, const char *name, int i)
{
	size_t k;
	json_t *e;
	json_array_foreach(x->events, k, e) {
		if (strcmp(json_string_value(json_object_get(e, "event")), name) == 0 && i-- == 0)
			return e;
	}
	return NULL;
}

/* The shutdown event of a step, or NULL. */
static json_t *step(fx *x, const char *name)
{
	json_t *e;
	for (int i = 0; (e = ev(x, "shutdown", i)); i++)
		if (strcmp(json_string_value(json_object_get(e, "step")), name) == 0)
			return e;
	return NULL;
}

/* Run the supervisor's loop until n special lines arrived or ms passed. */
static void run_until_special(fx *x, size_t n, int64_t ms)
{
	int64_t end = now_ms() + (int64_t)(ms * nt_slack());
	while (json_array_size(x->special) < n && now_ms() < end)
		sup_run(x->s, 50, -1);
}

/* Without pidfds (valgrind): the process is dead once it is gone or a
 * zombie (not our child: init or a subreaper reaps it). Looked at every
 * 10 ms with a deadline — the one wait here with no fd to poll. */
static bool gone_within(int pid, int64_t ms)
{
	int64_t end = now_ms() + ms;
	for (;;) {
		char p[64], buf[256];
		snprintf(p, sizeof(p), "/proc/%d/stat", pid);
		FILE *f = fopen(p, "re");
		if (!f)
			return true;
		char *rp = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (rp && rp[1] == ' ' && (rp[2] == 'Z' || rp[2] == 'X'))
			return true;
		if (now_ms() >= end)
			return false;
		poll(NULL, 0, 10);
	}
}

/* ---- 1: output floods (L4, L7, H3) -------------------------------------------- */

/* Before: drain_fd read until EAGAIN, so `yes &` in the agent kept the loop
 * in one read loop: no init reply within 60 s, a call past its deadline,
 * no SIGKILL after the grace, 2.1 M events. */
static void test_L7_issue15_flood_deadlines_grace_and_event_budget(void **state)
{
	fx *x = *state;
	start(x, NULL,
	      "{\"flood\": {\"stream\": \"both\", \"when\": \"after_ready\"}, \"sigterm\": \"ignore\","
	      " \"calls\": {\"ProcessPrompt\": {\"delay_ms\": 3000}}}");
	assert_true(sup_is_ready(x->s));
	/* the flood runs: a call's deadline is kept (it answers after 3 s) */
	sup_reply r = SUP_REPLY_INIT;
	assert_int_equal(sup_call_process_prompt(x->s, "flooded", 500, &r), -EIO);
	assert_string_equal(r.status_name, "DEADLINE_EXCEEDED");
	assert_true(r.duration_ms < 1500 * nt_slack());
	sup_reply_destroy(&r);
	sup_run(x->s, 1000, -1);
	/* events: at most 200 per stream per second, the rest counted */
	double span_s = sup_elapsed_ms(x->s) / 1000.0 + 1;
	assert_true(x->outputs[0] > 0 && x->outputs[1] > 0);
	assert_true(x->outputs[0] <= 200 * span_s && x->outputs[1] <= 200 * span_s);
	json_t *d = ev(x, "output_dropped", 0);
	assert_non_null(d);
	assert_true(json_integer_value(json_object_get(d, "lines")) > 0);
	/* L7 under the flood: SIGTERM ignored → SIGKILL at the grace */
	double ms;
	int code, sig;
	assert_int_equal(sup_stop(x->s, &code, &sig, &ms), 0);
	assert_int_equal(sig, SIGKILL);
	json_t *k = step(x, "sigkill");
	assert_non_null(k);
	assert_true(json_real_value(json_object_get(k, "elapsed_ms")) >= 300);
	assert_true(ms < 1500 * nt_slack());
}

/* A flood from the start, on either stream: init still ends ready. */
static void test_L4_issue15_flood_before_ready(void **state)
{
	fx *x = *state;
	static const char *const presets[] = { "output-flood", "stderr-flood" };
	for (size_t i = 0; i < 2; i++) {
		json_array_clear(x->events);
		int64_t t0 = now_ms();
		start(x, presets[i], NULL);
		assert_true(sup_is_ready(x->s));
		assert_true(now_ms() - t0 < 5000 * nt_slack());
		sup_run(x->s, 300, -1);
		assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
		assert_non_null(ev(x, "output_dropped", 0));
		sup_free(x->s);
		x->s = NULL;
	}
}

/* ---- 4: descendants, inherited fds (L7, L3) ------------------------------------ */

static void test_L7_issue15_whole_group_stopped(void **state)
{
	fx *x = *state;
	static const struct {
		const char *preset;
		size_t n;
	} rows[] = { { "grandchild-holds-stdout", 1 }, { "setsid-stubborn", 2 } };
	for (size_t i = 0; i < 2; i++) {
		json_array_clear(x->special);
		start(x, rows[i].preset, NULL);
		assert_true(sup_is_ready(x->s));
		run_until_special(x, rows[i].n, 5000);
		assert_int_equal(json_array_size(x->special), rows[i].n);
		int pfd[4], pids[4];
		for (size_t k = 0; k < rows[i].n; k++) {
			pids[k] = atoi(json_string_value(json_array_get(x->special, k)) + 11);
			pfd[k] = (int)pidfd_open(pids[k], 0);
			/* alive now (valgrind has no pidfd_open: ENOSYS) */
			assert_true(pfd[k] >= 0 || errno == ENOSYS);
			assert_int_equal(kill(pids[k], 0), 0);
		}
		assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
		/* every descendant exits (pidfd readable), within a deadline */
		for (size_t k = 0; k < rows[i].n; k++) {
			if (pfd[k] >= 0) {
				struct pollfd p = { .fd = pfd[k], .events = POLLIN };
				assert_int_equal(poll(&p, 1, (int)(3000 * nt_slack())), 1);
				close(pfd[k]);
			} else {
				assert_true(gone_within(pids[k], (int64_t)(3000 * nt_slack())));
			}
		}
		sup_free(x->s);
		x->s = NULL;
	}
}

static void test_L3_issue15_no_fd_inherited(void **state)
{
	fx *x = *state;
	int leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC: the host's own */
	assert_true(leak >= 3);
	start(x, "prints-fds", NULL);
	run_until_special(x, 1, 5000);
	close(leak);
	assert_int_equal(json_array_size(x->special), 1);
	assert_string_equal(json_string_value(json_array_get(x->special, 0)), "fds: 0 1 2");
	assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
}

/* ---- 3: whose socket (S4, L5, L7) ---------------------------------------------- */

static void test_S4_issue15_two_supervisors_one_path(void **state)
{
	fx *x = *state;
	start(x, "well-behaved", NULL);
	assert_true(sup_is_ready(x->s));
	struct stat a, b;
	assert_int_equal(lstat(x->sock, &a), 0);
	/* B on the same path: refuses, never deletes A's live socket */
	sup *s2 = NULL;
	assert_int_equal(sup_new(&x->cfg, NULL, &s2, NULL), 0);
	assert_int_equal(sup_init(s2), 0);
	assert_string_equal(sup_reason(s2), "socket_in_use");
	assert_int_equal(sup_stop(s2, NULL, NULL, NULL), 0);
	sup_free(s2);
	assert_int_equal(lstat(x->sock, &b), 0);
	assert_true(a.st_ino == b.st_ino);
	sup_reply r = SUP_REPLY_INIT;
	assert_int_equal(sup_call_process_prompt(x->s, "still mine", 0, &r), 0);
	assert_false(r.mock);
	sup_reply_destroy(&r);
	assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
	assert_int_equal(access(x->sock, F_OK), -1); /* ours: removed */
}

/* A live socket of somebody else at the path when our agent is gone: stop
 * leaves it (before: removed whatever socket was there). */
static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void test_S4_issue15_privdir_symlink_swap(void **state)
{
	fx *x = *state;
	char victim_dir[128], victim[160];
	snprintf(victim_dir, sizeof(victim_dir), "%s/victim", x->dir);
	snprintf(victim, sizeof(victim), "%s/neira_agent.sock", victim_dir);
	assert_int_equal(mkdir(victim_dir, 0700), 0);
	int vfd = listen_at(victim);
	char script[512];
	snprintf(script, sizeof(script), "{\"privdir_swap\": \"%s\", \"bind\": \"none\", \"marker\": \"never\"}",
		 victim_dir);
	sup_config_set(&x->cfg, "socket_path", "", NULL);
	sup_config_set(&x->cfg, "socket_private_dir", "true", NULL);
	sup_config_set(&x->cfg, "ready_timeout_ms", "200", NULL);
	sup_config_set(&x->cfg, "health_attempts", "1", NULL);
	sup_config_set(&x->cfg, "health_deadline_ms", "200", NULL);
	char *old_tmp = getenv("TMPDIR") ? strdup(getenv("TMPDIR")) : NULL;
	setenv("TMPDIR", x->dir, 1); /* the private dir goes into x->dir */
	start(x, NULL, script);
	if (old_tmp)
		setenv("TMPDIR", old_tmp, 1);
	else
		unsetenv("TMPDIR");
	free(old_tmp);
	char privdir[128];
	snprintf(privdir, sizeof(privdir), "%s", sup_socket_path(x->s));
	*strrchr(privdir, '/') = '\0';
	assert_false(sup_is_ready(x->s)); /* mock: stopped the L7 way already */
	assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
	assert_int_equal(access(victim, F_OK), 0); /* not followed through the symlink */
	struct stat st;
	assert_int_equal(lstat(privdir, &st), -1); /* the symlink is gone too */
	assert_non_null(step(x, "privdir_replaced"));
	close(vfd);
	unlink(victim);
	rmdir(victim_dir);
}

/* ---- 5 + 2: bytes kept (O3, L1, S1) ------------------------------------------- */

static void test_O3_issue15_non_utf8_and_nul_kept(void **state)
{
	fx *x = *state;
	start(x, "non-utf8-strings", NULL);
	assert_true(sup_is_ready(x->s));
	json_t *rd = ev(x, "ready", 0);
	/* ff fe 41 00 42: lossy text plus the exact bytes (before: an empty event) */
	assert_string_equal(json_string_value(json_object_get(rd, "agent_version_b64")), "//5BAEI=");
	json_t *hr = ev(x, "health_result", 0);
	assert_string_equal(json_string_value(json_object_get(hr, "version_b64")), "//5BAEI=");
	sup_reply r = SUP_REPLY_INIT;
	assert_int_equal(sup_call_process_prompt(x->s, "bytes", 0, &r), 0);
	assert_int_equal(r.text_len, 4); /* 61 00 62 ff: before, "a" */
	assert_memory_equal(r.text, "a\0b\xff", 4);
	sup_reply_destroy(&r);
	assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
}

static void test_L1_issue15_non_utf8_paths_are_bytes(void **state)
{
	fx *x = *state;
	char agent[128], sock[128];
	snprintf(agent, sizeof(agent), "%s/agent-\xff\xfe", x->dir);
	snprintf(sock, sizeof(sock), "%s/s\xff.sock", x->dir);
	assert_int_equal(symlink(fake_agent, agent), 0);
	sup_config_set(&x->cfg, "agent_path", agent, NULL);
	sup_config_set(&x->cfg, "socket_path", sock, NULL);
	start(x, "well-behaved", NULL);
	if (!sup_is_ready(x->s))
		print_message("not ready: %s: %s\n", sup_reason(x->s), sup_last_error(x->s)->message);
	assert_true(sup_is_ready(x->s)); /* before: spawned "./(not UTF-8)" */
	assert_string_equal(sup_socket_path(x->s), sock);
	json_t *sp = ev(x, "spawn", 0);
	char *b = sup_base64(agent, strlen(agent));
	assert_string_equal(json_string_value(json_object_get(sp, "path_b64")), b);
	free(b);
	assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
	assert_int_equal(access(sock, F_OK), -1);
	unlink(agent);
}

/* ---- 6: huge replies and numbers (C4) ------------------------------------------ */

static void test_C4_issue15_huge_reply_counts(void **state)
{
	fx *x = *state;
	sup_config_set(&x->cfg, "breaker_threshold", "2", NULL);
	start(x, "huge-reply", NULL);
	assert_true(sup_is_ready(x->s));
	for (int i = 0; i < 2; i++) {
		sup_reply r = SUP_REPLY_INIT;
		assert_int_equal(sup_call_process_prompt(x->s, "big", 0, &r), -EIO);
		assert_string_equal(r.status_name, "RESOURCE_EXHAUSTED");
		sup_reply_destroy(&r);
	}
	assert_int_equal(sup_get_breaker(x->s), SUP_BREAKER_OPEN); /* before: closed */
	assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
}

static void test_C4_issue15_numbers_range_checked(void **state)
{
	fx *x = *state;
	sup *bad = NULL;
	sup_config c;
	sup_config_init(&c);
	c.call_deadline_ms = INT64_MAX; /* set by hand, not through --set */
	sup_error e = SUP_ERROR_INIT;
	assert_int_equal(sup_new(&c, NULL, &bad, &e), -ERANGE);
	assert_non_null(strstr(e.message, "call_deadline_ms"));
	sup_error_destroy(&e);
	sup_config_destroy(&c);
	start(x, "well-behaved", NULL);
	assert_int_equal(sup_run(x->s, INT64_MAX, -1), -ERANGE);
	assert_int_equal(sup_run(x->s, -2, -1), -ERANGE);
	sup_reply r = SUP_REPLY_INIT;
	/* before: an instant DEADLINE_EXCEEDED, counted by the breaker */
	assert_int_equal(sup_call_process_prompt(x->s, "x", INT64_MAX, &r), -EINVAL);
	sup_reply_destroy(&r);
	assert_int_equal(sup_get_breaker(x->s), SUP_BREAKER_CLOSED);
	assert_int_equal(sup_get_metrics(x->s)->calls_failed, 0);
	assert_int_equal(sup_stop(x->s, NULL, NULL, NULL), 0);
}

/* neira-host drive: out-of-range numbers get an error reply at once
 * (before: {"cmd":"wait","ms":-1} never returned); after the stop reply the
 * host stays until stdin's EOF (a command then is an error), then exits 0. */
static void test_O1_issue15_drive_numbers(void **state)
{
	fx *x = *state;
	int in[2], out[2];
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(neira_host, neira_host, "--agent", "/nonexistent/agent", "--set", "socket_private_dir=true", "drive",
		      (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	static const char cmds[] = "{\"cmd\":\"wait\",\"ms\":-1}\n"
				   "{\"cmd\":\"wait\",\"ms\":9223372036854775807}\n"
				   "{\"cmd\":\"wait_event\",\"event\":\"x\",\"timeout_ms\":-5}\n"
				   "{\"cmd\":\"call\",\"method\":\"health\",\"deadline_ms\":-1}\n"
				   "{\"cmd\":\"stop\"}\n";
	assert_int_equal(write(in[1], cmds, sizeof(cmds) - 1), (ssize_t)sizeof(cmds) - 1);
	char buf[8192] = "";
	size_t got = 0;
	int64_t end = now_ms() + (int64_t)(10000 * nt_slack());
	/* until `want` is in what the host wrote (NULL: until its EOF) */
	for (const char *want = "\"reply\":\"stop\""; want ? !strstr(buf, want) : true;) {
		struct pollfd p = { .fd = out[0], .events = POLLIN };
		int left = (int)(end - now_ms());
		assert_true(left > 0);
		assert_int_equal(poll(&p, 1, left), 1);
		ssize_t n = read(out[0], buf + got, sizeof(buf) - 1 - got);
		assert_true(n >= 0);
		buf[got += (size_t)n] = '\0';
		if (n == 0) {
			assert_null(want); /* EOF only once stdin is closed */
			break;
		}
		if (want && strstr(buf, want) && !strcmp(want, "\"reply\":\"stop\"")) {
			/* the adapter contract: after the stop reply the host stays
			 * until stdin's EOF, and answers a command with an error */
			int st;
			assert_int_equal(waitpid(pid, &st, WNOHANG), 0);
			static const char late[] = "{\"cmd\":\"snapshot\",\"id\":77}\n";
			assert_int_equal(write(in[1], late, sizeof(late) - 1), (ssize_t)sizeof(late) - 1);
			want = "the supervisor is stopped: close stdin to end the session\",\"id\":77";
		} else if (want && strstr(buf, want)) {
			close(in[1]);
			want = NULL;
		}
	}
	int errors = 0;
	for (char *p = buf; (p = strstr(p, "\"reply\":\"error\"")); p++)
		errors++;
	assert_int_equal(errors, 5); /* four bad numbers, one command after stop */
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(out[0]);
	(void)x;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s NEIRA_FAKE_AGENT NEIRA_HOST\n", argv[0]);
		return 2;
	}
	/* absolute: meson passes paths relative to the build dir, and one test
	 * points a symlink at the agent */
	static char fa_abs[4096], host_abs[4096];
	if (!realpath(argv[1], fa_abs) || !realpath(argv[2], host_abs))
		return 99;
	fake_agent = fa_abs;
	neira_host = host_abs;
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_L7_issue15_flood_deadlines_grace_and_event_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L4_issue15_flood_before_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L7_issue15_whole_group_stopped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L3_issue15_no_fd_inherited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_S4_issue15_two_supervisors_one_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_S4_issue15_privdir_symlink_swap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_O3_issue15_non_utf8_and_nul_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_L1_issue15_non_utf8_paths_are_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_C4_issue15_huge_reply_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_C4_issue15_numbers_range_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_O1_issue15_drive_numbers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
