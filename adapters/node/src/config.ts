// The host's configuration (contract §1): every key optional, numbers in
// decimal and range-checked, booleans true/false; a bad key or value is a
// usage error (exit status 2).

const DAY_MS = 24 * 60 * 60 * 1000;

export interface Config {
  agent_path: string;
  agents_dir: string;
  socket_path: string;
  socket_private_dir: boolean;
  check_peer: boolean;
  ready_timeout_ms: number;
  health_attempts: number;
  health_base_delay_ms: number;
  health_deadline_ms: number;
  call_deadline_ms: number;
  breaker_threshold: number;
  breaker_open_ms: number;
  shutdown_grace_ms: number;
  restart: boolean;
  restart_base_delay_ms: number;
  restart_max: number;
}

type Kind = { t: 'str' } | { t: 'bool' } | { t: 'int'; min: number; max: number };

const FIELDS: Record<keyof Config, Kind> = {
  agent_path: { t: 'str' },
  agents_dir: { t: 'str' },
  socket_path: { t: 'str' },
  socket_private_dir: { t: 'bool' },
  check_peer: { t: 'bool' },
  ready_timeout_ms: { t: 'int', min: 0, max: DAY_MS },
  health_attempts: { t: 'int', min: 1, max: 1000 },
  health_base_delay_ms: { t: 'int', min: 0, max: DAY_MS },
  health_deadline_ms: { t: 'int', min: 0, max: DAY_MS },
  call_deadline_ms: { t: 'int', min: 0, max: DAY_MS },
  breaker_threshold: { t: 'int', min: 1, max: 1000 },
  breaker_open_ms: { t: 'int', min: 0, max: DAY_MS },
  shutdown_grace_ms: { t: 'int', min: 0, max: DAY_MS },
  restart: { t: 'bool' },
  restart_base_delay_ms: { t: 'int', min: 0, max: DAY_MS },
  restart_max: { t: 'int', min: 0, max: 1000 },
};

export function defaultConfig(): Config {
  return {
    agent_path: '',
    agents_dir: '',
    // unset: the S1 rule ($NEIRA_SOCKET_PATH, else <tmpdir>/neira_agent.sock)
    socket_path: '',
    socket_private_dir: false,
    check_peer: false,
    ready_timeout_ms: 15000,
    health_attempts: 3,
    health_base_delay_ms: 500,
    health_deadline_ms: 1000,
    call_deadline_ms: 10000,
    breaker_threshold: 5,
    breaker_open_ms: 30000,
    shutdown_grace_ms: 2000,
    restart: false,
    restart_base_delay_ms: 500,
    restart_max: 3,
  };
}

export class ConfigError extends Error {}

function isKey(k: string): k is keyof Config {
  return Object.prototype.hasOwnProperty.call(FIELDS, k);
}

/** Applies KEY=VALUE; throws ConfigError naming the key and the cause. */
export function setConfig(cfg: Config, kv: string): void {
  const eq = kv.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${kv}: expected KEY=VALUE`);
  const key = kv.slice(0, eq);
  const value = kv.slice(eq + 1);
  if (!isKey(key)) throw new ConfigError(`--set ${key}: unknown key (known: ${Object.keys(FIELDS).join(' ')})`);
  const kind = FIELDS[key];
  const target = cfg as unknown as Record<string, string | number | boolean>;
  switch (kind.t) {
    case 'str':
      target[key] = value;
      return;
    case 'bool':
      if (value === 'true' || value === '1' || value === 'yes') target[key] = true;
      else if (value === 'false' || value === '0' || value === 'no') target[key] = false;
      else throw new ConfigError(`--set ${key}=${value}: not a boolean (true or false)`);
      return;
    case 'int': {
      if (!/^[0-9]+$/.test(value)) throw new ConfigError(`--set ${key}=${value}: not a decimal integer`);
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < kind.min || n > kind.max) {
        throw new ConfigError(`--set ${key}=${value}: out of range (${kind.min}..${kind.max})`);
      }
      target[key] = n;
      return;
    }
  }
}
