/* rpt_generate: the public entry point — build the model once, render the
 * four files from it, write each atomically. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpt_internal.h"

static int render_json(const rpt__report *r, rpt_buf *b)
{
	char *s = json_dumps(r->doc, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
	if (!s)
		return -ENOMEM;
	rpt__buf_puts(b, s);
	rpt__buf_puts(b, "\n");
	free(s);
	return 0;
}

int rpt_generate(const char *results_dir, const char *out_dir, const rpt_meta *meta, rpt_summary *summary,
		 char *err, size_t errlen)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!results_dir || !out_dir) {
		snprintf(err, errlen, "generate report: results_dir and out_dir are required");
		return -EINVAL;
	}
	rpt__report r;
	int rc = rpt__build(results_dir, meta, &r, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = rpt__mkdirs(out_dir)) < 0) {
		snprintf(err, errlen, "create output directory %s: %s", out_dir, strerror(-rc));
		goto out;
	}
	static const struct {
		const char *name;
		int kind;
	} outputs[] = { { "conformance.json", 0 }, { "conformance.md", 1 }, { "conformance.html", 2 }, { "junit.xml", 3 } };
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		rpt_buf b = RPT_BUF_INIT;
		switch (outputs[i].kind) {
		case 0:
			if (render_json(&r, &b) < 0)
				b.oom = true;
			break;
		case 1:
			rpt__render_md(&r, &b);
			break;
		case 2:
			rpt__render_html(&r, &b);
			break;
		default:
			rpt__render_junit(&r, &b);
			break;
		}
		rc = rpt__write_file(out_dir, outputs[i].name, &b, err, errlen);
		rpt__buf_free(&b);
		if (rc < 0)
			goto out;
	}
	if (summary)
		*summary = r.sum;
out:
	rpt__report_destroy(&r);
	return rc < 0 ? rc : 0;
}

int rpt_exit_status(const rpt_summary *summary)
{
	return summary && summary->ok ? 0 : 1;
}
