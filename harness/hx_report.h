/* hx_report: the `report` subcommand of neira-harness. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hx.h"

typedef struct hx_report_opts {
	const char *out;     /* report directory; NULL = reports/out */
	const char *from;    /* earlier run's results dir; NULL = run every scenario now */
	const char *testlog; /* meson's testlog.json, turned into unit evidence; may be NULL */
	const char **meta;   /* "KEY=VALUE" run metadata (rpt_meta_set keys) */
	size_t n_meta;
} hx_report_opts;

/* Runs every scenario writing results into `results_dir`; returns how many
 * did not pass, or -1 if they could not be run at all. */
typedef int (*hx_run_all_fn)(void *ud, const char *results_dir);

/* The whole subcommand. Returns the process exit status: 0 every clause
 * passes and every result passed; 1 a clause failed or is not covered, or
 * a scenario failed; 2 the report could not be made (I/O, bad option). */
int hx_report(const hx_report_opts *o, hx_run_all_fn run_all, void *ud);

/* Turn meson's test log (JSON lines) into one evidence file per test whose
 * suites name SPEC clause IDs (e.g. suite "C3"), written as
 * <results_dir>/unit-<test>.json in the scenario-result schema with
 * "kind": "unit". Scenario tests (suite "scenario") and skipped tests are
 * left out: a skip is never evidence. Returns 0 and the count in *written,
 * or a negative errno with a message in err. */
int hx_unit_evidence(const char *testlog, const char *results_dir, int *written, char *err, size_t errlen);
