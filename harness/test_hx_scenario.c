/* test_hx_scenario: the scenario parser accepts a good file and rejects bad
 * ones with file:line:column and the field path. */
#include <dirent.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hx.h"

#define GOOD                                                                   \
	"name: t1\n"                                                           \
	"description: a test\n"                                                \
	"clauses: [H1, L4]\n"                                                  \
	"agent: {kind: fake, preset: never-ready, script: {bind: none, health: {delay_ms: 5}}}\n" \
	"config: {ready_timeout_ms: 300, check_peer: true}\n"                  \
	"faults: []\n"                                                         \
	"actions:\n"                                                           \
	"  - init\n"                                                           \
	"  - call: {method: process_prompt, prompt: hi, deadline_ms: 500}\n"   \
	"  - kill_agent: SIGKILL\n"                                            \
	"  - wait_ms: 10\n"                                                    \
	"  - stop\n"                                                           \
	"expect:\n"                                                            \
	"  mode: mock\n"                                                       \
	"  events:\n"                                                          \
	"    - {event: health_result, where: {attempt: 1, ok: false}, label: r1}\n" \
	"    - {event: health_attempt, where: {attempt: 2}, after: r1, min_ms: 500, max_ms: 750}\n" \
	"    - {event: call_start, absent: true}\n"                            \
	"  calls:\n"                                                           \
	"    - {index: 0, ok: true, mock: true}\n"

static void test_good(void **state)
{
	(void)state;
	hx_scenario *sc = NULL;
	char err[512] = "";
	assert_int_equal(hx_scenario_parse("good.yaml", GOOD, strlen(GOOD), &sc, err, sizeof(err)), 0);
	assert_string_equal(sc->name, "t1");
	json_t *ev = json_object_get(json_object_get(sc->doc, "expect"), "events");
	assert_int_equal(json_array_size(ev), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(ev, 1), "after")), 0);
	json_t *script = json_object_get(json_object_get(sc->doc, "agent"), "script");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(script, "health"), "delay_ms")), 5);
	assert_string_equal(json_string_value(json_object_get(json_object_get(sc->doc, "config"),
							       "ready_timeout_ms")), "300");
	assert_true(hx_scenario_has_clause(sc, "H1"));
	assert_true(hx_scenario_has_clause(sc, "L"));
	assert_false(hx_scenario_has_clause(sc, "C1"));
	hx_scenario_free(sc);
}

/* Each bad case: replace `from` in GOOD by `to`; the error must contain
 * `want` (field path) and `line` ("good.yaml:LINE:"). */
static const struct bad_case {
	const char *from, *to, *want, *line;
} bad_cases[] = {
	{ "faults: []", "faults: [{kill: x}]", "unknown key 'kill'", "good.yaml:6:" },
	{ "faults: []", "faults: [{point: supervisor/nope}]", "faults[0].point", "good.yaml:6:" },
	{ "faults: []", "faults: [{point: supervisor/spawn/fork, mode: nth}]", "faults[0].nth", "good.yaml:6:" },
	{ "faults: []", "faults: [{point: supervisor/spawn/fork, side: agent}]", "faults[0].side", "good.yaml:6:" },
	{ "faults: []", "faults:\n  - {point: posix/io/net/connect, side: agent, mode: nth, nth: 2}",
	  "faults[0].mode", "good.yaml:7:" },
	{ "faults: []", "faults: [{point: supervisor/spawn/pipe, errno: EWHAT}]", "faults[0].errno", "good.yaml:6:" },
	{ "clauses: [H1, L4]", "clauses: [H1, Z9]", "field clauses", "good.yaml:3:" },
	{ "mode: mock", "mode: maybe", "field expect.mode", "good.yaml:14:" },
	{ "kind: fake", "kind: robot", "field agent.kind", "good.yaml:4:" },
	{ "min_ms: 500", "min_ms: soon", "expect.events[1]", "good.yaml:17:" },
	{ "after: r1", "after: nowhere", "expect.events[1]", "good.yaml:17:" },
	{ "  - wait_ms: 10", "  - wait_ms: -3", "actions[3].wait_ms", "good.yaml:11:" },
	{ "  - stop", "  - dance", "actions[4]", "good.yaml:12:" },
	{ "faults: []", "faults: []\nrepeat_at_once: 2", "field repeat_at_once", "good.yaml:7:" },
	{ "faults: []", "faults: []\nrepeat: 4\nrepeat_at_once: 17", "field repeat_at_once", "good.yaml:8:" },
	{ "kill_agent: SIGKILL", "kill_agent: SIGFOO", "actions[2].kill_agent", "good.yaml:10:" },
	{ "method: process_prompt", "method: ProcessPromptX", "actions[1].call", "good.yaml:9:" },
	{ "{index: 0, ok: true, mock: true}", "{index: 4, ok: true}", "expect.calls[0]", "good.yaml:20:" },
	{ "{index: 0, ok: true, mock: true}", "{index: 0, okay: true}", "unknown key 'okay'", "good.yaml:20:" },
	{ "description: a test\n", "", "required key 'description'", "good.yaml:1:" },
	{ "name: t1", "name: \"bad name\"", "field name", "good.yaml:1:" },
	{ "    - {event: call_start, absent: true}\n", "    - {event: call_start, absent: true, min_ms: 3}\n",
	  "count/absent", "good.yaml:18:" },
	{ "clauses: [H1, L4]", "clauses: [H1, L4]\nbogus: 1", "unknown key 'bogus'", "good.yaml:4:" },
	{ "faults: []", "faults: []\nenv: [TMPDIR]", "field env", "good.yaml:7:" },
	{ "faults: []", "faults: []\nenv: {TMPDIR: [a, b]}", "field env.TMPDIR", "good.yaml:7:" },
	{ "kind: fake", "kind: discovered", "preset/script only apply", "good.yaml:" },
	{ "agent: {", "agent: [", "good.yaml", "" }, /* not YAML at all */
};

static void test_bad(void **state)
{
	(void)state;
	int failures = 0;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad_case *b = &bad_cases[i];
		char text[4096];
		const char *p = strstr(GOOD, b->from);
		assert_non_null(p);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - GOOD), GOOD, b->to, p + strlen(b->from));
		hx_scenario *sc = NULL;
		char err[512] = "";
		int rc = hx_scenario_parse("good.yaml", text, strlen(text), &sc, err, sizeof(err));
		if (rc >= 0 || !strstr(err, b->want) || !strstr(err, b->line))
		{
			print_error("case %zu (%s → %s): rc %d, err \"%s\"\n", i, b->from, b->to, rc, err);
			failures++;
		}
		hx_scenario_free(sc);
	}
	assert_int_equal(failures, 0);
}

/* A fault plan is normalised: defaults filled, errno names resolved. */
static void test_faults(void **state)
{
	(void)state;
	char text[4096], err[512] = "";
	const char *p = strstr(GOOD, "faults: []");
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - GOOD), GOOD,
		 "faults: [{point: supervisor/spawn/pipe, mode: nth, nth: 2, errno: EMFILE},"
		 " {point: posix/io/net/listen, side: agent, when: {after_event: ready}}]",
		 p + strlen("faults: []"));
	hx_scenario *sc = NULL;
	assert_int_equal(hx_scenario_parse("good.yaml", text, strlen(text), &sc, err, sizeof(err)), 0);
	json_t *f = json_object_get(sc->doc, "faults");
	assert_int_equal(json_array_size(f), 2);
	json_t *a = json_array_get(f, 0), *b = json_array_get(f, 1);
	assert_string_equal(json_string_value(json_object_get(a, "kind")), "code");
	assert_string_equal(json_string_value(json_object_get(a, "side")), "supervisor");
	assert_int_equal(json_integer_value(json_object_get(a, "errno")), 24);
	assert_int_equal(json_integer_value(json_object_get(a, "nth")), 2);
	assert_string_equal(json_string_value(json_object_get(b, "kind")), "posix");
	assert_string_equal(json_string_value(json_object_get(b, "mode")), "always");
	assert_true(json_is_null(json_object_get(b, "errno"))); /* libfiu picks one */
	assert_string_equal(json_string_value(json_object_get(json_object_get(b, "when"), "after_event")), "ready");
	hx_scenario_free(sc);
}

static void test_no_expectations(void **state)
{
	(void)state;
	const char *t = "name: x\ndescription: d\nclauses: [L1]\nagent: {kind: reference}\n"
			"actions: [init]\nexpect: {}\n";
	hx_scenario *sc = NULL;
	char err[512] = "";
	assert_true(hx_scenario_parse("e.yaml", t, strlen(t), &sc, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "no expectation"));
}

/* Every negative control in scenarios/negative/ whose first line is
 * "# load-error: TEXT" must fail to load with TEXT in its message (the
 * misspelt name and the suggestion), not merely fail somehow. */
static const char *negative_dir;

static void test_negative_messages(void **state)
{
	(void)state;
	DIR *d = opendir(negative_dir);
	assert_non_null(d);
	struct dirent *e;
	int checked = 0;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || strcmp(e->d_name + l - 5, ".yaml"))
			continue;
		char path[1024], first[512] = "";
		snprintf(path, sizeof(path), "%s/%s", negative_dir, e->d_name);
		FILE *f = fopen(path, "r");
		assert_non_null(f);
		if (!fgets(first, sizeof(first), f))
			first[0] = '\0';
		fclose(f);
		const char *tag = "# load-error: ";
		if (strncmp(first, tag, strlen(tag)))
			continue;
		char *want = first + strlen(tag);
		want[strcspn(want, "\n")] = '\0';
		hx_scenario *sc = NULL;
		char err[2048] = "";
		int rc = hx_scenario_load(path, &sc, err, sizeof(err));
		if (rc == 0 || !strstr(err, want))
			print_error("%s: expected a load error containing \"%s\", got rc %d: %s\n", path, want, rc, err);
		assert_true(rc < 0);
		assert_non_null(strstr(err, want));
		hx_scenario_free(sc);
		checked++;
	}
	closedir(d);
	assert_true(checked >= 10); /* every kind of typo has its control */
}

int main(int argc, char **argv)
{
	negative_dir = argc > 1 ? argv[1] : "scenarios/negative";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_negative_messages),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_no_expectations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
