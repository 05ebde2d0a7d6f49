/* nv: the project's shared vocabularies (prefix nv_) — lifecycle events and
 * their fields (nv_events.h), gRPC status names, and "did you mean" — declared
 * once, read by the supervisor, the harness, the fake agents and the report.
 * Depends on jansson only (no grpc), so the harness can link it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "nv_caps.h"
#include "nv_events.h"
#include "nv_replies.h"

typedef enum {
#define NV__E(id, name, lane, clause, desc) NV_EV_##id,
#define NV__F(id, field, types, desc)
	NV_EVENTS(NV__E, NV__F)
#undef NV__E
#undef NV__F
	NV_EV_COUNT_
} nv_event_id;

typedef enum {
#define NV__L(id, name) NV_LANE_##id,
	NV_LANES(NV__L)
#undef NV__L
	NV_LANE_COUNT_
} nv_lane;

typedef struct nv_field {
	const char *name;
	unsigned types; /* NV_T_* | NV_OPT */
	const char *desc;
} nv_field;

typedef struct nv_event {
	nv_event_id id;
	const char *name;
	nv_lane lane;
	const char *clause;
	const char *desc;
	const nv_field *fields; /* n_fields entries, in declaration order */
	size_t n_fields;
} nv_event;

/* The event with this id (static storage; NULL for an unknown id). */
const nv_event *nv_event_get(nv_event_id id);
/* Name of an event id ("spawn"); "?" for an unknown id. */
const char *nv_event_name(nv_event_id id);
/* The event named `name`, or NULL. */
const nv_event *nv_event_find(const char *name);
/* Field `name` of `e` (including the common "t_ms" and "event"), or NULL. */
const nv_field *nv_event_field(const nv_event *e, const char *name);
/* Lane name ("agent"). */
const char *nv_lane_name(nv_lane l);

/* The JSON type names of a field's NV_T_* bits ("string", "integer" | "null",
 * …; NV_OPT ignored): up to max names into out, in a fixed order, where
 * "number" covers integer too. Returns how many. */
size_t nv_type_names(unsigned types, const char **out, size_t max);

/* Check one event object against the vocabulary: a known name, every field
 * declared with a value of a declared type, every non-optional field present.
 * Returns 0, or -EINVAL with "event NAME: field F: cause" in err. */
int nv_event_check(const json_t *ev, char *err, size_t errlen);

/* Write "a, b, c" of the event names (or of the fields of `e` when non-NULL)
 * into buf. */
void nv_event_names(const nv_event *e, char *buf, size_t len);

/* gRPC status code names (grpc/status.h order): "UNAVAILABLE" for 14, NULL
 * outside 0..16; the code of a name (case-insensitive), or -1. */
const char *nv_status_name(int code);
int nv_status_code(const char *name);

/* The candidate nearest to `word` by edit distance (insertions, deletions,
 * substitutions, transpositions; case-insensitive), if it is close enough to
 * be a plausible typo (distance ≤ max(2, len/3)); else NULL. */
const char *nv_nearest(const char *word, const char *const *cands, size_t n);

/* Same over the event names. */
const char *nv_nearest_event(const char *word);

/* Replies (nv_replies.h): the kinds, their fields, and a check of one reply
 * object like nv_event_check (a known kind, only declared fields of their
 * declared types, every non-optional field present). */
typedef struct nv_reply {
	const char *kind;
	const char *desc;
	const nv_field *fields;
	size_t n_fields;
} nv_reply;
size_t nv_reply_count(void);
const nv_reply *nv_reply_at(size_t i);
int nv_reply_check(const json_t *reply, char *err, size_t errlen);

/* Capability names (nv_caps.h), NULL-terminated; and whether `name` is one. */
const char *const *nv_caps(void);
bool nv_cap_known(const char *name);
