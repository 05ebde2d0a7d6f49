/* agentcheck: agent-side conformance (issue 12). Starts ANY agent the way a
 * conforming supervisor does and checks it clause by clause (SPEC A1-A4, S1,
 * L7), with what was measured. Prefix ac_. Usage: agentcheck/README.md. */
#pragma once

/* The whole checker as a command: `neira-agent-check ARGS…` and
 * `neira-harness agent-check ARGS…` both end here, argv[0] being the
 * program's (or the subcommand's) name. Returns the process exit status:
 * 0 every required check passed, 1 a check failed, 2 usage or input error
 * (bad option, agent command not executable, report not writable). */
int ac_main(int argc, char **argv);
