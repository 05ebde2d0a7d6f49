/* rpt_render_junit: junit.xml for CI systems. Suite "scenarios": one test
 * case per result file (classname = family of its first clause), failed
 * checks in <failure>, the clause IDs as properties. Suite "clauses": one
 * test case per catalogue clause, so an uncovered clause is a CI failure
 * too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_internal.h"

static void family_of(const char *id, char *out, size_t n)
{
	size_t k = 0;
	while (id && id[k] && k + 1 < n && ((id[k] >= 'A' && id[k] <= 'Z') || (id[k] >= 'a' && id[k] <= 'z'))) {
		out[k] = id[k];
		k++;
	}
	out[k] = '\0';
	if (!k)
		snprintf(out, n, "unclassified");
}

/* "id (clause): message; expected X, measured Y" for one failure. */
static void failure_text(rpt_buf *b, const json_t *f)
{
	rpt__buf_puts(b, rpt__str(f, "what", ""));
	rpt__buf_opt(b, " ", rpt__str(f, "id", NULL), "", rpt__buf_puts);
	rpt__buf_opt(b, " [", rpt__str(f, "clause", NULL), "]", rpt__buf_puts);
	rpt__buf_puts(b, ": ");
	rpt__buf_puts(b, rpt__failure_text(f));
	if (json_object_get(f, "expected") || json_object_get(f, "measured")) {
		char *e = rpt__json_brief(json_object_get(f, "expected"));
		char *m = rpt__json_brief(json_object_get(f, "measured"));
		rpt__buf_printf(b, " (expected %s, measured %s)", e ? e : "?", m ? m : "?");
		free(e);
		free(m);
	}
}

void rpt__render_junit(const rpt__report *r, rpt_buf *b)
{
	const json_t *doc = r->doc, *sum = json_object_get(doc, "summary"), *x, *f, *c;
	const json_t *rs = json_object_get(sum, "results"), *cs = json_object_get(sum, "clauses");
	size_t i, j;
	double total_ms = 0;
	json_array_foreach(json_object_get(doc, "scenarios"), i, x)
		total_ms += rpt__num(x, "duration_ms", 0);
	long long r_fail = json_integer_value(json_object_get(rs, "fail")),
		  r_err = json_integer_value(json_object_get(rs, "error")),
		  r_tot = json_integer_value(json_object_get(rs, "total")),
		  c_tot = json_integer_value(json_object_get(cs, "total")),
		  c_fail = json_integer_value(json_object_get(cs, "fail")) +
			   json_integer_value(json_object_get(cs, "not_covered")),
		  c_skip = json_integer_value(json_object_get(cs, "not_applicable"));

	rpt__buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	rpt__buf_printf(b, "<testsuites name=\"neira-conformance\" tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" time=\"%.3f\">\n",
			r_tot + c_tot, r_fail + c_fail, r_err, total_ms / 1000.0);
	rpt__buf_printf(b, "  <testsuite name=\"scenarios\" tests=\"%lld\" failures=\"%lld\" errors=\"%lld\" skipped=\"0\" time=\"%.3f\" timestamp=\"",
			r_tot, r_fail, r_err, total_ms / 1000.0);
	rpt__buf_xml(b, rpt__str(json_object_get(doc, "run"), "started_at", rpt__str(doc, "generated_at", "")));
	rpt__buf_puts(b, "\">\n");
	json_array_foreach(json_object_get(doc, "scenarios"), i, x) {
		char fam[32];
		const json_t *cl = json_object_get(x, "clauses");
		family_of(json_string_value(json_array_get(cl, 0)), fam, sizeof(fam));
		rpt__buf_puts(b, "    <testcase classname=\"");
		rpt__buf_xml(b, fam);
		rpt__buf_puts(b, "\" name=\"");
		rpt__buf_xml(b, rpt__str(x, "name", ""));
		rpt__buf_puts(b, "\" file=\"");
		rpt__buf_xml(b, rpt__str(x, "file", ""));
		rpt__buf_printf(b, "\" time=\"%.3f\">\n      <properties>\n", rpt__num(x, "duration_ms", 0) / 1000.0);
		rpt__buf_puts(b, "        <property name=\"kind\" value=\"");
		rpt__buf_xml(b, rpt__str(x, "kind", ""));
		rpt__buf_puts(b, "\"/>\n");
		json_array_foreach(cl, j, c) {
			rpt__buf_puts(b, "        <property name=\"clause\" value=\"");
			rpt__buf_xml(b, json_string_value(c));
			rpt__buf_puts(b, "\"/>\n");
		}
		rpt__buf_puts(b, "      </properties>\n");
		const char *v = rpt__str(x, "verdict", "");
		if (!strcmp(v, "not_applicable")) { /* never a pass */
			rpt__buf_puts(b, "      <skipped message=\"not applicable to this supervisor\"/>\n");
		} else if (strcmp(v, "pass")) {
			const char *tag = !strcmp(v, "error") ? "error" : "failure";
			rpt_buf msg = RPT_BUF_INIT, body = RPT_BUF_INIT;
			json_array_foreach(json_object_get(x, "failures"), j, f) {
				if (j)
					rpt__buf_puts(&msg, "; ");
				failure_text(&msg, f);
				failure_text(&body, f);
				rpt__buf_puts(&body, "\n");
			}
			rpt__buf_printf(b, "      <%s type=\"%s\" message=\"", tag, !strcmp(v, "error") ? "error" : "expectation");
			rpt__buf_xml(b, msg.p ? msg.p : v);
			rpt__buf_puts(b, "\">");
			rpt__buf_xml(b, body.p);
			rpt__buf_printf(b, "</%s>\n", tag);
			b->oom |= msg.oom || body.oom;
			rpt__buf_free(&msg);
			rpt__buf_free(&body);
		}
		rpt__buf_puts(b, "    </testcase>\n");
	}
	rpt__buf_puts(b, "  </testsuite>\n");

	rpt__buf_printf(b, "  <testsuite name=\"clauses\" tests=\"%lld\" failures=\"%lld\" errors=\"0\" skipped=\"%lld\" time=\"0\">\n",
			c_tot, c_fail, c_skip);
	json_array_foreach(json_object_get(doc, "clauses"), i, x) {
		const char *v = rpt__str(x, "verdict", "");
		rpt__buf_puts(b, "    <testcase classname=\"clause.");
		rpt__buf_xml(b, rpt__str(x, "family", ""));
		rpt__buf_puts(b, "\" name=\"");
		rpt__buf_xml(b, rpt__str(x, "id", ""));
		rpt__buf_puts(b, " ");
		rpt__buf_xml(b, rpt__str(x, "summary", ""));
		rpt__buf_puts(b, "\" time=\"0\">");
		if (!strcmp(v, "not_applicable")) {
			rpt__buf_puts(b, "<skipped message=\"");
			rpt__buf_xml(b, rpt__str(x, "not_applicable", "not applicable"));
			rpt__buf_puts(b, "\"/>");
		} else if (!strcmp(v, "not_covered")) {
			rpt__buf_puts(b, "<failure type=\"not_covered\" message=\"no scenario or unit test covers this clause\"/>");
		} else if (!strcmp(v, "fail")) {
			rpt__buf_puts(b, "<failure type=\"clause\" message=\"failing evidence:");
			json_array_foreach(json_object_get(x, "evidence"), j, f)
				if (strcmp(rpt__str(f, "verdict", ""), "pass")) {
					rpt__buf_puts(b, " ");
					rpt__buf_xml(b, rpt__str(f, "result", ""));
				}
			rpt__buf_puts(b, "\"/>");
		}
		rpt__buf_puts(b, "</testcase>\n");
	}
	rpt__buf_puts(b, "  </testsuite>\n</testsuites>\n");
}
