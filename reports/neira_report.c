/* neira-report: thin CLI over rpt_generate (the library does the work).
 * Exit: 0 every clause passes; 1 a clause fails or is not covered, or a
 * result failed; 2 usage or I/O error. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "neira_config.h"
#include "rpt.h"

static int usage(FILE *f, int rc)
{
	fprintf(f, "usage: neira-report --from RESULTS_DIR --out DIR [--meta KEY=VALUE]... [--catalogue FILE] [--quiet] [--version]\n"
		   "  Writes conformance.json, conformance.md, conformance.html and junit.xml into DIR.\n"
		   "  --meta keys: commit seed started_at duration_ms grpc protobuf_c libfiu compiler kernel title;\n"
		   "               other keys are shown as extra run metadata.\n"
		   "  Tests are evidence only as unit-test result files in RESULTS_DIR, which\n"
		   "  `neira-harness report --testlog build/meson-logs/testlog.json` writes from meson's test log;\n"
		   "  without them, clauses only tests cover (A4) are not covered.\n"
		   "  exit 0: all clauses pass; 1: a clause fails or is not covered, or a result failed; 2: error\n");
	return rc;
}

int main(int argc, char **argv)
{
	const char *from = NULL, *out = NULL;
	bool quiet = false;
	rpt_meta meta = RPT_META_INIT;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			return usage(stdout, 0);
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("neira-report %s\n", NEIRA_VERSION);
			return 0;
		}
		if (!strcmp(a, "--quiet")) {
			quiet = true;
			continue;
		}
		if (i + 1 >= argc)
			return usage(stderr, 2);
		const char *v = argv[++i];
		if (!strcmp(a, "--from")) {
			from = v;
		} else if (!strcmp(a, "--out")) {
			out = v;
		} else if (!strcmp(a, "--catalogue")) {
			meta.catalogue = v;
		} else if (!strcmp(a, "--meta")) {
			int rc = rpt_meta_set(&meta, v);
			if (rc < 0) {
				fprintf(stderr, "neira-report: --meta %s: %s\n", v,
					rc == -ENOSPC ? "too many extra keys" : "expected KEY=VALUE (duration_ms a number)");
				return 2;
			}
		} else {
			fprintf(stderr, "neira-report: unknown option %s\n", a);
			return usage(stderr, 2);
		}
	}
	if (!from || !out)
		return usage(stderr, 2);

	rpt_summary sum;
	char err[1024];
	int rc = rpt_generate(from, out, &meta, &sum, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "neira-report: %s\n", err);
		return 2;
	}
	/* A clause without evidence fails the run: say which, and how to
	 * supply the evidence, whatever --quiet says (issue 14). */
	if (sum.clauses_not_covered)
		fprintf(stderr, "neira-report: not covered (no evidence): %s — %s\n", sum.not_covered_ids,
			rpt_evidence_hint(&sum));
	if (!quiet)
		printf("neira-report: %s — clauses %d pass, %d fail, %d not covered, %d n/a; results %d pass, %d fail, "
		       "%d error%s\nneira-report: wrote %s/conformance.{json,md,html} and %s/junit.xml\n",
		       sum.ok ? "PASS" : "FAIL", sum.clauses_pass, sum.clauses_fail, sum.clauses_not_covered,
		       sum.clauses_not_applicable, sum.results_pass, sum.results_fail, sum.results_error,
		       sum.unknown_clauses ? " (results name clause IDs the catalogue does not know)" : "", out, out);
	return rpt_exit_status(&sum);
}
