// The drive protocol (docs/adapter-contract.md §2): JSON commands on stdin,
// events and replies as JSON lines on stdout, around either design.
//
// Concurrency rule: while calls are in flight, call, call_async and snapshot
// run at once (a call the breaker rejects answers at once, C3); every other
// command is kept, in order, until no call is in flight and no other command
// runs.

import * as fs from 'node:fs';

import { protocolJSON, type EventName, type EventSink } from './events';
import type { CallRequest, SupervisorDesign } from './host';

const DAY_MS = 24 * 60 * 60 * 1000;
const METHODS = new Set(['health', 'process_prompt', 'call_custom_function']);

type Cmd = Record<string, unknown> & { cmd: string };

function countFds(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length - 1; // readdir's own fd
  } catch {
    return -1;
  }
}

export class Drive {
  private busy = false;
  private readonly deferred: Cmd[] = [];
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, () => void>();
  private stopped = false;
  private stopping = false;
  private eofSeen = false;
  private nextAsync = 0;

  constructor(
    private readonly sup: SupervisorDesign,
    sink: EventSink,
    private readonly write: (line: string) => void,
    private readonly version: string,
    private readonly onStopped: () => void,
  ) {
    sink.on((name: EventName) => {
      this.seen.set(name, (this.seen.get(name) ?? 0) + 1);
      this.waiters.get(name)?.();
    });
  }

  private reply(cmd: Cmd | null, body: Record<string, unknown>): void {
    const out: Record<string, unknown> = { ...body };
    if (cmd && 'id' in cmd) out.id = cmd.id;
    this.write(protocolJSON(out));
  }

  /** One stdin line. */
  line(text: string): void {
    const t = text.trim();
    if (t.length === 0) return;
    let cmd: unknown;
    let parseError: string | null = null;
    try {
      cmd = JSON.parse(t);
    } catch (e) {
      parseError = e instanceof Error ? e.message : String(e);
    }
    const c = cmd && typeof cmd === 'object' && !Array.isArray(cmd) ? (cmd as Cmd) : null;
    if (this.stopped) {
      // only EOF ends a stopped session (adapter contract §2)
      this.reply(c, { reply: 'error', error: 'the supervisor is stopped: close stdin to end the session' });
      return;
    }
    if (parseError !== null) {
      this.reply(null, { reply: 'error', error: `malformed command line: ${parseError}` });
      return;
    }
    if (!c || typeof c.cmd !== 'string') {
      this.reply(c, { reply: 'error', error: 'malformed command line: no "cmd" string' });
      return;
    }
    this.submit(c);
  }

  /** EOF on stdin = stop (after whatever is still queued); after a stop
   * command, the end of the session (the host stays until then, so that the
   * harness can measure what it holds after stop). */
  eof(): void {
    if (this.eofSeen) return;
    this.eofSeen = true;
    if (this.stopped) this.onStopped();
    else if (!this.stopping) this.submit({ cmd: 'stop', __eof: true });
  }

  private nestable(c: string): boolean {
    return c === 'call' || c === 'call_async' || c === 'snapshot';
  }

  private submit(cmd: Cmd): void {
    const mustWait =
      this.busy || this.deferred.length > 0 || (this.sup.callsInFlight() > 0 && !this.nestable(cmd.cmd));
    if (mustWait) {
      this.deferred.push(cmd);
      return;
    }
    this.run(cmd);
  }

  private drain(): void {
    while (!this.busy && !this.stopped && this.deferred.length > 0) {
      const next = this.deferred[0];
      if (this.sup.callsInFlight() > 0 && !this.nestable(next.cmd)) return;
      this.deferred.shift();
      this.run(next);
    }
  }

  private run(cmd: Cmd): void {
    if (cmd.cmd === 'stop') this.stopping = true;
    if (this.nestable(cmd.cmd)) {
      void this.nested(cmd).finally(() => this.drain());
      return;
    }
    this.busy = true;
    void this.exclusive(cmd).finally(() => {
      this.busy = false;
      this.drain();
    });
  }

  private ms(cmd: Cmd, key: string, required: boolean, dflt: number): number | null {
    const v = cmd[key];
    if (v === undefined && !required) return dflt;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= DAY_MS) return v;
    this.reply(cmd, { reply: 'error', error: `${cmd.cmd}: "${key}" must be an integer in 0..${DAY_MS}` });
    return null;
  }

  private async nested(cmd: Cmd): Promise<void> {
    if (cmd.cmd === 'snapshot') {
      this.reply(cmd, { reply: 'snapshot', ...this.sup.snapshot(), fds: countFds() });
      return;
    }
    const method = cmd.method;
    if (typeof method !== 'string' || !METHODS.has(method)) {
      this.reply(cmd, { reply: 'error', error: 'call: "method" must be health, process_prompt or call_custom_function' });
      return;
    }
    const dl = this.ms(cmd, 'deadline_ms', false, 0);
    if (dl === null) return;
    const req: CallRequest = { method: method as CallRequest['method'], deadline_ms: dl };
    if (typeof cmd.prompt === 'string') req.prompt = cmd.prompt;
    if (typeof cmd.name === 'string') req.name = cmd.name;
    if (typeof cmd.args_json === 'string') req.args_json = cmd.args_json;
    if (cmd.cmd === 'call_async') {
      req.callId = typeof cmd.id === 'number' && Number.isInteger(cmd.id) ? cmd.id : this.nextAsync++;
      this.reply(cmd, { reply: 'call_async', accepted: true });
    }
    const r = await this.sup.call(req);
    this.reply(cmd, { reply: 'call', ...r });
  }

  private async exclusive(cmd: Cmd): Promise<void> {
    switch (cmd.cmd) {
      case 'hello':
        this.reply(cmd, {
          reply: 'hello',
          protocol: 1,
          supervisor: { name: this.sup.name, version: this.version },
          capabilities: this.sup.capabilities,
        });
        return;
      case 'init': {
        const r = await this.sup.init();
        this.reply(cmd, { reply: 'init', ...r });
        return;
      }
      case 'wait': {
        const ms = this.ms(cmd, 'ms', true, 0);
        if (ms === null) return;
        await new Promise<void>((r) => setTimeout(r, ms));
        this.reply(cmd, { reply: 'wait' });
        return;
      }
      case 'wait_event': {
        const timeout = this.ms(cmd, 'timeout_ms', false, 5000);
        if (timeout === null) return;
        const ev = typeof cmd.event === 'string' ? cmd.event : '';
        const seen = ev ? await this.waitEvent(ev, timeout) : false;
        this.reply(cmd, { reply: 'wait_event', seen });
        return;
      }
      case 'stop': {
        const r = await this.sup.stop();
        this.stopped = true;
        this.reply(cmd.__eof ? null : cmd, { reply: 'stop', ...r });
        if (this.eofSeen) this.onStopped();
        return;
      }
      case 'fault':
        this.reply(cmd, { reply: 'error', error: 'fault: this host has no in-code fault points (capability fault_points)' });
        return;
      default:
        this.reply(cmd, { reply: 'error', error: `unknown cmd "${cmd.cmd.slice(0, 60)}"` });
    }
  }

  /** An event E emitted that no earlier successful wait_event for E consumed. */
  private waitEvent(ev: string, timeoutMs: number): Promise<boolean> {
    const consume = (): boolean => {
      const n = this.seen.get(ev) ?? 0;
      if (n === 0) return false;
      this.seen.set(ev, n - 1);
      return true;
    };
    if (consume()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters.delete(ev);
        resolve(false);
      }, timeoutMs);
      this.waiters.set(ev, () => {
        clearTimeout(t);
        this.waiters.delete(ev);
        resolve(consume());
      });
    });
  }
}
