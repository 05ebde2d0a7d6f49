/* hx_report: `neira-harness report` — collects scenario results (running
 * every scenario unless --from names an earlier run), turns meson's test log
 * into unit-test evidence by clause, and writes the conformance report with
 * the reports module (rpt_generate). */
#include "hx_internal.h"
#include "hx_report.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rpt.h"

/* A suite name that is a SPEC clause ID: capital letters then digits ("H1"). */
static bool is_clause_id(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n && s[i] >= 'A' && s[i] <= 'Z')
		i++;
	if (i == 0 || i == n)
		return false;
	for (size_t j = i; j < n; j++)
		if (s[j] < '0' || s[j] > '9')
			return false;
	return true;
}

/* meson names a test "<project>:<suite>+<suite>... / <name>". */
static int split_meson_name(const char *full, char *suites, size_t slen, char *name, size_t nlen)
{
	const char *colon = strchr(full, ':');
	const char *sep = strstr(full, " / ");
	if (!colon || !sep || sep < colon)
		return -EINVAL;
	snprintf(suites, slen, "%.*s", (int)(sep - colon - 1), colon + 1);
	snprintf(name, nlen, "%s", sep + 3);
	return 0;
}

static bool has_suite(const char *suites, const char *want)
{
	size_t wl = strlen(want);
	for (const char *p = suites; *p;) {
		const char *e = strchr(p, '+');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == wl && !strncmp(p, want, n))
			return true;
		if (!e)
			break;
		p = e + 1;
	}
	return false;
}

/* The cases a test printed, as expectations: cmocka's "[       OK ] x" and
 * "[  FAILED  ] x" lines, and Python unittest's "x (...) ... ok|FAIL|ERROR".
 * Reading a runner's report lines is not parsing a data format: a line that
 * does not look like one is simply not a case. */
static void add_cases(json_t *exps, const char *out, const char *clause)
{
	if (!out)
		return;
	const char *p = out;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)(n < sizeof(line) - 1 ? n : sizeof(line) - 1), p);
		const char *verdict = NULL;
		char id[512] = "";
		if (!strncmp(line, "[       OK ] ", 13)) {
			verdict = "pass";
			snprintf(id, sizeof(id), "%s", line + 13);
		} else if (!strncmp(line, "[  FAILED  ] ", 13) && !strstr(line, "test(s)")) {
			verdict = "fail";
			snprintf(id, sizeof(id), "%s", line + 13);
		} else {
			char *dots = strstr(line, " ... ");
			char *paren = strstr(line, " (");
			if (dots && paren && paren < dots) {
				const char *v = dots + 5;
				verdict = !strcmp(v, "ok") ? "pass" : (!strcmp(v, "FAIL") || !strcmp(v, "ERROR")) ? "fail" : NULL;
				snprintf(id, sizeof(id), "%.*s", (int)(paren - line), line);
			}
		}
		if (verdict && id[0]) {
			json_t *x = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:n, s:n, s:s}", "id", id, "clause", clause,
					      "kind", "unit", "description", id, "verdict", verdict, "expected",
					      "measured", "message", "");
			/* the same case may be listed twice (FAILED summary) */
			size_t i;
			json_t *old;
			bool dup = false;
			json_array_foreach(exps, i, old)
				dup |= !strcmp(json_string_value(json_object_get(old, "id")), id);
			if (dup)
				json_decref(x);
			else
				json_array_append_new(exps, x);
		}
		if (!e)
			break;
		p = e + 1;
	}
}

int hx_unit_evidence(const char *testlog, const char *results_dir, int *written, char *err, size_t errlen)
{
	*written = 0;
	FILE *f = fopen(testlog, "r");
	if (!f) {
		snprintf(err, errlen, "open %s: %s", testlog, strerror(errno));
		return -errno;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int lineno = 0, rc = 0;
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		json_error_t je;
		json_t *t = json_loadb(line, (size_t)len, 0, &je);
		if (!t) {
			snprintf(err, errlen, "%s:%d: not a JSON line: %s", testlog, lineno, je.text);
			rc = -EINVAL;
			break;
		}
		char suites[1024], name[256];
		const char *full = json_string_value(json_object_get(t, "name"));
		const char *result = json_string_value(json_object_get(t, "result"));
		if (!full || !result || split_meson_name(full, suites, sizeof(suites), name, sizeof(name)) < 0) {
			json_decref(t);
			continue;
		}
		/* scenarios write their own, richer result files */
		if (has_suite(suites, "scenario")) {
			json_decref(t);
			continue;
		}
		json_t *clauses = json_array();
		for (const char *p = suites; *p;) {
			const char *e = strchr(p, '+');
			size_t n = e ? (size_t)(e - p) : strlen(p);
			if (is_clause_id(p, n))
				json_array_append_new(clauses, json_stringn(p, n));
			if (!e)
				break;
			p = e + 1;
		}
		/* a skipped test proves nothing: no evidence, never a pass */
		if (json_array_size(clauses) == 0 || !strcmp(result, "SKIP")) {
			json_decref(clauses);
			json_decref(t);
			continue;
		}
		const char *verdict = (!strcmp(result, "OK") || !strcmp(result, "EXPECTEDFAIL")) ? "pass" : "fail";
		json_t *exps = json_array();
		add_cases(exps, json_string_value(json_object_get(t, "stdout")), NULL);
		add_cases(exps, json_string_value(json_object_get(t, "stderr")), NULL);
		if (json_array_size(exps) == 0 || !strcmp(verdict, "fail")) {
			char msg[512];
			snprintf(msg, sizeof(msg), "meson test %s: %s (exit %lld)", name, result,
				 (long long)json_integer_value(json_object_get(t, "returncode")));
			json_array_append_new(exps, json_pack("{s:s, s:n, s:s, s:s, s:s, s:s, s:n, s:s}", "id", "exit",
							      "clause", "kind", "unit", "description",
							      "the test program's own verdict", "verdict", verdict,
							      "expected", "OK", "measured", "message", msg));
		}
		char desc[1536];
		snprintf(desc, sizeof(desc), "meson test \"%s\" (suites %s)", name, suites);
		json_t *cmd = json_object_get(t, "command");
		json_t *doc = json_pack("{s:s, s:s, s:s+, s:O?, s:s, s:o, s:s, s:f, s:n, s:{}, s:o, s:[], s:{}, s:n}",
					"schema", "neira.scenario-result/1", "kind", "unit", "name", "unit:", name,
					"command", cmd, "description", desc, "clauses", clauses, "verdict", verdict,
					"duration_ms", json_number_value(json_object_get(t, "duration")) * 1000.0, "agent",
					"config", "expectations", exps, "invariants", "metrics", "error");
		json_decref(t);
		if (!doc) {
			snprintf(err, errlen, "evidence for %s: out of memory", name);
			rc = -ENOMEM;
			break;
		}
		char path[4096];
		snprintf(path, sizeof(path), "%s/unit-%s.json", results_dir, name);
		if (json_dump_file(doc, path, JSON_INDENT(1) | JSON_SORT_KEYS) < 0) {
			snprintf(err, errlen, "write %s: %s", path, strerror(errno));
			json_decref(doc);
			rc = -EIO;
			break;
		}
		json_decref(doc);
		(*written)++;
	}
	free(line);
	fclose(f);
	return rc;
}

int hx_report(const hx_report_opts *o, hx_run_all_fn run_all, void *ud)
{
	char results[4096], err[1024] = "";
	const char *out = o->out ? o->out : "reports/out";
	int rc = hx_mkdir_p(out);
	if (rc < 0) {
		fprintf(stderr, "neira-harness: report: mkdir %s: %s\n", out, strerror(-rc));
		return 2;
	}
	time_t t0 = time(NULL);
	struct tm tm;
	char started[32];
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &tm));
	double start_ms = hx_now_ms();
	int failed_scenarios = 0;
	if (o->from) {
		snprintf(results, sizeof(results), "%s", o->from);
	} else {
		/* a fresh run: every scenario, results next to the report */
		snprintf(results, sizeof(results), "%s/results", out);
		rc = hx_mkdir_p(results);
		if (rc < 0) {
			fprintf(stderr, "neira-harness: report: mkdir %s: %s\n", results, strerror(-rc));
			return 2;
		}
		DIR *d = opendir(results);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t n = strlen(de->d_name);
			if (n > 5 && !strcmp(de->d_name + n - 5, ".json")) {
				char p[4096 + 256];
				snprintf(p, sizeof(p), "%s/%s", results, de->d_name);
				unlink(p); /* a stale result must not stand in for this run */
			}
		}
		if (d)
			closedir(d);
		failed_scenarios = run_all(ud, results);
		if (failed_scenarios < 0)
			return 2;
	}
	if (o->testlog) {
		int n = 0;
		rc = hx_unit_evidence(o->testlog, results, &n, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "neira-harness: report: %s\n", err);
			return 2;
		}
		printf("report: %d unit-test evidence file(s) from %s\n", n, o->testlog);
	}

	rpt_meta meta = RPT_META_INIT;
	meta.started_at = started;
	meta.duration_ms = o->from ? -1.0 : hx_now_ms() - start_ms;
	for (size_t i = 0; i < o->n_meta; i++) {
		rc = rpt_meta_set(&meta, o->meta[i]);
		if (rc < 0) {
			fprintf(stderr, "neira-harness: report: --meta %s: %s\n", o->meta[i],
				rc == -ENOSPC ? "too many extra keys" : "expected KEY=VALUE");
			return 2;
		}
	}
	rpt_summary sum;
	rc = rpt_generate(results, out, &meta, &sum, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "neira-harness: report: %s\n", err);
		return 2;
	}
	printf("report: %d clauses: %d pass, %d fail, %d not covered, %d not applicable; "
	       "%d results: %d pass, %d fail, %d error\n",
	       sum.clauses, sum.clauses_pass, sum.clauses_fail, sum.clauses_not_covered, sum.clauses_not_applicable,
	       sum.results, sum.results_pass, sum.results_fail, sum.results_error);
	/* issue 14: a clause without evidence says which, and how to supply it
	 * (on stderr, like neira-report: the verdict fails on it) */
	if (sum.clauses_not_covered)
		fprintf(stderr, "neira-harness: report: not covered (no evidence): %s — %s\n", sum.not_covered_ids,
			rpt_evidence_hint(&sum));
	printf("report: written %s/conformance.{json,md,html} and %s/junit.xml — verdict %s\n", out, out,
	       sum.ok ? "PASS" : "FAIL");
	return (sum.ok && failed_scenarios == 0) ? 0 : 1;
}
