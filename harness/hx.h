/* hx: the neira-harness module. Parses scenario files (YAML, libfyaml) into a
 * normalised JSON form, drives `neira-host drive` from outside, checks the
 * expectations and invariants, and renders results. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

/* A parsed scenario. `doc` is the normalised JSON form (see hx_scenario.c
 * for its shape); owned by the scenario, released by hx_scenario_free(). */
typedef struct hx_scenario {
	char *file;  /* path it was read from */
	char *name;  /* == doc.name */
	json_t *doc;
} hx_scenario;

/* Parse the scenario file at `path`. Returns 0 and a new scenario in *out
 * (caller frees with hx_scenario_free), or a negative errno; on failure
 * `err` (size errlen) holds "file:line:column: field PATH: cause". */
int hx_scenario_load(const char *path, hx_scenario **out, char *err, size_t errlen);

/* Same from an in-memory YAML text; `label` names it in errors. */
int hx_scenario_parse(const char *label, const char *text, size_t len, hx_scenario **out,
		      char *err, size_t errlen);

/* Release a scenario (NULL is fine). */
void hx_scenario_free(hx_scenario *sc);

/* True if the scenario lists clause `id` (exact, e.g. "H1") or, when `id`
 * is letters only, any clause of that family (e.g. "H", "SP"). */
bool hx_scenario_has_clause(const hx_scenario *sc, const char *id);

/* Where the programs under test live. Strings borrowed. */
typedef struct hx_paths {
	const char *host;       /* neira-host */
	const char *fake_agent; /* neira-fake-agent */
	const char *ref_agent;  /* neira-agent */
} hx_paths;

/* Run one scenario in the calling process (which should be a dedicated
 * child: it becomes a child subreaper). Returns the result document
 * (schema neira.scenario-result/1, new reference) — never NULL except on
 * ENOMEM. `log` receives the human-readable report (expectations, and on
 * failure the timeline slices). */
json_t *hx_run_scenario(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log);

/* A result document for a scenario that could not even be parsed. */
json_t *hx_result_error(const char *name, const char *file, const char *message);

/* Print the timeline of a result (events and replies, in arrival order). */
void hx_print_timeline(const json_t *result, FILE *out);

/* Monotonic milliseconds (the one place that reads CLOCK_MONOTONIC). */
double hx_now_ms(void);
