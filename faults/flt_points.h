/* flt_points: every in-code fault point of the project, in one list, so
 * that a sweep can enumerate them (STYLE "Fault points"). Names follow
 * libfiu's own scheme, module/area/call. Each point fails exactly like the
 * real call it guards would: -1 with errno set, or the function's negative
 * errno. The errno comes from the plan (fiu failinfo); when the plan gives
 * none, the default below is used.
 *
 * FLT_POINTS(X) calls X(ID, "name", default_errno, "description"). */
#pragma once

#include <errno.h>
#include <stdint.h>

#define FLT_POINTS(X)                                                                                  \
	X(SUP_SPAWN_PIPE, "supervisor/spawn/pipe", EMFILE,                                             \
	  "pipe2() for the child's stdout/stderr/exec-error pipes")                                    \
	X(SUP_SPAWN_OPEN, "supervisor/spawn/open", EMFILE, "open(\"/dev/null\") for the child's stdin") \
	X(SUP_SPAWN_FORK, "supervisor/spawn/fork", EAGAIN, "fork() of the agent")                      \
	X(SUP_SPAWN_EXEC, "supervisor/spawn/exec", ENOMEM,                                             \
	  "execve() of the agent (the child reports the errno through the exec-error pipe)")           \
	X(SUP_CHILD_PIDFD, "supervisor/child/pidfd", ENOSYS,                                           \
	  "pidfd_open() of the child (failure = fall back to a reap tick)")                            \
	X(SUP_ALLOC_ENVP, "supervisor/alloc/envp", ENOMEM, "allocation of the child's environment (L3)") \
	X(SUP_READY_SOCKET, "supervisor/ready/socket", EMFILE, "socket() of the L5 readiness probe")   \
	X(SUP_READY_CONNECT, "supervisor/ready/connect", ECONNREFUSED,                                 \
	  "connect() of the L5 readiness probe (also the probe before each health attempt)")           \
	X(SUP_OUTPUT_READ, "supervisor/output/read", EINTR, "read() of the child's stdout/stderr pipes") \
	X(SUP_OUTPUT_SHORT_READ, "supervisor/output/short_read", 0,                                    \
	  "read() of the child's pipes returns at most 1 byte (a short count, not an error)")          \
	X(SUP_LOOP_POLL, "supervisor/loop/poll", ENOMEM,                                               \
	  "poll() of the event loop (the supervisor has no timer object: every deadline is a poll "    \
	  "timeout)")                                                                                  \
	X(SUP_RPC_CHANNEL, "supervisor/rpc/channel", ENOMEM,                                           \
	  "creation of a gRPC channel (rpc_client_new: health attempts and the call client)")          \
	X(SUP_RPC_CALL_START, "supervisor/rpc/call_start", ENOMEM,                                     \
	  "start of a gRPC call (rpc_call_start: health checks and typed calls)")                      \
	X(SUP_ALLOC_REQUEST, "supervisor/alloc/request", ENOMEM, "allocation of a typed call's request buffer")

typedef enum {
#define FLT__ENUM(id, name, err, desc) FLT_##id,
	FLT_POINTS(FLT__ENUM)
#undef FLT__ENUM
	FLT_POINT_COUNT_
} flt_point;

/* Name of a point ("supervisor/spawn/fork"), or "?" for an unknown id. */
static inline const char *flt_point_name(flt_point p)
{
	switch (p) {
#define FLT__NAME(id, name, err, desc)                                                                 \
	case FLT_##id:                                                                                 \
		return name;
		FLT_POINTS(FLT__NAME)
#undef FLT__NAME
	default:
		return "?";
	}
}

/* Default errno of a point (0: the point changes a count, not an error). */
static inline int flt_point_errno(flt_point p)
{
	switch (p) {
#define FLT__ERR(id, name, err, desc)                                                                  \
	case FLT_##id:                                                                                 \
		return err;
		FLT_POINTS(FLT__ERR)
#undef FLT__ERR
	default:
		return EIO;
	}
}

/* For use at a point, right after it fired: the errno the plan chose
 * (failinfo), else the point's default. Only meaningful with FIU_ENABLE. */
#define FLT_ERRNO(id)                                                                                  \
	(fiu_failinfo() ? (int)(intptr_t)fiu_failinfo() : flt_point_errno(FLT_##id))
#define FLT_NAME(id) flt_point_name(FLT_##id)
