/* hx_intr: interruption state — SIGINT/SIGTERM seen, and what a scenario
 * child must undo if it is cut short (its host's process group, its scenario
 * dir). Below hx_run and hx_isolate, which both read it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "hx_internal.h"

static volatile sig_atomic_t interrupted;
static volatile pid_t host_pid;      /* the scenario's host, its own process group */
static char scen_dir[512];           /* removed at exit if a run is cut short */

static void child_on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	pid_t h = host_pid;
	if (h > 0) /* the host's agent goes with it (PR_SET_PDEATHSIG) */
		kill(-h, SIGKILL);
}

void hx_run_register_host(pid_t pid)
{
	host_pid = pid;
}

void hx_run_register_dir(const char *dir)
{
	snprintf(scen_dir, sizeof(scen_dir), "%s", dir ? dir : "");
}

bool hx_run_interrupted(void)
{
	return interrupted;
}

static void leave_nothing(void)
{
	if (scen_dir[0])
		hx_rm_rf(scen_dir);
}

void hx_intr_child_setup(void)
{
	struct sigaction sa = { .sa_handler = child_on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	atexit(leave_nothing);
}

void hx_intr_set(void)
{
	interrupted = 1;
}
