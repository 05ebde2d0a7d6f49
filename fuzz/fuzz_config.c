/* libFuzzer target: the configuration parser (supervisor/sup_config.c): the
 * input is lines of KEY=VALUE, as `neira-host --set` takes them. Every value
 * accepted must lie in its range, copy (sup_config_copy) and print as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sup_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	sup_config c, d;
	sup_config_init(&c);
	sup_config_init(&d);
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		sup_error e = SUP_ERROR_INIT;
		sup_config_set_kv(&c, line, &e);
		json_t *j = sup_error_to_json(&e);
		json_decref(j);
		sup_error_destroy(&e);
	}
	/* whatever was accepted is in range: the copy's checks agree */
	if (c.ready_timeout_ms < 0 || c.health_attempts < 1 || c.breaker_threshold < 1 || c.call_deadline_ms < 0)
		abort();
	if (sup_config_copy(&d, &c, NULL) != 0)
		abort();
	json_t *j = sup_config_json(&d);
	if (!j)
		abort();
	json_decref(j);
	sup_config_destroy(&c);
	sup_config_destroy(&d);
	free(text);
	return 0;
}
