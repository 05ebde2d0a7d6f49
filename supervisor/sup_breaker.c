/* sup_breaker: SPEC C1–C4 circuit breaker; time comes in, nothing sleeps. */
#include "sup_breaker.h"

#include <limits.h>
#include <stddef.h>

void sup_breaker_init(sup_breaker *b, int threshold, int64_t open_ms)
{
	if (!b)
		return;
	b->threshold = threshold >= 1 ? threshold : 1;
	b->open_ms = open_ms >= 0 ? open_ms : 0;
	b->state = SUP_BREAKER_CLOSED;
	b->failures = 0;
	b->last_failure_ms = 0;
	b->trial_in_flight = false;
}

/* failures keeps counting consecutive failures past the threshold (for
 * display); saturate rather than overflow on an agent that never recovers. */
static void sup__count(sup_breaker *b)
{
	if (b->failures < INT_MAX)
		b->failures++;
}

static void sup__open(sup_breaker *b, int64_t now_ms)
{
	b->state = SUP_BREAKER_OPEN;
	b->last_failure_ms = now_ms; /* C2/C3: the open period counts from here */
	b->trial_in_flight = false;
}

bool sup_breaker_allow(sup_breaker *b, int64_t now_ms, bool *is_trial)
{
	if (is_trial)
		*is_trial = false;
	if (!b)
		return false;
	switch (b->state) {
	case SUP_BREAKER_CLOSED:
		return true;
	case SUP_BREAKER_OPEN:
		/* C2: refuse until open_ms have passed since the last failure. */
		if (now_ms - b->last_failure_ms < b->open_ms)
			return false;
		b->state = SUP_BREAKER_HALF_OPEN;
		b->trial_in_flight = false;
		/* fall through: the first caller after the period is the trial */
		/* FALLTHROUGH */
	case SUP_BREAKER_HALF_OPEN:
		/* C3: exactly one trial; others fail fast while it is out. */
		if (b->trial_in_flight)
			return false;
		b->trial_in_flight = true;
		if (is_trial)
			*is_trial = true;
		return true;
	}
	return false;
}

void sup_breaker_success(sup_breaker *b, int64_t now_ms)
{
	(void)now_ms; /* kept in the signature for symmetry and event stamps */
	if (!b)
		return;
	switch (b->state) {
	case SUP_BREAKER_CLOSED:
		b->failures = 0; /* C1: a success resets the consecutive count */
		break;
	case SUP_BREAKER_HALF_OPEN:
		/* C3: trial success → closed with a zero count. */
		b->state = SUP_BREAKER_CLOSED;
		b->failures = 0;
		b->trial_in_flight = false;
		break;
	case SUP_BREAKER_OPEN:
		/* A call allowed before the breaker opened, answering late: it
		 * proves nothing about the agent now, so the open period stands. */
		break;
	}
}

void sup_breaker_failure(sup_breaker *b, int64_t now_ms)
{
	if (!b)
		return;
	switch (b->state) {
	case SUP_BREAKER_CLOSED:
		b->last_failure_ms = now_ms;
		/* C1: threshold consecutive failures open the breaker. */
		sup__count(b);
		if (b->failures >= b->threshold)
			sup__open(b, now_ms);
		break;
	case SUP_BREAKER_HALF_OPEN:
		/* C3: trial failure → open again, counted from this failure. */
		sup__count(b);
		sup__open(b, now_ms);
		break;
	case SUP_BREAKER_OPEN:
		/* C2: "30 s since the last failure" — a late failure is one. */
		sup__count(b);
		b->last_failure_ms = now_ms;
		break;
	}
}

void sup_breaker_neutral(sup_breaker *b)
{
	/* C4/M2: neither success nor failure; only the trial slot is freed so
	 * that the next caller can be the trial. */
	if (b && b->state == SUP_BREAKER_HALF_OPEN)
		b->trial_in_flight = false;
}

const char *sup_breaker_state_name(sup_breaker_state s)
{
	switch (s) {
	case SUP_BREAKER_CLOSED:
		return "closed";
	case SUP_BREAKER_OPEN:
		return "open";
	case SUP_BREAKER_HALF_OPEN:
		return "half_open";
	}
	return "unknown";
}

int64_t sup_breaker_retry_in_ms(const sup_breaker *b, int64_t now_ms)
{
	int64_t left;

	if (!b || b->state != SUP_BREAKER_OPEN)
		return 0;
	left = b->last_failure_ms + b->open_ms - now_ms;
	return left > 0 ? left : 0;
}
