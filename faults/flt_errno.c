/* flt_errno: errno names <-> values for fault plans — glibc's own table
 * (strerrorname_np, Debian 12's glibc 2.36), so there is one table in the
 * project and it cannot disagree with the C library. No libfiu needed, so
 * the harness links it too. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flt.h"

int flt_errno_from_name(const char *name)
{
	if (!name || !*name)
		return 0;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && !strcmp(n, name))
			return e;
	}
	char *end;
	long v = strtol(name, &end, 10);
	return *end == '\0' && v > 0 && v < 4096 ? (int)v : 0;
}

const char *flt_errno_name(int e)
{
	return e > 0 ? strerrorname_np(e) : NULL;
}
