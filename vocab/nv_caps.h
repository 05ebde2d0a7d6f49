/* nv_caps: what a drive host can do beyond the core protocol
 * (docs/adapter-contract.md §5). A host lists its capabilities in its
 * `hello` reply; a scenario names what it `requires:`; a scenario whose
 * requirement the host lacks is not applicable to it (never a pass).
 *
 * NV_CAPS(X): X(ID, "name", "what it means") */
#pragma once

#define NV_CAPS(X)                                                                                          \
	X(CALL_ASYNC, "call_async", "the call_async command: concurrent calls (C3)")                        \
	X(FAULT_POINTS, "fault_points",                                                                     \
	  "in-code fault points (faults/flt_points.h), NEIRA_FAULTS, the fault command, fault counts")      \
	X(RESTART_POLICY, "restart_policy", "restart, restart_base_delay_ms, restart_max (L8, beyond)")     \
	X(PEER_CHECK, "peer_check", "check_peer: SO_PEERCRED of the socket's server (S4)")                  \
	X(PRIVATE_SOCKET_DIR, "private_socket_dir", "socket_private_dir: a 0700 directory per instance (S4)") \
	X(AGENTS_DIR, "agents_dir", "L1 discovery of <agents_dir>/<os>-<arch>/neira-agent")                 \
	X(LINE_LIMIT_4096, "line_limit_4096",                                                               \
	  "output lines cut at 4096 bytes with truncated: true (neira-host's choice, not a SPEC rule)")
