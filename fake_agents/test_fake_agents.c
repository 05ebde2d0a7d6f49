/* test_fake_agents: runs neira-fake-agent presets for real, each in a private
 * temp dir, and checks what they do from the outside: stdout, stderr, exit
 * status (through a pidfd), the socket file, and gRPC answers.
 * Usage: test_fake_agents PATH/TO/neira-fake-agent */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent.pb-c.h"
#include "rpc.h"

extern char **environ;

static const char *agent_exe;

/* valgrind 3.19 does not know pidfd_open (ENOSYS): then, and only then, the
 * exit is noticed by waitpid(WNOHANG) on a tick of this many ms. */
#define NO_PIDFD_TICK_MS 20

#define SVC "/neira.agent.v1.PythonAgent/"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- a child agent and its output ------------------------------------------ */

typedef struct {
	int fd;
	char *buf;
	size_t len, cap;
} stream;

typedef struct {
	pid_t pid;
	int pidfd;
	stream out, err;
	bool reaped;
	int status;
	char dir[64];
	char sock[128];
} child;

static void stream_read(stream *s)
{
	if (s->fd < 0)
		return;
	if (s->cap - s->len < 65536 + 1) {
		s->cap = s->cap * 2 + 65536 + 1;
		s->buf = realloc(s->buf, s->cap);
		assert_non_null(s->buf);
	}
	ssize_t n = read(s->fd, s->buf + s->len, s->cap - s->len - 1);
	if (n > 0) {
		s->len += (size_t)n;
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		close(s->fd);
		s->fd = -1;
	}
	s->buf[s->len] = '\0';
}

/* One round of waiting: reads what the child printed, notices its exit.
 * Returns false if nothing happened within timeout_ms. */
static bool child_pump(child *c, int timeout_ms)
{
	if (c->pidfd < 0 && (timeout_ms < 0 || timeout_ms > NO_PIDFD_TICK_MS))
		timeout_ms = NO_PIDFD_TICK_MS;
	struct pollfd p[3] = {
		{ .fd = c->out.fd, .events = POLLIN },
		{ .fd = c->err.fd, .events = POLLIN },
		{ .fd = c->reaped ? -1 : c->pidfd, .events = POLLIN },
	};
	int rc = poll(p, 3, timeout_ms);
	if (c->pidfd < 0 && !c->reaped && waitpid(c->pid, &c->status, WNOHANG) == c->pid) {
		c->reaped = true;
		rc = rc < 0 ? 1 : rc + 1;
	}
	if (rc <= 0)
		return false;
	if (p[0].revents)
		stream_read(&c->out);
	if (p[1].revents)
		stream_read(&c->err);
	if (p[2].revents && !c->reaped) {
		assert_int_equal(waitpid(c->pid, &c->status, 0), c->pid);
		c->reaped = true;
	}
	return true;
}

static void child_start(child *c, const char *preset, const char *script_json)
{
	memset(c, 0, sizeof(*c));
	c->out.fd = c->err.fd = c->pidfd = -1;
	snprintf(c->dir, sizeof(c->dir), "/tmp/fa_test_XXXXXX");
	assert_non_null(mkdtemp(c->dir));
	snprintf(c->sock, sizeof(c->sock), "%s/agent.sock", c->dir);

	int out[2], err[2];
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);

	size_t n_env = 0;
	while (environ[n_env])
		n_env++;
	char **env = calloc(n_env + 2, sizeof(*env));
	assert_non_null(env);
	char sock_env[200];
	snprintf(sock_env, sizeof(sock_env), "NEIRA_SOCKET_PATH=%s", c->sock);
	size_t k = 0;
	for (size_t i = 0; i < n_env; i++)
		if (strncmp(environ[i], "NEIRA_", 6) != 0)
			env[k++] = environ[i];
	env[k++] = sock_env;

	char *argv[8];
	int a = 0;
	argv[a++] = (char *)agent_exe;
	if (preset) {
		argv[a++] = "--preset";
		argv[a++] = (char *)preset;
	}
	if (script_json) {
		argv[a++] = "--script-json";
		argv[a++] = (char *)script_json;
	}
	argv[a] = NULL;
	assert_int_equal(posix_spawn(&c->pid, agent_exe, &fa, NULL, argv, env), 0);
	posix_spawn_file_actions_destroy(&fa);
	free(env);
	close(out[1]);
	close(err[1]);
	c->out.fd = out[0];
	c->err.fd = err[0];
	fcntl(c->out.fd, F_SETFL, O_NONBLOCK);
	fcntl(c->err.fd, F_SETFL, O_NONBLOCK);
	c->pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	if (c->pidfd < 0 && errno != ENOSYS)
		fail_msg("pidfd_open: %s", strerror(errno));
}

/* Wait until needle shows up in the stream (or the deadline, or EOF). */
static bool child_wait_for(child *c, stream *s, const char *needle, int timeout_ms)
{
	int64_t until = now_ms() + timeout_ms;
	for (;;) {
		if (s->buf && strstr(s->buf, needle))
			return true;
		int64_t left = until - now_ms();
		if (left <= 0 || (s->fd < 0 && c->reaped))
			return false;
		child_pump(c, (int)left);
	}
}

/* Wait for the child's exit and the end of its output. */
static bool child_wait_exit(child *c, int timeout_ms)
{
	int64_t until = now_ms() + timeout_ms;
	while (!c->reaped || c->out.fd >= 0 || c->err.fd >= 0) {
		int64_t left = until - now_ms();
		if (left <= 0)
			return false;
		child_pump(c, (int)left);
	}
	return true;
}

/* Is the child still alive after ms? (pidfd poll, no sleeps) */
static bool child_survives(child *c, int ms)
{
	if (c->pidfd < 0) { /* no pidfd: see NO_PIDFD_TICK_MS */
		int64_t until = now_ms() + ms;
		while (now_ms() < until)
			child_pump(c, (int)(until - now_ms()));
		return !c->reaped;
	}
	struct pollfd p = { .fd = c->pidfd, .events = POLLIN };
	int64_t until = now_ms() + ms;
	for (;;) {
		int64_t left = until - now_ms();
		if (left <= 0)
			return true;
		/* keep draining its output meanwhile so that it never blocks on a pipe */
		struct pollfd all[3] = { p, { .fd = c->out.fd, .events = POLLIN }, { .fd = c->err.fd, .events = POLLIN } };
		if (poll(all, 3, (int)left) > 0) {
			if (all[0].revents)
				return false;
			if (all[1].revents)
				stream_read(&c->out);
			if (all[2].revents)
				stream_read(&c->err);
		}
	}
}

static void child_cleanup(child *c)
{
	if (c->pid > 0 && !c->reaped) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &c->status, 0);
		c->reaped = true;
	}
	if (c->out.fd >= 0)
		close(c->out.fd);
	if (c->err.fd >= 0)
		close(c->err.fd);
	if (c->pidfd >= 0)
		close(c->pidfd);
	free(c->out.buf);
	free(c->err.buf);
	char other[160];
	snprintf(other, sizeof(other), "%s.other", c->sock);
	unlink(c->sock);
	unlink(other);
	if (rmdir(c->dir) != 0)
		fail_msg("rmdir %s: %s (a stray file?)", c->dir, strerror(errno));
}

static void dump(child *c)
{
	fprintf(stderr, "--- stderr of the agent ---\n%s--- end ---\n", c->err.buf ? c->err.buf : "");
}

/* ---- gRPC calls --------------------------------------------------------------- */

static int call(const char *sock, const char *path, const ProtobufCMessage *msg, int timeout_ms, rpc_result *res)
{
	size_t len = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(len + 1);
	assert_non_null(buf);
	protobuf_c_message_pack(msg, buf);
	rpc_client *cli = NULL;
	assert_int_equal(rpc_client_new(sock, NULL, &cli), 0);
	*res = (rpc_result)RPC_RESULT_INIT;
	assert_int_equal(rpc_client_call(cli, path, buf, len, timeout_ms, res), 0);
	rpc_client_free(cli);
	free(buf);
	return res->status;
}

/* HealthCheck on path; returns the status, *healthy set when OK. */
static int health(const char *sock, const char *path, int timeout_ms, bool *healthy)
{
	Neira__Agent__V1__HealthCheckRequest req = NEIRA__AGENT__V1__HEALTH_CHECK_REQUEST__INIT;
	req.service = "python-agent";
	rpc_result res;
	int st = call(sock, path, &req.base, timeout_ms, &res);
	if (st == RPC_OK) {
		Neira__Agent__V1__HealthCheckResponse *r =
			neira__agent__v1__health_check_response__unpack(NULL, res.len, res.data);
		assert_non_null(r);
		*healthy = r->healthy;
		neira__agent__v1__health_check_response__free_unpacked(r, NULL);
	}
	rpc_result_destroy(&res);
	return st;
}

static int prompt(const char *sock, const char *text, int timeout_ms)
{
	Neira__Agent__V1__ProcessPromptRequest req = NEIRA__AGENT__V1__PROCESS_PROMPT_REQUEST__INIT;
	req.prompt = (char *)text;
	rpc_result res;
	int st = call(sock, SVC "ProcessPrompt", &req.base, timeout_ms, &res);
	rpc_result_destroy(&res);
	return st;
}

static int custom(const char *sock, const char *name, int timeout_ms)
{
	Neira__Agent__V1__CallCustomFunctionRequest req = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_REQUEST__INIT;
	req.name = (char *)name;
	req.args_json = "{}";
	rpc_result res;
	int st = call(sock, SVC "CallCustomFunction", &req.base, timeout_ms, &res);
	rpc_result_destroy(&res);
	return st;
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	int rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

#define WAIT_READY(c) \
	do { \
		if (!child_wait_for((c), &(c)->out, "AGENT_READY", 10000)) { \
			dump(c); \
			fail_msg("no AGENT_READY"); \
		} \
	} while (0)

/* SIGTERM → clean exit 0 and no socket file left (A3, L7). */
static void stop_cleanly(child *c)
{
	assert_int_equal(kill(c->pid, SIGTERM), 0);
	if (!child_wait_exit(c, 5000)) {
		dump(c);
		fail_msg("no exit within 5 s of SIGTERM");
	}
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), 0);
	assert_false(exists(c->sock));
}

/* ---- fixtures --------------------------------------------------------------- */

static int setup(void **state)
{
	child *c = calloc(1, sizeof(*c));
	c->out.fd = c->err.fd = c->pidfd = -1;
	*state = c;
	return c ? 0 : -1;
}

static int teardown(void **state)
{
	child *c = *state;
	if (c->dir[0])
		child_cleanup(c);
	free(c);
	return 0;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_wrong_case_methods(void **state)
{
	child *c = *state;
	child_start(c, "wrong-case-methods", NULL);
	WAIT_READY(c);
	bool healthy = false;
	assert_int_equal(health(c->sock, SVC "HealthCheck", 3000, &healthy), RPC_UNIMPLEMENTED);
	assert_int_equal(health(c->sock, SVC "healthCheck", 3000, &healthy), RPC_OK);
	assert_true(healthy);
	stop_cleanly(c);
}

static void test_both_case(void **state)
{
	child *c = *state;
	child_start(c, "both-case", NULL);
	WAIT_READY(c);
	bool h1 = false, h2 = false;
	assert_int_equal(health(c->sock, SVC "HealthCheck", 3000, &h1), RPC_OK);
	assert_int_equal(health(c->sock, SVC "healthCheck", 3000, &h2), RPC_OK);
	assert_true(h1 && h2);
	stop_cleanly(c);
}

static void test_flaky_health(void **state)
{
	child *c = *state;
	child_start(c, "flaky-health", NULL);
	WAIT_READY(c);
	const bool want[] = { false, false, true, true };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		bool healthy = !want[i];
		assert_int_equal(health(c->sock, SVC "HealthCheck", 3000, &healthy), RPC_OK);
		if (healthy != want[i])
			fail_msg("HealthCheck #%zu: healthy=%d, want %d", i + 1, healthy, want[i]);
	}
	assert_true(child_wait_for(c, &c->err, "step: HealthCheck call #2 answers healthy=false", 2000));
	stop_cleanly(c);
}

static void test_crash_mid_call(void **state)
{
	child *c = *state;
	child_start(c, "crash-mid-call", NULL);
	WAIT_READY(c);
	int64_t t0 = now_ms();
	assert_int_equal(prompt(c->sock, "hello", 10000), RPC_UNAVAILABLE);
	assert_true(now_ms() - t0 < 5000); /* promptly, not at the deadline */
	assert_true(child_wait_exit(c, 5000));
	assert_true(WIFSIGNALED(c->status));
	assert_int_equal(WTERMSIG(c->status), SIGABRT);
	assert_non_null(strstr(c->err.buf, "crashing (abort) during ProcessPrompt call #1"));
}

static void test_exits_early(void **state)
{
	child *c = *state;
	child_start(c, "exits-early", NULL);
	assert_true(child_wait_exit(c, 5000));
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), 3);
	assert_non_null(strstr(c->err.buf, "fatal: model file missing\n"));
	assert_false(exists(c->sock));
	assert_true(c->out.buf == NULL || strstr(c->out.buf, "AGENT_READY") == NULL);
}

static void test_noisy_stdout(void **state)
{
	child *c = *state;
	child_start(c, "noisy-stdout", NULL);
	if (!child_wait_for(c, &c->out, "\nAGENT_READY\r\n", 10000)) {
		dump(c);
		fail_msg("no AGENT_READY\\r\\n line");
	}
	stop_cleanly(c);
	/* line by line, \r\n taken as a line end the way L4 resolves it */
	size_t markers = 0, huge = 0;
	bool not_ready = false, readyx = false, spaced = false;
	char *save = NULL;
	for (char *line = strtok_r(c->out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		markers += strcmp(line, "AGENT_READY") == 0;
		not_ready |= strcmp(line, "NOT_AGENT_READY") == 0;
		readyx |= strcmp(line, "AGENT_READYX") == 0;
		spaced |= strcmp(line, " AGENT_READY") == 0;
		if (n > huge)
			huge = n;
	}
	assert_int_equal(markers, 1);
	assert_true(not_ready && readyx && spaced);
	assert_int_equal(huge, 200000);
}

static void test_split_marker(void **state)
{
	child *c = *state;
	child_start(c, "split-marker", NULL);
	WAIT_READY(c);
	assert_true(child_wait_for(c, &c->out, "AGENT_READY\n", 3000));
	stop_cleanly(c);
}

static void test_ignores_sigterm(void **state)
{
	child *c = *state;
	child_start(c, "ignores-sigterm", NULL);
	WAIT_READY(c);
	assert_int_equal(kill(c->pid, SIGTERM), 0);
	assert_true(child_wait_for(c, &c->err, "ignoring it", 3000));
	assert_true(child_survives(c, 300));
	bool healthy = false;
	assert_int_equal(health(c->sock, SVC "HealthCheck", 3000, &healthy), RPC_OK);
	assert_int_equal(kill(c->pid, SIGKILL), 0);
	assert_true(child_wait_exit(c, 5000));
	assert_true(WIFSIGNALED(c->status));
	assert_int_equal(WTERMSIG(c->status), SIGKILL);
}

static void test_slow_shutdown(void **state)
{
	child *c = *state;
	child_start(c, "slow-shutdown", NULL);
	WAIT_READY(c);
	int64_t t0 = now_ms();
	assert_int_equal(kill(c->pid, SIGTERM), 0);
	assert_true(child_survives(c, 300));
	stop_cleanly(c);
	assert_true(now_ms() - t0 >= 900);
}

static void test_stale_socket(void **state)
{
	child *c = *state;
	child_start(c, "stale-socket", NULL);
	if (!child_wait_for(c, &c->err, "step: left a stale socket file", 5000)) {
		dump(c);
		fail_msg("no stale socket step");
	}
	struct stat st;
	assert_int_equal(lstat(c->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(raw_connect(c->sock), -ECONNREFUSED);
	assert_true(child_survives(c, 100));
	assert_true(c->out.buf == NULL || strstr(c->out.buf, "AGENT_READY") == NULL);
	stop_cleanly(c); /* and it removed its stale file on the way out */
}

static void test_impostor(void **state)
{
	child *c = *state;
	child_start(c, "impostor", NULL);
	WAIT_READY(c);
	assert_int_equal(raw_connect(c->sock), 0);
	bool healthy;
	int st = health(c->sock, SVC "HealthCheck", 500, &healthy);
	assert_true(st == RPC_DEADLINE_EXCEEDED || st == RPC_UNAVAILABLE);
	assert_true(child_wait_for(c, &c->err, "impostor accepted a connection", 2000));
	stop_cleanly(c);
}

static void test_lies_ready(void **state)
{
	child *c = *state;
	child_start(c, "lies-ready", NULL);
	WAIT_READY(c);
	int rc = raw_connect(c->sock); /* the marker came first: nothing is there yet */
	assert_true(rc == -ENOENT || rc == -ECONNREFUSED);
	assert_true(child_wait_for(c, &c->err, "step: serving gRPC", 5000));
	bool healthy = false;
	assert_int_equal(health(c->sock, SVC "HealthCheck", 3000, &healthy), RPC_OK);
	stop_cleanly(c);
}

static void test_hangs_call(void **state)
{
	child *c = *state;
	child_start(c, "hangs-call", NULL);
	WAIT_READY(c);
	assert_int_equal(custom(c->sock, "echo", 300), RPC_DEADLINE_EXCEEDED);
	assert_int_equal(prompt(c->sock, "still here?", 3000), RPC_OK);
	stop_cleanly(c);
}

static void test_dies_after_ready(void **state)
{
	child *c = *state;
	child_start(c, "dies-after-ready", NULL);
	WAIT_READY(c);
	int64_t t0 = now_ms();
	assert_true(child_wait_exit(c, 5000));
	assert_true(WIFSIGNALED(c->status));
	assert_int_equal(WTERMSIG(c->status), SIGKILL);
	assert_true(now_ms() - t0 >= 200);
}

/* An override on top of a preset: status instead of an answer. */
static void test_scripted_status(void **state)
{
	child *c = *state;
	child_start(c, "well-behaved",
		    "{\"calls\": {\"ProcessPrompt\": {\"status\": \"INTERNAL\", \"details\": \"model exploded\"}}}");
	WAIT_READY(c);
	assert_int_equal(prompt(c->sock, "x", 3000), RPC_INTERNAL);
	stop_cleanly(c);
}

static void test_bad_script_exits_2(void **state)
{
	child *c = *state;
	child_start(c, "slow-socket", "{\"bind_delay\": 5}");
	assert_true(child_wait_exit(c, 5000));
	assert_true(WIFEXITED(c->status));
	assert_int_equal(WEXITSTATUS(c->status), 2);
	assert_non_null(strstr(c->err.buf, "unknown key \"bind_delay\""));
	assert_false(exists(c->sock));
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH/TO/neira-fake-agent\n", argv[0]);
		return 2;
	}
	agent_exe = argv[1];
	signal(SIGPIPE, SIG_IGN);
	rpc_global_init();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wrong_case_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flaky_health, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_mid_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exits_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_noisy_stdout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_marker, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignores_sigterm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_impostor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lies_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hangs_call, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dies_after_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scripted_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_script_exits_2, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	rpc_global_shutdown();
	return failed;
}
