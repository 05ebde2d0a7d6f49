/* nv: tables expanded from the X-macro lists, lookups, the event checker and
 * the nearest-name helper behind every "did you mean" of the project. */
#include "nv.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Every field with its event id; nv__init() groups them per event. */
static const struct {
	nv_event_id ev;
	nv_field f;
} nv__all_fields[] = {
#define NV__E(id, name, lane, clause, desc)
#define NV__F(id, field, types, desc) { NV_EV_##id, { field, types, desc } },
	NV_EVENTS(NV__E, NV__F)
#undef NV__F
#undef NV__E
};
#define NV__N_ALL (sizeof(nv__all_fields) / sizeof(nv__all_fields[0]))

static const nv_field nv__common[] = {
	{ "t_ms", NV_T_NUM, "ms since the supervisor was created (monotonic clock)" },
	{ "event", NV_T_STR, "the event name" },
};

static nv_field nv__fields[NV__N_ALL];
static nv_event nv__events[NV_EV_COUNT_];
static bool nv__ready;

static const char *const nv__lane_names[] = {
#define NV__L(id, name) name,
	NV_LANES(NV__L)
#undef NV__L
};

/* Builds the per-event views from the constant lists. Idempotent and only
 * writes the same values, so concurrent first calls are harmless. */
static void nv__init(void)
{
	if (nv__ready)
		return;
	static const struct {
		nv_event_id id;
		const char *name;
		nv_lane lane;
		const char *clause, *desc;
	} ev[] = {
#define NV__E(id, name, lane, clause, desc) { NV_EV_##id, name, NV_LANE_##lane, clause, desc },
#define NV__F(id, field, types, desc)
		NV_EVENTS(NV__E, NV__F)
#undef NV__E
#undef NV__F
	};
	size_t k = 0;
	for (size_t i = 0; i < NV_EV_COUNT_; i++) {
		nv_event *e = &nv__events[ev[i].id];
		e->id = ev[i].id;
		e->name = ev[i].name;
		e->lane = ev[i].lane;
		e->clause = ev[i].clause;
		e->desc = ev[i].desc;
		e->fields = &nv__fields[k];
		e->n_fields = 0;
		for (size_t j = 0; j < NV__N_ALL; j++)
			if (nv__all_fields[j].ev == ev[i].id) {
				nv__fields[k++] = nv__all_fields[j].f;
				e->n_fields++;
			}
	}
	nv__ready = true;
}

const nv_event *nv_event_get(nv_event_id id)
{
	nv__init();
	return (unsigned)id < NV_EV_COUNT_ ? &nv__events[id] : NULL;
}

const char *nv_event_name(nv_event_id id)
{
	const nv_event *e = nv_event_get(id);
	return e ? e->name : "?";
}

const nv_event *nv_event_find(const char *name)
{
	nv__init();
	for (size_t i = 0; name && i < NV_EV_COUNT_; i++)
		if (!strcmp(nv__events[i].name, name))
			return &nv__events[i];
	return NULL;
}

const nv_field *nv_event_field(const nv_event *e, const char *name)
{
	for (size_t i = 0; i < sizeof(nv__common) / sizeof(nv__common[0]); i++)
		if (!strcmp(nv__common[i].name, name))
			return &nv__common[i];
	for (size_t i = 0; e && i < e->n_fields; i++)
		if (!strcmp(e->fields[i].name, name))
			return &e->fields[i];
	return NULL;
}

const char *nv_lane_name(nv_lane l)
{
	return (unsigned)l < NV_LANE_COUNT_ ? nv__lane_names[l] : "?";
}

static bool type_ok(const json_t *v, unsigned types)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return types & NV_T_STR;
	case JSON_INTEGER:
		return types & NV_T_INT;
	case JSON_REAL:
		return (types & NV_T_NUM) == NV_T_NUM;
	case JSON_TRUE:
	case JSON_FALSE:
		return types & NV_T_BOOL;
	case JSON_OBJECT:
		return types & NV_T_OBJ;
	case JSON_ARRAY:
		return types & NV_T_ARR;
	case JSON_NULL:
		return types & NV_T_NULL;
	}
	return false;
}

/* One object against its declaration: only declared fields (common or its
 * own), each of a declared type, every non-optional one present. `what` and
 * `name` label the message ("event spawn", "reply init"). */
static int check_fields(const json_t *o, const char *what, const char *name, const nv_field *common, size_t nc,
			const nv_field *fields, size_t nf, char *err, size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v) {
		const nv_field *f = NULL;
		for (size_t i = 0; i < nc + nf && !f; i++) {
			const nv_field *c = i < nc ? &common[i] : &fields[i - nc];
			if (!strcmp(c->name, k))
				f = c;
		}
		if (!f) {
			snprintf(err, errlen, "%s %s: field %s is not declared for this %s", what, name, k, what);
			return -EINVAL;
		}
		if (!type_ok(v, f->types)) {
			snprintf(err, errlen, "%s %s: field %s has the wrong JSON type", what, name, k);
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < nc + nf; i++) {
		const nv_field *c = i < nc ? &common[i] : &fields[i - nc];
		if (!(c->types & NV_OPT) && !json_object_get(o, c->name)) {
			snprintf(err, errlen, "%s %s: field %s is missing", what, name, c->name);
			return -EINVAL;
		}
	}
	return 0;
}

size_t nv_type_names(unsigned types, const char **out, size_t max)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = { { NV_T_STR, "string" }, { NV_T_NUM, "number" }, { NV_T_INT, "integer" },
		      { NV_T_BOOL, "boolean" }, { NV_T_OBJ, "object" }, { NV_T_ARR, "array" }, { NV_T_NULL, "null" } };
	size_t n = 0;
	unsigned left = types & ~NV_OPT;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && n < max; i++)
		if ((left & names[i].bit) == names[i].bit) {
			out[n++] = names[i].name;
			left &= ~names[i].bit;
		}
	return n;
}

int nv_event_check(const json_t *ev, char *err, size_t errlen)
{
	const char *name = json_string_value(json_object_get(ev, "event"));
	const nv_event *e = nv_event_find(name);
	if (!json_is_object(ev) || !name) {
		snprintf(err, errlen, "not an event object (no string \"event\")");
		return -EINVAL;
	}
	if (!e) {
		const char *near = nv_nearest_event(name);
		snprintf(err, errlen, "event %s: not in the event vocabulary%s%s%s", name,
			 near ? " (did you mean " : "", near ? near : "", near ? "?)" : "");
		return -EINVAL;
	}
	return check_fields(ev, "event", name, nv__common, sizeof(nv__common) / sizeof(nv__common[0]), e->fields,
			    e->n_fields, err, errlen);
}

void nv_event_names(const nv_event *e, char *buf, size_t len)
{
	nv__init();
	size_t n = e ? e->n_fields : NV_EV_COUNT_, off = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				 e ? e->fields[i].name : nv__events[i].name);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static const char *const nv__status[] = { "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
	"FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE",
	"DATA_LOSS", "UNAUTHENTICATED" };
#define NV__N_STATUS (sizeof(nv__status) / sizeof(nv__status[0]))

const char *nv_status_name(int code)
{
	return code >= 0 && (size_t)code < NV__N_STATUS ? nv__status[code] : NULL;
}

int nv_status_code(const char *name)
{
	for (size_t i = 0; name && i < NV__N_STATUS; i++)
		if (!strcasecmp(nv__status[i], name))
			return (int)i;
	return -1;
}

/* Optimal string alignment distance, case-insensitive, on short words. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return (size_t)-1;
	size_t d[64][64];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t m = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < m)
				m = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[la][lb];
}

const char *nv_nearest(const char *word, const char *const *cands, size_t n)
{
	if (!word)
		return NULL;
	size_t best = (size_t)-1, limit = strlen(word) / 3;
	const char *pick = NULL;
	if (limit < 2)
		limit = 2;
	for (size_t i = 0; i < n; i++) {
		if (!cands[i])
			continue;
		size_t dd = distance(word, cands[i]);
		/* a prefix of a longer name ("health" for "health_result") is a
		 * plausible slip too */
		if (dd > limit && strlen(word) >= 4 && !strncasecmp(cands[i], word, strlen(word)))
			dd = limit;
		if (dd < best) {
			best = dd;
			pick = cands[i];
		}
	}
	return best <= limit ? pick : NULL;
}

const char *nv_nearest_event(const char *word)
{
	nv__init();
	const char *names[NV_EV_COUNT_];
	for (size_t i = 0; i < NV_EV_COUNT_; i++)
		names[i] = nv__events[i].name;
	return nv_nearest(word, names, NV_EV_COUNT_);
}

static const char *const nv__caps[] = {
#define NV__C(id, name, desc) name,
	NV_CAPS(NV__C)
#undef NV__C
	NULL
};

const char *const *nv_caps(void)
{
	return nv__caps;
}

bool nv_cap_known(const char *name)
{
	for (size_t i = 0; name && nv__caps[i]; i++)
		if (!strcmp(nv__caps[i], name))
			return true;
	return false;
}

/* ---- replies ---------------------------------------------------------------- */

enum {
#define NV__R(id, kind, desc) NV__RP_##id,
#define NV__RF(id, field, types, desc)
	NV_REPLIES(NV__R, NV__RF)
#undef NV__R
#undef NV__RF
	NV__RP_COUNT
};

static const struct {
	int rp;
	nv_field f;
} nv__reply_fields_all[] = {
#define NV__R(id, kind, desc)
#define NV__RF(id, field, types, desc) { NV__RP_##id, { field, types, desc } },
	NV_REPLIES(NV__R, NV__RF)
#undef NV__R
#undef NV__RF
};
#define NV__N_RF (sizeof(nv__reply_fields_all) / sizeof(nv__reply_fields_all[0]))

static nv_field nv__reply_fields[NV__N_RF];
static nv_reply nv__replies[NV__RP_COUNT];
static bool nv__replies_ready;

static const nv_field nv__reply_common[] = {
	{ "reply", NV_T_STR, "the reply kind" },
	{ "id", NV_T_INT | NV_OPT, "the command's id, echoed" },
};

static void nv__replies_init(void)
{
	if (nv__replies_ready)
		return;
	static const struct {
		const char *kind, *desc;
	} r[] = {
#define NV__R(id, kind, desc) { kind, desc },
#define NV__RF(id, field, types, desc)
		NV_REPLIES(NV__R, NV__RF)
#undef NV__R
#undef NV__RF
	};
	size_t k = 0;
	for (size_t i = 0; i < NV__RP_COUNT; i++) {
		nv__replies[i] = (nv_reply){ r[i].kind, r[i].desc, &nv__reply_fields[k], 0 };
		for (size_t j = 0; j < NV__N_RF; j++)
			if (nv__reply_fields_all[j].rp == (int)i) {
				nv__reply_fields[k++] = nv__reply_fields_all[j].f;
				nv__replies[i].n_fields++;
			}
	}
	nv__replies_ready = true;
}

size_t nv_reply_count(void)
{
	return NV__RP_COUNT;
}

const nv_reply *nv_reply_at(size_t i)
{
	nv__replies_init();
	return i < NV__RP_COUNT ? &nv__replies[i] : NULL;
}

int nv_reply_check(const json_t *rep, char *err, size_t errlen)
{
	nv__replies_init();
	const char *kind = json_string_value(json_object_get(rep, "reply"));
	const nv_reply *r = NULL;
	for (size_t i = 0; kind && i < NV__RP_COUNT; i++)
		if (!strcmp(nv__replies[i].kind, kind))
			r = &nv__replies[i];
	if (!r) {
		snprintf(err, errlen, "reply %s: not a reply kind of the contract", kind ? kind : "(none)");
		return -EINVAL;
	}
	return check_fields(rep, "reply", kind, nv__reply_common, 2, r->fields, r->n_fields, err, errlen);
}
