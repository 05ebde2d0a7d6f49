/* Unit tests for sup_error: the SPEC O1 record, its JSON and text forms. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sup_error.h"

static void test_set_and_ctx(void **state)
{
	sup_error e = SUP_ERROR_INIT;

	(void)state;
	assert_false(sup_error_is_set(&e));
	sup_error_set(&e, "launch", ENOENT, "spawn %s: %s", "/x/neira-agent", "No such file");
	assert_true(sup_error_is_set(&e));
	assert_string_equal(e.message, "spawn /x/neira-agent: No such file");
	assert_string_equal(e.channel, "launch");
	assert_int_equal(e.errnum, ENOENT);
	assert_true(e.timestamp_ms > 1500000000000LL); /* after 2017: a real wall clock */
	assert_string_equal(sup_error_ctx_get(&e, "errno"), "ENOENT");
	sup_error_ctx(&e, "path", "%s", "/x/neira-agent");
	sup_error_ctx(&e, "attempt", "%d", 1);
	sup_error_ctx(&e, "attempt", "%d", 2); /* replace, not duplicate */
	assert_int_equal(e.n_ctx, 3);
	assert_string_equal(sup_error_ctx_get(&e, "attempt"), "2");
	assert_null(sup_error_ctx_get(&e, "nope"));
	for (int i = 0; i < 40; i++) { /* more than fit: extra keys dropped */
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		sup_error_ctx(&e, k, "%d", i);
	}
	assert_int_equal(e.n_ctx, SUP_ERROR_MAX_CTX);
	/* set again resets everything, errnum 0 adds no errno key */
	sup_error_add_cause(&e, "old cause");
	sup_error_set(&e, NULL, 0, "second");
	assert_int_equal(e.n_ctx, 0);
	assert_int_equal(e.n_causes, 0);
	assert_string_equal(e.channel, "");
	sup_error_destroy(&e);
	assert_false(sup_error_is_set(&e));
}

static void test_causes_and_copy(void **state)
{
	sup_error e = SUP_ERROR_INIT, d = SUP_ERROR_INIT;
	char big[1000];

	(void)state;
	sup_error_set(&e, "health", ETIMEDOUT, "initialisation failed");
	for (int i = 0; i < 12; i++)
		sup_error_add_cause(&e, "cause %d", i);
	assert_int_equal(e.n_causes, SUP_ERROR_MAX_CAUSES);
	assert_string_equal(e.causes[0], "cause 0"); /* outermost first */
	assert_string_equal(e.causes[7], "cause 7");
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sup_error_ctx(&e, "long", "%s", big); /* truncated, not overflowed */
	assert_int_equal(strlen(sup_error_ctx_get(&e, "long")), 255);
	sup_error_copy(&d, &e);
	assert_int_equal(d.n_causes, 8);
	assert_ptr_not_equal(d.causes[0], e.causes[0]);
	assert_string_equal(d.causes[3], "cause 3");
	assert_string_equal(sup_error_ctx_get(&d, "errno"), "ETIMEDOUT");
	sup_error_copy(&d, &d); /* self-copy is a no-op */
	sup_error_destroy(&e);
	assert_string_equal(d.causes[7], "cause 7"); /* independent of the source */
	/* wrapping a record in itself reads the old text before the reset */
	sup_error_set(&d, d.channel, 0, "init failed: %s (%s)", d.message, d.causes[0]);
	assert_string_equal(d.message, "init failed: initialisation failed (cause 0)");
	assert_string_equal(d.channel, "health");
	assert_int_equal(d.n_causes, 0);
	sup_error_ctx(&d, "a", "1");
	sup_error_ctx(&d, "a", "%s+%s", sup_error_ctx_get(&d, "a"), "2");
	assert_string_equal(sup_error_ctx_get(&d, "a"), "1+2");
	sup_error_destroy(&d);
	sup_error_set(&e, "x", 0, "%s", big);
	assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
	sup_error_destroy(&e);
}

static void test_errno_names(void **state)
{
	static const struct {
		int num;
		const char *name;
	} t[] = {
		{ ENOENT, "ENOENT" },         { EACCES, "EACCES" },           { ENOEXEC, "ENOEXEC" },
		{ ECONNREFUSED, "ECONNREFUSED" }, { ENAMETOOLONG, "ENAMETOOLONG" }, { ETIMEDOUT, "ETIMEDOUT" },
		{ EMFILE, "EMFILE" },         { ENOMEM, "ENOMEM" },           { EPIPE, "EPIPE" },
		{ EINTR, "EINTR" },           { EAGAIN, "EAGAIN" },           { EINVAL, "EINVAL" },
		{ ENOTDIR, "ENOTDIR" },       { EISDIR, "EISDIR" },           { ECHILD, "ECHILD" },
		{ ESRCH, "ESRCH" },           { EPERM, "EPERM" },             { EADDRINUSE, "EADDRINUSE" },
		{ ENOTSOCK, "ENOTSOCK" },     { EPROTO, "EPROTO" },           { -ENOENT, "ENOENT" },
		{ 4242, "E4242" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(sup_errno_name(t[i].num), t[i].name);
}

static void test_json(void **state)
{
	sup_error e = SUP_ERROR_INIT;
	json_t *j;
	const char *ts;

	(void)state;
	j = sup_error_to_json(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
	j = sup_error_to_json(&e); /* unset record is null too */
	assert_true(json_is_null(j));
	json_decref(j);

	sup_error_set(&e, "launch", EACCES, "spawn /a: permission denied");
	sup_error_add_cause(&e, "execve: %s", "EACCES");
	sup_error_ctx(&e, "path", "/a");
	sup_error_ctx(&e, "raw", "bad \xff byte"); /* child output is not always UTF-8 */
	e.timestamp_ms = 1700000000123LL;
	j = sup_error_to_json(&e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "message")), "spawn /a: permission denied");
	assert_string_equal(json_string_value(json_object_get(j, "channel")), "launch");
	assert_int_equal(json_array_size(json_object_get(j, "stack")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(j, "stack"), 0)), "execve: EACCES");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "context"), "errno")), "EACCES");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "context"), "path")), "/a");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "context"), "raw")), "bad ? byte");
	ts = json_string_value(json_object_get(j, "timestamp"));
	assert_string_equal(ts, "2023-11-14T22:13:20.123Z");
	assert_int_equal(json_integer_value(json_object_get(j, "errno")), EACCES);
	json_decref(j);
	sup_error_destroy(&e);
}

static void test_format(void **state)
{
	sup_error e = SUP_ERROR_INIT;
	char buf[512], small[16];
	int n;

	(void)state;
	n = sup_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "no error");
	assert_int_equal(n, 8);
	sup_error_set(&e, "health", ECONNREFUSED, "health check 3/3 failed");
	sup_error_add_cause(&e, "connect unix:///tmp/s: refused");
	sup_error_ctx(&e, "attempt", "3");
	n = sup_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "[health] health check 3/3 failed\n"
	                         "  caused by: connect unix:///tmp/s: refused\n"
	                         "  context: errno=ECONNREFUSED attempt=3");
	assert_int_equal(n, (int)strlen(buf));
	/* snprintf semantics: truncated but terminated, full length returned */
	assert_int_equal(sup_error_format(&e, small, sizeof(small)), n);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_int_equal(sup_error_format(&e, NULL, 0), n);
	assert_int_equal(sup_error_format(NULL, buf, sizeof(buf)), -EINVAL);
	sup_error_destroy(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_and_ctx),   cmocka_unit_test(test_causes_and_copy),
		cmocka_unit_test(test_errno_names),   cmocka_unit_test(test_json),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
