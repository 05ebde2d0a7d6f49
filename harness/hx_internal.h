/* hx_internal: what the harness's own files share (not a public API).
 * Layering, bottom up — no file calls a file above it:
 *   hx_yaml (YAML helpers) ← hx_scenario, hx_actions (loading)
 *   hx_drive (the drive-protocol client), hx_world (processes, fds, files),
 *   hx_expect (expectation matching) ← hx_actions (running),
 *   hx_invariants (the world after the run) ← hx_run
 *   (orchestration) ← hx_isolate (one scenario in a child with a deadline)
 *   ← hx_main, hx_sweep (commands). */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "hx.h"

/* A scenario's `timeout_ms` when it gives none (hx_scenario.c says why). */
#define HX_DEFAULT_TIMEOUT_MS 10000

/* ---- hx_drive.c: neira-host (any drive host) from outside ---------------- */

/* The running neira-host and what came out of it. */
typedef struct hx_host {
	pid_t pid;
	int pidfd;
	int in_fd, out_fd, err_fd;
	char *obuf, *ebuf;
	size_t olen, elen;
	bool out_eof, err_eof, exited;
	int wstatus;
	double t0;          /* harness clock at spawn */
	json_t *events;     /* raw event objects, + "rx_ms" (harness clock) */
	json_t *replies;    /* raw reply objects, + "rx_ms" */
	json_t *timeline;   /* both, in arrival order (borrowed refs) */
	json_t *junk;       /* stdout lines that are neither (protocol violations) */
	json_t *stderr_lines;
	json_t *bad_events; /* why each event line broke the vocabulary (≤ 100) */
	json_t *bad_replies; /* why each reply line broke the contract (≤ 100) */
	int next_id;
	FILE *log;
	bool verbose;
	/* called for every event line as it arrives (the run's fault plan
	 * starts `when: {after_event}` faults from it) */
	void (*on_event)(void *ud, const json_t *ev);
	void *on_event_ud;
} hx_host;

/* Fork/exec the host with its stdin/stdout/stderr on pipes, in its own
 * process group. Returns 0 or -errno. */
int hx_host_spawn(hx_host *h, char **argv, char **envp);
/* Poll the host's pipes and pidfd until done(h, arg) or the deadline (ms
 * since spawn). 0 when done, -ETIMEDOUT, or -EPIPE when the host is gone
 * and done can no longer become true. */
int hx_host_pump(hx_host *h, double deadline, bool (*done)(hx_host *, const void *), const void *arg);
/* Write one command (ownership taken; an "id" is added). Returns the id or
 * -errno. */
int hx_host_send(void *ud, json_t *cmd);
/* Send, then wait for the reply of kind `kind` (NULL: any) with its id.
 * Returns the reply (borrowed) or NULL with *rc set. */
json_t *hx_host_command(hx_host *h, json_t *cmd, double deadline, int *rc);
/* The reply with this id and kind (NULL: any kind), or NULL. Borrowed. */
json_t *hx_host_reply(hx_host *h, int id, const char *kind);
void hx_host_reap(hx_host *h);
/* A pump predicate: the reply with this id (and kind, NULL = any) arrived. */
typedef struct hx_want {
	int id;
	const char *kind;
} hx_want;
bool hx_reply_arrived(hx_host *h, const void *want);
/* Factor for every harness-side wait: 20 when the host runs under a tool
 * (NEIRA_HOST_WRAPPER, NEIRA_UNDER_VALGRIND), else 1. */
double hx_time_scale(void);
int hx_close_fd(int *fd);
char *hx_strdup2(const char *fmt, const char *a, const char *b);
/* v with the first `key` replaced by value / "{dir}" by dir (malloc'd). */
char *hx_subst(const char *v, const char *key, const char *value);
char *hx_subst_dir(const char *v, const char *dir);

/* ---- hx_world.c: what the harness measures from outside ------------------ */

/* Open fds of a process (/proc/PID/fd), or -errno. */
int hx_count_fds(pid_t pid);
/* {"fd": "readlink target"} of a process's open fds (empty if unreadable). */
json_t *hx_fd_targets(pid_t pid);
/* libfaketime's /dev/shm objects now ({name: true}); after a run, remove
 * the ones not in `before` whose creator pid is gone (names into out). */
json_t *hx_shm_names(void);
void hx_shm_sweep(const json_t *before, char *out, size_t len);
/* Each thread's "TID COMM STATE WCHAN", "; " between (for a hang's report). */
void hx_thread_states(pid_t pid, char *out, size_t len);
/* The process exists (also as a zombie); *state = its /proc state letter. */
bool hx_pid_alive(pid_t pid, char *state);
/* /proc/PID/comm, "?" when the process is gone. */
void hx_proc_comm(pid_t pid, char *comm, size_t len);
/* Live (non-zombie) descendants of `root` by a /proc scan of parent links:
 * up to max pids into out; returns how many were found (may exceed max). */
size_t hx_descendants(pid_t root, pid_t *out, size_t max);
int hx_rm_rf(const char *dir);
void hx_stray_files(const char *dir, const char *rel, char *out, size_t outlen);
int hx_make_stale_socket(const char *path);
int hx_make_live_socket(const char *path);
/* mkdir -p: 0 or -errno. */
int hx_mkdir_p(const char *path);
/* connect() to a unix socket: 0 or -errno. */
int hx_probe_connect(const char *path);
int hx_make_agents_dir(const char *dir, const char *ref_agent, char *agents, size_t len);
void hx_remove_agents_dir(const char *agents);
void hx_subst_all(json_t *v, const char *key, const char *value);
/* The invariants every run checks (harness/README.md "Invariants",
 * docs/adapter-contract.md §7): one list, from which the checks take their
 * names and the seed-defect catalogue's `fails:` is validated. */
#define HX_INVARIANTS(X)                                                                          \
	X(agent_stopped_and_reaped) X(no_orphan) X(agent_dies_with_host) X(live_socket_untouched) \
	X(host_exit_clean) X(no_stray_socket_file) X(no_fd_leak_in_host) X(no_fd_leak_in_harness) \
	X(protocol_lines) X(events_in_vocabulary) X(replies_in_contract) X(event_time_monotonic)
typedef enum {
#define HX_INV_ENUM(n) HX_INV_##n,
	HX_INVARIANTS(HX_INV_ENUM)
#undef HX_INV_ENUM
	HX_INV_COUNT
} hx_inv;
extern const char *const hx_inv_names[HX_INV_COUNT];
/* Is `name` one of HX_INVARIANTS? */
bool hx_inv_known(const char *name);
void hx_add_inv(json_t *invs, FILE *log, hx_inv inv, bool ok, const char *msg);
/* "TERM" for SIGTERM ("?" if unknown). */
const char *hx_sig_name(int s);

/* ---- hx_expect.c: expectations against what was measured ----------------- */

typedef struct hx_checker {
	json_t *exps;    /* result "expectations" */
	const char *clause0;
	int failed;
} hx_checker;

void hx_add_exp(hx_checker *c, const char *clause, const char *kind, const char *desc, bool pass,
		json_t *expected, json_t *measured, const char *msg);
char *hx_text_of(const json_t *v);
bool hx_match_value(const json_t *v, const json_t *m);
json_t *hx_dig(json_t *root, const char *path);
void hx_check_events(hx_checker *c, json_t *exp_events, json_t *events);
void hx_check_calls(hx_checker *c, json_t *exp_calls, json_t *call_replies);
void hx_check_value(hx_checker *c, const char *clause, const char *kind, const char *desc, json_t *actual,
		    json_t *want);

/* ---- hx_list.c: the scenario directory ------------------------------------ */

typedef struct hx_entry {
	char *path;
	hx_scenario *sc; /* NULL if it did not load: err says why */
	char err[1024];
} hx_entry;
/* Every DIR/NAME.yaml, loaded, sorted by name (*out freed by hx_entries_free).
 * Returns 0 or -errno (printed). */
int hx_list_dir(const char *dir, hx_entry **out, size_t *n);
/* Load e->path into e->sc (or e->err), checking that its name is its file name. */
void hx_entry_load(hx_entry *e);
void hx_entries_free(hx_entry *e, size_t n);
const char *hx_entry_name(const hx_entry *e);

/* ---- hx_run.c / hx_actions.c: one run of a scenario ---------------------- */

/* Everything one run of a scenario has: built by hx_run's set-up phase,
 * changed by the actions, read by the checks. */
typedef struct hx_ctx {
	const hx_scenario *sc;
	const hx_paths *paths;
	bool verbose;
	FILE *log;
	json_t *doc;          /* the scenario with {dir} substituted (owned) */
	json_t *res;          /* the result document being built (owned) */
	double t_start;       /* harness clock */
	double timeout;       /* ms since the host's spawn: each command's limit */
	char dir[512], sock[600], agents_dir[600];
	hx_host h;
	hx_faults fx;
	json_t *call_replies; /* call index → reply, null until it arrives */
	json_t *pending;      /* {"<id>": {"index": i, "sent": ms}} of call_async */
	json_t *init_reply, *pre_snap, *final_snap; /* borrowed from h.replies */
	int harness_fds_before, host_fds_pre, host_fds_post;
	json_t *host_fd_pre, *host_fd_post; /* their targets, to name a leak */
	double fd_settle_ms;  /* how long the host's fd count took to return after stop */
	bool host_gone_at_fd_check; /* the host had exited when its fds after stop were read */
	bool reap_checked;     /* agent_stopped_and_reaped was read at the stop reply */
	int reap_spawned;     /* spawn events then */
	char reap_msg[512];   /* the agents still there then ("" = none) */
	int live_fd;          /* setup live_socket: another instance's listener, or -1 */
	json_t *shm_before;   /* env LD_PRELOAD: libfaketime's /dev/shm names before the run */
	dev_t live_dev;
	ino_t live_ino;
	bool stopped;         /* a stop was sent (or the host was killed) */
	bool timed_out;
	int host_killed_sig;  /* kill_host: the signal sent, 0 if none */
	double agent_gone_ms; /* kill_host: host killed → agent gone, -1 if it was not */
	pid_t agent_pid_at_kill;
	char errbuf[1024];    /* set-up error: the verdict is "error" */
	char failure[1024];   /* run failure: the verdict is "fail" */
	char not_applicable[512]; /* the host lacks a required capability */
} hx_ctx;

/* The pid of the last `spawn` event, or 0. */
pid_t hx_last_agent_pid(const hx_ctx *x);
/* Send a command and wait for its reply; on failure record why in
 * x->failure (naming `what`) and return NULL. */
json_t *hx_ctx_command(hx_ctx *x, json_t *cmd, const char *what);
/* hx_invariants.c: every run's invariants, once the host has exited. */
void hx_check_world(hx_ctx *x);

/* ---- hx_actions.c: the scenario actions, one table ------------------------ */

struct hx_yctx;
struct fy_node;
/* Parse action #i (a word or a one-key mapping) into out {"do": NAME, …}.
 * *ncalls counts call actions (their index in expect.calls). */
int hx_action_parse(struct hx_yctx *c, struct fy_node *e, int i, int *ncalls, json_t *out);
/* Run one parsed action. 0: go on; 1: the action list ends here (stop,
 * kill_host); -1: a failure was recorded in x->failure. */
int hx_action_run(hx_ctx *x, const json_t *act, size_t index);
/* Move answered call_async replies into x->call_replies; returns how many
 * are still unanswered. */
size_t hx_collect_async(hx_ctx *x);
/* Print the action reference (name, syntax, help) — `neira-harness actions`. */
void hx_actions_help(FILE *f);

/* ---- hx_term.c: what a person reads in a terminal ------------------------- */

typedef struct hx_term {
	bool colour; /* escape sequences allowed */
} hx_term;
/* Colour only when f is a terminal and NO_COLOR is unset or empty. */
hx_term hx_term_for(FILE *f);
/* The escape sequence that colours `word` (PASS, ok, FAIL, ERROR, N/A; any
 * other word: dim), the reset for NULL; "" without colour. Static storage. */
const char *hx_term_sgr(const hx_term *t, const char *word);
/* A number as a person reads it: integers whole, else 1 decimal (2
 * significant digits below 1) — never float noise like 92.355000000000004. */
void hx_term_number(char *buf, size_t n, double v);
/* A JSON value as short text (numbers rounded, error records by their
 * message, strings longer than max_str cut with "…"; 0 = no limit). */
void hx_term_value(char *buf, size_t n, const json_t *v, size_t max_str);
/* One event as an aligned row: mark, t_ms, lane, event, key fields. */
void hx_term_event_row(FILE *f, const json_t *ev, const char *mark);
/* Events [from, to) of a stream, the one at `mark` marked ">". */
void hx_term_slice(FILE *f, const json_t *events, long from, long to, long mark);
/* A result's events and the host's replies, merged by arrival, aligned. */
void hx_term_timeline(FILE *f, const json_t *res);
/* A result's checks (all, or only the failed ones), event checks named in
 * the words of the scenario `doc` (its labels, notes); with `slices`, the
 * events around each failed event check. */
void hx_term_checks(FILE *f, const hx_term *t, const json_t *res, const json_t *doc, bool all, bool slices);
/* text's first paragraph in at most `width` bytes, cut at a word boundary
 * with "…" when it is longer; newlines become spaces. */
void hx_term_fit(char *buf, size_t n, const char *text, int width);

/* ---- hx_clock.c ------------------------------------------------------------ */
/* hx_now_ms (hx.h) and: */
/* ---- hx_intr.c: interruption ---------------------------------------------- */
/* In a scenario child: SIGINT/SIGTERM kill the registered host's group and
 * set the flag; the scenario dir is removed at exit. */
void hx_intr_child_setup(void);
void hx_intr_set(void);
/* SIGINT/SIGTERM arrived (in a scenario child or in the parent). */
bool hx_run_interrupted(void);
/* The running host (killed, with its group, by SIGINT/SIGTERM); 0 = none. */
void hx_run_register_host(pid_t pid);
/* The scenario dir (removed at exit if the run is cut short); NULL = none. */
void hx_run_register_dir(const char *dir);
/* Fault plans: a fault that never fired fails the scenario (hx_faults.c). */
void hx_faults_check_fired(hx_checker *c, const json_t *faults, const json_t *final_snap);
