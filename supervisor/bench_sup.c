/* Benchmark of the supervisor (issue: median and p99 over >= 100 runs):
 * spawn → ready with the reference agent; marker written → supervisor
 * reacts; a unary call through the supervisor vs a bare rpc_client_call vs a
 * raw Unix-socket echo round trip (the floor). Prints figures, no verdicts.
 * argv[1] = neira-agent. Re-runs itself as the marker writer
 * (SUP_BENCH_HELPER=marker). */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "rpc.h"
#include "sup.h"

#define RUNS 200

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n, double *median_out)
{
	qsort(v, (size_t)n, sizeof(double), cmp);
	double med = v[n / 2], p99 = v[(n * 99) / 100 >= n ? n - 1 : (n * 99) / 100];
	printf("%-44s n=%4d  median %9.3f ms  p99 %9.3f ms\n", what, n, med, p99);
	if (median_out)
		*median_out = med;
}

static double now_ms(void)
{
	return (double)sup_clock_now_us(NULL) / 1000.0;
}

/* ---- marker reaction -------------------------------------------------------- */

static int helper_marker(void)
{
	for (int i = 0; i < RUNS; i++) {
		printf("T=%lld\nAGENT_READY\n", (long long)sup_clock_now_us(NULL));
		fflush(stdout);
		poll(NULL, 0, 3); /* let each marker be its own read */
	}
	return 0;
}

typedef struct {
	long long t_written;
	double v[RUNS];
	int n;
} marker_bench;

static void marker_cb(void *ud, const json_t *ev)
{
	marker_bench *b = ud;
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (strcmp(name, "output") == 0) {
		const char *line = json_string_value(json_object_get(ev, "line"));
		if (strncmp(line, "T=", 2) == 0)
			b->t_written = atoll(line + 2);
	} else if (strcmp(name, "marker") == 0 && b->t_written && b->n < RUNS) {
		b->v[b->n++] = (double)(sup_clock_now_us(NULL) - b->t_written) / 1000.0;
		b->t_written = 0;
	}
}

/* ---- init, phase by phase (issue 13) ------------------------------------- */

/* The first time of each event of one init, from the supervisor's own
 * timeline (t_ms: its injected clock, the same one init_ms is on). */
enum { PH_INIT, PH_SPAWN, PH_MARKER, PH_SOCKET, PH_ATTEMPT, PH_RESULT, PH_READY, PH_N };
static const char *const ph_event[PH_N] = { "init_start",     "spawn",         "marker", "socket_usable",
					    "health_attempt", "health_result", "ready" };

static void phase_cb(void *ud, const json_t *ev)
{
	double *t = ud;
	const char *name = json_string_value(json_object_get(ev, "event"));
	for (int i = 0; i < PH_N; i++)
		if (t[i] < 0 && strcmp(name, ph_event[i]) == 0)
			t[i] = json_number_value(json_object_get(ev, "t_ms"));
}

static double max2(double a, double b)
{
	return a > b ? a : b;
}

/* RUNS inits of `agent`: spawn → ready and its phases, median and p99.
 * The supervisor's share is init − (exec → marker), the agent's own start. */
static int bench_init(sup_config *cfg, const char *agent, const char *label)
{
	enum { BEFORE, EXEC_MARKER, MARKER_SOCKET, SIGNAL_HEALTH, HEALTH_RTT, HEALTH_READY, INIT, SHARE, NF };
	static const char *const what[NF] = {
		"  init_start -> spawn (before the agent runs)", "  spawn -> marker (the agent's own start)",
		"  marker -> socket usable",			 "  ready signals -> first HealthCheck sent",
		"  HealthCheck round trip",			 "  health answer -> ready",
		"init_start -> ready",				 "supervisor's share (init - agent's start)",
	};
	static double v[NF][RUNS];
	int n = 0;
	sup_config_set(cfg, "agent_path", agent, NULL);
	for (int i = 0; i < RUNS; i++) {
		double t[PH_N];
		for (int k = 0; k < PH_N; k++)
			t[k] = -1;
		sup *s;
		if (sup_new(cfg, NULL, &s, NULL) < 0)
			return -1;
		sup_set_event_cb(s, phase_cb, t);
		int ready = sup_init(s) == 1;
		sup_free(s);
		bool complete = ready;
		for (int k = 0; k < PH_N; k++)
			complete = complete && t[k] >= 0;
		if (!complete)
			continue;
		double signals = max2(t[PH_MARKER], t[PH_SOCKET]);
		v[BEFORE][n] = t[PH_SPAWN] - t[PH_INIT];
		v[EXEC_MARKER][n] = t[PH_MARKER] - t[PH_SPAWN];
		v[MARKER_SOCKET][n] = max2(t[PH_SOCKET] - t[PH_MARKER], 0);
		v[SIGNAL_HEALTH][n] = t[PH_ATTEMPT] - signals;
		v[HEALTH_RTT][n] = t[PH_RESULT] - t[PH_ATTEMPT];
		v[HEALTH_READY][n] = t[PH_READY] - t[PH_RESULT];
		v[INIT][n] = t[PH_READY] - t[PH_INIT];
		v[SHARE][n] = v[INIT][n] - v[EXEC_MARKER][n];
		n++;
	}
	printf("init with %s (%d of %d ready):\n", label, n, RUNS);
	if (n == 0)
		return -1;
	for (int f = 0; f < NF; f++)
		report(what[f], v[f], n, NULL);
	return 0;
}

int main(int argc, char **argv)
{
	const char *h = getenv("SUP_BENCH_HELPER");
	if (h && strcmp(h, "marker") == 0)
		return helper_marker();
	if (argc < 2) {
		fprintf(stderr, "usage: bench_sup NEIRA_AGENT [OTHER_AGENT...]\n"
				"  init phases for each agent; marker reaction and calls with the first\n");
		return 2;
	}
	char self[4096];
	if (!realpath(argv[0], self))
		return 2;
	char dir[] = "/tmp/bench_sup.XXXXXX";
	if (!mkdtemp(dir))
		return 2;
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/a.sock", dir);
	sup_config cfg;
	sup_config_init(&cfg);
	sup_config_set(&cfg, "agent_path", argv[1], NULL);
	sup_config_set(&cfg, "socket_path", sock, NULL);
	rpc_global_init();

	/* 1. init, phase by phase, for each agent given */
	static double v[RUNS * 5];
	int n = 0;
	for (int a = 1; a < argc; a++)
		if (bench_init(&cfg, argv[a], argv[a]) < 0) {
			fprintf(stderr, "bench: %s never became ready\n", argv[a]);
			return 1;
		}
	sup_config_set(&cfg, "agent_path", argv[1], NULL);

	/* 2. marker written → supervisor reacts */
	setenv("SUP_BENCH_HELPER", "marker", 1);
	marker_bench mb = { 0 };
	sup_config mc;
	sup_config_init(&mc);
	sup_config_set(&mc, "agent_path", self, NULL);
	sup_config_set(&mc, "socket_path", sock, NULL);
	sup_config_set(&mc, "ready_timeout_ms", "60000", NULL);
	sup *s;
	sup_new(&mc, NULL, &s, NULL);
	sup_set_event_cb(s, marker_cb, &mb);
	sup_init(s); /* ends in mock (early_exit) after the helper's markers */
	sup_free(s);
	sup_config_destroy(&mc);
	unsetenv("SUP_BENCH_HELPER");
	report("marker written -> supervisor reacts", mb.v, mb.n, NULL);

	/* 3. unary calls */
	const int CALLS = 1000;
	sup_new(&cfg, NULL, &s, NULL);
	if (sup_init(s) != 1) {
		fprintf(stderr, "bench: agent not ready\n");
		return 1;
	}
	n = 0;
	for (int i = 0; i < CALLS; i++) {
		sup_reply r = SUP_REPLY_INIT;
		double t = now_ms();
		int rc = sup_call_custom_function(s, "echo", "{\"x\":1}", 0, &r);
		double d = now_ms() - t;
		if (rc == 0)
			v[n++] = d;
		sup_reply_destroy(&r);
	}
	double med_sup, med_bare, med_raw;
	report("unary call through the supervisor", v, n, &med_sup);

	Neira__Agent__V1__CallCustomFunctionRequest q = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_REQUEST__INIT;
	q.name = (char *)"echo";
	q.args_json = (char *)"{\"x\":1}";
	uint8_t buf[128];
	size_t len = neira__agent__v1__call_custom_function_request__pack(&q, buf);
	rpc_client *c;
	rpc_client_new(sup_socket_path(s), NULL, &c);
	n = 0;
	for (int i = 0; i < CALLS; i++) {
		rpc_result r = RPC_RESULT_INIT;
		double t = now_ms();
		int rc = rpc_client_call(c, "/neira.agent.v1.PythonAgent/CallCustomFunction", buf, len, 5000, &r);
		double d = now_ms() - t;
		if (rc == 0 && r.status == RPC_OK)
			v[n++] = d;
		rpc_result_destroy(&r);
	}
	rpc_client_free(c);
	report("bare rpc_client_call (grpc core)", v, n, &med_bare);
	sup_free(s);

	int sp[2];
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
	pid_t pid = fork();
	if (pid == 0) {
		close(sp[0]);
		char b[64];
		ssize_t k;
		while ((k = read(sp[1], b, sizeof(b))) > 0)
			if (write(sp[1], b, (size_t)k) != k)
				break;
		_exit(0);
	}
	close(sp[1]);
	n = 0;
	for (int i = 0; i < CALLS; i++) {
		char b[32] = "ping";
		double t = now_ms();
		if (write(sp[0], b, sizeof(b)) != (ssize_t)sizeof(b))
			break;
		size_t got = 0;
		while (got < sizeof(b)) {
			ssize_t k = read(sp[0], b + got, sizeof(b) - got);
			if (k <= 0)
				break;
			got += (size_t)k;
		}
		v[n++] = now_ms() - t;
	}
	close(sp[0]);
	waitpid(pid, NULL, 0);
	report("raw Unix-socket echo round trip (floor)", v, n, &med_raw);
	printf("ratios (median): supervisor/bare = %.2f, bare/raw = %.1f, supervisor/raw = %.1f\n",
	       med_sup / med_bare, med_bare / med_raw, med_sup / med_raw);

	rpc_global_shutdown();
	sup_config_destroy(&cfg);
	rmdir(dir);
	return 0;
}
