/* nv_events: every lifecycle event a supervisor emits (SPEC O3), with its
 * fields and their JSON types, in one list. The supervisor emits by ID
 * (a typo is a compile error), the harness validates scenario files and
 * every line a host prints against it, the report reads its lane table and
 * `neira-harness events` prints the documentation from it.
 *
 * NV_EVENTS(E, F):
 *   E(ID, "name", lane, "clause", "what it means")
 *   F(ID, "field", types, "what it holds")       — fields of the E before it
 * types: NV_T_* bits; NV_OPT = the field may be absent. Every event also
 * has "t_ms" (number, ms since the supervisor was created, monotonic) and
 * "event" (its name). Adding an event: one E line (+ its F lines) here and
 * its emit site. */
#pragma once

#define NV_T_STR 0x01u
#define NV_T_INT 0x02u
#define NV_T_NUM 0x06u /* integer or real */
#define NV_T_BOOL 0x08u
#define NV_T_OBJ 0x10u
#define NV_T_ARR 0x20u
#define NV_T_NULL 0x40u
#define NV_OPT 0x80u

/* Timeline lanes of the report (reports/rpt_timeline.c). */
#define NV_LANES(X) X(AGENT, "agent") X(OUTPUT, "output") X(SOCKET, "socket") X(HEALTH, "health") \
	X(STATE, "state") X(BREAKER, "breaker") X(CALLS, "calls") X(EVENTS, "events")

#define NV_EVENTS(E, F)                                                                                    \
	E(INIT_START, "init_start", EVENTS, "O3", "initialisation begins")                                \
	E(SOCKET_STALE_REMOVED, "socket_stale_removed", SOCKET, "L5",                                     \
	  "a stale socket file at the agent's path was removed before spawning")                          \
	F(SOCKET_STALE_REMOVED, "path", NV_T_STR, "the socket path")                                      \
	F(SOCKET_STALE_REMOVED, "path_b64", NV_T_STR | NV_OPT, "exact bytes (base64) when the path is not UTF-8")\
	E(SPAWN, "spawn", AGENT, "L3", "the agent process was started")                                   \
	F(SPAWN, "pid", NV_T_INT, "the agent's pid (the harness checks it is reaped after stop)")         \
	F(SPAWN, "path", NV_T_STR, "the executable")                                                      \
	F(SPAWN, "socket", NV_T_STR, "the socket path passed as NEIRA_SOCKET_PATH")                       \
	F(SPAWN, "path_b64", NV_T_STR | NV_OPT, "exact bytes (base64) when path is not UTF-8")                \
	F(SPAWN, "socket_b64", NV_T_STR | NV_OPT, "same for socket")                                          \
	E(SPAWN_FAILED, "spawn_failed", AGENT, "L2", "the agent could not be started")                    \
	F(SPAWN_FAILED, "path", NV_T_STR, "the executable")                                               \
	F(SPAWN_FAILED, "errno", NV_T_STR, "symbolic errno (ENOENT, EACCES, EAGAIN, …)")                  \
	F(SPAWN_FAILED, "message", NV_T_STR, "the O1 message")                                            \
	F(SPAWN_FAILED, "path_b64", NV_T_STR | NV_OPT, "exact bytes (base64) when path is not UTF-8")         \
	F(SPAWN_FAILED, "message_b64", NV_T_STR | NV_OPT, "same for message")                                 \
	E(OUTPUT, "output", OUTPUT, "L4", "one line the agent printed")                                   \
	F(OUTPUT, "stream", NV_T_STR, "stdout or stderr")                                                 \
	F(OUTPUT, "line", NV_T_STR, "the line without its ending")                                        \
	F(OUTPUT, "truncated", NV_T_BOOL, "the line was cut at the supervisor's line limit")              \
	F(OUTPUT, "line_b64", NV_T_STR | NV_OPT, "the exact bytes (base64) when the line is not UTF-8 (line has U+FFFD)")\
	E(OUTPUT_DROPPED, "output_dropped", OUTPUT, "L4",                                                     \
	  "lines beyond 200 output events per stream per second, counted (issue 15: floods)")                 \
	F(OUTPUT_DROPPED, "stream", NV_T_STR, "stdout or stderr")                                             \
	F(OUTPUT_DROPPED, "lines", NV_T_INT, "lines without an output event in this window")                  \
	F(OUTPUT_DROPPED, "bytes", NV_T_INT, "their bytes")                                                   \
	F(OUTPUT_DROPPED, "total_lines", NV_T_INT, "lines dropped on this stream so far")                     \
	E(MARKER, "marker", OUTPUT, "L4", "a stdout line equal to AGENT_READY")                           \
	E(SOCKET_USABLE, "socket_usable", SOCKET, "L5", "the agent's socket accepted a connection")       \
	E(READY_TIMEOUT, "ready_timeout", EVENTS, "L5",                                                   \
	  "marker and socket were not both seen within ready_timeout of the spawn")                       \
	F(READY_TIMEOUT, "timeout_ms", NV_T_INT, "the configured ready_timeout")                          \
	E(HEALTH_ATTEMPT, "health_attempt", HEALTH, "H1", "a HealthCheck attempt starts")                 \
	F(HEALTH_ATTEMPT, "attempt", NV_T_INT, "1-based attempt number")                                  \
	F(HEALTH_ATTEMPT, "of", NV_T_INT, "attempts in the series")                                       \
	E(HEALTH_RESULT, "health_result", HEALTH, "H2", "a HealthCheck attempt ended")                    \
	F(HEALTH_RESULT, "attempt", NV_T_INT, "1-based attempt number")                                   \
	F(HEALTH_RESULT, "ok", NV_T_BOOL, "the attempt succeeded (healthy == true)")                      \
	F(HEALTH_RESULT, "status", NV_T_STR, "gRPC status name, or CONNECT_FAILED")                       \
	F(HEALTH_RESULT, "healthy", NV_T_BOOL | NV_T_NULL, "the answer's healthy, null without answer")   \
	F(HEALTH_RESULT, "message", NV_T_STR, "the answer's message")                                     \
	F(HEALTH_RESULT, "version", NV_T_STR, "the answer's version")                                     \
	F(HEALTH_RESULT, "duration_ms", NV_T_NUM, "how long the attempt took")                            \
	F(HEALTH_RESULT, "message_b64", NV_T_STR | NV_OPT, "exact bytes (base64) when message is not UTF-8")  \
	F(HEALTH_RESULT, "version_b64", NV_T_STR | NV_OPT, "same for version")                                \
	E(HEALTH_WAIT, "health_wait", HEALTH, "H1", "the backoff wait after a failed attempt begins")     \
	F(HEALTH_WAIT, "after_attempt", NV_T_INT, "the failed attempt")                                   \
	F(HEALTH_WAIT, "planned_ms", NV_T_NUM, "500 ms · 2^(k−1) by default")                             \
	E(HEALTH_WAIT_END, "health_wait_end", HEALTH, "H1", "the backoff wait ended")                     \
	F(HEALTH_WAIT_END, "after_attempt", NV_T_INT, "the failed attempt")                               \
	F(HEALTH_WAIT_END, "planned_ms", NV_T_NUM, "the planned wait")                                    \
	F(HEALTH_WAIT_END, "actual_ms", NV_T_NUM, "the measured wait")                                    \
	F(HEALTH_WAIT_END, "reason", NV_T_STR, "elapsed, or marker (H1 b: the marker ends a wait)")       \
	E(CALL_CASE_RETRY, "call_case_retry", CALLS, "M1", "UNIMPLEMENTED: retried under the other casing") \
	F(CALL_CASE_RETRY, "method", NV_T_STR, "health, process_prompt or call_custom_function")          \
	F(CALL_CASE_RETRY, "from", NV_T_STR, "the method path that answered UNIMPLEMENTED")               \
	F(CALL_CASE_RETRY, "to", NV_T_STR, "the path tried next")                                         \
	E(READY, "ready", STATE, "H4", "initialisation ended ready")                                      \
	F(READY, "init_ms", NV_T_NUM, "init_start → ready")                                               \
	F(READY, "agent_version", NV_T_STR, "the HealthCheck answer's version")                           \
	F(READY, "agent_version_b64", NV_T_STR | NV_OPT, "exact bytes (base64) when the version is not UTF-8")\
	E(STATE, "state", STATE, "O3", "the supervisor's state changed")                                  \
	F(STATE, "from", NV_T_STR, "idle, starting, health_check, ready, mock, stopping, stopped")        \
	F(STATE, "to", NV_T_STR, "the new state")                                                         \
	E(BREAKER, "breaker", BREAKER, "C1", "the circuit breaker changed state")                         \
	F(BREAKER, "from", NV_T_STR, "closed, open or half_open")                                         \
	F(BREAKER, "to", NV_T_STR, "the new breaker state")                                               \
	F(BREAKER, "failures", NV_T_INT, "consecutive failures counted")                                  \
	E(FALLBACK, "fallback", STATE, "K2", "the supervisor entered mock mode")                          \
	F(FALLBACK, "reason", NV_T_STR, "the mock reason (see the reason vocabulary)")                    \
	F(FALLBACK, "message", NV_T_STR, "the O1 message")                                                \
	F(FALLBACK, "error", NV_T_OBJ | NV_OPT, "the O1 record")                                          \
	F(FALLBACK, "message_b64", NV_T_STR | NV_OPT, "exact bytes (base64) when message is not UTF-8")       \
	E(CHILD_EXIT, "child_exit", AGENT, "L6", "the agent exited and was reaped")                       \
	F(CHILD_EXIT, "pid", NV_T_INT, "its pid")                                                         \
	F(CHILD_EXIT, "code", NV_T_INT | NV_T_NULL, "exit code, null when killed by a signal")            \
	F(CHILD_EXIT, "signal", NV_T_INT | NV_T_NULL, "signal number, null on a normal exit")             \
	F(CHILD_EXIT, "last_lines", NV_T_ARR, "the last lines it printed")                                \
	E(RESTART, "restart", AGENT, "L8", "the restart policy starts the agent again")                   \
	F(RESTART, "attempt", NV_T_INT, "1-based restart number")                                         \
	F(RESTART, "delay_ms", NV_T_INT, "the backoff before this restart")                               \
	E(SHUTDOWN, "shutdown", AGENT, "L7", "one step of stopping")                                      \
	F(SHUTDOWN, "step", NV_T_STR, "sigterm, sigkill, reaped, socket_removed, privdir_replaced, done")                   \
	F(SHUTDOWN, "elapsed_ms", NV_T_NUM, "since the stop began")                                       \
	F(SHUTDOWN, "pid", NV_T_INT | NV_OPT, "the agent (sigterm, sigkill)")                             \
	F(SHUTDOWN, "code", NV_T_INT | NV_T_NULL | NV_OPT, "exit code (reaped)")                          \
	F(SHUTDOWN, "signal", NV_T_INT | NV_T_NULL | NV_OPT, "signal (reaped)")                           \
	F(SHUTDOWN, "path", NV_T_STR | NV_OPT, "the socket path (socket_removed)")                        \
	F(SHUTDOWN, "existed", NV_T_BOOL | NV_OPT, "a socket file was there to remove (socket_removed)")  \
	F(SHUTDOWN, "removed", NV_T_BOOL | NV_OPT, "the socket file was removed (socket_removed)")            \
	F(SHUTDOWN, "why", NV_T_STR | NV_OPT, "ours, stale, live, foreign, absent, not_socket (socket_removed)")\
	F(SHUTDOWN, "path_b64", NV_T_STR | NV_OPT, "exact bytes (base64) when path is not UTF-8")             \
	F(SHUTDOWN, "pgid", NV_T_INT | NV_OPT, "the process group signalled (sigterm, sigkill)")              \
	F(SHUTDOWN, "had_child", NV_T_BOOL | NV_OPT, "an agent was running (done)")                       \
	E(CALL_START, "call_start", CALLS, "M1", "a typed call is sent (or answered by the mock)")        \
	F(CALL_START, "method", NV_T_STR, "health, process_prompt or call_custom_function")               \
	F(CALL_START, "path", NV_T_STR, "the method path, or mock")                                       \
	F(CALL_START, "call", NV_T_INT | NV_OPT, "the drive call id (call_async)")                        \
	E(CALL_REJECTED, "call_rejected", CALLS, "C2", "a call failed fast: the breaker let it not through") \
	F(CALL_REJECTED, "method", NV_T_STR, "the method")                                                \
	F(CALL_REJECTED, "path", NV_T_STR, "the path it would have used")                                 \
	F(CALL_REJECTED, "reason", NV_T_STR, "breaker_open, or trial_in_flight (C3)")                     \
	F(CALL_REJECTED, "breaker", NV_T_STR, "the breaker state")                                        \
	F(CALL_REJECTED, "retry_in_ms", NV_T_INT, "until the breaker lets a trial through")               \
	E(CALL_END, "call_end", CALLS, "C1", "a typed call ended")                                        \
	F(CALL_END, "method", NV_T_STR, "the method")                                                     \
	F(CALL_END, "path", NV_T_STR, "the path used last")                                               \
	F(CALL_END, "status", NV_T_STR, "status name: a gRPC code, BREAKER_OPEN, AGENT_DIED, …")          \
	F(CALL_END, "ok", NV_T_BOOL, "the call succeeded")                                                \
	F(CALL_END, "mock", NV_T_BOOL, "answered by the mock (K1)")                                       \
	F(CALL_END, "duration_ms", NV_T_NUM, "call start → end")                                          \
	F(CALL_END, "error", NV_T_STR | NV_T_NULL | NV_OPT, "the O1 message when not ok, else null")                             \
	F(CALL_END, "call", NV_T_INT | NV_OPT, "the drive call id (call_async)")                          \
	E(FAULT, "fault", EVENTS, "O3", "a fault point was enabled or disabled (fault-injection builds)") \
	F(FAULT, "action", NV_T_STR, "enable or disable")                                                 \
	F(FAULT, "point", NV_T_STR, "the fault point")                                                    \
	F(FAULT, "after_event", NV_T_STR | NV_OPT, "the event that started it")
