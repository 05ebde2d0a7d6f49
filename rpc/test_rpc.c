/* Unit tests of the rpc module: a real grpc C-core server and client in one
 * process over a Unix socket in a private temp dir. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "nt_slack.h"

#include "rpc.h"

/* Deadlines in these tests are generous; under valgrind everything runs
 * ~20x slower, so stretch them there (set by `meson test --setup=valgrind`). */
static int64_t T(int64_t ms)
{
	return nt_ms(ms); /* nt_slack.h */
}

typedef struct {
	char dir[64];
	char sock[128];
	rpc_server *srv;
	rpc_client *cli;
} fx;

static void h_echo(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ud;
	(void)ctx;
	resp->status = RPC_OK;
	resp->data = malloc(len + 1);
	memcpy(resp->data, req, len);
	resp->len = len;
}

static void h_notfound(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ud;
	(void)ctx;
	(void)req;
	(void)len;
	resp->status = RPC_NOT_FOUND;
	resp->details = "no such thing";
}

static void h_hang(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)req;
	(void)len;
	int *woke = ud;
	rpc_ctx_sleep_ms(ctx, -1); /* until cancelled or shut down */
	*woke += 1;
	resp->status = RPC_UNAVAILABLE;
	resp->details = "woken";
}

static int hang_woke;

static const rpc_method methods[] = {
	{ "/t.S/Echo", h_echo, NULL },
	{ "/t.S/NotFound", h_notfound, NULL },
	{ "/t.S/Hang", h_hang, &hang_woke },
};

static int setup(void **state)
{
	fx *f = calloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_rpc.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/s.sock", f->dir);
	rpc_global_init();
	char err[256];
	assert_int_equal(rpc_server_new(f->sock, methods, 3, &f->srv, err, sizeof(err)), 0);
	assert_int_equal(rpc_client_new(f->sock, NULL, &f->cli), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	rpc_client_free(f->cli);
	rpc_server_free(f->srv);
	/* rpc_server_free removes its own socket file */
	struct stat st;
	assert_int_equal(stat(f->sock, &st), -1);
	rmdir(f->dir);
	rpc_global_shutdown();
	free(f);
	return 0;
}

/* assert a gRPC status, printing the details when it is not the one expected */
#define assert_status(r, want)                                                              \
	do {                                                                                \
		if ((r).status != (want))                                                   \
			print_error("status %s (%s), expected %s\n", rpc_status_name((r).status), \
				    (r).details ? (r).details : "", rpc_status_name(want));         \
		assert_int_equal((r).status, (want));                                       \
	} while (0)

static void test_echo_roundtrip(void **state)
{
	fx *f = *state;
	rpc_result r = RPC_RESULT_INIT;
	assert_int_equal(rpc_client_call(f->cli, "/t.S/Echo", "hello", 5, T(2000), &r), 0);
	assert_status(r, RPC_OK);
	assert_int_equal(r.len, 5);
	assert_memory_equal(r.data, "hello", 5);
	rpc_result_destroy(&r);

	/* an empty message is still a message */
	assert_int_equal(rpc_client_call(f->cli, "/t.S/Echo", NULL, 0, T(2000), &r), 0);
	assert_int_equal(r.status, RPC_OK);
	assert_int_equal(r.len, 0);
	rpc_result_destroy(&r);
}

/* M1 depends on it: an unknown path is UNIMPLEMENTED, promptly, not a hang. */
static void test_unknown_path_unimplemented(void **state)
{
	fx *f = *state;
	rpc_result r = RPC_RESULT_INIT;
	assert_int_equal(rpc_client_call(f->cli, "/t.S/echo", "x", 1, T(5000), &r), 0);
	assert_int_equal(r.status, RPC_UNIMPLEMENTED);
	assert_non_null(strstr(r.details, "/t.S/echo"));
	rpc_result_destroy(&r);
}

static void test_handler_status_and_details(void **state)
{
	fx *f = *state;
	rpc_result r = RPC_RESULT_INIT;
	assert_int_equal(rpc_client_call(f->cli, "/t.S/NotFound", "x", 1, T(2000), &r), 0);
	assert_int_equal(r.status, RPC_NOT_FOUND);
	assert_string_equal(r.details, "no such thing");
	assert_null(r.data);
	rpc_result_destroy(&r);
}

/* A hanging handler blocks neither other calls nor the deadline (H3). */
static void test_deadline_and_concurrency(void **state)
{
	fx *f = *state;
	rpc_call *hang;
	/* the hang must outlast the Echo call: stretched under valgrind like every
	 * other deadline here (it once failed the valgrind lane, issue 10) */
	assert_int_equal(rpc_call_start(f->cli, "/t.S/Hang", "x", 1, T(300), &hang), 0);
	rpc_result r = RPC_RESULT_INIT;
	assert_int_equal(rpc_client_call(f->cli, "/t.S/Echo", "y", 1, T(2000), &r), 0);
	assert_int_equal(r.status, RPC_OK);
	rpc_result_destroy(&r);
	assert_false(rpc_call_done(hang));
	assert_int_equal(rpc_call_finish(hang, &r), -EAGAIN);

	struct pollfd p = { .fd = rpc_call_fd(hang), .events = POLLIN };
	assert_int_equal(poll(&p, 1, (int)T(10000)), 1);
	assert_true(rpc_call_done(hang));
	assert_int_equal(rpc_call_finish(hang, &r), 0);
	assert_int_equal(r.status, RPC_DEADLINE_EXCEEDED);
	rpc_result_destroy(&r);
	rpc_call_free(hang);
}

static void test_cancel(void **state)
{
	fx *f = *state;
	rpc_call *hang;
	assert_int_equal(rpc_call_start(f->cli, "/t.S/Hang", "x", 1, T(60000), &hang), 0);
	rpc_call_cancel(hang);
	struct pollfd p = { .fd = rpc_call_fd(hang), .events = POLLIN };
	assert_int_equal(poll(&p, 1, (int)T(10000)), 1);
	rpc_result r = RPC_RESULT_INIT;
	assert_int_equal(rpc_call_finish(hang, &r), 0);
	assert_int_equal(r.status, RPC_CANCELLED);
	rpc_result_destroy(&r);
	rpc_call_free(hang);
}

static void test_missing_socket_unavailable(void **state)
{
	fx *f = *state;
	char path[160];
	snprintf(path, sizeof(path), "%s/absent.sock", f->dir);
	rpc_client *c;
	assert_int_equal(rpc_client_new(path, NULL, &c), 0);
	rpc_result r = RPC_RESULT_INIT;
	assert_int_equal(rpc_client_call(c, "/t.S/Echo", "x", 1, T(2000), &r), 0);
	assert_int_equal(r.status, RPC_UNAVAILABLE);
	rpc_result_destroy(&r);
	rpc_client_free(c);
}

/* S3: over-long paths are refused before any socket is touched. */
static void test_path_too_long(void **state)
{
	fx *f = *state;
	char path[300];
	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	rpc_client *c = NULL;
	assert_int_equal(rpc_client_new(path, NULL, &c), -ENAMETOOLONG);
	rpc_server *s = NULL;
	char err[512] = "";
	assert_int_equal(rpc_server_new(path, methods, 1, &s, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "sun_path"));
	assert_int_equal(rpc_socket_path_max(), 107);
	(void)f;
}

/* The server removes its socket file, but never one put there by someone else. */
static void test_free_spares_foreign_file(void **state)
{
	fx *f = *state;
	char path[160], err[256];
	snprintf(path, sizeof(path), "%s/other.sock", f->dir);
	rpc_server *s;
	assert_int_equal(rpc_server_new(path, methods, 1, &s, err, sizeof(err)), 0);
	assert_int_equal(unlink(path), 0);
	FILE *fp = fopen(path, "w"); /* an impostor's file at the same path */
	assert_non_null(fp);
	fclose(fp);
	rpc_server_free(s);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	unlink(path);
}

/* Issue 15: grpc's own shutdown unlinks its unix: path whatever is there;
 * a live socket that another process put at the path must survive our
 * server's shutdown (the server binds a private name and renames it). */
static void test_free_spares_foreign_socket(void **state)
{
	fx *f = *state;
	char path[160], err[256];
	snprintf(path, sizeof(path), "%s/taken.sock", f->dir);
	rpc_server *s;
	assert_int_equal(rpc_server_new(path, methods, 1, &s, err, sizeof(err)), 0);
	assert_int_equal(unlink(path), 0);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); /* another agent's live socket */
	assert_true(lfd >= 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	assert_true(strlen(path) < sizeof(sun.sun_path));
	memcpy(sun.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	rpc_server_free(s);
	struct stat st;
	assert_int_equal(stat(path, &st), 0); /* still there, */
	int cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&sun, sizeof(sun)), 0); /* and still serving */
	close(cfd);
	close(lfd);
	unlink(path);
}

static void test_status_names(void **state)
{
	(void)state;
	assert_string_equal(rpc_status_name(12), "UNIMPLEMENTED");
	assert_string_equal(rpc_status_name(14), "UNAVAILABLE");
	assert_string_equal(rpc_status_name(99), "UNKNOWN_STATUS");
	assert_string_equal(rpc_status_name(-1), "UNKNOWN_STATUS");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_echo_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_path_unimplemented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handler_status_and_details, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deadline_and_concurrency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_socket_unavailable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_spares_foreign_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_spares_foreign_socket, setup, teardown),
		cmocka_unit_test(test_status_names),
	};
	return cmocka_run_group_tests_name("rpc", tests, NULL, NULL);
}
