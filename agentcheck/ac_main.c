/* ac_main: the agent-check command line — options, the live check lines,
 * --json, --report, --bench, and the exit status (0 pass, 1 a check failed,
 * 2 usage or input error, 130 interrupted). */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "ac.h"
#include "ac_internal.h"
#include "neira_config.h"

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"Usage: %s [OPTIONS] --agent CMD [ARG...]\n"
		"       %s [OPTIONS] -- CMD [ARG...]\n"
		"\n"
		"Checks ANY agent (any language) against the agent side of SPEC.md: it starts\n"
		"CMD the way a conforming supervisor does (the environment plus\n"
		"NEIRA_AGENT_MODE=production, NEIRA_LOG_LEVEL=info, NEIRA_SOCKET_PATH in a private\n"
		"0700 directory; no arguments beyond the ones given; stdin /dev/null) and prints\n"
		"one line per check: VERDICT CLAUSE check — measured.\n"
		"\n"
		"--agent takes the rest of the command line: put every option before it.\n"
		"\n"
		"Options:\n"
		"  --report DIR           also write DIR/agent-check.json and, through reports/,\n"
		"                         DIR/conformance.{json,md,html} and DIR/junit.xml\n"
		"  --json                 print the run as JSON (neira.agent-check/1) on stdout;\n"
		"                         the check lines go to stderr\n"
		"  --only LIST            run only these checks (comma-separated names or clause IDs)\n"
		"  --skip LIST            do not run these checks (same syntax)\n"
		"  --list                 list the checks and exit\n"
		"  --ready-timeout-ms N   marker + socket deadline per start (default 15000, SPEC L5)\n"
		"  --grace-ms N           SIGTERM grace period (default 2000, SPEC L7)\n"
		"  --call-timeout-ms N    deadline of each contract call (default 5000)\n"
		"  --cycles N             start/stop cycles (default 20)\n"
		"  --concurrency N        concurrent calls (default 32)\n"
		"  --function NAME=JSON   the CallCustomFunction probe (default echo={\"agent_check\":true})\n"
		"  --slow-function NAME=JSON\n"
		"                         a call that outlives a 300 ms deadline, for deadline-cancelled\n"
		"                         (default sleep_ms={\"ms\":30000})\n"
		"  --fiu-dir DIR          libfiu's preloads for listen-EADDRINUSE (default /usr/lib/fiu)\n"
		"  --bench N              only startup figures: N starts, exec -> AGENT_READY and\n"
		"                         exec -> first successful HealthCheck, as JSON on stdout\n"
		"  -v, --verbose          also print what each check expects\n"
		"  -h, --help             this text\n"
		"  -V, --version          the version\n"
		"\n"
		"Verdicts: PASS, FAIL, ABSENT (an optional feature not served: A4), SKIP (not\n"
		"selected, or impossible here — the reason is printed), INFO (a measurement).\n"
		"Under NEIRA_UNDER_VALGRIND every deadline is stretched 20x.\n"
		"\n"
		"Exit status: 0 every required check passed (none FAILed), 1 a check failed,\n"
		"2 usage or input error (bad option, agent not executable, report not writable),\n"
		"130 interrupted (Ctrl-C ends the running check and cleans up; twice: at once).\n",
		prog, prog);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* "NAME=JSON" → name, args (pointers into a copy owned by *hold). */
static int parse_function(const char *s, const char **name, const char **args, char **hold)
{
	free(*hold);
	*hold = strdup(s);
	if (!*hold)
		return -ENOMEM;
	char *eq = strchr(*hold, '=');
	if (eq)
		*eq = '\0';
	if (!(*hold)[0])
		return -EINVAL;
	*name = *hold;
	*args = eq ? eq + 1 : "";
	json_error_t je;
	json_t *j = eq && eq[1] ? json_loads(eq + 1, JSON_DECODE_ANY, &je) : NULL;
	if (eq && eq[1] && !j)
		return -EINVAL;
	json_decref(j);
	return 0;
}

typedef struct {
	FILE *out;
	bool verbose;
} live_ctx;

static void print_line(void *ud, size_t i, const ac_result *r)
{
	live_ctx *c = ud;
	const ac_check_def *d = ac_check_get(i);
	fprintf(c->out, "%-6s %-3s %s — %s\n", ac_verdict_name(r->verdict), d->clause, d->name, r->measured);
	if (c->verbose && r->expected[0])
		fprintf(c->out, "           expected: %s\n", r->expected);
	fflush(c->out);
}

static void now_rfc3339(char *buf, size_t len)
{
	time_t t = time(NULL); /* a label only; every timeout uses the monotonic clock */
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int ac_main(int argc, char **argv)
{
	const char *prog = argc > 0 && argv[0] ? argv[0] : "neira-agent-check";
	/* split at --agent / --: everything after is the agent's command */
	int agent_at = -1;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "--agent") || !strcmp(argv[i], "--")) {
			agent_at = i;
			break;
		}
	int opt_argc = agent_at < 0 ? argc : agent_at;

	ac_config cfg = {
		.clk = &ac_clock_monotonic, .scale = 1.0, .ready_timeout_ms = 15000, .grace_ms = 2000,
		.call_timeout_ms = 5000, .cycles = 20, .concurrency = 32, .function = "echo",
		.function_args = "{\"agent_check\":true}", .slow_function = "sleep_ms",
		.slow_args = "{\"ms\":30000}", .fiu_dir = "/usr/lib/fiu",
	};
	const char *report_dir = NULL;
	bool json_out = false, list = false;
	int bench = 0;
	char *fn_hold = NULL, *slow_hold = NULL;
	int status = 2;
	static const struct option opts[] = {
		{ "report", required_argument, NULL, 'r' },  { "json", no_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },    { "skip", required_argument, NULL, 's' },
		{ "list", no_argument, NULL, 'l' },          { "ready-timeout-ms", required_argument, NULL, 1 },
		{ "grace-ms", required_argument, NULL, 2 },  { "call-timeout-ms", required_argument, NULL, 3 },
		{ "cycles", required_argument, NULL, 4 },    { "concurrency", required_argument, NULL, 5 },
		{ "function", required_argument, NULL, 6 },  { "slow-function", required_argument, NULL, 7 },
		{ "fiu-dir", required_argument, NULL, 8 },   { "bench", required_argument, NULL, 9 },
		{ "verbose", no_argument, NULL, 'v' },       { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },       { NULL, 0, NULL, 0 },
	};
	optind = 1;
	opterr = 1;
	int c;
	while ((c = getopt_long(opt_argc, argv, "+r:jo:s:lvhV", opts, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'r': report_dir = optarg; break;
		case 'j': json_out = true; break;
		case 'o': cfg.only = optarg; break;
		case 's': cfg.skip = optarg; break;
		case 'l': list = true; break;
		case 'v': cfg.verbose = true; break;
		case 1: bad = parse_int(optarg, 1, 600000, &cfg.ready_timeout_ms); break;
		case 2: bad = parse_int(optarg, 1, 600000, &cfg.grace_ms); break;
		case 3: bad = parse_int(optarg, 1, 600000, &cfg.call_timeout_ms); break;
		case 4: bad = parse_int(optarg, 1, 10000, &cfg.cycles); break;
		case 5: bad = parse_int(optarg, 1, 1024, &cfg.concurrency); break;
		case 6: bad = parse_function(optarg, &cfg.function, &cfg.function_args, &fn_hold); break;
		case 7: bad = parse_function(optarg, &cfg.slow_function, &cfg.slow_args, &slow_hold); break;
		case 8: cfg.fiu_dir = optarg; break;
		case 9: bad = parse_int(optarg, 1, 100000, &bench); break;
		case 'h':
			usage(stdout, prog);
			status = 0;
			goto out;
		case 'V':
			printf("neira-agent-check %s\n", NEIRA_VERSION);
			status = 0;
			goto out;
		default:
			usage(stderr, prog);
			goto out;
		}
		if (bad) {
			fprintf(stderr, "%s: --%s %s: not a valid value\n", prog, opts[0].name ? "option" : "", optarg);
			goto out;
		}
	}
	if (optind < opt_argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (options go before --agent CMD)\n", prog, argv[optind]);
		goto out;
	}
	if (list) {
		for (size_t i = 0; i < ac_check_count(); i++) {
			const ac_check_def *d = ac_check_get(i);
			printf("%-3s %-24s %-11s %s\n", d->clause, d->name,
			       d->need == AC_REQUIRED ? "required" : d->need == AC_OPTIONAL ? "optional" : "informative",
			       d->what);
		}
		status = 0;
		goto out;
	}
	if (agent_at < 0 || agent_at + 1 >= argc) {
		fprintf(stderr, "%s: no agent command: give --agent CMD [ARG...]\n", prog);
		usage(stderr, prog);
		goto out;
	}
	cfg.agent_argv = argv + agent_at + 1;
	if (getenv("NEIRA_UNDER_VALGRIND"))
		cfg.scale = 20.0;

	/* processes the agent leaves behind become ours, so that L7 can find
	 * and reap them; PR_SET_PDEATHSIG in each child covers our own death */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	ac_catch_interrupts();

	/* an agent that cannot be executed is an input error, said at once */
	if (!strchr(cfg.agent_argv[0], '/')) {
		/* PATH lookup happens at exec: the spawn reports it */
	} else if (access(cfg.agent_argv[0], X_OK) < 0) {
		fprintf(stderr, "%s: agent %s: %s\n", prog, cfg.agent_argv[0], strerror(errno));
		goto out;
	}

	char err[700] = "";
	if (bench > 0) {
		json_t *fig = ac_bench_startup(&cfg, bench, err, sizeof(err));
		if (!fig) {
			fprintf(stderr, "%s: bench: %s\n", prog, err);
			status = 1;
			goto out;
		}
		if (ac_interrupted()) {
			fprintf(stderr, "%s: bench: interrupted\n", prog);
			json_decref(fig);
			status = 130;
			goto out;
		}
		json_object_set_new(fig, "agent", json_string(cfg.agent_argv[0]));
		json_dumpf(fig, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		printf("\n");
		status = json_integer_value(json_object_get(fig, "failed")) ? 1 : 0;
		if (err[0])
			fprintf(stderr, "%s: bench: %s\n", prog, err);
		json_decref(fig);
		goto out;
	}

	ac_result *results = calloc(ac_check_count(), sizeof(*results));
	if (!results) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	char started[32];
	now_rfc3339(started, sizeof(started));
	live_ctx live = { json_out ? stderr : stdout, cfg.verbose };
	fprintf(live.out, "agent-check: %s (%zu checks)\n", cfg.agent_argv[0], ac_check_count());
	int64_t t0 = ac_now_us(cfg.clk);
	int rc = ac_run_checks(&cfg, results, print_line, &live, err, sizeof(err));
	double dur = (double)(ac_now_us(cfg.clk) - t0) / 1000.0;
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		status = 2;
	} else if (ac_interrupted()) { /* no verdict, no report from a cut run */
		fprintf(live.out, "agent-check: INTERRUPTED after %.1f s — no verdict\n", dur / 1000.0);
		status = 130;
	} else {
		bool ok = ac_results_ok(results);
		status = ok ? 0 : 1;
		int nfail = 0;
		for (size_t i = 0; i < ac_check_count(); i++)
			nfail += results[i].verdict == AC_FAIL;
		fprintf(live.out, "agent-check: %s — %d check(s) failed, %.1f s\n", ok ? "PASS" : "FAIL", nfail, dur / 1000.0);
		if (json_out) {
			json_t *doc = ac_report_json(&cfg, results, dur, started);
			json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
			printf("\n");
			json_decref(doc);
		}
		if (report_dir && ac_report_write(report_dir, &cfg, results, dur, started, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s: report: %s\n", prog, err);
			status = 2;
		} else if (report_dir) {
			fprintf(live.out, "agent-check: report in %s (agent-check.json, conformance.html, .md, .json, "
				"junit.xml)\n", report_dir);
		}
	}
	for (size_t i = 0; i < ac_check_count(); i++)
		json_decref(results[i].data);
	free(results);
out:
	free(fn_hold);
	free(slow_hold);
	return status;
}
