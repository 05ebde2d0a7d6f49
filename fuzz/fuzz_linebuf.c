/* libFuzzer target: the line reader of a child's output (supervisor/
 * sup_linebuf.c, SPEC L4). The input is split into feeds at the positions its
 * first bytes choose; every line delivered must respect the limits, and the
 * marker test must agree with a byte comparison. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sup_linebuf.h"

static void on_line(void *ud, const char *line, size_t len, bool truncated)
{
	size_t max = *(size_t *)ud;
	if (len > max || line[len] != '\0' || (truncated && len != max))
		abort();
	if (sup_is_marker(line, len, truncated) != (!truncated && len == 11 && memcmp(line, "AGENT_READY", 11) == 0))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t max = 1 + data[0] % 64; /* small limits reach the truncation paths */
	size_t step = 1 + data[1] % 17;
	data += 2, size -= 2;
	sup_linebuf lb;
	sup_linebuf_init(&lb, max);
	for (size_t i = 0; i < size; i += step)
		sup_linebuf_feed(&lb, (const char *)data + i, size - i < step ? size - i : step, on_line, &max);
	sup_linebuf_flush(&lb, on_line, &max);
	sup_linebuf_destroy(&lb);
	return 0;
}
