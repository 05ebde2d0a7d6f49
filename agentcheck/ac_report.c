/* ac_report: the agent-check run as JSON (neira.agent-check/1), and the same
 * run through reports/ (rpt_generate) as conformance.json/.md/.html and
 * junit.xml: one result file per check (schema neira.scenario-result/1, kind
 * "unit") and a catalogue restricted to the clauses agent-check covers,
 * summaries taken from reports/clauses.json (embedded at build time). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ac_internal.h"
#include "neira_config.h"
#include "rpt.h"

extern const unsigned char ac__clauses_json[];
extern const size_t ac__clauses_json_len;

static const char *verdict_word(ac_verdict v)
{
	static const char *const n[] = { "pass", "fail", "absent", "skip", "info" };
	return (unsigned)v < 5 ? n[v] : "?";
}

static const char *need_word(ac_need n)
{
	return n == AC_REQUIRED ? "required" : n == AC_OPTIONAL ? "optional" : "informative";
}

bool ac_results_ok(const ac_result *results)
{
	for (size_t i = 0; i < ac_check_count(); i++)
		if (ac_check_get(i)->need == AC_REQUIRED && results[i].verdict == AC_FAIL)
			return false;
	return true;
}

/* Clause verdict: fail if a check of it failed; pass if one passed (or
 * informed); absent if every run check was absent; skip otherwise. */
static ac_verdict clause_verdict(const ac_result *results, const char *clause)
{
	bool any_pass = false, any_absent = false;
	for (size_t i = 0; i < ac_check_count(); i++) {
		if (strcmp(ac_check_get(i)->clause, clause))
			continue;
		switch (results[i].verdict) {
		case AC_FAIL:
			if (ac_check_get(i)->need != AC_INFORMATIVE)
				return AC_FAIL;
			break;
		case AC_PASS:
		case AC_INFO:
			any_pass = true;
			break;
		case AC_ABSENT:
			any_absent = true;
			break;
		default:
			break;
		}
	}
	return any_pass ? AC_PASS : any_absent ? AC_ABSENT : AC_SKIP;
}

json_t *ac_report_json(const ac_config *cfg, const ac_result *results, double duration_ms, const char *started_at)
{
	json_t *argv = json_array();
	for (size_t i = 0; cfg->agent_argv[i]; i++)
		json_array_append_new(argv, json_string(cfg->agent_argv[i]));
	json_t *checks = json_array(), *clauses = json_object();
	int count[5] = { 0 };
	for (size_t i = 0; i < ac_check_count(); i++) {
		const ac_check_def *d = ac_check_get(i);
		const ac_result *r = &results[i];
		count[r->verdict]++;
		json_array_append_new(checks, json_pack("{ss ss ss ss ss ss ss sf sO}", "name", d->name, "clause", d->clause,
							"need", need_word(d->need), "what", d->what, "verdict",
							verdict_word(r->verdict), "measured", r->measured, "expected",
							r->expected, "duration_ms", r->duration_ms, "data",
							r->data ? r->data : json_null()));
		if (!json_object_get(clauses, d->clause))
			json_object_set_new(clauses, d->clause, json_string(verdict_word(clause_verdict(results, d->clause))));
	}
	return json_pack("{ss ss s{so} ss sf ss s{si si si si si} so so s{sf si si si}}", "schema", "neira.agent-check/1",
			 "generator", "neira-agent-check " NEIRA_VERSION, "agent", "argv", argv, "started_at",
			 started_at ? started_at : "", "duration_ms", duration_ms, "verdict",
			 ac_results_ok(results) ? "pass" : "fail", "summary", "pass", count[AC_PASS], "fail",
			 count[AC_FAIL], "absent", count[AC_ABSENT], "skip", count[AC_SKIP], "info", count[AC_INFO],
			 "clauses", clauses, "checks", checks, "settings", "scale", cfg->scale, "ready_timeout_ms",
			 cfg->ready_timeout_ms, "grace_ms", cfg->grace_ms, "cycles", cfg->cycles);
}

static int dump(json_t *doc, const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (json_dump_file(doc, path, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) < 0) {
		snprintf(err, errlen, "write %s: %s", path, errno ? strerror(errno) : "jansson error");
		return -EIO;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* The built-in catalogue, cut to the clauses agent-check speaks to; a clause
 * whose checks were all absent or skipped does not apply to this run. */
static json_t *catalogue(const ac_result *results, char *err, size_t errlen)
{
	json_error_t je;
	json_t *all = json_loadb((const char *)ac__clauses_json, ac__clauses_json_len, 0, &je);
	if (!all) {
		snprintf(err, errlen, "parse the built-in clause catalogue: %s (line %d)", je.text, je.line);
		return NULL;
	}
	json_t *keep = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(all, "clauses"), i, c) {
		const char *id = json_string_value(json_object_get(c, "id"));
		bool ours = false;
		for (size_t k = 0; id && k < ac_check_count(); k++)
			ours |= !strcmp(ac_check_get(k)->clause, id);
		if (!ours)
			continue;
		json_t *cc = json_deep_copy(c);
		ac_verdict v = clause_verdict(results, id);
		if (v == AC_ABSENT || v == AC_SKIP) {
			char note[600] = "";
			for (size_t k = 0; k < ac_check_count(); k++)
				if (!strcmp(ac_check_get(k)->clause, id) && !note[0])
					snprintf(note, sizeof(note), "%s in this run: %s", v == AC_ABSENT ? "absent" : "not checked",
						 results[k].measured);
			json_object_set_new(cc, "applies", json_false());
			json_object_set_new(cc, "not_applicable", json_string(note));
		}
		json_array_append_new(keep, cc);
	}
	json_object_set_new(all, "clauses", keep);
	json_object_set_new(all, "source", json_string("reports/clauses.json, cut to the clauses agent-check covers"));
	return all;
}

static json_t *result_file(const ac_config *cfg, size_t i, const ac_result *r)
{
	const ac_check_def *d = ac_check_get(i);
	char argv[1024] = "";
	for (size_t k = 0; cfg->agent_argv[k]; k++) {
		size_t n = strlen(argv);
		snprintf(argv + n, sizeof(argv) - n, "%s%s", n ? " " : "", cfg->agent_argv[k]);
	}
	char name[128];
	snprintf(name, sizeof(name), "agent-check:%s", d->name);
	const char *verdict = r->verdict == AC_FAIL ? "fail" : "pass";
	json_t *exp = json_pack("{ss ss ss ss ss ss ss ss}", "id", d->name, "clause", d->clause, "kind", "agent-check",
				"description", d->what, "verdict", verdict, "expected", r->expected, "measured",
				r->measured, "message", r->verdict == AC_FAIL ? r->measured : "");
	return json_pack("{ss ss ss ss ss s[s] ss sf ss s{} s[o] s[] sO sn}", "schema", "neira.scenario-result/1", "kind",
			 "unit", "name", name, "file", "agentcheck/ac_checks.c", "description", d->what, "clauses",
			 d->clause, "verdict", verdict, "duration_ms", r->duration_ms, "agent", argv, "config",
			 "expectations", exp, "invariants", "metrics", r->data ? r->data : json_null(), "error");
}

int ac_report_write(const char *dir, const ac_config *cfg, const ac_result *results, double duration_ms,
		    const char *started_at, char *err, size_t errlen)
{
	char rdir[PATH_MAX], cat_path[PATH_MAX];
	snprintf(rdir, sizeof(rdir), "%s/results", dir);
	int rc = mkdir_p(rdir);
	if (rc < 0) {
		snprintf(err, errlen, "mkdir -p %s: %s", rdir, strerror(-rc));
		return rc;
	}
	json_t *doc = ac_report_json(cfg, results, duration_ms, started_at);
	if (!doc)
		snprintf(err, errlen, "build agent-check.json: jansson pack failed");
	rc = doc ? dump(doc, dir, "agent-check.json", err, errlen) : -ENOMEM;
	json_decref(doc);
	if (rc < 0)
		return rc;
	json_t *cat = catalogue(results, err, errlen);
	if (!cat)
		return -EINVAL;
	rc = dump(cat, dir, "agent-check-clauses.json", err, errlen);
	json_decref(cat);
	for (size_t i = 0; rc == 0 && i < ac_check_count(); i++) {
		char fname[128];
		snprintf(fname, sizeof(fname), "%02zu-%s.json", i, ac_check_get(i)->name);
		for (char *q = fname; *q; q++) /* "default-path-/tmp": a file name */
			if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
			      *q == '.' || *q == '-'))
				*q = '_';
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%.3800s/%s", rdir, fname);
		unlink(path); /* a file of an earlier run, for a check not run now */
		if (results[i].verdict == AC_SKIP || results[i].verdict == AC_ABSENT)
			continue; /* no evidence: its clause is marked not applicable */
		json_t *rf = result_file(cfg, i, &results[i]);
		if (!rf)
			snprintf(err, errlen, "build the result of check %s: jansson pack failed", ac_check_get(i)->name);
		rc = rf ? dump(rf, rdir, fname, err, errlen) : -ENOMEM;
		json_decref(rf);
	}
	if (rc < 0)
		return rc;
	snprintf(cat_path, sizeof(cat_path), "%s/agent-check-clauses.json", dir);
	rpt_meta meta = RPT_META_INIT;
	char title[600], agent_kv[700];
	snprintf(title, sizeof(title), "neira agent-check: %s", cfg->agent_argv[0]);
	meta.title = title;
	meta.catalogue = cat_path;
	meta.started_at = started_at;
	meta.duration_ms = duration_ms;
	snprintf(agent_kv, sizeof(agent_kv), "agent=%s", cfg->agent_argv[0]);
	meta.extra[meta.n_extra++] = agent_kv;
	rpt_summary sum;
	rc = rpt_generate(rdir, dir, &meta, &sum, err, errlen);
	return rc;
}
