/* libFuzzer target: the fault-plan parser (faults/flt_plan.c,
 * flt_plan_normalise — the one parser both sides use) and the runtime that
 * enables a plan (faults/flt_runtime.c, flt_enable_json). Input: the JSON
 * NEIRA_FAULTS carries (an array; a lone object is wrapped). A rejection
 * must say why; an accepted plan normalises to entries each of which the
 * runtime enables (and disables again, so runs do not accumulate state). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &je);
	if (!j)
		return 0;
	if (!json_is_array(j)) {
		json_t *a = json_array();
		json_array_append_new(a, j);
		j = a;
	}
	json_t *norm = NULL;
	char msg[300] = "";
	int idx = -1;
	const char *key = NULL;
	if (flt_plan_normalise(j, &norm, msg, sizeof(msg), &idx, &key) < 0) {
		if (msg[0] == '\0')
			abort(); /* every rejection says why */
	} else {
		size_t i;
		json_t *e;
		json_array_foreach(norm, i, e) {
			const char *p = json_string_value(json_object_get(e, "point"));
			char err[300] = "";
			if (!p)
				abort(); /* normalised without a point name */
			if (flt_enable_json(e, err, sizeof(err)) == 0)
				flt_disable(p);
			else if (err[0] == '\0')
				abort();
		}
		json_decref(norm);
	}
	json_decref(j);
	return 0;
}
