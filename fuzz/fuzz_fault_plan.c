/* libFuzzer target: the fault-plan parser (faults/flt_runtime.c), the same
 * JSON shape NEIRA_FAULTS carries: an array of entries or one entry. Each
 * entry accepted is disabled again, so runs do not accumulate state. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flt.h"

static void one(const json_t *e)
{
	char err[300] = "";
	if (flt_enable_json(e, err, sizeof(err)) == 0) {
		const char *p = json_string_value(json_object_get(e, "point"));
		if (!p)
			abort(); /* accepted without a point name */
		flt_disable(p);
	} else if (err[0] == '\0') {
		abort(); /* every rejection says why */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (!j)
		return 0;
	if (json_is_array(j)) {
		size_t i;
		json_t *e;
		json_array_foreach(j, i, e) one(e);
	} else {
		one(j);
	}
	json_decref(j);
	return 0;
}
