/* Unit tests for sup_config: every SPEC default, every key, bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sup_config.h"

static void test_defaults(void **state)
{
	sup_config c;

	(void)state;
	sup_config_init(&c);
	assert_null(c.agent_path);
	assert_null(c.agents_dir);
	assert_null(c.socket_path);
	assert_false(c.socket_private_dir);
	assert_false(c.check_peer);
	assert_int_equal(c.ready_timeout_ms, 15000);    /* L5 */
	assert_int_equal(c.health_attempts, 3);         /* H1 */
	assert_int_equal(c.health_base_delay_ms, 500);  /* H1 */
	assert_int_equal(c.health_deadline_ms, 1000);   /* H3 */
	assert_int_equal(c.call_deadline_ms, 10000);
	assert_int_equal(c.breaker_threshold, 5);       /* C1 */
	assert_int_equal(c.breaker_open_ms, 30000);     /* C2 */
	assert_int_equal(c.shutdown_grace_ms, 2000);    /* L7 */
	assert_false(c.restart);                        /* L8 */
	assert_int_equal(c.restart_base_delay_ms, 500);
	assert_int_equal(c.restart_max, 3);
	sup_config_destroy(&c);
}

static void test_each_key(void **state)
{
	sup_config c;
	sup_error err = SUP_ERROR_INIT;
	json_t *j;
	size_t nkeys = 0;

	(void)state;
	sup_config_init(&c);
	static const char *const kv[] = {
		"agent_path=/opt/a", "agents_dir=/opt/agents", "socket_path=/run/x.sock", "socket_private_dir=yes",
		"check_peer=TRUE", "ready_timeout_ms=250", "health_attempts=4", "health_base_delay_ms=10",
		"health_deadline_ms=20", "call_deadline_ms=30", "breaker_threshold=2", "breaker_open_ms=40",
		"shutdown_grace_ms=50", "restart=1", "restart_base_delay_ms=60", "restart_max=0",
	};
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		assert_int_equal(sup_config_set_kv(&c, kv[i], &err), 0);
	assert_false(sup_error_is_set(&err));
	assert_string_equal(c.agent_path, "/opt/a");
	assert_string_equal(c.agents_dir, "/opt/agents");
	assert_string_equal(c.socket_path, "/run/x.sock");
	assert_true(c.socket_private_dir);
	assert_true(c.check_peer);
	assert_int_equal(c.ready_timeout_ms, 250);
	assert_int_equal(c.health_attempts, 4);
	assert_int_equal(c.health_base_delay_ms, 10);
	assert_int_equal(c.health_deadline_ms, 20);
	assert_int_equal(c.call_deadline_ms, 30);
	assert_int_equal(c.breaker_threshold, 2);
	assert_int_equal(c.breaker_open_ms, 40);
	assert_int_equal(c.shutdown_grace_ms, 50);
	assert_true(c.restart);
	assert_int_equal(c.restart_base_delay_ms, 60);
	assert_int_equal(c.restart_max, 0);

	/* every key is listed, and the JSON carries every key */
	for (const char *const *k = sup_config_keys(); *k; k++)
		nkeys++;
	assert_int_equal(nkeys, sizeof(kv) / sizeof(kv[0]));
	j = sup_config_json(&c);
	assert_int_equal(json_object_size(j), nkeys);
	assert_string_equal(json_string_value(json_object_get(j, "agents_dir")), "/opt/agents");
	assert_int_equal(json_integer_value(json_object_get(j, "health_attempts")), 4);
	assert_true(json_is_true(json_object_get(j, "restart")));
	json_decref(j);

	/* value containing '=' keeps everything after the first one; empty unsets */
	assert_int_equal(sup_config_set_kv(&c, "agent_path=/a=b", &err), 0);
	assert_string_equal(c.agent_path, "/a=b");
	assert_int_equal(sup_config_set(&c, "agent_path", "", &err), 0);
	assert_null(c.agent_path);
	assert_int_equal(sup_config_set(&c, "restart", "no", &err), 0);
	assert_false(c.restart);
	assert_int_equal(sup_config_set(&c, "ready_timeout_ms", "86400000", &err), 0); /* 24 h: the bound */
	sup_config_destroy(&c);
	assert_null(c.agents_dir); /* destroy resets to defaults */
	assert_int_equal(c.health_attempts, 3);
	j = sup_config_json(&c);
	assert_true(json_is_null(json_object_get(j, "agent_path")));
	json_decref(j);
}

static void test_bad_input(void **state)
{
	static const struct {
		const char *kv;
		int expect;
		const char *in_msg; /* must appear in the message (names the key) */
		const char *in_msg2;
	} t[] = {
		{ "foo=1", -ENOENT, "\"foo\"", "known: agent_path" },
		{ "=1", -ENOENT, "unknown key", "health_attempts" },
		{ "health_attempts=", -EINVAL, "health_attempts", "not an integer" },
		{ "health_attempts=abc", -EINVAL, "health_attempts=\"abc\"", "not an integer" },
		{ "ready_timeout_ms=12x", -EINVAL, "ready_timeout_ms", "not an integer" },
		{ "ready_timeout_ms= 12", -EINVAL, "ready_timeout_ms", "not an integer" },
		{ "ready_timeout_ms=-1", -EINVAL, "ready_timeout_ms", "out of range" },
		{ "ready_timeout_ms=86400001", -EINVAL, "ready_timeout_ms", "out of range" },
		{ "ready_timeout_ms=99999999999999999999", -EINVAL, "ready_timeout_ms", "out of range" },
		{ "health_attempts=0", -EINVAL, "health_attempts", "out of range (1..1000)" },
		{ "breaker_threshold=0", -EINVAL, "breaker_threshold", "out of range" },
		{ "breaker_threshold=4294967297", -EINVAL, "breaker_threshold", "out of range" },
		{ "restart=maybe", -EINVAL, "restart=\"maybe\"", "not a boolean" },
		{ "check_peer=", -EINVAL, "check_peer", "not a boolean" },
		{ "health_attempts", -EINVAL, "\"health_attempts\"", "missing '='" },
		{ "", -EINVAL, "\"\"", "missing '='" },
	};
	sup_config c;

	(void)state;
	sup_config_init(&c);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		sup_error err = SUP_ERROR_INIT;
		int r = sup_config_set_kv(&c, t[i].kv, &err);

		print_message("case %zu: %s -> %s\n", i, t[i].kv, err.message);
		assert_int_equal(r, t[i].expect);
		assert_true(sup_error_is_set(&err));
		assert_string_equal(err.channel, "config");
		assert_int_equal(err.errnum, -t[i].expect);
		assert_non_null(strstr(err.message, t[i].in_msg));
		assert_non_null(strstr(err.message, t[i].in_msg2));
		sup_error_destroy(&err);
	}
	/* a refused value leaves the field as it was */
	assert_int_equal(c.health_attempts, 3);
	assert_int_equal(c.ready_timeout_ms, 15000);
	assert_int_equal(c.breaker_threshold, 5);
	/* err may be NULL */
	assert_int_equal(sup_config_set(&c, "nope", "1", NULL), -ENOENT);
	assert_int_equal(sup_config_set(&c, "restart", NULL, NULL), -EINVAL);
	sup_config_destroy(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_each_key),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
