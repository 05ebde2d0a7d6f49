/* sup_breaker: the circuit breaker of SPEC C1–C4 as a pure state machine.
 * Time is always an input (now_ms, any monotonic base); nothing here reads a
 * clock or sleeps. Only differences of times are used, so any unit works as
 * long as open_ms and every now_ms share it (names say ms: the SPEC's). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum {
	SUP_BREAKER_CLOSED,
	SUP_BREAKER_OPEN,
	SUP_BREAKER_HALF_OPEN,
} sup_breaker_state;

/* Caller-owned, no heap. */
typedef struct sup_breaker {
	int threshold;            /* C1: consecutive failures that open (default 5) */
	int64_t open_ms;          /* C2: time open before half-open (default 30000) */
	sup_breaker_state state;
	int failures;             /* consecutive failures since the last success */
	int64_t last_failure_ms;  /* now_ms of the last counted failure */
	bool trial_in_flight;     /* C3: the one half-open trial is out */
} sup_breaker;

/* Start CLOSED with zero failures. threshold < 1 is taken as 1 and
 * open_ms < 0 as 0, so the machine is always well-defined. */
void sup_breaker_init(sup_breaker *b, int threshold, int64_t open_ms);

/* Ask before a call. true = the call may go; false = fail fast with
 * "circuit breaker is OPEN" without touching the agent (C2). OPEN turns
 * HALF_OPEN once now - last_failure >= open_ms; in HALF_OPEN exactly one
 * call is let through with *is_trial = true, the rest are refused until it
 * reports success/failure/neutral (C3). is_trial may be NULL. Every allowed
 * call must be answered by exactly one of success/failure/neutral. */
bool sup_breaker_allow(sup_breaker *b, int64_t now_ms, bool *is_trial);

/* C1: a success resets the count; C3: a trial success closes the breaker. */
void sup_breaker_success(sup_breaker *b, int64_t now_ms);

/* C1: count a failure; threshold consecutive failures open the breaker.
 * C3: a trial failure reopens it, open_ms counted from now_ms. A failure
 * reported while already OPEN (a call allowed earlier, finishing late)
 * restarts the open period from now_ms. */
void sup_breaker_failure(sup_breaker *b, int64_t now_ms);

/* C4/M2: an allowed call that must count neither way (rejected before
 * sending, casing retry): releases the trial slot, state unchanged. */
void sup_breaker_neutral(sup_breaker *b);

/* "closed", "open", "half_open" ("unknown" otherwise). Static storage. */
const char *sup_breaker_state_name(sup_breaker_state s);

/* When OPEN: ms until the breaker turns half-open (0 if due); else 0. */
int64_t sup_breaker_retry_in_ms(const sup_breaker *b, int64_t now_ms);
