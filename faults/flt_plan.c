/* flt_plan: the one fault-plan parser (issue 10). A plan is a JSON array
 * of entries {point, side, mode, nth, probability, seed, errno, when}; the
 * scenario loader (harness), NEIRA_FAULTS and the drive "fault" command
 * (neira-host, faults/flt_runtime.c) all read it here, with the same rules
 * and the same errno table (flt_errno.c). Needs no libfiu. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "flt.h"
#include "nv.h"

int flt_point_find(const char *name)
{
	for (int i = 0; i < FLT_POINT_COUNT_; i++)
		if (name && strcmp(name, flt_point_name((flt_point)i)) == 0)
			return i;
	return -1;
}

#define BAD(idx, key, ...)                                                                         \
	do {                                                                                       \
		*bad_index = (idx);                                                                \
		*bad_key = (key);                                                                  \
		snprintf(msg, msglen, __VA_ARGS__);                                                \
		json_decref(out);                                                                  \
		return -EINVAL;                                                                    \
	} while (0)

int flt_plan_normalise(const json_t *raw, json_t **norm, char *msg, size_t msglen, int *bad_index,
			const char **bad_key)
{
	static const char *const keys[] = { "point", "side", "mode", "nth", "probability", "seed", "errno",
					    "when", NULL };
	json_t *out = json_array();
	*norm = NULL;
	*bad_index = -1;
	*bad_key = NULL;
	size_t i;
	json_t *e;
	json_array_foreach(raw, i, e) {
		int ix = (int)i;
		if (!json_is_object(e))
			BAD(ix, NULL, "a fault is a mapping {point, side, mode, nth, probability, seed, errno, when}");
		const char *k;
		json_t *v;
		json_object_foreach(e, k, v) {
			bool ok = false;
			for (size_t j = 0; keys[j]; j++)
				ok = ok || !strcmp(k, keys[j]);
			if (!ok)
				BAD(ix, k, "unknown key '%s' (known: point, side, mode, nth, probability, seed, errno, when)", k);
		}
		const char *point = json_string_value(json_object_get(e, "point"));
		if (!point || !*point)
			BAD(ix, "point", "required key 'point' is missing or not a string");
		bool code = flt_point_find(point) >= 0;
		bool posix = !strncmp(point, "posix/", 6) || !strncmp(point, "libc/", 5);
		if (!code && !posix) {
			char list[2048] = "";
			for (int p = 0; p < FLT_POINT_COUNT_; p++) {
				size_t l = strlen(list);
				snprintf(list + l, sizeof(list) - l, "%s%s", p ? ", " : "", flt_point_name((flt_point)p));
			}
			BAD(ix, "point", "unknown point '%s' (in-code points: %s; or a libfiu posix/… or libc/… point)",
			    point, list);
		}
		const char *side = json_object_get(e, "side") ? json_string_value(json_object_get(e, "side"))
							       : "supervisor";
		if (!side || (strcmp(side, "supervisor") && strcmp(side, "agent") && strcmp(side, "both")))
			BAD(ix, "side", "side must be supervisor, agent or both");
		if (code && strcmp(side, "supervisor"))
			BAD(ix, "side", "'%s' is an in-code point of the supervisor: side must be supervisor", point);
		const char *mode = json_object_get(e, "mode") ? json_string_value(json_object_get(e, "mode"))
							       : "always";
		if (!mode || (strcmp(mode, "always") && strcmp(mode, "once") && strcmp(mode, "nth") &&
			      strcmp(mode, "probability")))
			BAD(ix, "mode", "mode must be always, once, nth or probability");
		json_t *n = json_object_get(e, "nth"), *pr = json_object_get(e, "probability"),
		       *sd = json_object_get(e, "seed");
		if (!strcmp(mode, "nth") && (!json_is_integer(n) || json_integer_value(n) < 1))
			BAD(ix, "nth", "mode nth needs 'nth', an integer >= 1");
		if (strcmp(mode, "nth") && n)
			BAD(ix, "nth", "'nth' only applies to mode nth");
		if (!strcmp(mode, "probability") &&
		    (!json_is_number(pr) || json_number_value(pr) < 0 || json_number_value(pr) > 1))
			BAD(ix, "probability", "mode probability needs 'probability', a number in 0..1");
		if (strcmp(mode, "probability") && pr)
			BAD(ix, "probability", "'probability' only applies to mode probability");
		if (sd && (!json_is_integer(sd) || json_integer_value(sd) < 0))
			BAD(ix, "seed", "'seed' must be a non-negative integer");
		if (!code && strcmp(side, "supervisor") && !strcmp(mode, "nth"))
			BAD(ix, "mode", "mode nth is not available for posix points on side %s (libfiu's preload "
			    "has no counting mode there; use once, always or probability)", side);
		json_t *ej = json_object_get(e, "errno");
		int en = 0;
		if (json_is_integer(ej))
			en = (int)json_integer_value(ej);
		else if (json_is_string(ej))
			en = flt_errno_from_name(json_string_value(ej));
		if (ej && (en <= 0 || en >= 4096))
			BAD(ix, "errno", "errno must be a name like ECONNREFUSED or a positive number");
		if (!ej && code)
			en = flt_point_errno((flt_point)flt_point_find(point));
		json_t *w = json_object_get(e, "when");
		const char *after = NULL;
		if (w) {
			const char *wk;
			json_t *wv;
			json_object_foreach(w, wk, wv)
				if (strcmp(wk, "after_event"))
					BAD(ix, "when", "when takes one key, after_event");
			after = json_string_value(json_object_get(w, "after_event"));
			if (!json_is_object(w) || !after || !*after)
				BAD(ix, "when", "when must be {after_event: EVENT_NAME}");
			if (!nv_event_find(after)) {
				const char *near = nv_nearest_event(after);
				BAD(ix, "when", "when.after_event: unknown event '%s'%s%s%s", after,
				    near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			}
		}
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I}", "point", point, "kind", code ? "code" : "posix",
				      "side", side, "mode", mode, "seed", sd ? json_integer_value(sd) : (json_int_t)0);
		if (n)
			json_object_set(o, "nth", n);
		if (pr)
			json_object_set(o, "probability", pr);
		json_object_set_new(o, "errno", en ? json_integer(en) : json_null());
		json_object_set_new(o, "errno_name", en && flt_errno_name(en) ? json_string(flt_errno_name(en)) : json_null());
		json_object_set_new(o, "when", after ? json_pack("{s:s}", "after_event", after) : json_null());
		json_array_append_new(out, o);
	}
	/* libfiu's preload seeds its PRNG once per process (FIU_PRNG_SEED): the
	 * agent side has one seed */
	json_int_t agent_seed = 0;
	json_array_foreach(out, i, e) {
		json_int_t sd = json_integer_value(json_object_get(e, "seed"));
		if (strcmp(json_string_value(json_object_get(e, "side")), "supervisor") && sd) {
			if (agent_seed && sd != agent_seed)
				BAD((int)i, "seed", "agent-side faults share one PRNG seed (FIU_PRNG_SEED): %lld and "
				    "%lld differ", (long long)agent_seed, (long long)sd);
			agent_seed = sd;
		}
	}
	*norm = out;
	return 0;
}

