/* neira-agent: the reference agent (SPEC A1–A4). Binds its gRPC server on
 * NEIRA_SOCKET_PATH, prints AGENT_READY once the socket accepts connections,
 * serves until SIGTERM/SIGINT, then stops and removes its socket file. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent_service.h"
#include "neira_config.h"
#include "rpc.h"

/* grpc_shutdown_blocking() waits for every grpc object to be gone. Rarely
 * (1 in ≈ 300 agent-check runs beside a CPU hog; its last log line was
 * "shutting grpc down") it waited past L7's 2 s grace — after the server was
 * destroyed and the socket removed, so grpc 1.51 still held something we
 * have not named. The stop does not depend on it: a watchdog ends the
 * process 500 ms into it (x20 under valgrind), saying so on stderr. It is a
 * timer thread, cancelled (clock_nanosleep is a cancellation point) and
 * joined when the shutdown returns in time. */
static void *shutdown_watchdog(void *arg)
{
	long ms = (long)(intptr_t)arg;
	struct timespec left = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR)
		;
	ag_log(AG_LOG_WARN, "grpc shutdown still running after %ld ms: exiting without it", ms);
	_exit(0);
}

/* rpc_global_shutdown(), bounded by the watchdog above. */
static void shutdown_grpc_bounded(void)
{
	const char *vg = getenv("NEIRA_UNDER_VALGRIND");
	long ms = vg && *vg ? 10000 : 500;
	pthread_t wd;
	bool have_wd = pthread_create(&wd, NULL, shutdown_watchdog, (void *)(intptr_t)ms) == 0;
	rpc_global_shutdown();
	if (have_wd) {
		pthread_cancel(wd);
		pthread_join(wd, NULL);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: neira-agent [--socket PATH] [--help] [--version]\n"
		"\n"
		"The reference agent: serves neira.agent.v1.PythonAgent (HealthCheck,\n"
		"ProcessPrompt, CallCustomFunction) and grpc.health.v1.Health/Check over\n"
		"gRPC on a Unix socket, prints AGENT_READY on stdout once the socket\n"
		"accepts connections, and exits 0 on SIGTERM or SIGINT after removing\n"
		"its socket file.\n"
		"\n"
		"Environment:\n"
		"  NEIRA_SOCKET_PATH  socket path (default: $TMPDIR or /tmp, + /neira_agent.sock)\n"
		"  NEIRA_LOG_LEVEL    debug | info | warn | error | off (default info); logs go to stderr\n"
		"  NEIRA_AGENT_MODE   production | development (reported in HealthCheck)\n"
		"\n"
		"Custom functions (CallCustomFunction name, args_json):\n"
		"  echo ANY            -> {\"echo\": ANY}\n"
		"  sum [n,...]         -> {\"sum\": x, \"count\": n}\n"
		"  sleep_ms {\"ms\":N}   -> {\"slept_ms\": N} after N ms\n"
		"  fail {\"code\":C,\"message\":M} -> fails with gRPC status C\n"
		"  upper \"text\"        -> {\"text\": \"TEXT\"}\n"
		"  list                -> {\"functions\": [...]}\n"
		"\n"
		"Exit status: 0 after a clean stop, 1 if the socket cannot be served,\n"
		"2 on a usage error.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_opt = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "s:hV", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			socket_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("neira-agent %s\n", NEIRA_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "neira-agent: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	bool unknown_level;
	const char *lvl = getenv("NEIRA_LOG_LEVEL");
	ag_log_set_level(ag_log_level_parse(lvl, &unknown_level));
	if (unknown_level)
		ag_log(AG_LOG_WARN, "NEIRA_LOG_LEVEL=%s is not a level; using info", lvl);

	char path[4096];
	if (socket_opt) {
		snprintf(path, sizeof(path), "%s", socket_opt);
	} else if (ag_socket_path(path, sizeof(path)) < 0) {
		ag_log(AG_LOG_ERROR, "socket path from NEIRA_SOCKET_PATH/TMPDIR is too long");
		return 1;
	}

	/* before grpc starts its threads, so that they all inherit the mask */
	int sfd = ag_signals_block();
	if (sfd < 0) {
		ag_log(AG_LOG_ERROR, "signalfd: %s", strerror(-sfd));
		return 1;
	}

	rpc_global_init();
	ag_service svc;
	ag_service_init(&svc);
	rpc_method methods[8];
	size_t n = ag_service_methods(&svc, methods, 8);
	rpc_server *srv = NULL;
	char err[512];
	int rc = rpc_server_new(path, methods, n, &srv, err, sizeof(err));
	if (rc < 0) {
		ag_log(AG_LOG_ERROR, "%s", err);
		rpc_global_shutdown();
		close(sfd);
		return 1;
	}
	ag_log(AG_LOG_INFO, "serving on unix:%s (mode=%s, version=%s)", path, svc.mode, svc.version);
	/* A1: rpc_server_new returned only after a connect() succeeded */
	if (ag_print_ready() < 0)
		ag_log(AG_LOG_WARN, "cannot write AGENT_READY to stdout: %s", strerror(errno));

	struct signalfd_siginfo si;
	for (;;) {
		ssize_t r = read(sfd, &si, sizeof(si));
		if (r == (ssize_t)sizeof(si))
			break;
		if (r < 0 && errno != EINTR) {
			ag_log(AG_LOG_ERROR, "read signalfd: %s", strerror(errno));
			break;
		}
	}
	ag_log(AG_LOG_INFO, "signal %d (%s): stopping", (int)si.ssi_signo, strsignal((int)si.ssi_signo));
	rpc_server_free(srv); /* A3: also removes the socket file */
	ag_log(AG_LOG_INFO, "server stopped, socket removed; shutting grpc down");
	shutdown_grpc_bounded();
	close(sfd);
	ag_log(AG_LOG_INFO, "stopped");
	return 0;
}
