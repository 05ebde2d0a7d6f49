/* hx_repeat: a scenario's runs — one (hx_run_once), or `repeat: N` of them,
 * one after the other or `repeat_at_once` at a time, each then in its own
 * runner child (hx_isolate) — folded into one result. */
#include <stdlib.h>
#include <string.h>

#include "hx_internal.h"
#include "hx_isolate.h"

/* One run of a repeated scenario: its result, and its printed report when
 * it was captured (NULL: printed as it ran, or not run). */
typedef struct run_out {
	json_t *res;
	char *log;
} run_out;

static void run_serial(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log, run_out *o)
{
	size_t len = 0;
	FILE *mem = verbose ? NULL : open_memstream(&o->log, &len);
	o->res = hx_run_once(sc, paths, verbose, mem ? mem : log);
	if (mem)
		fclose(mem);
}

/* hx_iso_batch's callback: runs 2..N, each from its own runner child. */
static void batch_done(void *ud, size_t i, json_t *res, hx_iso *iso)
{
	run_out *o = (run_out *)ud + 1 + i;
	o->res = json_incref(res);
	if (!iso || !iso->report || fseek(iso->report, 0, SEEK_END) < 0)
		return;
	long n = ftell(iso->report);
	rewind(iso->report);
	if (n > 0 && (o->log = calloc(1, (size_t)n + 1)) && fread(o->log, 1, (size_t)n, iso->report) != (size_t)n)
		o->log[0] = '\0';
}

/* `repeat: N` (P2: every start ends well): all N runs, each in a fresh temp
 * dir, one after the other or `repeat_at_once` at a time (each then in its
 * own runner child, hx_isolate); run 1 always runs alone first, so a host
 * that lacks a capability is found not applicable once. The result is the
 * first failing run's (or the last one's), plus one expectation that counts
 * the runs and names each one that failed. Only the failing runs' reports
 * are printed, unless verbose. */
json_t *hx_run_scenario(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log)
{
	json_int_t n = json_integer_value(json_object_get(sc->doc, "repeat"));
	if (n <= 1)
		return hx_run_once(sc, paths, verbose, log);
	json_int_t at_once = json_integer_value(json_object_get(sc->doc, "repeat_at_once"));
	double t0 = hx_now_ms();
	run_out *out = calloc((size_t)n, sizeof(*out));
	if (!out)
		return NULL;
	run_serial(sc, paths, verbose, log, &out[0]);
	if (!strcmp(json_string_value(json_object_get(out[0].res, "verdict")) ?: "", "not_applicable")) {
		free(out[0].log); /* the host lacks a capability: no run is more applicable */
		json_t *r = out[0].res;
		free(out);
		return r;
	}
	if (at_once > 1) {
		hx_batch_item *items = calloc((size_t)n, sizeof(*items));
		for (json_int_t i = 1; items && i < n; i++)
			items[i - 1] = (hx_batch_item){ sc->name, sc->file, sc, NULL };
		hx_batch_opts o = { .run = hx_run_once, .par = (int)at_once, .verbose = verbose, .done = batch_done,
				    .ud = out };
		if (items && !hx_run_interrupted())
			hx_iso_batch(items, (size_t)n - 1, paths, &o);
		free(items);
	} else {
		for (json_int_t i = 1; i < n && !hx_run_interrupted(); i++)
			run_serial(sc, paths, verbose, log, &out[i]);
	}
	json_t *res = NULL, *failed = json_array();
	json_int_t passed = 0, ran = 0;
	for (json_int_t i = 0; i < n; i++) {
		json_t *r = out[i].res;
		if (!r)
			continue; /* interrupted before it started */
		ran++;
		bool ok = !strcmp(json_string_value(json_object_get(r, "verdict")) ?: "", "pass");
		if (!ok && log)
			fprintf(log, "    run %lld of %lld did not pass:\n", (long long)i + 1, (long long)n);
		if (log && out[i].log && (!ok || verbose))
			fputs(out[i].log, log);
		free(out[i].log);
		passed += ok;
		if (!ok)
			json_array_append_new(failed, json_integer(i + 1));
		if (!res || (!ok && json_array_size(failed) == 1)) {
			json_decref(res); /* keep the first failing run's evidence */
			res = r;
		} else {
			json_decref(r);
		}
	}
	free(out);
	char msg[400];
	int off = snprintf(msg, sizeof(msg), "%lld of %lld runs passed", (long long)passed, (long long)n);
	if (at_once > 1)
		off += snprintf(msg + off, sizeof(msg) - (size_t)off, " (%lld at a time)", (long long)at_once);
	if (ran < n)
		off += snprintf(msg + off, sizeof(msg) - (size_t)off, " (interrupted after %lld)", (long long)ran);
	size_t k;
	json_t *f;
	json_array_foreach(failed, k, f)
		if (off > 0 && (size_t)off < sizeof(msg))
			off += snprintf(msg + off, sizeof(msg) - (size_t)off, "%s%lld", k ? ", " : "; failed: run ",
					(long long)json_integer_value(f));
	json_t *exps = json_object_get(res, "expectations");
	const char *clause = json_string_value(json_array_get(json_object_get(sc->doc, "clauses"), 0));
	char id[16];
	snprintf(id, sizeof(id), "E%zu", json_array_size(exps) + 1);
	json_array_append_new(exps, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "id", id, "clause", clause ? clause : "",
					      "kind", "repeat", "description", "every run of the repeated scenario passes",
					      "verdict", passed == n ? "pass" : "fail", "expected", (json_int_t)n,
					      "measured", passed, "message", msg));
	if (passed != n)
		json_object_set_new(res, "verdict", json_string("fail"));
	/* the wall time of all the runs (with `repeat_at_once`, less than their sum) */
	json_object_set_new(res, "duration_ms", json_real(hx_now_ms() - t0));
	json_object_set_new(res, "repeat", json_pack("{s:I,s:I,s:I,s:I,s:o}", "runs", (json_int_t)n, "at_once",
						     at_once > 1 ? at_once : 1, "ran", ran, "passed", passed,
						     "failed_runs", failed));
	return res; /* the repeat check is printed with the others (hx_term) */
}
