/* nv_replies: every reply of the drive protocol (docs/adapter-contract.md
 * §2) with its fields and their JSON types, in one list — the harness
 * checks every reply line a host prints against it (invariant
 * replies_in_contract) and `neira-harness schema` generates the JSON Schema
 * from it and from nv_events.h. Every reply also has "reply" (its kind) and
 * may have "id" (the command's, echoed).
 *
 * NV_REPLIES(R, F): R(ID, "kind", "what it answers"); F(ID, "field", types, "meaning") */
#pragma once

#define NV_REPLIES(R, F)                                                                                   \
	R(HELLO, "hello", "hello: protocol version, supervisor, capabilities")                            \
	F(HELLO, "protocol", NV_T_INT, "1")                                                               \
	F(HELLO, "supervisor", NV_T_OBJ, "{name, version}")                                               \
	F(HELLO, "capabilities", NV_T_ARR, "capability names (nv_caps.h)")                                \
	R(INIT, "init", "init: after initialisation ended ready or mock")                                 \
	F(INIT, "mode", NV_T_STR, "ready or mock")                                                        \
	F(INIT, "reason", NV_T_STR | NV_T_NULL, "why mock, null when ready")                              \
	F(INIT, "error", NV_T_OBJ | NV_T_NULL, "the O1 record when mock")                                 \
	F(INIT, "init_ms", NV_T_NUM, "init_start → ready or mock")                                        \
	F(INIT, "agent_version", NV_T_STR | NV_T_NULL, "HealthCheck's version when ready")                \
	F(INIT, "pid", NV_T_INT | NV_T_NULL, "the agent's pid")                                           \
	F(INIT, "agent_version_b64", NV_T_STR | NV_OPT, "the exact bytes when agent_version is not UTF-8") \
	R(CALL, "call", "call, and the outcome of call_async")                                            \
	F(CALL, "ok", NV_T_BOOL, "the call succeeded")                                                    \
	F(CALL, "mock", NV_T_BOOL, "answered by the mock (K1)")                                           \
	F(CALL, "status", NV_T_STR, "a gRPC status name, MOCK, BREAKER_OPEN, AGENT_DIED, INVALID_ARGUMENT") \
	F(CALL, "error", NV_T_OBJ | NV_T_NULL, "the O1 record when not ok")                               \
	F(CALL, "duration_ms", NV_T_NUM, "how long the call took")                                        \
	F(CALL, "text", NV_T_STR | NV_OPT, "process_prompt's text")                                       \
	F(CALL, "result_json", NV_T_STR | NV_OPT, "call_custom_function's result")                        \
	F(CALL, "healthy", NV_T_BOOL | NV_OPT, "health's verdict")                                        \
	F(CALL, "version", NV_T_STR | NV_OPT, "health's version")                                         \
	F(CALL, "message", NV_T_STR | NV_OPT, "health's message")                                         \
	F(CALL, "text_b64", NV_T_STR | NV_OPT, "the exact bytes when text is not UTF-8")                  \
	F(CALL, "result_json_b64", NV_T_STR | NV_OPT, "the exact bytes when result_json is not UTF-8")    \
	F(CALL, "version_b64", NV_T_STR | NV_OPT, "the exact bytes when version is not UTF-8")            \
	F(CALL, "message_b64", NV_T_STR | NV_OPT, "the exact bytes when message is not UTF-8")            \
	R(CALL_ASYNC, "call_async", "call_async: accepted, the outcome follows as a call reply")          \
	F(CALL_ASYNC, "accepted", NV_T_BOOL, "true")                                                      \
	R(WAIT, "wait", "wait: the time has passed")                                                      \
	R(WAIT_EVENT, "wait_event", "wait_event")                                                         \
	F(WAIT_EVENT, "seen", NV_T_BOOL, "the event was emitted (and not consumed before)")               \
	R(SNAPSHOT, "snapshot", "snapshot: the supervisor's state now")                                  \
	F(SNAPSHOT, "mode", NV_T_STR, "ready or mock")                                                    \
	F(SNAPSHOT, "reason", NV_T_STR | NV_T_NULL, "why mock")                                           \
	F(SNAPSHOT, "state", NV_T_STR, "idle, starting, health_check, ready, mock, stopping, stopped")    \
	F(SNAPSHOT, "breaker", NV_T_STR, "closed, open, half_open")                                       \
	F(SNAPSHOT, "child_pid", NV_T_INT | NV_T_NULL, "the agent's pid while it runs")                   \
	F(SNAPSHOT, "fds", NV_T_INT, "the host's own count of its open fds")                              \
	F(SNAPSHOT, "metrics", NV_T_OBJ, "O2 metrics (adapter-contract §6)")                              \
	F(SNAPSHOT, "error", NV_T_OBJ | NV_T_NULL, "the last O1 record")                                  \
	F(SNAPSHOT, "faults", NV_T_OBJ | NV_OPT, "{point: {calls, fired}} (capability fault_points)")     \
	R(FAULT, "fault", "fault: a point enabled or disabled")                                           \
	F(FAULT, "ok", NV_T_BOOL, "true")                                                                 \
	F(FAULT, "point", NV_T_STR, "the point")                                                          \
	R(STOP, "stop", "stop: the agent is stopped and reaped (L7)")                                     \
	F(STOP, "exit_code", NV_T_INT | NV_T_NULL, "the agent's exit code")                               \
	F(STOP, "signal", NV_T_INT | NV_T_NULL, "the signal that ended it")                               \
	F(STOP, "elapsed_ms", NV_T_NUM, "how long stopping took")                                         \
	R(ERROR, "error", "a malformed or unknown command, or one that could not run")                    \
	F(ERROR, "error", NV_T_STR, "what was wrong")
