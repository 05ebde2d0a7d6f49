/* sup: the agent supervisor (SPEC L, H, K, M, C, S, O) — spawns the agent,
 * waits for it to become ready, exposes typed calls, falls back to mock mode,
 * and stops it. One event loop over poll(2); clock, waiting and spawning are
 * injectable (struct sup_env) so that tests run exact timelines. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "sup_breaker.h"
#include "sup_config.h"
#include "sup_error.h"
#include "sup_metrics.h"

typedef struct sup sup;

/* A spawned child as the spawn seam hands it back: all fds are owned by the
 * supervisor afterwards (closed on stop). pidfd may be -1 if the kernel has
 * no pidfd_open; the loop then falls back to a short reap tick. */
typedef struct sup_child {
	pid_t pid;
	int pidfd;
	int out_fd; /* read end of the child's stdout pipe, O_CLOEXEC|O_NONBLOCK */
	int err_fd; /* same for stderr */
} sup_child;

/* The injectable world (STYLE "time and I/O as inputs"). Every member may be
 * NULL: the real one is used (sup_env_real()).
 * - now_us: monotonic time in microseconds, any base;
 * - poll: poll(2) with a timeout in ms (-1 = forever);
 * - spawn: start `path` with `envp` (no shell); 0 and *child filled, or a
 *   negative errno with err filled (exec failures reported at once, L2). */
typedef struct sup_env {
	int64_t (*now_us)(void *ud);
	int (*poll)(void *ud, struct pollfd *fds, nfds_t n, int timeout_ms);
	int (*spawn)(void *ud, const char *path, char *const envp[], sup_child *child, sup_error *err);
	void *ud;
} sup_env;

/* The real implementations (the only place that reads CLOCK_MONOTONIC is
 * sup_clock.c). */
int64_t sup_clock_now_us(void *ud);
int sup_clock_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout_ms);
int sup_spawn_exec(void *ud, const char *path, char *const envp[], sup_child *child, sup_error *err);

/* Lifecycle states, in the event stream as their names (sup_state_name). */
typedef enum {
	SUP_STATE_IDLE,
	SUP_STATE_STARTING,
	SUP_STATE_HEALTH_CHECK,
	SUP_STATE_READY,
	SUP_STATE_MOCK,
	SUP_STATE_STOPPING,
	SUP_STATE_STOPPED,
} sup_state;

const char *sup_state_name(sup_state s);

/* Event callback (O3). `event` is {"t_ms": ms since sup_new as a real with
 * 3 decimals, "event": name, …fields}; borrowed, valid during the call. The
 * callback must not call back into the supervisor. */
typedef void (*sup_event_fn)(void *ud, const json_t *event);

/* Create a supervisor from a copy of `cfg` (NULL = defaults) and `env`
 * (NULL = real). Nothing is spawned yet. Returns 0 and *out, or a negative
 * errno with err filled. Calls rpc_global_init(); sup_free() undoes it. */
int sup_new(const sup_config *cfg, const sup_env *env, sup **out, sup_error *err);

/* Stop the agent if still running (sup_stop) and release everything. NULL ok. */
void sup_free(sup *s);

/* Set the event sink (NULL = none). */
void sup_set_event_cb(sup *s, sup_event_fn fn, void *ud);

/* Initialise (L1–L6, H1–H5, S1–S4): discover, spawn, wait for readiness, run
 * the health series. Always ends in ready (returns 1) or mock (returns 0);
 * the reason for mock is sup_reason() and the structured error sup_last_error().
 * Negative errno only for misuse (-EINVAL, -EALREADY when called twice). */
int sup_init(sup *s);

/* L7: SIGTERM, grace (shutdown_grace_ms) watched on the pidfd, SIGKILL,
 * reap, remove the socket file (and the private dir, S4), close every fd.
 * Issue 15: the signals go to the agent's whole process group (it leads
 * one); when the agent exits, what is left of its group gets SIGKILL before
 * the agent is reaped. The socket file is removed only if it is the inode
 * our agent served on or provably stale (connect → ECONNREFUSED); inside
 * the private dir only through the dir's fd, never through a swapped name.
 * Fills the child's exit code (-1 if killed by a signal) and signal (0 if
 * none), elapsed ms. Idempotent: returns 0; later calls report no child. */
int sup_stop(sup *s, int *exit_code, int *signal, double *elapsed_ms);

/* Run the event loop for up to timeout_ms (-1 = forever, else 0..24 h;
 * anything else → -ERANGE): child output, child exit, restarts. Returns 1 as
 * soon as extra_fd (if >= 0) polls readable, 0 when the time is up. */
int sup_run(sup *s, int64_t timeout_ms, int extra_fd);

/* Concurrent calls (C3): while a typed call waits for its answer, the loop
 * also polls `fd` and runs `cb(ud)` when it is readable. The callback may
 * start further typed calls: one the breaker rejects (C2, or C3 while the
 * half-open trial is out) returns at once; one that is sent nests inside the
 * waiting call, whose own completion is then taken when the nested one ends.
 * fd < 0 removes the hook. The host must not stop or re-initialise the
 * supervisor from the callback (neira-host queues such commands). */
void sup_set_call_hook(sup *s, int fd, void (*cb)(void *ud), void *ud);
/* Typed calls in progress (nesting depth), 0 outside calls. */
int sup_calls_in_flight(const sup *s);

/* Introspection (K1: the host can always ask the mode and why). */
bool sup_is_ready(const sup *s);
sup_state sup_get_state(const sup *s);
/* "missing_executable", "spawn_failed", "early_exit", "health_failed",
 * "agent_died", "config_error", "peer_check_failed", "socket_in_use" (a live
 * server already accepts on the socket path: never removed, issue 15); NULL
 * while not mock. */
const char *sup_reason(const sup *s);
/* The last structured error (O1), or NULL when none was recorded. */
const sup_error *sup_last_error(const sup *s);
double sup_init_ms(const sup *s);          /* -1 until init ended */
const char *sup_agent_version(const sup *s); /* "" until known */
pid_t sup_child_pid(const sup *s);          /* 0 when no child */
const char *sup_socket_path(const sup *s);  /* "" until known */
sup_breaker_state sup_get_breaker(const sup *s);
const sup_metrics *sup_get_metrics(const sup *s);
double sup_elapsed_ms(const sup *s);        /* since sup_new, injected clock */

/* ---- typed calls (M1–M2, C1–C4, K1, L8) -------------------------------- */

typedef enum {
	SUP_METHOD_HEALTH,
	SUP_METHOD_PROCESS_PROMPT,
	SUP_METHOD_CALL_CUSTOM_FUNCTION,
	SUP_METHOD_COUNT_,
} sup_method;

/* "health", "process_prompt", "call_custom_function". */
const char *sup_method_name(sup_method m);
/* Full gRPC path of a method in the casing currently resolved for it
 * (PascalCase until M1 learns otherwise). Static storage. */
const char *sup_method_path(const sup *s, sup_method m);

/* Outcome of a typed call. Strings are heap-owned by the reply. */
typedef struct sup_reply {
	bool ok;            /* a reply arrived (from the agent, or mock) */
	bool mock;          /* K1: answered by mock mode */
	int status;         /* gRPC code of the last attempt, -1 if none was sent */
	char status_name[32]; /* rpc_status_name, or "MOCK", "BREAKER_OPEN", "AGENT_DIED", "INVALID_ARGUMENT" */
	/* Strings are the agent's bytes exactly (issue 15): NUL-terminated for
	 * convenience, but they may hold NUL bytes or be invalid UTF-8 — the
	 * *_len fields are authoritative. */
	char *text;         /* process_prompt */
	char *result_json;  /* call_custom_function */
	bool healthy;       /* health */
	char *version;      /* health */
	char *message;      /* health */
	size_t text_len, result_json_len, version_len, message_len;
	double duration_ms;
	sup_error err;      /* set when !ok */
} sup_reply;

#define SUP_REPLY_INIT { .status = -1 }
void sup_reply_destroy(sup_reply *r);

/* Typed calls; deadline_ms <= 0 = call_deadline_ms from the config, at most
 * a day (more is rejected as a bad argument: -EINVAL, never counted, C4).
 * Return 0 when a reply arrived (mock replies included), or a negative errno
 * with r->err filled (-EINVAL bad arguments, rejected before sending; -EAGAIN
 * breaker open; -EPIPE agent died; -EIO other gRPC failure, including a
 * reply too large to receive, which counts for the breaker). */
int sup_call_health(sup *s, int64_t deadline_ms, sup_reply *r);
int sup_call_process_prompt(sup *s, const char *prompt, int64_t deadline_ms, sup_reply *r);
int sup_call_custom_function(sup *s, const char *name, const char *args_json, int64_t deadline_ms,
			     sup_reply *r);
