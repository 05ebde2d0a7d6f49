/* Unit tests of sup_health, the L5/H1–H4 state machine, on an exact
 * simulated timeline (no clock, no sleeping): each case is a row of a table
 * walked by one simulator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sup_health.h"

#define MS 1000 /* µs per ms */
#define NEVER INT64_MAX

typedef struct {
	const char *name;
	int64_t ready_timeout_ms, marker_at_ms, socket_at_ms;
	bool ok[4];
	int64_t dur_ms[4];
	/* expected */
	int64_t attempt_at_ms[4]; /* -1 = no such attempt */
	const char *wait_reason[4];
	bool ready;
	int64_t end_at_ms;
	bool timed_out;
} row;

static const row rows[] = {
	{ "H4 marker+socket -> one confirmation -> ready", 15000, 10, 12, { true }, { 3 },
	  { 12, -1, -1, -1 }, { NULL }, true, 15, false },
	{ "L5 socket before marker: still waits for the marker", 15000, 40, 5, { true }, { 1 },
	  { 40, -1, -1, -1 }, { NULL }, true, 41, false },
	{ "H1 never ready, instant failures: T, T+0.5, T+1.5, mock T+3.5", 15000, NEVER, NEVER,
	  { false, false, false }, { 0, 0, 0 }, { 15000, 15500, 16500, -1 }, { "elapsed", "elapsed", "elapsed" },
	  false, 18500, true },
	{ "H1 with attempt durations added", 15000, NEVER, NEVER, { false, false, false }, { 100, 100, 100 },
	  { 15000, 15600, 16700, -1 }, { "elapsed", "elapsed", "elapsed" }, false, 18800, true },
	{ "H1 success at attempt 2", 2000, NEVER, NEVER, { false, true }, { 7, 7 },
	  { 2000, 2507, -1, -1 }, { "elapsed" }, true, 2514, true },
	{ "H1 success at attempt 3", 2000, NEVER, NEVER, { false, false, true }, { 0, 0, 0 },
	  { 2000, 2500, 3500, -1 }, { "elapsed", "elapsed" }, true, 3500, true },
	{ "H1(a) negative answers wait the same (H3 deadline durations)", 100, NEVER, NEVER,
	  { false, false, false }, { 1000, 1000, 1000 }, { 100, 1600, 3600, -1 },
	  { "elapsed", "elapsed", "elapsed" }, false, 6600, true },
	{ "H1(b) marker during the first wait ends it early", 1000, 1200, 0, { false, true }, { 0, 0 },
	  { 1000, 1200, -1, -1 }, { "marker" }, true, 1200, true },
	{ "H1(b) marker during the second wait", 1000, 2000, 0, { false, false, true }, { 0, 0, 0 },
	  { 1000, 1500, 2000, -1 }, { "elapsed", "marker" }, true, 2000, true },
	{ "H1 marker during the last wait does not add a 4th attempt", 1000, 3000, 0, { false, false, false },
	  { 0, 0, 0 }, { 1000, 1500, 2500, -1 }, { "elapsed", "elapsed", "elapsed" }, false, 4500, true },
	{ "L5 marker but socket never usable -> deadline -> series", 300, 10, NEVER, { false, false, false },
	  { 0, 0, 0 }, { 300, 800, 1800, -1 }, { "elapsed", "elapsed", "elapsed" }, false, 3800, true },
};

static void run_row(const row *r)
{
	sup_health h;
	int64_t t = 0;
	sup_health_init(&h, 3, 500 * MS, r->ready_timeout_ms * MS, t);
	int64_t attempt_end = -1;
	int n_att = 0, n_wait = 0;
	bool marker_fed = false, socket_fed = false, timed_out = false, done = false, ready = false;
	int64_t att_at[4] = { -1, -1, -1, -1 };
	for (int guard = 0; guard < 1000 && !done; guard++) {
		if (!marker_fed && r->marker_at_ms != NEVER && t >= r->marker_at_ms * MS) {
			sup_health_marker(&h, t);
			marker_fed = true;
		}
		if (!socket_fed && r->socket_at_ms != NEVER && t >= r->socket_at_ms * MS) {
			sup_health_socket_usable(&h, t);
			socket_fed = true;
		}
		if (attempt_end >= 0 && t >= attempt_end) {
			attempt_end = -1;
			sup_health_attempt_done(&h, t, r->ok[n_att - 1]);
		}
		for (;;) {
			sup_health_action a = sup_health_step(&h, t);
			if (a == SUP_HA_NONE)
				break;
			switch (a) {
			case SUP_HA_READY_TIMEOUT:
				timed_out = true;
				break;
			case SUP_HA_START_ATTEMPT:
				assert_int_equal(h.attempt, n_att + 1);
				assert_true(n_att < 3);
				att_at[n_att] = t / MS;
				attempt_end = t + r->dur_ms[n_att] * MS;
				n_att++;
				break;
			case SUP_HA_WAIT_START:
				assert_int_equal(h.planned_us, (500 * MS) << (h.attempt - 1));
				break;
			case SUP_HA_WAIT_END:
				assert_non_null(r->wait_reason[n_wait]);
				assert_string_equal(h.wait_end_reason, r->wait_reason[n_wait]);
				n_wait++;
				break;
			case SUP_HA_READY:
			case SUP_HA_FAILED:
				ready = a == SUP_HA_READY;
				done = true;
				assert_int_equal(t / MS, r->end_at_ms);
				break;
			default:
				break;
			}
		}
		if (done)
			break;
		/* advance to the next thing that can happen */
		int64_t next = INT64_MAX;
		int64_t dl = sup_health_deadline(&h);
		if (dl >= 0 && dl < next)
			next = dl;
		if (attempt_end >= 0 && attempt_end < next)
			next = attempt_end;
		if (!marker_fed && r->marker_at_ms != NEVER && r->marker_at_ms * MS < next)
			next = r->marker_at_ms * MS;
		if (!socket_fed && r->socket_at_ms != NEVER && r->socket_at_ms * MS < next)
			next = r->socket_at_ms * MS;
		assert_true(next != INT64_MAX);
		if (next > t)
			t = next;
	}
	assert_true(done);
	assert_int_equal(ready, r->ready);
	assert_int_equal(timed_out, r->timed_out);
	for (int i = 0; i < 4; i++)
		assert_int_equal(att_at[i], r->attempt_at_ms[i]);
}

static void test_H1_H4_L5_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		print_message("  row: %s\n", rows[i].name);
		run_row(&rows[i]);
	}
}

static void test_H1_wait_lengths(void **state)
{
	(void)state;
	sup_health h;
	sup_health_init(&h, 3, 500 * MS, 0, 0);
	assert_int_equal(sup_health_wait_us(&h, 1), 500 * MS);
	assert_int_equal(sup_health_wait_us(&h, 2), 1000 * MS);
	assert_int_equal(sup_health_wait_us(&h, 3), 2000 * MS);
}

static void test_H1_base_zero_means_no_wait(void **state)
{
	(void)state; /* the negative-control config: health_base_delay_ms=0 */
	sup_health h;
	sup_health_init(&h, 3, 0, 0, 0);
	assert_int_equal(sup_health_step(&h, 0), SUP_HA_READY_TIMEOUT);
	assert_int_equal(sup_health_step(&h, 0), SUP_HA_START_ATTEMPT);
	sup_health_attempt_done(&h, 0, false);
	assert_int_equal(sup_health_step(&h, 0), SUP_HA_WAIT_START);
	assert_int_equal(sup_health_step(&h, 0), SUP_HA_WAIT_END);
	assert_int_equal(sup_health_step(&h, 0), SUP_HA_START_ATTEMPT);
	assert_int_equal(h.attempt, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_H1_H4_L5_table),
		cmocka_unit_test(test_H1_wait_lengths),
		cmocka_unit_test(test_H1_base_zero_means_no_wait),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
