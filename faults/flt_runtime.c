/* flt_runtime: fault plans → libfiu. nth and seeded probability use
 * fiu_enable_external with our own per-point state: libfiu's
 * fiu_enable_random draws from an unseeded PRNG, and it has no "fail only
 * the Nth call" mode. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fiu-control.h>
#include <fiu.h>

#include "flt.h"

#define FLT_MAX_EXTERNAL 64

typedef struct ext_state {
	char name[128];
	int mode;        /* 0 nth, 1 probability, 2 always, 3 once */
	long nth;
	double p;
	uint64_t rng;
	long calls;      /* evaluations of the point */
	long fired;
} ext_state;

static ext_state ext[FLT_MAX_EXTERNAL];
static json_t *pending; /* plan entries with "after_event", not started yet */
static unsigned n_ext;
static bool inited;

static ext_state *ext_find(const char *name)
{
	for (unsigned i = 0; i < n_ext; i++)
		if (strcmp(ext[i].name, name) == 0)
			return &ext[i];
	return NULL;
}

/* splitmix64: small, seedable, good enough to pick failures */
static uint64_t next_rand(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* libfiu calls this each time an external point is evaluated. Points are
 * evaluated on the supervisor's own thread, but grpc threads may reach
 * posix points: the counters are updated atomically. */
static int external_cb(const char *name, int *failnum, void **failinfo, unsigned int *flags)
{
	(void)failnum;
	(void)failinfo;
	(void)flags;
	ext_state *st = ext_find(name);
	if (!st)
		return 0;
	long n = __atomic_add_fetch(&st->calls, 1, __ATOMIC_SEQ_CST);
	bool fail;
	if (st->mode == 2) {
		fail = true;
	} else if (st->mode == 3) {
		long none = 0; /* only the first evaluation, even across threads */
		return __atomic_compare_exchange_n(&st->fired, &none, 1, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	} else if (st->mode == 0) {
		fail = n == st->nth;
	} else {
		uint64_t r = next_rand(&st->rng);
		fail = (double)(r >> 11) / 9007199254740992.0 < st->p;
	}
	if (fail)
		__atomic_add_fetch(&st->fired, 1, __ATOMIC_SEQ_CST);
	return fail;
}

long flt_calls(const char *name)
{
	ext_state *st = name ? ext_find(name) : NULL;
	return st ? __atomic_load_n(&st->calls, __ATOMIC_SEQ_CST) : -1;
}

json_t *flt_stats_json(void)
{
	json_t *o = json_object();
	for (unsigned i = 0; i < n_ext; i++)
		json_object_set_new(o, ext[i].name,
				    json_pack("{s:I, s:I}", "calls", (json_int_t)__atomic_load_n(&ext[i].calls, __ATOMIC_SEQ_CST),
					      "fired", (json_int_t)__atomic_load_n(&ext[i].fired, __ATOMIC_SEQ_CST)));
	return o;
}

#define ERR(...) (snprintf(err, errlen, __VA_ARGS__), -EINVAL)

static int enable_normalised(const json_t *e, char *err, size_t errlen);

/* One entry through the one plan parser (flt_plan.c): the normalised
 * entry (new reference) or NULL with err filled. */
static json_t *normalise_one(const json_t *e, char *err, size_t errlen)
{
	json_t *a = json_array(), *norm = NULL;
	json_array_append(a, (json_t *)e);
	char msg[1024];
	int idx;
	const char *key;
	int rc = flt_plan_normalise(a, &norm, msg, sizeof(msg), &idx, &key);
	json_decref(a);
	if (rc < 0) {
		snprintf(err, errlen, "fault%s%s: %s", key ? " " : "", key ? key : "", msg);
		return NULL;
	}
	json_t *one = json_incref(json_array_get(norm, 0));
	json_decref(norm);
	return one;
}

int flt_enable_json(const json_t *raw, char *err, size_t errlen)
{
	json_t *e = normalise_one(raw, err, errlen);
	if (!e)
		return -EINVAL;
	int rc = enable_normalised(e, err, errlen);
	json_decref(e);
	return rc;
}

static int enable_normalised(const json_t *e, char *err, size_t errlen)
{
	const char *point = json_string_value(json_object_get(e, "point"));
	if (strlen(point) >= sizeof(ext[0].name))
		return ERR("fault %s: point name too long", point);
	const char *mode = json_string_value(json_object_get(e, "mode"));
	int en = (int)json_integer_value(json_object_get(e, "errno")); /* defaulted by the parser */
	/* failinfo carries the errno; NULL lets a posix point pick one */
	void *info = en ? (void *)(intptr_t)en : NULL;
	if (!inited) {
		fiu_init(0);
		inited = true;
	}
	/* Every mode goes through external_cb, so that every point has
	 * calls/fired counts: a plan whose fault never fired is caught
	 * (issue 10), whatever its mode. */
	int rc;
	int m = !strcmp(mode, "nth") ? 0 : !strcmp(mode, "probability") ? 1 : !strcmp(mode, "always") ? 2
	      : !strcmp(mode, "once") ? 3 : -1;
	if (m >= 0) {
		bool nth = m == 0;
		json_t *nj = json_object_get(e, "nth"), *pj = json_object_get(e, "probability");
		if (nth && (!json_is_integer(nj) || json_integer_value(nj) < 1))
			return ERR("fault %s: mode nth needs \"nth\" >= 1", point);
		if (m == 1 && (!json_is_number(pj) || json_number_value(pj) < 0 || json_number_value(pj) > 1))
			return ERR("fault %s: mode probability needs \"probability\" in 0..1", point);
		ext_state *st = ext_find(point);
		if (!st) {
			if (n_ext >= FLT_MAX_EXTERNAL)
				return ERR("fault %s: too many counting points", point);
			st = &ext[n_ext++];
			snprintf(st->name, sizeof(st->name), "%s", point);
		}
		st->mode = m;
		st->nth = nth ? (long)json_integer_value(nj) : 0;
		st->p = m == 1 ? json_number_value(pj) : 0;
		st->rng = (uint64_t)json_integer_value(json_object_get(e, "seed")) ^ 0x6e656972615f666cULL;
		__atomic_store_n(&st->calls, 0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&st->fired, 0, __ATOMIC_SEQ_CST);
		rc = fiu_enable_external(point, 1, info, 0, external_cb);
	} else {
		return ERR("fault %s: mode \"%s\" is not always, once, nth or probability", point, mode);
	}
	if (rc < 0)
		return ERR("fault %s: fiu_enable failed (%d)", point, rc);
	return 0;
}

int flt_disable(const char *name)
{
	if (!name || !*name)
		return -EINVAL;
	if (!inited)
		return -ENOENT;
	return fiu_disable(name) < 0 ? -ENOENT : 0;
}

int flt_apply_env(char *err, size_t errlen)
{
	const char *plan = getenv("NEIRA_FAULTS");
	if (!plan || !*plan)
		return 0;
	json_error_t je;
	json_t *a = json_loads(plan, 0, &je), *norm = NULL;
	if (!json_is_array(a)) {
		json_decref(a);
		return ERR("NEIRA_FAULTS: not a JSON array: %s", a ? "wrong type" : je.text);
	}
	char msg[1024];
	int idx;
	const char *key;
	int rc = flt_plan_normalise(a, &norm, msg, sizeof(msg), &idx, &key); /* the one parser */
	json_decref(a);
	if (rc < 0)
		return ERR("NEIRA_FAULTS[%d]%s%s: %s", idx, key ? "." : "", key ? key : "", msg);
	size_t i;
	json_t *e;
	int n = 0;
	json_array_foreach(norm, i, e) {
		if (!strcmp(json_string_value(json_object_get(e, "side")), "agent"))
			continue; /* the agent side's preload takes those (neira-fault-exec) */
		if (!json_is_null(json_object_get(e, "when"))) { /* started by flt_on_event */
			if (!pending)
				pending = json_array();
			json_array_append(pending, e);
			n++;
			continue;
		}
		rc = enable_normalised(e, err, errlen);
		if (rc < 0) {
			json_decref(norm);
			return rc;
		}
		n++;
	}
	json_decref(norm);
	return n;
}

int flt_on_event(const char *event, const char **started)
{
	*started = NULL;
	if (!pending || !event)
		return 0;
	for (size_t i = 0; i < json_array_size(pending); i++) {
		json_t *e = json_array_get(pending, i);
		if (strcmp(json_string_value(json_object_get(json_object_get(e, "when"), "after_event")), event))
			continue;
		char err[256];
		int rc = enable_normalised(e, err, sizeof(err));
		/* the name must outlive the entry: the external state keeps a copy */
		ext_state *st = ext_find(json_string_value(json_object_get(e, "point")));
		*started = st ? st->name : "?";
		json_array_remove(pending, i);
		return rc < 0 ? rc : 1;
	}
	return 0;
}
