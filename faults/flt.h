/* flt: the fault-injection runtime (prefix flt_). Turns a fault plan — JSON,
 * the same shape the harness writes into NEIRA_FAULTS — into libfiu
 * enable calls in the running process, for the in-code points of
 * flt_points.h and, when the posix preload is loaded, for posix/... points.
 *
 * A plan entry: {"point": NAME, "side": "supervisor"|"agent"|"both",
 * "mode": "always"|"once"|"nth"|"probability", "nth": N (1-based, mode nth),
 * "probability": P (0..1), "seed": S, "errno": N or a name, "when":
 * {"after_event": EVENT} (optional: enabled when the supervisor emits that
 * event, from flt_on_event)} — read by flt_plan_normalise, the one parser. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "flt_points.h"

/* The one fault-plan parser (flt_plan.c; no libfiu): validate a plan (a JSON
 * array of {point, side, mode, nth, probability, seed, errno, when}) and
 * return it normalised in *norm (new reference): each entry {point, kind
 * code|posix, side, mode, nth?, probability?, seed, errno (number|null),
 * errno_name, when ({after_event}|null)}. On error -EINVAL, msg, the index
 * of the bad entry and the offending key (or NULL). */
int flt_plan_normalise(const json_t *raw, json_t **norm, char *msg, size_t msglen, int *bad_index,
		       const char **bad_key);

/* The in-code point named `name`, or -1. */
int flt_point_find(const char *name);

/* errno value of a symbolic name ("ECONNREFUSED") or a decimal string; 0
 * when unknown. */
int flt_errno_from_name(const char *name);
/* Symbolic name of an errno value ("EMFILE"), or NULL. */
const char *flt_errno_name(int e);

/* Enable one plan entry. Returns 0, or a negative errno with a message in
 * err (size errlen). Calls fiu_init() on first use. */
int flt_enable_json(const json_t *entry, char *err, size_t errlen);

/* Disable a point (exact name). Returns 0 or a negative errno. */
int flt_disable(const char *name);

/* Apply the plan in environment variable NEIRA_FAULTS (a JSON array), if
 * set. Returns the number of entries enabled, or a negative errno with a
 * message in err. */
int flt_apply_env(char *err, size_t errlen);

/* Start the next pending entry (one with "after_event") waiting for
 * `event`: returns 1 and its point name in *started (static storage), 0
 * when none waits, or a negative errno. Call until it returns 0. */
int flt_on_event(const char *event, const char **started);

/* How many times an nth/probability point was evaluated / fired (for
 * diagnostics); -1 if the point has no counting state. */
long flt_calls(const char *name);
/* {name: {calls, fired}} for every nth/probability point (new reference). */
json_t *flt_stats_json(void);
