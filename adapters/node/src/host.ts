// What the drive adapter needs from a supervisor design (the manager class
// inside): both `spec` and `seed` implement it.

import type { ErrorRecord } from './errors';
import type { BreakerName, MethodName, StateName } from './events';

export interface CallRequest {
  method: MethodName;
  prompt?: string;
  name?: string;
  args_json?: string;
  /** 0 or absent: the configured call_deadline_ms */
  deadline_ms?: number;
  /** the drive id of a call_async (events carry it as `call`) */
  callId?: number;
}

/** The `call` reply's fields (contract §2), minus "reply" and "id". */
export type CallReply = {
  ok: boolean;
  mock: boolean;
  status: string;
  error: ErrorRecord | null;
  duration_ms: number;
} & Record<string, unknown>;

export interface InitReply {
  mode: 'ready' | 'mock';
  reason: string | null;
  error: ErrorRecord | null;
  init_ms: number;
  agent_version: string | null;
  pid: number | null;
}

export interface SnapshotReply {
  mode: 'ready' | 'mock';
  reason: string | null;
  state: StateName;
  breaker: BreakerName;
  child_pid: number | null;
  metrics: Record<string, unknown>;
  error: ErrorRecord | null;
}

export interface StopReply {
  exit_code: number | null;
  signal: number | null;
  elapsed_ms: number;
}

export interface SupervisorDesign {
  readonly name: string;
  readonly capabilities: string[];
  init(): Promise<InitReply>;
  call(req: CallRequest): Promise<CallReply>;
  snapshot(): SnapshotReply;
  stop(): Promise<StopReply>;
  callsInFlight(): number;
}
