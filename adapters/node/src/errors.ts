// SPEC O1: every failure is a record {message, stack, context, timestamp,
// channel} (the seed's StructuredError), plus errno (the contract's §6).

import { constants as osConstants } from 'node:os';

export interface ErrorRecord {
  message: string;
  stack: string[];
  context: Record<string, string>;
  timestamp: string;
  channel: string;
  errno: number;
}

/** A structured error under construction. `message` names operation, object and cause. */
export class StructuredError {
  readonly stack: string[] = [];
  readonly context: Record<string, string> = {};
  readonly timestamp = new Date().toISOString();
  constructor(
    public message: string,
    readonly channel = 'supervisor',
    readonly errno = 0,
  ) {
    // O1 (contract §6): a record with an errno names it in its context too,
    // as the C library does — scenarios match context keys, not wording.
    if (errno) {
      const name = Object.entries(osConstants.errno as Record<string, number>).find(([, v]) => v === errno)?.[0];
      if (name) this.context.errno = name;
    }
  }

  ctx(key: string, value: string | number): this {
    this.context[key] = String(value);
    return this;
  }

  cause(text: string): this {
    this.stack.push(text);
    return this;
  }

  toJSON(): ErrorRecord {
    return {
      message: this.message,
      stack: [...this.stack],
      context: { ...this.context },
      timestamp: this.timestamp,
      channel: this.channel,
      errno: this.errno,
    };
  }
}

/** errno number of a symbolic name (ENOENT → 2); 0 when unknown. */
export function errnoNumber(code: string | undefined): number {
  if (!code) return 0;
  const n = (osConstants.errno as Record<string, number | undefined>)[code];
  return n ?? 0;
}

/** Signal number of a Node signal name (SIGKILL → 9). */
export function signalNumber(sig: NodeJS.Signals | null): number | null {
  if (!sig) return null;
  return (osConstants.signals as Record<string, number | undefined>)[sig] ?? null;
}

/** The `code` of a Node system error, if it is one. */
export function errCode(e: unknown): string {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return 'EIO';
}
