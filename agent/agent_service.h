/* agent_service: the reference agent's side of the contract (SPEC A1–A4) as a
 * library, so that the fake agents serve the very same methods and only
 * script the misbehaviour around them. Prefix ag_. */
#pragma once

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rpc.h"

#define AG_SERVICE "/neira.agent.v1.PythonAgent/"
#define AG_PATH_HEALTH AG_SERVICE "HealthCheck"
#define AG_PATH_PROMPT AG_SERVICE "ProcessPrompt"
#define AG_PATH_CALL AG_SERVICE "CallCustomFunction"
#define AG_PATH_STD_HEALTH "/grpc.health.v1.Health/Check"
#define AG_PATH_STD_WATCH "/grpc.health.v1.Health/Watch"

typedef enum { AG_LOG_DEBUG, AG_LOG_INFO, AG_LOG_WARN, AG_LOG_ERROR, AG_LOG_OFF } ag_log_level;

/* A3: NEIRA_LOG_LEVEL (debug|info|warn|warning|error|off, case-insensitive).
 * NULL or empty → info; an unknown word → info and *unknown set true. */
ag_log_level ag_log_level_parse(const char *s, bool *unknown);
void ag_log_set_level(ag_log_level lvl);
void ag_log_set_name(const char *name);
/* Log to stderr as "<name>[pid] LEVEL message" when lvl >= the set level. */
void ag_log(ag_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* S1: $NEIRA_SOCKET_PATH, else <TMPDIR without trailing '/' | /tmp>/neira_agent.sock.
 * Returns 0, or -ENAMETOOLONG if it does not fit in out. */
int ag_socket_path(char *out, size_t outlen);

typedef struct ag_service {
	const char *version;  /* HealthCheckResponse.version */
	const char *mode;     /* NEIRA_AGENT_MODE as understood */
	int64_t started_ms;   /* CLOCK_MONOTONIC at start, for uptime */
	/* Health override for fake agents: when set, HealthCheck consults it
	 * (returns the healthy flag to answer). NULL = always healthy. */
	bool (*healthy_fn)(void *ud);
	void *healthy_ud;
} ag_service;

/* Fill s with the defaults for this process (version, NEIRA_AGENT_MODE,
 * start time). */
void ag_service_init(ag_service *s);

/* The method table of the reference agent: the three PascalCase methods
 * (A2) and grpc.health.v1.Health/Check and /Watch (A4). Writes at most max entries into
 * out and returns how many; ud of each entry is s (s must outlive the server). */
size_t ag_service_methods(ag_service *s, rpc_method *out, size_t max);

/* The handlers themselves, for fake agents that wrap or rename them. */
void ag_handle_health(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp);
void ag_handle_prompt(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp);
void ag_handle_call(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp);
void ag_handle_std_health(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp);
void ag_handle_std_watch(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp);

/* Names of the custom functions, NULL-terminated, static storage. */
const char *const *ag_function_names(void);

/* The signals that stop an agent: SIGTERM, SIGINT, SIGHUP, SIGQUIT. */
void ag_stop_signals(sigset_t *set);

/* Block SIGTERM/SIGINT/SIGHUP/SIGQUIT in the calling thread (call before any
 * thread exists, so that all inherit it) and return a signalfd for them;
 * SIGPIPE is ignored. Negative errno on failure. */
int ag_signals_block(void);

/* Print AGENT_READY on stdout and flush it (A1). Returns 0 or -errno. */
int ag_print_ready(void);
