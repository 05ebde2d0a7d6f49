/* libFuzzer target: neira-host's drive command parser (supervisor/
 * neira_host.c, drive_line and what it dispatches to), on a supervisor in
 * mock mode (no agent) with a fake clock, so that {"cmd":"wait","ms":…} of
 * any size costs no real time. Replies go to /dev/null; what is checked is
 * that no input crashes, leaks, hangs or trips a sanitizer (issue 15: a
 * negative "ms" used to block forever, near-INT64_MAX values overflowed). */
#include <stdio.h>

#define main neira_host_main
#include "../supervisor/neira_host.c"
#include "rpc.h"
#undef main

static int64_t fake_us;

static int64_t fuzz_now(void *ud)
{
	(void)ud;
	return fake_us;
}

/* Nothing is ever ready: the clock jumps by the whole timeout. */
static int fuzz_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout_ms)
{
	(void)ud;
	for (nfds_t i = 0; i < n; i++)
		fds[i].revents = 0;
	if (timeout_ms < 0)
		timeout_ms = 1000;
	fake_us += (int64_t)timeout_ms * 1000 + 1;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	rpc_global_init(); /* one reference for the whole run: sup_new's grpc_init is then cheap */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	host h = { 0 };
	sup_config cfg;
	sup_config_init(&cfg);
	sup_config_set(&cfg, "agent_path", "/nonexistent/neira-agent", NULL);
	sup_config_set(&cfg, "socket_path", "/nonexistent/neira-fuzz.sock", NULL);
	sup_env env = { .now_us = fuzz_now, .poll = fuzz_poll };
	if (sup_new(&cfg, &env, &h.s, NULL) < 0) {
		sup_config_destroy(&cfg);
		return 0;
	}
	h.drive = true;
	sup_set_event_cb(h.s, on_event, &h);
	sup_linebuf_init(&h.lb, 1 << 16);
	h.deferred = json_array();
	sup_linebuf_feed(&h.lb, (const char *)data, size, drive_line, &h);
	sup_linebuf_flush(&h.lb, drive_line, &h);
	sup_linebuf_destroy(&h.lb);
	json_decref(h.deferred);
	sup_free(h.s);
	sup_config_destroy(&cfg);
	return 0;
}
