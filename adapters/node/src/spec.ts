// The `spec` design: a PythonAPIManager that conforms to SPEC.md — event-driven
// readiness (L4, L5), the exact H1 schedule, M1 casing memory, the C1–C4
// breaker, K1/K2 mock mode, L6–L8 process handling, S1/S3/S4 socket rules and
// the O1–O3 records. Node has no prctl(): the agent is started through
// `setpriv --pdeathsig KILL` (util-linux), which execs it (same pid).

import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

import { CircuitBreaker } from './breaker';
import { lossyText, parseWire, setBytes } from './bytes';
import type { Config } from './config';
import { StructuredError, errCode, errnoNumber, signalNumber, type ErrorRecord } from './errors';
import type { BreakerName, EventSink, MethodName, StateName, Stream } from './events';
import { ms3 } from './events';
import type { CallReply, CallRequest, InitReply, SnapshotReply, StopReply, SupervisorDesign } from './host';
import { Metrics } from './metrics';
import { OutputWatcher } from './output';
import { PKG_PATH, grpc, loadProto, newClient, otherCasing, statusName, unary, type ProtoMethod, type UnaryResult } from './rpc';

const SETPRIV = '/usr/bin/setpriv';
const SOCKET_NAME = 'neira_agent.sock';
const SUN_PATH_MAX = 107; // 108 bytes with the NUL on Linux (S3)
const DIED_GRACE_MS = 100; // L8: a broken stream is usually ms ahead of the exit
const EXIT_OUTPUT_GRACE_MS = 50; // L6: let the last lines arrive before child_exit
const PROBE_RETRY_MS = [5, 10, 20, 40, 50]; // L5: refused connects only (see probeSocket)

const PROTO_OF: Record<MethodName, ProtoMethod> = {
  health: 'HealthCheck',
  process_prompt: 'ProcessPrompt',
  call_custom_function: 'CallCustomFunction',
};

/** An init step ended the startup: mock with this reason and error. */
class Failure extends Error {
  constructor(
    readonly reason: string,
    readonly error: StructuredError,
  ) {
    super(error.message);
  }
}

/** A timer that never fires early on the monotonic clock the events are
 * stamped with (process.hrtime): libuv runs timers on a loop time cached at
 * the start of an iteration, so a plain setTimeout(300) can fire 299.7 ms
 * after an event stamped later in that iteration — a grace or a backoff
 * wait shorter than the SPEC (flake-hunt: L7-setsid-stubborn). Re-armed
 * until the deadline has really passed. */
interface MonoTimer {
  clear(): void;
}
function monoTimeout(fn: () => void, ms: number): MonoTimer {
  const due = process.hrtime.bigint() + BigInt(Math.round(ms * 1e6));
  let t: NodeJS.Timeout | null = null;
  const arm = (left: number): void => {
    t = setTimeout(() => {
      const rest = Number(due - process.hrtime.bigint()) / 1e6;
      if (rest > 0) arm(rest);
      else fn();
    }, Math.max(1, Math.ceil(left)));
  };
  arm(ms);
  return { clear: () => { if (t) clearTimeout(t); } };
}

/** true when p settles within ms, false when ms pass first; the timer is always cleared. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = monoTimeout(() => resolve(false), ms);
    void p.then(() => {
      t.clear();
      resolve(true);
    });
  });
}

/** p, or the signal's abort reason, whichever comes first. */
function interruptible<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

/** One connect() to the socket: null when it accepts, else the errno name. */
function connectProbe(sock: string): Promise<string | null> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: sock });
    s.once('connect', () => {
      s.destroy();
      resolve(null);
    });
    s.once('error', (e: unknown) => {
      s.destroy();
      resolve(errCode(e));
    });
  });
}

function strerror(code: string): string {
  const n = errnoNumber(code);
  const names: Record<string, string> = {
    ENOENT: 'No such file or directory',
    ECONNREFUSED: 'Connection refused',
    EACCES: 'Permission denied',
    ENOTDIR: 'Not a directory',
    ENOEXEC: 'Exec format error',
  };
  return names[code] ?? `errno ${n}`;
}

/** S1: TMPDIR (else /tmp), trailing slashes removed. */
function tmpdir(): string {
  const t = process.env.TMPDIR;
  const base = t && t.length > 0 ? t : '/tmp';
  const trimmed = base.replace(/\/+$/, '');
  return trimmed.length > 0 ? trimmed : '/';
}

function archName(): string {
  const m = os.machine();
  const map: Record<string, string> = { x86_64: 'x64', amd64: 'x64', aarch64: 'arm64', arm64: 'arm64', i686: 'ia32' };
  return map[m] ?? m;
}

interface ExitInfo {
  code: number | null;
  signal: number | null;
}

interface InFlight {
  /** L8: the agent died while this call was out */
  died(): void;
}

interface FileId {
  dev: number;
  ino: number;
}

export class PythonAPIManager implements SupervisorDesign {
  readonly name = 'neira-node-host-spec';
  readonly capabilities = ['call_async', 'agents_dir', 'private_socket_dir', 'line_limit_4096'];

  private state: StateName = 'idle';
  private reason: string | null = null;
  private lastError: StructuredError | null = null;
  private initStartMs = 0;
  private initMs = -1;
  private agentVersion: Buffer = Buffer.alloc(0);
  private readonly metrics = new Metrics();
  private readonly breaker: CircuitBreaker;
  private readonly casing: Record<MethodName, { path: string; known: boolean }>;

  private agentPath = '';
  private sock = '';
  private sockId: FileId | null = null;
  private privdir: (FileId & { path: string }) | null = null;

  private child: ChildProcess | null = null;
  private childPid = 0;
  private childAlive = false;
  private exitInfo: ExitInfo | null = null;
  private exited: Promise<void> = Promise.resolve();
  private output: OutputWatcher | null = null;
  private streamsOpen = 0;
  private streamsEnded: (() => void) | null = null;

  // readiness (L5): marker and socket under one deadline
  private initAbort: AbortController | null = null;
  private markerSeen = false;
  private socketOk = false;
  private readinessChanged: (() => void) | null = null;
  private markerDuringWait: (() => void) | null = null;
  private watcher: fs.FSWatcher | null = null;
  private probing = false;
  private probeAgain = false;
  private probeRetry: NodeJS.Timeout | null = null;
  private probeRetries = 0;

  private client: grpc.Client | null = null;
  private readonly inflight = new Set<InFlight>();
  private inFlightCount = 0;
  private stopped = false;

  constructor(
    private readonly cfg: Config,
    private readonly sink: EventSink,
  ) {
    this.breaker = new CircuitBreaker(cfg.breaker_threshold, cfg.breaker_open_ms);
    const proto = loadProto();
    this.casing = {
      health: { path: proto.path.HealthCheck, known: false },
      process_prompt: { path: proto.path.ProcessPrompt, known: false },
      call_custom_function: { path: proto.path.CallCustomFunction, known: false },
    };
  }

  private now(): number {
    return this.sink.clock.nowMs();
  }

  private setState(to: StateName): void {
    if (this.state === to) return;
    const from = this.state;
    this.state = to;
    this.sink.emit('state', { from, to });
  }

  // ---- init (L1–L6, S1–S4, H1–H5) ------------------------------------------

  async init(): Promise<InitReply> {
    if (this.state === 'idle') await this.start();
    return {
      mode: this.state === 'ready' ? 'ready' : 'mock',
      reason: this.state === 'ready' ? null : this.reason,
      error: this.state === 'ready' ? null : (this.lastError?.toJSON() ?? null),
      init_ms: ms3(Math.max(this.initMs, 0)),
      agent_version: this.agentVersion.length > 0 ? lossyText(this.agentVersion) : null,
      pid: this.childAlive ? this.childPid : null,
    };
  }

  private async start(): Promise<void> {
    this.sink.emit('init_start', {});
    this.initStartMs = this.now();
    this.setState('starting');
    const abort = new AbortController();
    this.initAbort = abort;
    try {
      this.refuseUnsupported();
      this.agentPath = this.resolveAgentPath();
      this.prepareSocket();
      this.spawnAgent();
      await this.awaitReadiness(abort.signal);
      await this.healthSeries(abort.signal);
      this.goReady();
    } catch (e) {
      const f =
        e instanceof Failure
          ? e
          : new Failure('spawn_failed', new StructuredError(`init: ${e instanceof Error ? e.message : String(e)}`));
      await this.goMock(f.reason, f.error);
    } finally {
      this.initAbort = null;
      this.stopReadinessWatch();
    }
  }

  /** Settings this host cannot honour are an error, never silently ignored. */
  private refuseUnsupported(): void {
    const no: string[] = [];
    if (this.cfg.check_peer) no.push('check_peer (Node cannot read SO_PEERCRED: capability peer_check)');
    if (this.cfg.restart) no.push('restart (capability restart_policy)');
    if (no.length > 0) {
      throw new Failure(
        'config_error',
        new StructuredError(`configuration: not supported by ${this.name}: ${no.join('; ')}`, 'config', errnoNumber('ENOTSUP')),
      );
    }
  }

  /** L1: an explicit path wins; else <agents_dir>/linux-<arch>/neira-agent. */
  private resolveAgentPath(): string {
    if (this.cfg.agent_path) return this.cfg.agent_path;
    if (this.cfg.agents_dir) return path.join(this.cfg.agents_dir, `${process.platform}-${archName()}`, 'neira-agent');
    throw new Failure(
      'config_error',
      new StructuredError('agent path: neither agent_path nor agents_dir is configured', 'launch', errnoNumber('EINVAL')),
    );
  }

  /** S1, S3, S4: decide the socket path (config errors before any spawn); L5: remove a provably stale file. */
  private prepareSocket(): void {
    if (this.cfg.socket_private_dir) {
      let dir: string;
      try {
        dir = fs.mkdtempSync(path.join(tmpdir(), 'neira-sup.')); // mode 0700 (S4)
      } catch (e) {
        const code = errCode(e);
        throw new Failure(
          'config_error',
          new StructuredError(`create private socket dir under ${tmpdir()}: ${code}`, 'socket', errnoNumber(code)).ctx(
            'errno',
            code,
          ),
        );
      }
      const st = fs.lstatSync(dir);
      this.privdir = { path: dir, dev: st.dev, ino: st.ino };
      this.sock = path.join(dir, SOCKET_NAME);
    } else if (this.cfg.socket_path) {
      this.sock = this.cfg.socket_path;
    } else {
      const env = process.env.NEIRA_SOCKET_PATH;
      this.sock = env && env.length > 0 ? env : `${tmpdir() === '/' ? '' : tmpdir()}/${SOCKET_NAME}`;
    }
    const sock = this.sock;
    if (!path.isAbsolute(sock)) {
      throw new Failure(
        'config_error',
        new StructuredError(`socket path "${sock}": not absolute`, 'socket', errnoNumber('EINVAL')).ctx('path', sock),
      );
    }
    const len = Buffer.byteLength(sock);
    if (len > SUN_PATH_MAX) {
      throw new Failure(
        'config_error',
        new StructuredError(
          `socket path "${sock}": ${len} bytes, longer than the ${SUN_PATH_MAX} allowed (sun_path holds 108 bytes with the NUL on Linux, 104 on macOS)`,
          'socket',
          errnoNumber('ENAMETOOLONG'),
        )
          .ctx('path', sock)
          .ctx('length', len)
          .ctx('limit', SUN_PATH_MAX),
      );
    }
    let st: fs.Stats | null = null;
    try {
      st = fs.lstatSync(sock);
    } catch {
      st = null;
    }
    if (!st) return;
    if (!st.isSocket()) {
      throw new Failure(
        'config_error',
        new StructuredError(`prepare socket ${sock}: a non-socket file is in the way`, 'socket', errnoNumber('EEXIST')).ctx(
          'socket',
          sock,
        ),
      );
    }
    // Only a socket nobody listens on is stale (L5); Node's connect() is
    // asynchronous only, so the judgement is the kernel's own list of
    // listening sockets (/proc/net/unix) — the same fact, read synchronously.
    if (this.listening(sock)) {
      throw new Failure(
        'config_error',
        new StructuredError(
          `prepare socket ${sock}: a live server already listens there (another supervisor's agent?); not removed, not spawning onto it`,
          'socket',
          errnoNumber('EADDRINUSE'),
        ).ctx('socket', sock),
      );
    }
    try {
      fs.unlinkSync(sock);
    } catch (e) {
      if (errCode(e) !== 'ENOENT') {
        const code = errCode(e);
        throw new Failure(
          'config_error',
          new StructuredError(`remove stale socket ${sock}: ${code}`, 'socket', errnoNumber(code)).ctx('errno', code),
        );
      }
    }
    const f: Record<string, unknown> = {};
    setBytes(f, 'path', sock);
    this.sink.emit('socket_stale_removed', f as { path: string });
  }

  /** Is a listening Unix socket bound at `p`? (/proc/net/unix: Flags has __SO_ACCEPTCON, 0x10000) */
  private listening(p: string): boolean {
    try {
      const lines = fs.readFileSync('/proc/net/unix', 'utf8').split('\n');
      return lines.some((l) => {
        const cols = l.trim().split(/\s+/);
        return cols.length >= 8 && cols.slice(7).join(' ') === p && (parseInt(cols[3], 16) & 0x10000) !== 0;
      });
    } catch {
      return false;
    }
  }

  /** L2/L3/K2: check the executable, then start it directly (setpriv execs it: same pid). */
  private spawnAgent(): void {
    const p = this.agentPath;
    let code: string | null = null;
    try {
      const st = fs.statSync(p);
      if (!st.isFile()) code = st.isDirectory() ? 'EISDIR' : 'EACCES';
      else fs.accessSync(p, fs.constants.X_OK);
    } catch (e) {
      code = errCode(e);
    }
    if (code) throw this.spawnFailure('missing_executable', code, `spawn ${p}: ${code} (${strerror(code)})`);

    // L5: watch the socket's directory before the agent can bind (no race)
    this.startReadinessWatch();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NEIRA_AGENT_MODE: 'production',
      NEIRA_LOG_LEVEL: 'info',
      NEIRA_SOCKET_PATH: this.sock,
    };
    let child: ChildProcess;
    try {
      // detached: the agent leads its own process group (setsid), so stop
      // reaches its descendants; --pdeathsig: it dies with this host (L7).
      child = spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', p], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (e) {
      const c = errCode(e);
      throw this.spawnFailure('spawn_failed', c, `spawn ${SETPRIV} for ${p}: ${c} (${strerror(c)})`);
    }
    if (child.pid === undefined) {
      // the wrapper itself could not be started; Node reports it as an 'error' event later
      child.once('error', () => undefined);
      throw this.spawnFailure('spawn_failed', 'ENOENT', `spawn ${SETPRIV} (pdeathsig wrapper) for ${p}: not startable`);
    }
    this.child = child;
    this.childPid = child.pid;
    this.childAlive = true;
    this.exitInfo = null;
    this.output = new OutputWatcher(this.sink, () => this.onMarker());
    this.streamsOpen = 2;
    let resolveExited: () => void = () => undefined;
    this.exited = new Promise<void>((r) => (resolveExited = r));
    const watchStream = (name: Stream, s: NodeJS.ReadableStream | null): void => {
      if (!s) {
        this.streamEnded();
        return;
      }
      s.on('data', (chunk: Buffer) => this.output?.feed(name, chunk));
      s.once('end', () => {
        this.output?.end(name);
        this.streamEnded();
      });
      s.once('error', () => this.streamEnded());
    };
    watchStream('stdout', child.stdout);
    watchStream('stderr', child.stderr);
    child.once('exit', (code, sig) => {
      void this.onExit({ code: sig ? null : code, signal: signalNumber(sig) }).then(resolveExited);
    });
    const f: Record<string, unknown> = { pid: child.pid };
    setBytes(f, 'path', p);
    setBytes(f, 'socket', this.sock);
    this.sink.emit('spawn', f as { pid: number; path: string; socket: string });
  }

  private spawnFailure(reason: string, code: string, message: string): Failure {
    const err = new StructuredError(message, 'launch', errnoNumber(code)).ctx('path', this.agentPath).ctx('errno', code);
    const f: Record<string, unknown> = { errno: code };
    setBytes(f, 'path', this.agentPath);
    setBytes(f, 'message', message);
    this.sink.emit('spawn_failed', f as { path: string; errno: string; message: string });
    return new Failure(reason, err);
  }

  private streamEnded(): void {
    this.streamsOpen = Math.max(0, this.streamsOpen - 1);
    if (this.streamsOpen === 0 && this.streamsEnded) this.streamsEnded();
  }

  // ---- readiness (L4, L5) ---------------------------------------------------

  private onMarker(): void {
    if (this.state !== 'starting' && this.state !== 'health_check') return;
    this.markerSeen = true;
    this.markerDuringWait?.(); // H1 (b)
    this.probeSocket(); // the marker usually means the socket is there now
    this.readinessChanged?.();
  }

  private startReadinessWatch(): void {
    this.markerSeen = false;
    this.socketOk = false;
    this.probeRetries = 0;
    const dir = path.dirname(this.sock);
    const base = path.basename(this.sock);
    try {
      // inotify: the socket file's creation is an event, not a 500 ms tick
      this.watcher = fs.watch(dir, { persistent: false }, (_ev, file) => {
        if (file === null || file === base) this.probeSocket();
      });
      this.watcher.on('error', () => this.stopWatcher());
    } catch {
      this.watcher = null; // no inotify here: refused/absent probes are retried instead
    }
  }

  private stopWatcher(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  private stopReadinessWatch(): void {
    this.stopWatcher();
    if (this.probeRetry) clearTimeout(this.probeRetry);
    this.probeRetry = null;
    this.readinessChanged = null;
    this.markerDuringWait = null;
  }

  /**
   * L5: socket readiness = a connect() succeeds. Probes run when the file
   * appears (inotify), when the marker arrives and right after the spawn.
   * The kernel signals bind() but not listen(): a refused connect (the file is
   * there, nobody listens yet) is retried after 5…50 ms — the only retry tick.
   */
  private probeSocket(): void {
    if (this.socketOk || this.state !== 'starting' || !this.readinessChanged) return;
    if (this.probing) {
      this.probeAgain = true;
      return;
    }
    this.probing = true;
    if (this.probeRetry) clearTimeout(this.probeRetry);
    this.probeRetry = null;
    void connectProbe(this.sock).then((code) => {
      this.probing = false;
      if (this.socketOk || this.state !== 'starting' || !this.readinessChanged) return;
      if (code === null) {
        this.socketOk = true;
        this.noteSocket();
        this.sink.emit('socket_usable', {});
        this.stopWatcher();
        this.readinessChanged?.();
        return;
      }
      if (this.probeAgain) {
        this.probeAgain = false;
        this.probeSocket();
        return;
      }
      if (code !== 'ENOENT' || !this.watcher) {
        const d = PROBE_RETRY_MS[Math.min(this.probeRetries++, PROBE_RETRY_MS.length - 1)];
        this.probeRetry = setTimeout(() => {
          this.probeRetry = null;
          this.probeSocket();
        }, d);
      }
    });
  }

  /** The socket inode our agent serves on: only this one may be removed at stop (L7). */
  private noteSocket(): void {
    try {
      const st = fs.lstatSync(this.sock);
      if (st.isSocket()) this.sockId = { dev: st.dev, ino: st.ino };
    } catch {
      /* gone again: judged at stop */
    }
  }

  /** L5: marker and usable socket, or ready_timeout from the spawn (then ready_timeout and the H1 series). */
  private awaitReadiness(signal: AbortSignal): Promise<void> {
    const wait = new Promise<void>((resolve) => {
      const timer = monoTimeout(() => {
        this.readinessChanged = null;
        this.sink.emit('ready_timeout', { timeout_ms: this.cfg.ready_timeout_ms });
        resolve();
      }, this.cfg.ready_timeout_ms);
      const done = (): void => {
        timer.clear();
        this.readinessChanged = null;
        resolve();
      };
      this.readinessChanged = () => {
        if (this.markerSeen && this.socketOk) done();
      };
      signal.addEventListener('abort', done, { once: true });
      this.probeSocket();
      this.readinessChanged();
    });
    return interruptible(wait, signal);
  }

  // ---- the health series (H1–H4) ------------------------------------------------

  private async healthSeries(signal: AbortSignal): Promise<void> {
    const n = this.cfg.health_attempts;
    for (let k = 1; k <= n; k++) {
      this.setState('health_check');
      this.sink.emit('health_attempt', { attempt: k, of: n });
      const ok = await interruptible(this.healthAttempt(k, signal), signal);
      if (ok) return;
      // H1 (a): every failed attempt, error or healthy=false, is followed by its wait
      const planned = this.cfg.health_base_delay_ms * 2 ** (k - 1);
      this.sink.emit('health_wait', { after_attempt: k, planned_ms: planned });
      const t0 = this.now();
      const reason = await this.backoff(planned, k < n, signal);
      this.sink.emit('health_wait_end', {
        after_attempt: k,
        planned_ms: planned,
        actual_ms: ms3(this.now() - t0),
        reason,
      });
    }
    const err = this.lastError ?? new StructuredError('health checks failed');
    err.cause(`every health check failed (${n} attempts, waits ${this.cfg.health_base_delay_ms} ms base)`);
    throw new Failure('health_failed', err);
  }

  /** H1 (b): a marker during the wait ends it early, unless no attempt follows. */
  private backoff(ms: number, markerEnds: boolean, signal: AbortSignal): Promise<'elapsed' | 'marker'> {
    return new Promise((resolve, reject) => {
      const finish = (r: 'elapsed' | 'marker'): void => {
        t.clear();
        this.markerDuringWait = null;
        signal.removeEventListener('abort', onAbort);
        resolve(r);
      };
      const onAbort = (): void => {
        t.clear();
        this.markerDuringWait = null;
        reject(signal.reason);
      };
      const t = monoTimeout(() => finish('elapsed'), ms);
      if (markerEnds) this.markerDuringWait = () => finish('marker');
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** One attempt: L5 probe, then HealthCheck on a fresh channel under the H3 deadline. True iff healthy. */
  private async healthAttempt(k: number, signal: AbortSignal): Promise<boolean> {
    const start = this.now();
    const deadlineAt = start + this.cfg.health_deadline_ms;
    const probe = await connectProbe(this.sock);
    if (probe !== null) {
      this.healthResult(k, start, false, 'CONNECT_FAILED', null, Buffer.from(`connect ${this.sock}: ${probe} (${strerror(probe)})`), Buffer.alloc(0));
      return false;
    }
    this.noteSocket();
    // a fresh channel per attempt: gRPC's reconnect backoff never shifts the H1 schedule
    const client = newClient(this.sock);
    const req = loadProto().serialize.HealthCheck({ service: 'python-agent' }); // H2
    try {
      let p = this.casing.health.path;
      let res = await this.unaryWithDeadline(client, p, req, deadlineAt - this.now(), signal);
      if (res.code === grpc.status.UNIMPLEMENTED && !this.casing.health.known) {
        const to = otherCasing(p);
        this.sink.emit('call_case_retry', { method: 'health', from: p, to });
        p = to;
        res = await this.unaryWithDeadline(client, p, req, deadlineAt - this.now(), signal);
        if (res.code === grpc.status.OK) this.casing.health.path = p;
      }
      // init already ended (an early exit: L6) and cut this call: its
      // CANCELLED is no health result, and must not replace the stated
      // reason's error (a flake hunt saw "CANCELLED" where "exited with code
      // 4" belonged, L6-exits-during-health)
      if (signal.aborted) return false;
      if (res.code !== grpc.status.OK) {
        const msg =
          res.code === grpc.status.UNIMPLEMENTED
            ? `health: no casing works, tried ${PKG_PATH}HealthCheck and ${PKG_PATH}healthCheck: ${res.details}`
            : res.details;
        this.healthResult(k, start, false, statusName(res.code), null, Buffer.from(msg), Buffer.alloc(0));
        return false;
      }
      this.casing.health.known = true;
      let w;
      try {
        w = parseWire(res.data ?? Buffer.alloc(0));
      } catch {
        this.healthResult(k, start, false, 'INTERNAL', null, Buffer.from('undecodable HealthCheckResponse'), Buffer.alloc(0));
        return false;
      }
      const healthy = (w.varint.get(1) ?? 0n) !== 0n;
      const message = w.bytes.get(2) ?? Buffer.alloc(0);
      const version = w.bytes.get(3) ?? Buffer.alloc(0);
      this.healthResult(k, start, healthy, healthy ? 'OK' : 'UNHEALTHY', healthy, message, version);
      if (healthy) this.agentVersion = Buffer.from(version);
      return healthy;
    } finally {
      client.close();
    }
  }

  /** A unary call cut at our own deadline (H3, on the monotonic clock the
   * events are stamped with, never early: monoTimeout). gRPC's own deadline
   * is wall-clock milliseconds (Date.now(), truncated) run on libuv's cached
   * loop time, so it could end an attempt 299.5 ms into a 300 ms deadline
   * (flake hunt: node-spec-S4-impostor); it is set 100 ms later, so ours
   * ends the attempt. */
  private async unaryWithDeadline(
    client: grpc.Client,
    methodPath: string,
    req: Buffer,
    leftMs: number,
    signal: AbortSignal,
  ): Promise<UnaryResult> {
    const ms = Math.max(1, Math.ceil(leftMs));
    const call = unary(client, methodPath, req, ms + 100);
    const onAbort = (): void => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = monoTimeout(() => call.cancel(), leftMs);
    try {
      const r = await call.promise;
      if (r.code === grpc.status.CANCELLED && !signal.aborted) {
        return { code: grpc.status.DEADLINE_EXCEEDED, details: 'health check deadline exceeded', data: null };
      }
      return r;
    } finally {
      timer.clear();
      signal.removeEventListener('abort', onAbort);
    }
  }

  private healthResult(
    k: number,
    start: number,
    ok: boolean,
    status: string,
    healthy: boolean | null,
    message: Buffer,
    version: Buffer,
  ): void {
    const f: Record<string, unknown> = { attempt: k, ok, status, healthy, duration_ms: ms3(this.now() - start) };
    setBytes(f, 'message', message);
    setBytes(f, 'version', version);
    this.sink.emit('health_result', f as never);
    if (!ok) {
      const m = message.toString('utf8').slice(0, 400);
      this.lastError = new StructuredError(
        `health check ${k}/${this.cfg.health_attempts} of ${this.sock} failed: ${status}${m ? `: ${m}` : ''}`,
      )
        .ctx('attempt', k)
        .ctx('status', status)
        .ctx('socket', this.sock)
        .ctx('path', this.agentPath);
    }
  }

  private goReady(): void {
    this.initMs = this.now() - this.initStartMs;
    this.metrics.initializationTime.observe(this.initMs);
    this.client = newClient(this.sock);
    this.lastError = null;
    this.reason = null;
    this.setState('ready');
    const f: Record<string, unknown> = { init_ms: ms3(this.initMs) };
    setBytes(f, 'agent_version', this.agentVersion);
    this.sink.emit('ready', f as { init_ms: number; agent_version: string });
  }

  /** K2: mock with a reason; a child that never became ready is stopped the L7 way. */
  private async goMock(reason: string, err: StructuredError): Promise<void> {
    if (this.initAbort && this.initMs < 0) {
      this.initMs = this.now() - this.initStartMs;
      this.metrics.initializationTime.observe(this.initMs);
    }
    this.initAbort?.abort(new Failure(reason, err));
    this.stopReadinessWatch();
    this.closeClient();
    err.ctx('reason', reason);
    this.reason = reason;
    this.lastError = err;
    this.setState('mock');
    const f: Record<string, unknown> = { reason, error: err.toJSON() };
    setBytes(f, 'message', err.message);
    this.sink.emit('fallback', f as { reason: string; message: string });
    if (this.childAlive) await this.terminateChild(this.now());
  }

  private closeClient(): void {
    this.client?.close();
    this.client = null;
  }

  // ---- child exit (L6, L8) --------------------------------------------------------

  private async onExit(info: ExitInfo): Promise<void> {
    // the last lines first (L6): the pipes usually end with the exit; a
    // descendant holding them open must not hold us up
    if (this.streamsOpen > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          this.streamsEnded = null;
          resolve();
        }, EXIT_OUTPUT_GRACE_MS);
        this.streamsEnded = () => {
          clearTimeout(t);
          this.streamsEnded = null;
          resolve();
        };
      });
    }
    this.childAlive = false;
    this.exitInfo = info;
    // what is left of its group dies with it (a pgid is not reused while the group has members)
    this.signalGroup('SIGKILL');
    this.sink.emit('child_exit', {
      pid: this.childPid,
      code: info.code,
      signal: info.signal,
      last_lines: [...(this.output?.lastLines ?? [])],
    });
    if (this.state === 'starting' || this.state === 'health_check') {
      // L6: mock at once, not after the remaining timeouts
      const err = this.describeExit('agent exited before it was ready');
      const exec = /^setpriv: failed to execute .*/.exec(this.output?.lastLines.at(-1) ?? '');
      const reason = exec && (info.code === 127 || info.code === 126) ? (info.code === 127 ? 'missing_executable' : 'spawn_failed') : 'early_exit';
      this.initAbort?.abort(new Failure(reason, err));
    } else if (this.state === 'ready') {
      // L8: calls in flight fail now with AGENT_DIED; later ones are mock answers
      const err = this.describeExit('agent died');
      for (const c of [...this.inflight]) c.died();
      await this.goMock('agent_died', err);
    }
  }

  private describeExit(what: string): StructuredError {
    const i = this.exitInfo ?? { code: null, signal: null };
    const how = i.signal !== null ? `killed by signal ${i.signal}` : `exited with code ${i.code}`;
    const err = new StructuredError(`${what}: agent ${this.agentPath} (pid ${this.childPid}) ${how}`)
      .ctx('path', this.agentPath)
      .ctx('pid', this.childPid);
    if (i.signal !== null) err.ctx('signal', i.signal);
    else err.ctx('exit_code', i.code ?? -1);
    const lines = this.output?.lastLines ?? [];
    if (lines.length > 0) err.ctx('last_lines', lines.join('\n'));
    for (const l of lines) err.cause(`output: ${l}`);
    return err;
  }

  private signalGroup(sig: NodeJS.Signals): void {
    if (!this.childPid) return;
    try {
      process.kill(-this.childPid, sig);
    } catch {
      try {
        if (this.childAlive) process.kill(this.childPid, sig);
      } catch {
        /* gone */
      }
    }
  }

  // ---- calls (M1, M2, C1–C4, K1, L8) -----------------------------------------------

  callsInFlight(): number {
    return this.inFlightCount;
  }

  async call(req: CallRequest): Promise<CallReply> {
    this.inFlightCount++;
    try {
      return await this.typedCall(req);
    } finally {
      this.inFlightCount--;
    }
  }

  private callEnd(m: MethodName, p: string, r: CallReply, req: CallRequest): CallReply {
    this.sink.emit('call_end', {
      method: m,
      path: p,
      status: r.status,
      ok: r.ok,
      mock: r.mock,
      duration_ms: r.duration_ms,
      error: r.ok ? null : (r.error?.message ?? null),
      ...(req.callId !== undefined ? { call: req.callId } : {}),
    });
    return r;
  }

  private fail(status: string, err: StructuredError, start: number): CallReply {
    return { ok: false, mock: false, status, error: err.toJSON(), duration_ms: ms3(this.now() - start) };
  }

  private async typedCall(req: CallRequest): Promise<CallReply> {
    const m = req.method;
    const start = this.now();
    // C4: bad arguments are rejected before sending and never counted
    let bad: string | null = null;
    if (m === 'process_prompt' && typeof req.prompt !== 'string') bad = 'prompt is missing';
    if (m === 'call_custom_function') {
      if (!req.name) bad = 'function name is empty';
      else if (typeof req.args_json !== 'string') bad = 'args_json is missing';
      else {
        try {
          JSON.parse(req.args_json);
        } catch {
          bad = 'args_json is not valid JSON';
        }
      }
    }
    if (bad) {
      const err = new StructuredError(`call ${m}: rejected before sending: ${bad}`, 'supervisor', errnoNumber('EINVAL')).ctx('method', m);
      return this.callEnd(m, '', this.fail('INVALID_ARGUMENT', err, start), req);
    }
    if (this.state !== 'ready' || !this.client) return this.mockAnswer(req, start);

    const from = this.breaker.state;
    const adm = this.breaker.admit(start);
    this.breakerEvent(from);
    let p = this.casing[m].path;
    if (!adm.allowed) {
      // C2/C3: fail fast without touching the agent (no call_start)
      const trialOut = adm.reason === 'trial_in_flight';
      const retry = this.breaker.retryInMs(start);
      const err = new StructuredError(
        trialOut
          ? `call ${m} ${p}: circuit breaker is OPEN (half-open: its one trial call is in flight)`
          : `call ${m} ${p}: circuit breaker is OPEN (${this.breaker.failures} consecutive failures; retry in ${retry} ms)`,
        'supervisor',
        errnoNumber('EAGAIN'),
      )
        .ctx('method', m)
        .ctx('breaker', this.breaker.state);
      this.sink.emit('call_rejected', { method: m, path: p, reason: adm.reason, breaker: this.breaker.state, retry_in_ms: retry });
      return this.callEnd(m, p, this.fail('BREAKER_OPEN', err, start), req);
    }
    this.sink.emit('call_start', { method: m, path: p, ...(req.callId !== undefined ? { call: req.callId } : {}) });
    const proto = loadProto();
    const body =
      m === 'health'
        ? { service: 'python-agent' }
        : m === 'process_prompt'
          ? { prompt: req.prompt ?? '' }
          : { name: req.name ?? '', args_json: req.args_json ?? '' };
    const payload = proto.serialize[PROTO_OF[m]](body);
    const deadlineMs = req.deadline_ms && req.deadline_ms > 0 ? req.deadline_ms : this.cfg.call_deadline_ms;
    const deadlineAt = start + deadlineMs;
    const tried = [p];
    let res: UnaryResult | 'died';
    for (;;) {
      res = await this.oneCall(p, payload, deadlineAt - this.now());
      if (res === 'died') break;
      if (res.code === grpc.status.UNIMPLEMENTED && tried.length === 1 && !this.casing[m].known) {
        // M1: once more under the other casing; not a breaker event (M2/C4)
        const to = otherCasing(p);
        this.sink.emit('call_case_retry', { method: m, from: p, to });
        tried.push(to);
        p = to;
        continue;
      }
      break;
    }
    let reply: CallReply;
    if (res === 'died') {
      reply = this.agentDied(m, p, start);
    } else if (res.code === grpc.status.OK) {
      if (tried.length === 2) this.casing[m].path = p;
      this.casing[m].known = true; // M1: remembered from now on
      reply = this.decodeReply(m, p, res.data ?? Buffer.alloc(0), start);
    } else {
      let err: StructuredError;
      const st = statusName(res.code);
      if (res.code === grpc.status.UNIMPLEMENTED && tried.length === 2) {
        // M2: name the method and every path tried
        err = new StructuredError(`call ${m}: UNIMPLEMENTED under every casing, tried ${tried[0]} and ${tried[1]}`).ctx(
          'paths_tried',
          tried.join(', '),
        );
      } else {
        err = new StructuredError(`call ${m} ${p}: ${st}: ${res.details}`);
      }
      err.ctx('method', m).ctx('status', st).ctx('path', p);
      reply = this.fail(st, err, start);
      const counts = [
        grpc.status.UNAVAILABLE,
        grpc.status.DEADLINE_EXCEEDED,
        grpc.status.INTERNAL,
        grpc.status.CANCELLED,
        grpc.status.RESOURCE_EXHAUSTED,
      ].includes(res.code);
      this.breakerReport(counts ? 'failure' : 'neutral');
    }
    this.metrics.observeCall(reply.duration_ms, !reply.ok);
    return this.callEnd(m, p, reply, req);
  }

  /** One attempt on the wire; 'died' when the agent exits while it is out (L8). */
  private async oneCall(p: string, payload: Buffer, leftMs: number): Promise<UnaryResult | 'died'> {
    const client = this.client;
    if (!client || !this.childAlive) return 'died';
    const ms = Math.max(1, Math.ceil(leftMs));
    const call = unary(client, p, payload, ms);
    let entry: InFlight | null = null;
    const died = new Promise<'died'>((resolve) => {
      entry = { died: () => resolve('died') };
      this.inflight.add(entry);
    });
    // our backstop, a little after gRPC's own deadline
    let timer: NodeJS.Timeout | null = null;
    const backstop = new Promise<UnaryResult>((resolve) => {
      timer = setTimeout(() => {
        call.cancel();
        resolve({ code: grpc.status.DEADLINE_EXCEEDED, details: 'deadline exceeded (supervisor)', data: null });
      }, ms + 200);
    });
    try {
      const r = await Promise.race([call.promise, died, backstop]);
      if (r === 'died') {
        call.cancel();
        return 'died';
      }
      const transport = [grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.INTERNAL, grpc.status.UNKNOWN];
      if (transport.includes(r.code) && this.childAlive) {
        // L8: a transport failure may be the agent dying; its exit is
        // usually milliseconds behind the broken stream
        const gone = await within(this.exited, DIED_GRACE_MS);
        if (gone) return 'died';
      }
      if (!this.childAlive && this.exitInfo && transport.includes(r.code)) return 'died';
      return r;
    } finally {
      if (timer) clearTimeout(timer);
      if (entry) this.inflight.delete(entry);
    }
  }

  private agentDied(m: MethodName, p: string, start: number): CallReply {
    const i = this.exitInfo ?? { code: null, signal: null };
    const how = i.signal !== null ? `killed by signal ${i.signal}` : `exited with code ${i.code}`;
    const err = new StructuredError(`call ${m} ${p}: agent died (pid ${this.childPid} ${how})`, 'supervisor', errnoNumber('EPIPE'))
      .ctx('method', m)
      .ctx('pid', this.childPid);
    if (i.signal !== null) err.ctx('signal', i.signal);
    else err.ctx('exit_code', i.code ?? -1);
    this.breakerReport('failure'); // C4: agent death counts
    return this.fail('AGENT_DIED', err, start);
  }

  private decodeReply(m: MethodName, p: string, data: Buffer, start: number): CallReply {
    let w;
    try {
      w = parseWire(data);
    } catch {
      this.breakerReport('failure');
      const err = new StructuredError(`call ${m} ${p}: undecodable reply`, 'supervisor', errnoNumber('EPROTO')).ctx('method', m);
      return this.fail('INTERNAL', err, start);
    }
    this.breakerReport('success');
    const r: CallReply = { ok: true, mock: false, status: 'OK', error: null, duration_ms: ms3(this.now() - start) };
    if (m === 'health') {
      r.healthy = (w.varint.get(1) ?? 0n) !== 0n;
      setBytes(r, 'version', w.bytes.get(3) ?? Buffer.alloc(0));
      setBytes(r, 'message', w.bytes.get(2) ?? Buffer.alloc(0));
    } else if (m === 'process_prompt') {
      setBytes(r, 'text', w.bytes.get(1) ?? Buffer.alloc(0));
    } else {
      setBytes(r, 'result_json', w.bytes.get(1) ?? Buffer.alloc(0));
    }
    return r;
  }

  /** K1: deterministic answers, flagged mock. */
  private mockAnswer(req: CallRequest, start: number): CallReply {
    const m = req.method;
    const r: CallReply = { ok: true, mock: true, status: 'MOCK', error: null, duration_ms: 0 };
    if (m === 'health') {
      r.healthy = false;
      r.version = 'mock';
      r.message = this.reason ?? 'mock mode';
    } else if (m === 'process_prompt') {
      r.text = `[mock] ${req.prompt ?? ''}`;
    } else {
      let args: unknown = null;
      try {
        args = JSON.parse(req.args_json ?? 'null');
      } catch {
        args = null;
      }
      r.result_json = JSON.stringify({ args, mock: true, name: req.name ?? '' });
    }
    this.sink.emit('call_start', { method: m, path: 'mock', ...(req.callId !== undefined ? { call: req.callId } : {}) });
    r.duration_ms = ms3(this.now() - start);
    return this.callEnd(m, 'mock', r, req);
  }

  private breakerEvent(from: BreakerName): void {
    if (this.breaker.state === from) return;
    this.metrics.setBreaker(this.breaker.state);
    this.sink.emit('breaker', { from, to: this.breaker.state, failures: this.breaker.failures });
  }

  private breakerReport(outcome: 'success' | 'failure' | 'neutral'): void {
    const from = this.breaker.state;
    if (outcome === 'success') this.breaker.success();
    else if (outcome === 'failure') this.breaker.failure(this.now());
    else this.breaker.neutral();
    this.breakerEvent(from);
  }

  // ---- snapshot, stop (L7) ----------------------------------------------------------

  snapshot(): SnapshotReply {
    return {
      mode: this.state === 'ready' ? 'ready' : 'mock',
      reason: this.state === 'ready' ? null : this.reason,
      state: this.state,
      breaker: this.breaker.state,
      child_pid: this.childAlive ? this.childPid : null,
      metrics: this.metrics.toJSON(),
      error: (this.lastError?.toJSON() as ErrorRecord | undefined) ?? null,
    };
  }

  async stop(): Promise<StopReply> {
    const start = this.now();
    const hadChild = this.childAlive;
    if (!this.stopped) {
      this.stopped = true;
      this.initAbort?.abort(new Failure('spawn_failed', new StructuredError('init: stopped before it ended')));
      this.setState('stopping');
      this.closeClient();
      await this.terminateChild(start);
      this.setState('stopped');
      this.sink.emit('shutdown', { step: 'done', elapsed_ms: ms3(this.now() - start), had_child: hadChild });
    }
    return {
      exit_code: this.exitInfo ? this.exitInfo.code : null,
      signal: this.exitInfo ? this.exitInfo.signal : null,
      elapsed_ms: ms3(this.now() - start),
    };
  }

  /** L7: SIGTERM to the group, the grace, SIGKILL, reaped; pipes closed; our socket file removed. */
  private async terminateChild(start: number): Promise<void> {
    const step = (s: 'sigterm' | 'sigkill' | 'reaped' | 'socket_removed' | 'privdir_replaced', extra: object = {}): void =>
      this.sink.emit('shutdown', { step: s, elapsed_ms: ms3(this.now() - start), ...extra });
    const prev = this.state;
    if (this.childAlive) {
      this.state = 'stopping'; // an exit now is expected: no L6/L8 (no event: restored below)
      this.signalGroup('SIGTERM');
      step('sigterm', { pid: this.childPid, pgid: this.childPid });
      const exited = await within(this.exited, this.cfg.shutdown_grace_ms);
      if (!exited) {
        this.signalGroup('SIGKILL');
        step('sigkill', { pid: this.childPid, pgid: this.childPid });
        await this.exited;
      }
      step('reaped', {
        pid: this.childPid,
        code: this.exitInfo?.code ?? null,
        signal: this.exitInfo?.signal ?? null,
      });
      this.state = prev;
    } else if (this.child) {
      await this.exited; // the exit handler may still be collecting the last lines
    }
    if (this.child) {
      this.child.stdout?.destroy();
      this.child.stderr?.destroy();
      this.output?.flushDropped('stdout');
      this.output?.flushDropped('stderr');
      this.child = null;
    }
    this.stopReadinessWatch();
    if (this.sock) {
      const { why, existed, removed } = this.removeSocket();
      const f: Record<string, unknown> = { existed, removed, why };
      setBytes(f, 'path', this.sock);
      step('socket_removed', f);
    }
    if (this.privdir) {
      const d = this.privdir;
      this.privdir = null;
      try {
        const st = fs.lstatSync(d.path);
        if (st.isSymbolicLink()) {
          // the agent put a symlink where our dir was: unlink() removes the link, never its target
          fs.unlinkSync(d.path);
          const f: Record<string, unknown> = {};
          setBytes(f, 'path', d.path);
          step('privdir_replaced', f);
        } else if (st.isDirectory() && st.dev === d.dev && st.ino === d.ino) {
          fs.rmdirSync(d.path);
        }
      } catch {
        /* already gone */
      }
    }
  }

  /**
   * Remove the socket only if it is the one our agent served on, or provably
   * stale — never another server's live socket — and never through a private
   * directory that is no longer ours (Node has no unlinkat(): the directory is
   * re-checked by dev/ino right before, a narrower window than a path alone).
   */
  private removeSocket(): { why: string; existed: boolean; removed: boolean } {
    if (this.privdir) {
      try {
        const st = fs.lstatSync(this.privdir.path);
        if (!st.isDirectory() || st.dev !== this.privdir.dev || st.ino !== this.privdir.ino) {
          return { why: 'absent', existed: false, removed: false };
        }
      } catch {
        return { why: 'absent', existed: false, removed: false };
      }
    }
    let st: fs.Stats;
    try {
      st = fs.lstatSync(this.sock);
    } catch {
      return { why: 'absent', existed: false, removed: false };
    }
    if (!st.isSocket()) return { why: 'not_socket', existed: false, removed: false };
    let why: string;
    if (this.sockId && st.dev === this.sockId.dev && st.ino === this.sockId.ino && st.uid === process.geteuid?.()) why = 'ours';
    else if (st.uid !== process.geteuid?.()) why = 'foreign';
    else why = this.listening(this.sock) ? 'live' : 'stale';
    let removed = false;
    if (why === 'ours' || why === 'stale') {
      try {
        fs.unlinkSync(this.sock);
        removed = true;
      } catch {
        removed = false;
      }
    }
    return { why, existed: true, removed };
  }
}
