/* libFuzzer target: the fake agent's script parser (fake_agents/fa_script.c):
 * any text through fa_script_merge_text + fa_script_parse; errors must come
 * with a message, and the script must be released cleanly either way. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fa_script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	json_t *acc = json_object();
	char err[512] = "";
	fa_script s;
	fa_script_init(&s);
	int rc = fa_script_merge_text(acc, text, "fuzz", err, sizeof(err));
	if (rc == 0)
		rc = fa_script_parse(acc, &s, err, sizeof(err));
	if (rc < 0 && err[0] == '\0')
		abort(); /* every rejection says why */
	fa_script_destroy(&s);
	json_decref(acc);
	free(text);
	return 0;
}
