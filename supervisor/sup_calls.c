/* sup_calls: the typed calls — method-case fallback (M1–M2), the circuit
 * breaker (C1–C4), mock answers (K1) and prompt failure when the agent dies
 * mid-call (L8). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fiu-local.h>

#include "agent.pb-c.h"
#include "flt_points.h"
#include "sup_bytes.h"
#include "sup_internal.h"

static const char *const method_names[SUP_METHOD_COUNT_] = { "health", "process_prompt", "call_custom_function" };

const char *sup_method_name(sup_method m)
{
	return (unsigned)m < SUP_METHOD_COUNT_ ? method_names[m] : "unknown";
}

const char *sup_method_path(const sup *s, sup_method m)
{
	if (!s || (unsigned)m >= SUP_METHOD_COUNT_)
		return "";
	return sup__path_for(m, s->casing[m]);
}

void sup_reply_destroy(sup_reply *r)
{
	if (!r)
		return;
	free(r->text);
	free(r->result_json);
	free(r->version);
	free(r->message);
	sup_error_destroy(&r->err);
	*r = (sup_reply)SUP_REPLY_INIT;
}

static void set_status(sup_reply *r, const char *name)
{
	snprintf(r->status_name, sizeof(r->status_name), "%s", name);
}

static void call_end(sup *s, sup_method m, const char *path, sup_reply *r, int64_t start_us)
{
	r->duration_ms = (double)(sup__now(s) - start_us) / 1000.0;
	sup__emit(s, NV_EV_CALL_END,
		  json_pack("{s:s, s:s, s:s, s:b, s:b, s:f, s:s?}", "method", sup_method_name(m), "path",
			    path ? path : "", "status", r->status_name, "ok", r->ok, "mock", r->mock, "duration_ms",
			    r->duration_ms, "error", r->ok ? NULL : r->err.message));
}

/* K1: deterministic mock answers, flagged mock. */
static int mock_answer(sup *s, sup_method m, const char *prompt, const char *name, const char *args_json,
		       sup_reply *r, int64_t start_us)
{
	r->ok = true;
	r->mock = true;
	r->status = -1;
	set_status(r, "MOCK");
	switch (m) {
	case SUP_METHOD_HEALTH:
		r->healthy = false;
		r->version = strdup("mock");
		r->message = strdup(s->reason ? s->reason : "mock mode");
		break;
	case SUP_METHOD_PROCESS_PROMPT:
		if (asprintf(&r->text, "[mock] %s", prompt) < 0)
			r->text = NULL;
		break;
	case SUP_METHOD_CALL_CUSTOM_FUNCTION: {
		json_error_t je;
		json_t *args = json_loads(args_json, JSON_DECODE_ANY, &je);
		json_t *o = json_pack("{s:b, s:s, s:o}", "mock", 1, "name", name, "args", args ? args : json_null());
		r->result_json = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(o);
		break;
	}
	default:
		break;
	}
	r->text_len = r->text ? strlen(r->text) : 0;
	r->result_json_len = r->result_json ? strlen(r->result_json) : 0;
	r->version_len = r->version ? strlen(r->version) : 0;
	r->message_len = r->message ? strlen(r->message) : 0;
	sup__emit(s, NV_EV_CALL_START, json_pack("{s:s, s:s}", "method", sup_method_name(m), "path", "mock"));
	call_end(s, m, "mock", r, start_us);
	return 0;
}

/* C4: what counts as a breaker failure. Issue 15: RESOURCE_EXHAUSTED too —
 * the client's answer to a reply larger than it accepts (an agent sending
 * 8 MB or 100 MB), a transport-level failure, not an application answer. */
static bool counts_as_failure(int status)
{
	return status == RPC_UNAVAILABLE || status == RPC_DEADLINE_EXCEEDED || status == RPC_INTERNAL ||
	       status == RPC_CANCELLED || status == SUP_RPC_RESOURCE_EXHAUSTED;
}

/* A copy of the string field `field` of a reply, byte for byte (issue 15:
 * NULs and non-UTF-8 bytes kept; protobuf-c's char * would end at a NUL). */
static int dup_field(const rpc_result *res, uint32_t field, char **out, size_t *out_len)
{
	const char *p;
	size_t n;
	if (sup_wire_bytes(res->data, res->len, field, &p, &n) < 0)
		return -EPROTO;
	*out = malloc(n + 1);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, p, n);
	(*out)[n] = '\0';
	*out_len = n;
	return 0;
}

static void breaker_report(sup *s, int outcome /* 1 success, -1 failure, 0 neutral */)
{
	sup_breaker_state from = s->br.state;
	int64_t now = sup__now(s);
	if (outcome > 0)
		sup_breaker_success(&s->br, now);
	else if (outcome < 0)
		sup_breaker_failure(&s->br, now);
	else
		sup_breaker_neutral(&s->br);
	sup__breaker_event(s, from);
}

static int decode_reply(sup_method m, const rpc_result *res, sup_reply *r)
{
	switch (m) {
	case SUP_METHOD_HEALTH: {
		Neira__Agent__V1__HealthCheckResponse *p =
			neira__agent__v1__health_check_response__unpack(NULL, res->len, res->data);
		if (!p)
			return -EPROTO;
		r->healthy = p->healthy;
		neira__agent__v1__health_check_response__free_unpacked(p, NULL);
		int rc = dup_field(res, 3, &r->version, &r->version_len);
		return rc < 0 ? rc : dup_field(res, 2, &r->message, &r->message_len);
	}
	case SUP_METHOD_PROCESS_PROMPT: {
		Neira__Agent__V1__ProcessPromptResponse *p =
			neira__agent__v1__process_prompt_response__unpack(NULL, res->len, res->data);
		if (!p)
			return -EPROTO;
		neira__agent__v1__process_prompt_response__free_unpacked(p, NULL);
		return dup_field(res, 1, &r->text, &r->text_len);
	}
	case SUP_METHOD_CALL_CUSTOM_FUNCTION: {
		Neira__Agent__V1__CallCustomFunctionResponse *p =
			neira__agent__v1__call_custom_function_response__unpack(NULL, res->len, res->data);
		if (!p)
			return -EPROTO;
		neira__agent__v1__call_custom_function_response__free_unpacked(p, NULL);
		return dup_field(res, 1, &r->result_json, &r->result_json_len);
	}
	default:
		return -EINVAL;
	}
}

/* Wait for `call` on the event loop. Returns 1 completed, 0 our deadline
 * passed, -EPIPE the agent died meanwhile (L8). */
static int wait_call(sup *s, rpc_call *call, int64_t deadline_us)
{
	for (;;) {
		if (rpc_call_done(call))
			return 1;
		if (!s->child_alive)
			return -EPIPE;
		if (sup__now(s) >= deadline_us)
			return 0;
		bool ready = false, hook = false;
		sup__loop_once(s, deadline_us, s->call_hook ? s->call_hook_fd : -1, &hook, call, &ready);
		if (hook && s->call_hook)
			s->call_hook(s->call_hook_ud); /* may start nested calls (C3) */
	}
}

void sup_set_call_hook(sup *s, int fd, void (*cb)(void *ud), void *ud)
{
	if (!s)
		return;
	s->call_hook_fd = fd;
	s->call_hook = fd >= 0 ? cb : NULL;
	s->call_hook_ud = ud;
}

int sup_calls_in_flight(const sup *s)
{
	return s ? s->calls_in_flight : 0;
}

/* L8: the call failed because the agent died: say so, with the exit status. */
static int agent_died(sup *s, sup_method m, const char *path, sup_reply *r)
{
	set_status(r, "AGENT_DIED");
	r->status = RPC_UNAVAILABLE;
	if (s->exit_signal)
		sup_error_set(&r->err, "supervisor", EPIPE, "call %s %s: agent died (pid %d killed by signal %d)",
			      sup_method_name(m), path, (int)s->ch.pid, s->exit_signal);
	else
		sup_error_set(&r->err, "supervisor", EPIPE, "call %s %s: agent died (pid %d exited with code %d)",
			      sup_method_name(m), path, (int)s->ch.pid, s->exit_code);
	sup_error_ctx(&r->err, "method", "%s", sup_method_name(m));
	sup_error_ctx(&r->err, "pid", "%d", (int)s->ch.pid);
	if (s->exit_signal)
		sup_error_ctx(&r->err, "signal", "%d", s->exit_signal);
	else
		sup_error_ctx(&r->err, "exit_code", "%d", s->exit_code);
	breaker_report(s, -1); /* C4: agent death counts */
	return -EPIPE;
}

static int do_call(sup *s, sup_method m, const uint8_t *req, size_t req_len, int64_t deadline_ms, sup_reply *r,
		   int64_t start_us)
{
	if (deadline_ms <= 0)
		deadline_ms = s->cfg.call_deadline_ms;
	bool trial = false;
	sup_breaker_state from = s->br.state;
	bool allowed = sup_breaker_allow(&s->br, start_us, &trial);
	sup__breaker_event(s, from);
	const char *path = sup__path_for(m, s->casing[m]);
	if (!allowed) {
		/* C2/C3: fail fast without touching the agent */
		/* C3: while the half-open trial is out, the others fail fast too */
		bool trial_out = s->br.state == SUP_BREAKER_HALF_OPEN;
		set_status(r, "BREAKER_OPEN");
		if (trial_out)
			sup_error_set(&r->err, "supervisor", EAGAIN,
				      "call %s %s: circuit breaker is OPEN (half-open: its one trial call is in flight)",
				      sup_method_name(m), path);
		else
			sup_error_set(&r->err, "supervisor", EAGAIN,
				      "call %s %s: circuit breaker is OPEN (%d consecutive failures; retry in %lld ms)",
				      sup_method_name(m), path, s->br.failures,
				      (long long)(sup_breaker_retry_in_ms(&s->br, start_us) / 1000));
		sup_error_ctx(&r->err, "method", "%s", sup_method_name(m));
		sup_error_ctx(&r->err, "breaker", "%s", sup_breaker_state_name(s->br.state));
		/* no call_start: nothing is sent, and the event stream must
		 * show that the agent was not touched (C2) */
		sup__emit(s, NV_EV_CALL_REJECTED,
			  json_pack("{s:s, s:s, s:s, s:s, s:I}", "method", sup_method_name(m), "path", path, "reason",
				    trial_out ? "trial_in_flight" : "breaker_open", "breaker", sup_breaker_state_name(s->br.state), "retry_in_ms",
				    (json_int_t)(sup_breaker_retry_in_ms(&s->br, start_us) / 1000)));
		call_end(s, m, path, r, start_us);
		return -EAGAIN;
	}
	sup__emit(s, NV_EV_CALL_START, json_pack("{s:s, s:s}", "method", sup_method_name(m), "path", path));
	const char *tried[2] = { path, NULL };
	int ntried = 1;
	int64_t deadline_us = start_us + deadline_ms * 1000;
	int rc = 0;
	s->died_in_call = false;
	rpc_result res = RPC_RESULT_INIT;
	for (;;) {
		rpc_call *call = NULL;
		int64_t left_ms = (deadline_us - sup__now(s) + 999) / 1000;
		rc = sup__call_start(s->client, path, req, req_len, left_ms < 1 ? 1 : left_ms, &call);
		if (rc < 0) {
			set_status(r, "INTERNAL");
			sup_error_set(&r->err, "supervisor", -rc, "call %s %s: start: %s", sup_method_name(m), path,
				      strerror(-rc));
			breaker_report(s, -1);
			rc = -EIO;
			goto out;
		}
		/* a little slack: gRPC enforces the deadline itself and
		 * reports DEADLINE_EXCEEDED; ours is the backstop */
		int w = wait_call(s, call, deadline_us + 200000);
		if (w == -EPIPE) {
			rpc_call_free(call);
			rc = agent_died(s, m, path, r);
			goto out;
		}
		if (w == 0) {
			rpc_call_cancel(call);
		}
		rpc_result_destroy(&res);
		if (w == 0 || rpc_call_finish(call, &res) < 0) {
			rpc_result_destroy(&res);
			res.status = RPC_DEADLINE_EXCEEDED;
			res.details = strdup("deadline exceeded (supervisor)");
		}
		rpc_call_free(call);
		if ((res.status == RPC_UNAVAILABLE || res.status == RPC_CANCELLED || res.status == RPC_INTERNAL ||
		     res.status == RPC_UNKNOWN) && (s->child_alive || s->died_in_call)) {
			/* L8: a transport failure may be the agent dying; its
			 * exit is usually milliseconds behind the broken stream */
			int64_t until = sup__now(s) + 100000;
			while (s->child_alive && sup__now(s) < until)
				sup__loop_once(s, until, -1, NULL, NULL, NULL);
			if (!s->child_alive) {
				s->died_in_call = false;
				rc = agent_died(s, m, path, r);
				goto out;
			}
		}
		if (res.status == RPC_UNIMPLEMENTED && ntried == 1 && !s->casing_known[m]) {
			/* M1: once more under the other casing; not a breaker
			 * event (M2/C4) */
			int other = !s->casing[m];
			const char *to = sup__path_for(m, other);
			sup__emit(s, NV_EV_CALL_CASE_RETRY,
				  json_pack("{s:s, s:s, s:s}", "method", sup_method_name(m), "from", path, "to", to));
			tried[ntried++] = to;
			path = to;
			continue;
		}
		break;
	}
	r->status = res.status;
	set_status(r, rpc_status_name(res.status));
	if (res.status == RPC_OK) {
		if (ntried == 2)
			s->casing[m] = !s->casing[m];
		s->casing_known[m] = true; /* M1: remembered from now on */
		if (decode_reply(m, &res, r) < 0) {
			sup_error_set(&r->err, "supervisor", EPROTO, "call %s %s: undecodable reply", sup_method_name(m),
				      path);
			breaker_report(s, -1);
			rc = -EIO;
			goto out;
		}
		r->ok = true;
		breaker_report(s, 1);
		rc = 0;
		goto out;
	}
	if (res.status == RPC_UNIMPLEMENTED && ntried == 2) {
		/* M2: name the method and every path tried */
		sup_error_set(&r->err, "supervisor", 0,
			      "call %s: UNIMPLEMENTED under every casing, tried %s and %s", sup_method_name(m),
			      tried[0], tried[1]);
		sup_error_ctx(&r->err, "paths_tried", "%s, %s", tried[0], tried[1]);
	} else {
		sup_error_set(&r->err, "supervisor", 0, "call %s %s: %s: %s", sup_method_name(m), path,
			      rpc_status_name(res.status), res.details ? res.details : "");
	}
	sup_error_ctx(&r->err, "method", "%s", sup_method_name(m));
	sup_error_ctx(&r->err, "status", "%s", rpc_status_name(res.status));
	sup_error_ctx(&r->err, "path", "%s", path);
	breaker_report(s, counts_as_failure(res.status) ? -1 : 0);
	rc = -EIO;
out:
	rpc_result_destroy(&res);
	double ms = (double)(sup__now(s) - start_us) / 1000.0;
	sup_metrics_observe_call(&s->m, ms, !r->ok);
	call_end(s, m, path, r, start_us);
	return rc;
}

static int typed_call(sup *s, sup_method m, const char *prompt, const char *name, const char *args_json,
		      int64_t deadline_ms, sup_reply *r)
{
	if (!s || !r)
		return -EINVAL;
	*r = (sup_reply)SUP_REPLY_INIT;
	int64_t start = sup__now(s);
	/* C4: bad arguments are rejected before sending and never counted */
	const char *bad = NULL;
	/* issue 15: range-checked, or the µs deadline below overflows and an
	 * instant DEADLINE_EXCEEDED would count as a breaker failure */
	if (deadline_ms > SUP_MAX_MS)
		bad = "deadline_ms out of range (at most 86400000 ms; <= 0 = the configured call_deadline_ms)";
	if (m == SUP_METHOD_PROCESS_PROMPT && !prompt)
		bad = "prompt is NULL";
	if (m == SUP_METHOD_CALL_CUSTOM_FUNCTION) {
		json_error_t je;
		json_t *j = NULL;
		if (!name || !*name)
			bad = "function name is empty";
		else if (!args_json || !(j = json_loads(args_json, JSON_DECODE_ANY, &je)))
			bad = "args_json is not valid JSON";
		json_decref(j);
	}
	if (bad) {
		set_status(r, "INVALID_ARGUMENT");
		sup_error_set(&r->err, "supervisor", EINVAL, "call %s: rejected before sending: %s", sup_method_name(m),
			      bad);
		sup_error_ctx(&r->err, "method", "%s", sup_method_name(m));
		call_end(s, m, "", r, start);
		return -EINVAL;
	}
	if (s->state != SUP_STATE_READY || !s->client)
		return mock_answer(s, m, prompt, name, args_json, r, start);

	uint8_t *buf = NULL;
	size_t len = 0;
	bool alloc_fail = false;
	fiu_do_on(FLT_NAME(SUP_ALLOC_REQUEST), alloc_fail = true);
	switch (m) {
	case SUP_METHOD_HEALTH: {
		Neira__Agent__V1__HealthCheckRequest q = NEIRA__AGENT__V1__HEALTH_CHECK_REQUEST__INIT;
		q.service = (char *)"python-agent";
		len = neira__agent__v1__health_check_request__get_packed_size(&q);
		buf = alloc_fail ? NULL : malloc(len + 1);
		if (buf)
			neira__agent__v1__health_check_request__pack(&q, buf);
		break;
	}
	case SUP_METHOD_PROCESS_PROMPT: {
		Neira__Agent__V1__ProcessPromptRequest q = NEIRA__AGENT__V1__PROCESS_PROMPT_REQUEST__INIT;
		q.prompt = (char *)prompt;
		len = neira__agent__v1__process_prompt_request__get_packed_size(&q);
		buf = alloc_fail ? NULL : malloc(len + 1);
		if (buf)
			neira__agent__v1__process_prompt_request__pack(&q, buf);
		break;
	}
	case SUP_METHOD_CALL_CUSTOM_FUNCTION: {
		Neira__Agent__V1__CallCustomFunctionRequest q = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_REQUEST__INIT;
		q.name = (char *)name;
		q.args_json = (char *)args_json;
		len = neira__agent__v1__call_custom_function_request__get_packed_size(&q);
		buf = alloc_fail ? NULL : malloc(len + 1);
		if (buf)
			neira__agent__v1__call_custom_function_request__pack(&q, buf);
		break;
	}
	default:
		return -EINVAL;
	}
	if (!buf) {
		sup_error_set(&r->err, "supervisor", ENOMEM, "call %s: encode request: out of memory", sup_method_name(m));
		return -ENOMEM;
	}
	s->calls_in_flight++;
	int rc = do_call(s, m, buf, len, deadline_ms, r, start);
	s->calls_in_flight--;
	free(buf);
	/* L8: the client of an agent that died during the call (on_child_exit
	 * leaves it to the last call in flight; freeing it waits for calls) */
	if (s->calls_in_flight == 0 && s->state != SUP_STATE_READY && s->client) {
		rpc_client_free(s->client);
		s->client = NULL;
	}
	return rc;
}

int sup_call_health(sup *s, int64_t deadline_ms, sup_reply *r)
{
	return typed_call(s, SUP_METHOD_HEALTH, NULL, NULL, NULL, deadline_ms, r);
}

int sup_call_process_prompt(sup *s, const char *prompt, int64_t deadline_ms, sup_reply *r)
{
	return typed_call(s, SUP_METHOD_PROCESS_PROMPT, prompt, NULL, NULL, deadline_ms, r);
}

int sup_call_custom_function(sup *s, const char *name, const char *args_json, int64_t deadline_ms, sup_reply *r)
{
	return typed_call(s, SUP_METHOD_CALL_CUSTOM_FUNCTION, NULL, name, args_json,
			  deadline_ms, r);
}
