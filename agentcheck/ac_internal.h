/* agentcheck internals: the clock, the agent process, contract decoding,
 * the check registry and the reports. Not installed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "rpc.h"

#define return_if_fail(cond, rc)                                                                       \
	do {                                                                                           \
		if (!(cond))                                                                           \
			return (rc);                                                                   \
	} while (0)

/* ---- clock: the one reader of CLOCK_MONOTONIC, injectable for tests ---- */

typedef struct ac_clock {
	int64_t (*now_us)(void *ud);
	void *ud;
} ac_clock;

/* The real monotonic clock. */
extern const ac_clock ac_clock_monotonic;
static inline int64_t ac_now_us(const ac_clock *c)
{
	return c->now_us(c->ud);
}
/* ms left until deadline_us (0 when past; capped at INT32_MAX), for poll(). */
int ac_ms_left(const ac_clock *c, int64_t deadline_us);

/* ---- the agent process ------------------------------------------------- */

#define AC_MARKER "AGENT_READY"
#define AC_MAX_LINES 32
#define AC_LINE_MAX 256
#define AC_STDERR_TAIL 2048

/* How to start the agent. Strings are borrowed. */
typedef struct ac_spawn_opts {
	char *const *argv;            /* the agent command, argv[0] looked up in PATH */
	const char *socket_path;      /* NEIRA_SOCKET_PATH; NULL = unset (S1 default) */
	bool set_tmpdir;              /* TMPDIR := tmpdir (NULL = unset) instead of ours */
	const char *tmpdir;
	const char *private_tmp;      /* non-NULL: bind this dir over /tmp in a private mount namespace */
	const char *const *extra_env; /* "K=V" added last (NULL-terminated), may be NULL */
} ac_spawn_opts;

typedef struct ac_line {
	int64_t t_us; /* arrival, from spawn */
	char text[AC_LINE_MAX];
	bool truncated;
} ac_line;

typedef struct ac_agent {
	const ac_clock *clk;
	pid_t pid;      /* also the process group id; 0 = none */
	int pidfd;      /* -1 = none */
	bool pidfd_shared; /* pidfd is the SIGCHLD self-pipe (no pidfd_open: valgrind) */
	int out_fd;     /* child's stdout, -1 once at EOF */
	int err_fd;     /* child's stderr, -1 once at EOF */
	int64_t t_spawn_us;
	/* stdout, line by line (L4: a line equal to AGENT_READY is the marker) */
	ac_line lines[AC_MAX_LINES];
	size_t n_lines;       /* lines kept */
	size_t total_lines;   /* lines seen */
	char partial[AC_LINE_MAX];
	size_t partial_len;
	bool partial_trunc;
	int marker_count;
	int64_t t_marker_us;  /* from spawn; -1 = not seen */
	bool marker_exact;    /* the first marker line was exactly "AGENT_READY\n" */
	char marker_raw[48];  /* the first line that was the marker modulo \r (escaped) */
	/* stderr: the last bytes, for "with a message" */
	char err_tail[AC_STDERR_TAIL];
	size_t err_len;
	size_t err_total;
	/* exit */
	bool exited;
	int wstatus;
	int64_t t_exit_us;    /* from spawn */
} ac_agent;

#define AC_AGENT_INIT { .pid = 0, .pidfd = -1, .out_fd = -1, .err_fd = -1, .t_marker_us = -1 }

/* Fork and exec the agent in a process group of its own, with the
 * supervisor's environment (L3: ours + NEIRA_AGENT_MODE=production,
 * NEIRA_LOG_LEVEL=info, NEIRA_SOCKET_PATH), stdin /dev/null, stdout/stderr
 * on pipes, PR_SET_PDEATHSIG so that it never outlives the checker. An exec
 * failure is reported at once (exec-error pipe). Returns 0, or a negative
 * errno with "operation object: cause" in err. */
int ac_agent_spawn(ac_agent *a, const ac_spawn_opts *o, const ac_clock *clk, char *err, size_t errlen);
/* For an agent path under /tmp ("/tmp/x/…"), its top directory ("x") in
 * buf — bound back into a private /tmp so the agent stays reachable — or
 * NULL. */
const char *ac__agent_tmp_top(const char *agent, char *buf, size_t len);

/* Wait up to timeout_ms for output or exit, read what is there (lines,
 * marker, stderr tail), reap on exit. Returns 1 when something happened, 0 on
 * timeout, or a negative errno. */
int ac_agent_pump(ac_agent *a, int timeout_ms);

/* Send sig to the agent (the process only, not its group). */
int ac_agent_signal(ac_agent *a, int sig);

/* Wait until the agent has exited or deadline_us passes. Returns 1 exited,
 * 0 still running at the deadline, negative errno on error. */
int ac_agent_wait_exit(ac_agent *a, int64_t deadline_us);

/* Leftovers of an agent that has exited: processes still in its process
 * group, or reparented to us (we are a child subreaper) — pids written into
 * pids (up to max), count returned. They are SIGKILLed and reaped. */
int ac_agent_reap_leftovers(ac_agent *a, pid_t *pids, int max);

/* SIGKILL the agent and its group if still there, reap, close every fd.
 * Safe on an agent that was never spawned, and twice. */
void ac_agent_destroy(ac_agent *a);

/* The exit as text: "exit 0", "signal 15 (Terminated)", "running". */
void ac_agent_exit_text(const ac_agent *a, char *buf, size_t len);

/* connect() to a Unix socket path: 0, or a negative errno. */
int ac_probe_connect(const char *path);

/* SIGINT/SIGTERM: the first one lets the running check end (each has its
 * deadlines), skips the rest and removes the run's directory (the agents
 * die with us: PR_SET_PDEATHSIG); a second one kills at once. */
void ac_catch_interrupts(void);
bool ac_interrupted(void);

/* ---- the contract, decoded (A2) ---------------------------------------- */

/* One field the contract requires to be present (non-default) in a reply. */
typedef struct ac_wire_report {
	char unknown[256];   /* "7:varint, 9:len" — fields the contract does not know */
	char mismatched[256];/* "2: expected len, got varint" */
	char missing[256];   /* "version" — required-by-the-check fields at their default */
	bool parse_ok;
} ac_wire_report;

/* Decode `data` as message `desc` (a protobuf-c descriptor): walk the wire,
 * name unknown field numbers and wire-type mismatches, and list which of the
 * comma-separated `required` field names are absent. Returns the unpacked
 * message (free with protobuf_c_message_free_unpacked) or NULL if it does not
 * parse; `r` is filled either way. */
struct ProtobufCMessageDescriptor;
struct ProtobufCMessage;
struct ProtobufCMessage *ac_wire_decode(const struct ProtobufCMessageDescriptor *desc, const uint8_t *data,
					size_t len, const char *required, ac_wire_report *r);
/* "unknown: …; missing: …" or "" — for the measured text. */
void ac_wire_summary(const ac_wire_report *r, char *buf, size_t len);
bool ac_wire_clean(const ac_wire_report *r);

/* ---- checks ------------------------------------------------------------ */

typedef enum {
	AC_PASS,
	AC_FAIL,
	AC_ABSENT, /* optional feature not served: reported, not failed */
	AC_SKIP,   /* not run: deselected, or impossible here (reason given) */
	AC_INFO,   /* a measurement with no verdict (e.g. which casings are served) */
} ac_verdict;

const char *ac_verdict_name(ac_verdict v); /* "PASS", … */

typedef enum { AC_REQUIRED, AC_OPTIONAL, AC_INFORMATIVE } ac_need;

typedef struct ac_result {
	ac_verdict verdict;
	char measured[512]; /* what was measured, readably */
	char expected[256];
	json_t *data;       /* measurements, machine-readable (owned) */
	double duration_ms;
} ac_result;

typedef struct ac_config {
	char *const *agent_argv;
	const ac_clock *clk;
	double scale;           /* deadlines × scale (NEIRA_UNDER_VALGRIND: 20) */
	int ready_timeout_ms;   /* L5 default 15000 */
	int grace_ms;           /* L7 default 2000 */
	int call_timeout_ms;    /* per contract call */
	int cycles;             /* L7 start/stop cycles */
	int concurrency;        /* concurrent calls */
	const char *function;   /* CallCustomFunction probe: name */
	const char *function_args;
	const char *slow_function; /* deadline probe */
	const char *slow_args;
	const char *only;       /* comma list of check names/clauses; NULL = all */
	const char *skip;
	bool verbose;
	const char *fiu_dir;    /* libfiu preloads (default /usr/lib/fiu) */
} ac_config;

/* A check's registry entry (AC_CHECKS in ac_checks.c). */
typedef struct ac_check_def {
	const char *name;   /* "marker-after-listen" */
	const char *clause; /* "A1" */
	ac_need need;
	const char *what;   /* one line: what is checked */
} ac_check_def;

size_t ac_check_count(void);
const ac_check_def *ac_check_get(size_t i);

/* Run every selected check in registry order; results[i] for check i (size
 * ac_check_count()). Returns 0, or a negative errno when the run itself
 * could not proceed (a message in err). `on_result` (may be NULL) is called
 * as each check completes, for live output. */
int ac_run_checks(const ac_config *cfg, ac_result *results,
		  void (*on_result)(void *ud, size_t i, const ac_result *r), void *ud, char *err, size_t errlen);

/* Startup figures (benchmark): n starts, exec → marker and exec → first
 * successful HealthCheck, min/median/p95/max. Returns a JSON object or NULL
 * with err set. */
json_t *ac_bench_startup(const ac_config *cfg, int n, char *err, size_t errlen);

/* ---- reports ----------------------------------------------------------- */

/* The run as JSON (schema neira.agent-check/1, agentcheck/README.md). New reference. */
json_t *ac_report_json(const ac_config *cfg, const ac_result *results, double duration_ms, const char *started_at);
/* Overall: true iff no required check failed. */
bool ac_results_ok(const ac_result *results);
/* Write agent-check.json and, through reports/ (rpt_generate), conformance.json,
 * .md, .html and junit.xml into dir. Returns 0 or a negative errno with err. */
int ac_report_write(const char *dir, const ac_config *cfg, const ac_result *results, double duration_ms,
		    const char *started_at, char *err, size_t errlen);
