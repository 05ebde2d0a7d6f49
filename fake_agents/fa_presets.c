/* fa_presets: the named scripts of neira-fake-agent. Each is an ordinary
 * script (checked by the same parser, and by test_fa_script), so a scenario
 * can start from a preset and override any key with --script-json. */
#include <string.h>

#include "nv.h"

#include "fa_script.h"

static const fa_preset presets[] = {
	{ "well-behaved", "a correct agent, like neira-agent (the empty script)", "{}" },
	{ "never-ready", "binds and answers healthy, never prints AGENT_READY", "{\"marker\": \"never\"}" },
	{ "slow-socket", "binds after 2000 ms, then prints AGENT_READY (late but correct, H5)",
	  "{\"bind_delay_ms\": 2000}" },
	{ "wrong-case-methods", "serves the three methods under camelCase paths only (M1)",
	  "{\"methods\": \"camel\"}" },
	{ "both-case", "serves the three methods under PascalCase and camelCase paths",
	  "{\"methods\": \"both\"}" },
	{ "no-methods", "serves none of the three methods under either casing (M2)", "{\"methods\": \"none\"}" },
	{ "crash-mid-call", "aborts during the first ProcessPrompt, after reading it, before replying (L8)",
	  "{\"calls\": {\"ProcessPrompt\": {\"crash_on\": 1, \"crash_how\": \"abort\"}}}" },
	{ "flaky-health", "answers healthy=false to the first 2 HealthChecks, then true (H1)",
	  "{\"health\": {\"unhealthy_first\": 2}}" },
	{ "unhealthy-forever", "answers healthy=false to every HealthCheck",
	  "{\"health\": {\"unhealthy_first\": 1000000000}}" },
	{ "slow-health", "answers each HealthCheck after 1500 ms (beyond the 1 s deadline, H3)",
	  "{\"health\": {\"delay_ms\": 1500}}" },
	{ "hangs-health", "never answers HealthCheck (H3)", "{\"health\": {\"hang\": true}}" },
	{ "exits-early", "prints \"fatal: model file missing\" on stderr and exits 3 before binding (L6)",
	  "{\"stderr_lines\": [\"fatal: model file missing\"], \"exit\": {\"when\": \"before_bind\", \"code\": 3}}" },
	{ "dies-after-ready", "dies by SIGKILL 300 ms after printing AGENT_READY (L8)",
	  "{\"exit\": {\"when\": \"after_ready\", \"after_ms\": 300, \"signal\": \"SIGKILL\"}}" },
	{ "lies-ready", "prints AGENT_READY first, binds 1500 ms later (L5)",
	  "{\"marker\": \"before_bind\", \"bind_delay_ms\": 1500}" },
	{ "stale-socket", "leaves a socket file nobody listens on at the path, never ready (L5)",
	  "{\"bind\": \"stale_file\", \"marker\": \"never\"}" },
	{ "impostor", "a non-gRPC listener that accepts and never answers, prints AGENT_READY (H3, S4)",
	  "{\"bind\": \"impostor_silent\"}" },
	{ "impostor-garbage", "a listener that writes garbage bytes and closes, prints AGENT_READY",
	  "{\"bind\": \"impostor_garbage\"}" },
	{ "other-path", "binds <socket>.other instead of the socket path, prints AGENT_READY",
	  "{\"bind\": \"other_path\"}" },
	{ "hangs-call", "never answers CallCustomFunction",
	  "{\"calls\": {\"CallCustomFunction\": {\"hang\": true}}}" },
	{ "noisy-stdout", "a 200000-byte line, noise and near misses on stdout, then AGENT_READY\\r\\n (L4)",
	  "{\"huge_line_bytes\": 200000,"
	  " \"stdout_noise\": [\"loading model...\", \"READY\", \"agent ready\", \"AGENT_\"],"
	  " \"near_misses\": true, \"marker\": \"crlf\"}" },
	{ "split-marker", "writes AGENT_ and READY\\n in two writes 50 ms apart (L4)", "{\"marker\": \"split\"}" },
	{ "ignores-sigterm", "keeps serving after SIGTERM; only SIGKILL ends it (L7)", "{\"sigterm\": \"ignore\"}" },
	{ "slow-shutdown", "takes 1000 ms to stop after SIGTERM, then exits 0 (L7)",
	  "{\"sigterm\": \"slow\", \"shutdown_delay_ms\": 1000}" },
	/* issue 15: hostile agents */
	{ "output-flood", "a child writes \"y\" lines to stdout forever from the start, like `yes &` (L4, L7)",
	  "{\"flood\": {\"stream\": \"stdout\"}}" },
	{ "stderr-flood", "a child writes \"y\" lines to stderr forever from the start (L4, L7)",
	  "{\"flood\": {\"stream\": \"stderr\"}}" },
	{ "flood-after-ready", "after AGENT_READY a child floods stdout and stderr; SIGTERM ignored (L7)",
	  "{\"flood\": {\"stream\": \"both\", \"when\": \"after_ready\"}, \"sigterm\": \"ignore\"}" },
	{ "huge-reply", "answers ProcessPrompt with an 8 MiB text (over the 4 MiB receive limit, C4)",
	  "{\"calls\": {\"ProcessPrompt\": {\"reply_bytes\": 8388608}}}" },
	{ "grandchild-holds-stdout", "a detached grandchild (its parent gone) sleeps holding stdout (L7)",
	  "{\"children\": {\"count\": 1, \"detach\": true}}" },
	{ "setsid-stubborn", "tries setsid(), ignores SIGTERM, two children that ignore SIGTERM (L7)",
	  "{\"setsid\": true, \"sigterm\": \"ignore\", \"children\": {\"count\": 2, \"ignore_sigterm\": true}}" },
	{ "privdir-swap", "replaces its socket's directory by a symlink to the parent directory, then serves (S4)",
	  "{\"privdir_swap\": \".\"}" },
	{ "non-utf8-strings", "HealthCheck version ff fe 41 00 42, ProcessPrompt text 61 00 62 ff (bytes, O3)",
	  "{\"health\": {\"version_hex\": \"ff fe 41 00 42\"},"
	  " \"calls\": {\"ProcessPrompt\": {\"text_hex\": \"61 00 62 ff\"}}}" },
	{ "prints-fds", "prints the descriptors it inherited (\"fds: 0 1 2\") on stdout first (L3)",
	  "{\"print_fds\": true}" },
};

const fa_preset *fa_presets(size_t *n)
{
	if (n)
		*n = sizeof(presets) / sizeof(presets[0]);
	return presets;
}

const fa_preset *fa_preset_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const char *fa_preset_nearest(const char *name)
{
	enum { N = sizeof(presets) / sizeof(presets[0]) };
	const char *names[N];
	for (size_t i = 0; i < N; i++)
		names[i] = presets[i].name;
	return name ? nv_nearest(name, names, N) : NULL;
}
