/* neira-harness: list, run and explain conformance scenarios against
 * neira-host (driven from outside through `neira-host drive`). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hx.h"
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
		"  --scenarios DIR     scenario directory (default %s)\n"
		"  --host PATH         neira-host (env NEIRA_HOST; default %s)\n"
		"  --fake-agent PATH   neira-fake-agent (env NEIRA_FAKE_AGENT; default %s)\n"
		"  --agent PATH        reference neira-agent (env NEIRA_AGENT; default %s)\n"
		"  -h, --help          this text\n"
		"\n"
		"Results: with --results DIR each scenario writes DIR/NAME.json\n"
		"(schema neira.scenario-result/1). Exit status: 0 all passed, 1 a scenario\n"
		"failed or errored (report: a clause failed or is not covered), 2 usage error.\n",
		HX_SCENARIOS_DIR, HX_HOST, HX_FAKE_AGENT, HX_REF_AGENT);
}

typedef struct item {
	char *path;
	hx_scenario *sc;
	char err[1024];
} item;

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int yaml_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 5 && !strcmp(d->d_name + n - 5, ".yaml") && d->d_name[0] != '.';
}

static void load_item(item *it)
{
	int rc = hx_scenario_load(it->path, &it->sc, it->err, sizeof(it->err));
	if (rc < 0)
		return;
	/* a scenario's name is its file name, so `run NAME` finds it */
	const char *base = strrchr(it->path, '/');
	base = base ? base + 1 : it->path;
	if (strncmp(base, it->sc->name, strlen(it->sc->name)) || strcmp(base + strlen(it->sc->name), ".yaml")) {
		snprintf(it->err, sizeof(it->err), "%s: field name: '%s' does not match the file name",
			 it->path, it->sc->name);
		hx_scenario_free(it->sc);
		it->sc = NULL;
	}
}

static int list_dir(const char *dir, item **out, size_t *n)
{
	struct dirent **ents;
	int k = scandir(dir, &ents, yaml_filter, by_name);
	if (k < 0) {
		fprintf(stderr, "neira-harness: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	*out = calloc((size_t)k + 1, sizeof(item));
	for (int i = 0; i < k; i++) {
		size_t l = strlen(dir) + strlen(ents[i]->d_name) + 2;
		(*out)[i].path = malloc(l);
		snprintf((*out)[i].path, l, "%s/%s", dir, ents[i]->d_name);
		load_item(&(*out)[i]);
		free(ents[i]);
	}
	free(ents);
	*n = (size_t)k;
	return 0;
}

static void free_items(item *it, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(it[i].path);
		hx_scenario_free(it[i].sc);
	}
	free(it);
}

static const char *name_of(const item *it)
{
	if (it->sc)
		return it->sc->name;
	const char *b = strrchr(it->path, '/');
	return b ? b + 1 : it->path;
}

static int cmd_list(const char *dir, const char *clause)
{
	item *items;
	size_t n;
	if (list_dir(dir, &items, &n) < 0)
		return 1;
	int bad = 0;
	for (size_t i = 0; i < n; i++) {
		if (!items[i].sc) {
			printf("%-32s ERROR %s\n", name_of(&items[i]), items[i].err);
			bad = 1;
			continue;
		}
		if (clause && !hx_scenario_has_clause(items[i].sc, clause))
			continue;
		json_t *cl = json_object_get(items[i].sc->doc, "clauses");
		char cls[128] = "";
		size_t j;
		json_t *c;
		json_array_foreach(cl, j, c) {
			size_t l = strlen(cls);
			snprintf(cls + l, sizeof(cls) - l, "%s%s", j ? "," : "", json_string_value(c));
		}
		const char *d = json_string_value(json_object_get(items[i].sc->doc, "description"));
		int dl = (int)strcspn(d, "\n");
		printf("%-32s %-18s %.*s\n", items[i].sc->name, cls, dl > 90 ? 90 : dl, d);
	}
	free_items(items, n);
	return bad;
}

typedef struct job {
	item *it;
	pid_t pid;
	int pidfd;
	FILE *report, *result;
	double start, deadline;
	size_t ordinal;
} job;

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

static void print_expectations(const json_t *res, bool all)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(res, "expectations"), i, e) {
		bool pass = !strcmp(json_string_value(json_object_get(e, "verdict")), "pass");
		if (pass && !all)
			continue;
		json_t *m = json_object_get(e, "measured");
		char *ms = NULL;
		json_t *d = json_object_get(m, "delta_ms");
		if (d) {
			ms = malloc(48);
			snprintf(ms, 48, "%.1f ms", json_number_value(d));
		} else if (!json_is_object(m) || json_object_size(m) < 4) {
			ms = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY);
		}
		printf("    %-4s %-4s %-3s %s%s%s%s%s\n", pass ? "ok" : "FAIL",
		       json_string_value(json_object_get(e, "id")),
		       json_string_value(json_object_get(e, "clause")),
		       json_string_value(json_object_get(e, "description")), ms ? " — measured " : "",
		       ms ? ms : "", pass ? "" : ": ", pass ? "" : json_string_value(json_object_get(e, "message")));
		free(ms);
	}
	json_array_foreach(json_object_get(res, "invariants"), i, e) {
		bool pass = !strcmp(json_string_value(json_object_get(e, "verdict")), "pass");
		if (pass && !all)
			continue;
		printf("    %-4s inv  %s: %s\n", pass ? "ok" : "FAIL",
		       json_string_value(json_object_get(e, "name")),
		       json_string_value(json_object_get(e, "message")));
	}
}

static void copy_stream(FILE *f)
{
	char buf[4096];
	size_t r;
	rewind(f);
	while ((r = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, r, stdout);
}

static int start_job(job *j, const hx_paths *paths, bool verbose)
{
	j->report = tmpfile();
	j->result = tmpfile();
	if (!j->report || !j->result)
		return -errno;
	fflush(stdout);
	fflush(stderr);
	j->start = hx_now_ms();
	j->deadline = j->start +
		      (double)json_integer_value(json_object_get(j->it->sc->doc, "timeout_ms")) *
			      (double)(json_integer_value(json_object_get(j->it->sc->doc, "repeat")) ?: 1) +
		      30000;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		json_t *res = hx_run_scenario(j->it->sc, paths, verbose, j->report);
		fflush(j->report);
		json_dumpf(res, j->result, JSON_COMPACT);
		fflush(j->result);
		const char *v = json_string_value(json_object_get(res, "verdict"));
		_exit(!strcmp(v, "pass") ? 0 : 1);
	}
	j->pid = pid;
	j->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	return j->pidfd < 0 ? -errno : 0;
}

/* Run all items; returns the number not passed. */
static int run_items(item *items, size_t n, const hx_paths *paths, int par, bool verbose,
		     const char *results, bool explain)
{
	job *jobs = calloc(n + 1, sizeof(job));
	size_t next = 0, done = 0, running = 0;
	int bad = 0;
	while (done < n) {
		while (running < (size_t)par && next < n) {
			job *j = &jobs[next];
			j->it = &items[next];
			j->ordinal = next + 1;
			next++;
			if (!j->it->sc) {
				json_t *res = hx_result_error(name_of(j->it), j->it->path, j->it->err);
				printf("[%zu/%zu] %s … ERROR\n    %s\n", j->ordinal, n, name_of(j->it), j->it->err);
				write_results(results, name_of(j->it), res);
				json_decref(res);
				bad++;
				done++;
				continue;
			}
			int rc = start_job(j, paths, verbose);
			if (rc < 0) {
				printf("[%zu/%zu] %s … ERROR cannot start: %s\n", j->ordinal, n, name_of(j->it),
				       strerror(-rc));
				bad++;
				done++;
				continue;
			}
			running++;
		}
		if (!running)
			continue;
		struct pollfd *p = calloc(n, sizeof(*p));
		size_t *map = calloc(n, sizeof(size_t));
		nfds_t np = 0;
		double now = hx_now_ms(), soonest = 1e300;
		for (size_t i = 0; i < next; i++)
			if (jobs[i].pid > 0) {
				p[np] = (struct pollfd){ .fd = jobs[i].pidfd, .events = POLLIN };
				map[np++] = i;
				if (jobs[i].deadline < soonest)
					soonest = jobs[i].deadline;
			}
		int wait_ms = soonest - now < 0 ? 0 : (int)(soonest - now) + 1;
		int r = poll(p, np, wait_ms);
		(void)r;
		now = hx_now_ms();
		for (nfds_t k = 0; k < np; k++) {
			job *j = &jobs[map[k]];
			bool over = now >= j->deadline;
			if (!(p[k].revents & POLLIN) && !over)
				continue;
			if (over && !(p[k].revents & POLLIN))
				kill(j->pid, SIGKILL); /* the scenario's own timeout failed to fire */
			int st;
			waitpid(j->pid, &st, 0);
			close(j->pidfd);
			j->pid = 0;
			running--;
			done++;
			rewind(j->result);
			json_error_t je;
			json_t *res = json_loadf(j->result, 0, &je);
			if (!res) {
				char m[256];
				snprintf(m, sizeof(m), "scenario runner died (%s %d) before writing a result",
					 WIFSIGNALED(st) ? "signal" : "exit",
					 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
				res = hx_result_error(name_of(j->it), j->it->path, m);
			}
			const char *v = json_string_value(json_object_get(res, "verdict"));
			bool pass = !strcmp(v, "pass");
			bad += !pass;
			printf("[%zu/%zu] %s … %s (%.1f s)\n", j->ordinal, n, name_of(j->it),
			       pass ? "PASS" : !strcmp(v, "fail") ? "FAIL" : "ERROR",
			       (now - j->start) / 1000.0);
			print_expectations(res, true);
			if (json_is_string(json_object_get(res, "error")))
				printf("    error: %s\n", json_string_value(json_object_get(res, "error")));
			if (!pass || verbose)
				copy_stream(j->report);
			if (explain) {
				printf("  timeline (t_ms = supervisor clock; < = reply):\n");
				hx_print_timeline(res, stdout);
			}
			fflush(stdout);
			write_results(results, name_of(j->it), res);
			json_decref(res);
			fclose(j->report);
			fclose(j->result);
		}
		free(p);
		free(map);
	}
	free(jobs);
	return bad;
}

static item *resolve(const char *dir, char **names, size_t n)
{
	item *items = calloc(n + 1, sizeof(item));
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(names[i]);
		if (strchr(names[i], '/') || (l > 5 && !strcmp(names[i] + l - 5, ".yaml"))) {
			items[i].path = strdup(names[i]);
		} else {
			items[i].path = malloc(strlen(dir) + l + 8);
			sprintf(items[i].path, "%s/%s.yaml", dir, names[i]);
		}
		load_item(&items[i]);
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
	item *items;
	size_t n;
	if (list_dir(c->dir, &items, &n) < 0)
		return -1;
	double t0 = hx_now_ms();
	int bad = run_items(items, n, c->paths, c->par, c->verbose, results_dir, false);
	printf("%zu scenario(s): %zu passed, %d not passed (%.1f s)\n", n, n - (size_t)bad, bad,
	       (hx_now_ms() - t0) / 1000.0);
	free_items(items, n);
	return bad;
}

int main(int argc, char **argv)
{
	hx_paths paths = { getenv("NEIRA_HOST") ?: HX_HOST, getenv("NEIRA_FAKE_AGENT") ?: HX_FAKE_AGENT,
			   getenv("NEIRA_AGENT") ?: HX_REF_AGENT };
	const char *dir = HX_SCENARIOS_DIR;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
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
		else if (!strcmp(a, "-j") && i + 1 < argc)
			par = atoi(argv[++i]);
		else if (!strncmp(a, "-j", 2) && a[2])
			par = atoi(a + 2);
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
	if (par < 1)
		par = 1;
	int rc;
	if (!strcmp(cmd, "list")) {
		rc = cmd_list(dir, clause);
	} else if (!strcmp(cmd, "run") || !strcmp(cmd, "explain")) {
		bool explain = !strcmp(cmd, "explain");
		item *items;
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
		} else if (all || clause) {
			if (list_dir(dir, &items, &n) < 0) {
				free(names);
				return 1;
			}
			if (clause) { /* keep matches (and broken files: they must be seen) */
				size_t k = 0;
				for (size_t j = 0; j < n; j++) {
					if (!items[j].sc || hx_scenario_has_clause(items[j].sc, clause)) {
						item t = items[k];
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
		double t0 = hx_now_ms();
		int bad = run_items(items, n, &paths, explain ? 1 : par, verbose, results, explain);
		printf("%zu scenario(s): %zu passed, %d not passed (%.1f s)\n", n, n - (size_t)bad, bad,
		       (hx_now_ms() - t0) / 1000.0);
		free_items(items, n);
		rc = bad ? 1 : 0;
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
