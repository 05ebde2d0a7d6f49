/* sup_health: the readiness wait and health series of SPEC L5 and H1–H4 as
 * a pure state machine. Time is an input (µs, any monotonic base); the event
 * loop feeds it inputs and carries out the actions it returns. Internal to
 * the supervisor (not part of sup.h), unit-tested on an exact timeline. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum {
	SUP_HS_WAIT_READY, /* L5: marker and socket, one deadline from the spawn */
	SUP_HS_DUE,        /* an attempt is due now */
	SUP_HS_ATTEMPT,    /* an attempt is in flight */
	SUP_HS_BACKOFF,    /* H1: waiting after a failed attempt */
	SUP_HS_READY,
	SUP_HS_FAILED,
} sup_hs_state;

/* What the loop must do next (one action per sup_health_step call). */
typedef enum {
	SUP_HA_NONE,          /* nothing due: wait until sup_health_deadline() or an input */
	SUP_HA_READY_TIMEOUT, /* L5: ready_timeout passed without marker+socket; H1 starts */
	SUP_HA_START_ATTEMPT, /* start attempt h->attempt of h->attempts, then report it */
	SUP_HA_WAIT_START,    /* H1: a wait of h->planned_us began after attempt h->attempt */
	SUP_HA_WAIT_END,      /* the wait ended: h->wait_end_reason, h->wait_actual_us */
	SUP_HA_READY,         /* success: report ready */
	SUP_HA_FAILED,        /* every attempt failed and the last wait is over: mock */
} sup_health_action;

typedef struct sup_health {
	sup_hs_state state;
	int attempts;            /* H1: 3 */
	int64_t base_delay_us;   /* H1: 500 ms */
	int64_t ready_deadline_us;
	int attempt;             /* current/last attempt, 1-based; 0 before the first */
	bool marker, socket_ok;
	bool marker_in_wait;     /* H1(b): the marker arrived during the current wait */
	bool wait_announced, wait_over;
	bool reported;           /* READY/FAILED already returned */
	int64_t wait_start_us, planned_us, wait_actual_us;
	const char *wait_end_reason; /* "elapsed" | "marker" */
} sup_health;

/* Start at `now_us` (the spawn): wait for marker+socket until
 * now + ready_timeout_us. */
void sup_health_init(sup_health *h, int attempts, int64_t base_delay_us, int64_t ready_timeout_us,
		     int64_t now_us);

/* Inputs. */
void sup_health_marker(sup_health *h, int64_t now_us);
void sup_health_socket_usable(sup_health *h, int64_t now_us);
void sup_health_attempt_done(sup_health *h, int64_t now_us, bool ok);

/* Advance; call repeatedly until it returns SUP_HA_NONE. */
sup_health_action sup_health_step(sup_health *h, int64_t now_us);

/* The next time the machine must be stepped without an input, or -1 when
 * only an input can move it (attempt in flight, finished). */
int64_t sup_health_deadline(const sup_health *h);

/* The H1 wait after failed attempt k (1-based): base · 2^(k−1). */
int64_t sup_health_wait_us(const sup_health *h, int k);
