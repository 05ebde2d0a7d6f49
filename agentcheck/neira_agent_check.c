/* neira-agent-check: agent-side conformance as a program of its own; the
 * same command is `neira-harness agent-check` (both call ac_main). */
#include "ac.h"

int main(int argc, char **argv)
{
	return ac_main(argc, argv);
}
