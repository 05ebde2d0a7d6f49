/* sup_clock: the one thin wrapper that reads CLOCK_MONOTONIC, and the real
 * poll(2) — the default members of struct sup_env. */
#include <errno.h>
#include <time.h>

#include <fiu-local.h>

#include "flt_points.h"
#include "sup.h"

int64_t sup_clock_now_us(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int sup_clock_poll(void *ud, struct pollfd *fds, nfds_t n, int timeout_ms)
{
	(void)ud;
	fiu_return_on(FLT_NAME(SUP_LOOP_POLL), -FLT_ERRNO(SUP_LOOP_POLL));
	int rc = poll(fds, n, timeout_ms);
	return rc < 0 ? -errno : rc;
}
