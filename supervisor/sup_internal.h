/* sup internals shared by sup_core.c and sup_calls.c; not installed. */
#pragma once

#include "nv.h"
#include "rpc.h"
#include "sup.h"
#include "sup_health.h"
#include "sup_linebuf.h"
#include "sup_path.h"

#define SUP_LAST_LINES 10
#define SUP_CONNECT_TICK_US 5000 /* L5: socket readiness probe period */
#define SUP_REAP_TICK_US 10000   /* only without a pidfd */
#define SUP_PKG "/neira.agent.v1.PythonAgent/"
#define SUP_SOCK_NAME "neira_agent.sock" /* in the private dir (S4) */
/* Issue 15 (output floods): at most this many bytes are read from each
 * child pipe per loop pass, so a flood can never keep the loop from its
 * deadlines (calls, H3, the L7 grace); the rest waits for the next pass. */
#define SUP_OUTPUT_PASS_BYTES (64 * 1024)
/* ... and at most this many `output` events per stream per window; the
 * lines beyond are counted and summarised in one `output_dropped` event at
 * the end of the window (and when the stream ends or the agent stops). */
#define SUP_OUTPUT_EVENTS_PER_WINDOW 200
#define SUP_OUTPUT_WINDOW_US 1000000
/* The longest wait or deadline the API accepts (a day, as sup_config's
 * ms fields): anything beyond is a caller's mistake, and near INT64_MAX the
 * µs arithmetic would overflow (issue 15, defect 6). */
#define SUP_MAX_MS (24LL * 60 * 60 * 1000)
/* gRPC's RESOURCE_EXHAUSTED (grpc/status.h): what the client reports for
 * a reply larger than its receive limit (4 MiB). */
#define SUP_RPC_RESOURCE_EXHAUSTED 8

struct sup {
	sup_config cfg;
	sup_env env;
	sup_event_fn ev_fn;
	void *ev_ud;
	int64_t t0_us;
	sup_state state;
	bool init_called, in_init, stopped;
	const char *reason;
	sup_error err;
	char agent_path[4096];
	char sock[SUP_SOCKET_PATH_MAX + 1];
	char privdir[4096];
	int privdir_fd;              /* S4: the private dir, opened O_NOFOLLOW, or -1 */
	dev_t privdir_dev;
	ino_t privdir_ino;
	bool sock_known;             /* the socket our agent serves on, seen usable */
	dev_t sock_dev;
	ino_t sock_ino;
	char **envp;
	/* the child */
	sup_child ch;
	bool child_alive;
	int exit_code, exit_signal; /* of the last child; -1/0 when unknown */
	bool have_exit;
	sup_linebuf lb[2];
	char *last_lines[SUP_LAST_LINES];
	unsigned n_last;
	struct {
		int64_t win_start_us;
		unsigned win_events;
		uint64_t win_dropped_lines, win_dropped_bytes;
		uint64_t dropped_lines; /* all windows */
	} out[2];
	/* readiness and the health series */
	sup_health h;
	int64_t init_start_us;
	double init_ms;
	int64_t next_connect_us;
	rpc_client *hc_client;
	rpc_call *hc_call;
	const char *hc_path;
	bool hc_case_retried;
	int64_t hc_start_us, hc_deadline_us;
	/* calls */
	rpc_client *client;
	int casing[SUP_METHOD_COUNT_]; /* 0 PascalCase, 1 camelCase */
	bool casing_known[SUP_METHOD_COUNT_];
	sup_breaker br;
	sup_metrics m;
	char agent_version[128];      /* NUL-terminated copy (cut at 127 bytes) */
	size_t agent_version_len;     /* its length: it may hold NUL bytes */
	/* L8 */
	bool died_in_call;
	bool grpc_ref; /* holds a grpc_init reference (dropped at stop) */
	/* sup_set_call_hook: polled while a typed call waits (C3) */
	int call_hook_fd;
	void (*call_hook)(void *ud);
	void *call_hook_ud;
	int calls_in_flight;
	int64_t died_us;
	int restarts;
	bool restart_pending;
	int64_t restart_due_us;
};

int64_t sup__now(const sup *s);
void sup__emit(sup *s, nv_event_id id, json_t *fields);
void sup__set_state(sup *s, sup_state to);
/* One turn of the event loop: wait until deadline_us (-1 = none) or until
 * something happens; handles child output and exit and drives the health
 * series. *extra_ready / *call_ready (may be NULL) report those fds. */
int sup__loop_once(sup *s, int64_t deadline_us, int extra_fd, bool *extra_ready, rpc_call *call,
		   bool *call_ready);
void sup__breaker_event(sup *s, sup_breaker_state from);
const char *sup__path_for(sup_method m, int casing);
/* rpc_client_new / rpc_call_start behind their fault points
 * (supervisor/rpc/channel, supervisor/rpc/call_start). */
int sup__client_new(const char *sock, const rpc_client_opts *o, rpc_client **out);
int sup__call_start(rpc_client *c, const char *path, const uint8_t *req, size_t len, int64_t deadline_ms,
		    rpc_call **out);
