/* sup_health: L5 readiness wait + H1–H4 series as a pure state machine
 * (see sup_health.h). No clock is read here; time is always an argument. */
#include "sup_health.h"

void sup_health_init(sup_health *h, int attempts, int64_t base_delay_us, int64_t ready_timeout_us,
		     int64_t now_us)
{
	*h = (sup_health){ 0 };
	h->state = SUP_HS_WAIT_READY;
	h->attempts = attempts < 1 ? 1 : attempts;
	h->base_delay_us = base_delay_us < 0 ? 0 : base_delay_us;
	h->ready_deadline_us = now_us + (ready_timeout_us < 0 ? 0 : ready_timeout_us);
	h->wait_end_reason = "elapsed";
}

int64_t sup_health_wait_us(const sup_health *h, int k)
{
	int64_t d = h->base_delay_us;
	for (int i = 1; i < k && i < 40; i++)
		d *= 2;
	return d;
}

void sup_health_marker(sup_health *h, int64_t now_us)
{
	(void)now_us;
	h->marker = true;
	/* H1(b): a marker during a wait ends it early — but only when another
	 * attempt follows; the series never exceeds `attempts` calls, so the
	 * wait after the last one always runs out (then mock). */
	if (h->state == SUP_HS_BACKOFF && h->attempt < h->attempts)
		h->marker_in_wait = true;
}

void sup_health_socket_usable(sup_health *h, int64_t now_us)
{
	(void)now_us;
	h->socket_ok = true;
}

void sup_health_attempt_done(sup_health *h, int64_t now_us, bool ok)
{
	if (h->state != SUP_HS_ATTEMPT)
		return;
	if (ok) {
		h->state = SUP_HS_READY;
		h->reported = false;
		return;
	}
	/* H1(a): every failed attempt — error or healthy=false — is followed
	 * by its wait, the last one included. */
	h->state = SUP_HS_BACKOFF;
	h->wait_start_us = now_us;
	h->planned_us = sup_health_wait_us(h, h->attempt);
	h->marker_in_wait = false;
	h->wait_announced = false;
	h->wait_over = false;
}

sup_health_action sup_health_step(sup_health *h, int64_t now_us)
{
	switch (h->state) {
	case SUP_HS_WAIT_READY:
		if (h->marker && h->socket_ok) {
			/* H4: the confirmation is attempt 1 of the series */
			h->state = SUP_HS_DUE;
			return sup_health_step(h, now_us);
		}
		if (now_us >= h->ready_deadline_us) {
			h->state = SUP_HS_DUE;
			return SUP_HA_READY_TIMEOUT;
		}
		return SUP_HA_NONE;
	case SUP_HS_DUE:
		h->attempt++;
		h->state = SUP_HS_ATTEMPT;
		return SUP_HA_START_ATTEMPT;
	case SUP_HS_ATTEMPT:
		return SUP_HA_NONE;
	case SUP_HS_BACKOFF:
		if (!h->wait_announced) {
			h->wait_announced = true;
			return SUP_HA_WAIT_START;
		}
		if (h->marker_in_wait) {
			h->wait_end_reason = "marker";
		} else if (now_us >= h->wait_start_us + h->planned_us) {
			h->wait_end_reason = "elapsed";
		} else {
			return SUP_HA_NONE;
		}
		h->wait_actual_us = now_us - h->wait_start_us;
		h->state = h->attempt >= h->attempts ? SUP_HS_FAILED : SUP_HS_DUE;
		h->wait_over = true;
		h->reported = false;
		return SUP_HA_WAIT_END;
	case SUP_HS_READY:
		if (!h->reported) {
			h->reported = true; /* report once */
			return SUP_HA_READY;
		}
		return SUP_HA_NONE;
	case SUP_HS_FAILED:
		if (!h->reported) {
			h->reported = true; /* report once */
			return SUP_HA_FAILED;
		}
		return SUP_HA_NONE;
	}
	return SUP_HA_NONE;
}

int64_t sup_health_deadline(const sup_health *h)
{
	switch (h->state) {
	case SUP_HS_WAIT_READY:
		return h->ready_deadline_us;
	case SUP_HS_DUE:
		return 0;
	case SUP_HS_BACKOFF:
		return h->wait_announced ? h->wait_start_us + h->planned_us : 0;
	default:
		return -1;
	}
}
