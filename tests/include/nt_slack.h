/* nt_slack: the one allowance of the native tests' UPPER time bounds.
 *
 * Lower bounds (a backoff never shorter than SPEC) are never stretched; an
 * upper bound says "soon enough", and what is soon enough depends on how
 * the test runs:
 *   - under valgrind (`meson test --setup=valgrind` sets
 *     NEIRA_UNDER_VALGRIND): 20x — one thread at a time, ~20-50x slower;
 *   - in a sanitizer build (scripts/sanitize.sh: ASan+UBSan): 3x — every
 *     process of the test (supervisor, agents) is instrumented, measured
 *     ~2x slower, plus a noisy 2-core CI machine;
 *   - NEIRA_TIME_SCALE=F (F >= 1) overrides both, for slower machines.
 * Header-only: tests in several modules include it (cmocka_dep carries
 * tests/include). */
#pragma once

#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define NT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define NT_SANITIZED 1
#endif
#endif

static inline double nt_slack(void)
{
	const char *v = getenv("NEIRA_TIME_SCALE");
	if (v && *v) {
		double f = strtod(v, NULL);
		if (f >= 1)
			return f;
	}
	if (getenv("NEIRA_UNDER_VALGRIND"))
		return 20.0;
#ifdef NT_SANITIZED
	return 3.0;
#else
	return 1.0;
#endif
}

/* An upper bound of `ms` milliseconds, stretched. */
static inline long long nt_ms(long long ms)
{
	return (long long)((double)ms * nt_slack());
}
