// SPEC O2: the five metrics, in the contract's snapshot shape (§6), with the
// reference host's bucket bounds so reports compare across supervisors.

import type { BreakerName } from './events';

const MS_BOUNDS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, Infinity];
const RATIO_BOUNDS = [0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0, Infinity];
const RECENT = 20;

export interface HistogramJSON {
  count: number;
  sum: number;
  min: number;
  max: number;
  p50: number;
  p99: number;
  buckets: { le: number | '+Inf'; count: number }[];
}

export class Histogram {
  private readonly counts: number[];
  private count = 0;
  private sum = 0;
  private min = 0;
  private max = 0;
  constructor(private readonly bounds: number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    const i = this.bounds.findIndex((b) => v <= b);
    this.counts[i]++;
    this.min = this.count === 0 ? v : Math.min(this.min, v);
    this.max = this.count === 0 ? v : Math.max(this.max, v);
    this.count++;
    this.sum += v;
  }

  /** Prometheus-style interpolation inside the bucket, clamped to [min, max]. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let cum = 0;
    let v = this.max;
    for (let i = 0; i < this.bounds.length; i++) {
      const c = this.counts[i];
      if (c > 0 && cum + c >= rank) {
        const lo = i === 0 ? Math.min(0, this.bounds[0]) : this.bounds[i - 1];
        const hi = this.bounds[i];
        v = hi === Infinity ? this.max : lo + (hi - lo) * ((rank - cum) / c);
        break;
      }
      cum += c;
    }
    return Math.min(Math.max(v, this.min), this.max);
  }

  toJSON(): HistogramJSON {
    let cum = 0;
    return {
      count: this.count,
      sum: this.sum,
      min: this.min,
      max: this.max,
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      buckets: this.bounds.map((b, i) => {
        cum += this.counts[i];
        return { le: b === Infinity ? '+Inf' : b, count: cum };
      }),
    };
  }
}

const BREAKER_VALUE: Record<BreakerName, number> = { closed: 0, open: 1, half_open: 2 };

export class Metrics {
  readonly initializationTime = new Histogram(MS_BOUNDS);
  readonly failureRate = new Histogram(RATIO_BOUNDS);
  readonly recoveryTime = new Histogram(MS_BOUNDS);
  readonly responseTime = new Histogram(MS_BOUNDS);
  private breaker: BreakerName = 'closed';
  private callsTotal = 0;
  private callsFailed = 0;
  private readonly recent: boolean[] = [];

  setBreaker(b: BreakerName): void {
    this.breaker = b;
  }

  /** One call that reached (or tried to reach) the agent; failure_rate over the last 20. */
  observeCall(ms: number, failed: boolean): void {
    this.responseTime.observe(ms);
    this.callsTotal++;
    if (failed) this.callsFailed++;
    this.recent.push(failed);
    if (this.recent.length > RECENT) this.recent.shift();
    this.failureRate.observe(this.recent.filter((f) => f).length / this.recent.length);
  }

  toJSON(): Record<string, unknown> {
    return {
      'python_api.initialization_time': this.initializationTime.toJSON(),
      'python_api.failure_rate': this.failureRate.toJSON(),
      'python_api.recovery_time': this.recoveryTime.toJSON(),
      'grpc.response_time': this.responseTime.toJSON(),
      'python_api.circuit_breaker_state': { value: BREAKER_VALUE[this.breaker], state: this.breaker },
      calls_total: this.callsTotal,
      calls_failed: this.callsFailed,
    };
  }
}
