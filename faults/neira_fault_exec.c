/* neira-fault-exec: the harness puts this in front of the agent
 * (`neira-host --agent neira-fault-exec`) so that libfiu's preloads apply to
 * one side only. The supervisor passes its whole environment to the agent
 * (SPEC L3), preloads included; this wrapper drops what the supervisor side
 * inherited (LD_PRELOAD, FIU_ENABLE, FIU_CTRL_FIFO, NEIRA_FAULTS), installs
 * the agent side's own, and execve()s the real agent — same pid, same
 * argv[1..], no shell.
 *
 *   NEIRA_FAULT_EXEC_AGENT   the real agent (required)
 *   NEIRA_FAULT_AGENT_ENABLE libfiu commands for the agent, newline separated
 *                            ("enable name=posix/io/net/listen,failinfo=98");
 *                            empty = no preload on the agent side
 *   NEIRA_FAULT_AGENT_CTRL   FIU_CTRL_FIFO prefix for the agent (remote
 *                            control, for faults that start mid-run)
 *   NEIRA_FAULT_AGENT_SEED   the seed of libfiu's PRNG in the agent (its
 *                            FIU_PRNG_SEED: probability faults repeat exactly)
 *   NEIRA_FAULT_PRELOAD_DIR  where the preloads are (default /usr/lib/fiu)
 *
 * No allocation on purpose: the wrapper itself may run under the
 * supervisor side's preload, where libc/mm/malloc can be failing. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

#define MAX_ENV 4096

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

int main(int argc, char **argv)
{
	static char *envp[MAX_ENV + 8];
	static char preload[8192], enable[16384], ctrl[4096], seed[64];
	const char *agent = getenv("NEIRA_FAULT_EXEC_AGENT");
	const char *en = getenv("NEIRA_FAULT_AGENT_ENABLE");
	const char *ct = getenv("NEIRA_FAULT_AGENT_CTRL");
	const char *dir = getenv("NEIRA_FAULT_PRELOAD_DIR");
	const char *sd = getenv("NEIRA_FAULT_AGENT_SEED");
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("Usage: NEIRA_FAULT_EXEC_AGENT=PATH [NEIRA_FAULT_AGENT_ENABLE=CMDS] neira-fault-exec [ARGS]\n"
		     "Exec the agent PATH with libfiu's preloads for the agent side only (see faults/).");
		return 0;
	}
	if (!agent || !*agent) {
		fprintf(stderr, "neira-fault-exec: NEIRA_FAULT_EXEC_AGENT is not set\n");
		return 127;
	}
	if (!dir || !*dir)
		dir = "/usr/lib/fiu";
	size_t k = 0;
	for (char **e = environ; *e && k < MAX_ENV; e++)
		if (!starts(*e, "LD_PRELOAD=") && !starts(*e, "FIU_ENABLE=") && !starts(*e, "FIU_CTRL_FIFO=") &&
		    !starts(*e, "NEIRA_FAULTS=") && !starts(*e, "NEIRA_FAULT_") && !starts(*e, "FIU_PRNG_SEED="))
			envp[k++] = *e;
	if (en || (ct && *ct)) { /* set, even empty: the agent side has faults (maybe later ones) */
		snprintf(preload, sizeof(preload), "LD_PRELOAD=%s/fiu_run_preload.so %s/fiu_posix_preload.so", dir,
			 dir);
		snprintf(enable, sizeof(enable), "FIU_ENABLE=%s", en ? en : "");
		/* fiu_run_preload's remote control: a FIFO pair, only if asked */
		snprintf(ctrl, sizeof(ctrl), "FIU_CTRL_FIFO=%s", ct ? ct : "");
		envp[k++] = preload;
		envp[k++] = enable;
		envp[k++] = ctrl;
		if (sd && *sd) {
			snprintf(seed, sizeof(seed), "FIU_PRNG_SEED=%s", sd);
			envp[k++] = seed;
		}
	}
	envp[k] = NULL;
	argv[0] = (char *)agent;
	execve(agent, argv, envp);
	int e = errno;
	fprintf(stderr, "neira-fault-exec: exec %s: %s\n", agent, strerror(e));
	return 127;
}
