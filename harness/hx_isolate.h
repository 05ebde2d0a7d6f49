/* hx_isolate: a scenario run in a child process with a deadline; signals. */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "hx.h"

typedef struct hx_iso {
	pid_t pid;
	int pidfd; /* readable when the child has exited */
	FILE *report, *result;
	double start, deadline; /* harness clock */
} hx_iso;

/* What a runner child runs: hx_run_scenario (all of a scenario's runs) or
 * hx_run_once (one run of a repeated one). Passed in, so this file calls
 * nothing of the runs it isolates (no cycle between hx_isolate and them). */
typedef json_t *hx_runner(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log);

/* Fork a child that runs the scenario and writes its result. Returns 0 or
 * -errno. */
int hx_iso_start(hx_iso *j, hx_runner *run, const hx_scenario *sc, const hx_paths *paths, bool verbose);
/* Reap the child (SIGKILL first if past its deadline) and read its result
 * (an error result if it wrote none). New reference. */
json_t *hx_iso_finish(hx_iso *j, const char *name, const char *file);
/* Ask a running child to stop (it kills its host and still writes a result). */
void hx_iso_interrupt(hx_iso *j);
void hx_iso_release(hx_iso *j);
/* start + wait + finish + release. */
json_t *hx_iso_run(hx_runner *run, const hx_scenario *sc, const hx_paths *paths);

/* One scenario of a batch: loaded (sc), or not (load_err says why). */
typedef struct hx_batch_item {
	const char *name, *path;
	const hx_scenario *sc;
	const char *load_err;
} hx_batch_item;
/* Called once per item as it finishes (in completion order), with its
 * result (borrowed) and its runner (report stream; NULL if it never ran). */
typedef void (*hx_batch_cb)(void *ud, size_t index, json_t *result, hx_iso *iso);
/* Called when tick_ms passed with no item finished (a slow run shows what
 * it is waiting for): the running items and how long each has run (ms). */
typedef void (*hx_batch_tick_cb)(void *ud, const size_t *running, const double *elapsed_ms, size_t n);
typedef struct hx_batch_opts {
	hx_runner *run;       /* what each child runs */
	int par;              /* items at a time (< 1: 1) */
	bool verbose;
	hx_batch_cb done;
	hx_batch_tick_cb tick; /* NULL: none */
	double tick_ms;
	void *ud;             /* for done and tick */
} hx_batch_opts;
/* Run items `par` at a time, each in its own child; SIGINT/SIGTERM stop new
 * starts and reach the running ones (which still report). Returns how many
 * were started or reported (< n if interrupted). */
size_t hx_iso_batch(const hx_batch_item *items, size_t n, const hx_paths *paths, const hx_batch_opts *o);

/* In the parent: SIGINT/SIGTERM only set a flag (hx_run_interrupted), the
 * caller forwards them to its children and stops starting new ones. */
void hx_iso_parent_signals(void);
