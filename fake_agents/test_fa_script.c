/* test_fa_script: the fake agent's script parser — every key, every preset,
 * merging, and a clear error naming the key for anything wrong. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fa_script.h"

static int parse_text(const char *text, fa_script *s, char *err, size_t errlen)
{
	json_t *acc = json_object();
	int rc = fa_script_merge_text(acc, text, "test", err, errlen);
	if (rc == 0)
		rc = fa_script_parse(acc, s, err, errlen);
	json_decref(acc);
	return rc;
}

static void test_defaults(void **state)
{
	(void)state;
	fa_script s;
	fa_script_init(&s);
	char err[256] = "";
	assert_int_equal(parse_text("{}", &s, err, sizeof(err)), 0);
	assert_int_equal(s.marker, FA_MARKER_NORMAL);
	assert_int_equal(s.bind, FA_BIND_NORMAL);
	assert_int_equal(s.methods, FA_METHODS_PASCAL);
	assert_int_equal(s.sigterm, FA_TERM_EXIT);
	assert_int_equal(s.exit.when, FA_EXIT_NEVER);
	assert_int_equal(s.marker_split_gap_ms, 50);
	assert_int_equal(s.shutdown_delay_ms, -1);
	for (int m = 0; m < FA_M_COUNT; m++) {
		assert_int_equal(s.calls[m].crash_on, 0);
		assert_int_equal(s.calls[m].status, 0);
	}
	fa_script_destroy(&s);
}

static void test_every_key(void **state)
{
	(void)state;
	const char *text =
		"{\"bind_delay_ms\": 10, \"marker\": \"split\", \"marker_delay_ms\": 20, \"marker_split_gap_ms\": 30,"
		" \"stdout_noise\": [\"a\", \"b c\"], \"near_misses\": true, \"huge_line_bytes\": 1000,"
		" \"stderr_lines\": [\"fatal: x\"], \"bind\": \"impostor_garbage\", \"leave_socket\": true,"
		" \"exit\": {\"when\": \"after_ready\", \"after_ms\": 40, \"signal\": \"SIGSEGV\"},"
		" \"methods\": \"both\", \"health\": {\"unhealthy_first\": 2, \"delay_ms\": 50, \"hang\": true},"
		" \"calls\": {\"ProcessPrompt\": {\"crash_on\": 3, \"crash_how\": \"segv\", \"exit_code\": 7,"
		"              \"hang\": true, \"delay_ms\": 60, \"status\": \"UNAVAILABLE\", \"details\": \"down\"},"
		"           \"CallCustomFunction\": {\"status\": 13},"
		"           \"HealthCheck\": {\"crash_on\": 1, \"crash_how\": \"exit\"}},"
		" \"sigterm\": \"slow\", \"shutdown_delay_ms\": 70, \"exit_code_on_term\": 9}";
	fa_script s;
	fa_script_init(&s);
	char err[256] = "";
	assert_int_equal(parse_text(text, &s, err, sizeof(err)), 0);
	assert_int_equal(s.bind_delay_ms, 10);
	assert_int_equal(s.marker, FA_MARKER_SPLIT);
	assert_int_equal(s.marker_delay_ms, 20);
	assert_int_equal(s.marker_split_gap_ms, 30);
	assert_int_equal(s.n_stdout_noise, 2);
	assert_string_equal(s.stdout_noise[1], "b c");
	assert_true(s.near_misses);
	assert_int_equal(s.huge_line_bytes, 1000);
	assert_int_equal(s.n_stderr_lines, 1);
	assert_string_equal(s.stderr_lines[0], "fatal: x");
	assert_int_equal(s.bind, FA_BIND_IMPOSTOR_GARBAGE);
	assert_true(s.leave_socket);
	assert_int_equal(s.exit.when, FA_EXIT_AFTER_READY);
	assert_int_equal(s.exit.after_ms, 40);
	assert_int_equal(s.exit.signal, SIGSEGV);
	assert_int_equal(s.methods, FA_METHODS_BOTH);
	assert_int_equal(s.health.unhealthy_first, 2);
	assert_int_equal(s.health.delay_ms, 50);
	assert_true(s.health.hang);
	const fa_call_script *p = &s.calls[FA_M_PROMPT];
	assert_int_equal(p->crash_on, 3);
	assert_int_equal(p->crash_how, FA_CRASH_SEGV);
	assert_int_equal(p->exit_code, 7);
	assert_true(p->hang);
	assert_int_equal(p->delay_ms, 60);
	assert_int_equal(p->status, 14);
	assert_string_equal(p->details, "down");
	assert_int_equal(s.calls[FA_M_CALL].status, 13);
	assert_null(s.calls[FA_M_CALL].details);
	assert_int_equal(s.calls[FA_M_HEALTH].crash_on, 1);
	assert_int_equal(s.calls[FA_M_HEALTH].crash_how, FA_CRASH_EXIT);
	assert_int_equal(s.calls[FA_M_HEALTH].exit_code, 1);
	assert_int_equal(s.sigterm, FA_TERM_SLOW);
	assert_int_equal(s.shutdown_delay_ms, 70);
	assert_int_equal(s.exit_code_on_term, 9);
	fa_script_destroy(&s);
}

/* Each enum word maps where it should. */
static void test_enum_words(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		size_t offset;
		int want;
	} cases[] = {
		{ "{\"marker\": \"normal\"}", offsetof(fa_script, marker), FA_MARKER_NORMAL },
		{ "{\"marker\": \"never\"}", offsetof(fa_script, marker), FA_MARKER_NEVER },
		{ "{\"marker\": \"before_bind\"}", offsetof(fa_script, marker), FA_MARKER_BEFORE_BIND },
		{ "{\"marker\": \"crlf\"}", offsetof(fa_script, marker), FA_MARKER_CRLF },
		{ "{\"bind\": \"none\"}", offsetof(fa_script, bind), FA_BIND_NONE },
		{ "{\"bind\": \"other_path\"}", offsetof(fa_script, bind), FA_BIND_OTHER_PATH },
		{ "{\"bind\": \"stale_file\"}", offsetof(fa_script, bind), FA_BIND_STALE_FILE },
		{ "{\"bind\": \"impostor_silent\"}", offsetof(fa_script, bind), FA_BIND_IMPOSTOR_SILENT },
		{ "{\"methods\": \"camel\"}", offsetof(fa_script, methods), FA_METHODS_CAMEL },
		{ "{\"methods\": \"none\"}", offsetof(fa_script, methods), FA_METHODS_NONE },
		{ "{\"sigterm\": \"ignore\"}", offsetof(fa_script, sigterm), FA_TERM_IGNORE },
		{ "{\"exit\": {\"when\": \"before_bind\", \"code\": 3}}", offsetof(fa_script, exit.when), FA_EXIT_BEFORE_BIND },
		{ "{\"exit\": {\"when\": \"after_bind\"}}", offsetof(fa_script, exit.when), FA_EXIT_AFTER_BIND },
		{ "{\"exit\": {\"when\": \"after_ms\", \"after_ms\": 5}}", offsetof(fa_script, exit.when), FA_EXIT_AFTER_MS },
		{ "{\"exit\": {\"when\": \"after_ms\", \"signal\": 9}}", offsetof(fa_script, exit.signal), SIGKILL },
		{ "{\"exit\": {\"when\": \"after_ms\", \"signal\": \"ABRT\"}}", offsetof(fa_script, exit.signal), SIGABRT },
		{ "{\"exit\": {\"when\": \"after_ms\", \"code\": 3}}", offsetof(fa_script, exit.code), 3 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fa_script s;
		fa_script_init(&s);
		char err[256] = "";
		int rc = parse_text(cases[i].text, &s, err, sizeof(err));
		if (rc != 0)
			fail_msg("%s: %s", cases[i].text, err);
		int got;
		memcpy(&got, (const char *)&s + cases[i].offset, sizeof(got));
		if (got != cases[i].want)
			fail_msg("%s: got %d, want %d", cases[i].text, got, cases[i].want);
		fa_script_destroy(&s);
	}
}

/* Bad scripts: each must fail with a message that contains `want`. */
static void test_bad_scripts(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "{\"bogus\": 1}", "unknown key \"bogus\"" },
		{ "{\"health\": {\"healthy\": true}}", "unknown key \"health.healthy\"" },
		{ "{\"exit\": {\"when\": \"after_bind\", \"cod\": 1}}", "unknown key \"exit.cod\"" },
		{ "{\"calls\": {\"processPrompt\": {}}}", "unknown key \"calls.processPrompt\"" },
		{ "{\"calls\": {\"ProcessPrompt\": {\"crash\": 1}}}", "unknown key \"calls.ProcessPrompt.crash\"" },
		{ "{\"bind_delay_ms\": \"10\"}", "bind_delay_ms: expected a non-negative integer, got a string" },
		{ "{\"bind_delay_ms\": -1}", "bind_delay_ms: -1 is out of range" },
		{ "{\"marker_delay_ms\": 1.5}", "marker_delay_ms: expected a non-negative integer, got a real" },
		{ "{\"marker\": \"sometimes\"}", "marker: \"sometimes\" is not one of \"normal\"" },
		{ "{\"marker\": 1}", "marker: expected one of" },
		{ "{\"bind\": \"weird\"}", "bind: \"weird\" is not one of" },
		{ "{\"methods\": \"snake\"}", "methods: \"snake\" is not one of" },
		{ "{\"sigterm\": \"maybe\"}", "sigterm: \"maybe\" is not one of" },
		{ "{\"near_misses\": 1}", "near_misses: expected true or false, got an integer" },
		{ "{\"leave_socket\": \"yes\"}", "leave_socket: expected true or false" },
		{ "{\"stdout_noise\": \"x\"}", "stdout_noise: expected an array of strings" },
		{ "{\"stdout_noise\": [\"a\", 2]}", "stdout_noise[1]: expected a string, got an integer" },
		{ "{\"stderr_lines\": [null]}", "stderr_lines[0]: expected a string, got null" },
		{ "{\"huge_line_bytes\": true}", "huge_line_bytes: expected a non-negative integer, got a boolean" },
		{ "{\"exit\": 3}", "exit: expected an object, got an integer" },
		{ "{\"exit\": {\"code\": 3}}", "exit.when: missing" },
		{ "{\"exit\": {\"when\": \"later\"}}", "exit.when: \"later\" is not one of" },
		{ "{\"exit\": {\"when\": \"after_ms\", \"code\": 256}}", "exit.code: 256 is out of range 0..255" },
		{ "{\"exit\": {\"when\": \"after_ms\", \"signal\": \"SIGFOO\"}}", "exit.signal: \"SIGFOO\" is not a signal" },
		{ "{\"exit\": {\"when\": \"after_ms\", \"signal\": 0}}", "exit.signal: 0 is not a signal" },
		{ "{\"exit\": {\"when\": \"after_ms\", \"signal\": []}}", "exit.signal: expected a signal name or number" },
		{ "{\"exit\": {\"when\": \"after_ms\", \"code\": 1, \"signal\": 9}}", "not both" },
		{ "{\"health\": []}", "health: expected an object, got an array" },
		{ "{\"health\": {\"hang\": 1}}", "health.hang: expected true or false" },
		{ "{\"health\": {\"unhealthy_first\": -2}}", "health.unhealthy_first: -2 is out of range" },
		{ "{\"calls\": []}", "calls: expected an object" },
		{ "{\"calls\": {\"HealthCheck\": 1}}", "calls.HealthCheck: expected an object" },
		{ "{\"calls\": {\"ProcessPrompt\": {\"crash_how\": \"explode\"}}}", "calls.ProcessPrompt.crash_how: \"explode\"" },
		{ "{\"calls\": {\"ProcessPrompt\": {\"status\": 0}}}", "calls.ProcessPrompt.status: 0 is not a non-OK" },
		{ "{\"calls\": {\"ProcessPrompt\": {\"status\": \"BROKEN\"}}}", "\"BROKEN\" is not a non-OK gRPC status name" },
		{ "{\"calls\": {\"ProcessPrompt\": {\"status\": true}}}", "expected a gRPC status code" },
		{ "{\"calls\": {\"ProcessPrompt\": {\"details\": 5}}}", "calls.ProcessPrompt.details: expected a string" },
		{ "{\"calls\": {\"CallCustomFunction\": {\"exit_code\": 300}}}", "calls.CallCustomFunction.exit_code: 300" },
		{ "{\"shutdown_delay_ms\": null}", "shutdown_delay_ms: expected a non-negative integer, got null" },
		{ "{\"exit_code_on_term\": -1}", "exit_code_on_term: -1 is out of range" },
		{ "[1, 2]", "test: a script is a JSON object, got an array" },
		{ "{\"marker\": ", "test: not JSON" },
		{ "{\"marker\": \"never\", \"marker\": \"normal\"}", "test: not JSON: duplicate object key" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fa_script s;
		fa_script_init(&s);
		char err[512] = "";
		int rc = parse_text(cases[i].text, &s, err, sizeof(err));
		if (rc != -EINVAL)
			fail_msg("%s: rc %d, want -EINVAL", cases[i].text, rc);
		if (!strstr(err, cases[i].want))
			fail_msg("%s: error \"%s\" does not contain \"%s\"", cases[i].text, err, cases[i].want);
		fa_script_destroy(&s);
	}
}

/* The unknown-key message also lists the keys that are known. */
static void test_unknown_key_lists_known(void **state)
{
	(void)state;
	fa_script s;
	fa_script_init(&s);
	char err[1024] = "";
	assert_int_equal(parse_text("{\"bind_dealy_ms\": 5}", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bind_dealy_ms"));
	assert_non_null(strstr(err, "known: bind_delay_ms"));
	fa_script_destroy(&s);
}

/* Later sources override the preset's top-level keys. */
static void test_merge_overrides(void **state)
{
	(void)state;
	const fa_preset *p = fa_preset_find("slow-socket");
	assert_non_null(p);
	json_t *acc = json_object();
	char err[256] = "";
	assert_int_equal(fa_script_merge_text(acc, p->json, "preset", err, sizeof(err)), 0);
	assert_int_equal(fa_script_merge_text(acc, "{\"bind_delay_ms\": 5, \"marker\": \"crlf\"}", "o", err,
					      sizeof(err)), 0);
	fa_script s;
	fa_script_init(&s);
	assert_int_equal(fa_script_parse(acc, &s, err, sizeof(err)), 0);
	assert_int_equal(s.bind_delay_ms, 5);
	assert_int_equal(s.marker, FA_MARKER_CRLF);
	fa_script_destroy(&s);
	json_decref(acc);
}

static void test_merge_file(void **state)
{
	(void)state;
	char path[] = "/tmp/fa_script_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	static const char text[] = "{\"methods\": \"camel\",\n \"nope\": 1}\n";
	assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
	close(fd);
	json_t *acc = json_object();
	char err[512] = "";
	assert_int_equal(fa_script_merge_file(acc, path, err, sizeof(err)), 0);
	fa_script s;
	fa_script_init(&s);
	assert_int_equal(fa_script_parse(acc, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown key \"nope\""));
	fa_script_destroy(&s);
	unlink(path);
	assert_true(fa_script_merge_file(acc, path, err, sizeof(err)) == -ENOENT);
	assert_non_null(strstr(err, path));
	json_decref(acc);
}

/* Every preset is a valid script; the required ones exist and say what they should. */
static void test_presets(void **state)
{
	(void)state;
	size_t n;
	const fa_preset *p = fa_presets(&n);
	assert_true(n >= 12);
	for (size_t i = 0; i < n; i++) {
		fa_script s;
		fa_script_init(&s);
		char err[512] = "";
		json_t *acc = json_object();
		int rc = fa_script_merge_text(acc, p[i].json, p[i].name, err, sizeof(err));
		if (rc == 0)
			rc = fa_script_parse(acc, &s, err, sizeof(err));
		if (rc != 0)
			fail_msg("preset %s: %s", p[i].name, err);
		assert_null(strchr(p[i].description, '\n'));
		assert_null(strchr(p[i].description, '\t'));
		json_decref(acc);
		fa_script_destroy(&s);
	}
	static const char *const required[] = { "never-ready",	 "slow-socket",	 "wrong-case-methods", "crash-mid-call",
						"flaky-health",	 "exits-early",	 "lies-ready",	       "stale-socket",
						"impostor",	 "hangs-call",	 "noisy-stdout",       "ignores-sigterm",
						"slow-health",	 "dies-after-ready", "unhealthy-forever", "both-case",
						"slow-shutdown" };
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!fa_preset_find(required[i]))
			fail_msg("preset %s is missing", required[i]);
	assert_null(fa_preset_find("no-such-preset"));

	/* spot-check a few against the contract of the interface */
	fa_script s;
	fa_script_init(&s);
	char err[256];
	json_t *acc = json_object();
	assert_int_equal(fa_script_merge_text(acc, fa_preset_find("crash-mid-call")->json, "p", err, sizeof(err)), 0);
	assert_int_equal(fa_script_parse(acc, &s, err, sizeof(err)), 0);
	assert_int_equal(s.calls[FA_M_PROMPT].crash_on, 1);
	assert_int_equal(s.calls[FA_M_PROMPT].crash_how, FA_CRASH_ABORT);
	fa_script_destroy(&s);
	json_decref(acc);
	acc = json_object();
	assert_int_equal(fa_script_merge_text(acc, fa_preset_find("exits-early")->json, "p", err, sizeof(err)), 0);
	assert_int_equal(fa_script_parse(acc, &s, err, sizeof(err)), 0);
	assert_int_equal(s.exit.when, FA_EXIT_BEFORE_BIND);
	assert_int_equal(s.exit.code, 3);
	assert_string_equal(s.stderr_lines[0], "fatal: model file missing");
	fa_script_destroy(&s);
	json_decref(acc);
}

static void test_signal_parse(void **state)
{
	(void)state;
	assert_int_equal(fa_signal_parse("SIGSEGV"), SIGSEGV);
	assert_int_equal(fa_signal_parse("sigkill"), SIGKILL);
	assert_int_equal(fa_signal_parse("ABRT"), SIGABRT);
	assert_int_equal(fa_signal_parse("15"), SIGTERM);
	assert_int_equal(fa_signal_parse("0"), 0);
	assert_int_equal(fa_signal_parse("SIGNOPE"), 0);
	assert_int_equal(fa_signal_parse(""), 0);
	assert_int_equal(fa_signal_parse(NULL), 0);
}

static void test_method_names(void **state)
{
	(void)state;
	assert_string_equal(fa_method_name(FA_M_HEALTH, false), "HealthCheck");
	assert_string_equal(fa_method_name(FA_M_HEALTH, true), "healthCheck");
	assert_string_equal(fa_method_name(FA_M_PROMPT, true), "processPrompt");
	assert_string_equal(fa_method_name(FA_M_CALL, false), "CallCustomFunction");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),	 cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_enum_words),	 cmocka_unit_test(test_bad_scripts),
		cmocka_unit_test(test_unknown_key_lists_known), cmocka_unit_test(test_merge_overrides),
		cmocka_unit_test(test_merge_file),	 cmocka_unit_test(test_presets),
		cmocka_unit_test(test_signal_parse),	 cmocka_unit_test(test_method_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
