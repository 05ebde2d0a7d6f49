/* rpc server: a grpc C-core server on a unix: path. Every call arrives through
 * the generic grpc_server_request_call() (no registered methods), so unknown
 * paths are answered UNIMPLEMENTED here instead of hanging until their
 * deadline (SPEC M1 depends on that answer). Each known call runs its handler
 * on a thread of its own; one completion-queue thread drives the rest. */
#include "rpc_internal.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

enum tag_kind { TAG_NEW, TAG_RECV, TAG_SEND, TAG_CLOSE, TAG_STREAM, TAG_SHUTDOWN };

typedef struct srv_call srv_call;

typedef struct {
	enum tag_kind kind;
	srv_call *call;
} tag_t;

struct rpc_ctx {
	srv_call *call;
};

struct srv_call {
	rpc_server *srv;
	grpc_call *call;
	grpc_call_details details;
	grpc_metadata_array request_md;
	grpc_byte_buffer *recv_bb;
	grpc_byte_buffer *send_bb;
	grpc_slice status_details;
	char *method; /* NUL-terminated copy of details.method */
	const rpc_method *m;
	int cancelled_flag; /* RECV_CLOSE_ON_SERVER output */
	bool cancelled;     /* guarded by srv->lock */
	bool send_done, close_done, worker;
	bool md_sent;                 /* initial metadata went out (streaming) */
	bool stream_done, stream_ok;  /* last rpc_ctx_send() batch; guarded by srv->lock */
	pthread_t thread;
	uint8_t *req;
	size_t req_len;
	rpc_ctx ctx;
	tag_t t_new, t_recv, t_send, t_close, t_stream;
	srv_call *next; /* live list */
};

struct rpc_server {
	grpc_server *server;
	grpc_completion_queue *cq;
	pthread_t thread;
	rpc_method *methods;
	size_t n_methods;
	char *path;
	dev_t dev;
	ino_t ino;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* wakes rpc_ctx_sleep_ms() */
	bool shutting_down;
	bool shutdown_seen;
	srv_call *live;
	tag_t t_shutdown;
};

/* ---- per-call bookkeeping ------------------------------------------- */

static srv_call *call_new(rpc_server *s)
{
	srv_call *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->srv = s;
	c->ctx.call = c;
	grpc_call_details_init(&c->details);
	grpc_metadata_array_init(&c->request_md);
	c->status_details = grpc_empty_slice();
	c->t_new = (tag_t){ TAG_NEW, c };
	c->t_recv = (tag_t){ TAG_RECV, c };
	c->t_send = (tag_t){ TAG_SEND, c };
	c->t_close = (tag_t){ TAG_CLOSE, c };
	c->t_stream = (tag_t){ TAG_STREAM, c };
	pthread_mutex_lock(&s->lock);
	c->next = s->live;
	s->live = c;
	pthread_mutex_unlock(&s->lock);
	return c;
}

static void call_free(srv_call *c)
{
	rpc_server *s = c->srv;
	pthread_mutex_lock(&s->lock);
	for (srv_call **p = &s->live; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	pthread_mutex_unlock(&s->lock);
	if (c->call)
		grpc_call_unref(c->call);
	grpc_call_details_destroy(&c->details);
	grpc_metadata_array_destroy(&c->request_md);
	if (c->recv_bb)
		grpc_byte_buffer_destroy(c->recv_bb);
	if (c->send_bb)
		grpc_byte_buffer_destroy(c->send_bb);
	grpc_slice_unref(c->status_details);
	free(c->method);
	free(c->req);
	free(c);
}

static int post_request(rpc_server *s)
{
	srv_call *c = call_new(s);
	if (!c)
		return -ENOMEM;
	grpc_call_error e = grpc_server_request_call(s->server, &c->call, &c->details, &c->request_md,
						     s->cq, s->cq, &c->t_new);
	if (e != GRPC_CALL_OK) {
		call_free(c);
		return -EIO;
	}
	return 0;
}

/* Send the reply (or only a status) and let TAG_SEND complete. */
static void send_reply(srv_call *c, int status, const char *details, uint8_t *data, size_t len)
{
	grpc_op ops[3];
	size_t n = 0;
	memset(ops, 0, sizeof(ops));
	if (!c->md_sent)
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
	if (status == RPC_OK && !(c->m && c->m->server_stream)) {
		c->send_bb = rpc__bb_from_bytes(data, len);
		ops[n].op = GRPC_OP_SEND_MESSAGE;
		ops[n++].data.send_message.send_message = c->send_bb;
	}
	free(data);
	grpc_slice_unref(c->status_details);
	c->status_details = grpc_slice_from_copied_string(details ? details : "");
	ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
	ops[n].data.send_status_from_server.status = (grpc_status_code)status;
	ops[n].data.send_status_from_server.status_details = &c->status_details;
	ops[n++].data.send_status_from_server.trailing_metadata_count = 0;
	if (grpc_call_start_batch(c->call, ops, n, &c->t_send, NULL) != GRPC_CALL_OK) {
		/* cannot happen for a well-formed batch; fail loudly in logs */
		fprintf(stderr, "rpc: start_batch(send) failed for %s\n", c->method ? c->method : "?");
		abort();
	}
}

static void *worker_main(void *arg)
{
	srv_call *c = arg;
	pthread_setname_np(pthread_self(), RPC_THREAD_PREFIX "call");
	rpc_response resp = { .status = RPC_UNKNOWN, .details = NULL, .data = NULL, .len = 0 };
	c->m->fn(c->m->ud, &c->ctx, c->req, c->req_len, &resp);
	if (resp.status != RPC_OK && resp.data) {
		free(resp.data);
		resp.data = NULL;
	}
	send_reply(c, resp.status, resp.details, resp.data, resp.len);
	return NULL;
}

static const rpc_method *lookup(rpc_server *s, const char *path)
{
	for (size_t i = 0; i < s->n_methods; i++)
		if (strcmp(s->methods[i].path, path) == 0)
			return &s->methods[i];
	return NULL;
}

static void on_new(rpc_server *s, srv_call *c, bool ok)
{
	if (!ok) { /* server shutting down: the pending request is void */
		c->call = NULL;
		call_free(c);
		return;
	}
	if (!s->shutting_down)
		(void)post_request(s); /* keep one request posted */
	size_t n = GRPC_SLICE_LENGTH(c->details.method);
	c->method = malloc(n + 1);
	if (c->method) {
		memcpy(c->method, GRPC_SLICE_START_PTR(c->details.method), n);
		c->method[n] = '\0';
	}
	c->m = c->method ? lookup(s, c->method) : NULL;

	grpc_op op;
	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
	op.data.recv_close_on_server.cancelled = &c->cancelled_flag;
	grpc_call_start_batch(c->call, &op, 1, &c->t_close, NULL);

	memset(&op, 0, sizeof(op));
	op.op = GRPC_OP_RECV_MESSAGE;
	op.data.recv_message.recv_message = &c->recv_bb;
	grpc_call_start_batch(c->call, &op, 1, &c->t_recv, NULL);
}

static void on_recv(srv_call *c, bool ok)
{
	if (!c->m) {
		char msg[512];
		snprintf(msg, sizeof(msg), "unknown method %s", c->method ? c->method : "?");
		send_reply(c, RPC_UNIMPLEMENTED, msg, NULL, 0);
		return;
	}
	if (!ok || !c->recv_bb) {
		send_reply(c, RPC_INTERNAL, "no request message received", NULL, 0);
		return;
	}
	if (rpc__bytes_from_bb(c->recv_bb, &c->req, &c->req_len) < 0) {
		send_reply(c, RPC_INTERNAL, "cannot read request", NULL, 0);
		return;
	}
	if (pthread_create(&c->thread, NULL, worker_main, c) != 0) {
		send_reply(c, RPC_UNAVAILABLE, "server cannot start a handler thread", NULL, 0);
		return;
	}
	c->worker = true;
}

static void maybe_finish(srv_call *c)
{
	if (!(c->send_done && c->close_done))
		return;
	if (c->worker)
		pthread_join(c->thread, NULL); /* it has returned from send_reply() */
	call_free(c);
}

static void *cq_main(void *arg)
{
	rpc_server *s = arg;
	pthread_setname_np(pthread_self(), RPC_THREAD_PREFIX "srv");
	for (;;) {
		grpc_event ev = grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL);
		if (ev.type == GRPC_QUEUE_SHUTDOWN)
			break;
		if (ev.type != GRPC_OP_COMPLETE)
			continue;
		tag_t *t = ev.tag;
		srv_call *c = t->call;
		switch (t->kind) {
		case TAG_NEW:
			on_new(s, c, ev.success);
			break;
		case TAG_RECV:
			on_recv(c, ev.success);
			break;
		case TAG_SEND:
			c->send_done = true;
			maybe_finish(c);
			break;
		case TAG_STREAM:
			pthread_mutex_lock(&s->lock);
			c->stream_done = true;
			c->stream_ok = ev.success != 0;
			pthread_cond_broadcast(&s->cond);
			pthread_mutex_unlock(&s->lock);
			break;
		case TAG_CLOSE:
			pthread_mutex_lock(&s->lock);
			c->cancelled = c->cancelled_flag != 0;
			pthread_cond_broadcast(&s->cond);
			pthread_mutex_unlock(&s->lock);
			c->close_done = true;
			maybe_finish(c);
			break;
		case TAG_SHUTDOWN:
			s->shutdown_seen = true;
			break;
		}
		pthread_mutex_lock(&s->lock);
		bool idle = s->shutdown_seen && s->live == NULL;
		pthread_mutex_unlock(&s->lock);
		if (idle)
			grpc_completion_queue_shutdown(s->cq);
	}
	return NULL;
}

/* ---- readiness probe (A1) ------------------------------------------- */

static int probe_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	memcpy(sun.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ? 0 : -errno;
	close(fd);
	return rc;
}

int rpc_server_new(const char *socket_path, const rpc_method *methods, size_t n_methods,
		   rpc_server **out, char *err, size_t errlen)
{
	if (!socket_path || !out || (n_methods && !methods)) {
		rpc__set_err(err, errlen, "rpc_server_new: invalid argument");
		return -EINVAL;
	}
	if (strlen(socket_path) > rpc_socket_path_max()) {
		rpc__set_err(err, errlen, "bind %s: path is %zu bytes, sun_path holds at most %zu (S3)",
			     socket_path, strlen(socket_path), rpc_socket_path_max());
		return -ENAMETOOLONG;
	}
	rpc_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* rpc_ctx_sleep_ms() deadlines */
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	int rc = -ENOMEM;
	s->t_shutdown = (tag_t){ TAG_SHUTDOWN, NULL };
	s->path = strdup(socket_path);
	s->methods = calloc(n_methods ? n_methods : 1, sizeof(*methods));
	if (!s->path || !s->methods)
		goto fail_nomem;
	if (n_methods)
		memcpy(s->methods, methods, n_methods * sizeof(*methods));
	s->n_methods = n_methods;

	s->cq = grpc_completion_queue_create_for_next(NULL);
	s->server = grpc_server_create(NULL, NULL);
	grpc_server_register_completion_queue(s->server, s->cq, NULL);

	/* grpc unlinks its unix: path when the server shuts down, whatever file
	 * is there by then (grpc_unlink_if_unix_domain_socket) — another
	 * process's live socket included (issue 15). So the server binds a
	 * private name beside the path and renames it onto the path once
	 * started: grpc's shutdown then unlinks the private name (long gone),
	 * and only rpc_server_free, which checks the inode, touches the path.
	 * A path too long for the private name is bound directly, as before. */
	char bind_path[128];
	int bl = snprintf(bind_path, sizeof(bind_path), "%s.%d~", socket_path, (int)getpid());
	bool renamed = bl > 0 && (size_t)bl <= rpc_socket_path_max();
	if (!renamed)
		snprintf(bind_path, sizeof(bind_path), "%s", socket_path);
	size_t tlen = strlen(bind_path) + sizeof("unix:");
	char *target = malloc(tlen);
	if (!target)
		goto fail_nomem;
	snprintf(target, tlen, "unix:%s", bind_path);
	grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
	int port = grpc_server_add_http2_port(s->server, target, creds);
	grpc_server_credentials_release(creds);
	free(target);
	if (port == 0) {
		if (renamed) /* a bind that got as far as the file, then failed (listen) */
			unlink(bind_path);
		/* grpc does not tell us why; find the likely cause ourselves */
		int e = probe_connect(socket_path) == -ENOENT ? ENOENT : EADDRNOTAVAIL;
		char dir[256];
		snprintf(dir, sizeof(dir), "%s", socket_path);
		char *slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = '\0';
			if (access(dir, W_OK) != 0)
				e = errno;
		}
		rpc__set_err(err, errlen, "bind unix:%s: grpc_server_add_http2_port failed (%s)",
			     socket_path, strerror(e));
		grpc_server_destroy(s->server);
		s->server = NULL;
		rc = -e;
		goto fail;
	}
	grpc_server_start(s->server);
	if (renamed && rename(bind_path, socket_path) < 0) {
		int e = errno;
		rpc__set_err(err, errlen, "rename %s -> %s: %s", bind_path, socket_path, strerror(e));
		unlink(bind_path);
		s->ino = 0;
		rpc_server_free(s);
		return -e;
	}

	struct stat st;
	if (stat(socket_path, &st) == 0) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	if (post_request(s) < 0 || pthread_create(&s->thread, NULL, cq_main, s) != 0) {
		rpc__set_err(err, errlen, "serve unix:%s: cannot start the server loop", socket_path);
		/* no thread: drive the shutdown ourselves */
		grpc_server_shutdown_and_notify(s->server, s->cq, &s->t_shutdown);
		grpc_server_cancel_all_calls(s->server);
		s->shutting_down = true;
		cq_main(s);
		grpc_server_destroy(s->server);
		s->server = NULL;
		grpc_completion_queue_destroy(s->cq);
		s->cq = NULL;
		unlink(socket_path);
		rc = -EAGAIN;
		goto fail_nocq;
	}
	rc = probe_connect(socket_path);
	if (rc < 0) {
		rpc__set_err(err, errlen, "connect unix:%s: %s (server started but the socket does not accept)",
			     socket_path, strerror(-rc));
		rpc_server_free(s);
		return rc;
	}
	*out = s;
	return 0;

fail_nomem:
	rpc__set_err(err, errlen, "rpc_server_new %s: out of memory", socket_path);
fail:
	if (s->cq) {
		grpc_completion_queue_shutdown(s->cq);
		while (grpc_completion_queue_next(s->cq, gpr_inf_future(GPR_CLOCK_MONOTONIC), NULL).type !=
		       GRPC_QUEUE_SHUTDOWN)
			;
		grpc_completion_queue_destroy(s->cq);
	}
fail_nocq:
	free(s->path);
	free(s->methods);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return rc;
}

void rpc_server_free(rpc_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->shutting_down = true;
	pthread_cond_broadcast(&s->cond); /* wake sleeping handlers */
	pthread_mutex_unlock(&s->lock);
	grpc_server_shutdown_and_notify(s->server, s->cq, &s->t_shutdown);
	grpc_server_cancel_all_calls(s->server);
	pthread_join(s->thread, NULL);
	grpc_server_destroy(s->server);
	grpc_completion_queue_destroy(s->cq);

	/* remove the socket file only if it is still the one we bound */
	struct stat st;
	if (s->ino && stat(s->path, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino)
		unlink(s->path);
	free(s->path);
	free(s->methods);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* ---- handler context ------------------------------------------------- */

bool rpc_ctx_sleep_ms(rpc_ctx *ctx, int64_t ms)
{
	rpc_server *s = ctx->call->srv;
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	if (ms >= 0) {
		until.tv_sec += ms / 1000;
		until.tv_nsec += (ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
	}
	bool full = false;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		if (s->shutting_down || ctx->call->cancelled)
			break;
		int rc = ms < 0 ? pthread_cond_wait(&s->cond, &s->lock)
				: pthread_cond_timedwait(&s->cond, &s->lock, &until);
		if (rc == ETIMEDOUT) {
			full = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return full;
}

bool rpc_ctx_cancelled(rpc_ctx *ctx)
{
	rpc_server *s = ctx->call->srv;
	pthread_mutex_lock(&s->lock);
	bool c = s->shutting_down || ctx->call->cancelled;
	pthread_mutex_unlock(&s->lock);
	return c;
}

int rpc_ctx_send(rpc_ctx *ctx, const void *data, size_t len)
{
	srv_call *c = ctx->call;
	rpc_server *s = c->srv;
	if (!c->m || !c->m->server_stream)
		return -EINVAL;
	grpc_op ops[2];
	size_t n = 0;
	memset(ops, 0, sizeof(ops));
	if (!c->md_sent) {
		ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
		c->md_sent = true;
	}
	grpc_byte_buffer *bb = rpc__bb_from_bytes(data, len);
	ops[n].op = GRPC_OP_SEND_MESSAGE;
	ops[n++].data.send_message.send_message = bb;
	pthread_mutex_lock(&s->lock);
	c->stream_done = false;
	pthread_mutex_unlock(&s->lock);
	if (grpc_call_start_batch(c->call, ops, n, &c->t_stream, NULL) != GRPC_CALL_OK) {
		grpc_byte_buffer_destroy(bb);
		return -EPIPE;
	}
	/* one message in flight at a time, as grpc requires */
	pthread_mutex_lock(&s->lock);
	while (!c->stream_done)
		pthread_cond_wait(&s->cond, &s->lock);
	bool ok = c->stream_ok;
	pthread_mutex_unlock(&s->lock);
	grpc_byte_buffer_destroy(bb);
	return ok ? 0 : -EPIPE;
}

const char *rpc_ctx_method(const rpc_ctx *ctx)
{
	return ctx->call->method ? ctx->call->method : "";
}
