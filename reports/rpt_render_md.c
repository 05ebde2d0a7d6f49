/* rpt_render_md: conformance.md — the table a person skims in a pull
 * request: one summary line, the clause table, then what failed (expected
 * vs measured) and what is not covered. */
#include <stdlib.h>
#include <string.h>

#include "rpt_internal.h"

static const char *mark(const char *v)
{
	if (!strcmp(v, "pass"))
		return "✅ pass";
	if (!strcmp(v, "fail"))
		return "❌ fail";
	if (!strcmp(v, "error"))
		return "💥 error";
	if (!strcmp(v, "not_covered"))
		return "⚠️ not covered";
	if (!strcmp(v, "not_applicable"))
		return "➖ not applicable";
	return v;
}

static void md_json(rpt_buf *b, const json_t *v)
{
	char *s = rpt__json_brief(v);
	if (!s) {
		b->oom = true;
		return;
	}
	rpt__buf_md(b, s);
	free(s);
}

static void summary_line(const json_t *doc, rpt_buf *b)
{
	const json_t *s = json_object_get(doc, "summary"), *c = json_object_get(s, "clauses"),
		     *r = json_object_get(s, "results"), *run = json_object_get(doc, "run");
	rpt__buf_printf(b,
			"**%s** — clauses: %lld pass, %lld fail, %lld not covered, %lld not applicable (of %lld) · "
			"results: %lld pass, %lld fail, %lld error",
			!strcmp(rpt__str(s, "verdict", ""), "pass") ? "PASS" : "FAIL",
			(long long)json_integer_value(json_object_get(c, "pass")),
			(long long)json_integer_value(json_object_get(c, "fail")),
			(long long)json_integer_value(json_object_get(c, "not_covered")),
			(long long)json_integer_value(json_object_get(c, "not_applicable")),
			(long long)json_integer_value(json_object_get(c, "total")),
			(long long)json_integer_value(json_object_get(r, "pass")),
			(long long)json_integer_value(json_object_get(r, "fail")),
			(long long)json_integer_value(json_object_get(r, "error")));
	const char *commit = rpt__str(run, "project_commit", NULL);
	if (commit) {
		rpt__buf_puts(b, " · commit ");
		rpt__buf_md(b, commit);
	}
	rpt__buf_puts(b, " · generated ");
	rpt__buf_md(b, rpt__str(doc, "generated_at", "?"));
	rpt__buf_puts(b, "\n\n");
}

/* The mutation lane (scripts/mutate.sh, --meta mutation=FILE, issue 16):
 * each mutant re-introduces one slip; the tests that turned red prove the
 * fix it reverts. */
static void mutation_md(const json_t *mu, rpt_buf *b)
{
	const json_t *x;
	size_t i;
	if (!mu)
		return;
	rpt__buf_puts(b, "\n## Proof by reverting each fix\n\n");
	if (rpt__buf_load_error(b, mu, "", "\n", rpt__buf_md))
		return;
	rpt__buf_printf(b, "mutants: %.0f killed, %.0f survived, %.0f equivalent%s (scripts/mutate.sh%s, %.0f s)\n\n",
			rpt__num(mu, "killed", 0), rpt__num(mu, "survived", 0), rpt__num(mu, "equivalent", 0),
			rpt__num(mu, "survived", 0) > 0 ? " — ❌ a slip no test catches" : "",
			json_is_true(json_object_get(mu, "subset")) ? " --subset" : "", rpt__num(mu, "duration_s", 0));
	rpt__buf_puts(b, "| Mutant | Clause | Seed defect | Outcome | Killed by |\n|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(mu, "mutants"), i, x) {
		rpt__buf_cells(b, x, (const char *const[]){ "id", "clause", "seed_defect", "status" }, 4, "| ", " ",
			       rpt__buf_md);
		rpt__buf_puts(b, "| ");
		if (!strcmp(rpt__str(x, "status", ""), "equivalent"))
			rpt__buf_md(b, rpt__str(x, "reason", ""));
		rpt__buf_join(b, json_object_get(x, "killed_by"), rpt__buf_md);
		rpt__buf_puts(b, " |\n");
	}
}

void rpt__render_md(const rpt__report *r, rpt_buf *b)
{
	const json_t *doc = r->doc, *x, *e, *f;
	size_t i, j, k;

	rpt__buf_puts(b, "# ");
	rpt__buf_md(b, rpt__str(json_object_get(doc, "run"), "title", "neira conformance"));
	rpt__buf_puts(b, "\n\n");
	summary_line(doc, b);

	rpt__buf_puts(b, "| Clause | Summary | Verdict | Evidence |\n|---|---|---|---|\n");
	json_array_foreach(json_object_get(doc, "clauses"), i, x) {
		rpt__buf_printf(b, "| %s | ", rpt__str(x, "id", ""));
		rpt__buf_md(b, rpt__str(x, "summary", ""));
		if (rpt__str(x, "not_applicable", NULL)) {
			rpt__buf_puts(b, " *(not applicable here: ");
			rpt__buf_md(b, rpt__str(x, "not_applicable", ""));
			rpt__buf_puts(b, ")*");
		}
		rpt__buf_printf(b, " | %s | ", mark(rpt__str(x, "verdict", "")));
		if (!json_array_size(json_object_get(x, "evidence")))
			rpt__buf_puts(b, "—");
		json_array_foreach(json_object_get(x, "evidence"), j, e) {
			rpt__buf_puts(b, j ? ", " : "");
			rpt__buf_md(b, rpt__str(e, "result", ""));
			if (strcmp(rpt__str(e, "verdict", ""), "pass"))
				rpt__buf_printf(b, " (**%s**)", rpt__str(e, "verdict", ""));
		}
		rpt__buf_puts(b, " |\n");
	}

	bool any = false;
	json_array_foreach(json_object_get(doc, "scenarios"), i, x) {
		if (!strcmp(rpt__str(x, "verdict", ""), "pass"))
			continue;
		if (!any)
			rpt__buf_puts(b, "\n## Failures\n");
		any = true;
		rpt__buf_puts(b, "\n### ");
		rpt__buf_md(b, rpt__str(x, "name", ""));
		rpt__buf_printf(b, " — %s\n\n", mark(rpt__str(x, "verdict", "")));
		rpt__buf_puts(b, "File: ");
		rpt__buf_md(b, rpt__str(x, "file", ""));
		rpt__buf_puts(b, " · clauses: ");
		json_array_foreach(json_object_get(x, "clauses"), j, e) {
			rpt__buf_puts(b, j ? ", " : "");
			rpt__buf_md(b, json_string_value(e));
		}
		rpt__buf_puts(b, "\n\n| Check | Clause | Expected | Measured | Message |\n|---|---|---|---|---|\n");
		json_array_foreach(json_object_get(x, "failures"), k, f) {
			rpt__buf_puts(b, "| ");
			rpt__buf_md(b, rpt__str(f, "what", ""));
			rpt__buf_opt(b, " ", rpt__str(f, "id", NULL), "", rpt__buf_md);
			rpt__buf_puts(b, " | ");
			rpt__buf_md(b, rpt__str(f, "clause", "—"));
			rpt__buf_puts(b, " | ");
			if (json_object_get(f, "expected"))
				md_json(b, json_object_get(f, "expected"));
			rpt__buf_puts(b, " | ");
			if (json_object_get(f, "measured"))
				md_json(b, json_object_get(f, "measured"));
			rpt__buf_puts(b, " | ");
			rpt__buf_md(b, rpt__failure_text(f));
			rpt__buf_puts(b, " |\n");
		}
	}

	any = false;
	json_array_foreach(json_object_get(doc, "clauses"), i, x) {
		if (strcmp(rpt__str(x, "verdict", ""), "not_covered"))
			continue;
		if (!any) {
			rpt__buf_puts(b, "\n## Not covered\n\nNo scenario or unit test gives evidence for these clauses; ");
			rpt__buf_md(b, rpt_evidence_hint(&r->sum));
			rpt__buf_puts(b, ".\n\n");
		}
		any = true;
		rpt__buf_printf(b, "- **%s** — ", rpt__str(x, "id", ""));
		rpt__buf_md(b, rpt__str(x, "summary", ""));
		rpt__buf_puts(b, "\n");
	}

	json_array_foreach(json_object_get(doc, "unknown_clauses"), i, x) {
		if (!i)
			rpt__buf_puts(b, "\n## Unknown clause IDs\n\nNamed by results but not in the catalogue:\n\n");
		rpt__buf_puts(b, "- ");
		rpt__buf_md(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "\n");
	}

	const json_t *pv = json_object_get(doc, "prove");
	if (pv) { /* the proof matrix: the fixed designs pass, the seed's fails */
		rpt__buf_puts(b, "\n## Proof matrix\n\n");
		if (!rpt__buf_load_error(b, pv, "", "\n", rpt__buf_md)) {
			rpt__buf_printf(b, "Verdict: %s\n\n| Supervisor | Role | Pass | Fail | N/A |\n|---|---|---|---|---|\n",
					mark(rpt__str(pv, "verdict", "")));
			json_array_foreach(json_object_get(pv, "supervisors"), i, x) {
				rpt__buf_puts(b, "| ");
				rpt__buf_md(b, rpt__str(x, "name", ""));
				rpt__buf_printf(b, " | %s | %lld | %lld | %lld |\n", rpt__str(x, "role", ""),
						(long long)json_integer_value(json_object_get(x, "pass")),
						(long long)json_integer_value(json_object_get(x, "fail")),
						(long long)json_integer_value(json_object_get(x, "not_applicable")));
			}
			rpt__buf_puts(b, "\n| Seed defect | Clause | Caught by (fails on the seed design, passes on every conforming one) |\n|---|---|---|\n");
			json_array_foreach(json_object_get(pv, "defects"), i, x) {
				rpt__buf_cells(b, x, (const char *const[]){ "id", "clause" }, 2, "| ", " ", rpt__buf_md);
				rpt__buf_puts(b, "| ");
				if (!json_array_size(json_object_get(x, "caught_by")))
					rpt__buf_puts(b, "**not caught**");
				rpt__buf_join(b, json_object_get(x, "caught_by"), rpt__buf_md);
				rpt__buf_puts(b, " |\n");
			}
		}
	}

	mutation_md(json_object_get(doc, "mutation"), b);

	rpt__buf_puts(b, "\n## Results\n\n| Result | Kind | Clauses | Verdict | Duration |\n|---|---|---|---|---|\n");
	json_array_foreach(json_object_get(doc, "scenarios"), i, x) {
		rpt__buf_puts(b, "| ");
		rpt__buf_md(b, rpt__str(x, "name", ""));
		rpt__buf_puts(b, " | ");
		rpt__buf_md(b, rpt__str(x, "kind", ""));
		rpt__buf_puts(b, " | ");
		json_array_foreach(json_object_get(x, "clauses"), j, e) {
			rpt__buf_puts(b, j ? ", " : "");
			rpt__buf_md(b, json_string_value(e));
		}
		rpt__buf_printf(b, " | %s | ", mark(rpt__str(x, "verdict", "")));
		double d = rpt__num(x, "duration_ms", -1);
		if (d >= 0) {
			char dur[48];
			rpt__fmt_duration(dur, sizeof(dur), d);
			rpt__buf_puts(b, dur);
		}
		rpt__buf_puts(b, " |\n");
	}
}
