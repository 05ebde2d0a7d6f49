/* neira-host: the host CLI around the supervisor library — what a person (and
 * CI) uses to start the agent, ask its mode, make calls and read metrics, and
 * the `drive` machine interface the conformance harness runs it through.
 *
 * DRIVE PROTOCOL (`neira-host [options] drive`)
 *   stdin: one JSON object per line (commands). stdout: one JSON object per
 *   line, either an event exactly as the library emits it
 *   ({"t_ms": <ms since the supervisor was created, 3 decimals>, "event": …})
 *   written as it happens, or a reply {"reply": <cmd>, "id": <echoed if
 *   given>, …}. Events that a command causes are written before its reply.
 *   Commands:
 *   {"cmd":"hello"} → {"reply":"hello","protocol":1,"supervisor":{"name","version"},
 *        "capabilities":[…]} (docs/adapter-contract.md §5)
 *   {"cmd":"init"}
 *      → {"reply":"init","mode":"ready"|"mock","reason":null|kind,
 *         "error":null|{O1 record},"init_ms","agent_version","pid":n|null}
 *   {"cmd":"call","method":"health"|"process_prompt"|"call_custom_function",
 *    "prompt":…,"name":…,"args_json":…,"deadline_ms":optional}
 *      → {"reply":"call","ok","mock","status","error", reply fields
 *         ("text" | "result_json" | "healthy","version","message"),"duration_ms"}
 *   {"cmd":"call_async", same fields as call}
 *      → {"reply":"call_async","accepted":true} at once, then, when the call
 *        ends, the same {"reply":"call",…} as a call, with the same id. While
 *        calls are in flight, further call, call_async and snapshot commands
 *        run at once (nested: a call the breaker rejects answers at once, C3);
 *        any other command waits until no call is in flight.
 *   {"cmd":"wait","ms":N}   runs the event loop N ms → {"reply":"wait"}
 *   {"cmd":"wait_event","event":NAME,"timeout_ms":N}
 *      → {"reply":"wait_event","seen":bool}; seen = an event NAME was emitted
 *        that no earlier successful wait_event for NAME consumed (so an event
 *        that happened before the command counts once).
 *   {"cmd":"snapshot"} → {"reply":"snapshot","mode","reason","state","breaker",
 *        "child_pid","fds":<entries of /proc/self/fd>,"metrics":{…},"error"}
 *   {"cmd":"fault","enable":{"point":NAME,"mode":…,"nth":…,"errno":…}}
 *   {"cmd":"fault","disable":NAME}
 *      → {"reply":"fault","ok":true,"point":NAME}, after an event
 *        {"event":"fault","action":"enable"|"disable","point":NAME}; turns a
 *        fault point on or off mid-run (faults/flt.h; only in a build with
 *        fault injection, else an error reply). At start, env NEIRA_FAULTS
 *        (a JSON array of the same entries) is applied before anything runs.
 *   {"cmd":"stop"} → L7 stop → {"reply":"stop","exit_code","signal","elapsed_ms"};
 *        the process stays until stdin's EOF (the harness measures its fds
 *        and children meanwhile), answering any further command with an
 *        error, then exits 0.
 *   EOF on stdin = stop and exit 0. A malformed line →
 *   {"reply":"error","error":"…"} and the loop goes on.
 *   Between commands the supervisor's loop keeps running (child output and
 *   exit are processed and reported while waiting for stdin).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "neira_config.h"
#ifdef NEIRA_FAULTS_ENABLED
#include "flt.h"
#endif
#include "nv.h"
#include "rpc.h"
#include "sup.h"
#include "sup_bytes.h"
#include "sup_linebuf.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(12))

typedef struct host {
	sup *s;
	FILE *events;
	bool json;
	bool drive;
	/* wait_event bookkeeping: unconsumed counts per event name */
	struct {
		char name[32];
		unsigned n;
	} seen[32];
	unsigned n_seen;
	bool stop_requested;
	/* drive: stdin is read at top level and, while a typed call waits,
	 * from the supervisor's call hook (C3: concurrent calls) */
	sup_linebuf lb;
	bool eof;
	json_t *deferred; /* commands that must wait until no call is in flight */
	bool deferred_pending;
} host;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: neira-host [--agent PATH] [--set KEY=VALUE]... [--events FILE] [--json] COMMAND [ARGS]\n"
		"\n"
		"Start the agent under the supervisor (SPEC L, H, K, M, C, S, O), run COMMAND, stop it.\n"
		"\n"
		"Commands:\n"
		"  status                 initialise, print ready/mock and why, stop\n"
		"  prompt TEXT            initialise, ProcessPrompt(TEXT), print the reply\n"
		"  call NAME ARGS_JSON    initialise, CallCustomFunction(NAME, ARGS_JSON)\n"
		"  metrics [--calls N]    initialise, make N prompt calls, print metrics (Prometheus text;\n"
		"                         JSON with --json)\n"
		"  drive                  machine interface: JSON commands on stdin, events and replies\n"
		"                         as JSON lines on stdout (see the README, section neira-host)\n"
		"\n"
		"Options:\n"
		"  --agent PATH           the agent executable (same as --set agent_path=PATH)\n"
		"  --set KEY=VALUE        a configuration field: agent_path agents_dir socket_path\n"
		"                         socket_private_dir check_peer ready_timeout_ms health_attempts\n"
		"                         health_base_delay_ms health_deadline_ms call_deadline_ms\n"
		"                         breaker_threshold breaker_open_ms shutdown_grace_ms restart\n"
		"                         restart_base_delay_ms restart_max\n"
		"  --events FILE          write the lifecycle event stream as JSON lines to FILE\n"
		"  --json                 machine-readable output\n"
		"  --help, --version\n"
		"Options may come before or after the command; -- ends them (a prompt that starts with '-').\n"
		"\n"
		"Exit codes: status 0 ready, 3 mock; prompt/call 0 on a reply (mock included), 1 when the\n"
		"call failed; 2 usage or configuration error.\n"
		"\n"
		"Examples (from the directory that holds build/; tests/test_help_examples.py runs each):\n"
		"  neira-host --agent build/agent/neira-agent status\n"
		"  neira-host --agent build/agent/neira-agent --json prompt 'hello world'\n"
		"  neira-host --agent build/agent/neira-agent call sum '[1,2,3]'        # {\"count\":3,\"sum\":6.0}\n"
		"  neira-host --agent /nonexistent --json status          # mock, reason missing_executable, exit 3\n"
		"  neira-host --agent build/agent/neira-agent --set ready_timeout_ms=2000 --events ev.jsonl status\n"
		"  echo '{\"cmd\":\"init\"}' | neira-host --agent build/agent/neira-agent drive\n"
		"  neira-host metrics --calls 3 --agent build/agent/neira-agent --json   # options after the command\n");
}

static void out_json(json_t *j)
{
	char *t = json_dumps(j, DUMP_FLAGS);
	if (t) {
		fputs(t, stdout);
		fputc('\n', stdout);
		fflush(stdout);
		free(t);
	}
}

static void on_event(void *ud, const json_t *ev)
{
	host *h = ud;
	const char *name = json_string_value(json_object_get(ev, "event"));
	if (name) {
		unsigned i;
		for (i = 0; i < h->n_seen; i++)
			if (strcmp(h->seen[i].name, name) == 0)
				break;
		if (i == h->n_seen && h->n_seen < 32) {
			snprintf(h->seen[i].name, sizeof(h->seen[i].name), "%s", name);
			h->seen[i].n = 0;
			h->n_seen++;
		}
		if (i < 32)
			h->seen[i].n++;
	}
	if (h->drive)
		out_json((json_t *)ev);
#ifdef NEIRA_FAULTS_ENABLED
	/* NEIRA_FAULTS entries with "after_event" start right at their event,
	 * inside the supervisor's own step (exact, unlike a drive command,
	 * which waits until the current command returns) */
	const char *point;
	while (name && strcmp(name, "fault") && flt_on_event(name, &point) != 0 && point) {
		json_t *fe = json_pack("{s:f, s:s, s:s, s:s, s:s}", "t_ms", json_number_value(json_object_get(ev, "t_ms")),
				       "event", "fault", "action", "enable", "point", point, "after_event", name);
		on_event(h, fe);
		json_decref(fe);
	}
#endif
	if (h->events) {
		char *t = json_dumps(ev, DUMP_FLAGS);
		if (t) {
			fprintf(h->events, "%s\n", t);
			fflush(h->events);
			free(t);
		}
	}
}

static bool consume_seen(host *h, const char *name)
{
	for (unsigned i = 0; i < h->n_seen; i++)
		if (strcmp(h->seen[i].name, name) == 0 && h->seen[i].n > 0) {
			h->seen[i].n--;
			return true;
		}
	return false;
}

static json_t *mode_json(sup *s)
{
	return json_string(sup_is_ready(s) ? "ready" : "mock");
}

static json_t *reason_json(sup *s)
{
	return sup_is_ready(s) || !sup_reason(s) ? json_null() : json_string(sup_reason(s));
}

static json_t *error_json(sup *s)
{
	const sup_error *e = sup_last_error(s);
	return e && !sup_is_ready(s) ? sup_error_to_json(e) : json_null();
}

static json_t *status_json(sup *s)
{
	json_t *j = json_object();
	json_object_set_new(j, "mode", mode_json(s));
	json_object_set_new(j, "reason", reason_json(s));
	json_object_set_new(j, "error", error_json(s));
	json_object_set_new(j, "init_ms", json_real(sup_init_ms(s)));
	/* the agent's bytes: U+FFFD plus agent_version_b64 when not UTF-8 (a
	 * plain json_string would drop the field: replies_in_contract caught it) */
	if (sup_agent_version(s)[0])
		sup_json_set_bytes(j, "agent_version", sup_agent_version(s), strlen(sup_agent_version(s)));
	else
		json_object_set_new(j, "agent_version", json_null());
	return j;
}

static int do_call(sup *s, const char *method, const char *prompt, const char *name, const char *args,
		   int64_t deadline_ms, sup_reply *r)
{
	if (strcmp(method, "health") == 0)
		return sup_call_health(s, deadline_ms, r);
	if (strcmp(method, "process_prompt") == 0)
		return sup_call_process_prompt(s, prompt, deadline_ms, r);
	if (strcmp(method, "call_custom_function") == 0)
		return sup_call_custom_function(s, name, args, deadline_ms, r);
	return -ENOSYS;
}

static json_t *reply_json(const char *kind, sup_reply *r)
{
	json_t *j = json_pack("{s:s, s:b, s:b, s:s}", "reply", kind, "ok", r->ok, "mock", r->mock, "status",
			      r->status_name);
	json_object_set_new(j, "error", r->ok ? json_null() : sup_error_to_json(&r->err));
	/* issue 15: the agent's bytes exactly — NULs as \u0000, and bytes that
	 * are not UTF-8 as U+FFFD plus the exact bytes in "<field>_b64" */
	if (r->text)
		sup_json_set_bytes(j, "text", r->text, r->text_len);
	if (r->result_json)
		sup_json_set_bytes(j, "result_json", r->result_json, r->result_json_len);
	if (r->version) {
		json_object_set_new(j, "healthy", json_boolean(r->healthy));
		sup_json_set_bytes(j, "version", r->version, r->version_len);
		sup_json_set_bytes(j, "message", r->message ? r->message : "", r->message ? r->message_len : 0);
	}
	json_object_set_new(j, "duration_ms", json_real(r->duration_ms));
	return j;
}

/* ---- drive ---------------------------------------------------------------- */

static void drive_reply(json_t *cmd, json_t *rep)
{
	json_t *id = cmd ? json_object_get(cmd, "id") : NULL;
	if (id)
		json_object_set(rep, "id", id);
	out_json(rep);
	json_decref(rep);
}

static void drive_stop(host *h, json_t *cmd)
{
	int code, sig;
	double ms;
	sup_stop(h->s, &code, &sig, &ms);
	drive_reply(cmd, json_pack("{s:s, s:o, s:o, s:f}", "reply", "stop", "exit_code",
				   code >= 0 ? json_integer(code) : json_null(), "signal",
				   sig ? json_integer(sig) : json_null(), "elapsed_ms", ms));
	h->stop_requested = true;
}

/* {"cmd":"fault"}: start or end a fault mid-run (when: after_event). */
static void drive_fault(host *h, json_t *cmd)
{
	char msg[300] = "fault: this neira-host was built without fault injection";
#ifndef NEIRA_FAULTS_ENABLED
	(void)h;
#else
	json_t *en = json_object_get(cmd, "enable");
	const char *dis = json_string_value(json_object_get(cmd, "disable"));
	const char *point = en ? json_string_value(json_object_get(en, "point")) : dis;
	int rc = -EINVAL;
	if (en)
		rc = flt_enable_json(en, msg, sizeof(msg));
	else if (dis)
		rc = flt_disable(dis);
	if (rc == 0) {
		json_t *ev = json_pack("{s:f, s:s, s:s, s:s}", "t_ms", sup_elapsed_ms(h->s), "event", "fault",
				       "action", en ? "enable" : "disable", "point", point);
		on_event(h, ev);
		json_decref(ev);
		drive_reply(cmd, json_pack("{s:s, s:b, s:s}", "reply", "fault", "ok", 1, "point", point));
		return;
	}
	if (!en)
		snprintf(msg, sizeof(msg), "fault: give \"enable\": {…} or \"disable\": NAME%s",
			 dis ? " (that point is not enabled)" : "");
#endif
	drive_reply(cmd, json_pack("{s:s, s:s}", "reply", "error", "error", msg));
}

#define DRIVE_MAX_MS (24LL * 60 * 60 * 1000) /* as sup_config's ms fields */

/* Issue 15: every number a command carries is range-checked. cmd[key] must
 * be absent (→ dflt, unless required) or an integer in 0..DRIVE_MAX_MS;
 * else false and an error reply has been sent. */
static bool drive_ms(json_t *cmd, const char *key, int64_t dflt, bool required, int64_t *out)
{
	json_t *v = json_object_get(cmd, key);
	if (!v && !required) {
		*out = dflt;
		return true;
	}
	if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= DRIVE_MAX_MS) {
		*out = json_integer_value(v);
		return true;
	}
	char msg[160];
	snprintf(msg, sizeof(msg), "%s: \"%s\" must be an integer in 0..%lld",
		 json_string_value(json_object_get(cmd, "cmd")), key, DRIVE_MAX_MS);
	drive_reply(cmd, json_pack("{s:s, s:s}", "reply", "error", "error", msg));
	return false;
}

static void drive_call(host *h, json_t *cmd, bool async)
{
	const char *m = json_string_value(json_object_get(cmd, "method"));
	if (!m || (strcmp(m, "health") && strcmp(m, "process_prompt") && strcmp(m, "call_custom_function"))) {
		drive_reply(cmd, json_pack("{s:s, s:s}", "reply", "error", "error",
					   "call: \"method\" must be health, process_prompt or call_custom_function"));
		return;
	}
	int64_t dl; /* 0 = the configured call_deadline_ms */
	if (!drive_ms(cmd, "deadline_ms", 0, false, &dl))
		return;
	if (async) /* accepted: the outcome follows as a call reply (same id) */
		drive_reply(cmd, json_pack("{s:s, s:b}", "reply", "call_async", "accepted", 1));
	sup_reply r = SUP_REPLY_INIT;
	do_call(h->s, m, json_string_value(json_object_get(cmd, "prompt")), json_string_value(json_object_get(cmd, "name")),
		json_string_value(json_object_get(cmd, "args_json")), dl, &r);
	drive_reply(cmd, reply_json("call", &r));
	sup_reply_destroy(&r);
}

static void drive_line(void *ud, const char *line, size_t len, bool truncated);

/* While a call is in flight only calls and snapshots run (nested); every
 * other command is kept, in order, until the outermost call has ended. */
static bool must_defer(host *h, const char *c)
{
	return sup_calls_in_flight(h->s) > 0 &&
	       (h->deferred_pending || (strcmp(c, "call") && strcmp(c, "call_async") && strcmp(c, "snapshot")));
}

static void run_deferred(host *h)
{
	while (!h->stop_requested && sup_calls_in_flight(h->s) == 0 && json_array_size(h->deferred)) {
		json_t *l = json_incref(json_array_get(h->deferred, 0));
		json_array_remove(h->deferred, 0);
		h->deferred_pending = json_array_size(h->deferred) > 0;
		drive_line(h, json_string_value(l), json_string_length(l), false);
		json_decref(l);
	}
	h->deferred_pending = json_array_size(h->deferred) > 0;
}

/* The supervisor's call hook: stdin is readable while a call waits. */
static void on_stdin(void *ud)
{
	host *h = ud;
	char buf[8192];
	ssize_t n = read(0, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) { /* EOF: the stop runs once no call is in flight */
		h->eof = true;
		sup_set_call_hook(h->s, -1, NULL, NULL);
		return;
	}
	sup_linebuf_feed(&h->lb, buf, (size_t)n, drive_line, h);
}

static void drive_line(void *ud, const char *line, size_t len, bool truncated)
{
	host *h = ud;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (h->stop_requested) { /* only EOF ends a stopped session */
		json_t *cmd = json_loadb(line, len, 0, NULL);
		drive_reply(json_is_object(cmd) ? cmd : NULL,
			    json_pack("{s:s, s:s}", "reply", "error", "error",
				      "the supervisor is stopped: close stdin to end the session"));
		json_decref(cmd);
		return;
	}
	json_error_t je;
	json_t *cmd = truncated ? NULL : json_loadb(line, len, 0, &je);
	const char *c = cmd ? json_string_value(json_object_get(cmd, "cmd")) : NULL;
	if (!c) {
		char msg[300];
		snprintf(msg, sizeof(msg), "malformed command line: %s",
			 truncated ? "line too long" : cmd ? "no \"cmd\" string" : je.text);
		drive_reply(cmd, json_pack("{s:s, s:s}", "reply", "error", "error", msg));
		json_decref(cmd);
		return;
	}
	sup *s = h->s;
	if (must_defer(h, c)) {
		json_array_append_new(h->deferred, json_stringn(line, len));
		h->deferred_pending = true;
		json_decref(cmd);
		return;
	}
	if (strcmp(c, "hello") == 0) {
		/* what this host can do beyond the core protocol (vocab/nv_caps.h) */
		json_t *caps = json_pack("[s,s,s,s,s,s]", "call_async", "restart_policy", "peer_check",
					 "private_socket_dir", "agents_dir", "line_limit_4096");
#ifdef NEIRA_FAULTS_ENABLED
		json_array_append_new(caps, json_string("fault_points"));
#endif
		drive_reply(cmd, json_pack("{s:s, s:i, s:{s:s, s:s}, s:o}", "reply", "hello", "protocol", 1, "supervisor",
					   "name", "neira-host", "version", NEIRA_VERSION, "capabilities", caps));
	} else if (strcmp(c, "init") == 0) {
		if (sup_get_state(s) == SUP_STATE_IDLE)
			sup_init(s);
		json_t *r = status_json(s);
		json_object_set_new(r, "reply", json_string("init"));
		json_object_set_new(r, "pid", sup_child_pid(s) ? json_integer(sup_child_pid(s)) : json_null());
		drive_reply(cmd, r);
	} else if (strcmp(c, "call") == 0 || strcmp(c, "call_async") == 0) {
		drive_call(h, cmd, strcmp(c, "call_async") == 0);
	} else if (strcmp(c, "wait") == 0) {
		int64_t ms; /* issue 15: {"ms":-1} used to mean "forever" here */
		if (drive_ms(cmd, "ms", 0, true, &ms)) {
			sup_run(s, ms, -1);
			drive_reply(cmd, json_pack("{s:s}", "reply", "wait"));
		}
	} else if (strcmp(c, "wait_event") == 0) {
		const char *ev = json_string_value(json_object_get(cmd, "event"));
		int64_t timeout;
		bool seen = false;
		if (drive_ms(cmd, "timeout_ms", 5000, false, &timeout)) { /* else: error reply sent */
			if (ev) {
				double end = sup_elapsed_ms(s) + (double)timeout;
				while (!(seen = consume_seen(h, ev))) {
					double left = end - sup_elapsed_ms(s);
					if (left <= 0)
						break;
					sup_run(s, (int64_t)left + 1 > 50 ? 50 : (int64_t)left + 1, -1);
				}
			}
			drive_reply(cmd, json_pack("{s:s, s:b}", "reply", "wait_event", "seen", seen));
		}
	} else if (strcmp(c, "snapshot") == 0) {
		json_t *r = json_object();
		json_object_set_new(r, "reply", json_string("snapshot"));
		json_object_set_new(r, "mode", mode_json(s));
		json_object_set_new(r, "reason", reason_json(s));
		json_object_set_new(r, "state", json_string(sup_state_name(sup_get_state(s))));
		json_object_set_new(r, "breaker", json_string(sup_breaker_state_name(sup_get_breaker(s))));
		json_object_set_new(r, "child_pid", sup_child_pid(s) ? json_integer(sup_child_pid(s)) : json_null());
		json_object_set_new(r, "fds", json_integer(rpc_count_fds()));
		json_object_set_new(r, "metrics", sup_metrics_json(sup_get_metrics(s)));
		json_object_set_new(r, "error", sup_last_error(s) ? sup_error_to_json(sup_last_error(s)) : json_null());
#ifdef NEIRA_FAULTS_ENABLED
		json_object_set_new(r, "faults", flt_stats_json()); /* counting points: calls, fired */
#endif
		drive_reply(cmd, r);
	} else if (strcmp(c, "fault") == 0) {
		drive_fault(h, cmd);
	} else if (strcmp(c, "stop") == 0) {
		drive_stop(h, cmd);
	} else {
		char msg[128];
		snprintf(msg, sizeof(msg), "unknown cmd \"%.60s\"", c);
		drive_reply(cmd, json_pack("{s:s, s:s}", "reply", "error", "error", msg));
	}
	json_decref(cmd);
	run_deferred(h);
}

static int run_drive(host *h)
{
	sup_linebuf_init(&h->lb, 1 << 20);
	h->deferred = json_array();
	sup_set_call_hook(h->s, 0, on_stdin, h);
	char buf[8192];
	/* One read loop for the whole session. After a stop command the host
	 * stays until stdin's EOF (adapter contract §2), answering any command
	 * with an error, so that what it holds after stop can be measured from
	 * outside; EOF before a stop is a stop. */
	while (!h->eof) {
		/* keep the supervisor's loop running while stdin is idle; a
		 * failing poll (fault point supervisor/loop/poll) must not end the
		 * session: the read below then simply blocks for the next command */
		if (!h->stop_requested)
			(void)sup_run(h->s, -1, 0);
		if (h->eof) /* seen by on_stdin while a call waited */
			break;
		ssize_t n = read(0, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sup_linebuf_feed(&h->lb, buf, (size_t)n, drive_line, h);
	}
	sup_linebuf_flush(&h->lb, drive_line, h);
	if (!h->stop_requested)
		drive_stop(h, NULL); /* EOF = stop */
	sup_set_call_hook(h->s, -1, NULL, NULL);
	sup_linebuf_destroy(&h->lb);
	json_decref(h->deferred);
	return 0;
}

/* ---- main ----------------------------------------------------------------- */

int main(int argc, char **argv)
{
	host h = { 0 };
	sup_config cfg;
	sup_config_init(&cfg);
	sup_error err = SUP_ERROR_INIT;
	const char *events_path = NULL;
	int ret = 2;
	static const struct option opts[] = {
		{ "agent", required_argument, NULL, 'a' }, { "set", required_argument, NULL, 's' },
		{ "events", required_argument, NULL, 'e' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { "version", no_argument, NULL, 'V' },
		{ "calls", required_argument, NULL, 'c' },  { NULL, 0, NULL, 0 },
	};
	int o;
	long calls = -1;
	/* issue 14: options anywhere (getopt permutes); `--` ends them, for a
	 * prompt that starts with '-' */
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'c': {
			char *end;
			calls = strtol(optarg, &end, 10);
			if (!*optarg || *end || calls < 0 || calls > 1000000) {
				fprintf(stderr, "neira-host: --calls wants a number in 0..1000000, not '%s'\n", optarg);
				goto out;
			}
			break;
		}
		case 'a':
			if (sup_config_set(&cfg, "agent_path", optarg, &err) < 0)
				goto config_error;
			break;
		case 's':
			if (sup_config_set_kv(&cfg, optarg, &err) < 0)
				goto config_error;
			break;
		case 'e':
			events_path = optarg;
			break;
		case 'j':
			h.json = true;
			break;
		case 'h':
			usage(stdout);
			ret = 0;
			goto out;
		case 'V':
			printf("neira-host %s\n", NEIRA_VERSION);
			ret = 0;
			goto out;
		default:
			usage(stderr);
			goto out;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "neira-host: missing COMMAND\n");
		usage(stderr);
		goto out;
	}
	const char *cmd = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	if (calls >= 0 && strcmp(cmd, "metrics") != 0) {
		fprintf(stderr, "neira-host: --calls is an option of 'metrics', not of '%s'\n", cmd);
		usage(stderr);
		goto out;
	}
	if (calls < 0)
		calls = 0;
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "drive") == 0) {
		if (nargs != 0)
			goto bad_args;
	} else if (strcmp(cmd, "prompt") == 0) {
		if (nargs != 1)
			goto bad_args;
	} else if (strcmp(cmd, "call") == 0) {
		if (nargs != 2)
			goto bad_args;
	} else if (strcmp(cmd, "metrics") == 0) {
		if (nargs != 0)
			goto bad_args;
	} else {
		static const char *const commands[] = { "status", "prompt", "call", "metrics", "drive" };
		const char *near = nv_nearest(cmd, commands, sizeof(commands) / sizeof(commands[0]));
		fprintf(stderr, "neira-host: unknown command '%s'%s%s%s\n", cmd, near ? " (did you mean '" : "",
			near ? near : "", near ? "'?)" : "");
		usage(stderr);
		goto out;
	}
	if (events_path) {
		h.events = fopen(events_path, "we");
		if (!h.events) {
			fprintf(stderr, "neira-host: open events file %s: %s\n", events_path, strerror(errno));
			goto out;
		}
	}
	h.drive = strcmp(cmd, "drive") == 0;
#ifdef NEIRA_FAULTS_ENABLED
	{
		char ferr[300];
		if (flt_apply_env(ferr, sizeof(ferr)) < 0) {
			fprintf(stderr, "neira-host: %s\n", ferr);
			goto out;
		}
	}
#endif
	if (sup_new(&cfg, NULL, &h.s, &err) < 0)
		goto config_error;
	sup_set_event_cb(h.s, on_event, &h);

	if (h.drive) {
		ret = run_drive(&h);
		goto out;
	}
	sup_init(h.s);
	if (strcmp(cmd, "status") == 0) {
		if (h.json) {
			json_t *j = status_json(h.s);
			out_json(j);
			json_decref(j);
		} else if (sup_is_ready(h.s)) {
			printf("ready: agent %s, version %s, init %.1f ms\n", sup_socket_path(h.s),
			       sup_agent_version(h.s), sup_init_ms(h.s));
		} else {
			char buf[2048];
			sup_error_format(sup_last_error(h.s), buf, sizeof(buf));
			printf("mock: %s\n%s\n", sup_reason(h.s), buf);
		}
		const char *reason = sup_reason(h.s);
		ret = sup_is_ready(h.s) ? 0 : (reason && strcmp(reason, "config_error") == 0) ? 2 : 3;
	} else if (strcmp(cmd, "prompt") == 0 || strcmp(cmd, "call") == 0) {
		sup_reply r = SUP_REPLY_INIT;
		bool prompt = strcmp(cmd, "prompt") == 0;
		int rc = prompt ? sup_call_process_prompt(h.s, args[0], 0, &r)
				: sup_call_custom_function(h.s, args[0], args[1], 0, &r);
		if (h.json) {
			json_t *j = reply_json(prompt ? "prompt" : "call", &r);
			json_object_del(j, "reply");
			json_object_set_new(j, "mode", mode_json(h.s));
			out_json(j);
			json_decref(j);
		} else if (rc == 0) {
			printf("%s%s\n", r.mock ? "[mock mode] " : "", prompt ? r.text : r.result_json);
		} else {
			char buf[2048];
			sup_error_format(&r.err, buf, sizeof(buf));
			fprintf(stderr, "neira-host: %s\n", buf);
		}
		ret = rc == 0 ? 0 : 1;
		sup_reply_destroy(&r);
	} else { /* metrics */
		for (long i = 0; i < calls; i++) {
			sup_reply r = SUP_REPLY_INIT;
			sup_call_process_prompt(h.s, "metrics probe", 0, &r);
			sup_reply_destroy(&r);
		}
		if (h.json) {
			json_t *j = sup_metrics_json(sup_get_metrics(h.s));
			out_json(j);
			json_decref(j);
		} else {
			char *text = NULL;
			if (sup_metrics_prometheus(sup_get_metrics(h.s), &text) >= 0)
				fputs(text, stdout);
			free(text);
		}
		ret = 0;
	}
	sup_stop(h.s, NULL, NULL, NULL);
	goto out;

bad_args:
	fprintf(stderr, "neira-host: wrong arguments for '%s'\n", cmd);
	usage(stderr);
	goto out;
config_error:
	if (h.json) {
		json_t *j = json_pack("{s:s, s:s, s:o}", "mode", "mock", "reason", "config_error", "error",
				      sup_error_to_json(&err));
		out_json(j);
		json_decref(j);
	} else {
		char buf[2048];
		sup_error_format(&err, buf, sizeof(buf));
		fprintf(stderr, "neira-host: configuration error: %s\n", buf);
	}
	ret = 2;
out:
	sup_free(h.s);
	if (h.events)
		fclose(h.events);
	sup_error_destroy(&err);
	sup_config_destroy(&cfg);
	return ret;
}
