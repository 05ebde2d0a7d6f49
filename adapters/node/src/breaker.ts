// SPEC C1–C3: the circuit breaker as a pure state machine; time comes in as
// an argument (the supervisor's monotonic clock), nothing here sleeps.

import type { BreakerName } from './events';

export type Admission = { allowed: true; trial: boolean } | { allowed: false; reason: 'breaker_open' | 'trial_in_flight' };

export class CircuitBreaker {
  state: BreakerName = 'closed';
  failures = 0;
  private lastFailureMs = 0;
  private trialInFlight = false;
  constructor(
    private readonly threshold: number,
    private readonly openMs: number,
  ) {}

  /** C2/C3: may a call go out now? The first caller after the open period is the one trial. */
  admit(nowMs: number): Admission {
    if (this.state === 'open') {
      if (nowMs - this.lastFailureMs < this.openMs) return { allowed: false, reason: 'breaker_open' };
      this.state = 'half_open';
      this.trialInFlight = false;
    }
    if (this.state === 'half_open') {
      if (this.trialInFlight) return { allowed: false, reason: 'trial_in_flight' };
      this.trialInFlight = true;
      return { allowed: true, trial: true };
    }
    return { allowed: true, trial: false };
  }

  /** C1: a success resets the count; C3: the trial's success closes. */
  success(): void {
    if (this.state === 'closed') this.failures = 0;
    else if (this.state === 'half_open') {
      this.state = 'closed';
      this.failures = 0;
      this.trialInFlight = false;
    }
    // open: a call admitted before the breaker opened answers late; the open period stands
  }

  /** C1: threshold consecutive failures open; C3: a failed trial opens again, counted from now. */
  failure(nowMs: number): void {
    this.failures++;
    this.lastFailureMs = nowMs;
    if (this.state === 'half_open' || (this.state === 'closed' && this.failures >= this.threshold)) {
      this.state = 'open';
      this.trialInFlight = false;
    }
  }

  /** C4/M2: neither success nor failure; a half-open trial slot is freed. */
  neutral(): void {
    if (this.state === 'half_open') this.trialInFlight = false;
  }

  retryInMs(nowMs: number): number {
    if (this.state !== 'open') return 0;
    return Math.max(0, Math.trunc(this.lastFailureMs + this.openMs - nowMs));
  }
}
