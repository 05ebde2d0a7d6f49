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

/* Fork a child that runs the scenario (hx_run_scenario) and writes its
 * result. Returns 0 or -errno. */
int hx_iso_start(hx_iso *j, const hx_scenario *sc, const hx_paths *paths, bool verbose);
/* Reap the child (SIGKILL first if past its deadline) and read its result
 * (an error result if it wrote none). New reference. */
json_t *hx_iso_finish(hx_iso *j, const char *name, const char *file);
/* Ask a running child to stop (it kills its host and still writes a result). */
void hx_iso_interrupt(hx_iso *j);
void hx_iso_release(hx_iso *j);
/* start + wait + finish + release. */
json_t *hx_iso_run(const hx_scenario *sc, const hx_paths *paths);

/* In the parent: SIGINT/SIGTERM only set a flag (hx_run_interrupted), the
 * caller forwards them to its children and stops starting new ones. */
void hx_iso_parent_signals(void);
