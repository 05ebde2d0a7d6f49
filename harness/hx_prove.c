/* hx_prove: `neira-harness prove` — the proof matrix of issue 11. Every
 * scenario runs against every supervisor given (conforming ones with --host,
 * the seed's defective design with --seed); the result is scenario ×
 * supervisor and clause × supervisor, and for each catalogued seed defect
 * (docs/seed-defects.yaml) the scenario(s) that catch it: a scenario catches
 * a defect when it fails on the seed design and passes on every conforming
 * supervisor. Exit 0 only when the conforming supervisors pass every
 * applicable scenario, every defect is caught, and the seed design fails. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libfyaml.h>

#include "hx_internal.h"
#include "hx_isolate.h"
#include "hx_yaml.h"
#include "rpt.h"

#define MAX_SUP 8

typedef struct sup_col {
	const char *name, *path;
	const char *reuse; /* --reuse NAME=DIR: this run's results, already written */
	bool seed;
	json_t *verdicts; /* scenario name → verdict */
	json_t *failed;   /* scenario name → its failed checks [{check, clause?}] */
	int pass, fail, na;
} sup_col;

typedef struct prove_run {
	sup_col *col;
	const hx_entry *items;
	const char *outdir;
} prove_run;

static void on_result(void *ud, size_t i, json_t *res, hx_iso *iso)
{
	(void)iso;
	prove_run *p = ud;
	const char *v = json_string_value(json_object_get(res, "verdict")) ?: "error";
	json_object_set_new(p->col->verdicts, hx_entry_name(&p->items[i]), json_string(v));
	p->col->pass += !strcmp(v, "pass");
	p->col->na += !strcmp(v, "not_applicable");
	p->col->fail += strcmp(v, "pass") && strcmp(v, "not_applicable");
	char path[1400];
	snprintf(path, sizeof(path), "%s/%s/%s.json", p->outdir, p->col->name, hx_entry_name(&p->items[i]));
	json_dump_file(res, path, JSON_INDENT(1) | JSON_SORT_KEYS);
	fputc(!strcmp(v, "pass") ? '.' : !strcmp(v, "not_applicable") ? '-' : 'F', stderr);
	/* what failed, for "caught for its reason" below: an expectation by
	 * its id and clause, an invariant by its name. A host that never
	 * answered hello (it crashed, or is not a drive host at all) fails
	 * every expectation and shows no defect: nothing is recorded. */
	json_t *f = json_array();
	size_t k;
	json_t *x;
	bool spoke = json_is_object(json_object_get(res, "host"));
	json_array_foreach(spoke ? json_object_get(res, "expectations") : NULL, k, x)
		if (strcmp(json_string_value(json_object_get(x, "verdict")) ?: "", "pass"))
			json_array_append_new(f, json_pack("{s:O?, s:O?}", "check", json_object_get(x, "id"), "clause",
							   json_object_get(x, "clause")));
	json_array_foreach(spoke ? json_object_get(res, "invariants") : NULL, k, x)
		if (strcmp(json_string_value(json_object_get(x, "verdict")) ?: "", "pass"))
			json_array_append_new(f, json_pack("{s:O?}", "check", json_object_get(x, "name")));
	json_object_set_new(p->col->failed, hx_entry_name(&p->items[i]), f);
}

/* The failed checks of `failed` (one scenario on one seed design) that are
 * the defect showing: an expectation whose clause, or an invariant whose
 * name, is in the defect's `fails` — "C1 (C1)", "no_orphan". */
static json_t *reasons(const json_t *failed, const json_t *fails)
{
	json_t *via = json_array();
	size_t k, j;
	json_t *x, *f;
	json_array_foreach(failed, k, x) {
		const char *check = json_string_value(json_object_get(x, "check")) ?: "?";
		const char *clause = json_string_value(json_object_get(x, "clause"));
		json_array_foreach(fails, j, f) {
			const char *want = json_string_value(f);
			if (clause ? !strcmp(clause, want) : !strcmp(check, want)) {
				char r[160];
				snprintf(r, sizeof(r), clause ? "%s (%s)" : "%s", check, clause);
				json_array_append_new(via, json_string(r));
				break;
			}
		}
	}
	return via;
}

/* The defect catalogue: a YAML list of {id, seed, where, clause, caught_by,
 * fails, note}; every scenario it names must exist. `fails` lists how the
 * defect shows in a scenario's result — clause IDs (a failed expectation of
 * that clause) and invariant names (that invariant failed); default: the
 * defect's clause. A scenario that fails on the seed for another reason does
 * not catch the defect (a seed that crashes at once catches nothing). */
static json_t *load_defects(const char *file, const hx_entry *items, size_t n, char *err, size_t errlen)
{
	struct fy_parse_cfg cfg = { .flags = FYPCF_DEFAULT_DOC };
	struct fy_document *fyd = fy_document_build_from_file(&cfg, file);
	if (!fyd) {
		snprintf(err, errlen, "%s: cannot read or not valid YAML", file);
		return NULL;
	}
	hx_yctx c = { .file = file, .err = err, .errlen = errlen };
	int rc = 0;
	struct fy_node *root = fy_document_root(fyd);
	json_t *d = NULL;
	if (!root || !fy_node_is_sequence(root))
		hx_yerr(&c, root, "(root)", "must be a list of defects");
	else
		d = hx_yjson(&c, root, "(root)", &rc);
	static const char *const keys[] = { "id", "seed", "where", "clause", "caught_by", "fails", "note", "wanted", NULL };
	void *it = NULL;
	struct fy_node *e;
	int k = 0;
	while (d && (e = fy_node_sequence_iterate(root, &it))) {
		char field[32];
		snprintf(field, sizeof(field), "[%d]", k);
		json_t *x = json_array_get(d, (size_t)k++);
		if (hx_ykeys(&c, e, field, keys) < 0 || !json_is_string(json_object_get(x, "id")) ||
		    !json_is_string(json_object_get(x, "clause")) || !json_is_array(json_object_get(x, "caught_by"))) {
			if (!err[0])
				hx_yerr(&c, e, field, "a defect needs id, clause and caught_by (a list of scenarios)");
			json_decref(d);
			d = NULL;
			break;
		}
		json_t *fails = json_object_get(x, "fails");
		if (!fails) {
			json_object_set_new(x, "fails", json_pack("[O]", json_object_get(x, "clause")));
		} else {
			size_t j;
			json_t *f;
			bool bad = !json_is_array(fails) || !json_array_size(fails);
			json_array_foreach(bad ? NULL : fails, j, f)
				if (!bad && (!json_is_string(f) || (!rpt_clause_known(json_string_value(f)) &&
								     !hx_inv_known(json_string_value(f))))) {
					hx_yerr(&c, e, field,
						"fails names '%s', which is neither a SPEC clause nor an invariant (%s, …)",
						json_is_string(f) ? json_string_value(f) : "?", hx_inv_names[0]);
					bad = true;
				}
			if (bad) {
				if (!err[0])
					hx_yerr(&c, e, field, "fails must be a non-empty list of clause IDs and invariant names");
				json_decref(d);
				d = NULL;
				break;
			}
		}
		size_t j;
		json_t *s;
		json_array_foreach(json_object_get(x, "caught_by"), j, s) {
			bool found = false;
			for (size_t m = 0; m < n; m++)
				found = found || (json_is_string(s) && !strcmp(hx_entry_name(&items[m]), json_string_value(s)));
			if (!found) {
				hx_yerr(&c, e, field, "caught_by names '%s', which is not a scenario in the directory",
					json_is_string(s) ? json_string_value(s) : "?");
				json_decref(d);
				d = NULL;
				break;
			}
		}
	}
	fy_document_destroy(fyd);
	return d;
}

static const char *cell(const char *v)
{
	return !v ? "?" : !strcmp(v, "pass") ? "pass" : !strcmp(v, "not_applicable") ? "n/a" : !strcmp(v, "fail") ? "**FAIL**"
												       : "**ERROR**";
}

/* --reuse: the result a run of this scenario against this very host already
 * wrote (`meson test` runs every scenario against the C and Node spec hosts
 * before the proof matrix; running them twice only costs time, issue 13).
 * A result that is missing, for another scenario, or older than the host or
 * the scenario file is an error in the matrix, never a pass. */
static json_t *reused_result(const sup_col *col, const hx_entry *e)
{
	const char *name = hx_entry_name(e);
	char path[1400], msg[1600];
	struct stat rs, hs, ss;
	snprintf(path, sizeof(path), "%s/%s.json", col->reuse, name);
	if (stat(path, &rs) < 0) {
		snprintf(msg, sizeof(msg), "--reuse %s=%s: no result %s: %s", col->name, col->reuse, path,
			 strerror(errno));
		return hx_result_error(name, e->path, msg);
	}
	if ((stat(col->path, &hs) == 0 && rs.st_mtim.tv_sec < hs.st_mtim.tv_sec) ||
	    (stat(e->path, &ss) == 0 && rs.st_mtim.tv_sec < ss.st_mtim.tv_sec)) {
		snprintf(msg, sizeof(msg), "--reuse %s=%s: %s is older than the host %s or the scenario %s: stale",
			 col->name, col->reuse, path, col->path, e->path);
		return hx_result_error(name, e->path, msg);
	}
	json_error_t je;
	json_t *r = json_load_file(path, 0, &je);
	const char *rn = json_string_value(json_object_get(r, "name"));
	const char *schema = json_string_value(json_object_get(r, "schema"));
	if (!r || !rn || strcmp(rn, name) || !schema || strcmp(schema, "neira.scenario-result/1")) {
		snprintf(msg, sizeof(msg), "--reuse %s=%s: %s: %s", col->name, col->reuse, path,
			 !r ? je.text : "not a neira.scenario-result/1 for this scenario");
		json_decref(r);
		return hx_result_error(name, e->path, msg);
	}
	json_object_set_new(r, "reused_from", json_string(path));
	return r;
}

static void usage_prove(FILE *f)
{
	fprintf(f, "Usage: neira-harness prove --host NAME=PATH [--host NAME=PATH]... --seed NAME=PATH\n"
		   "                           [--reuse NAME=DIR]... [--defects FILE] [--out DIR] [-j N]\n"
		   "Run every scenario against each supervisor; write DIR/prove.{md,json} (default\n"
		   "reports/out/prove): scenario x supervisor, clause x supervisor, and per seed defect\n"
		   "the scenarios that catch it (fail on the seed design, pass on every --host).\n"
		   "--reuse NAME=DIR takes supervisor NAME's results from DIR/SCENARIO.json (written by\n"
		   "`neira-harness run --results DIR` against the same host, e.g. by meson test) instead\n"
		   "of running it again; a missing or stale one (older than the host or the scenario) is\n"
		   "an error. Exit 0 only if the --host supervisors pass every applicable scenario, every\n"
		   "catalogued defect is caught and the seed design fails; 1 otherwise; 2 usage.\n");
}

int hx_prove_main(int argc, char **argv, const char *dir, const hx_paths *base)
{
	sup_col cols[MAX_SUP];
	size_t nc = 0;
	const char *defects_file = NULL, *outdir = "reports/out/prove";
	char *reuse[MAX_SUP];
	size_t nreuse = 0;
	int par = 2;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool seed = !strcmp(a, "--seed");
		if ((!strcmp(a, "--host") || seed) && i + 1 < argc) {
			char *eq = strchr(argv[++i], '=');
			if (!eq || eq == argv[i] || !eq[1] || nc >= MAX_SUP) {
				fprintf(stderr, "neira-harness: prove: %s wants NAME=PATH (at most %d)\n", a, MAX_SUP);
				return 2;
			}
			*eq = '\0';
			cols[nc++] = (sup_col){ .name = argv[i], .path = eq + 1, .seed = seed, .verdicts = json_object(),
						.failed = json_object() };
		} else if (!strcmp(a, "--reuse") && i + 1 < argc) {
			if (nreuse == MAX_SUP) {
				fprintf(stderr, "neira-harness: prove: at most %d --reuse\n", MAX_SUP);
				return 2;
			}
			reuse[nreuse++] = argv[++i];
		} else if (!strcmp(a, "--defects") && i + 1 < argc) {
			defects_file = argv[++i];
		} else if (!strcmp(a, "--out") && i + 1 < argc) {
			outdir = argv[++i];
		} else if (!strcmp(a, "-j") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 1 || v > 64) {
				fprintf(stderr, "neira-harness: prove: -j wants 1..64, not %s\n", argv[i]);
				return 2;
			}
			par = (int)v;
		} else {
			if (strcmp(a, "-h") && strcmp(a, "--help"))
				fprintf(stderr, "neira-harness: prove: unknown argument %s\n", a);
			usage_prove(strcmp(a, "-h") && strcmp(a, "--help") ? stderr : stdout);
			return strcmp(a, "-h") && strcmp(a, "--help") ? 2 : 0;
		}
	}
	for (size_t r = 0; r < nreuse; r++) {
		char *eq = strchr(reuse[r], '=');
		size_t c = 0;
		if (eq && eq != reuse[r] && eq[1]) {
			*eq = '\0';
			while (c < nc && strcmp(cols[c].name, reuse[r]))
				c++;
		}
		if (!eq || eq == reuse[r] || !eq[1] || c == nc || cols[c].reuse) {
			fprintf(stderr, "neira-harness: prove: --reuse wants NAME=DIR, NAME a --host or --seed given once%s%s\n",
				eq ? ", not " : "", eq ? reuse[r] : "");
			return 2;
		}
		cols[c].reuse = eq + 1;
	}
	size_t nseed = 0;
	for (size_t c = 0; c < nc; c++)
		nseed += cols[c].seed;
	if (nc == nseed || !nseed) {
		usage_prove(stderr);
		return 2;
	}
	hx_entry *items;
	size_t n;
	if (hx_list_dir(dir, &items, &n) < 0)
		return 2;
	char deffile[1024];
	if (!defects_file) {
		snprintf(deffile, sizeof(deffile), "%s/../docs/seed-defects.yaml", dir);
		defects_file = deffile;
	}
	char err[2048] = "";
	json_t *defects = load_defects(defects_file, items, n, err, sizeof(err));
	if (!defects) {
		fprintf(stderr, "neira-harness: prove: %s\n", err);
		hx_entries_free(items, n);
		return 2;
	}
	int mrc = hx_mkdir_p(outdir);
	if (mrc < 0) {
		fprintf(stderr, "neira-harness: prove: --out %s: %s\n", outdir, strerror(-mrc));
		json_decref(defects);
		hx_entries_free(items, n);
		return 2;
	}
	hx_batch_item *b = calloc(n + 1, sizeof(*b));
	for (size_t i = 0; i < n; i++)
		b[i] = (hx_batch_item){ hx_entry_name(&items[i]), items[i].path, items[i].sc, items[i].err };
	double t0 = hx_now_ms();
	for (size_t c = 0; c < nc && !hx_run_interrupted(); c++) {
		char sub[1200];
		snprintf(sub, sizeof(sub), "%s/%s", outdir, cols[c].name);
		mkdir(sub, 0755);
		hx_paths p = *base;
		p.host = cols[c].path;
		prove_run pr = { &cols[c], items, outdir };
		fprintf(stderr, "%-12s ", cols[c].name);
		if (cols[c].reuse)
			for (size_t i = 0; i < n; i++) {
				json_t *res = reused_result(&cols[c], &items[i]);
				on_result(&pr, i, res, NULL);
				json_decref(res);
			}
		else
			hx_iso_batch(b, n, &p, &(hx_batch_opts){ .run = hx_run_scenario, .par = par, .done = on_result, .ud = &pr });
		fprintf(stderr, "  %d pass, %d fail, %d n/a%s%s\n", cols[c].pass, cols[c].fail, cols[c].na,
			cols[c].reuse ? " — results reused from " : "", cols[c].reuse ? cols[c].reuse : "");
	}
	free(b);

	/* defects: caught by a scenario that fails on a seed design and passes
	 * on every conforming supervisor */
	json_t *djson = json_array();
	size_t di, caught_total = 0;
	json_t *d;
	json_array_foreach(defects, di, d) {
		json_t *by = json_array(), *via = json_object();
		size_t j;
		json_t *s;
		json_array_foreach(json_object_get(d, "caught_by"), j, s) {
			bool on_seed = false, on_all = true;
			json_t *why = json_array();
			for (size_t c = 0; c < nc; c++) {
				const char *v = json_string_value(json_object_get(cols[c].verdicts, json_string_value(s)));
				if (cols[c].seed && v && !strcmp(v, "fail")) {
					json_t *r = reasons(json_object_get(cols[c].failed, json_string_value(s)),
							    json_object_get(d, "fails"));
					on_seed = on_seed || json_array_size(r) > 0;
					json_array_extend(why, r);
					json_decref(r);
				} else if (!cols[c].seed) {
					on_all = on_all && v && !strcmp(v, "pass");
				}
			}
			if (on_seed && on_all) {
				json_array_append(by, s);
				json_object_set(via, json_string_value(s), why);
			}
			json_decref(why);
		}
		caught_total += json_array_size(by) > 0;
		json_array_append_new(djson, json_pack("{s:O, s:O, s:O?, s:O?, s:O, s:o, s:O, s:o, s:b}", "id", json_object_get(d, "id"),
						       "clause", json_object_get(d, "clause"), "seed", json_object_get(d, "seed"),
						       "where", json_object_get(d, "where"), "listed", json_object_get(d, "caught_by"),
						       "caught_by", by, "fails", json_object_get(d, "fails"), "via", via,
						       "caught", json_array_size(by) > 0));
	}

	/* the Markdown and JSON */
	char path[1200];
	snprintf(path, sizeof(path), "%s/prove.md", outdir);
	FILE *md = fopen(path, "we");
	if (!md)
		fprintf(stderr, "neira-harness: prove: cannot write %s: %s\n", path, strerror(errno));
	json_t *pj = json_pack("{s:s, s:f, s:[], s:o, s:{}}", "schema", "neira.prove/1", "duration_ms",
			       hx_now_ms() - t0, "supervisors", "defects", djson, "scenarios");
	bool conforming_ok = true, seed_fails = false;
	for (size_t c = 0; c < nc; c++) {
		json_array_append_new(json_object_get(pj, "supervisors"),
				      json_pack("{s:s, s:s, s:s, s:i, s:i, s:i, s:s?}", "name", cols[c].name, "path", cols[c].path,
						"role", cols[c].seed ? "seed" : "conforming", "pass", cols[c].pass, "fail",
						cols[c].fail, "not_applicable", cols[c].na, "reused_from", cols[c].reuse));
		if (cols[c].seed)
			seed_fails = seed_fails || cols[c].fail > 0;
		else
			conforming_ok = conforming_ok && cols[c].fail == 0;
	}
	if (md) {
		fprintf(md, "# Proof matrix: the fixed design passes, the seed's design fails\n\n");
		fprintf(md, "Every scenario against every supervisor (pass / **FAIL** / n/a = the host lacks a "
			    "capability the scenario requires). A seed defect is *caught* by a scenario that "
			    "fails on the seed design *for that defect* — a failed expectation of a clause, or a "
			    "failed invariant, the catalogue's `fails` names (shown in brackets) — and passes on "
			    "every conforming supervisor.\n\n");
		fprintf(md, "| supervisor | role | pass | fail | n/a |\n|---|---|---|---|---|\n");
		for (size_t c = 0; c < nc; c++)
			fprintf(md, "| %s | %s | %d | %d | %d |\n", cols[c].name, cols[c].seed ? "seed design" : "conforming",
				cols[c].pass, cols[c].fail, cols[c].na);
		fprintf(md, "\n## Seed defects (%zu of %zu caught)\n\n| defect | clause | caught by | seed |\n|---|---|---|---|\n",
			caught_total, json_array_size(djson));
		json_array_foreach(djson, di, d) {
			fprintf(md, "| %s | %s | ", json_string_value(json_object_get(d, "id")),
				json_string_value(json_object_get(d, "clause")));
			size_t j;
			json_t *s;
			if (!json_array_size(json_object_get(d, "caught_by")))
				fprintf(md, "**NOT CAUGHT**");
			json_array_foreach(json_object_get(d, "caught_by"), j, s) {
				fprintf(md, "%s%s [", j ? ", " : "", json_string_value(s));
				size_t k;
				json_t *r;
				json_array_foreach(json_object_get(json_object_get(d, "via"), json_string_value(s)), k, r)
					fprintf(md, "%s%s", k ? ", " : "", json_string_value(r));
				fprintf(md, "]");
			}
			char seedtext[240];
			snprintf(seedtext, sizeof(seedtext), "%s", json_string_value(json_object_get(d, "seed")) ?: "");
			for (char *q = seedtext; *q; q++)
				if (*q == '|' || *q == '\n')
					*q = ' ';
			fprintf(md, " | %s |\n", seedtext);
		}
		fprintf(md, "\n## Scenario × supervisor\n\n| scenario | clauses |");
		for (size_t c = 0; c < nc; c++)
			fprintf(md, " %s |", cols[c].name);
		fprintf(md, "\n|---|---|");
		for (size_t c = 0; c < nc; c++)
			fprintf(md, "---|");
		fprintf(md, "\n");
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = hx_entry_name(&items[i]);
		json_t *row = json_object();
		char cls[160] = "";
		size_t j;
		json_t *cl;
		json_array_foreach(items[i].sc ? json_object_get(items[i].sc->doc, "clauses") : NULL, j, cl) {
			size_t l = strlen(cls);
			snprintf(cls + l, sizeof(cls) - l, "%s%s", j ? " " : "", json_string_value(cl));
		}
		if (md)
			fprintf(md, "| %s | %s |", name, cls);
		for (size_t c = 0; c < nc; c++) {
			const char *v = json_string_value(json_object_get(cols[c].verdicts, name));
			json_object_set_new(row, cols[c].name, json_string(v ? v : "not_run"));
			if (md)
				fprintf(md, " %s |", cell(v));
		}
		if (md)
			fprintf(md, "\n");
		json_object_set_new(json_object_get(pj, "scenarios"), name, row);
	}
	bool ok = md && conforming_ok && seed_fails && caught_total == json_array_size(djson) && !hx_run_interrupted();
	json_object_set_new(pj, "verdict", json_string(ok ? "pass" : "fail"));
	if (md)
		fclose(md);
	snprintf(path, sizeof(path), "%s/prove.json", outdir);
	json_dump_file(pj, path, JSON_INDENT(1));
	printf("prove: %s — conforming supervisors %s; seed design %s; %zu of %zu seed defects caught (%.0f s)\n"
	       "prove: %s/prove.md\n",
	       ok ? "PASS" : "FAIL", conforming_ok ? "pass every applicable scenario" : "FAIL some",
	       seed_fails ? "fails" : "DOES NOT FAIL", caught_total, json_array_size(djson), (hx_now_ms() - t0) / 1000,
	       outdir);
	json_array_foreach(djson, di, d)
		if (!json_is_true(json_object_get(d, "caught")))
		{
			char f[256] = "";
			size_t k;
			json_t *x;
			json_array_foreach(json_object_get(d, "fails"), k, x) {
				size_t l = strlen(f);
				snprintf(f + l, sizeof(f) - l, "%s%s", k ? ", " : "", json_string_value(x));
			}
			printf("prove: defect %s (%s) is not caught: no scenario it lists passes on every conforming "
			       "supervisor and fails on the seed design through %s\n",
			       json_string_value(json_object_get(d, "id")), json_string_value(json_object_get(d, "clause")), f);
		}
	json_decref(pj);
	json_decref(defects);
	for (size_t c = 0; c < nc; c++) {
		json_decref(cols[c].verdicts);
		json_decref(cols[c].failed);
	}
	hx_entries_free(items, n);
	return hx_run_interrupted() ? 130 : ok ? 0 : 1;
}
