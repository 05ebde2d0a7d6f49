/* hx_term: what a person reads in a terminal (issue 14) — colour only on a
 * TTY with NO_COLOR unset, numbers rounded, checks named by the labels the
 * scenario's author wrote, timelines as aligned rows (time, lane, event, key
 * fields), text cut at a word boundary. Machine outputs (result JSON)
 * are never written here. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hx_internal.h"
#include "nv.h"

hx_term hx_term_for(FILE *f)
{
	const char *nc = getenv("NO_COLOR"); /* https://no-color.org: set and non-empty */
	return (hx_term){ .colour = isatty(fileno(f)) && !(nc && *nc) };
}

const char *hx_term_sgr(const hx_term *t, const char *word)
{
	if (!t->colour)
		return "";
	if (!word)
		return "\033[0m";
	if (!strcmp(word, "PASS") || !strcmp(word, "ok"))
		return "\033[32m";
	if (!strcmp(word, "FAIL") || !strcmp(word, "ERROR"))
		return "\033[1;31m";
	if (!strcmp(word, "N/A"))
		return "\033[33m";
	return "\033[2m"; /* anything else: dim (progress, hints) */
}

/* ---- values ----------------------------------------------------------------- */

static void put(char *buf, size_t n, size_t *l, const char *fmt, const char *s)
{
	if (*l < n)
		*l += (size_t)snprintf(buf + *l, n - *l, fmt, s);
}

void hx_term_number(char *buf, size_t n, double v)
{
	double mag = v < 0 ? -v : v;
	if (mag < 1e15 && v == (double)(long long)v)
		snprintf(buf, n, "%.0f", v);
	else if (mag >= 1)
		snprintf(buf, n, "%.1f", v);
	else
		snprintf(buf, n, "%.2g", v);
}

void hx_term_value(char *buf, size_t n, const json_t *v, size_t max_str)
{
	size_t l = 0;
	buf[0] = '\0';
	if (!v) {
		snprintf(buf, n, "(absent)");
	} else if (json_is_number(v)) {
		hx_term_number(buf, n, json_number_value(v));
	} else if (json_is_string(v)) {
		const char *s = json_string_value(v);
		bool bare = *s && !strpbrk(s, " =,{}\"");
		size_t sl = strlen(s);
		char cut[512];
		snprintf(cut, sizeof(cut), "%.*s%s", (int)(max_str && sl > max_str ? max_str : sl), s,
			 max_str && sl > max_str ? "…" : "");
		snprintf(buf, n, bare ? "%s" : "\"%s\"", cut);
	} else if (json_is_object(v) && json_is_string(json_object_get(v, "message"))) {
		/* an error record: its message is what a person reads first */
		hx_term_value(buf, n, json_object_get(v, "message"), max_str);
	} else if (json_is_object(v)) {
		const char *k;
		json_t *x;
		put(buf, n, &l, "%s", "{");
		json_object_foreach((json_t *)v, k, x) {
			char one[600];
			hx_term_value(one, sizeof(one), x, max_str);
			put(buf, n, &l, l > 1 ? " %s=" : "%s=", k);
			put(buf, n, &l, "%s", one);
		}
		put(buf, n, &l, "%s", "}");
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		put(buf, n, &l, "%s", "[");
		json_array_foreach(v, i, x) {
			char one[600];
			hx_term_value(one, sizeof(one), x, max_str);
			put(buf, n, &l, i ? ", %s" : "%s", one);
		}
		put(buf, n, &l, "%s", "]");
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		snprintf(buf, n, "%s", s ? s : "?");
		free(s);
	}
}

/* ---- timelines -------------------------------------------------------------- */

enum { FIELDS_WIDTH = 110 };

/* "k=v k=v" of every field but the skipped ones, long strings cut. */
static void fields_text(char *buf, size_t n, const json_t *o, const char *const *skip)
{
	size_t l = 0;
	const char *k;
	json_t *x;
	buf[0] = '\0';
	json_object_foreach((json_t *)o, k, x) {
		bool skipped = false;
		for (size_t i = 0; skip[i]; i++)
			skipped = skipped || !strcmp(k, skip[i]);
		if (skipped || json_is_null(x))
			continue;
		char one[700];
		hx_term_value(one, sizeof(one), x, 48);
		put(buf, n, &l, l ? "  %s=" : "%s=", k);
		put(buf, n, &l, "%s", one);
	}
	if (l > FIELDS_WIDTH) { /* a row stays readable; the result JSON has it all */
		char *all = strdup(buf);
		if (all)
			hx_term_fit(buf, n, all, FIELDS_WIDTH);
		free(all);
	}
}

void hx_term_event_row(FILE *f, const json_t *ev, const char *mark)
{
	static const char *const skip[] = { "t_ms", "event", "rx_ms", NULL };
	const char *name = json_string_value(json_object_get(ev, "event")) ?: "?";
	const nv_event *d = nv_event_find(name);
	char fields[2048];
	fields_text(fields, sizeof(fields), ev, skip);
	fprintf(f, "  %1s %9.1f ms  %-8s %-20s %s\n", mark, json_number_value(json_object_get(ev, "t_ms")),
		d ? nv_lane_name(d->lane) : "?", name, fields);
}

void hx_term_slice(FILE *f, const json_t *events, long from, long to, long mark)
{
	long n = (long)json_array_size(events);
	from = from < 0 ? 0 : from;
	to = to > n ? n : to;
	if (from >= to) {
		fprintf(f, "      (no events in this part of the timeline)\n");
		return;
	}
	fprintf(f, "      events %ld..%ld of %ld (> the one this check is about):\n", from, to - 1, n);
	for (long i = from; i < to; i++) {
		fprintf(f, "    ");
		hx_term_event_row(f, json_array_get(events, (size_t)i), i == mark ? ">" : "");
	}
}

void hx_term_timeline(FILE *f, const json_t *res)
{
	static const char *const skip[] = { "rx_ms", "reply", "id", "metrics", NULL };
	json_t *ev = json_object_get(res, "events"), *rp = json_object_get(res, "replies");
	size_t a = 0, b = 0;
	double last_t = 0, last_rx = -1;
	fprintf(f, "  %1s %9s     %-8s %-20s %s\n", "", "t_ms", "lane", "event", "key fields");
	while (a < json_array_size(ev) || b < json_array_size(rp)) {
		json_t *e = json_array_get(ev, a), *r = json_array_get(rp, b);
		double te = e ? json_number_value(json_object_get(e, "rx_ms")) : 1e300;
		double tr = r ? json_number_value(json_object_get(r, "rx_ms")) : 1e300;
		if (e && te <= tr) {
			hx_term_event_row(f, e, "");
			last_t = json_number_value(json_object_get(e, "t_ms"));
			last_rx = te;
			a++;
			continue;
		}
		/* a reply carries only the harness's arrival time: placed on the
		 * supervisor's clock from the last event before it (≈) */
		char fields[2048], kind[64], when[32] = "–";
		fields_text(fields, sizeof(fields), r, skip);
		snprintf(kind, sizeof(kind), "%s", json_string_value(json_object_get(r, "reply")) ?: "?");
		if (last_rx >= 0)
			snprintf(when, sizeof(when), "≈%.1f", last_t + (tr - last_rx));
		/* 11 bytes = 9 columns: "≈" and "–" are 3 bytes wide in UTF-8 */
		fprintf(f, "  < %11s ms  %-8s %-20s %s\n", when, "reply", kind, fields);
		b++;
	}
	fprintf(f, "  (t = ms on the supervisor's clock; < = the host's reply to a harness command, ≈ placed by its "
		   "arrival)\n");
}

/* ---- checks ----------------------------------------------------------------- */

static bool is_event_kind(const char *k)
{
	return k && (!strcmp(k, "event") || !strcmp(k, "event_count") || !strcmp(k, "event_absent"));
}

/* The scenario's expect.events entry an event check came from: they are
 * checked one check per entry, in order (hx_check_events). */
static const json_t *source_entry(const json_t *doc, const json_t *exps, size_t upto)
{
	size_t k = 0, i;
	json_t *e;
	json_array_foreach(exps, i, e) {
		if (i == upto)
			break;
		k += is_event_kind(json_string_value(json_object_get(e, "kind")));
	}
	return json_array_get(json_object_get(json_object_get(doc, "expect"), "events"), k);
}

static const char *label_of(const json_t *doc, json_int_t idx, char *buf, size_t n)
{
	const json_t *e = json_array_get(json_object_get(json_object_get(doc, "expect"), "events"), (size_t)idx);
	const char *lb = json_string_value(json_object_get(e, "label"));
	if (lb)
		snprintf(buf, n, "'%s'", lb);
	else
		snprintf(buf, n, "expected event %lld (%s)", (long long)idx + 1,
			 json_string_value(json_object_get(e, "event")) ?: "?");
	return buf;
}

/* What an event check is, in the author's words: "a2: health_attempt
 * {attempt=2}, 500–750 ms after 'r1'". */
static void event_check_text(char *buf, size_t n, const json_t *x, const json_t *src, const json_t *doc, bool first)
{
	const json_t *want = json_object_get(x, "expected");
	const char *kind = json_string_value(json_object_get(x, "kind"));
	char where[700] = "", lb[160] = "", ref[200], lo[32] = "", hi[32] = "";
	json_t *w = json_object_get(want, "where");
	if (json_object_size(w))
		hx_term_value(where, sizeof(where), w, 60);
	if (json_is_string(json_object_get(src, "label")))
		snprintf(lb, sizeof(lb), "%s: ", json_string_value(json_object_get(src, "label")));
	const char *ev = json_string_value(json_object_get(want, "event")) ?: "?";
	if (!strcmp(kind, "event_absent")) {
		snprintf(buf, n, "%sno %s%s%s", lb, ev, *where ? " " : "", where);
		return;
	}
	if (!strcmp(kind, "event_count")) {
		snprintf(buf, n, "%s%lld × %s%s%s", lb, (long long)json_integer_value(json_object_get(want, "count")), ev,
			 *where ? " " : "", where);
		return;
	}
	json_t *mn = json_object_get(want, "min_ms"), *mx = json_object_get(want, "max_ms");
	if (!mn && !mx) {
		snprintf(buf, n, "%s%s%s%s", lb, ev, *where ? " " : "", where);
		return;
	}
	json_t *after = json_object_get(want, "after");
	if (after)
		label_of(doc, json_integer_value(after), ref, sizeof(ref));
	else
		snprintf(ref, sizeof(ref), first ? "the supervisor's start" : "the previous expected event");
	if (mn)
		hx_term_number(lo, sizeof(lo), json_number_value(mn));
	if (mx)
		hx_term_number(hi, sizeof(hi), json_number_value(mx));
	char win[80];
	if (mn && mx)
		snprintf(win, sizeof(win), "%s–%s ms", lo, hi);
	else
		snprintf(win, sizeof(win), mn ? "more than %s ms" : "at most %s ms", mn ? lo : hi);
	snprintf(buf, n, "%s%s%s%s, %s after %s", lb, ev, *where ? " " : "", where, win, ref);
}

/* "measured …" of a check, rounded: a time window its delta, an event its
 * time, a count its count, a call its reply's gist. */
static void measured_text(char *buf, size_t n, const json_t *x)
{
	const json_t *m = json_object_get(x, "measured");
	const char *kind = json_string_value(json_object_get(x, "kind")) ?: "";
	char v[64];
	buf[0] = '\0';
	if (!m || json_is_null(m))
		return;
	if (json_is_number(json_object_get(m, "delta_ms"))) {
		hx_term_number(v, sizeof(v), json_number_value(json_object_get(m, "delta_ms")));
		snprintf(buf, n, "%s ms", v);
	} else if (!strcmp(kind, "event") && json_object_get(m, "t_ms")) {
		hx_term_number(v, sizeof(v), json_number_value(json_object_get(m, "t_ms")));
		snprintf(buf, n, "at %s ms", v);
	} else if (json_object_get(m, "count") && json_object_size(m) == 1) {
		snprintf(buf, n, "%lld", (long long)json_integer_value(json_object_get(m, "count")));
	} else if (!strcmp(kind, "call")) {
		size_t l = 0;
		static const char *const keys[] = { "ok", "mock", "status", NULL };
		for (size_t i = 0; keys[i]; i++)
			if (json_object_get(m, keys[i])) {
				char one[64];
				hx_term_value(one, sizeof(one), json_object_get(m, keys[i]), 40);
				put(buf, n, &l, l ? " %s=" : "%s=", keys[i]);
				put(buf, n, &l, "%s", one);
			}
	} else {
		hx_term_value(buf, n, m, 80);
	}
}

/* Where in the event stream a failed event check is best seen: its match,
 * or (missing) just after the last event an earlier check matched. */
static long focus_of(const json_t *exps, size_t upto, long *mark)
{
	const json_t *m = json_object_get(json_array_get(exps, upto), "measured");
	if (json_is_integer(json_object_get(m, "index"))) {
		*mark = (long)json_integer_value(json_object_get(m, "index"));
		return *mark;
	}
	*mark = -1;
	long last = 0;
	for (size_t i = 0; i < upto; i++) {
		json_t *mi = json_object_get(json_array_get(exps, i), "measured");
		if (json_is_integer(json_object_get(mi, "index")))
			last = (long)json_integer_value(json_object_get(mi, "index"));
	}
	return last;
}

void hx_term_checks(FILE *f, const hx_term *t, const json_t *res, const json_t *doc, bool all, bool slices)
{
	const json_t *exps = json_object_get(res, "expectations");
	size_t i, n_event = 0;
	json_t *x;
	json_array_foreach(exps, i, x) {
		const char *kind = json_string_value(json_object_get(x, "kind"));
		bool pass = !strcmp(json_string_value(json_object_get(x, "verdict")) ?: "", "pass");
		bool ev = is_event_kind(kind);
		const json_t *src = ev ? source_entry(doc, exps, i) : NULL;
		n_event += ev;
		if (pass && !all)
			continue;
		char what[1200], meas[400];
		if (ev && doc)
			event_check_text(what, sizeof(what), x, src, doc, n_event == 1);
		else
			snprintf(what, sizeof(what), "%s", json_string_value(json_object_get(x, "description")) ?: "");
		const char *msg = json_string_value(json_object_get(x, "message"));
		meas[0] = '\0';
		if (pass || !msg || (!strstr(msg, "measured") && !strstr(msg, " ms after"))) /* else the message says it */
			measured_text(meas, sizeof(meas), x);
		const char *word = pass ? "ok" : "FAIL";
		fprintf(f, "    %s%-4s%s %-4s %-3s %s%s%s%s%s\n", hx_term_sgr(t, word), word, hx_term_sgr(t, NULL),
			json_string_value(json_object_get(x, "id")) ?: "", json_string_value(json_object_get(x, "clause")) ?: "",
			what, *meas ? " — measured " : "", meas, !pass && msg && *msg ? ": " : "", !pass && msg ? msg : "");
		const char *note = json_string_value(json_object_get(src, "note"));
		if (note && (!pass || all))
			fprintf(f, "                  note: %s\n", note);
		if (!pass && slices && ev && strcmp(kind, "event_absent") && strcmp(kind, "event_count")) {
			long mark, at = focus_of(exps, i, &mark);
			hx_term_slice(f, json_object_get(res, "events"), at - 3, at + 4, mark);
		}
	}
	json_array_foreach(json_object_get(res, "invariants"), i, x) {
		bool pass = !strcmp(json_string_value(json_object_get(x, "verdict")) ?: "", "pass");
		if (pass && !all)
			continue;
		const char *word = pass ? "ok" : "FAIL";
		fprintf(f, "    %s%-4s%s inv  %s: %s\n", hx_term_sgr(t, word), word, hx_term_sgr(t, NULL),
			json_string_value(json_object_get(x, "name")), json_string_value(json_object_get(x, "message")));
	}
}

/* ---- text ------------------------------------------------------------------- */

void hx_term_fit(char *buf, size_t n, const char *text, int width)
{
	while (*text == ' ' || *text == '\n')
		text++;
	int len = (int)strlen(text);
	while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\n'))
		len--;
	if (len <= width) {
		snprintf(buf, n, "%.*s", len, text);
		for (char *q = buf; *q; q++)
			*q = *q == '\n' ? ' ' : *q;
		return;
	}
	int cut = width - 1; /* room for the ellipsis; back to the last word boundary */
	while (cut > 0 && text[cut] != ' ' && text[cut] != '\n')
		cut--;
	while (cut > 0 && strchr(" ,;:.-\n", text[cut - 1]))
		cut--;
	snprintf(buf, n, "%.*s…", cut ? cut : width - 1, text);
	for (char *q = buf; *q; q++)
		*q = *q == '\n' ? ' ' : *q;
}
