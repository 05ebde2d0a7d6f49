/* hx_run: drive one scenario through `neira-host drive` from outside, then
 * check its expectations against the event stream and the invariants
 * against the world (processes, fds, the private temp dir). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hx.h"

extern char **environ;

double hx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The running neira-host and what came out of it. */
typedef struct host {
	pid_t pid;
	int pidfd;
	int in_fd, out_fd, err_fd;
	char *obuf, *ebuf;
	size_t olen, elen;
	bool out_eof, err_eof, exited;
	int wstatus;
	double t0;          /* harness clock at spawn */
	json_t *events;     /* raw event objects, + "rx_ms" (harness clock) */
	json_t *replies;    /* raw reply objects, + "rx_ms" */
	json_t *timeline;   /* both, in arrival order (borrowed refs) */
	json_t *junk;       /* stdout lines that are neither (protocol violations) */
	json_t *stderr_lines;
	int next_id;
	FILE *log;
	bool verbose;
	hx_faults *fx;      /* the fault plan of this run (hx_faults.c) */
} host;

static int send_cmd(void *ud, json_t *cmd);

static int close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	return 0;
}

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return pid == getpid() ? n - 1 : n; /* minus the DIR's own fd */
}

static void take_line(host *h, char *line)
{
	double rx = hx_now_ms() - h->t0;
	json_error_t je;
	json_t *j = json_loads(line, 0, &je);
	if (h->verbose && h->log)
		fprintf(h->log, "    < %s\n", line);
	if (!json_is_object(j) || (!json_object_get(j, "event") && !json_object_get(j, "reply"))) {
		json_decref(j);
		json_array_append_new(h->junk, json_string(line));
		return;
	}
	json_object_set_new(j, "rx_ms", json_real(rx));
	json_array_append(json_object_get(j, "event") ? h->events : h->replies, j);
	json_array_append_new(h->timeline, j);
	if (h->fx && json_object_get(j, "event"))
		hx_faults_on_event(h->fx, j, send_cmd, h); /* faults with `when: {after_event}` */
}

static void drain(host *h, int fd, char **buf, size_t *len, bool *eof, bool is_err)
{
	char tmp[65536];
	for (;;) {
		ssize_t r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break; /* EAGAIN: split what we have */
		if (r == 0) {
			*eof = true;
			break;
		}
		char *nb = realloc(*buf, *len + (size_t)r + 1);
		if (!nb)
			break;
		*buf = nb;
		memcpy(*buf + *len, tmp, (size_t)r);
		*len += (size_t)r;
	}
	/* split complete lines; at EOF a trailing partial line counts too */
	size_t start = 0;
	for (size_t i = 0; i < *len; i++) {
		if ((*buf)[i] != '\n')
			continue;
		(*buf)[i] = '\0';
		if (is_err)
			json_array_append_new(h->stderr_lines, json_string((*buf) + start));
		else
			take_line(h, (*buf) + start);
		start = i + 1;
	}
	memmove(*buf, *buf + start, *len - start);
	*len -= start;
	if (*eof && *len) {
		(*buf)[*len] = '\0';
		if (is_err)
			json_array_append_new(h->stderr_lines, json_string(*buf));
		else
			take_line(h, *buf);
		*len = 0;
	}
}

static void reap_host(host *h)
{
	if (h->exited)
		return;
	if (waitpid(h->pid, &h->wstatus, WNOHANG) == h->pid)
		h->exited = true;
}

/* Poll the host's pipes and pidfd until `done(h, arg)` or the deadline
 * (harness clock, ms since spawn). Returns 0 when done, -ETIMEDOUT, or
 * -EPIPE if the host is gone and `done` can no longer become true. */
static int pump(host *h, double deadline, bool (*done)(host *, const void *), const void *arg)
{
	for (;;) {
		if (done && done(h, arg))
			return 0;
		if (h->out_eof && h->exited)
			return done ? -EPIPE : 0;
		double now = hx_now_ms() - h->t0;
		if (now >= deadline)
			return -ETIMEDOUT;
		struct pollfd p[3];
		int n = 0;
		if (!h->out_eof)
			p[n++] = (struct pollfd){ .fd = h->out_fd, .events = POLLIN };
		if (!h->err_eof)
			p[n++] = (struct pollfd){ .fd = h->err_fd, .events = POLLIN };
		if (!h->exited)
			p[n++] = (struct pollfd){ .fd = h->pidfd, .events = POLLIN };
		int ms = (int)(deadline - now) + 1;
		int r = poll(p, (nfds_t)n, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (!h->out_eof)
			drain(h, h->out_fd, &h->obuf, &h->olen, &h->out_eof, false);
		if (!h->err_eof)
			drain(h, h->err_fd, &h->ebuf, &h->elen, &h->err_eof, true);
		reap_host(h);
	}
}

static bool reply_arrived(host *h, const void *arg)
{
	int id = *(const int *)arg;
	size_t i;
	json_t *r;
	json_array_foreach(h->replies, i, r)
		if (json_integer_value(json_object_get(r, "id")) == id)
			return true;
	return false;
}

static json_t *find_reply(host *h, int id)
{
	size_t i;
	json_t *r;
	json_array_foreach(h->replies, i, r)
		if (json_integer_value(json_object_get(r, "id")) == id)
			return r;
	return NULL;
}

/* Write one command line (ownership of cmd taken; an "id" is added).
 * Returns the id, or a negative errno. */
static int send_cmd(void *ud, json_t *cmd)
{
	host *h = ud;
	int id = ++h->next_id;
	json_object_set_new(cmd, "id", json_integer(id));
	char *s = json_dumps(cmd, JSON_COMPACT);
	json_decref(cmd);
	if (!s)
		return -ENOMEM;
	if (h->verbose && h->log)
		fprintf(h->log, "    > %s\n", s);
	size_t len = strlen(s);
	s[len] = '\n';
	size_t off = 0;
	while (off < len + 1) {
		ssize_t w = write(h->in_fd, s + off, len + 1 - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = -errno;
			free(s);
			return e;
		}
		off += (size_t)w;
	}
	free(s);
	return id;
}

/* Send one command (ownership of cmd taken), wait for its reply. Returns
 * the reply (borrowed from h->replies) or NULL; *rc says why. */
static json_t *command(host *h, json_t *cmd, double deadline, int *rc)
{
	int id = send_cmd(h, cmd);
	if (id < 0) {
		*rc = id;
		return NULL;
	}
	*rc = pump(h, deadline, reply_arrived, &id);
	return find_reply(h, id);
}

static char *xstrdup_printf(const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(fmt) + strlen(a) + strlen(b) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, fmt, a, b);
	return s;
}

/* Replace "{dir}" with the scenario's temp dir. */
static char *subst_dir(const char *v, const char *dir)
{
	const char *p = strstr(v, "{dir}");
	if (!p)
		return strdup(v);
	size_t n = strlen(v) + strlen(dir) + 1;
	char *s = malloc(n);
	if (!s)
		return NULL;
	snprintf(s, n, "%.*s%s%s", (int)(p - v), v, dir, p + 5);
	return s;
}

static int spawn_host(host *h, char **argv, char **envp)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		goto fail;
	h->t0 = hx_now_ms();
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		/* own process group: a timeout kills the host and anything it left */
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execve(argv[0], argv, envp);
		dprintf(2, "neira-harness: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	h->pid = pid;
	h->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	h->in_fd = in[1];
	h->out_fd = out[0];
	h->err_fd = err[0];
	fcntl(h->out_fd, F_SETFL, O_NONBLOCK);
	fcntl(h->err_fd, F_SETFL, O_NONBLOCK);
	return h->pidfd < 0 ? -errno : 0;
fail:;
	int e = -errno;
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i]);
		close_fd(&out[i]);
		close_fd(&err[i]);
	}
	return e;
}

/* ---- checks ---------------------------------------------------------- */

typedef struct checker {
	json_t *exps;    /* result "expectations" */
	const char *clause0;
	FILE *log;
	int failed;
} checker;

static void add_exp(checker *c, const char *clause, const char *kind, const char *desc, bool pass,
		    json_t *expected, json_t *measured, const char *msg)
{
	char id[16];
	snprintf(id, sizeof(id), "E%zu", json_array_size(c->exps) + 1);
	json_array_append_new(c->exps,
			      json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s}", "id", id, "clause",
					clause ? clause : c->clause0, "kind", kind, "description", desc,
					"verdict", pass ? "pass" : "fail", "expected",
					expected ? expected : json_null(), "measured",
					measured ? measured : json_null(), "message", msg ? msg : ""));
	c->failed += !pass;
}

static const char *const grpc_codes[] = { "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT",
	"DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
	"RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED",
	"INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED" };

/* Text form of a value for comparisons: strings as-is, objects by their
 * "kind"/"message" if any, else compact JSON. Caller frees. */
static char *text_of(const json_t *v)
{
	if (!v)
		return strdup("(absent)");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		char b[32];
		snprintf(b, sizeof(b), "%lld", (long long)json_integer_value(v));
		return strdup(b);
	}
	return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

static const char *kind_of(const json_t *v)
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_object(v)) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		if (k)
			return k;
	}
	return NULL;
}

static bool status_equal(const json_t *v, const char *want)
{
	if (json_is_string(v))
		return !strcasecmp(json_string_value(v), want);
	if (json_is_integer(v)) {
		long long c = json_integer_value(v);
		if (c >= 0 && c < (long long)(sizeof(grpc_codes) / sizeof(grpc_codes[0])) &&
		    !strcasecmp(grpc_codes[c], want))
			return true;
		char b[32];
		snprintf(b, sizeof(b), "%lld", c);
		return !strcmp(b, want);
	}
	return false;
}

/* Does actual value `v` satisfy expectation `m` (scalar or {"op":{…}})? */
static bool match_value(const json_t *v, const json_t *m)
{
	json_t *op = json_object_get(m, "op");
	if (json_is_object(m) && op) {
		json_t *x;
		if ((x = json_object_get(op, "present")) && json_is_true(x) != (v != NULL))
			return false;
		if ((x = json_object_get(op, "min")) &&
		    (!json_is_number(v) || json_number_value(v) < json_number_value(x)))
			return false;
		if ((x = json_object_get(op, "max")) &&
		    (!json_is_number(v) || json_number_value(v) > json_number_value(x)))
			return false;
		if ((x = json_object_get(op, "ne")) && v && match_value(v, x))
			return false;
		if ((x = json_object_get(op, "contains"))) {
			char *t = text_of(v), *w = text_of(x);
			bool ok = v && t && w && strstr(t, w);
			free(t);
			free(w);
			if (!ok)
				return false;
		}
		return true;
	}
	if (!v)
		return false;
	if (json_is_number(m) && json_is_number(v))
		return json_number_value(m) == json_number_value(v);
	if (json_is_string(m) && json_is_string(v))
		return !strcmp(json_string_value(m), json_string_value(v));
	if (json_is_string(m) && json_is_object(v) && kind_of(v)) /* reason objects */
		return !strcmp(json_string_value(m), kind_of(v));
	return json_equal((json_t *)v, (json_t *)m);
}

static bool event_matches(const json_t *ev, const json_t *exp)
{
	if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "",
		   json_string_value(json_object_get(exp, "event"))))
		return false;
	const char *k;
	json_t *m;
	json_object_foreach(json_object_get(exp, "where"), k, m)
		if (!match_value(json_object_get(ev, k), m))
			return false;
	return true;
}

/* Dotted path lookup ("breaker.state"); keys may contain dots themselves
 * ("python_api.initialization_time.count"), so the longest key wins. */
static json_t *dig(json_t *root, const char *path)
{
	if (!json_is_object(root))
		return NULL;
	json_t *v = json_object_get(root, path);
	if (v)
		return v;
	for (size_t i = strlen(path); i-- > 0;) {
		if (path[i] != '.')
			continue;
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)i, path);
		if ((v = json_object_get(root, key)) && (v = dig(v, path + i + 1)))
			return v;
	}
	return NULL;
}

static void print_event(FILE *f, const json_t *ev, const char *mark)
{
	json_t *cp = json_deep_copy(ev);
	json_object_del(cp, "t_ms");
	json_object_del(cp, "event");
	json_object_del(cp, "rx_ms");
	char *rest = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
	fprintf(f, "      %s %10.3f  %-20s %s\n", mark, json_number_value(json_object_get(ev, "t_ms")),
		json_string_value(json_object_get(ev, "event")), rest ? rest : "");
	free(rest);
	json_decref(cp);
}

static void slice(FILE *f, json_t *events, long from, long to, long hl)
{
	long n = (long)json_array_size(events);
	if (from < 0)
		from = 0;
	if (to > n)
		to = n;
	if (from >= to) {
		fprintf(f, "      (no events in this part of the timeline)\n");
		return;
	}
	fprintf(f, "      timeline slice (events %ld..%ld of %ld):\n", from, to - 1, n);
	for (long i = from; i < to; i++)
		print_event(f, json_array_get(events, (size_t)i), i == hl ? ">" : " ");
}

static void check_events(checker *c, json_t *exp_events, json_t *events)
{
	size_t ne = json_array_size(exp_events);
	long *matched = calloc(ne + 1, sizeof(long));
	long cursor = 0, prev = -1;
	size_t i;
	json_t *x;
	json_array_foreach(exp_events, i, x) {
		matched[i] = -1;
		const char *name = json_string_value(json_object_get(x, "event"));
		const char *clause = json_string_value(json_object_get(x, "clause"));
		char *wh = json_dumps(json_object_get(x, "where") ?: json_object(), JSON_COMPACT);
		char desc[512];
		json_t *cnt = json_object_get(x, "count");
		bool absent = json_is_true(json_object_get(x, "absent"));
		if (cnt || absent) {
			long want = absent ? 0 : (long)json_integer_value(cnt);
			long got = 0, first = -1;
			size_t j;
			json_t *ev;
			json_array_foreach(events, j, ev)
				if (event_matches(ev, x)) {
					if (first < 0)
						first = (long)j;
					got++;
				}
			snprintf(desc, sizeof(desc), "%s %s where %s", absent ? "no event" : "count of",
				 name, wh);
			bool ok = got == want;
			char msg[256];
			snprintf(msg, sizeof(msg), "expected %ld matching event(s), saw %ld", want, got);
			add_exp(c, clause, absent ? "event_absent" : "event_count", desc, ok,
				json_pack("{s:s,s:O,s:i}", "event", name, "where",
					  json_object_get(x, "where") ?: json_null(), "count", (int)want),
				json_pack("{s:i}", "count", (int)got), ok ? "" : msg);
			if (!ok && c->log) {
				fprintf(c->log, "    detail — %s: %s\n", desc, msg);
				if (first >= 0)
					slice(c->log, events, first - 3, first + 4, first);
			}
			free(wh);
			continue;
		}
		bool ordered = !json_is_false(json_object_get(x, "ordered"));
		long j = -1;
		for (long k = ordered ? cursor : 0; k < (long)json_array_size(events); k++)
			if (event_matches(json_array_get(events, (size_t)k), x)) {
				j = k;
				break;
			}
		json_t *after = json_object_get(x, "after");
		long ref = after ? matched[json_integer_value(after)] : prev;
		bool ref_missing = (after || prev >= 0) && ref < 0 && (after || prev != -1);
		json_t *mn = json_object_get(x, "min_ms"), *mx = json_object_get(x, "max_ms");
		snprintf(desc, sizeof(desc), "%s where %s%s%s", name, wh,
			 (mn || mx) ? (after ? " timed after expected event #" : " timed after the previous expected event")
				    : "",
			 "");
		if (after && (mn || mx)) {
			size_t l = strlen(desc);
			snprintf(desc + l, sizeof(desc) - l, "%lld", json_integer_value(after));
		}
		if ((mn || mx) && !after && prev < 0 && i == 0)
			snprintf(desc, sizeof(desc), "%s where %s timed from supervisor creation", name, wh);
		json_t *expected = json_pack("{s:s,s:O}", "event", name, "where",
					     json_object_get(x, "where") ?: json_null());
		if (mn)
			json_object_set(expected, "min_ms", mn);
		if (mx)
			json_object_set(expected, "max_ms", mx);
		if (after)
			json_object_set(expected, "after", after);
		if (j < 0) {
			long anywhere = -1;
			for (long k = 0; k < (long)json_array_size(events); k++)
				if (event_matches(json_array_get(events, (size_t)k), x)) {
					anywhere = k;
					break;
				}
			char msg[256];
			if (anywhere >= 0)
				snprintf(msg, sizeof(msg), "seen only out of order (event #%ld, before the "
					 "previous expected event #%ld)", anywhere, cursor - 1);
			else
				snprintf(msg, sizeof(msg), "no matching event in the stream");
			add_exp(c, clause, "event", desc, false, expected, NULL, msg);
			if (c->log) {
				fprintf(c->log, "    detail — %s: %s\n", desc, msg);
				slice(c->log, events, cursor - 2, cursor + 10, -1);
			}
			free(wh);
			continue;
		}
		matched[i] = j;
		double t = json_number_value(json_object_get(json_array_get(events, (size_t)j), "t_ms"));
		double t_ref = ref >= 0 ? json_number_value(json_object_get(
							 json_array_get(events, (size_t)ref), "t_ms"))
					: 0.0;
		double delta = t - t_ref;
		json_t *measured = json_pack("{s:f,s:i}", "t_ms", t, "index", (int)j);
		bool ok = true;
		char msg[256] = "";
		if (mn || mx) {
			json_object_set_new(measured, "delta_ms", json_real(delta));
			if (ref_missing) {
				ok = false;
				snprintf(msg, sizeof(msg), "reference event was not matched, cannot time");
			} else if (mn && delta < json_number_value(mn)) {
				ok = false;
				snprintf(msg, sizeof(msg), "%.3f ms after its reference, expected ≥ %g ms",
					 delta, json_number_value(mn));
			} else if (mx && delta > json_number_value(mx)) {
				ok = false;
				snprintf(msg, sizeof(msg), "%.3f ms after its reference, expected ≤ %g ms",
					 delta, json_number_value(mx));
			}
		}
		add_exp(c, clause, "event", desc, ok, expected, measured, msg);
		if (!ok && c->log) {
			fprintf(c->log, "    detail — %s: %s\n", desc, msg);
			slice(c->log, events, (ref >= 0 ? ref : j) - 1, j + 2, j);
		}
		if (ordered) {
			cursor = j + 1;
			prev = j;
		}
		free(wh);
	}
	free(matched);
}

static void check_calls(checker *c, json_t *exp_calls, json_t *call_replies)
{
	size_t i;
	json_t *x;
	json_array_foreach(exp_calls, i, x) {
		int idx = (int)json_integer_value(json_object_get(x, "index"));
		json_t *r = json_array_get(call_replies, (size_t)idx);
		const char *clause = json_string_value(json_object_get(x, "clause"));
		json_t *expected = json_deep_copy(x);
		json_object_del(expected, "clause");
		char desc[128];
		snprintf(desc, sizeof(desc), "call #%d outcome", idx);
		if (!r) {
			add_exp(c, clause, "call", desc, false, expected, NULL,
				"no reply to this call (it was never answered or never sent)");
			if (c->log)
				fprintf(c->log, "    detail — %s: no reply\n", desc);
			continue;
		}
		char msg[1024] = "";
		size_t ml = 0;
#define BAD(...) (ml += (size_t)snprintf(msg + ml, ml < sizeof(msg) ? sizeof(msg) - ml : 0, __VA_ARGS__))
		json_t *v;
		if ((v = json_object_get(x, "ok")) && json_is_true(json_object_get(r, "ok")) != json_is_true(v))
			BAD("ok is %s, expected %s; ", json_is_true(json_object_get(r, "ok")) ? "true" : "false",
			    json_is_true(v) ? "true" : "false");
		if ((v = json_object_get(x, "mock")) &&
		    json_is_true(json_object_get(r, "mock")) != json_is_true(v))
			BAD("mock is %s, expected %s; ",
			    json_is_true(json_object_get(r, "mock")) ? "true" : "false",
			    json_is_true(v) ? "true" : "false");
		if ((v = json_object_get(x, "status")) &&
		    !status_equal(json_object_get(r, "status"), json_string_value(v))) {
			char *t = text_of(json_object_get(r, "status"));
			BAD("status is %s, expected %s; ", t ? t : "?", json_string_value(v));
			free(t);
		}
		if ((v = json_object_get(x, "error_null"))) {
			json_t *e = json_object_get(r, "error");
			bool isnull = !e || json_is_null(e);
			if (isnull != json_is_true(v))
				BAD("error is %s; ", isnull ? "null" : "set");
		}
		static const char *const sub[][2] = { { "error_contains", "error" },
						      { "text_contains", "text" },
						      { "result_contains", "result_json" } };
		for (size_t k = 0; k < 3; k++) {
			if (!(v = json_object_get(x, sub[k][0])))
				continue;
			json_t *fv = json_object_get(r, sub[k][1]);
			char *t = fv && !json_is_null(fv) ? text_of(fv) : NULL;
			if (!t || !strstr(t, json_string_value(v)))
				BAD("%s is %s, expected it to contain \"%s\"; ", sub[k][1], t ? t : "null",
				    json_string_value(v));
			free(t);
		}
		/* measured from outside: command sent → reply received */
		double rt = json_number_value(json_object_get(r, "harness_ms"));
		if ((v = json_object_get(x, "max_ms")) && rt > json_number_value(v))
			BAD("took %.1f ms (harness round trip), expected ≤ %g ms; ", rt, json_number_value(v));
		if ((v = json_object_get(x, "min_ms")) && rt < json_number_value(v))
			BAD("took %.1f ms (harness round trip), expected ≥ %g ms; ", rt, json_number_value(v));
#undef BAD
		json_t *measured = json_deep_copy(r);
		add_exp(c, clause, "call", desc, ml == 0, expected, measured, msg);
		if (ml && c->log) {
			char *rs = json_dumps(r, JSON_COMPACT);
			fprintf(c->log, "    detail — %s: %s\n      reply: %s\n", desc, msg, rs ? rs : "");
			free(rs);
		}
	}
}

static void check_value(checker *c, const char *clause, const char *kind, const char *desc,
			json_t *actual, json_t *want)
{
	bool ok = match_value(actual, want);
	char msg[512] = "";
	if (!ok) {
		char *a = text_of(actual), *w = text_of(want);
		snprintf(msg, sizeof(msg), "measured %s, expected %s", a ? a : "?", w ? w : "?");
		free(a);
		free(w);
		if (c->log)
			fprintf(c->log, "    detail — %s: %s\n", desc, msg);
	}
	add_exp(c, clause, kind, desc, ok, json_deep_copy(want), actual ? json_deep_copy(actual) : NULL,
		msg);
}

/* ---- invariants ------------------------------------------------------ */

static void add_inv(json_t *invs, FILE *log, const char *name, bool ok, const char *msg)
{
	json_array_append_new(invs, json_pack("{s:s,s:s,s:s}", "name", name, "verdict",
					      ok ? "pass" : "fail", "message", msg));
	(void)log; /* printed with the expectations by the caller */
}

static bool pid_alive(pid_t pid, char *state)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	*state = '?';
	if (fd >= 0) {
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r > 0) {
			buf[r] = '\0';
			char *p = strrchr(buf, ')');
			if (p && p[1] == ' ')
				*state = p[2];
		}
	}
	return kill(pid, 0) == 0 || errno != ESRCH;
}

static int rm_rf(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char p[4096];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			chmod(p, 0700);
			rm_rf(p);
		} else {
			unlink(p);
		}
	}
	closedir(d);
	return rmdir(dir) < 0 ? -errno : 0;
}

/* Names in dir other than the harness's own files, recursively. */
static void stray_files(const char *dir, const char *rel, char *out, size_t outlen)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (!*rel && !strcmp(e->d_name, "script.json")))
			continue;
		char p[4096], r[1024];
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		snprintf(r, sizeof(r), "%s%s", rel, e->d_name);
		struct stat st;
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
			char r2[1100];
			snprintf(r2, sizeof(r2), "%s/", r);
			size_t before = strlen(out);
			stray_files(p, r2, out, outlen);
			if (strlen(out) != before)
				continue;
			/* an empty private dir left behind is a leak too */
		}
		size_t l = strlen(out);
		snprintf(out + l, outlen - l, "%s%s%s", l ? ", " : "", r,
			 S_ISSOCK(st.st_mode) ? " (socket)" : S_ISDIR(st.st_mode) ? " (dir)" : "");
	}
	closedir(d);
}

static int make_stale_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd); /* the file stays: nobody listens on it */
	return rc;
}

json_t *hx_result_error(const char *name, const char *file, const char *message)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:[],s:s,s:f,s:{s:n,s:n,s:n},s:{},s:[],s:[],s:[],s:[],s:{},"
			 "s:s}",
			 "schema", "neira.scenario-result/1", "name", name, "file", file,
			 "description", "", "clauses", "verdict", "error", "duration_ms", 0.0, "agent",
			 "kind", "preset", "script", "config", "expectations", "events", "replies",
			 "invariants", "metrics", "error", message);
}

static const char *sig_name(int s)
{
	const char *n = sigabbrev_np(s);
	return n ? n : "?";
}

/* "{dir}" in every string of v (in place), so that expectations can name
 * paths inside the scenario's private temp dir. */
static void subst_dir_all(json_t *v, const char *dir)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			if (json_is_string(x) && strstr(json_string_value(x), "{dir}")) {
				char *s = subst_dir(json_string_value(x), dir);
				json_object_set_new(v, k, json_string(s ? s : ""));
				free(s);
			} else {
				subst_dir_all(x, dir);
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			if (json_is_string(x) && strstr(json_string_value(x), "{dir}")) {
				char *s = subst_dir(json_string_value(x), dir);
				json_array_set_new(v, i, json_string(s ? s : ""));
				free(s);
			} else {
				subst_dir_all(x, dir);
			}
		}
	}
}

/* L1: lay out <dir>/agents/linux-<arch>/neira-agent (a symlink to the
 * reference agent) from the harness's own reading of this machine — an
 * oracle independent of the supervisor's sup_path_agent(). */
static int make_agents_dir(const char *dir, const char *ref_agent, char *agents, size_t len)
{
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	const char *arch = !strcmp(u.machine, "x86_64")	 ? "x64"
			   : !strcmp(u.machine, "aarch64") ? "arm64"
			   : !strcmp(u.machine, "i686")	 ? "ia32"
							 : u.machine;
	char p[1024];
	snprintf(agents, len, "%s/agents", dir);
	snprintf(p, sizeof(p), "%s/linux-%s", agents, arch);
	if (mkdir(agents, 0755) < 0 || mkdir(p, 0755) < 0)
		return -errno;
	snprintf(p, sizeof(p), "%s/linux-%s/neira-agent", agents, arch);
	return symlink(ref_agent, p) < 0 ? -errno : 0;
}

/* Remove what make_agents_dir() made, so that the dir-clean invariant
 * still catches anything the supervisor or the agent leaves. */
static void remove_agents_dir(const char *agents)
{
	DIR *d = opendir(agents);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char p[1024];
		snprintf(p, sizeof(p), "%s/%s/neira-agent", agents, de->d_name);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s", agents, de->d_name);
		rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(agents);
}

static json_t *run_once(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log);

/* `repeat: N` (P2: every start ends well): the whole scenario N times, each in
 * a fresh temp dir, stopping at the first run that does not pass. The result
 * is that run's (or the last one's), plus one expectation counting the runs.
 * Only a failing run's report is printed, unless verbose. */
json_t *hx_run_scenario(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log)
{
	json_int_t n = json_integer_value(json_object_get(sc->doc, "repeat"));
	if (n <= 1)
		return run_once(sc, paths, verbose, log);
	json_t *res = NULL;
	json_int_t passed = 0;
	double total_ms = 0;
	for (json_int_t i = 0; i < n; i++) {
		char *buf = NULL;
		size_t len = 0;
		FILE *mem = verbose ? NULL : open_memstream(&buf, &len);
		json_decref(res);
		res = run_once(sc, paths, verbose, verbose ? log : mem);
		if (mem)
			fclose(mem);
		total_ms += json_real_value(json_object_get(res, "duration_ms"));
		bool ok = !strcmp(json_string_value(json_object_get(res, "verdict")) ?: "", "pass");
		if (!ok && log && buf) {
			fprintf(log, "    run %lld of %lld did not pass:\n", (long long)i + 1, (long long)n);
			fputs(buf, log);
		}
		free(buf);
		if (!ok)
			break;
		passed++;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "%lld of %lld runs passed", (long long)passed, (long long)n);
	json_t *exps = json_object_get(res, "expectations");
	const char *clause = json_string_value(json_array_get(json_object_get(sc->doc, "clauses"), 0));
	char id[16];
	snprintf(id, sizeof(id), "E%zu", json_array_size(exps) + 1);
	json_array_append_new(exps, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:s}", "id", id, "clause", clause ? clause : "",
					      "kind", "repeat", "description", "every run of the repeated scenario passes",
					      "verdict", passed == n ? "pass" : "fail", "expected", (json_int_t)n,
					      "measured", passed, "message", msg));
	if (passed != n)
		json_object_set_new(res, "verdict", json_string("fail"));
	json_object_set_new(res, "duration_ms", json_real(total_ms));
	json_object_set_new(res, "repeat", json_pack("{s:I,s:I}", "runs", (json_int_t)n, "passed", passed));
	if (log)
		fprintf(log, "    %s %s  repeat: %s\n", passed == n ? "ok  " : "FAIL", id, msg);
	return res;
}

static json_t *run_once(const hx_scenario *sc, const hx_paths *paths, bool verbose, FILE *log)
{
	json_t *doc = json_deep_copy(sc->doc); /* owned: {dir} is substituted into it */
	double t_start = hx_now_ms();
	int harness_fds_before = count_fds(getpid());
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);

	json_t *res = json_pack("{s:s,s:s,s:s,s:O,s:O,s:s,s:f,s:O,s:O,s:[],s:[],s:[],s:[],s:{},s:n}",
				"schema", "neira.scenario-result/1", "name", sc->name, "file", sc->file,
				"description", json_object_get(doc, "description"), "clauses",
				json_object_get(doc, "clauses"), "verdict", "error", "duration_ms", 0.0,
				"agent", json_object_get(doc, "agent"), "config",
				json_object_get(doc, "config"), "expectations", "events", "replies",
				"invariants", "metrics", "error");
	json_t *invs = json_object_get(res, "invariants");
	char errbuf[1024] = "";
	host h = { .pid = -1, .pidfd = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .log = log,
		   .verbose = verbose };
	h.events = json_object_get(res, "events");
	h.replies = json_object_get(res, "replies");
	h.timeline = json_array();
	h.junk = json_array();
	h.stderr_lines = json_array();

	const char *tmp = getenv("TMPDIR");
	char dir[512];
	snprintf(dir, sizeof(dir), "%s/neira-hx-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		snprintf(errbuf, sizeof(errbuf), "mkdtemp %s: %s", dir, strerror(errno));
		json_object_set_new(res, "error", json_string(errbuf));
		json_decref(h.timeline);
		json_decref(h.junk);
		json_decref(h.stderr_lines);
		json_decref(doc);
		return res;
	}

	subst_dir_all(json_object_get(doc, "expect"), dir);

	/* argv: host --agent PATH [--set k=v]... drive */
	json_t *agent = json_object_get(doc, "agent");
	json_t *cfg = json_object_get(doc, "config");
	const char *kind = json_string_value(json_object_get(agent, "kind"));
	char *agent_path = NULL;
	char agents_dir[600] = "";
	if (!strcmp(kind, "discovered")) {
		int arc = make_agents_dir(dir, paths->ref_agent, agents_dir, sizeof(agents_dir));
		if (arc < 0)
			snprintf(errbuf, sizeof(errbuf), "setup agents dir under %s: %s", dir, strerror(-arc));
		else if (json_array_size(json_object_get(doc, "faults")))
			snprintf(errbuf, sizeof(errbuf), "agent kind discovered cannot take a fault plan");
	} else if (!strcmp(kind, "reference"))
		agent_path = strdup(paths->ref_agent);
	else if (!strcmp(kind, "fake"))
		agent_path = strdup(paths->fake_agent);
	else if (!strcmp(kind, "missing"))
		agent_path = xstrdup_printf("%s%s", dir, "/no-such-agent");
	else
		agent_path = subst_dir(json_string_value(json_object_get(agent, "path")), dir);
	char sock[600];
	snprintf(sock, sizeof(sock), "%s/a.sock", dir);
	size_t cap = 8 + 2 * json_object_size(cfg);
	char **argv = calloc(cap, sizeof(char *));
	size_t ac = 0;
	argv[ac++] = strdup(paths->host);
	if (agent_path) {
		argv[ac++] = strdup("--agent");
		argv[ac++] = agent_path;
	} else { /* L1: no explicit path; the supervisor must find the agent */
		argv[ac++] = strdup("--set");
		argv[ac++] = xstrdup_printf("agents_dir=%s%s", agents_dir, "");
	}
	if (!json_object_get(cfg, "socket_path")) {
		argv[ac++] = strdup("--set");
		argv[ac++] = xstrdup_printf("socket_path=%s%s", sock, "");
	}
	const char *k;
	json_t *v;
	json_object_foreach(cfg, k, v) {
		char *val = subst_dir(json_string_value(v), dir);
		argv[ac++] = strdup("--set");
		argv[ac++] = xstrdup_printf("%s=%s", k, val ? val : "");
		if (!strcmp(k, "socket_path") && val)
			snprintf(sock, sizeof(sock), "%s", val);
		free(val);
	}
	argv[ac++] = strdup("drive");
	argv[ac] = NULL;

	/* environment: ours, minus stale fake-agent controls, plus the script */
	size_t ne = 0;
	while (environ[ne])
		ne++;
	json_t *senv = json_object_get(doc, "env");
	/* + 8: the fault plan's; then the scenario's own */
	char **envp = calloc(ne + 3 + 8 + json_object_size(senv), sizeof(char *));
	size_t ec = 0;
	for (size_t i = 0; i < ne; i++) {
		if (!strncmp(environ[i], "NEIRA_FAKE_", 11))
			continue;
		const char *eq = strchr(environ[i], '=');
		char name[256];
		snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - environ[i]) : 0, environ[i]);
		if (json_object_get(senv, name)) /* the scenario's env: replaced or unset */
			continue;
		envp[ec++] = strdup(environ[i]);
	}
	const char *ek;
	json_t *evv;
	json_object_foreach(senv, ek, evv) {
		if (json_is_null(evv))
			continue;
		char *val = subst_dir(json_string_value(evv), dir);
		envp[ec++] = xstrdup_printf("%s=%s", ek, val ? val : "");
		free(val);
	}
	if (!strcmp(kind, "fake")) {
		json_t *script = json_object_get(agent, "script");
		const char *preset = json_string_value(json_object_get(agent, "preset"));
		if (json_is_object(script)) {
			char sp[600];
			snprintf(sp, sizeof(sp), "%s/script.json", dir);
			if (json_dump_file(script, sp, JSON_COMPACT) < 0)
				snprintf(errbuf, sizeof(errbuf), "cannot write %s", sp);
			envp[ec++] = xstrdup_printf("NEIRA_FAKE_SCRIPT=%s%s", sp, "");
		}
		if (preset)
			envp[ec++] = xstrdup_printf("NEIRA_FAKE_PRESET=%s%s", preset, "");
	}
	hx_faults fx = { 0 };
	char *wrapped = NULL;
	if (!errbuf[0] && hx_faults_setup(&fx, json_object_get(doc, "faults"), dir, argv[2], &envp, &ec, &wrapped,
					  errbuf, sizeof(errbuf)) == 0 && wrapped) {
		free(argv[2]); /* the agent runs through neira-fault-exec */
		argv[2] = wrapped;
	}
	h.fx = &fx;
	envp[ec] = NULL;

	if (json_is_true(json_object_get(json_object_get(doc, "setup"), "stale_socket"))) {
		int rc = make_stale_socket(sock);
		if (rc < 0)
			snprintf(errbuf, sizeof(errbuf), "setup stale_socket at %s: %s", sock, strerror(-rc));
	}
	if (verbose && log) {
		fprintf(log, "  dir %s\n  argv:", dir);
		for (size_t i = 0; argv[i]; i++)
			fprintf(log, " %s", argv[i]);
		fprintf(log, "\n");
	}

	double timeout = (double)json_integer_value(json_object_get(doc, "timeout_ms"));
	json_t *call_replies = json_array();
	json_t *final_snap = NULL, *init_reply = NULL, *pre_snap = NULL;
	int host_fds_pre = -1, host_fds_post = -1;
	bool stopped = false, timed_out = false;
	json_t *agent_pids = json_array();
	char failure[1024] = "";

	if (errbuf[0] || access(paths->host, X_OK) < 0) {
		if (!errbuf[0])
			snprintf(errbuf, sizeof(errbuf), "neira-host not executable at %s: %s", paths->host,
				 strerror(errno));
		goto checks;
	}
	/* NEIRA_HOST_WRAPPER (words split on spaces, e.g. "valgrind --error-exitcode=99 …")
	 * runs neira-host under a tool: a memcheck error then fails the
	 * host_exit_clean invariant through the exit code. */
	char **run_argv = argv, *wrap_copy = NULL;
	const char *wrap = getenv("NEIRA_HOST_WRAPPER");
	if (wrap && *wrap) {
		size_t words = 1;
		for (const char *q = wrap; *q; q++)
			words += *q == ' ';
		run_argv = calloc(words + ac + 1, sizeof(char *));
		wrap_copy = strdup(wrap);
		size_t w_n = 0;
		for (char *save = NULL, *w = strtok_r(wrap_copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
			run_argv[w_n++] = w;
		for (size_t j = 0; argv[j]; j++)
			run_argv[w_n++] = argv[j];
		run_argv[w_n] = NULL;
	}
	int rc = spawn_host(&h, run_argv, envp);
	if (run_argv != argv) {
		free(run_argv);
		free(wrap_copy);
	}
	if (rc < 0) {
		snprintf(errbuf, sizeof(errbuf), "spawn %s: %s", paths->host, strerror(-rc));
		goto checks;
	}

	/* fd baseline, before init: from outside (/proc) and the host's own count */
	pre_snap = command(&h, json_pack("{s:s}", "cmd", "snapshot"), timeout, &rc);
	if (!pre_snap) {
		snprintf(failure, sizeof(failure), "no reply to the first snapshot: %s", strerror(-rc));
		goto shutdown;
	}
	host_fds_pre = count_fds(h.pid);

	size_t ai;
	json_t *act;
	json_array_foreach(json_object_get(doc, "actions"), ai, act) {
		const char *what = json_string_value(json_object_get(act, "do"));
		json_t *cmd = NULL;
		double limit = timeout;
		if (!strcmp(what, "kill_agent")) {
			json_t *last = NULL;
			size_t i;
			json_t *ev;
			json_array_foreach(h.events, i, ev)
				if (!strcmp(json_string_value(json_object_get(ev, "event")) ?: "", "spawn"))
					last = ev;
			json_int_t pid = json_integer_value(json_object_get(last, "pid"));
			if (pid <= 1) {
				snprintf(failure, sizeof(failure), "action %zu kill_agent: no spawn event with a pid",
					 ai);
				goto shutdown;
			}
			int sig = (int)json_integer_value(json_object_get(act, "signal"));
			if (kill((pid_t)pid, sig) < 0) {
				snprintf(failure, sizeof(failure), "action %zu kill_agent pid %lld: %s", ai,
					 (long long)pid, strerror(errno));
				goto shutdown;
			}
			continue;
		}
		if (!strcmp(what, "stop")) {
			final_snap = command(&h, json_pack("{s:s}", "cmd", "snapshot"), timeout, &rc);
			stopped = true;
		}
		if (!strcmp(what, "init") || !strcmp(what, "stop") || !strcmp(what, "snapshot")) {
			cmd = json_pack("{s:s}", "cmd", what);
		} else if (!strcmp(what, "wait_ms")) {
			cmd = json_pack("{s:s,s:O}", "cmd", "wait", "ms", json_object_get(act, "ms"));
		} else if (!strcmp(what, "wait_event")) {
			cmd = json_pack("{s:s,s:O,s:O}", "cmd", "wait_event", "event",
					json_object_get(act, "event"), "timeout_ms",
					json_object_get(act, "timeout_ms"));
		} else { /* call */
			cmd = json_pack("{s:s,s:O}", "cmd", "call", "method", json_object_get(act, "method"));
			static const char *const ks[] = { "prompt", "name", "args_json", "deadline_ms" };
			for (size_t i = 0; i < 4; i++)
				if (json_object_get(act, ks[i]))
					json_object_set(cmd, ks[i], json_object_get(act, ks[i]));
		}
		double sent = hx_now_ms() - h.t0;
		json_t *r = command(&h, cmd, limit, &rc);
		if (!r) {
			timed_out = rc == -ETIMEDOUT;
			snprintf(failure, sizeof(failure), "action %zu (%s): %s", ai, what,
				 rc == -ETIMEDOUT ? "no reply before the scenario timeout"
				 : rc == -EPIPE	  ? "neira-host exited without replying"
						  : strerror(-rc));
			goto shutdown;
		}
		json_object_set_new(r, "harness_ms",
				    json_real(json_number_value(json_object_get(r, "rx_ms")) - sent));
		if (!strcmp(what, "call"))
			json_array_append(call_replies, r);
		if (!strcmp(what, "init") && !init_reply)
			init_reply = r;
		if (!strcmp(what, "stop"))
			break;
	}
	if (!stopped) {
		final_snap = command(&h, json_pack("{s:s}", "cmd", "snapshot"), timeout, &rc);
		if (!command(&h, json_pack("{s:s}", "cmd", "stop"), timeout, &rc)) {
			timed_out = rc == -ETIMEDOUT;
			snprintf(failure, sizeof(failure), "stop: %s",
				 rc == -ETIMEDOUT ? "no reply before the scenario timeout"
						  : "neira-host exited without replying");
			goto shutdown;
		}
	}
	/* L7, from outside: after the stop reply the host still runs, so a child
	 * it failed to reap is visible as its zombie right now */
	host_fds_post = count_fds(h.pid);
	{
		size_t i;
		json_t *ev;
		char buf[512] = "";
		bool ok = true;
		json_array_foreach(h.events, i, ev) {
			if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "", "spawn"))
				continue;
			pid_t pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
			json_array_append_new(agent_pids, json_integer(pid));
			char st;
			if (pid > 1 && pid_alive(pid, &st)) {
				ok = false;
				size_t l = strlen(buf);
				snprintf(buf + l, sizeof(buf) - l, "agent pid %d still exists after stop (state %c%s); ",
					 (int)pid, st, st == 'Z' ? ", an unreaped zombie" : "");
			}
		}
		add_inv(invs, log, "agent_stopped_and_reaped", ok,
			ok ? (json_array_size(agent_pids) ? "every spawned agent pid is gone after stop"
							  : "no agent was spawned")
			   : buf);
	}

shutdown:
	/* EOF on stdin = stop + exit; then the host must exit on its own */
	close_fd(&h.in_fd);
	if (h.pid > 0) {
		double dl = hx_now_ms() - h.t0 + 10000;
		if (timed_out || failure[0])
			dl = hx_now_ms() - h.t0 + 5000;
		if (pump(&h, dl, NULL, NULL) == -ETIMEDOUT) {
			kill(-h.pid, SIGKILL);
			kill(h.pid, SIGKILL);
			size_t l = strlen(failure);
			snprintf(failure + l, sizeof(failure) - l, "%sneira-host did not exit after stdin EOF; killed",
				 l ? "; " : "");
			pump(&h, hx_now_ms() - h.t0 + 5000, NULL, NULL);
		}
		if (!h.exited && waitpid(h.pid, &h.wstatus, 0) == h.pid)
			h.exited = true;
	}

checks:;
	/* kill whatever is left (after recording it) so nothing outlives us */
	{
		char buf[512] = "";
		size_t i;
		json_t *ev;
		json_array_foreach(h.events, i, ev) {
			if (strcmp(json_string_value(json_object_get(ev, "event")) ?: "", "spawn"))
				continue;
			pid_t pid = (pid_t)json_integer_value(json_object_get(ev, "pid"));
			char st;
			if (pid > 1 && pid_alive(pid, &st) && st != 'Z') {
				size_t l = strlen(buf);
				snprintf(buf + l, sizeof(buf) - l, "agent pid %d outlived neira-host; ", (int)pid);
				kill(pid, SIGKILL);
			}
		}
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
			size_t l = strlen(buf);
			snprintf(buf + l, sizeof(buf) - l, "orphan pid %d reparented to the harness; ", (int)p);
		}
		if (h.pid > 0)
			add_inv(invs, log, "no_orphan", !buf[0], buf[0] ? buf : "no process outlived neira-host");
	}
	if (h.pid > 0) {
		char buf[256];
		bool ok = h.exited && WIFEXITED(h.wstatus) && WEXITSTATUS(h.wstatus) == 0;
		if (!h.exited)
			snprintf(buf, sizeof(buf), "neira-host was not reaped");
		else if (WIFSIGNALED(h.wstatus))
			snprintf(buf, sizeof(buf), "neira-host died by signal %d (SIG%s)%s",
				 WTERMSIG(h.wstatus), sig_name(WTERMSIG(h.wstatus)),
				 WCOREDUMP(h.wstatus) ? ", core dumped" : "");
		else
			snprintf(buf, sizeof(buf), "neira-host exited with code %d", WEXITSTATUS(h.wstatus));
		add_inv(invs, log, "host_exit_clean", ok, buf);
		char sbuf[4096] = "";
		if (agents_dir[0])
			remove_agents_dir(agents_dir); /* the harness's own layout (L1) */
		stray_files(dir, "", sbuf, sizeof(sbuf));
		char m[4200];
		snprintf(m, sizeof(m), sbuf[0] ? "left in the scenario dir: %s" : "scenario dir is clean",
			 sbuf);
		add_inv(invs, log, "no_stray_socket_file", !sbuf[0], m);
		json_int_t slack = json_integer_value(json_object_get(json_object_get(doc, "expect"),
								       "fd_slack"));
		if (host_fds_pre >= 0 && host_fds_post >= 0) {
			long sp = (long)json_integer_value(json_object_get(pre_snap, "fds"));
			long sq = (long)json_integer_value(json_object_get(final_snap, "fds"));
			bool ok2 = host_fds_post <= host_fds_pre + slack;
			snprintf(m, sizeof(m), "neira-host open fds (/proc): %d before init, %d after stop "
				 "(slack %lld); its own snapshot says %ld before init, %ld just before stop", host_fds_pre,
				 host_fds_post, (long long)slack, sp, sq);
			add_inv(invs, log, "no_fd_leak_in_host", ok2, m);
		}
		bool ok3 = json_array_size(h.junk) == 0;
		char *first = ok3 ? NULL : text_of(json_array_get(h.junk, 0));
		snprintf(m, sizeof(m), ok3 ? "every stdout line was an event or a reply"
					   : "%zu stdout line(s) were not protocol JSON, first: %.200s",
			 json_array_size(h.junk), first ? first : "");
		free(first);
		add_inv(invs, log, "protocol_lines", ok3, m);
		/* O3: timestamps are monotonic */
		double last = -1;
		bool mono = true;
		size_t i;
		json_t *ev;
		json_array_foreach(h.events, i, ev) {
			double t = json_number_value(json_object_get(ev, "t_ms"));
			if (!json_is_number(json_object_get(ev, "t_ms")) || t < last)
				mono = false;
			last = t;
		}
		add_inv(invs, log, "event_time_monotonic", mono,
			mono ? "every event has a non-decreasing numeric t_ms"
			     : "an event lacks t_ms or goes back in time");
	}

	/* close our side before counting our own fds */
	close_fd(&h.in_fd);
	close_fd(&h.out_fd);
	close_fd(&h.err_fd);
	close_fd(&h.pidfd);
	rm_rf(dir);
	hx_faults_cleanup(&fx);
	{
		int after = count_fds(getpid());
		char m[128];
		snprintf(m, sizeof(m), "harness fds: %d before, %d after", harness_fds_before, after);
		add_inv(invs, log, "no_fd_leak_in_harness", after <= harness_fds_before, m);
	}

	/* expectations */
	checker c = { .exps = json_object_get(res, "expectations"),
		      .clause0 = json_string_value(json_array_get(json_object_get(doc, "clauses"), 0)),
		      .log = log };
	json_t *exp = json_object_get(doc, "expect");
	if (!errbuf[0]) {
		json_t *w;
		if ((w = json_object_get(exp, "mode")))
			check_value(&c, NULL, "mode", "final mode (last snapshot)",
				    json_object_get(final_snap, "mode"), w);
		if ((w = json_object_get(exp, "reason")))
			check_value(&c, NULL, "reason", "final reason kind (last snapshot)",
				    json_object_get(final_snap, "reason"), w);
		json_t *in = json_object_get(exp, "init");
		if (in) {
			if ((w = json_object_get(in, "mode")))
				check_value(&c, NULL, "init", "init reply mode",
					    json_object_get(init_reply, "mode"), w);
			if ((w = json_object_get(in, "reason")))
				check_value(&c, NULL, "init", "init reply reason",
					    json_object_get(init_reply, "reason"), w);
			if ((w = json_object_get(in, "max_init_ms"))) {
				json_t *m = json_pack("{s:{s:O}}", "op", "max", w);
				check_value(&c, NULL, "init", "init reply init_ms",
					    json_object_get(init_reply, "init_ms"), m);
				json_decref(m);
			}
		}
		if (json_object_get(exp, "events"))
			check_events(&c, json_object_get(exp, "events"), h.events);
		if (json_object_get(exp, "calls"))
			check_calls(&c, json_object_get(exp, "calls"), call_replies);
		json_object_foreach(json_object_get(exp, "metrics"), k, w) {
			char d[200];
			snprintf(d, sizeof(d), "metric %s", k);
			check_value(&c, NULL, "metric", d, dig(json_object_get(final_snap, "metrics"), k), w);
		}
		json_object_foreach(json_object_get(exp, "snapshot"), k, w) {
			char d[200];
			snprintf(d, sizeof(d), "snapshot %s", k);
			check_value(&c, NULL, "snapshot", d, dig(final_snap, k), w);
		}
	}

	json_object_set(res, "metrics", json_object_get(final_snap, "metrics") ?: json_object());
	size_t i;
	json_t *iv;
	int inv_failed = 0;
	json_array_foreach(invs, i, iv)
		inv_failed += !strcmp(json_string_value(json_object_get(iv, "verdict")), "fail");
	const char *verdict = errbuf[0] ? "error" : (failure[0] || c.failed || inv_failed) ? "fail" : "pass";
	if (errbuf[0])
		json_object_set_new(res, "error", json_string(errbuf));
	else if (failure[0])
		json_object_set_new(res, "error", json_string(failure));
	json_object_set_new(res, "verdict", json_string(verdict));
	json_object_set_new(res, "duration_ms", json_real(hx_now_ms() - t_start));
	if (log) {
		if (errbuf[0])
			fprintf(log, "    ERROR %s\n", errbuf);
		if (failure[0])
			fprintf(log, "    FAIL %s\n", failure);
		if (strcmp(verdict, "pass") && json_array_size(h.stderr_lines)) {
			size_t n = json_array_size(h.stderr_lines);
			fprintf(log, "    neira-host stderr (last %zu of %zu lines):\n", n > 15 ? 15 : n, n);
			for (size_t j = n > 15 ? n - 15 : 0; j < n; j++)
				fprintf(log, "      | %s\n", json_string_value(json_array_get(h.stderr_lines, j)));
		}
	}

	free(h.obuf);
	free(h.ebuf);
	json_decref(h.timeline);
	json_decref(h.junk);
	json_decref(h.stderr_lines);
	json_decref(call_replies);
	json_decref(agent_pids);
	for (size_t j = 0; argv[j]; j++)
		free(argv[j]);
	free(argv);
	for (size_t j = 0; envp[j]; j++)
		free(envp[j]);
	free(envp);
	json_decref(doc);
	return res;
}

void hx_print_timeline(const json_t *result, FILE *out)
{
	/* events and replies merged by arrival time at the harness */
	json_t *ev = json_object_get(result, "events"), *rp = json_object_get(result, "replies");
	size_t a = 0, b = 0;
	while (a < json_array_size(ev) || b < json_array_size(rp)) {
		json_t *e = json_array_get(ev, a), *r = json_array_get(rp, b);
		double te = e ? json_number_value(json_object_get(e, "rx_ms")) : 1e300;
		double tr = r ? json_number_value(json_object_get(r, "rx_ms")) : 1e300;
		if (e && te <= tr) {
			print_event(out, e, " ");
			a++;
		} else {
			json_t *cp = json_deep_copy(r);
			json_object_del(cp, "rx_ms");
			json_object_del(cp, "reply");
			char *s = json_dumps(cp, JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(out, "      %s %10s  reply %-14s %s\n", "<", "",
				json_string_value(json_object_get(r, "reply")), s ? s : "");
			free(s);
			json_decref(cp);
			b++;
		}
	}
}
