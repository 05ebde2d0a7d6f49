// neira-node-host: HOST --design spec|seed --agent PATH [--set KEY=VALUE]... drive
// The design is the flag, else the executable's name (…-seed / …-spec).

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

import { ConfigError, defaultConfig, setConfig, type Config } from './config';
import { Clock, EventSink } from './events';
import { Drive } from './drive';
import type { SupervisorDesign } from './host';
import { SeedPythonAPIManager } from './seed';
import { PythonAPIManager } from './spec';

const VERSION = '0.1.0';

function usage(): string {
  return [
    'Usage: neira-node-host [--design spec|seed] [--agent PATH] [--set KEY=VALUE]... drive',
    '',
    'A supervisor host in TypeScript speaking the drive protocol (docs/adapter-contract.md):',
    '  spec  conforms to SPEC.md',
    '  seed  the seed document\'s sample code as written, defects included (docs/seed-defects.yaml)',
  ].join('\n');
}

interface Args {
  design: 'spec' | 'seed';
  cfg: Config;
}

function parseArgs(argv: string[]): Args {
  const cfg = defaultConfig();
  const self = path.basename(process.argv[1] ?? '');
  let design: 'spec' | 'seed' = /seed/.test(self) ? 'seed' : 'spec';
  let command = '';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new ConfigError(`${a}: missing value`);
      return v;
    };
    if (a === '--design') {
      const d = next();
      if (d !== 'spec' && d !== 'seed') throw new ConfigError(`--design ${d}: must be spec or seed`);
      design = d;
    } else if (a.startsWith('--design=')) {
      const d = a.slice(9);
      if (d !== 'spec' && d !== 'seed') throw new ConfigError(`--design ${d}: must be spec or seed`);
      design = d;
    } else if (a === '--agent') setConfig(cfg, `agent_path=${next()}`);
    else if (a === '--set') setConfig(cfg, next());
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`${usage()}\n`);
      process.exit(0);
    } else if (a === '--version') {
      process.stdout.write(`neira-node-host ${VERSION}\n`);
      process.exit(0);
    } else if (!a.startsWith('-') && !command) command = a;
    else throw new ConfigError(`unexpected argument "${a}"`);
  }
  if (command !== 'drive') throw new ConfigError(command ? `unknown command "${command}"` : 'missing COMMAND (drive)');
  // Values a design does not implement are accepted here, so that `hello`
  // can still tell the harness (not applicable); init then refuses them
  // (mock, config_error) rather than silently ignoring them.
  return { design, cfg };
}

function main(): void {
  // libuv opens one inotify fd per loop on the first fs.watch() and keeps it
  // for the loop's life: open it now, before the harness's fd baseline, so
  // that the L5 watch of each init is not counted as a leak.
  try {
    fs.watch(os.tmpdir(), { persistent: false }).close();
  } catch {
    /* no inotify: the readiness probe retries instead */
  }
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`neira-node-host: ${e instanceof Error ? e.message : String(e)}\n${usage()}\n`);
    process.exit(2);
  }
  // stdout carries protocol lines only: synchronous writes keep them whole and in order
  const write = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const sink = new EventSink(new Clock(), write);
  let sup: SupervisorDesign;
  try {
    sup = args.design === 'spec' ? new PythonAPIManager(args.cfg, sink) : new SeedPythonAPIManager(args.cfg, sink);
  } catch (e) {
    process.stderr.write(`neira-node-host: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  }
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  const finish = (): void => {
    rl.close();
    process.stdin.destroy();
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onTerm);
    // everything is closed: the loop drains and the process exits 0; a
    // straggling handle gets 2 s, then is named on stderr and cut
    const t = setTimeout(() => {
      const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
      const kinds = handles.map((h) => (h as { constructor?: { name?: string } }).constructor?.name ?? '?');
      process.stderr.write(`neira-node-host: ${handles.length} handles still open after stop (${kinds.join(', ')}); exiting\n`);
      process.exit(0);
    }, 2000);
    t.unref();
    if (args.design === 'seed') process.exit(0); // the seed's app simply quits (SEED DEFECT SD-L7-no-wait)
  };
  const drive = new Drive(sup, sink, write, VERSION, finish);
  // a SIGTERM/SIGINT to the host is a stop (the agent is never left behind);
  // registering here also opens libuv's signal pipe before the harness's fd baseline
  const onTerm = (): void => drive.eof();
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  rl.on('line', (l) => drive.line(l));
  rl.on('close', () => drive.eof());
}

main();
