/* agent_service: HealthCheck, ProcessPrompt, CallCustomFunction and the
 * standard grpc.health.v1 Check, shared by neira-agent and the fake agents. */
#include "agent_service.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.pb-c.h"
#include "health.pb-c.h"
#include "neira_config.h"

/* ---- logging (A3) -------------------------------------------------------- */

static ag_log_level log_level = AG_LOG_INFO;
static const char *log_name = "neira-agent";

ag_log_level ag_log_level_parse(const char *s, bool *unknown)
{
	static const struct {
		const char *word;
		ag_log_level lvl;
	} words[] = {
		{ "debug", AG_LOG_DEBUG }, { "info", AG_LOG_INFO },   { "warn", AG_LOG_WARN },
		{ "warning", AG_LOG_WARN }, { "error", AG_LOG_ERROR }, { "off", AG_LOG_OFF },
	};
	if (unknown)
		*unknown = false;
	if (!s || !*s)
		return AG_LOG_INFO;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strcasecmp(s, words[i].word) == 0)
			return words[i].lvl;
	if (unknown)
		*unknown = true;
	return AG_LOG_INFO;
}

void ag_log_set_level(ag_log_level lvl)
{
	log_level = lvl;
}

void ag_log_set_name(const char *name)
{
	log_name = name;
}

void ag_log(ag_log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = { "DEBUG", "INFO", "WARN", "ERROR", "OFF" };
	if (lvl < log_level || lvl >= AG_LOG_OFF)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* one write per line, so that lines of concurrent handlers don't mix */
	dprintf(STDERR_FILENO, "%s[%d] %s %s\n", log_name, (int)getpid(), names[lvl], msg);
}

/* ---- environment --------------------------------------------------------- */

int ag_socket_path(char *out, size_t outlen)
{
	const char *p = getenv("NEIRA_SOCKET_PATH");
	int n;
	if (p && *p) {
		n = snprintf(out, outlen, "%s", p);
	} else {
		const char *tmp = getenv("TMPDIR");
		if (!tmp || !*tmp)
			tmp = "/tmp";
		size_t len = strlen(tmp);
		while (len > 1 && tmp[len - 1] == '/')
			len--;
		n = snprintf(out, outlen, "%.*s/neira_agent.sock", (int)(len == 1 && tmp[0] == '/' ? 0 : len), tmp);
	}
	return (n < 0 || (size_t)n >= outlen) ? -ENAMETOOLONG : 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void ag_service_init(ag_service *s)
{
	memset(s, 0, sizeof(*s));
	s->version = "neira-agent " NEIRA_VERSION;
	const char *mode = getenv("NEIRA_AGENT_MODE");
	s->mode = (mode && *mode) ? mode : "development";
	s->started_ms = mono_ms();
}

/* ---- reply helpers ------------------------------------------------------- */

/* A reply without a message: an error, or the final status of a stream. */
static void set_status(rpc_response *resp, int status, const char *details)
{
	resp->status = status;
	resp->details = details;
	resp->data = NULL;
	resp->len = 0;
}

/* Pack a protobuf-c message into resp (OK), or INTERNAL on allocation failure. */
static void reply_msg(rpc_response *resp, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	uint8_t *buf = malloc(n ? n : 1);
	if (!buf) {
		set_status(resp, RPC_INTERNAL, "out of memory packing the reply");
		return;
	}
	protobuf_c_message_pack(msg, buf);
	resp->status = RPC_OK;
	resp->details = NULL;
	resp->data = buf;
	resp->len = n;
}

/* ---- HealthCheck (A2, H2) ------------------------------------------------ */

void ag_handle_health(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	ag_service *s = ud;
	(void)ctx;
	Neira__Agent__V1__HealthCheckRequest *in =
		neira__agent__v1__health_check_request__unpack(NULL, len, req);
	if (!in) {
		set_status(resp, RPC_INVALID_ARGUMENT, "HealthCheckRequest does not parse");
		return;
	}
	bool healthy = s->healthy_fn ? s->healthy_fn(s->healthy_ud) : true;
	char message[160];
	snprintf(message, sizeof(message), "%s (service=%s, mode=%s)", healthy ? "ok" : "not ready",
		 in->service[0] ? in->service : "-", s->mode);
	ag_log(AG_LOG_DEBUG, "HealthCheck service=%s -> healthy=%s", in->service, healthy ? "true" : "false");
	neira__agent__v1__health_check_request__free_unpacked(in, NULL);

	Neira__Agent__V1__HealthCheckResponse out = NEIRA__AGENT__V1__HEALTH_CHECK_RESPONSE__INIT;
	out.healthy = healthy;
	out.message = message;
	out.version = (char *)s->version;
	out.pid = (int32_t)getpid();
	out.mode = (char *)s->mode;
	out.uptime_ms = mono_ms() - s->started_ms;
	reply_msg(resp, &out.base);
}

/* A4: the status grpc.health.v1 reports for a request: SERVING iff
 * HealthCheck would say healthy; SERVICE_UNKNOWN for a service name other
 * than "" or ours. Returns -1 (resp filled) when the request does not parse. */
static int std_health_status(ag_service *s, const uint8_t *req, size_t len, rpc_response *resp,
			     Grpc__Health__V1__HealthCheckResponse__ServingStatus *status)
{
	Grpc__Health__V1__HealthCheckRequest *in = grpc__health__v1__health_check_request__unpack(NULL, len, req);
	if (!in) {
		set_status(resp, RPC_INVALID_ARGUMENT, "grpc.health.v1.HealthCheckRequest does not parse");
		return -1;
	}
	bool known = in->service[0] == '\0' || strcmp(in->service, "neira.agent.v1.PythonAgent") == 0;
	grpc__health__v1__health_check_request__free_unpacked(in, NULL);
	if (!known)
		*status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
	else if (s->healthy_fn ? s->healthy_fn(s->healthy_ud) : true)
		*status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	else
		*status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	return 0;
}

void ag_handle_std_health(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ctx;
	Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	if (std_health_status(ud, req, len, resp, &out.status) < 0)
		return;
	/* grpc's health protocol: an unknown service is NOT_FOUND on Check */
	if (out.status == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN) {
		set_status(resp, RPC_NOT_FOUND, "unknown service name");
		return;
	}
	reply_msg(resp, &out.base);
}

/* A4: Watch sends the current status at once (an unknown service is a
 * status here, not an error), then holds the stream open until the client
 * cancels or the agent stops. This agent's health does not change while it
 * serves, so there is nothing further to send. */
void ag_handle_std_watch(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	if (std_health_status(ud, req, len, resp, &out.status) < 0)
		return;
	uint8_t buf[16];
	size_t n = grpc__health__v1__health_check_response__pack(&out, buf);
	ag_log(AG_LOG_DEBUG, "Health/Watch -> status %d", (int)out.status);
	if (rpc_ctx_send(ctx, buf, n) == 0)
		rpc_ctx_sleep_ms(ctx, -1); /* until cancelled or shut down */
	set_status(resp, RPC_OK, NULL);
}

/* ---- ProcessPrompt: a deterministic echo with text statistics ------------- */

static void prompt_stats(const char *p, Neira__Agent__V1__PromptStats *st)
{
	bool in_word = false;
	st->bytes = (uint32_t)strlen(p);
	st->lines = *p ? 1 : 0;
	for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
		if ((*c & 0xC0) != 0x80)
			st->chars++; /* count UTF-8 lead bytes only */
		if (*c == '\n' && c[1])
			st->lines++;
		bool space = *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r';
		if (!space && !in_word)
			st->words++;
		in_word = !space;
	}
}

void ag_handle_prompt(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ud;
	(void)ctx;
	Neira__Agent__V1__ProcessPromptRequest *in =
		neira__agent__v1__process_prompt_request__unpack(NULL, len, req);
	if (!in) {
		set_status(resp, RPC_INVALID_ARGUMENT, "ProcessPromptRequest does not parse");
		return;
	}
	Neira__Agent__V1__PromptStats st = NEIRA__AGENT__V1__PROMPT_STATS__INIT;
	prompt_stats(in->prompt, &st);
	size_t tlen = strlen(in->prompt) + 96;
	char *text = malloc(tlen);
	if (!text) {
		neira__agent__v1__process_prompt_request__free_unpacked(in, NULL);
		set_status(resp, RPC_INTERNAL, "out of memory");
		return;
	}
	snprintf(text, tlen, "processed %u words, %u chars: %s", st.words, st.chars, in->prompt);
	ag_log(AG_LOG_DEBUG, "ProcessPrompt request_id=%s bytes=%u", in->request_id, st.bytes);

	Neira__Agent__V1__ProcessPromptResponse out = NEIRA__AGENT__V1__PROCESS_PROMPT_RESPONSE__INIT;
	out.text = text;
	out.request_id = in->request_id;
	out.mock = false;
	out.stats = &st;
	reply_msg(resp, &out.base);
	free(text);
	neira__agent__v1__process_prompt_request__free_unpacked(in, NULL);
}

/* ---- CallCustomFunction: a registry of named functions (JSON in, JSON out) */

typedef struct {
	int status;            /* RPC_OK or an error status */
	char details[256];
	json_t *result;        /* owned; set when status is OK */
} fn_out;

typedef void (*fn_impl)(rpc_ctx *ctx, json_t *args, fn_out *out);

static void fn_fail_arg(fn_out *out, const char *fmt, const char *arg)
{
	out->status = RPC_INVALID_ARGUMENT;
	snprintf(out->details, sizeof(out->details), fmt, arg);
}

static void fn_echo(rpc_ctx *ctx, json_t *args, fn_out *out)
{
	(void)ctx;
	out->result = json_pack("{sO}", "echo", args);
}

static void fn_sum(rpc_ctx *ctx, json_t *args, fn_out *out)
{
	(void)ctx;
	json_t *values = json_is_array(args) ? args : json_object_get(args, "values");
	if (!json_is_array(values)) {
		fn_fail_arg(out, "sum: %s", "args must be an array of numbers or {\"values\": [...]}");
		return;
	}
	double total = 0;
	size_t i;
	json_t *v;
	json_array_foreach(values, i, v) {
		if (!json_is_number(v)) {
			char idx[32];
			snprintf(idx, sizeof(idx), "%zu", i);
			fn_fail_arg(out, "sum: element %s is not a number", idx);
			return;
		}
		total += json_number_value(v);
	}
	out->result = json_pack("{sfsI}", "sum", total, "count", (json_int_t)json_array_size(values));
}

static void fn_sleep_ms(rpc_ctx *ctx, json_t *args, fn_out *out)
{
	json_t *ms = json_object_get(args, "ms");
	if (!json_is_integer(ms) || json_integer_value(ms) < 0) {
		fn_fail_arg(out, "sleep_ms: %s", "args must be {\"ms\": <non-negative integer>}");
		return;
	}
	/* interrupted by cancellation or shutdown, never a blind sleep */
	bool full = rpc_ctx_sleep_ms(ctx, json_integer_value(ms));
	if (!full) {
		out->status = RPC_CANCELLED;
		snprintf(out->details, sizeof(out->details), "sleep_ms interrupted");
		return;
	}
	out->result = json_pack("{sI}", "slept_ms", json_integer_value(ms));
}

static void fn_fail(rpc_ctx *ctx, json_t *args, fn_out *out)
{
	(void)ctx;
	json_t *code = json_object_get(args, "code");
	json_t *msg = json_object_get(args, "message");
	int c = json_is_integer(code) ? (int)json_integer_value(code) : RPC_INTERNAL;
	if (c <= 0 || c > 16)
		c = RPC_INTERNAL;
	out->status = c;
	snprintf(out->details, sizeof(out->details), "%s",
		 json_is_string(msg) ? json_string_value(msg) : "fail: failing as asked");
}

static void fn_upper(rpc_ctx *ctx, json_t *args, fn_out *out)
{
	(void)ctx;
	json_t *text = json_is_string(args) ? args : json_object_get(args, "text");
	if (!json_is_string(text)) {
		fn_fail_arg(out, "upper: %s", "args must be a string or {\"text\": \"...\"}");
		return;
	}
	char *u = strdup(json_string_value(text));
	if (!u) {
		out->status = RPC_INTERNAL;
		snprintf(out->details, sizeof(out->details), "out of memory");
		return;
	}
	for (char *p = u; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	out->result = json_pack("{ss}", "text", u);
	free(u);
}

static void fn_list(rpc_ctx *ctx, json_t *args, fn_out *out);

static const struct {
	const char *name;
	fn_impl fn;
} functions[] = {
	{ "echo", fn_echo }, { "sum", fn_sum }, { "sleep_ms", fn_sleep_ms },
	{ "fail", fn_fail }, { "upper", fn_upper }, { "list", fn_list },
};
#define N_FUNCTIONS (sizeof(functions) / sizeof(functions[0]))

const char *const *ag_function_names(void)
{
	static const char *names[N_FUNCTIONS + 1];
	for (size_t i = 0; i < N_FUNCTIONS; i++)
		names[i] = functions[i].name;
	return names;
}

static void fn_list(rpc_ctx *ctx, json_t *args, fn_out *out)
{
	(void)ctx;
	(void)args;
	json_t *arr = json_array();
	for (size_t i = 0; i < N_FUNCTIONS; i++)
		json_array_append_new(arr, json_string(functions[i].name));
	out->result = json_pack("{so}", "functions", arr);
}

void ag_handle_call(void *ud, rpc_ctx *ctx, const uint8_t *req, size_t len, rpc_response *resp)
{
	(void)ud;
	/* details must outlive this function: the server copies them after we
	 * return, so keep them in thread-local storage */
	static _Thread_local char details[320];
	Neira__Agent__V1__CallCustomFunctionRequest *in =
		neira__agent__v1__call_custom_function_request__unpack(NULL, len, req);
	if (!in) {
		set_status(resp, RPC_INVALID_ARGUMENT, "CallCustomFunctionRequest does not parse");
		return;
	}
	fn_impl fn = NULL;
	for (size_t i = 0; i < N_FUNCTIONS; i++)
		if (strcmp(functions[i].name, in->name) == 0)
			fn = functions[i].fn;
	if (!fn) {
		snprintf(details, sizeof(details),
			 "no custom function named \"%.64s\" (known: echo, sum, sleep_ms, fail, upper, list)",
			 in->name);
		ag_log(AG_LOG_WARN, "CallCustomFunction: %s", details);
		neira__agent__v1__call_custom_function_request__free_unpacked(in, NULL);
		set_status(resp, RPC_NOT_FOUND, details);
		return;
	}
	json_error_t jerr;
	const char *args_text = in->args_json[0] ? in->args_json : "null";
	json_t *args = json_loads(args_text, JSON_DECODE_ANY, &jerr);
	if (!args) {
		snprintf(details, sizeof(details), "%.64s: args_json is not JSON: %s (line %d, column %d)",
			 in->name, jerr.text, jerr.line, jerr.column);
		neira__agent__v1__call_custom_function_request__free_unpacked(in, NULL);
		set_status(resp, RPC_INVALID_ARGUMENT, details);
		return;
	}
	fn_out out = { .status = RPC_OK, .details = "", .result = NULL };
	ag_log(AG_LOG_DEBUG, "CallCustomFunction %s", in->name);
	fn(ctx, args, &out);
	json_decref(args);
	if (out.status != RPC_OK || !out.result) {
		snprintf(details, sizeof(details), "%s", out.details[0] ? out.details : "function failed");
		json_decref(out.result);
		neira__agent__v1__call_custom_function_request__free_unpacked(in, NULL);
		set_status(resp, out.status != RPC_OK ? out.status : RPC_INTERNAL, details);
		return;
	}
	char *result = json_dumps(out.result, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(out.result);
	Neira__Agent__V1__CallCustomFunctionResponse reply = NEIRA__AGENT__V1__CALL_CUSTOM_FUNCTION_RESPONSE__INIT;
	reply.result_json = result ? result : "null";
	reply.request_id = in->request_id;
	reply_msg(resp, &reply.base);
	free(result);
	neira__agent__v1__call_custom_function_request__free_unpacked(in, NULL);
}

size_t ag_service_methods(ag_service *s, rpc_method *out, size_t max)
{
	const rpc_method all[] = {
		{ AG_PATH_HEALTH, ag_handle_health, s },
		{ AG_PATH_PROMPT, ag_handle_prompt, s },
		{ AG_PATH_CALL, ag_handle_call, s },
		{ AG_PATH_STD_HEALTH, ag_handle_std_health, s },
		{ AG_PATH_STD_WATCH, ag_handle_std_watch, s, .server_stream = true },
	};
	size_t n = sizeof(all) / sizeof(all[0]);
	if (n > max)
		n = max;
	memcpy(out, all, n * sizeof(all[0]));
	return n;
}

/* ---- process plumbing ---------------------------------------------------- */

void ag_stop_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGQUIT);
}

int ag_signals_block(void)
{
	sigset_t set;
	ag_stop_signals(&set);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		return -EINVAL;
	int fd = signalfd(-1, &set, SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int ag_print_ready(void)
{
	if (fputs("AGENT_READY\n", stdout) == EOF || fflush(stdout) == EOF)
		return -errno;
	return 0;
}
