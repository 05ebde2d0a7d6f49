/* rpt_render_html: conformance.html — one self-contained file (inline CSS,
 * no script, no external asset) that is also well-formed XML: summary, run
 * metadata, clause matrix, clause table, and per result its timeline and
 * checks, failed ones in red. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_internal.h"

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1a202c;background:#f7fafc}"
	"main{max-width:1260px;margin:0 auto;padding:16px 24px 48px}"
	"h1{margin:8px 0 4px;font-size:24px}h2{margin:28px 0 8px;font-size:19px;border-bottom:1px solid #cbd5e0}"
	"h3{margin:0 0 6px;font-size:16px}"
	".banner{display:inline-block;padding:4px 14px;border-radius:4px;font-weight:700;color:#fff;font-size:18px}"
	".banner.pass{background:#2f855a;color:#fff}.banner.fail{background:#c53030;color:#fff}"
	".counts span{display:inline-block;margin:6px 8px 0 0;padding:2px 8px;border-radius:10px;font-size:13px}"
	/* a zero is not a failure: grey, whatever the pill counts */
	".counts span.zero{background:#edf2f7;color:#4a5568}"
	"table{border-collapse:collapse;background:#fff}td,th{border:1px solid #e2e8f0;padding:4px 8px;vertical-align:top;text-align:left}"
	"th{background:#edf2f7}table.meta td:first-child{color:#4a5568;white-space:nowrap}"
	".v{font-weight:600;white-space:nowrap;border-radius:3px;padding:1px 6px}"
	".pass{background:#c6f6d5;color:#22543d}.fail,.error{background:#fed7d7;color:#822727}"
	".not_covered{background:#fefcbf;color:#744210}.not_applicable{background:#e2e8f0;color:#4a5568}"
	"table.matrix td{padding:0;border:none;white-space:nowrap}table.matrix th{background:none;border:none;font-weight:500;color:#4a5568;padding-right:10px;white-space:nowrap}"
	"table.matrix a{display:inline-block;width:46px;margin:2px;padding:6px 0;text-align:center;border-radius:4px;text-decoration:none;font-weight:700}"
	"table.matrix a.pass{background:#38a169;color:#fff}table.matrix a.fail{background:#e53e3e;color:#fff}"
	"table.matrix a.not_covered{background:#f6e05e;color:#5f370e}table.matrix a.not_applicable{background:#cbd5e0;color:#2d3748}"
	"table.clauses td.id{font-weight:700;white-space:nowrap}.na{color:#718096;font-style:italic;font-size:12px}"
	"a{color:#2b6cb0}"
	"article{background:#fff;border:1px solid #cbd5e0;border-left:6px solid #38a169;border-radius:4px;margin:18px 0;padding:12px 16px}"
	"article.res-fail,article.res-error{border-left-color:#e53e3e}"
	"article .sub{color:#4a5568;font-size:13px;margin:2px 0 8px}"
	"table.checks{width:100%;font-size:13px;margin-top:8px;table-layout:fixed}table.checks td{overflow-wrap:anywhere}"
	"table.checks th:nth-child(1){width:14%}table.checks th:nth-child(2){width:5%}table.checks th:nth-child(3){width:22%}table.checks th:nth-child(6){width:6%}"
	"table.checks code{white-space:pre-wrap;word-break:break-word}table.checks tr.bad td{background:#fff5f5;color:#9b2c2c}"
	"table.checks tr.bad td.verdict{background:#e53e3e;color:#fff;font-weight:700}"
	"code,pre{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace}pre{background:#f7fafc;border:1px solid #e2e8f0;padding:6px;overflow:auto;max-height:300px;white-space:pre-wrap}"
	"details{margin-top:6px}summary{cursor:pointer;color:#2b6cb0}"
	".failbox{background:#fff5f5;border:1px solid #feb2b2;color:#822727;padding:6px 10px;border-radius:4px;margin:6px 0}"
	/* Narrow screens scroll a timeline or a wide table sideways instead of
	 * shrinking it: text in an SVG scaled to a phone's width is unreadable. */
	".tlwrap,.tblwrap{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}"
	"svg.timeline{display:block;width:100%;min-width:1080px;max-width:1200px;height:auto;font:10px system-ui,sans-serif;background:#fff}"
	"table.checks{min-width:720px}table.clauses{min-width:560px}table.meta td{overflow-wrap:anywhere}"
	/* the row or section a link (a timeline mark, the failures list) lands on */
	"tr:target td{outline:2px solid #c53030;outline-offset:-2px}article:target{box-shadow:0 0 0 3px #feb2b2}"
	".faillist li{margin:3px 0}.faillist ul{margin:2px 0 6px;padding-left:20px}"
	".faillist .msg{color:#822727}"
	"@media (max-width:700px){main{padding:8px 8px 32px}article{padding:8px}h1{font-size:20px}"
	"table.matrix th,table.matrix td{display:block}table.matrix td{white-space:normal}}"
	"svg .lane{fill:#fff}svg .lane.odd{fill:#f7fafc}svg .grid{stroke:#e2e8f0;stroke-width:1}"
	"svg .lane-name{text-anchor:end;font-size:11px;font-weight:600;fill:#4a5568}"
	"svg .tick{text-anchor:middle;fill:#4a5568}svg .unit{text-anchor:end;fill:#718096;font-style:italic}"
	"svg .cap{fill:#718096}svg .lbl{fill:#2d3748}svg .in{fill:#1a202c;font-weight:600}"
	"svg .proc{fill:#bee3f8;stroke:#3182ce}svg .hok{fill:#48bb78;stroke:#276749}svg .hbad{fill:#f56565;stroke:#9b2c2c}"
	"svg .wait{stroke:#3182ce;stroke-dasharray:3 2}svg .seg{stroke:#fff;stroke-width:1}"
	"svg .cok{fill:#9ae6b4;stroke:#2f855a}svg .cbad{fill:#feb2b2;stroke:#c53030}svg .cmock{fill:#d6bcfa;stroke:#6b46c1}"
	"svg .out{stroke:#2b6cb0;stroke-width:1.5}svg .err{stroke:#a0aec0;stroke-width:1.5}"
	"svg path.good,svg circle.good{fill:#38a169;stroke:#22543d}svg path.bad,svg circle.bad{fill:#e53e3e;stroke:#e53e3e;stroke-width:2}"
	"svg path.warn,svg circle.warn{fill:#ed8936;stroke:#9c4221}svg path.end{stroke:#4a5568;stroke-width:2;fill:none}"
	"svg line.ms{stroke-dasharray:4 3;stroke-width:1.2}svg line.good{stroke:#38a169}svg line.bad{stroke:#e53e3e}svg line.warn{stroke:#ed8936}"
	"svg .failmark{fill:#e53e3e;stroke:#742a2a;stroke-width:1}svg line.failline{stroke:#e53e3e;stroke-width:1.5;stroke-dasharray:2 2}"
	"svg .failwin{fill:#fed7d7;fill-opacity:.55;stroke:#e53e3e;stroke-dasharray:4 2}"
	"svg .faillbl{fill:#c53030;font-weight:700;font-size:11px}svg a:hover .faillbl{text-decoration:underline}";

/* ---- fragment ids: named after what they name (issue 14) ----
 * A scenario's article is #NAME ("#S4-peer-check"), a check's row
 * #NAME-ID ("#S4-peer-check-E3"), so a link says where it goes and survives
 * a re-run that adds scenarios. Characters that do not belong in a URL
 * fragment become '-'; a repeat gets "-2", "-3"… so ids stay unique. */

/* Registers and returns a unique id made from prefix + "-" + name (prefix
 * may be NULL), owned by `used`; "" on ENOMEM (b->oom is set). */
static const char *page_id(json_t *used, rpt_buf *b, const char *prefix, const char *name)
{
	rpt_buf id = RPT_BUF_INIT;
	if (prefix) {
		rpt__buf_puts(&id, prefix);
		rpt__buf_puts(&id, "-");
	}
	for (const unsigned char *p = (const unsigned char *)(name && *name ? name : "x"); *p; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '-' || *p == '_' || *p == '.' || *p == ':' || *p >= 0x80;
		rpt__buf_putn(&id, keep ? (const char *)p : "-", 1);
	}
	size_t base = id.len;
	for (int n = 2; !id.oom && json_object_get(used, id.p); n++) {
		id.len = base; /* drop the previous suffix */
		rpt__buf_printf(&id, "-%d", n);
	}
	const char *out = "";
	json_t *v = id.oom ? NULL : json_string(id.p);
	if (v && json_object_set_new(used, id.p, v) == 0)
		out = json_string_value(v);
	else
		b->oom = true;
	rpt__buf_free(&id);
	return out;
}

/* Every id of the page: {"sc": [NAME…], "x": [[NAME-ID…]…], "i": [[…]…]}
 * — per scenario its article, its expectation rows, its invariant rows. */
static json_t *page_ids(const rpt__report *r, rpt_buf *b)
{
	json_t *used = json_object(), *sc = json_array(), *xs = json_array(), *is = json_array();
	static const char *const fixed[] = { "run", "failures", "matrix", "prove", "mutation", "clauses", "results" };
	for (size_t k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++)
		page_id(used, b, NULL, fixed[k]);
	size_t i, j;
	const json_t *x, *e;
	json_array_foreach(json_object_get(r->doc, "clauses"), i, x)
		page_id(used, b, "clause", rpt__str(x, "id", ""));
	json_array_foreach(json_object_get(r->doc, "scenarios"), i, x)
		json_array_append_new(sc, json_string(page_id(used, b, NULL, rpt__str(x, "name", ""))));
	json_array_foreach(json_object_get(r->doc, "scenarios"), i, x) {
		const char *name = json_string_value(json_array_get(sc, i));
		json_t *xa = json_array(), *ia = json_array();
		json_array_foreach(json_object_get(x, "expectations"), j, e)
			json_array_append_new(xa, json_string(page_id(used, b, name, rpt__str(e, "id", ""))));
		json_array_foreach(json_object_get(x, "invariants"), j, e)
			json_array_append_new(ia, json_string(page_id(used, b, name, rpt__str(e, "name", ""))));
		json_array_append_new(xs, xa);
		json_array_append_new(is, ia);
	}
	json_decref(used); /* the strings live on in the arrays */
	json_t *ids = json_pack("{s:o, s:o, s:o}", "sc", sc, "x", xs, "i", is);
	if (!ids)
		b->oom = true;
	return ids;
}

static const char *sc_id(const json_t *ids, size_t idx)
{
	return rpt__str_at(json_object_get(ids, "sc"), idx, "");
}

/* Where a failure of scenario `idx` is shown: its check's row, or the
 * scenario when it is not a check (an error, a bad verdict). */
static const char *failure_id(const json_t *ids, const json_t *sc, size_t idx, const json_t *f)
{
	const char *what = rpt__str(f, "what", ""), *fid = rpt__str(f, "id", NULL);
	bool inv = !strcmp(what, "invariant");
	if (fid && (inv || !strcmp(what, "expectation"))) {
		size_t j;
		const json_t *e;
		json_array_foreach(json_object_get(sc, inv ? "invariants" : "expectations"), j, e)
			if (!strcmp(rpt__str(e, inv ? "name" : "id", ""), fid))
				return rpt__str_at(json_array_get(json_object_get(ids, inv ? "i" : "x"), idx), j, "");
	}
	return sc_id(ids, idx);
}

static const char *verdict_text(const char *v)
{
	if (!strcmp(v, "not_covered"))
		return "not covered";
	if (!strcmp(v, "not_applicable"))
		return "not applicable";
	return v;
}

static bool is_verdict_word(const char *v)
{
	return !strcmp(v, "pass") || !strcmp(v, "fail") || !strcmp(v, "error");
}

static void badge(rpt_buf *b, const char *v)
{
	rpt__buf_puts(b, "<span class=\"v ");
	rpt__buf_xml(b, v);
	rpt__buf_puts(b, "\">");
	rpt__buf_xml(b, verdict_text(v));
	rpt__buf_puts(b, "</span>");
}

/* Expected/measured values; null (e.g. unit-test checks) stays empty. */
static void json_cell(rpt_buf *b, const json_t *v)
{
	if (!v || json_is_null(v))
		return;
	char *s = rpt__json_brief(v);
	if (!s) {
		b->oom = true;
		return;
	}
	/* Long measured values (whole error records) would stretch the table:
	 * show the start, keep the full text in the tooltip. */
	size_t n = strlen(s);
	if (n > 240) {
		size_t cut = 200;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--; /* not inside a UTF-8 sequence */
		rpt__buf_puts(b, "<code title=\"");
		rpt__buf_xml(b, s);
		rpt__buf_puts(b, "\">");
		s[cut] = '\0';
		rpt__buf_xml(b, s);
		rpt__buf_printf(b, "</code> <span class=\"na\">… (%zu chars; hover)</span>", n);
	} else {
		rpt__buf_puts(b, "<code>");
		rpt__buf_xml(b, s);
		rpt__buf_puts(b, "</code>");
	}
	free(s);
}

/* A row of the run table, only for a value that exists: a normal run has
 * no chaos seed, and a row saying "unknown" tells the reader nothing. */
static void meta_row(rpt_buf *b, const char *key, const json_t *v)
{
	if (!v || json_is_null(v) || (json_is_string(v) && !*json_string_value(v)))
		return;
	rpt__buf_puts(b, "<tr><td>");
	rpt__buf_xml(b, key);
	rpt__buf_puts(b, "</td><td>");
	json_cell(b, v);
	rpt__buf_puts(b, "</td></tr>\n");
}

static void pill(rpt_buf *b, const char *cls, long long n, const char *what)
{
	rpt__buf_printf(b, "<span class=\"%s\">%lld %s</span>", n ? cls : "zero", n, what);
}

static void header(const json_t *doc, rpt_buf *b)
{
	const json_t *s = json_object_get(doc, "summary"), *c = json_object_get(s, "clauses"),
		     *r = json_object_get(s, "results"), *run = json_object_get(doc, "run");
	bool pass = !strcmp(rpt__str(s, "verdict", ""), "pass");
	rpt__buf_puts(b, "<h1>");
	rpt__buf_xml(b, rpt__str(run, "title", "neira conformance"));
	rpt__buf_printf(b, "</h1>\n<p><span class=\"banner %s\">%s</span></p>\n<p class=\"counts\">", pass ? "pass" : "fail",
			pass ? "PASS" : "FAIL");
	static const char *const keys[] = { "pass", "fail", "not_covered", "not_applicable" };
	char what[64];
	for (size_t i = 0; i < 4; i++) {
		snprintf(what, sizeof(what), "clauses %s", verdict_text(keys[i]));
		pill(b, keys[i], (long long)json_integer_value(json_object_get(c, keys[i])), what);
	}
	rpt__buf_puts(b, " ");
	pill(b, "pass", (long long)json_integer_value(json_object_get(r, "pass")), "results pass");
	pill(b, "fail", (long long)json_integer_value(json_object_get(r, "fail")), "fail");
	pill(b, "error", (long long)json_integer_value(json_object_get(r, "error")), "error");
	rpt__buf_puts(b, "</p>\n");
}

static void run_table(const json_t *doc, rpt_buf *b)
{
	const json_t *run = json_object_get(doc, "run");
	rpt__buf_puts(b, "<h2 id=\"run\">Run</h2>\n<div class=\"tblwrap\"><table class=\"meta\">\n");
	meta_row(b, "project commit", json_object_get(run, "project_commit"));
	meta_row(b, "started at", json_object_get(run, "started_at"));
	double d = rpt__num(run, "duration_ms", -1);
	if (d >= 0) {
		char dur[48];
		rpt__fmt_duration(dur, sizeof(dur), d);
		rpt__buf_printf(b, "<tr><td>duration</td><td>%s</td></tr>\n", dur);
	}
	meta_row(b, "chaos seed", json_object_get(run, "chaos_seed"));
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(run, "versions"), k, v)
		meta_row(b, k, v);
	json_object_foreach(json_object_get(run, "extra"), k, v)
		meta_row(b, k, v);
	meta_row(b, "generated at", json_object_get(doc, "generated_at"));
	meta_row(b, "results directory", json_object_get(json_object_get(doc, "sources"), "results_dir"));
	rpt__buf_puts(b, "</table></div>\n");
}

/* What failed, first on the page (the Markdown opens the same way): each
 * failed result with its failed checks, each linking to its row, and each
 * clause without evidence with what it lacks. Nothing when all passed. */
static void failures_list(const json_t *doc, const rpt_summary *sum, const json_t *ids, rpt_buf *b)
{
	const json_t *x, *f;
	size_t i, k, n = 0;
	json_array_foreach(json_object_get(doc, "scenarios"), i, x) {
		const char *v = rpt__str(x, "verdict", "");
		if (!strcmp(v, "pass") || !strcmp(v, "not_applicable"))
			continue;
		rpt__buf_puts(b, n++ ? "" : "<h2 id=\"failures\">Failures</h2>\n<ul class=\"faillist\">\n");
		rpt__buf_puts(b, "<li><a href=\"#");
		rpt__buf_xml(b, sc_id(ids, i));
		rpt__buf_puts(b, "\">");
		rpt__buf_xml(b, rpt__str(x, "name", ""));
		rpt__buf_puts(b, "</a> ");
		badge(b, v);
		rpt__buf_puts(b, " <span class=\"na\">");
		rpt__buf_join(b, json_object_get(x, "clauses"), rpt__buf_xml);
		rpt__buf_puts(b, "</span>\n<ul>");
		json_array_foreach(json_object_get(x, "failures"), k, f) {
			rpt__buf_puts(b, "<li><a href=\"#");
			rpt__buf_xml(b, failure_id(ids, x, i, f));
			rpt__buf_puts(b, "\">");
			rpt__buf_xml(b, rpt__str(f, "id", rpt__str(f, "what", "")));
			rpt__buf_puts(b, "</a>");
			rpt__buf_opt(b, " (", rpt__str(f, "clause", NULL), ")", rpt__buf_xml);
			rpt__buf_puts(b, ": <span class=\"msg\">");
			rpt__buf_xml(b, rpt__failure_text(f));
			rpt__buf_puts(b, "</span></li>");
		}
		rpt__buf_puts(b, "</ul></li>\n");
	}
	/* the clauses without evidence in one item: the way to supply it is
	 * the same for all of them, said once */
	size_t nc = 0;
	json_array_foreach(json_object_get(doc, "clauses"), i, x) {
		if (strcmp(rpt__str(x, "verdict", ""), "not_covered"))
			continue;
		if (!nc++) {
			rpt__buf_puts(b, n++ ? "" : "<h2 id=\"failures\">Failures</h2>\n<ul class=\"faillist\">\n");
			rpt__buf_puts(b, "<li>");
			badge(b, "not_covered");
			rpt__buf_puts(b, " no evidence: ");
		}
		rpt__buf_puts(b, nc > 1 ? ", <a href=\"#clause-" : "<a href=\"#clause-");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "\">");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "</a>");
	}
	if (nc) {
		rpt__buf_puts(b, "<ul><li class=\"msg\">");
		rpt__buf_xml(b, rpt_evidence_hint(sum));
		rpt__buf_puts(b, "</li></ul></li>\n");
	}
	rpt__buf_puts(b, n ? "</ul>\n" : "");
}

static void matrix(const json_t *doc, rpt_buf *b)
{
	const json_t *x;
	size_t i;
	const char *fam = NULL;
	rpt__buf_puts(b, "<h2 id=\"matrix\">Clause matrix</h2>\n<table class=\"matrix\">\n");
	json_array_foreach(json_object_get(doc, "clauses"), i, x) {
		const char *f = rpt__str(x, "family", "");
		if (!fam || strcmp(fam, f)) {
			rpt__buf_puts(b, fam ? "</td></tr>\n" : "");
			rpt__buf_puts(b, "<tr><th>");
			rpt__buf_xml(b, f);
			rpt__buf_puts(b, " — ");
			rpt__buf_xml(b, rpt__str(x, "family_name", ""));
			rpt__buf_puts(b, "</th><td>");
			fam = f;
		}
		rpt__buf_puts(b, "<a class=\"");
		rpt__buf_xml(b, rpt__str(x, "verdict", ""));
		rpt__buf_puts(b, "\" href=\"#clause-");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "\" title=\"");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, ": ");
		rpt__buf_xml(b, verdict_text(rpt__str(x, "verdict", "")));
		rpt__buf_puts(b, " — ");
		rpt__buf_xml(b, rpt__str(x, "summary", ""));
		rpt__buf_puts(b, "\">");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "</a>");
	}
	rpt__buf_puts(b, fam ? "</td></tr>\n" : "");
	rpt__buf_puts(b, "<tr><th>legend</th><td><a class=\"pass\">pass</a><a class=\"fail\">fail</a>"
			 "<a class=\"not_covered\" style=\"width:auto;padding:6px 8px\">not covered</a>"
			 "<a class=\"not_applicable\" style=\"width:auto;padding:6px 8px\">not applicable</a></td></tr>\n</table>\n");
}

static void clause_table(const json_t *doc, const json_t *ids, rpt_buf *b)
{
	const json_t *x, *e, *f;
	size_t i, j, k;
	rpt__buf_puts(b, "<h2 id=\"clauses\">Clauses</h2>\n<div class=\"tblwrap\"><table class=\"clauses\">\n"
			 "<tr><th>Clause</th><th>Summary</th><th>Verdict</th><th>Evidence</th></tr>\n");
	json_array_foreach(json_object_get(doc, "clauses"), i, x) {
		rpt__buf_puts(b, "<tr id=\"clause-");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "\"><td class=\"id\">");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "</td><td>");
		rpt__buf_xml(b, rpt__str(x, "summary", ""));
		if (rpt__str(x, "not_applicable", NULL)) {
			rpt__buf_puts(b, "<br/><span class=\"na\">Not applicable here: ");
			rpt__buf_xml(b, rpt__str(x, "not_applicable", ""));
			rpt__buf_puts(b, "</span>");
		}
		rpt__buf_puts(b, "</td><td>");
		badge(b, rpt__str(x, "verdict", ""));
		rpt__buf_puts(b, "</td><td>");
		if (rpt__str(x, "missing", NULL)) {
			rpt__buf_puts(b, "<span class=\"na\">");
			rpt__buf_xml(b, rpt__str(x, "missing", ""));
			rpt__buf_puts(b, "</span>");
		}
		json_array_foreach(json_object_get(x, "evidence"), j, e) {
			rpt__buf_puts(b, j ? "<br/><a href=\"#" : "<a href=\"#");
			rpt__buf_xml(b, sc_id(ids, (size_t)json_integer_value(json_object_get(e, "scenario_index"))));
			rpt__buf_puts(b, "\">");
			rpt__buf_xml(b, rpt__str(e, "result", ""));
			rpt__buf_puts(b, "</a> ");
			badge(b, rpt__str(e, "verdict", ""));
			json_array_foreach(json_object_get(e, "failures"), k, f) {
				rpt__buf_puts(b, "<div class=\"failbox\">");
				rpt__buf_xml(b, rpt__str(f, "id", rpt__str(f, "what", "")));
				rpt__buf_puts(b, ": ");
				rpt__buf_xml(b, rpt__failure_text(f));
				rpt__buf_puts(b, "</div>");
			}
		}
		rpt__buf_puts(b, "</td></tr>\n");
	}
	rpt__buf_puts(b, "</table></div>\n");
}

/* A row's opening tag, with its id. */
static void row_open(rpt_buf *b, bool ok, const json_t *row_ids, size_t i)
{
	rpt__buf_puts(b, "<tr id=\"");
	rpt__buf_xml(b, rpt__str_at(row_ids, i, ""));
	rpt__buf_printf(b, "\" class=\"%s\"><td><code>", ok ? "ok" : "bad");
}

static void checks_table(const json_t *res, const char *verdict, const json_t *x_ids, const json_t *i_ids, rpt_buf *b)
{
	const json_t *x, *exps = json_object_get(res, "expectations"), *invs = json_object_get(res, "invariants");
	size_t i;
	size_t n = json_array_size(exps) + json_array_size(invs);
	if (!n)
		return;
	/* A long all-pass list is folded; anything failed stays open. */
	bool fold = n > 8 && !strcmp(verdict, "pass"); /* the normalised verdict */
	if (fold)
		rpt__buf_printf(b, "<details><summary>%zu checks, all pass</summary>\n", n);
	rpt__buf_puts(b, "<div class=\"tblwrap\"><table class=\"checks\">\n<tr><th>Check</th><th>Clause</th><th>Description</th><th>Expected</th>"
			 "<th>Measured</th><th>Verdict</th><th>Message</th></tr>\n");
	json_array_foreach(exps, i, x) {
		row_open(b, !strcmp(rpt__str(x, "verdict", ""), "pass"), x_ids, i);
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "</code></td><td>");
		rpt__buf_xml(b, rpt__str(x, "clause", ""));
		rpt__buf_puts(b, "</td><td>");
		rpt__buf_xml(b, rpt__str(x, "description", ""));
		rpt__buf_puts(b, "</td><td>");
		json_cell(b, json_object_get(x, "expected"));
		rpt__buf_puts(b, "</td><td>");
		json_cell(b, json_object_get(x, "measured"));
		rpt__buf_puts(b, "</td><td class=\"verdict\">");
		rpt__buf_xml(b, rpt__str(x, "verdict", "?"));
		rpt__buf_puts(b, "</td><td>");
		rpt__buf_xml(b, rpt__str(x, "message", ""));
		rpt__buf_puts(b, "</td></tr>\n");
	}
	json_array_foreach(invs, i, x) {
		row_open(b, !strcmp(rpt__str(x, "verdict", ""), "pass"), i_ids, i);
		rpt__buf_xml(b, rpt__str(x, "name", ""));
		rpt__buf_puts(b, "</code></td><td></td><td>invariant</td><td></td><td></td><td class=\"verdict\">");
		rpt__buf_xml(b, rpt__str(x, "verdict", "?"));
		rpt__buf_puts(b, "</td><td>");
		rpt__buf_xml(b, rpt__str(x, "message", ""));
		rpt__buf_puts(b, "</td></tr>\n");
	}
	rpt__buf_puts(b, fold ? "</table></div>\n</details>\n" : "</table></div>\n");
}

static void output_log(const json_t *res, rpt_buf *b)
{
	const json_t *e;
	size_t i, n = 0;
	json_array_foreach(json_object_get(res, "events"), i, e)
		if (!strcmp(rpt__str(e, "event", ""), "output"))
			n++;
	if (!n)
		return;
	rpt__buf_printf(b, "<details><summary>agent output (%zu lines)</summary><pre>", n);
	json_array_foreach(json_object_get(res, "events"), i, e) {
		if (strcmp(rpt__str(e, "event", ""), "output"))
			continue;
		char at[32];
		rpt__fmt_at(at, sizeof(at), rpt__num(e, "t_ms", 0));
		rpt__buf_printf(b, "%12s %-6s ", at, !strcmp(rpt__str(e, "stream", ""), "stderr") ? "stderr" : "stdout");
		rpt__buf_xml(b, rpt__str(e, "line", ""));
		rpt__buf_puts(b, "\n");
	}
	rpt__buf_puts(b, "</pre></details>\n");
}

static void result_section(const json_t *sc, const json_t *res, size_t idx, const json_t *ids, rpt_buf *b)
{
	const json_t *x;
	size_t i;
	const char *v = rpt__str(sc, "verdict", "");
	const json_t *x_ids = json_array_get(json_object_get(ids, "x"), idx);
	rpt__buf_puts(b, "<article id=\"");
	rpt__buf_xml(b, sc_id(ids, idx));
	rpt__buf_printf(b, "\" class=\"res-%s\">\n<h3>", is_verdict_word(v) ? v : "error");
	rpt__buf_xml(b, rpt__str(sc, "name", ""));
	rpt__buf_puts(b, " ");
	badge(b, v);
	rpt__buf_puts(b, "</h3>\n<p>");
	rpt__buf_xml(b, rpt__str(sc, "description", ""));
	rpt__buf_puts(b, "</p>\n<p class=\"sub\">");
	rpt__buf_xml(b, rpt__str(sc, "kind", ""));
	rpt__buf_puts(b, " · <code>");
	rpt__buf_xml(b, rpt__str(sc, "file", ""));
	rpt__buf_puts(b, "</code> · clauses ");
	json_array_foreach(json_object_get(sc, "clauses"), i, x) {
		rpt__buf_puts(b, i ? ", " : "");
		rpt__buf_puts(b, "<a href=\"#clause-");
		rpt__buf_xml(b, json_string_value(x));
		rpt__buf_puts(b, "\">");
		rpt__buf_xml(b, json_string_value(x));
		rpt__buf_puts(b, "</a>");
	}
	if (rpt__num(sc, "duration_ms", -1) >= 0) {
		char dur[48];
		rpt__fmt_duration(dur, sizeof(dur), rpt__num(sc, "duration_ms", 0));
		rpt__buf_printf(b, " · %s", dur);
	}
	const json_t *agent = json_object_get(sc, "agent");
	if (json_is_object(agent)) {
		rpt__buf_puts(b, " · agent");
		rpt__buf_opt(b, " ", rpt__str(agent, "kind", NULL), "", rpt__buf_xml); /* no "?" placeholder */
		if (rpt__str(agent, "preset", NULL)) {
			rpt__buf_puts(b, " preset ");
			rpt__buf_xml(b, rpt__str(agent, "preset", ""));
		}
		if (rpt__str(agent, "script", NULL)) {
			rpt__buf_puts(b, " script <code>");
			rpt__buf_xml(b, rpt__str(agent, "script", ""));
			rpt__buf_puts(b, "</code>");
		}
	}
	rpt__buf_puts(b, "</p>\n");
	json_array_foreach(json_object_get(sc, "failures"), i, x) {
		rpt__buf_puts(b, "<div class=\"failbox\"><b>");
		rpt__buf_xml(b, rpt__str(x, "what", ""));
		rpt__buf_puts(b, " <a href=\"#");
		rpt__buf_xml(b, failure_id(ids, sc, idx, x));
		rpt__buf_puts(b, "\">");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, "</a></b>: ");
		rpt__buf_xml(b, rpt__failure_text(x));
		rpt__buf_puts(b, "</div>\n");
	}
	if (strcmp(rpt__str(sc, "kind", ""), "unit")) {
		rpt__buf_puts(b, "<div class=\"tlwrap\">\n");
		rpt__render_timeline(res, idx, x_ids, b);
		rpt__buf_puts(b, "</div>\n");
	}
	checks_table(res, v, x_ids, json_array_get(json_object_get(ids, "i"), idx), b);
	output_log(res, b);
	const json_t *metrics = json_object_get(sc, "metrics");
	if (json_object_size(metrics)) {
		char *s = json_dumps(metrics, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
		rpt__buf_puts(b, "<details><summary>metrics snapshot</summary><pre>");
		rpt__buf_xml(b, s);
		rpt__buf_puts(b, "</pre></details>\n");
		if (!s)
			b->oom = true;
		free(s);
	}
	rpt__buf_puts(b, "</article>\n");
}

/* The proof matrix (neira-harness prove, --meta prove=FILE). */
static void prove_section(const json_t *doc, rpt_buf *b)
{
	const json_t *pv = json_object_get(doc, "prove"), *x;
	size_t i;
	if (!pv)
		return;
	rpt__buf_puts(b, "<h2 id=\"prove\">Proof matrix</h2>\n");
	if (rpt__buf_load_error(b, pv, "<p class=\"sub\">", "</p>\n", rpt__buf_xml))
		return;
	rpt__buf_puts(b, "<p class=\"sub\">Every scenario against every supervisor: the conforming ones must pass "
			 "every applicable scenario; each seed defect is caught by a scenario that fails on the seed "
			 "design and passes on every conforming one. Verdict: ");
	rpt__buf_xml(b, rpt__str(pv, "verdict", ""));
	rpt__buf_puts(b, "</p>\n<div class=\"tblwrap\"><table class=\"meta\"><tr><th>supervisor</th><th>role</th><th>pass</th><th>fail</th>"
			 "<th>n/a</th></tr>\n");
	json_array_foreach(json_object_get(pv, "supervisors"), i, x) {
		rpt__buf_puts(b, "<tr>");
		rpt__buf_cells(b, x, (const char *const[]){ "name", "role" }, 2, "<td>", "</td>", rpt__buf_xml);
		rpt__buf_printf(b, "<td>%lld</td><td>%lld</td><td>%lld</td></tr>\n",
				(long long)json_integer_value(json_object_get(x, "pass")),
				(long long)json_integer_value(json_object_get(x, "fail")),
				(long long)json_integer_value(json_object_get(x, "not_applicable")));
	}
	rpt__buf_puts(b, "</table></div>\n<div class=\"tblwrap\"><table class=\"meta\"><tr><th>seed defect</th><th>clause</th><th>caught by</th></tr>\n");
	json_array_foreach(json_object_get(pv, "defects"), i, x) {
		rpt__buf_puts(b, "<tr>");
		rpt__buf_cells(b, x, (const char *const[]){ "id", "clause" }, 2, "<td>", "</td>", rpt__buf_xml);
		rpt__buf_puts(b, "<td>");
		if (!json_array_size(json_object_get(x, "caught_by")))
			rpt__buf_puts(b, "<strong>not caught</strong>");
		rpt__buf_join(b, json_object_get(x, "caught_by"), rpt__buf_xml);
		rpt__buf_puts(b, "</td></tr>\n");
	}
	rpt__buf_puts(b, "</table></div>\n");
}

/* The mutation lane (scripts/mutate.sh, --meta mutation=FILE, issue 16). */
static void mutation_section(const json_t *doc, rpt_buf *b)
{
	const json_t *mu = json_object_get(doc, "mutation"), *x;
	size_t i;
	if (!mu)
		return;
	rpt__buf_puts(b, "<h2 id=\"mutation\">Proof by reverting each fix</h2>\n");
	if (rpt__buf_load_error(b, mu, "<p class=\"sub\">", "</p>\n", rpt__buf_xml))
		return;
	rpt__buf_puts(b, "<p class=\"sub\">");
	rpt__buf_printf(b, "Each mutant re-introduces one slip (a seed defect or a developer's) into the supervisor; "
			   "the tests that turned red prove the fix it reverts. mutants: %.0f killed, %.0f survived, "
			   "%.0f equivalent.</p>\n<div class=\"tblwrap\"><table class=\"meta\"><tr><th>mutant</th><th>clause</th>"
			   "<th>seed defect</th><th>outcome</th><th>killed by</th></tr>\n",
			rpt__num(mu, "killed", 0), rpt__num(mu, "survived", 0), rpt__num(mu, "equivalent", 0));
	json_array_foreach(json_object_get(mu, "mutants"), i, x) {
		const char *st = rpt__str(x, "status", "");
		bool survived = !strcmp(st, "survived");
		rpt__buf_puts(b, "<tr>");
		rpt__buf_cells(b, x, (const char *const[]){ "id", "clause", "seed_defect" }, 3, "<td>", "</td>", rpt__buf_xml);
		rpt__buf_puts(b, survived ? "<td><strong>" : "<td>");
		rpt__buf_xml(b, st);
		rpt__buf_puts(b, survived ? "</strong></td><td>" : "</td><td>");
		if (!strcmp(st, "equivalent"))
			rpt__buf_xml(b, rpt__str(x, "reason", ""));
		rpt__buf_join(b, json_object_get(x, "killed_by"), rpt__buf_xml);
		rpt__buf_puts(b, "</td></tr>\n");
	}
	rpt__buf_puts(b, "</table></div>\n");
}

void rpt__render_html(const rpt__report *r, rpt_buf *b)
{
	const json_t *doc = r->doc, *x;
	size_t i;
	rpt__buf_puts(b, "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
			 "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width\"/>\n<title>");
	rpt__buf_xml(b, rpt__str(json_object_get(doc, "run"), "title", "neira conformance"));
	rpt__buf_puts(b, "</title>\n<style>");
	rpt__buf_puts(b, css);
	rpt__buf_puts(b, "</style>\n</head>\n<body>\n<main>\n");
	json_t *ids = page_ids(r, b);
	header(doc, b);
	failures_list(doc, &r->sum, ids, b);
	run_table(doc, b);
	matrix(doc, b);
	prove_section(doc, b);
	mutation_section(doc, b);
	clause_table(doc, ids, b);
	rpt__buf_puts(b, "<h2 id=\"results\">Scenarios and unit tests</h2>\n"
			 "<p class=\"sub\">Timelines are drawn to scale from the recorded events (hover a mark for its "
			 "details). Hatched bars are H1 waits, labelled planned→actual.</p>\n");
	json_array_foreach(json_object_get(doc, "scenarios"), i, x)
		result_section(x, json_array_get(r->results, i), i, ids, b);
	rpt__buf_puts(b, "</main>\n</body>\n</html>\n");
	json_decref(ids);
}
