// The O3 event stream: every event name and its fields, typed once (the
// vocabulary of docs/events.md), so that a misspelt field is a compile error.

import type { ErrorRecord } from './errors';

export type Stream = 'stdout' | 'stderr';
export type StateName = 'idle' | 'starting' | 'health_check' | 'ready' | 'mock' | 'stopping' | 'stopped';
export type BreakerName = 'closed' | 'open' | 'half_open';
export type MethodName = 'health' | 'process_prompt' | 'call_custom_function';

/** Fields per event name (docs/events.md). Integer fields must be passed integers. */
export interface EventFields {
  init_start: Record<string, never>;
  socket_stale_removed: { path: string; path_b64?: string };
  spawn: { pid: number; path: string; socket: string; path_b64?: string; socket_b64?: string };
  spawn_failed: { path: string; errno: string; message: string; path_b64?: string; message_b64?: string };
  output: { stream: Stream; line: string; truncated: boolean; line_b64?: string };
  output_dropped: { stream: Stream; lines: number; bytes: number; total_lines: number };
  marker: Record<string, never>;
  socket_usable: Record<string, never>;
  ready_timeout: { timeout_ms: number };
  health_attempt: { attempt: number; of: number };
  health_result: {
    attempt: number;
    ok: boolean;
    status: string;
    healthy: boolean | null;
    message: string;
    version: string;
    duration_ms: number;
    message_b64?: string;
    version_b64?: string;
  };
  health_wait: { after_attempt: number; planned_ms: number };
  health_wait_end: { after_attempt: number; planned_ms: number; actual_ms: number; reason: 'elapsed' | 'marker' };
  call_case_retry: { method: MethodName; from: string; to: string };
  ready: { init_ms: number; agent_version: string; agent_version_b64?: string };
  state: { from: StateName; to: StateName };
  breaker: { from: BreakerName; to: BreakerName; failures: number };
  fallback: { reason: string; message: string; error?: ErrorRecord; message_b64?: string };
  child_exit: { pid: number; code: number | null; signal: number | null; last_lines: string[] };
  restart: { attempt: number; delay_ms: number };
  shutdown: {
    step: 'sigterm' | 'sigkill' | 'reaped' | 'socket_removed' | 'privdir_replaced' | 'done';
    elapsed_ms: number;
    pid?: number;
    code?: number | null;
    signal?: number | null;
    path?: string;
    existed?: boolean;
    removed?: boolean;
    why?: string;
    path_b64?: string;
    pgid?: number;
    had_child?: boolean;
  };
  call_start: { method: MethodName; path: string; call?: number };
  call_rejected: {
    method: MethodName;
    path: string;
    reason: 'breaker_open' | 'trial_in_flight';
    breaker: BreakerName;
    retry_in_ms: number;
  };
  call_end: {
    method: MethodName;
    path: string;
    status: string;
    ok: boolean;
    mock: boolean;
    duration_ms: number;
    error?: string | null;
    call?: number;
  };
}

export type EventName = keyof EventFields;

/** The supervisor's monotonic clock: ms since it was created, never decreasing. */
export class Clock {
  private readonly t0 = process.hrtime.bigint();
  nowMs(): number {
    return Number(process.hrtime.bigint() - this.t0) / 1e6;
  }
}

/** Round to µs, as the reference prints 3 decimals. */
export function ms3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/**
 * JSON text of a protocol line. A NUL inside a string is valid JSON
 * ("\\u0000") but many readers refuse it (jansson without JSON_ALLOW_NUL):
 * it becomes U+FFFD, the exact bytes travel in a *_b64 twin where defined.
 */
export function protocolJSON(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'string' && x.includes('\u0000') ? x.replace(/\u0000/g, '\uFFFD') : x,
  );
}

export type EventListener = (name: EventName, line: Record<string, unknown>) => void;

/** Writes each event as one JSON line (protocol stdout) and tells listeners (wait_event). */
export class EventSink {
  private readonly listeners: EventListener[] = [];
  constructor(
    readonly clock: Clock,
    private readonly write: (line: string) => void,
  ) {}

  on(l: EventListener): void {
    this.listeners.push(l);
  }

  emit<K extends EventName>(name: K, fields: EventFields[K]): void {
    const line: Record<string, unknown> = { t_ms: ms3(this.clock.nowMs()), event: name, ...fields };
    this.write(protocolJSON(line));
    for (const l of this.listeners) l(name, line);
  }
}
