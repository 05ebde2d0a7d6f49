/* rpc: unary gRPC over Unix sockets on the grpc C core, shared by the
 * supervisor, the agents and the harness. Bytes in, bytes out: protobuf
 * encoding is the caller's business, so this module knows no schema. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gRPC status codes (the values are gRPC's own, see grpc/status.h). */
enum {
	RPC_OK = 0,
	RPC_CANCELLED = 1,
	RPC_UNKNOWN = 2,
	RPC_INVALID_ARGUMENT = 3,
	RPC_DEADLINE_EXCEEDED = 4,
	RPC_NOT_FOUND = 5,
	RPC_FAILED_PRECONDITION = 9,
	RPC_UNIMPLEMENTED = 12,
	RPC_INTERNAL = 13,
	RPC_UNAVAILABLE = 14,
};

/* Name of a gRPC status code ("UNIMPLEMENTED"); "STATUS_<n>" style names are
 * never returned: unknown codes give "UNKNOWN_STATUS". Static storage. */
const char *rpc_status_name(int code);

/* Reference-counted grpc_init()/grpc_shutdown_blocking(). Every other function
 * of this module must be called between a pair of these. */
void rpc_global_init(void);
void rpc_global_shutdown(void);

/* Longest socket path a sockaddr_un can hold, without the NUL (107 on Linux).
 * SPEC S3: longer paths are a configuration error, reported before use. */
size_t rpc_socket_path_max(void);

/* How many descriptors this process has open: those of /proc/self/fd below
 * RLIMIT_NOFILE. Valgrind keeps its own above the limit it gives the
 * program (its gdbserver FIFO and pipes, opened as it pleases); counted,
 * they looked like 3 leaked fds (15 for 12) in the valgrind lane. The
 * evidence for L7's "every descriptor closed" in hosts, checkers and tests.
 * A negative errno if /proc cannot be read. */
int rpc_count_fds(void);

/* The threads this module starts are named RPC_THREAD_PREFIX + a role
 * ("cq", "srv", "call"); rpc_count_threads counts the live ones (a
 * negative errno if /proc cannot be read). grpc's own threads are not
 * counted: its event engine keeps a pool that grows and shrinks on its own
 * schedule, and outlives grpc_shutdown_blocking (valgrind.supp) — counted,
 * it made the valgrind lane's soak report "threads 1 -> 6" with every
 * thread of ours joined. */
#define RPC_THREAD_PREFIX "neira-rpc-"
int rpc_count_threads(void);

/* ---- client ----------------------------------------------------------- */

typedef struct rpc_client rpc_client;
typedef struct rpc_call rpc_call;

typedef struct rpc_client_opts {
	/* gRPC's own reconnect backoff (initial = max), in ms. gRPC's
	 * default of 1 s with jitter would distort the supervisor's exact H1
	 * schedule, so we keep it short. 0 = default (100 ms). */
	int reconnect_backoff_ms;
	/* Queue calls while the channel connects instead of failing fast. */
	bool wait_for_ready;
	/* How long one connection attempt (connect + HTTP/2 handshake) may take
	 * before grpc abandons it and closes its socket; 0 = grpc's 20 s. A peer
	 * that accepts and never speaks HTTP/2 otherwise keeps an fd open for
	 * 20 s after the channel is gone (seen with the impostor scenario). */
	int connect_timeout_ms;
} rpc_client_opts;

#define RPC_CLIENT_OPTS_INIT { .reconnect_backoff_ms = 0, .wait_for_ready = false, .connect_timeout_ms = 0 }

/* Outcome of a completed call. status is a gRPC code; details is a
 * NUL-terminated copy of the status message (never NULL after a call);
 * data/len is the reply message (NULL/0 unless status is OK). All owned by
 * the result: release with rpc_result_destroy(). */
typedef struct rpc_result {
	int status;
	char *details;
	uint8_t *data;
	size_t len;
} rpc_result;

#define RPC_RESULT_INIT { .status = -1, .details = NULL, .data = NULL, .len = 0 }
void rpc_result_destroy(rpc_result *r);

/* Create a channel to unix:<socket_path>. Connecting is lazy: this does not
 * touch the socket. Returns 0 and sets *out, or a negative errno
 * (-ENAMETOOLONG for S3, -ENOMEM). The client owns a completion-queue
 * thread; free it with rpc_client_free() after every call is freed. */
int rpc_client_new(const char *socket_path, const rpc_client_opts *opts, rpc_client **out);
void rpc_client_free(rpc_client *c);

/* Synchronous unary call of `method` (full path, "/pkg.Service/Method") with
 * a deadline of timeout_ms from now. Returns 0 when the call completed — with
 * any gRPC status, which is in out->status — or a negative errno when it could
 * not be started. */
int rpc_client_call(rpc_client *c, const char *method, const void *req, size_t req_len,
		    int64_t timeout_ms, rpc_result *out);

/* Asynchronous form, for event loops. rpc_call_start() sends the request and
 * returns at once; rpc_call_fd() is an fd that polls readable when the call has
 * completed; rpc_call_finish() then moves the outcome into *out (returns
 * -EAGAIN if not complete yet). rpc_call_cancel() is thread-safe and makes the
 * call complete promptly with CANCELLED (or the status it already had).
 * rpc_call_free() cancels a call still in flight, waits for its completion and
 * releases it. */
int rpc_call_start(rpc_client *c, const char *method, const void *req, size_t req_len,
		   int64_t timeout_ms, rpc_call **out);
int rpc_call_fd(const rpc_call *call);
bool rpc_call_done(const rpc_call *call);
int rpc_call_finish(rpc_call *call, rpc_result *out);
void rpc_call_cancel(rpc_call *call);
void rpc_call_free(rpc_call *call);

/* Server-streaming probe: call `method` with one request and wait (up to
 * timeout_ms) for the stream's first message, then cancel the stream. out gets
 * status RPC_OK and that message when one arrived, else the stream's final
 * status and details. Returns 0 when the call completed either way, or a
 * negative errno when it could not be started. Blocks the calling thread. */
int rpc_client_stream_first(rpc_client *c, const char *method, const void *req, size_t req_len,
			    int64_t timeout_ms, rpc_result *out);

/* ---- server ----------------------------------------------------------- */

typedef struct rpc_server rpc_server;
typedef struct rpc_ctx rpc_ctx;

/* What a handler answers. status is a gRPC code; details is copied by the
 * server (may be NULL); data (malloc'd, may be NULL) becomes the server's and
 * is sent only when status is RPC_OK. */
typedef struct rpc_response {
	int status;
	const char *details;
	uint8_t *data;
	size_t len;
} rpc_response;

/* A handler runs on a thread of its own, so a slow or hanging one holds up
 * no other call. It must not block indefinitely except through
 * rpc_ctx_sleep_ms(), which shutdown and cancellation interrupt. */
typedef void (*rpc_handler_fn)(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t req_len,
			       rpc_response *resp);

typedef struct rpc_method {
	const char *path; /* "/neira.agent.v1.PythonAgent/HealthCheck"; compared exactly */
	rpc_handler_fn fn;
	void *ud;
	/* Server streaming: the handler sends each message with rpc_ctx_send();
	 * its rpc_response only gives the final status (data is ignored). */
	bool server_stream;
} rpc_method;

/* Bind unix:<socket_path>, serve `methods` (the table is copied; strings must
 * outlive the server), and answer UNIMPLEMENTED for every other path (SPEC M1
 * relies on it). Returns only once a connect() to the socket succeeds (A1),
 * 0 and *out set, or a negative errno with a message naming the operation,
 * path and cause in err (if errlen > 0). */
int rpc_server_new(const char *socket_path, const rpc_method *methods, size_t n_methods,
		   rpc_server **out, char *err, size_t errlen);

/* Stop accepting, cancel calls in flight, wake handlers sleeping in
 * rpc_ctx_sleep_ms(), join every thread, release everything, and remove the
 * socket file if it is still the one this server bound (never an impostor's
 * file put there since). NULL is a no-op. */
void rpc_server_free(rpc_server *s);

/* Sleep up to ms; returns true if the full time passed, false if the call was
 * cancelled by its client or the server is shutting down. ms < 0 = forever. */
bool rpc_ctx_sleep_ms(rpc_ctx *ctx, int64_t ms);
bool rpc_ctx_cancelled(rpc_ctx *ctx);
/* Send one message of a server-streaming call and wait until grpc has taken
 * it. Returns 0, -EPIPE when the call is gone (cancelled, client away), or
 * -EINVAL on a unary method. */
int rpc_ctx_send(rpc_ctx *ctx, const void *data, size_t len);
const char *rpc_ctx_method(const rpc_ctx *ctx);
