/* hx_clock: the harness's one monotonic clock and its time scale — the
 * bottom of the harness's layers (everything may call it, it calls nothing). */
#include <stdlib.h>
#include <time.h>

#include "hx_internal.h"

/* The one place that reads CLOCK_MONOTONIC. */
double hx_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double hx_time_scale(void)
{
	const char *w = getenv("NEIRA_HOST_WRAPPER"), *v = getenv("NEIRA_UNDER_VALGRIND");
	return (w && *w) || (v && *v) ? 20.0 : 1.0;
}
