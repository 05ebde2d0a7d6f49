/* Unit tests for sup_breaker: SPEC C1–C4 as a transition table walked in a
 * loop, plus one end-to-end sequence through the public calls only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "sup_breaker.h"

#define TH 5
#define OPEN_MS 30000

enum op { OP_ALLOW, OP_SUCCESS, OP_FAILURE, OP_NEUTRAL };

struct bstate {
	sup_breaker_state state;
	int failures;
	int64_t last_failure_ms;
	bool trial_in_flight;
};

struct row {
	const char *what;
	struct bstate start;
	enum op op;
	int64_t now;
	struct bstate expect;
	int allow;    /* OP_ALLOW only: 1/0; -1 = not an allow */
	int is_trial; /* OP_ALLOW only */
};

#define C SUP_BREAKER_CLOSED
#define O SUP_BREAKER_OPEN
#define H SUP_BREAKER_HALF_OPEN

static const struct row rows[] = {
	/* C1 closed */
	{ "closed lets calls pass", { C, 0, 0, false }, OP_ALLOW, 10, { C, 0, 0, false }, 1, 0 },
	{ "closed with failures still passes", { C, 4, 50, false }, OP_ALLOW, 60, { C, 4, 50, false }, 1, 0 },
	{ "failure counts", { C, 0, 0, false }, OP_FAILURE, 100, { C, 1, 100, false }, -1, 0 },
	{ "4th failure stays closed", { C, 3, 90, false }, OP_FAILURE, 100, { C, 4, 100, false }, -1, 0 },
	{ "4 failures then success resets", { C, 4, 100, false }, OP_SUCCESS, 200, { C, 0, 100, false }, -1, 0 },
	{ "success on zero stays zero", { C, 0, 0, false }, OP_SUCCESS, 200, { C, 0, 0, false }, -1, 0 },
	{ "5th consecutive failure opens", { C, 4, 900, false }, OP_FAILURE, 1000, { O, 5, 1000, false }, -1, 0 },
	/* C4: neither way */
	{ "neutral in closed changes nothing", { C, 2, 80, false }, OP_NEUTRAL, 90, { C, 2, 80, false }, -1, 0 },
	/* C2 open */
	{ "open refuses at once", { O, 5, 1000, false }, OP_ALLOW, 1000, { O, 5, 1000, false }, 0, 0 },
	{ "open refuses at open_ms-1", { O, 5, 1000, false }, OP_ALLOW, 1000 + OPEN_MS - 1,
	  { O, 5, 1000, false }, 0, 0 },
	{ "open lets the trial through at open_ms", { O, 5, 1000, false }, OP_ALLOW, 1000 + OPEN_MS,
	  { H, 5, 1000, true }, 1, 1 },
	{ "open long past open_ms lets a trial", { O, 5, 1000, false }, OP_ALLOW, 1000000, { H, 5, 1000, true }, 1, 1 },
	{ "late success while open changes nothing", { O, 5, 1000, false }, OP_SUCCESS, 2000,
	  { O, 5, 1000, false }, -1, 0 },
	{ "late failure while open restarts the period", { O, 5, 1000, false }, OP_FAILURE, 5000,
	  { O, 6, 5000, false }, -1, 0 },
	{ "neutral while open changes nothing", { O, 5, 1000, false }, OP_NEUTRAL, 5000, { O, 5, 1000, false }, -1, 0 },
	/* C3 half-open */
	{ "second caller refused while trial in flight", { H, 5, 1000, true }, OP_ALLOW, 31001,
	  { H, 5, 1000, true }, 0, 0 },
	{ "trial success closes with zero count", { H, 5, 1000, true }, OP_SUCCESS, 31002, { C, 0, 1000, false }, -1, 0 },
	{ "trial failure reopens from now", { H, 5, 1000, true }, OP_FAILURE, 40000, { O, 6, 40000, false }, -1, 0 },
	{ "reopened: refused at fresh open_ms-1", { O, 6, 40000, false }, OP_ALLOW, 40000 + OPEN_MS - 1,
	  { O, 6, 40000, false }, 0, 0 },
	{ "reopened: trial at fresh open_ms", { O, 6, 40000, false }, OP_ALLOW, 40000 + OPEN_MS,
	  { H, 6, 40000, true }, 1, 1 },
	{ "neutral releases the trial", { H, 5, 1000, true }, OP_NEUTRAL, 31005, { H, 5, 1000, false }, -1, 0 },
	{ "released slot: next caller is the trial", { H, 5, 1000, false }, OP_ALLOW, 31006,
	  { H, 5, 1000, true }, 1, 1 },
};

static void test_transition_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		sup_breaker b;
		bool trial = true, allowed = false;

		sup_breaker_init(&b, TH, OPEN_MS);
		b.state = r->start.state;
		b.failures = r->start.failures;
		b.last_failure_ms = r->start.last_failure_ms;
		b.trial_in_flight = r->start.trial_in_flight;
		switch (r->op) {
		case OP_ALLOW:
			allowed = sup_breaker_allow(&b, r->now, &trial);
			break;
		case OP_SUCCESS:
			sup_breaker_success(&b, r->now);
			break;
		case OP_FAILURE:
			sup_breaker_failure(&b, r->now);
			break;
		case OP_NEUTRAL:
			sup_breaker_neutral(&b);
			break;
		}
		print_message("row %zu: %s\n", i, r->what);
		assert_int_equal(b.state, r->expect.state);
		assert_int_equal(b.failures, r->expect.failures);
		assert_int_equal(b.last_failure_ms, r->expect.last_failure_ms);
		assert_int_equal(b.trial_in_flight, r->expect.trial_in_flight);
		if (r->op == OP_ALLOW) {
			assert_int_equal(allowed, r->allow);
			assert_int_equal(trial, r->is_trial);
		}
	}
}

/* The same story through the public calls only: C1 → C2 → C3 → C1. */
static void test_full_cycle(void **state)
{
	sup_breaker b;
	bool trial;
	int64_t t = 0;

	(void)state;
	sup_breaker_init(&b, TH, OPEN_MS);
	for (int i = 0; i < TH; i++) {
		assert_true(sup_breaker_allow(&b, t, &trial));
		assert_false(trial);
		sup_breaker_failure(&b, t);
		t += 10;
	}
	assert_int_equal(b.state, SUP_BREAKER_OPEN);
	assert_int_equal(sup_breaker_retry_in_ms(&b, t - 10), OPEN_MS);
	assert_int_equal(sup_breaker_retry_in_ms(&b, t), OPEN_MS - 10);
	assert_false(sup_breaker_allow(&b, t, NULL));
	t = 40 + OPEN_MS; /* last failure at 40 */
	assert_int_equal(sup_breaker_retry_in_ms(&b, t), 0);
	assert_true(sup_breaker_allow(&b, t, &trial));
	assert_true(trial);
	assert_int_equal(sup_breaker_retry_in_ms(&b, t), 0); /* half-open: nothing to wait for */
	assert_false(sup_breaker_allow(&b, t + 1, &trial));
	assert_false(trial);
	sup_breaker_success(&b, t + 2);
	assert_int_equal(b.state, SUP_BREAKER_CLOSED);
	assert_int_equal(b.failures, 0);
	assert_true(sup_breaker_allow(&b, t + 3, NULL));
}

static void test_names_and_init(void **state)
{
	sup_breaker b;

	(void)state;
	assert_string_equal(sup_breaker_state_name(SUP_BREAKER_CLOSED), "closed");
	assert_string_equal(sup_breaker_state_name(SUP_BREAKER_OPEN), "open");
	assert_string_equal(sup_breaker_state_name(SUP_BREAKER_HALF_OPEN), "half_open");
	assert_string_equal(sup_breaker_state_name((sup_breaker_state)42), "unknown");
	/* Nonsense limits are clamped to a working machine: one failure opens. */
	sup_breaker_init(&b, 0, -5);
	assert_int_equal(b.threshold, 1);
	assert_int_equal(b.open_ms, 0);
	sup_breaker_failure(&b, 7);
	assert_int_equal(b.state, SUP_BREAKER_OPEN);
	assert_true(sup_breaker_allow(&b, 7, NULL)); /* open_ms 0: half-open at once */
	assert_false(sup_breaker_allow(NULL, 0, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transition_table),
		cmocka_unit_test(test_full_cycle),
		cmocka_unit_test(test_names_and_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
