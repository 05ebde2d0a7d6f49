/* rpt: the conformance report. Reads a directory of per-scenario result files
 * (schema neira.scenario-result/1, one JSON file each, scenarios and unit-test
 * evidence alike) and writes conformance.json, conformance.md,
 * conformance.html and junit.xml, organised by the SPEC clause catalogue
 * (reports/clauses.json, built into the library). Schema: reports/SCHEMA.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Most KEY=VALUE pairs beyond the known keys that a rpt_meta carries. */
#define RPT_META_EXTRA_MAX 16

/* Run metadata. Every string is borrowed (must outlive rpt_generate); NULL
 * means "not given": the library fills what it can gather itself (compiler
 * from __VERSION__, kernel from uname(2), grpc/protobuf-c/libfiu versions
 * as seen by meson at build time, project commit from `git rev-parse HEAD`
 * at build time) and leaves the rest (seed, start time, duration) null. */
/* Whether `id` ("H1") is a clause of the catalogue (reports/clauses.json,
 * built in) — the one list of clauses; the scenario loader checks with it. */
bool rpt_clause_known(const char *id);

typedef struct rpt_meta {
	const char *project_commit;
	const char *chaos_seed;
	const char *started_at;      /* RFC 3339, UTC preferred */
	double duration_ms;          /* whole run; < 0 = unknown */
	const char *grpc_version;
	const char *protobuf_c_version;
	const char *libfiu_version;
	const char *compiler;
	const char *kernel;
	const char *catalogue;       /* path of a clauses.json to use instead of the built-in one */
	const char *title;           /* report title; NULL = "neira conformance" */
	/* Further metadata as "KEY=VALUE" strings, shown under run.extra. */
	const char *extra[RPT_META_EXTRA_MAX];
	size_t n_extra;
} rpt_meta;

#define RPT_META_INIT { .duration_ms = -1.0 }

/* Set one metadata field from "KEY=VALUE" (the CLI's --meta). Known keys:
 * commit, seed, started_at, duration_ms, grpc, protobuf_c, libfiu, compiler,
 * kernel, catalogue, title; anything else goes to extra. Pointers into `kv`
 * are kept (kv must outlive `m`). Returns 0, -EINVAL (no '=' or empty key or
 * bad duration), or -ENOSPC (too many extra keys). */
int rpt_meta_set(rpt_meta *m, const char *kv);

/* What the report found. Verdicts per clause: pass (evidence exists and all
 * of it passes), fail (some evidence fails), not_covered (no evidence),
 * not_applicable (catalogue says the clause does not apply at all). */
typedef struct rpt_summary {
	int clauses;
	int clauses_pass;
	int clauses_fail;
	int clauses_not_covered;
	int clauses_not_applicable;
	int results;          /* result files read (scenarios + unit evidence) */
	int results_pass;
	int results_fail;
	int results_error;    /* verdict "error", or a file that could not be read */
	int results_not_applicable; /* the host lacked a capability the scenario requires */
	int results_skipped;  /* *.json files of another schema (e.g. an old conformance.json) */
	int unknown_clauses;  /* clause IDs named by results but not in the catalogue */
	int results_unit;     /* of results: unit-test evidence (kind "unit", from meson's test log) */
	/* The IDs of the not-covered clauses, ", "-separated ("A4, L1"), cut
	 * with "…" when they do not fit; "" when every clause has evidence. */
	char not_covered_ids[256];
	bool ok;              /* every applicable clause passes and no result failed */
} rpt_summary;

/* How to supply the evidence the not-covered clauses of `summary` lack, as
 * one sentence for a person (static storage): with no unit-test evidence
 * at all, how to turn meson's test log into it; otherwise where to look
 * for scenarios and tests that name a clause. */
const char *rpt_evidence_hint(const rpt_summary *summary);

/* Read every *.json in `results_dir` and write the four report files into
 * `out_dir` (created if missing; existing report files are replaced
 * atomically). `meta` may be NULL. Returns 0 when the report was written —
 * whatever the verdicts; look at summary->ok — or a negative errno when it
 * could not be (unreadable directory or catalogue, write error), with a
 * message naming the operation, object and cause in `err` (size errlen).
 * `summary` may be NULL. */
int rpt_generate(const char *results_dir, const char *out_dir, const rpt_meta *meta, rpt_summary *summary,
		 char *err, size_t errlen);

/* Exit status a CLI should use for a generated report: 0 if summary->ok,
 * else 1 (failed or uncovered clauses, failed results). */
int rpt_exit_status(const rpt_summary *summary);
