/* rpt internals: the growable text buffer with escapers, the report model
 * (the conformance.json document plus the raw result files) and the four
 * renderers. Not installed; only reports/ includes it. */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "rpt.h"

#define RPT_RESULT_SCHEMA "neira.scenario-result/1"
#define RPT_REPORT_SCHEMA "neira.conformance/1"
#define RPT_CATALOGUE_SCHEMA "neira.clauses/1"

#define rpt__return_if_fail(cond, rv) \
	do { \
		if (!(cond)) \
			return (rv); \
	} while (0)

/* ---- text buffer (rpt_util.c) ---- */

/* Growable NUL-terminated text. Allocation failure is sticky: `oom` is set,
 * later appends are no-ops, the caller checks once at the end. */
typedef struct rpt_buf {
	char *p;
	size_t len, cap;
	bool oom;
} rpt_buf;

#define RPT_BUF_INIT { 0 }

void rpt__buf_free(rpt_buf *b);
void rpt__buf_putn(rpt_buf *b, const char *s, size_t n);
void rpt__buf_puts(rpt_buf *b, const char *s);
__attribute__((format(printf, 2, 3))) void rpt__buf_printf(rpt_buf *b, const char *fmt, ...);
/* HTML/XML text and attribute escaping: & < > " ' become entities, control
 * characters other than tab/newline (illegal in XML 1.0) become U+FFFD.
 * NULL appends nothing. */
void rpt__buf_xml(rpt_buf *b, const char *s);
/* A Markdown table cell: | and \ escaped, newlines as spaces, < > & as
 * entities (GitHub renders inline HTML), backticks and * escaped (underscores are left: GitHub does not emphasise inside words). */
void rpt__buf_md(rpt_buf *b, const char *s);
/* One of the two above. */
typedef void (*rpt_esc_fn)(rpt_buf *b, const char *s);
/* Table cells: for each of keys[0..n), before, the string member of x
 * escaped ("—" when absent or not a string), after. */
void rpt__buf_cells(rpt_buf *b, const json_t *x, const char *const *keys, size_t n, const char *before,
		    const char *after, rpt_esc_fn esc);
/* before, s escaped, after — or nothing when s is NULL (an optional part
 * such as a failure's clause). */
void rpt__buf_opt(rpt_buf *b, const char *before, const char *s, const char *after, rpt_esc_fn esc);
/* The strings of the array a, escaped, joined by ", ". */
void rpt__buf_join(rpt_buf *b, const json_t *a, rpt_esc_fn esc);
/* A section loaded from --meta KEY=FILE that could not be read ({error,
 * file}): writes before, "error: file", after and returns true; else
 * writes nothing and returns false. */
bool rpt__buf_load_error(rpt_buf *b, const json_t *o, const char *before, const char *after, rpt_esc_fn esc);

/* A JSON value as short display text (strings unquoted, others compact
 * JSON, null/NULL as "null"). Returns a malloc'd string or NULL on ENOMEM. */
char *rpt__json_brief(const json_t *v);

/* Write `b` to dir/name through a temporary file and rename(2). Returns 0 or
 * a negative errno with `err` filled. */
int rpt__write_file(const char *dir, const char *name, const rpt_buf *b, char *err, size_t errlen);
/* mkdir -p. Returns 0 or a negative errno. */
int rpt__mkdirs(const char *path);

/* Convenience getters on JSON objects: the string value or `def`. */
const char *rpt__str(const json_t *o, const char *key, const char *def);
/* The string at index i of array a, or `def`. */
const char *rpt__str_at(const json_t *a, size_t i, const char *def);
/* What a failure says: its message, or its description when the message is
 * empty. One rule for every format, so they cannot disagree. */
const char *rpt__failure_text(const json_t *f);
double rpt__num(const json_t *o, const char *key, double def);
/* A duration for people: "0.4 ms", "92 ms", "1.4 s", "2 min 24 s", "1 h 5 min"
 * (never a raw 144235); "?" for a negative or NaN value. */
void rpt__fmt_duration(char *out, size_t n, double ms);
/* A point in time since the run's start, to the 0.1 ms a timeline records:
 * "306.4 ms", or from 10 s on "144.235 s". */
void rpt__fmt_at(char *out, size_t n, double ms);

/* ---- the model (rpt_model.c) ---- */

/* `doc` is the conformance.json document (see SCHEMA.md); `results` the
 * result documents in the order of doc.scenarios (events live there only). */
typedef struct rpt__report {
	json_t *doc;
	json_t *results;
	rpt_summary sum;
} rpt__report;

int rpt__build(const char *results_dir, const rpt_meta *meta, rpt__report *r, char *err, size_t errlen);
void rpt__report_destroy(rpt__report *r);

/* ---- renderers (rpt_render_*.c); append to `b` ---- */

void rpt__render_md(const rpt__report *r, rpt_buf *b);
void rpt__render_html(const rpt__report *r, rpt_buf *b);
void rpt__render_junit(const rpt__report *r, rpt_buf *b);
/* The SVG timeline of one result (rpt_timeline.c): exactly one
 * <svg class="timeline"> element. `row_ids` (may be NULL): the page ids of
 * the result's expectation rows, parallel to its expectations; each failed
 * check's mark links to its row. */
void rpt__render_timeline(const json_t *result, size_t idx, const json_t *row_ids, rpt_buf *b);

/* The built-in catalogue, generated from clauses.json at build time. */
extern const unsigned char rpt__clauses_json[];
extern const size_t rpt__clauses_json_len;
