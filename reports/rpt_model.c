/* rpt_model: reads the catalogue and the result files and builds the
 * conformance.json document — clause verdicts with their evidence, the
 * scenarios with their failures, the run metadata (SCHEMA.md). Every other
 * format is rendered from this one document, so they cannot disagree. */
#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "neira_config.h"
#include "rpt_commit.h"
#include "rpt_internal.h"

#ifndef RPT_GRPC_VERSION
#define RPT_GRPC_VERSION ""
#endif
#ifndef RPT_PROTOBUF_C_VERSION
#define RPT_PROTOBUF_C_VERSION ""
#endif
#ifndef RPT_LIBFIU_VERSION
#define RPT_LIBFIU_VERSION ""
#endif

#ifdef __clang__
#define RPT_COMPILER "clang " __clang_version__
#else
#define RPT_COMPILER "gcc " __VERSION__
#endif

/* A string or JSON null when NULL/empty. */
static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

/* ---- catalogue ---- */

static int load_catalogue(const rpt_meta *meta, json_t **out, char *err, size_t errlen)
{
	json_error_t je;
	const char *what = meta && meta->catalogue ? meta->catalogue : "built-in clauses.json";
	json_t *cat = meta && meta->catalogue
			      ? json_load_file(meta->catalogue, JSON_REJECT_DUPLICATES, &je)
			      : json_loadb((const char *)rpt__clauses_json, rpt__clauses_json_len, JSON_REJECT_DUPLICATES, &je);
	if (!cat) {
		snprintf(err, errlen, "load catalogue %s: line %d column %d: %s", what, je.line, je.column, je.text);
		return -EINVAL;
	}
	if (strcmp(rpt__str(cat, "schema", ""), RPT_CATALOGUE_SCHEMA) != 0 ||
	    !json_is_array(json_object_get(cat, "clauses"))) {
		snprintf(err, errlen, "load catalogue %s: not a %s document with a clauses array", what,
			 RPT_CATALOGUE_SCHEMA);
		json_decref(cat);
		return -EINVAL;
	}
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(cat, "clauses"), i, c) {
		const json_t *na = json_object_get(c, "not_applicable"), *ap = json_object_get(c, "applies");
		if (!json_is_string(json_object_get(c, "id")) || !json_is_string(json_object_get(c, "family")) ||
		    !json_is_string(json_object_get(c, "summary")) || (na && !json_is_string(na)) ||
		    (ap && !json_is_boolean(ap))) {
			snprintf(err, errlen,
				 "load catalogue %s: clauses[%zu]: needs string id, family, summary; optional string "
				 "not_applicable, boolean applies",
				 what, i);
			json_decref(cat);
			return -EINVAL;
		}
	}
	*out = cat;
	return 0;
}

/* ---- result files ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A stand-in for a file that could not be read: it shows up as an error
 * result (so the report fails) instead of vanishing. */
static json_t *unreadable_result(const char *fname, const char *path, const char *why)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:[], s:s, s:s}", "schema", RPT_RESULT_SCHEMA, "name", fname, "file",
			 path, "description", "result file could not be read", "clauses", "verdict", "error", "error",
			 why);
}

/* Appends {source, doc} pairs to `files`; schema mismatches to `skipped`. */
static int load_results(const char *dir, json_t *files, json_t *skipped, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (!d) {
		int rc = -errno;
		snprintf(err, errlen, "open results directory %s: %s", dir, strerror(errno));
		return rc;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || !ends_with(de->d_name, ".json"))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = -ENOMEM;
				goto out;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4096], why[512];
		json_error_t je;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
		if (!doc) {
			snprintf(why, sizeof(why), "%s: line %d column %d: %s", names[i], je.line, je.column, je.text);
			doc = unreadable_result(names[i], path, why);
		} else if (!json_is_object(doc)) {
			json_decref(doc);
			doc = unreadable_result(names[i], path, "top level is not an object");
		} else if (strcmp(rpt__str(doc, "schema", ""), RPT_RESULT_SCHEMA) != 0) {
			json_array_append_new(skipped, json_pack("{s:s, s:s?}", "file", names[i], "schema",
								 rpt__str(doc, "schema", NULL)));
			json_decref(doc);
			continue;
		}
		if (!doc || json_array_append_new(files, json_pack("{s:s, s:o}", "source", names[i], "doc", doc)) != 0) {
			rc = -ENOMEM;
			goto out;
		}
	}
out:
	if (rc == -ENOMEM)
		snprintf(err, errlen, "read results directory %s: out of memory", dir);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* ---- one scenario ---- */

static bool is_verdict(const char *v)
{
	return v && (!strcmp(v, "pass") || !strcmp(v, "fail") || !strcmp(v, "error") || !strcmp(v, "not_applicable"));
}

/* H1 evidence in one place: attempts paired with their results, waits with
 * their ends (planned vs actual), in event order. */
static json_t *health_of(const json_t *events)
{
	json_t *attempts = json_array(), *waits = json_array();
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) {
		const char *name = rpt__str(e, "event", "");
		double t = rpt__num(e, "t_ms", 0);
		json_t *last;
		if (!strcmp(name, "health_attempt")) {
			json_array_append_new(attempts, json_pack("{s:O?, s:f}", "attempt", json_object_get(e, "attempt"),
								  "t_ms", t));
		} else if (!strcmp(name, "health_result") && (last = json_array_get(attempts, json_array_size(attempts) - 1)) &&
			   !json_object_get(last, "ok")) {
			json_object_set(last, "ok", json_object_get(e, "ok") ? json_object_get(e, "ok") : json_null());
			json_object_set_new(last, "status", str_or_null(rpt__str(e, "status", NULL)));
			json_object_set_new(last, "duration_ms", json_real(rpt__num(e, "duration_ms", -1)));
		} else if (!strcmp(name, "health_wait")) {
			json_array_append_new(waits, json_pack("{s:O?, s:f, s:f}", "after_attempt",
							       json_object_get(e, "after_attempt"), "t_ms", t,
							       "planned_ms", rpt__num(e, "planned_ms", -1)));
		} else if (!strcmp(name, "health_wait_end") && (last = json_array_get(waits, json_array_size(waits) - 1)) &&
			   !json_object_get(last, "actual_ms")) {
			json_object_set_new(last, "actual_ms", json_real(rpt__num(e, "actual_ms", -1)));
			json_object_set_new(last, "reason", str_or_null(rpt__str(e, "reason", NULL)));
		}
	}
	return json_pack("{s:o, s:o}", "attempts", attempts, "waits", waits);
}

static json_t *failure_of_expectation(const json_t *x)
{
	const json_t *cl = json_object_get(x, "clause");
	return json_pack("{s:s, s:s?, s:O, s:s?, s:O?, s:O?, s:s?}", "what", "expectation", "id", rpt__str(x, "id", NULL),
			 "clause", json_is_string(cl) ? cl : json_null(), "description",
			 rpt__str(x, "description", NULL), "expected", json_object_get(x, "expected"), "measured",
			 json_object_get(x, "measured"), "message", rpt__str(x, "message", NULL));
}

/* doc[key] = the JSON file named by --meta KEY=FILE if its schema is
 * `schema` (minus its member `drop`), else {error, file}; nothing without
 * that --meta. */
static void attach_file(json_t *doc, const char *key, const char *schema, const char *drop, const char *error)
{
	const char *file = doc ? json_string_value(json_object_get(
					 json_object_get(json_object_get(doc, "run"), "extra"), key))
			       : NULL;
	if (!file)
		return;
	json_error_t je;
	json_t *j = json_load_file(file, 0, &je);
	if (json_is_object(j) && !strcmp(rpt__str(j, "schema", ""), schema)) {
		if (drop)
			json_object_del(j, drop);
		json_object_set_new(doc, key, j);
	} else {
		json_decref(j);
		json_object_set_new(doc, key, json_pack("{s:s, s:s}", "error", error, "file", file));
	}
}

/* The scenarios[] entry of one result (SCHEMA.md). */
static json_t *scenario_entry(const json_t *res, const char *source)
{
	const char *verdict = rpt__str(res, "verdict", NULL);
	const char *kind = rpt__str(res, "kind", "scenario");
	json_t *failures = json_array(), *clauses = json_array();
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(res, "clauses"), i, x)
		if (json_is_string(x))
			json_array_append(clauses, x);
	json_array_foreach(json_object_get(res, "expectations"), i, x)
		if (strcmp(rpt__str(x, "verdict", ""), "pass") != 0)
			json_array_append_new(failures, failure_of_expectation(x));
	json_array_foreach(json_object_get(res, "invariants"), i, x)
		if (strcmp(rpt__str(x, "verdict", ""), "pass") != 0)
			json_array_append_new(failures, json_pack("{s:s, s:s?, s:n, s:s?}", "what", "invariant", "id",
								  rpt__str(x, "name", NULL), "clause", "message",
								  rpt__str(x, "message", NULL)));
	if (json_is_string(json_object_get(res, "error")))
		json_array_append_new(failures, json_pack("{s:s, s:n, s:s}", "what", "error", "clause", "message",
							  rpt__str(res, "error", "")));
	if (!is_verdict(verdict)) {
		json_array_append_new(failures, json_pack("{s:s, s:n, s:s}", "what", "verdict", "clause", "message",
							  "result has no valid verdict (pass, fail or error)"));
		verdict = "error";
	} else if (!strcmp(verdict, "pass") && json_array_size(failures)) {
		verdict = "fail"; /* a result cannot pass with a failed check in it */
	} else if (!strcmp(verdict, "not_applicable") && json_array_size(failures)) {
		verdict = "fail"; /* a failed check (an invariant) outweighs the requirement */
	} else if (strcmp(verdict, "pass") && strcmp(verdict, "not_applicable") && !json_array_size(failures)) {
		json_array_append_new(failures, json_pack("{s:s, s:n, s:s}", "what", "verdict", "clause", "message",
							  !strcmp(verdict, "fail") ? "result verdict is fail; no failed check is listed"
										   : "result verdict is error"));
	}

	const json_t *events = json_object_get(res, "events");
	json_t *sc = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:o, s:s, s:O?, s:O?, s:O?, s:O?, s:o, s:O?, s:O?}", "name",
			       rpt__str(res, "name", source), "kind", kind, "source", source, "file",
			       rpt__str(res, "file", ""), "description", rpt__str(res, "description", NULL), "clauses",
			       clauses, "verdict", verdict, "duration_ms", json_object_get(res, "duration_ms"), "error",
			       json_object_get(res, "error"), "agent", json_object_get(res, "agent"), "config",
			       json_object_get(res, "config"), "failures", failures, "expectations",
			       json_object_get(res, "expectations"), "invariants", json_object_get(res, "invariants"));
	if (!sc)
		return NULL;
	json_object_set(sc, "metrics", json_is_object(json_object_get(res, "metrics")) ? json_object_get(res, "metrics")
										   : json_null());
	json_object_set_new(sc, "event_count", json_integer(json_is_array(events) ? (json_int_t)json_array_size(events) : 0));
	if (json_is_array(events))
		json_object_set_new(sc, "health", health_of(events));
	return sc;
}

/* ---- clauses ---- */

static bool array_has_str(const json_t *a, const char *s)
{
	size_t i;
	json_t *x;
	json_array_foreach(a, i, x)
		if (json_is_string(x) && !strcmp(json_string_value(x), s))
			return true;
	return false;
}

/* The evidence entry for clause `id` in scenario `sc` (index `idx`), or NULL
 * if the scenario says nothing about the clause. A failure counts against
 * the clause it is tagged with; untagged failures (invariants, errors,
 * expectations without a clause) count against every clause the scenario
 * lists. */
static json_t *evidence_for(const char *id, const json_t *sc, const json_t *res, size_t idx)
{
	bool listed = array_has_str(json_object_get(sc, "clauses"), id);
	int checked = 0, failed = 0;
	if (!strcmp(rpt__str(sc, "verdict", ""), "not_applicable"))
		return NULL; /* not run against this supervisor: evidence of nothing */
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(res, "expectations"), i, x)
		if (!strcmp(rpt__str(x, "clause", ""), id))
			checked++;
	if (!listed && !checked)
		return NULL;
	json_t *fails = json_array();
	json_array_foreach(json_object_get(sc, "failures"), i, x) {
		const char *cl = rpt__str(x, "clause", NULL);
		if ((cl && !strcmp(cl, id)) || (!cl && listed)) {
			json_array_append(fails, x);
			failed++;
		}
	}
	const char *v = !strcmp(rpt__str(sc, "verdict", ""), "error") ? "error" : failed ? "fail" : "pass";
	return json_pack("{s:s, s:s, s:I, s:s, s:i, s:o}", "result", rpt__str(sc, "name", ""), "kind",
			 rpt__str(sc, "kind", ""), "scenario_index", (json_int_t)idx, "verdict", v, "expectations",
			 checked, "failures", fails);
}

/* Tests are evidence only as result files of kind "unit", which
 * `neira-harness report --testlog` writes from meson's log: neira-report
 * alone never sees a test, so a clause only tests cover (A4) is not
 * covered until the log is given (issue 14: say so, and how). */
#define RPT__HINT_TESTLOG                                                                                     \
	"these results hold no unit-test evidence, and the meson tests whose suites name a clause are "        \
	"evidence only through their log: run `meson test -C build`, then `neira-harness report --testlog "    \
	"build/meson-logs/testlog.json` (with --from RESULTS_DIR to reuse these results)"
#define RPT__HINT_LOOK                                                                                        \
	"`neira-harness list --clause ID` lists the scenarios that name a clause, `meson test -C build --list " \
	"--suite ID` the tests"

const char *rpt_evidence_hint(const rpt_summary *summary)
{
	return summary && summary->results_unit == 0 ? RPT__HINT_TESTLOG : RPT__HINT_LOOK;
}

/* The clause's "missing" member: what a not-covered clause lacks. */
static json_t *missing_of(const char *id, const rpt_summary *sum)
{
	char s[768];
	snprintf(s, sizeof(s), "no scenario or test in these results names %s; %s", id, rpt_evidence_hint(sum));
	return json_string(s);
}

/* Appends `id` to sum->not_covered_ids, ending it with "…" once full. */
static void note_not_covered(rpt_summary *sum, const char *id)
{
	char *l = sum->not_covered_ids;
	size_t len = strlen(l), cap = sizeof(sum->not_covered_ids);
	if (len >= 3 && !strcmp(l + len - 3, "…"))
		return;
	if (len + 2 + strlen(id) + sizeof("…") > cap) {
		snprintf(l + len, cap - len, "%s…", len ? ", " : "");
		return;
	}
	snprintf(l + len, cap - len, "%s%s", len ? ", " : "", id);
}

static json_t *clause_entry(const json_t *c, const json_t *families, const json_t *scenarios, const json_t *files,
			    rpt_summary *sum)
{
	const char *id = rpt__str(c, "id", "");
	const char *fam = rpt__str(c, "family", "");
	json_t *ev = json_array();
	size_t i;
	json_t *sc;
	bool any_fail = false;
	json_array_foreach(scenarios, i, sc) {
		json_t *e = evidence_for(id, sc, json_object_get(json_array_get(files, i), "doc"), i);
		if (!e)
			continue;
		any_fail |= strcmp(rpt__str(e, "verdict", ""), "pass") != 0;
		json_array_append_new(ev, e);
	}
	const json_t *applies = json_object_get(c, "applies");
	const char *v;
	if (applies && !json_is_true(applies)) {
		v = "not_applicable";
		sum->clauses_not_applicable++;
	} else if (!json_array_size(ev)) {
		v = "not_covered";
		sum->clauses_not_covered++;
		note_not_covered(sum, id);
	} else if (any_fail) {
		v = "fail";
		sum->clauses_fail++;
	} else {
		v = "pass";
		sum->clauses_pass++;
	}
	sum->clauses++;
	json_t *entry = json_pack("{s:s, s:s, s:s?, s:s, s:b, s:s?, s:s, s:o}", "id", id, "family", fam, "family_name",
				  rpt__str(families, fam, NULL), "summary", rpt__str(c, "summary", ""), "applies",
				  !applies || json_is_true(applies), "not_applicable",
				  rpt__str(c, "not_applicable", NULL), "verdict", v, "evidence", ev);
	if (entry && !strcmp(v, "not_covered"))
		json_object_set_new(entry, "missing", missing_of(id, sum));
	return entry;
}

/* IDs named by results (clause lists and expectation tags) that the
 * catalogue does not know: most likely typos, so they are reported. */
static json_t *unknown_clauses(const json_t *catalogue, const json_t *scenarios, const json_t *files)
{
	json_t *known = json_object(), *unknown = json_object(), *out = json_array();
	size_t i, j;
	json_t *x, *sc;
	json_array_foreach(json_object_get(catalogue, "clauses"), i, x)
		json_object_set_new(known, rpt__str(x, "id", ""), json_true());
	json_array_foreach(scenarios, i, sc) {
		json_t *ids = json_deep_copy(json_object_get(sc, "clauses"));
		json_array_foreach(json_object_get(json_object_get(json_array_get(files, i), "doc"), "expectations"), j, x)
			if (json_is_string(json_object_get(x, "clause")))
				json_array_append(ids, json_object_get(x, "clause"));
		json_array_foreach(ids, j, x) {
			const char *id = json_string_value(x);
			if (!id || json_object_get(known, id))
				continue;
			json_t *names = json_object_get(unknown, id);
			if (!names) {
				names = json_array();
				json_object_set_new(unknown, id, names);
				json_array_append_new(out, json_pack("{s:s, s:O}", "id", id, "results", names));
			}
			if (!array_has_str(names, rpt__str(sc, "name", "")))
				json_array_append_new(names, json_string(rpt__str(sc, "name", "")));
		}
		json_decref(ids);
	}
	json_decref(known);
	json_decref(unknown);
	return out;
}

/* ---- run metadata ---- */

static void utc_now(char *buf, size_t n)
{
	time_t t = time(NULL); /* a timestamp for people, not a timeout */
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_t *run_meta(const rpt_meta *m)
{
	static const rpt_meta none = RPT_META_INIT;
	struct utsname u;
	char kernel[sizeof(u.sysname) + sizeof(u.release) + sizeof(u.machine) + 3] = "";
	if (!m)
		m = &none;
	if (uname(&u) == 0)
		snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname, u.release, u.machine);
	json_t *extra = json_object();
	for (size_t i = 0; i < m->n_extra && i < RPT_META_EXTRA_MAX; i++) {
		const char *kv = m->extra[i], *eq = kv ? strchr(kv, '=') : NULL;
		if (eq)
			json_object_setn_new(extra, kv, (size_t)(eq - kv), json_string(eq + 1));
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:{s:s, s:o, s:o, s:o, s:s, s:s, s:o}, s:o}", "title",
			 m->title ? m->title : "neira conformance", "project_commit",
			 str_or_null(m->project_commit ? m->project_commit : RPT_BUILD_COMMIT), "started_at",
			 str_or_null(m->started_at), "duration_ms",
			 m->duration_ms >= 0 ? json_real(m->duration_ms) : json_null(), "chaos_seed",
			 str_or_null(m->chaos_seed), "versions", "neira", NEIRA_VERSION, "grpc",
			 str_or_null(m->grpc_version ? m->grpc_version : RPT_GRPC_VERSION), "protobuf_c",
			 str_or_null(m->protobuf_c_version ? m->protobuf_c_version : RPT_PROTOBUF_C_VERSION), "libfiu",
			 str_or_null(m->libfiu_version ? m->libfiu_version : RPT_LIBFIU_VERSION), "jansson",
			 JANSSON_VERSION, "compiler", m->compiler ? m->compiler : RPT_COMPILER, "kernel",
			 str_or_null(m->kernel ? m->kernel : kernel), "extra", extra);
}

int rpt_meta_set(rpt_meta *m, const char *kv)
{
	rpt__return_if_fail(m && kv, -EINVAL);
	const char *eq = strchr(kv, '=');
	rpt__return_if_fail(eq && eq != kv, -EINVAL);
	size_t kl = (size_t)(eq - kv);
	const char *v = eq + 1;
	static const struct {
		const char *key;
		size_t off;
	} known[] = {
		{ "commit", offsetof(rpt_meta, project_commit) },
		{ "seed", offsetof(rpt_meta, chaos_seed) },
		{ "started_at", offsetof(rpt_meta, started_at) },
		{ "grpc", offsetof(rpt_meta, grpc_version) },
		{ "protobuf_c", offsetof(rpt_meta, protobuf_c_version) },
		{ "libfiu", offsetof(rpt_meta, libfiu_version) },
		{ "compiler", offsetof(rpt_meta, compiler) },
		{ "kernel", offsetof(rpt_meta, kernel) },
		{ "catalogue", offsetof(rpt_meta, catalogue) },
		{ "title", offsetof(rpt_meta, title) },
	};
	if (kl == strlen("duration_ms") && !strncmp(kv, "duration_ms", kl)) {
		char *end;
		errno = 0;
		double d = strtod(v, &end);
		rpt__return_if_fail(*v && !*end && !errno && d >= 0, -EINVAL);
		m->duration_ms = d;
		return 0;
	}
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (kl == strlen(known[i].key) && !strncmp(kv, known[i].key, kl)) {
			*(const char **)(void *)((char *)m + known[i].off) = v;
			return 0;
		}
	rpt__return_if_fail(m->n_extra < RPT_META_EXTRA_MAX, -ENOSPC);
	m->extra[m->n_extra++] = kv;
	return 0;
}

/* ---- the document ---- */

void rpt__report_destroy(rpt__report *r)
{
	json_decref(r->doc);
	json_decref(r->results);
	r->doc = r->results = NULL;
}

int rpt__build(const char *results_dir, const rpt_meta *meta, rpt__report *r, char *err, size_t errlen)
{
	json_t *cat = NULL, *files = json_array(), *skipped = json_array(), *scenarios = json_array();
	json_t *clauses = json_array();
	char now[32];
	size_t i;
	json_t *x;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!files || !skipped || !scenarios || !clauses) {
		rc = -ENOMEM;
		goto oom;
	}
	if ((rc = load_catalogue(meta, &cat, err, errlen)) < 0 ||
	    (rc = load_results(results_dir, files, skipped, err, errlen)) < 0)
		goto fail;

	json_array_foreach(files, i, x) {
		json_t *sc = scenario_entry(json_object_get(x, "doc"), rpt__str(x, "source", ""));
		if (!sc || json_array_append_new(scenarios, sc) != 0) {
			rc = -ENOMEM;
			goto oom;
		}
		const char *v = rpt__str(sc, "verdict", "");
		r->sum.results++;
		if (!strcmp(rpt__str(sc, "kind", ""), "unit"))
			r->sum.results_unit++;
		if (!strcmp(v, "pass"))
			r->sum.results_pass++;
		else if (!strcmp(v, "not_applicable"))
			r->sum.results_not_applicable++;
		else if (!strcmp(v, "fail"))
			r->sum.results_fail++;
		else
			r->sum.results_error++;
	}
	r->sum.results_skipped = (int)json_array_size(skipped);

	json_array_foreach(json_object_get(cat, "clauses"), i, x) {
		json_t *c = clause_entry(x, json_object_get(cat, "families"), scenarios, files, &r->sum);
		if (!c || json_array_append_new(clauses, c) != 0) {
			rc = -ENOMEM;
			goto oom;
		}
	}
	json_t *unknown = unknown_clauses(cat, scenarios, files);
	r->sum.unknown_clauses = (int)json_array_size(unknown);
	r->sum.ok = r->sum.clauses_fail == 0 && r->sum.clauses_not_covered == 0 && r->sum.results_fail == 0 &&
		    r->sum.results_error == 0;

	/* Reduce the {source, doc} pairs to the docs, parallel to scenarios. */
	r->results = json_array();
	json_array_foreach(files, i, x)
		json_array_append(r->results, json_object_get(x, "doc"));

	utc_now(now, sizeof(now));
	const rpt_summary *s = &r->sum;
	r->doc = json_pack(
		"{s:s, s:s, s:s, s:o, s:{s:s, s:{s:i, s:i, s:i, s:i, s:i}, s:{s:i, s:i, s:i, s:i, s:i, s:i}, s:i}, s:o, s:o, "
		"s:o, s:{s:s, s:s, s:i, s:o}}",
		"schema", RPT_REPORT_SCHEMA, "generator", "neira-report " NEIRA_VERSION, "generated_at", now, "run",
		run_meta(meta), "summary", "verdict", s->ok ? "pass" : "fail", "clauses", "total", s->clauses, "pass",
		s->clauses_pass, "fail", s->clauses_fail, "not_covered", s->clauses_not_covered, "not_applicable",
		s->clauses_not_applicable, "results", "total", s->results, "pass", s->results_pass, "fail",
		s->results_fail, "error", s->results_error, "not_applicable", s->results_not_applicable, "skipped",
		s->results_skipped, "unknown_clauses",
		s->unknown_clauses, "clauses", clauses, "scenarios", scenarios, "unknown_clauses", unknown, "sources",
		"results_dir", results_dir, "catalogue", meta && meta->catalogue ? meta->catalogue : "built-in", "files",
		(int)json_array_size(files), "skipped", skipped);
	clauses = scenarios = skipped = NULL; /* stolen by json_pack, even on failure */
	/* --meta prove=FILE: the proof matrix (neira-harness prove) becomes a
	 * section of the report: every supervisor, every seed defect and the
	 * scenarios that catch it (issue 11); the per-scenario grid stays in
	 * prove.md */
	attach_file(r->doc, "prove", "neira.prove/1", "scenarios", "cannot read the proof matrix");
	/* --meta mutation=FILE: the mutation lane (scripts/mutate.sh, issue 16)
	 * becomes "Proof by reverting each fix": mutant, clause, killed by */
	attach_file(r->doc, "mutation", "neira.mutation/1", NULL, "cannot read the mutation lane's result");
	if (!r->doc || !r->results) {
		rc = -ENOMEM;
		goto oom;
	}
	json_decref(cat);
	json_decref(files);
	return 0;
oom:
	snprintf(err, errlen, "build report from %s: out of memory", results_dir);
fail:
	json_decref(cat);
	json_decref(files);
	json_decref(skipped);
	json_decref(scenarios);
	json_decref(clauses);
	rpt__report_destroy(r);
	return rc;
}

/* The one clause catalogue (reports/clauses.json, embedded): whether `id`
 * is one of its clause IDs. Parsed once; kept for the process's life. */
bool rpt_clause_known(const char *id)
{
	static json_t *cat;
	if (!cat) {
		json_error_t je;
		cat = json_loadb((const char *)rpt__clauses_json, rpt__clauses_json_len, 0, &je);
	}
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(cat, "clauses"), i, c)
		if (id && !strcmp(rpt__str(c, "id", ""), id))
			return true;
	return false;
}
