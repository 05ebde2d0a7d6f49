/* libFuzzer target: decoding an agent's reply the way the supervisor does
 * (supervisor/sup_calls.c): protobuf-c unpack of each response type, then
 * the bounded wire reader for the exact bytes of its string fields, then
 * those bytes into JSON (sup_json_set_bytes). The wire reader must agree
 * with protobuf-c on what is well-formed, and a field it returns lies
 * inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent.pb-c.h"
#include "sup_bytes.h"

static void strings(const uint8_t *data, size_t size, uint32_t field, const char *key)
{
	const char *p;
	size_t n;
	int rc = sup_wire_bytes(data, size, field, &p, &n);
	if (rc < 0)
		abort(); /* protobuf-c accepted it: so must we */
	if (rc == 1 && (p < (const char *)data || p + n > (const char *)data + size))
		abort();
	json_t *o = json_object();
	if (sup_json_set_bytes(o, key, p, n) != 0)
		abort();
	char *d = json_dumps(o, JSON_COMPACT);
	if (!d)
		abort();
	json_t *back = json_loads(d, 0, NULL); /* readable by a default jansson reader */
	if (!back)
		abort();
	json_decref(back);
	free(d);
	json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Neira__Agent__V1__HealthCheckResponse *h = neira__agent__v1__health_check_response__unpack(NULL, size, data);
	if (h) {
		neira__agent__v1__health_check_response__free_unpacked(h, NULL);
		strings(data, size, 2, "message");
		strings(data, size, 3, "version");
	}
	Neira__Agent__V1__ProcessPromptResponse *p = neira__agent__v1__process_prompt_response__unpack(NULL, size, data);
	if (p) {
		neira__agent__v1__process_prompt_response__free_unpacked(p, NULL);
		strings(data, size, 1, "text");
	}
	Neira__Agent__V1__CallCustomFunctionResponse *c =
		neira__agent__v1__call_custom_function_response__unpack(NULL, size, data);
	if (c) {
		neira__agent__v1__call_custom_function_response__free_unpacked(c, NULL);
		strings(data, size, 1, "result_json");
	}
	return 0;
}
