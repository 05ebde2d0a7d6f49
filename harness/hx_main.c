/* neira-harness: list, run and explain conformance scenarios against
 * neira-host (driven from outside through `neira-host drive`). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ac.h"
#include "neira_config.h"
#include "hx.h"
#include "hx_internal.h"
#include "hx_isolate.h"
#include "nv.h"
#include "hx_report.h"

#ifndef HX_HOST
#define HX_HOST "neira-host"
#endif
#ifndef HX_FAKE_AGENT
#define HX_FAKE_AGENT "neira-fake-agent"
#endif
#ifndef HX_REF_AGENT
#define HX_REF_AGENT "neira-agent"
#endif
#ifndef HX_SCENARIOS_DIR
#define HX_SCENARIOS_DIR "scenarios"
#endif
#ifndef HX_BUILD_DIR /* where the build tree's neira-harness is */
#define HX_BUILD_DIR ""
#endif
#ifndef HX_INSTALLED_SCENARIOS /* from bindir: the installed scenario library */
#define HX_INSTALLED_SCENARIOS "../share/neira-conformance/scenarios"
#endif

/* The defaults when this binary runs from outside the build tree (meson
 * install, or a DESTDIR copy of it): the tools beside it in bindir and the
 * scenario library in datadir, found relative to the binary itself so the
 * installed tree can move. From the build tree: the build's tools and the
 * source tree's scenarios (HX_HOST, …, HX_SCENARIOS_DIR). Environment
 * variables and options still override either. */
static void installed_defaults(hx_paths *p, const char **dir)
{
	static char exe[PATH_MAX], build[PATH_MAX], host[PATH_MAX + 16], fake[PATH_MAX + 24], ref[PATH_MAX + 16],
		scen[PATH_MAX + 64], fexec[PATH_MAX + 24];
	ssize_t l = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (l <= 0)
		return;
	exe[l] = '\0';
	*strrchr(exe, '/') = '\0';
	if (realpath(HX_BUILD_DIR, build) && !strcmp(build, exe))
		return;
	snprintf(host, sizeof(host), "%s/neira-host", exe);
	snprintf(fake, sizeof(fake), "%s/neira-fake-agent", exe);
	snprintf(ref, sizeof(ref), "%s/neira-agent", exe);
	snprintf(fexec, sizeof(fexec), "%s/neira-fault-exec", exe);
	char rel[sizeof(scen)];
	if (HX_INSTALLED_SCENARIOS[0] == '/')
		snprintf(rel, sizeof(rel), "%s", HX_INSTALLED_SCENARIOS);
	else
		snprintf(rel, sizeof(rel), "%s/%s", exe, HX_INSTALLED_SCENARIOS);
	if (!realpath(rel, scen)) /* absent: the error names the path it looked at */
		snprintf(scen, sizeof(scen), "%s", rel);
	*p = (hx_paths){ host, fake, ref };
	*dir = scen;
	setenv("NEIRA_FAULT_EXEC", fexec, 0); /* fault plans (hx_plan.c), unless set */
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: neira-harness [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Commands:\n"
		"  list [--clause ID]                 scenarios with their SPEC clauses\n"
		"  run NAME...|--all|--clause ID [-j N] [--verbose] [--results DIR]\n"
		"                                     run scenarios; exit 0 only if all pass\n"
		"  explain NAME                       run one scenario and print its timeline\n"
		"  sweep NAME [--points GLOB] [--max-nth K]   fail each in-code fault point on its\n"
		"                                     1st..Kth call; table point x n -> outcome\n"
		"  chaos --seed S --runs N [--time-budget SEC] [--out DIR]\n"
		"                                     random fake agents x random fault plans\n"
		"  agent-check --agent CMD [ARG...] [--report DIR] [--json]\n"
		"                                     check any agent against SPEC A1-A4, S1, L7\n"
		"                                     (agentcheck/README.md; --help for options)\n"
		"  events [--check FILE]              the event vocabulary (Markdown), or check a copy\n"
		"  actions                            the scenario actions and their syntax\n"
		"  schema [--check FILE]              JSON Schema of every line a host writes\n"
		"  prove --host NAME=PATH... --seed NAME=PATH [--defects FILE] [--out DIR]\n"
		"                                     the proof matrix: every scenario against every\n"
		"                                     supervisor; each seed defect and what catches it\n"
		"  report [--out DIR] [--from RESULTS_DIR] [--testlog FILE] [--meta K=V]... [-j N]\n"
		"                                     the conformance report by SPEC clause:\n"
		"                                     runs every scenario (or reads an earlier\n"
		"                                     run's results), adds meson's test log as\n"
		"                                     unit-test evidence, writes DIR (default\n"
		"                                     reports/out)/conformance.{json,md,html},\n"
		"                                     junit.xml; exit 0 only if every clause passes\n"
		"\n"
		"NAME is a scenario name (scenarios/NAME.yaml) or a path to a .yaml file.\n"
		"--clause ID takes a clause (H1) or a family (H, or several letters: LH).\n"
		"\n"
		"Options (before COMMAND):\n"
		"  --scenarios DIR     scenario directory (default: %s\n"
		"                      from this tool's directory; from the build tree, the source's)\n"
		"  --host PATH         neira-host (env NEIRA_HOST; default: the one beside this tool)\n"
		"  --fake-agent PATH   neira-fake-agent (env NEIRA_FAKE_AGENT; default: beside this tool)\n"
		"  --agent PATH        reference neira-agent (env NEIRA_AGENT; default: beside this tool)\n"
		"  -h, --help          this text\n"
		"\n"
		"Output: one line per scenario as it finishes ([done/total], its time, an ETA on\n"
		"long runs, a 'still running' line every 10 s when nothing finished), then every\n"
		"failure in full; -v prints every check. Colour on a terminal unless NO_COLOR is set.\n"
		"\n"
		"Examples (tests/test_help_examples.py runs each):\n"
		"  neira-harness list --clause H1\n"
		"  neira-harness run K1-mock-answers L2-missing-executable -j 2\n"
		"  neira-harness explain L8-crash-mid-call\n"
		"  neira-harness run scenarios/negative/NEG-wrong-expectation.yaml   # fails on purpose: exit 1\n"
		"\n"
		"Results: with --results DIR each scenario writes DIR/NAME.json\n"
		"(schema neira.scenario-result/1). Exit status: 0 all passed, 1 a scenario\n"
		"failed or errored (report: a clause failed or is not covered), 2 usage error,\n"
		"130 interrupted (SIGINT/SIGTERM: running scenarios stop their hosts, clean up\n"
		"and still report), 77 every scenario run was not applicable to this host\n"
		"(it lacks a capability they require; meson counts it as skipped).\n",
		HX_INSTALLED_SCENARIOS);
}

/* One line per scenario, within 100 columns: name, clauses, description
 * (cut at a word boundary). */
static int cmd_list(const char *dir, const char *clause)
{
	enum { COLUMNS = 100 };
	hx_entry *items;
	size_t n;
	if (hx_list_dir(dir, &items, &n) < 0)
		return 1;
	int bad = 0, nw = 8;
	for (size_t i = 0; i < n; i++)
		if ((int)strlen(hx_entry_name(&items[i])) > nw)
			nw = (int)strlen(hx_entry_name(&items[i]));
	nw = nw > 34 ? 34 : nw;
	for (size_t i = 0; i < n; i++) {
		if (!items[i].sc) {
			printf("%-*s ERROR %s\n", nw, hx_entry_name(&items[i]), items[i].err);
			bad = 1;
			continue;
		}
		if (clause && !hx_scenario_has_clause(items[i].sc, clause))
			continue;
		json_t *cl = json_object_get(items[i].sc->doc, "clauses");
		char cls[128] = "", desc[COLUMNS * 2];
		size_t j;
		json_t *c;
		json_array_foreach(cl, j, c) {
			size_t l = strlen(cls);
			snprintf(cls + l, sizeof(cls) - l, "%s%s", j ? "," : "", json_string_value(c));
		}
		int cw = (int)strlen(cls) > 14 ? (int)strlen(cls) : 14;
		hx_term_fit(desc, sizeof(desc), json_string_value(json_object_get(items[i].sc->doc, "description")) ?: "",
			    COLUMNS - nw - cw - 2);
		printf("%-*s %-14s %s\n", nw, items[i].sc->name, cls, desc);
	}
	hx_entries_free(items, n);
	return bad;
}

static const char *type_text(unsigned t, char *buf, size_t n)
{
	const char *names[8];
	size_t k = nv_type_names(t, names, 8);
	buf[0] = '\0';
	for (size_t i = 0; i < k; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, "%s%s", l ? " \\| " : "", names[i]);
	}
	if (t & NV_OPT) {
		size_t l = strlen(buf);
		snprintf(buf + l, n - l, " (optional)");
	}
	return buf;
}

/* The event vocabulary as Markdown, from vocab/nv_events.h: what
 * docs/events.md holds (a test checks that it is current). */
static void print_events(FILE *f)
{
	fprintf(f, "<!-- generated by `neira-harness events` from vocab/nv_events.h; do not edit -->\n"
		   "# Lifecycle events (SPEC O3)\n\n"
		   "Every event is one JSON object on its own line with `t_ms` (number: ms since the supervisor\n"
		   "was created, monotonic) and `event` (its name), plus the fields below. A field marked\n"
		   "optional may be absent; no other field may appear. The harness checks every event a host\n"
		   "prints against this list (invariant `events_in_vocabulary`) and every event name and\n"
		   "`where:` field a scenario uses when the file loads.\n\n"
		   "| event | clause | lane | meaning | fields |\n|---|---|---|---|---|\n");
	for (int i = 0; i < NV_EV_COUNT_; i++) {
		const nv_event *e = nv_event_get((nv_event_id)i);
		fprintf(f, "| `%s` | %s | %s | %s | ", e->name, e->clause, nv_lane_name(e->lane), e->desc);
		if (!e->n_fields)
			fprintf(f, "—");
		for (size_t k = 0; k < e->n_fields; k++) {
			char t[128];
			fprintf(f, "%s`%s` (%s): %s", k ? "<br>" : "", e->fields[k].name,
				type_text(e->fields[k].types, t, sizeof(t)), e->fields[k].desc);
		}
		fprintf(f, " |\n");
	}
}

/* `events [--check FILE]`: print the vocabulary, or fail (exit 1) when FILE
 * differs from it, naming the first differing line. */
static int cmd_events(int argc, char **argv)
{
	if (argc == 0) {
		print_events(stdout);
		return 0;
	}
	if (argc != 2 || strcmp(argv[0], "--check")) {
		fprintf(stderr, "neira-harness: usage: events [--check FILE]\n");
		return 2;
	}
	char *want = NULL, *have = NULL;
	size_t wl = 0, hl = 0;
	FILE *m = open_memstream(&want, &wl);
	print_events(m);
	fclose(m);
	FILE *f = fopen(argv[1], "re");
	if (!f) {
		fprintf(stderr, "neira-harness: events --check %s: %s\n", argv[1], strerror(errno));
		free(want);
		return 2;
	}
	m = open_memstream(&have, &hl);
	char buf[4096];
	size_t r;
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, r, m);
	fclose(m);
	fclose(f);
	int rc = 0;
	if (wl != hl || memcmp(want, have, wl)) {
		size_t line = 1;
		for (size_t k = 0; k < wl && k < hl && want[k] == have[k]; k++)
			line += want[k] == '\n';
		fprintf(stderr, "neira-harness: %s is out of date with vocab/nv_events.h (first difference on line "
			"%zu); regenerate it: neira-harness events > %s\n", argv[1], line, argv[1]);
		rc = 1;
	}
	free(want);
	free(have);
	return rc;
}

static int write_results(const char *dir, const char *name, json_t *res)
{
	if (!dir)
		return 0;
	mkdir(dir, 0755);
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s.json", dir, name);
	if (json_dump_file(res, p, JSON_INDENT(1) | JSON_SORT_KEYS) < 0) {
		fprintf(stderr, "neira-harness: cannot write %s\n", p);
		return -EIO;
	}
	return 0;
}

static void copy_stream(FILE *f)
{
	char buf[4096];
	size_t r;
	rewind(f);
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, r, stdout);
}

static char *read_stream(FILE *f)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	char chunk[4096];
	size_t r;
	rewind(f);
	while (m && (r = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, r, m);
	if (m)
		fclose(m);
	return buf;
}

/* "38 ms", "42.0 s" under two minutes, else "3m05s". */
static void duration_text(char *buf, size_t n, double ms)
{
	if (ms < 1000)
		snprintf(buf, n, "%.0f ms", ms);
	else if (ms < 120000)
		snprintf(buf, n, "%.1f s", ms / 1000.0);
	else
		snprintf(buf, n, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000) % 60);
}

typedef struct run_ctx {
	const hx_entry *items;
	size_t n, done;
	int par;
	bool verbose, explain;
	hx_term term;
	const char *results;
	int bad;
	size_t na;
	double t0, busy_ms; /* start; the finished scenarios' durations, summed */
	json_t *failed;     /* [{"i": index, "result": …, "report": text}], expanded at the end */
} run_ctx;

/* One finished scenario: one line (completion order, [done/total], its
 * time, an ETA on long runs); every check with -v; its result written; a
 * failure kept to be expanded at the end. */
static void on_result(void *ud, size_t i, json_t *res, hx_iso *iso)
{
	run_ctx *c = ud;
	const hx_entry *it = &c->items[i];
	double ms = iso ? hx_now_ms() - iso->start : 0;
	const char *v = json_string_value(json_object_get(res, "verdict"));
	bool pass = !strcmp(v, "pass"), na = !strcmp(v, "not_applicable");
	const char *word = pass ? "PASS" : na ? "N/A" : !strcmp(v, "fail") ? "FAIL" : "ERROR";
	c->busy_ms += ms;
	char took[32], eta[96] = "";
	duration_text(took, sizeof(took), ms);
	size_t left = c->n - ++c->done;
	if (c->n >= 5 && left) { /* the rest at the mean pace so far, par at a time */
		char el[32], rest[32];
		duration_text(el, sizeof(el), hx_now_ms() - c->t0);
		duration_text(rest, sizeof(rest), c->busy_ms / (double)c->done * (double)left / (c->par < 1 ? 1 : c->par));
		snprintf(eta, sizeof(eta), "   %s%s elapsed, ETA ~%s%s", hx_term_sgr(&c->term, ""), el, rest,
			 hx_term_sgr(&c->term, NULL));
	}
	int w = snprintf(NULL, 0, "%zu", c->n);
	printf("[%*zu/%zu] %s%-5s%s %-30s %8s%s\n", w, c->done, c->n, hx_term_sgr(&c->term, word), word,
	       hx_term_sgr(&c->term, NULL), hx_entry_name(it), took, eta);
	if (na)
		printf("    not applicable: %s\n", json_string_value(json_object_get(res, "not_applicable")));
	if (c->verbose || c->explain) {
		hx_term_checks(stdout, &c->term, res, it->sc ? it->sc->doc : NULL, true, false);
		if (iso && c->verbose)
			copy_stream(iso->report);
	}
	if (c->explain) {
		printf("  timeline:\n");
		hx_term_timeline(stdout, res);
	}
	if (!pass && !na) {
		char *rep = iso ? read_stream(iso->report) : NULL;
		json_array_append_new(c->failed, json_pack("{s:I,s:O,s:s}", "i", (json_int_t)i, "result", res, "report",
							   rep ? rep : ""));
		free(rep);
	}
	fflush(stdout);
	write_results(c->results, hx_entry_name(it), res);
	c->bad += !pass && !na;
	c->na += na;
}

/* Nothing finished for a while: say what is still running. */
static void on_tick(void *ud, const size_t *running, const double *elapsed_ms, size_t n)
{
	run_ctx *c = ud;
	printf("%s    … still running:", hx_term_sgr(&c->term, ""));
	for (size_t k = 0; k < n; k++) {
		char el[32];
		duration_text(el, sizeof(el), elapsed_ms[k]);
		printf("%s %s (%s)", k ? "," : "", hx_entry_name(&c->items[running[k]]), el);
	}
	printf("%s\n", hx_term_sgr(&c->term, NULL));
	fflush(stdout);
}

/* The failures in full: every failed check in the scenario's own words,
 * the events around it, the error, the host's last stderr lines. */
static void print_failures(const run_ctx *c)
{
	size_t k;
	json_t *f;
	if (c->n > 1 && json_array_size(c->failed))
		printf("\n%zu scenario(s) did not pass:\n", json_array_size(c->failed));
	json_array_foreach(c->failed, k, f) {
		const hx_entry *it = &c->items[json_integer_value(json_object_get(f, "i"))];
		json_t *res = json_object_get(f, "result");
		const char *v = json_string_value(json_object_get(res, "verdict"));
		const char *word = !strcmp(v, "fail") ? "FAIL" : "ERROR";
		printf("\n%s%s%s %s  (%s)\n", hx_term_sgr(&c->term, word), word, hx_term_sgr(&c->term, NULL),
		       hx_entry_name(it), it->path);
		if (json_is_string(json_object_get(res, "error")))
			printf("    error: %s\n", json_string_value(json_object_get(res, "error")));
		hx_term_checks(stdout, &c->term, res, it->sc ? it->sc->doc : NULL, false, true);
		fputs(json_string_value(json_object_get(f, "report")), stdout);
	}
}

/* Run all items (hx_iso_batch) and print the summary. Returns the number
 * not passed (n/a not counted); *was_interrupted, *n_na. */
static int run_items(hx_entry *items, size_t n, const hx_paths *paths, int par, bool verbose, const char *results,
		     bool explain, bool *was_interrupted, size_t *n_na)
{
	hx_batch_item *b = calloc(n + 1, sizeof(*b));
	for (size_t i = 0; i < n; i++)
		b[i] = (hx_batch_item){ hx_entry_name(&items[i]), items[i].path, items[i].sc, items[i].err };
	run_ctx c = { .items = items, .n = n, .par = par, .verbose = verbose, .explain = explain, .results = results,
		      .term = hx_term_for(stdout), .t0 = hx_now_ms(), .failed = json_array() };
	/* a slow run shows what it waits for (NEIRA_PROGRESS_MS: tests shorten it) */
	const char *pe = getenv("NEIRA_PROGRESS_MS");
	double tick_ms = pe && atof(pe) > 0 ? atof(pe) : 10000;
	size_t started = hx_iso_batch(b, n, paths, &(hx_batch_opts){ .run = hx_run_scenario, .par = par, .verbose = verbose, .done = on_result,
							       .tick = on_tick, .tick_ms = tick_ms, .ud = &c });
	free(b);
	print_failures(&c);
	*was_interrupted = hx_run_interrupted();
	if (*was_interrupted && started < n)
		printf("interrupted: %zu scenario(s) not started\n", n - started);
	char took[32];
	duration_text(took, sizeof(took), hx_now_ms() - c.t0);
	printf("%zu scenario(s): %zu passed, %d not passed", n, n - (size_t)c.bad - c.na, c.bad);
	size_t k;
	json_t *f;
	json_array_foreach(c.failed, k, f)
		printf("%s%s", k ? ", " : " (", hx_entry_name(&items[json_integer_value(json_object_get(f, "i"))]));
	printf("%s, %zu not applicable to this host (%s)\n", json_array_size(c.failed) ? ")" : "", c.na, took);
	json_decref(c.failed);
	*n_na += c.na;
	return c.bad;
}

static hx_entry *resolve(const char *dir, char **names, size_t n)
{
	hx_entry *items = calloc(n + 1, sizeof(hx_entry));
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (strchr(names[i], '/') || (l > 5 && !strcmp(names[i] + l - 5, ".yaml"))) {
			items[i].path = strdup(names[i]);
		} else {
			items[i].path = malloc(strlen(dir) + l + 8);
			sprintf(items[i].path, "%s/%s.yaml", dir, names[i]);
		}
		hx_entry_load(&items[i]);
	}
	return items;
}

/* `report` without --from: every scenario, as `run --all --results DIR`. */
typedef struct {
	const char *dir;
	const hx_paths *paths;
	int par;
	bool verbose;
} report_ctx;

static int report_run_all(void *ud, const char *results_dir)
{
	report_ctx *c = ud;
	hx_entry *items;
	size_t n;
	if (hx_list_dir(c->dir, &items, &n) < 0)
		return -1;
	bool intr;
	size_t na = 0;
	int bad = run_items(items, n, c->paths, c->par, c->verbose, results_dir, false, &intr, &na);
	hx_entries_free(items, n);
	return bad;
}

int main(int argc, char **argv)
{
	hx_paths paths = { HX_HOST, HX_FAKE_AGENT, HX_REF_AGENT };
	const char *dir = HX_SCENARIOS_DIR;
	installed_defaults(&paths, &dir);
	paths.host = getenv("NEIRA_HOST") ?: paths.host;
	paths.fake_agent = getenv("NEIRA_FAKE_AGENT") ?: paths.fake_agent;
	paths.ref_agent = getenv("NEIRA_AGENT") ?: paths.ref_agent;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version")) {
			printf("neira-harness %s (drive protocol 1)\n", NEIRA_VERSION);
			return 0;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(a, "--scenarios"))
			dir = argv[++i];
		else if (!strcmp(a, "--host"))
			paths.host = argv[++i];
		else if (!strcmp(a, "--fake-agent"))
			paths.fake_agent = argv[++i];
		else if (!strcmp(a, "--agent"))
			paths.ref_agent = argv[++i];
		else {
			fprintf(stderr, "neira-harness: unknown option %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[i++];
	if (!strcmp(cmd, "agent-check")) /* agentcheck/: any agent against SPEC A, S1, L7 */
		return ac_main(argc - i + 1, argv + i - 1);
	if (!strcmp(cmd, "events"))
		return cmd_events(argc - i, argv + i);
	if (!strcmp(cmd, "schema"))
		return hx_schema_main(argc - i, argv + i);
	if (!strcmp(cmd, "prove"))
		return hx_prove_main(argc - i, argv + i, dir, &paths);
	if (!strcmp(cmd, "actions")) {
		printf("Scenario actions (the `actions:` list of a scenario file):\n");
		hx_actions_help(stdout);
		return 0;
	}
	if (!strcmp(cmd, "sweep") || !strcmp(cmd, "chaos")) /* fault injection: hx_faults.c */
		return hx_faults_main(cmd, argc - i, argv + i, dir, &paths);
	const char *clause = NULL, *results = NULL;
	hx_report_opts ropts = { 0 };
	const char **meta = calloc((size_t)argc, sizeof(char *));
	bool all = false, verbose = false;
	int par = 1;
	char **names = calloc((size_t)argc, sizeof(char *));
	size_t nn = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--clause") && i + 1 < argc)
			clause = argv[++i];
		else if (!strcmp(a, "--results") && i + 1 < argc)
			results = argv[++i];
		else if (!strcmp(a, "--out") && i + 1 < argc)
			ropts.out = argv[++i];
		else if (!strcmp(a, "--from") && i + 1 < argc)
			ropts.from = argv[++i];
		else if (!strcmp(a, "--testlog") && i + 1 < argc)
			ropts.testlog = argv[++i];
		else if (!strcmp(a, "--meta") && i + 1 < argc)
			meta[ropts.n_meta++] = argv[++i];
		else if ((!strcmp(a, "-j") && i + 1 < argc) || (!strncmp(a, "-j", 2) && a[2])) {
			const char *v = a[2] ? a + 2 : argv[++i];
			char *end;
			long pv = strtol(v, &end, 10);
			if (*end || end == v || pv < 1 || pv > 64) {
				fprintf(stderr, "neira-harness: -j wants a number of parallel scenarios in 1..64, not '%s'\n", v);
				free(names);
				free(meta);
				return 2;
			}
			par = (int)pv;
		} else if ((!strcmp(a, "--scenarios") || !strcmp(a, "--host") || !strcmp(a, "--fake-agent") ||
			    !strcmp(a, "--agent")) && i + 1 < argc) { /* global options after the command too */
			const char **slot = !strcmp(a, "--scenarios") ? &dir : !strcmp(a, "--host") ? &paths.host
					    : !strcmp(a, "--fake-agent") ? &paths.fake_agent : &paths.ref_agent;
			*slot = argv[++i];
		}
		else if (!strcmp(a, "--all"))
			all = true;
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			verbose = true;
		else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			free(names);
			return 0;
		} else if (a[0] == '-') {
			fprintf(stderr, "neira-harness: unknown option %s\n", a);
			free(names);
			return 2;
		} else
			names[nn++] = argv[i];
	}
	if (clause) { /* a clause (H1) or family letters (H, LH); case does not matter */
		static char cl[16];
		snprintf(cl, sizeof(cl), "%s", clause);
		for (char *q = cl; *q; q++)
			*q = (char)toupper((unsigned char)*q);
		bool ok = cl[0] != '\0';
		for (const char *q = cl; *q; q++)
			ok = ok && strchr("LHMCKSOPA0123456789", *q);
		if (!ok || (isdigit((unsigned char)cl[1]) && (cl[2] || !strchr("LHMCKSOPA", cl[0])))) {
			fprintf(stderr, "neira-harness: --clause '%s' is not a SPEC clause (L1, H1…) or family (L, H, M, C, "
					"K, S, O, P, A)\n", clause);
			free(names);
			free(meta);
			return 2;
		}
		clause = cl;
	}
	int mrc = results ? hx_mkdir_p(results) : 0;
	if (mrc < 0) {
		fprintf(stderr, "neira-harness: --results %s: %s\n", results, strerror(-mrc));
		free(names);
		free(meta);
		return 2;
	}
	int rc;
	if (!strcmp(cmd, "list")) {
		rc = cmd_list(dir, clause);
	} else if (!strcmp(cmd, "run") || !strcmp(cmd, "explain")) {
		bool explain = !strcmp(cmd, "explain");
		hx_entry *items;
		size_t n;
		if (explain && nn != 1) {
			fprintf(stderr, "neira-harness: explain takes one scenario NAME\n");
			free(names);
			return 2;
		}
		if (nn) {
			if (all || clause) {
				fprintf(stderr, "neira-harness: give NAMEs or --all/--clause, not both\n");
				free(names);
				return 2;
			}
			items = resolve(dir, names, nn);
			n = nn;
			for (size_t k = 0; k < n; k++) /* a misspelt name is a usage error, with a suggestion */
				if (!items[k].sc && access(items[k].path, F_OK) < 0) {
					hx_entry *all_e;
					size_t na_e = 0;
					const char *near = NULL;
					char nearbuf[256] = "";
					if (hx_list_dir(dir, &all_e, &na_e) == 0) {
						const char **cands = calloc(na_e + 1, sizeof(char *));
						for (size_t m = 0; m < na_e; m++)
							cands[m] = hx_entry_name(&all_e[m]);
						near = nv_nearest(names[k], cands, na_e);
						if (near)
							snprintf(nearbuf, sizeof(nearbuf), "%s", near);
						free(cands);
						hx_entries_free(all_e, na_e);
					}
					fprintf(stderr, "neira-harness: no scenario '%s' in %s%s%s%s\n", names[k], dir,
						nearbuf[0] ? " (did you mean '" : "", nearbuf, nearbuf[0] ? "'?)" : "");
					hx_entries_free(items, n);
					free(names);
					free(meta);
					return 2;
				}
		} else if (all || clause) {
			if (hx_list_dir(dir, &items, &n) < 0) {
				free(names);
				return 1;
			}
			if (clause) { /* keep matches (and broken files: they must be seen) */
				size_t k = 0;
				for (size_t j = 0; j < n; j++) {
					if (!items[j].sc || hx_scenario_has_clause(items[j].sc, clause)) {
						hx_entry t = items[k];
						items[k++] = items[j];
						items[j] = t;
					}
				}
				for (size_t j = k; j < n; j++) {
					free(items[j].path);
					hx_scenario_free(items[j].sc);
				}
				n = k;
			}
			if (n == 0) {
				fprintf(stderr, "neira-harness: no scenario matches\n");
				free(items);
				free(names);
				return 1;
			}
		} else {
			fprintf(stderr, "neira-harness: run needs NAME..., --all or --clause ID\n");
			free(names);
			return 2;
		}
		bool intr = false;
		size_t na = 0;
		int bad = run_items(items, n, &paths, explain ? 1 : par, verbose, results, explain, &intr, &na);
		hx_entries_free(items, n);
		/* 77 (meson's "skipped") when nothing was applicable to this host:
		 * a scenario the host cannot run is never reported as passed */
		rc = intr ? 130 : bad ? 1 : (n && na == n) ? 77 : 0;
	} else if (!strcmp(cmd, "report")) {
		ropts.meta = meta;
		report_ctx ctx = { .dir = dir, .paths = &paths, .par = par, .verbose = verbose };
		rc = nn ? 2 : hx_report(&ropts, report_run_all, &ctx);
		if (nn)
			fprintf(stderr, "neira-harness: report takes no scenario names\n");
	} else {
		fprintf(stderr, "neira-harness: unknown command %s\n", cmd);
		usage(stderr);
		rc = 2;
	}
	free(names);
	free(meta);
	return rc;
}
