/* rpc client: one channel to a unix: target, unary calls completed by a
 * completion-queue thread that signals each call through an eventfd, so that
 * callers can wait on a call together with pipes, pidfds and timers. */
#include "rpc_internal.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct rpc_client {
	grpc_channel *channel;
	grpc_completion_queue *cq;
	pthread_t thread;
	bool wait_for_ready;
};

struct rpc_call {
	rpc_client *client;
	grpc_call *call;
	int efd;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	bool batch_ok;
	bool finished; /* outcome moved out by rpc_call_finish() */
	grpc_metadata_array initial_md;
	grpc_metadata_array trailing_md;
	grpc_byte_buffer *send_bb;
	grpc_byte_buffer *recv_bb;
	grpc_status_code status;
	grpc_slice details;
	const char *error_string;
};

static void *cq_thread(void *arg)
{
	rpc_client *c = arg;
	pthread_setname_np(pthread_self(), RPC_THREAD_PREFIX "cq");
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(c->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		rpc_call *call = ev.tag;
		pthread_mutex_lock(&call->lock);
		call->batch_ok = ev.success != 0;
		call->done = true;
		uint64_t one = 1;
		/* an eventfd write of 1 cannot fail short of counter overflow */
		(void)!write(call->efd, &one, sizeof(one));
		pthread_cond_broadcast(&call->cond);
		pthread_mutex_unlock(&call->lock);
	}
	return NULL;
}

int rpc_client_new(const char *socket_path, const rpc_client_opts *opts, rpc_client **out)
{
	rpc_client_opts defaults = RPC_CLIENT_OPTS_INIT;
	if (!socket_path || !out)
		return -EINVAL;
	if (!opts)
		opts = &defaults;
	if (strlen(socket_path) > rpc_socket_path_max())
		return -ENAMETOOLONG; /* S3 */
	if (socket_path[0] == '\0')
		return -EINVAL;

	rpc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->wait_for_ready = opts->wait_for_ready;

	/* Only INITIAL and MAX: in grpc 1.51 "min_reconnect_backoff" is really
	 * the connect-attempt timeout (handshake included), and a small value
	 * fails connections to a busy peer ("timed out before receiving SETTINGS
	 * frame"). It stays at grpc's 20 s; call deadlines bound it anyway. */
	int backoff = opts->reconnect_backoff_ms > 0 ? opts->reconnect_backoff_ms : 100;
	grpc_arg args[] = {
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_ENABLE_RETRIES, .value.integer = 0 },
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, .value.integer = backoff },
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, .value.integer = backoff },
		/* channels must not share a connection through the global
		 * subchannel pool: a fresh client must really connect anew */
		{ .type = GRPC_ARG_INTEGER, .key = GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, .value.integer = 1 },
		{ .type = GRPC_ARG_INTEGER, .key = NULL, .value.integer = 0 }, /* connect timeout, below */
	};
	grpc_channel_args cargs = { .num_args = sizeof(args) / sizeof(args[0]), .args = args };
	if (opts->connect_timeout_ms > 0) {
		/* the last slot: grpc's name for the connect-attempt timeout */
		args[cargs.num_args - 1].key = GRPC_ARG_MIN_RECONNECT_BACKOFF_MS;
		args[cargs.num_args - 1].value.integer = opts->connect_timeout_ms;
	} else {
		cargs.num_args--;
	}

	size_t tlen = strlen(socket_path) + sizeof("unix:");
	char *target = malloc(tlen);
	if (!target) {
		free(c);
		return -ENOMEM;
	}
	snprintf(target, tlen, "unix:%s", socket_path);
	grpc_channel_credentials *creds = grpc_insecure_credentials_create();
	c->channel = grpc_channel_create(target, creds, &cargs);
	grpc_channel_credentials_release(creds);
	free(target);

	c->cq = grpc_completion_queue_create_for_next(NULL);
	int rc = pthread_create(&c->thread, NULL, cq_thread, c);
	if (rc != 0) {
		grpc_channel_destroy(c->channel);
		grpc_completion_queue_shutdown(c->cq);
		grpc_completion_queue_destroy(c->cq);
		free(c);
		return -rc;
	}
	*out = c;
	return 0;
}

void rpc_client_free(rpc_client *c)
{
	if (!c)
		return;
	grpc_channel_destroy(c->channel);
	grpc_completion_queue_shutdown(c->cq);
	pthread_join(c->thread, NULL); /* it drains to GRPC_QUEUE_SHUTDOWN */
	grpc_completion_queue_destroy(c->cq);
	free(c);
}

int rpc_call_start(rpc_client *c, const char *method, const void *req, size_t req_len,
		   int64_t timeout_ms, rpc_call **out)
{
	if (!c || !method || method[0] != '/' || !out)
		return -EINVAL;
	rpc_call *call = calloc(1, sizeof(*call));
	if (!call)
		return -ENOMEM;
	call->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (call->efd < 0) {
		int e = errno;
		free(call);
		return -e;
	}
	pthread_mutex_init(&call->lock, NULL);
	pthread_cond_init(&call->cond, NULL);
	call->client = c;
	call->details = grpc_empty_slice();
	grpc_metadata_array_init(&call->initial_md);
	grpc_metadata_array_init(&call->trailing_md);

	grpc_slice mslice = grpc_slice_from_copied_string(method);
	call->call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, c->cq,
					      mslice, NULL, rpc__deadline(timeout_ms), NULL);
	grpc_slice_unref(mslice);
	call->send_bb = rpc__bb_from_bytes(req, req_len);

	grpc_op ops[6];
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].flags = c->wait_for_ready ? GRPC_INITIAL_METADATA_WAIT_FOR_READY : 0;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = call->send_bb;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &call->initial_md;
	ops[4].op = GRPC_OP_RECV_MESSAGE;
	ops[4].data.recv_message.recv_message = &call->recv_bb;
	ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
	ops[5].data.recv_status_on_client.trailing_metadata = &call->trailing_md;
	ops[5].data.recv_status_on_client.status = &call->status;
	ops[5].data.recv_status_on_client.status_details = &call->details;
	ops[5].data.recv_status_on_client.error_string = &call->error_string;

	grpc_call_error err = grpc_call_start_batch(call->call, ops, 6, call, NULL);
	if (err != GRPC_CALL_OK) {
		/* nothing was queued: no completion will come */
		call->done = true;
		call->batch_ok = false;
		rpc_call_free(call);
		return -EIO;
	}
	*out = call;
	return 0;
}

int rpc_call_fd(const rpc_call *call)
{
	return call ? call->efd : -1;
}

bool rpc_call_done(const rpc_call *call)
{
	rpc_call *m = (rpc_call *)call;
	pthread_mutex_lock(&m->lock);
	bool d = m->done;
	pthread_mutex_unlock(&m->lock);
	return d;
}

static char *dup_details(const rpc_call *call)
{
	size_t n = GRPC_SLICE_LENGTH(call->details);
	const char *src = (const char *)GRPC_SLICE_START_PTR(call->details);
	if (n == 0 && call->error_string && call->status != GRPC_STATUS_OK) {
		src = call->error_string;
		n = strlen(src);
	}
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, src, n);
		d[n] = '\0';
	}
	return d;
}

int rpc_call_finish(rpc_call *call, rpc_result *out)
{
	if (!call || !out)
		return -EINVAL;
	if (!rpc_call_done(call))
		return -EAGAIN;
	if (call->finished)
		return -EALREADY;
	call->finished = true;
	*out = (rpc_result)RPC_RESULT_INIT;
	if (!call->batch_ok) {
		/* the batch failed as a whole (shutdown of our own queue) */
		out->status = RPC_CANCELLED;
		out->details = strdup("call failed locally: batch not completed");
		return out->details ? 0 : -ENOMEM;
	}
	out->status = (int)call->status;
	out->details = dup_details(call);
	if (!out->details)
		return -ENOMEM;
	if (call->status == GRPC_STATUS_OK) {
		int rc = rpc__bytes_from_bb(call->recv_bb, &out->data, &out->len);
		if (rc < 0) {
			rpc_result_destroy(out);
			return rc;
		}
		if (!out->data) {
			/* OK without a message is a protocol violation for unary */
			out->status = RPC_INTERNAL;
			free(out->details);
			out->details = strdup("server answered OK without a reply message");
		}
	}
	return 0;
}

void rpc_call_cancel(rpc_call *call)
{
	if (call && call->call)
		grpc_call_cancel(call->call, NULL);
}

void rpc_call_free(rpc_call *call)
{
	if (!call)
		return;
	pthread_mutex_lock(&call->lock);
	if (!call->done && call->call) {
		grpc_call_cancel(call->call, NULL);
		while (!call->done)
			pthread_cond_wait(&call->cond, &call->lock);
	}
	pthread_mutex_unlock(&call->lock);
	if (call->call)
		grpc_call_unref(call->call);
	grpc_metadata_array_destroy(&call->initial_md);
	grpc_metadata_array_destroy(&call->trailing_md);
	if (call->send_bb)
		grpc_byte_buffer_destroy(call->send_bb);
	if (call->recv_bb)
		grpc_byte_buffer_destroy(call->recv_bb);
	grpc_slice_unref(call->details);
	if (call->error_string)
		gpr_free((void *)call->error_string);
	close(call->efd);
	pthread_cond_destroy(&call->cond);
	pthread_mutex_destroy(&call->lock);
	free(call);
}

int rpc_client_call(rpc_client *c, const char *method, const void *req, size_t req_len,
		    int64_t timeout_ms, rpc_result *out)
{
	rpc_call *call;
	int rc = rpc_call_start(c, method, req, req_len, timeout_ms, &call);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&call->lock);
	while (!call->done)
		pthread_cond_wait(&call->cond, &call->lock);
	pthread_mutex_unlock(&call->lock);
	rc = rpc_call_finish(call, out);
	rpc_call_free(call);
	return rc;
}

void rpc_result_destroy(rpc_result *r)
{
	if (!r)
		return;
	free(r->details);
	free(r->data);
	*r = (rpc_result)RPC_RESULT_INIT;
}

/* Server streaming, client side, for probes (agent-check's A4 Watch): its own
 * pluck queue, so that it needs nothing from the client's queue thread. */
int rpc_client_stream_first(rpc_client *c, const char *method, const void *req, size_t req_len,
			    int64_t timeout_ms, rpc_result *out)
{
	if (!c || !method || method[0] != '/' || !out)
		return -EINVAL;
	*out = (rpc_result)RPC_RESULT_INIT;
	grpc_completion_queue *cq = grpc_completion_queue_create_for_pluck(NULL);
	grpc_slice mslice = grpc_slice_from_copied_string(method);
	grpc_call *call = grpc_channel_create_call(c->channel, NULL, GRPC_PROPAGATE_DEFAULTS, cq, mslice, NULL,
						   rpc__deadline(timeout_ms), NULL);
	grpc_slice_unref(mslice);
	grpc_byte_buffer *send_bb = rpc__bb_from_bytes(req, req_len), *recv_bb = NULL;
	grpc_metadata_array initial_md, trailing_md;
	grpc_metadata_array_init(&initial_md);
	grpc_metadata_array_init(&trailing_md);
	grpc_status_code status = GRPC_STATUS_UNKNOWN;
	grpc_slice details = grpc_empty_slice();
	const char *error_string = NULL;
	int rc = 0;

	grpc_op ops[4];
	memset(ops, 0, sizeof(ops));
	ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
	ops[0].flags = c->wait_for_ready ? GRPC_INITIAL_METADATA_WAIT_FOR_READY : 0;
	ops[1].op = GRPC_OP_SEND_MESSAGE;
	ops[1].data.send_message.send_message = send_bb;
	ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
	ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
	ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial_md;
	grpc_op rop = { .op = GRPC_OP_RECV_MESSAGE };
	rop.data.recv_message.recv_message = &recv_bb;
	grpc_op sop = { .op = GRPC_OP_RECV_STATUS_ON_CLIENT };
	sop.data.recv_status_on_client.trailing_metadata = &trailing_md;
	sop.data.recv_status_on_client.status = &status;
	sop.data.recv_status_on_client.status_details = &details;
	sop.data.recv_status_on_client.error_string = &error_string;

	/* three batches with tags 1..3; the call's deadline bounds every pluck */
	void *tags[3] = { (void *)1, (void *)2, (void *)3 };
	bool started[3] = { false, false, false };
	started[0] = grpc_call_start_batch(call, ops, 4, tags[0], NULL) == GRPC_CALL_OK;
	started[1] = grpc_call_start_batch(call, &rop, 1, tags[1], NULL) == GRPC_CALL_OK;
	started[2] = grpc_call_start_batch(call, &sop, 1, tags[2], NULL) == GRPC_CALL_OK;
	if (!started[0] || !started[1] || !started[2]) {
		grpc_call_cancel(call, NULL);
		rc = -EIO;
	}
	bool got_message = false;
	for (int i = 0; i < 2; i++) {
		if (!started[i])
			continue;
		grpc_event ev = grpc_completion_queue_pluck(cq, tags[i], gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (i == 1 && ev.success && recv_bb) {
			got_message = true;
			grpc_call_cancel(call, NULL); /* the first message is all we want */
		}
	}
	if (started[2])
		grpc_completion_queue_pluck(cq, tags[2], gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);

	if (rc == 0 && got_message) {
		out->status = RPC_OK;
		out->details = strdup("");
		rc = out->details ? rpc__bytes_from_bb(recv_bb, &out->data, &out->len) : -ENOMEM;
	} else if (rc == 0) {
		out->status = (int)status;
		size_t n = GRPC_SLICE_LENGTH(details);
		const char *src = (const char *)GRPC_SLICE_START_PTR(details);
		if (n == 0 && error_string) {
			src = error_string;
			n = strlen(src);
		}
		out->details = strndup(src, n);
		if (!out->details)
			rc = -ENOMEM;
		else if (status == GRPC_STATUS_OK) {
			/* a stream that ended OK without any message */
			out->status = RPC_INTERNAL;
			free(out->details);
			out->details = strdup("stream ended OK without a message");
		}
	}
	if (rc < 0)
		rpc_result_destroy(out);
	grpc_call_unref(call);
	grpc_metadata_array_destroy(&initial_md);
	grpc_metadata_array_destroy(&trailing_md);
	grpc_byte_buffer_destroy(send_bb);
	if (recv_bb)
		grpc_byte_buffer_destroy(recv_bb);
	grpc_slice_unref(details);
	if (error_string)
		gpr_free((void *)error_string);
	grpc_completion_queue_shutdown(cq);
	grpc_completion_queue_destroy(cq);
	return rc;
}
