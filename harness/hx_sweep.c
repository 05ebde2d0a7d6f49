/* hx_sweep: `neira-harness sweep` (each in-code fault point failed on its
 * 1st..Kth call, a table of outcomes) and `neira-harness chaos` (random fake
 * agents x random fault plans, reproducible from a seed); each run is a
 * scenario in its own child (hx_isolate). */
#include <errno.h>
#include <fnmatch.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flt.h"
#include "hx_internal.h"
#include "hx_isolate.h"

/* ---- sweep and chaos ------------------------------------------------------- */

static json_t *last_reply(const json_t *res, const char *kind)
{
	json_t *last = NULL;
	size_t i;
	json_t *r;
	json_array_foreach(json_object_get(res, "replies"), i, r)
		if (!strcmp(json_string_value(json_object_get(r, "reply")) ?: "", kind))
			last = r;
	return last;
}

/* The fault-run invariants on a result: every harness invariant held, the
 * run finished (no timeout, no missing reply), the supervisor ended ready
 * or mock, and a mock carries a structured error with an operation and an
 * errno or exit status. Returns true if all held; `why` says what did not,
 * `outcome` is a short cell for the table. */
static bool check_fault_run(const json_t *res, char *why, size_t whylen, char *outcome, size_t olen)
{
	why[0] = '\0';
	size_t i;
	json_t *iv;
	json_array_foreach(json_object_get(res, "invariants"), i, iv)
		if (strcmp(json_string_value(json_object_get(iv, "verdict")), "pass")) {
			size_t l = strlen(why);
			snprintf(why + l, whylen - l, "%s%s: %s", l ? "; " : "",
				 json_string_value(json_object_get(iv, "name")),
				 json_string_value(json_object_get(iv, "message")));
		}
	const char *err = json_string_value(json_object_get(res, "error"));
	if (err) {
		size_t l = strlen(why);
		snprintf(why + l, whylen - l, "%s%s", l ? "; " : "", err);
	}
	json_t *snap = last_reply(res, "snapshot");
	const char *mode = json_string_value(json_object_get(snap, "mode"));
	json_t *e = json_object_get(snap, "error");
	if (!mode) {
		snprintf(outcome, olen, "no-mode");
		if (!why[0])
			snprintf(why, whylen, "no final snapshot");
		return false;
	}
	if (!strcmp(mode, "mock")) {
		const char *reason = json_string_value(json_object_get(snap, "reason"));
		json_t *ctx = json_object_get(e, "context");
		const char *en = json_string_value(json_object_get(ctx, "errno"));
		bool has_cause = en || json_object_get(ctx, "exit_code") || json_object_get(ctx, "signal") ||
				 json_object_get(ctx, "status");
		const char *m = json_string_value(json_object_get(e, "message"));
		snprintf(outcome, olen, "mock %s %s", reason ? reason : "?", en ? en : "");
		if (!m || !*m || !has_cause) {
			size_t l = strlen(why);
			snprintf(why + l, whylen - l, "%smock without a structured error naming the operation and "
				 "its errno/status (error: %s)", l ? "; " : "", m ? m : "null");
		}
	} else {
		snprintf(outcome, olen, "%s", mode);
	}
	return !why[0];
}

static json_t *fault_counts(const json_t *res, const char *point)
{
	json_t *snap = last_reply(res, "snapshot");
	return json_object_get(json_object_get(snap, "faults"), point);
}

static void usage_faults(FILE *f)
{
	fprintf(f, "Usage: neira-harness sweep SCENARIO [--points GLOB] [--max-nth K] [-v]\n"
		   "       neira-harness chaos --seed S --runs N [--time-budget SEC] [--out DIR] [-v]\n");
}

static int cmd_sweep(int argc, char **argv, const char *dir, const hx_paths *paths)
{
	const char *name = NULL, *glob = "*";
	long kmax = 3;
	bool verbose = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--points") && i + 1 < argc)
			glob = argv[++i];
		else if (!strcmp(argv[i], "--max-nth") && i + 1 < argc) {
			char *end;
			kmax = strtol(argv[++i], &end, 10);
			if (*argv[i] == '\0' || *end || kmax < 1 || kmax > 1000) {
				fprintf(stderr, "neira-harness: sweep: --max-nth wants a number in 1..1000, not '%s'\n",
					argv[i]);
				return 2;
			}
		}
		else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))
			verbose = true;
		else if (argv[i][0] != '-' && !name)
			name = argv[i];
		else {
			usage_faults(stderr);
			return 2;
		}
	}
	if (!name || kmax < 1) {
		usage_faults(stderr);
		return 2;
	}
	/* issue 14: a glob that names no point is a mistake, not "0 runs" */
	int matching = 0;
	for (int p = 0; p < FLT_POINT_COUNT_; p++)
		matching += fnmatch(glob, flt_point_name((flt_point)p), 0) == 0;
	if (!matching) {
		fprintf(stderr, "neira-harness: sweep: --points '%s' matches none of the in-code fault points:", glob);
		for (int p = 0; p < FLT_POINT_COUNT_; p++)
			fprintf(stderr, "%s %s", p ? "," : "", flt_point_name((flt_point)p));
		fprintf(stderr, "\n");
		return 2;
	}
	char path[4096], err[1024];
	if (strchr(name, '/'))
		snprintf(path, sizeof(path), "%s", name);
	else
		snprintf(path, sizeof(path), "%s/%s.yaml", dir, name);
	hx_scenario *sc;
	if (hx_scenario_load(path, &sc, err, sizeof(err)) < 0) {
		fprintf(stderr, "neira-harness: %s\n", err);
		return 2;
	}
	/* the sweep checks invariants, not the scenario's own expectations:
	 * a failing point is supposed to change the outcome */
	json_object_set_new(sc->doc, "expect", json_object());
	json_object_set_new(sc->doc, "timeout_ms", json_integer(20000));
	printf("sweep %s: in-code points matching '%s', n = 1..%ld\n", sc->name, glob, kmax);
	printf("%-30s %3s  %-8s %-34s %s\n", "point", "n", "fired", "outcome", "verdict");
	int runs = 0, bad = 0, unreached = 0;
	double t0 = hx_now_ms();
	for (int p = 0; p < FLT_POINT_COUNT_; p++) {
		const char *pn = flt_point_name((flt_point)p);
		if (fnmatch(glob, pn, 0))
			continue;
		for (long n = 1; n <= kmax; n++) {
			json_t *plan = json_pack("[{s:s, s:s, s:s, s:i, s:I, s:o, s:n, s:n}]", "point", pn, "kind", "code",
						 "side", "supervisor", "seed", 0, "nth", (json_int_t)n, "errno",
						 flt_point_errno((flt_point)p) ? json_integer(flt_point_errno((flt_point)p))
									       : json_null(),
						 "errno_name", "when");
			json_object_set_new(json_array_get(plan, 0), "mode", json_string("nth"));
			json_object_set_new(sc->doc, "faults", plan);
			json_t *res = hx_iso_run(hx_run_scenario, sc, paths);
			runs++;
			char why[2048], outcome[128];
			bool ok = check_fault_run(res, why, sizeof(why), outcome, sizeof(outcome));
			json_t *fc = fault_counts(res, pn);
			long fired = (long)json_integer_value(json_object_get(fc, "fired"));
			long calls = (long)json_integer_value(json_object_get(fc, "calls"));
			char fcell[32];
			snprintf(fcell, sizeof(fcell), fc ? "%ld/%ld" : "?", fired, calls);
			printf("%-30s %3ld  %-8s %-34s %s%s%s\n", pn, n, fcell, outcome, ok ? "ok" : "VIOLATION",
			       ok ? "" : ": ", ok ? "" : why);
			if (!ok && verbose)
				hx_term_timeline(stdout, res);
			fflush(stdout);
			bad += !ok;
			json_decref(res);
			if (fc == NULL || fired == 0) {
				unreached++;
				break; /* the point is not reached n times: larger n would not fire either */
			}
		}
	}
	double secs = (hx_now_ms() - t0) / 1000.0;
	printf("sweep: %d run(s), %d violation(s), %d point(s) reached fewer than --max-nth times (%.1f s, "
	       "%.2f runs/s)\n", runs, bad, unreached, secs, secs > 0 ? runs / secs : 0.0);
	hx_scenario_free(sc);
	return bad ? 1 : 0;
}

/* ---- chaos ---------------------------------------------------------------- */

static uint64_t rnd(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static long pick(uint64_t *x, long n)
{
	return (long)(rnd(x) % (uint64_t)n);
}

/* Presets that end in a bounded time with the chaos config below. */
static const char *const chaos_presets[] = {
	"well-behaved", "never-ready", "wrong-case-methods", "both-case", "no-methods", "crash-mid-call",
	"flaky-health", "unhealthy-forever", "exits-early", "dies-after-ready", "lies-ready", "stale-socket",
	"impostor-garbage", "split-marker", "noisy-stdout", "slow-shutdown",
};

/* A random scenario in scenario-file syntax (JSON is YAML). */
static json_t *chaos_scenario(uint64_t seed, int run)
{
	uint64_t x = seed * 1000003u + (uint64_t)run;
	rnd(&x);
	char name[64];
	snprintf(name, sizeof(name), "chaos-%llu-%d", (unsigned long long)seed, run);
	const char *preset = chaos_presets[pick(&x, (long)(sizeof(chaos_presets) / sizeof(chaos_presets[0])))];
	json_t *agent = json_pack("{s:s, s:s}", "kind", "fake", "preset", preset);
	if (pick(&x, 3) == 0) { /* a random tweak on top of the preset */
		static const char *const tweaks[] = {
			"{\"bind_delay_ms\": 150}", "{\"marker\": \"split\"}", "{\"marker\": \"crlf\"}",
			"{\"health\": {\"unhealthy_first\": 1}}", "{\"health\": {\"delay_ms\": 200}}",
			"{\"stderr_lines\": [\"warming up\"]}",
		};
		json_t *t = json_loads(tweaks[pick(&x, (long)(sizeof(tweaks) / sizeof(tweaks[0])))], 0, NULL);
		json_object_set_new(agent, "script", t);
	}
	json_t *faults = json_array();
	long nf = 1 + pick(&x, 2);
	for (long i = 0; i < nf; i++) {
		flt_point p = (flt_point)pick(&x, FLT_POINT_COUNT_);
		json_t *f = json_pack("{s:s}", "point", flt_point_name(p));
		long m = pick(&x, 4);
		/* "always" on an EINTR point is a livelock no kernel produces:
		 * keep the error points bounded (nth/once/probability) */
		if (m == 0 && flt_point_errno(p) != EINTR && p != FLT_SUP_LOOP_POLL) {
			json_object_set_new(f, "mode", json_string("always"));
		} else if (m == 1) {
			json_object_set_new(f, "mode", json_string("once"));
		} else if (m == 2 || m == 0) {
			json_object_set_new(f, "mode", json_string("nth"));
			json_object_set_new(f, "nth", json_integer(1 + pick(&x, 4)));
		} else {
			json_object_set_new(f, "mode", json_string("probability"));
			json_object_set_new(f, "probability", json_real((double)(1 + pick(&x, 5)) / 10.0));
			json_object_set_new(f, "seed", json_integer(pick(&x, 1000000)));
		}
		if (pick(&x, 4) == 0)
			json_object_set_new(f, "when", json_pack("{s:s}", "after_event", "ready"));
		json_array_append_new(faults, f);
	}
	return json_pack("{s:s, s:s, s:[s], s:o, s:{s:s, s:s, s:s, s:s, s:s}, s:o, s:[s, {s:{s:s, s:s}}, "
			 "{s:{s:s}}, s], s:i, s:{s:[{s:s}]}}",
			 "name", name, "description", "chaos run: random fake agent x random fault plan",
			 "clauses", "K2", "agent", agent, "config", "ready_timeout_ms", "1000",
			 "health_base_delay_ms", "50", "health_deadline_ms", "500", "shutdown_grace_ms", "500",
			 "call_deadline_ms", "1000", "faults", faults, "actions", "init", "call", "method",
			 "process_prompt", "prompt", "chaos", "call", "method", "health", "stop", "timeout_ms", 20000,
			 "expect", "events", "event", "init_start");
}

/* Parse + run a chaos scenario source; NULL result if it does not parse. */
static json_t *chaos_run(json_t *src, const hx_paths *paths, char *why, size_t whylen, char *outcome,
			 size_t olen, bool *ok)
{
	char *text = json_dumps(src, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	hx_scenario *sc = NULL;
	char err[1024];
	/* the source expects only init_start (a scenario must check
	 * something, and a reproducer file must parse); chaos itself checks
	 * the fault-run invariants */
	int rc = hx_scenario_parse("chaos", text, strlen(text), &sc, err, sizeof(err));
	free(text);
	if (rc < 0) {
		snprintf(why, whylen, "generated scenario does not parse: %s", err);
		*ok = false;
		return NULL;
	}
	json_t *res = hx_iso_run(hx_run_scenario, sc, paths);
	*ok = check_fault_run(res, why, whylen, outcome, olen);
	hx_scenario_free(sc);
	return res;
}

static int cmd_chaos(int argc, char **argv, const hx_paths *paths)
{
	unsigned long long seed = 1;
	long runs = 10;
	double budget = 0;
	const char *outdir = ".";
	bool verbose = false, have_seed = false;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
			seed = strtoull(argv[++i], NULL, 10);
			have_seed = true;
		} else if (!strcmp(argv[i], "--runs") && i + 1 < argc) {
			runs = atol(argv[++i]);
		} else if (!strcmp(argv[i], "--time-budget") && i + 1 < argc) {
			budget = atof(argv[++i]);
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			outdir = argv[++i];
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			verbose = true;
		} else {
			usage_faults(stderr);
			return 2;
		}
	}
	if (!have_seed || runs < 1) {
		usage_faults(stderr);
		return 2;
	}
	double t0 = hx_now_ms();
	int bad = 0, done = 0;
	printf("chaos --seed %llu --runs %ld%s\n", seed, runs, budget > 0 ? " (time budget set)" : "");
	for (long r = 0; r < runs; r++) {
		if (budget > 0 && hx_now_ms() - t0 > budget * 1000) {
			printf("time budget of %.0f s used up after %d run(s)\n", budget, done);
			break;
		}
		json_t *src = chaos_scenario(seed, (int)r);
		char why[2048] = "", outcome[128] = "";
		bool ok;
		json_t *res = chaos_run(src, paths, why, sizeof(why), outcome, sizeof(outcome), &ok);
		done++;
		char *plan = json_dumps(json_object_get(src, "faults"), JSON_COMPACT | JSON_REAL_PRECISION(6));
		printf("[%*ld/%ld] %-18s %-34s %s %s\n", snprintf(NULL, 0, "%ld", runs), r + 1, runs,
		       json_string_value(json_object_get(json_object_get(src, "agent"), "preset")), outcome,
		       ok ? "ok" : "VIOLATION", plan ? plan : "");
		free(plan);
		if (!ok) {
			bad++;
			printf("    %s\n", why);
			if (verbose && res)
				hx_term_timeline(stdout, res);
			/* minimise: the agent's tweak and each fault alone, keep
			 * the smallest plan that still fails */
			json_t *faults = json_object_get(src, "faults");
			for (size_t i = 0; json_array_size(faults) > 1 && i < json_array_size(faults);) {
				json_t *trial = json_deep_copy(src);
				json_array_remove(json_object_get(trial, "faults"), i);
				char w2[2048], o2[128];
				bool ok2;
				json_t *r2 = chaos_run(trial, paths, w2, sizeof(w2), o2, sizeof(o2), &ok2);
				json_decref(r2);
				if (!ok2) {
					json_decref(src);
					src = trial;
					faults = json_object_get(src, "faults");
				} else {
					json_decref(trial);
					i++;
				}
			}
			const char *nm = json_string_value(json_object_get(src, "name"));
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s.yaml", outdir, nm);
			json_object_set_new(src, "description",
					    json_sprintf("chaos failure, seed %llu run %ld: %s", seed, r, why));
			if (json_dump_file(src, p, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0)
				printf("    seed %llu run %ld: reproduce with: neira-harness run %s\n", seed, r, p);
		}
		json_decref(res);
		json_decref(src);
		fflush(stdout);
	}
	double secs = (hx_now_ms() - t0) / 1000.0;
	printf("chaos: seed %llu, %d run(s), %d violation(s) (%.1f s, %.2f runs/s)\n", seed, done, bad, secs,
	       secs > 0 ? done / secs : 0.0);
	return bad ? 1 : 0;
}

int hx_faults_main(const char *cmd, int argc, char **argv, const char *dir, const hx_paths *paths)
{
	if (!strcmp(cmd, "sweep"))
		return cmd_sweep(argc, argv, dir, paths);
	return cmd_chaos(argc, argv, paths);
}

