/* hx: the neira-harness module. Parses scenario files (YAML, libfyaml) into a
 * normalised JSON form, drives `neira-host drive` from outside, checks the
 * expectations and invariants, and renders results. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

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
/* One run of it, whatever its `repeat` (hx_run_scenario runs them all). */
json_t *hx_run_once(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log);

/* A result document for a scenario that could not even be parsed. */
json_t *hx_result_error(const char *name, const char *file, const char *message);


/* `neira-harness prove …` (hx_prove.c). */
int hx_prove_main(int argc, char **argv, const char *dir, const hx_paths *base);

/* `neira-harness schema [--check FILE]` (hx_schema.c). */
int hx_schema_main(int argc, char **argv);

/* Monotonic milliseconds (the one place that reads CLOCK_MONOTONIC). */
double hx_now_ms(void);

/* ---- fault plans, sweep, chaos (hx_faults.c) ---------------------------- */

/* A plan being applied to one run. */
typedef struct hx_faults {
	json_t *pending;     /* entries with `when`, not yet started */
	char ctrl_dir[700];  /* libfiu remote-control FIFOs for the agent, or "" */
	pid_t agent_pid;     /* from the last spawn event */
	int agent_ctrl_rc, agent_ctrl_failures;
} hx_faults;

/* Turn the plan into neira-host's environment: appends "K=V" strings
 * (malloc'd) to *envp at *n_env (room for 8 is needed), and if the agent
 * must go through neira-fault-exec, sets *host_agent (malloc'd) to it —
 * the real agent is passed in the environment. Returns 0 or -errno. */
int hx_faults_setup(hx_faults *fx, const json_t *faults, const char *dir, const char *agent_path,
		    char ***envp, size_t *n_env, char **host_agent, char *err, size_t errlen);
/* Called for every event from neira-host: starts faults whose `when` is this
 * event (a drive command through send(), ownership of cmd passed; or the
 * agent's FIFO). */
void hx_faults_on_event(hx_faults *fx, const json_t *ev, int (*send)(void *ud, json_t *cmd), void *ud);
/* Release the plan state and remove the FIFO dir. */
void hx_faults_cleanup(hx_faults *fx);

/* `neira-harness sweep …` and `neira-harness chaos …` (argv after the
 * command word). Exit status: 0 no violation, 1 violations, 2 usage. */
int hx_faults_main(const char *cmd, int argc, char **argv, const char *dir, const hx_paths *paths);

/* ---- names (hx_names.c): load-time checks of every name a scenario uses --
 * Each returns 0, or -EINVAL with "unknown X 'name' (did you mean 'y'?)" in
 * why (size n). */
int hx_check_event(const char *name, char *why, size_t n);
int hx_check_event_field(const char *event, const char *field, char *why, size_t n);
int hx_check_preset(const char *name, char *why, size_t n);
/* the fake agent's own parser over preset + script (either may be NULL) */
int hx_check_script(const char *preset, const json_t *script, char *why, size_t n);
/* supervisor/sup_config.c over KEY=VALUE ("{dir}" allowed in values) */
int hx_check_config(const char *key, const char *value, char *why, size_t n);
