/**
 * Where the backend is and how to reach it. Precedence (DESIGN.md §5):
 * flag > environment variable > $STIGMER_HOME/config.yaml > default.
 */
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';
import { StigmerError } from '../errors.js';
import { ensurePrivateDir } from '../private-files.js';
import type { BackendType } from './types.js';

export interface BackendConfig {
  type: BackendType;
  home: string;
  /** Local database file. */
  dbPath: string;
  endpoint?: string;
  token?: string;
  /** PEM file of a private CA the cloud backend trusts (`--ca-cert`, STIGMER_CA_CERT). */
  caCert?: string;
  /** How long a local writer waits for another process's lock (ms); the backend's default when absent. */
  lockTimeoutMs?: number;
}

export interface BackendFlags {
  backend?: string;
  db?: string;
  endpoint?: string;
  token?: string;
  /** --ca-cert. */
  caCert?: string;
  /** --lock-timeout (ms). */
  lockTimeout?: number;
}

/** The on-disk shape of $STIGMER_HOME/config.yaml. */
export interface ConfigFile {
  backend?: BackendType;
  local?: { db?: string };
  cloud?: { endpoint?: string; token?: string; caCert?: string };
  /** The model of runs whose agent names none (after `--model` and STIGMER_MODEL). */
  model?: string;
  /** Named MCP servers that agents' string `mcpServers` entries refer to (checked in src/execute). */
  mcpServers?: unknown;
}

export type Env = Record<string, string | undefined>;

export function stigmerHome(env: Env = process.env): string {
  const home = env.STIGMER_HOME;
  return home && home.length > 0 ? resolve(home) : join(homedir(), '.stigmer');
}

export function configPath(home: string): string {
  return join(home, 'config.yaml');
}

export function readConfigFile(home: string): ConfigFile {
  const file = configPath(home);
  if (!existsSync(file)) return {};
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new StigmerError('CONFIG', `${file}: not valid YAML`, {
      cause,
      hint: 'fix or delete the file; `stigmer init` writes a fresh one',
    });
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new StigmerError('CONFIG', `${file}: expected a mapping at the top level`, {
      hint: 'fix or delete the file; `stigmer init` writes a fresh one',
    });
  }
  const cfg = data as ConfigFile;
  if (cfg.backend !== undefined && cfg.backend !== 'local' && cfg.backend !== 'cloud') {
    throw new StigmerError(
      'CONFIG',
      `${file}: backend must be "local" or "cloud", got "${String(cfg.backend)}"`,
    );
  }
  return cfg;
}

export function writeConfigFile(home: string, cfg: ConfigFile): void {
  ensurePrivateDir(home, 'STIGMER_HOME');
  const file = configPath(home);
  writeFileSync(file, stringify(cfg), { mode: 0o600 });
  chmodSync(file, 0o600);
}

function parseBackendType(value: string, origin: string): BackendType {
  if (value === 'local' || value === 'cloud') return value;
  throw new StigmerError('USAGE', `${origin}: backend must be "local" or "cloud", got "${value}"`);
}

export function resolveBackendConfig(flags: BackendFlags = {}, env: Env = process.env): BackendConfig {
  const home = stigmerHome(env);
  const file = readConfigFile(home);
  const pick = (flag: string | undefined, envValue: string | undefined, fileValue: string | undefined) =>
    flag ?? (envValue !== undefined && envValue !== '' ? envValue : undefined) ?? fileValue;

  let type: BackendType = 'local';
  if (flags.backend !== undefined) type = parseBackendType(flags.backend, '--backend');
  else if (env.STIGMER_BACKEND) type = parseBackendType(env.STIGMER_BACKEND, 'STIGMER_BACKEND');
  else if (file.backend) type = file.backend;

  const dbFlag = flags.db !== undefined ? '--db' : env.STIGMER_DB ? 'STIGMER_DB' : 'config.yaml local.db';
  const db = pick(flags.db, env.STIGMER_DB, file.local?.db);
  if (type === 'local' && db !== undefined && /^postgres(ql)?:\/\//i.test(db)) {
    throw new StigmerError('USAGE', `${dbFlag} is a PostgreSQL URL, which only \`stigmer server\` can use`, {
      hint: 'serve the database with `stigmer server --db postgres://...` and use --backend cloud --endpoint URL',
    });
  }
  const config: BackendConfig = { type, home, dbPath: db ? resolve(db) : join(home, 'local.db') };
  const endpoint = pick(flags.endpoint, env.STIGMER_ENDPOINT, file.cloud?.endpoint);
  const token = pick(flags.token, env.STIGMER_TOKEN, file.cloud?.token);
  if (endpoint !== undefined) config.endpoint = endpoint;
  if (token !== undefined) config.token = token;
  const caCert = pick(flags.caCert, env.STIGMER_CA_CERT, file.cloud?.caCert);
  if (caCert !== undefined) config.caCert = resolve(caCert);
  const lockTimeout = flags.lockTimeout ?? parseLockTimeout(env.STIGMER_LOCK_TIMEOUT);
  if (lockTimeout !== undefined) config.lockTimeoutMs = lockTimeout;
  return config;
}

function parseLockTimeout(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) {
    throw new StigmerError('USAGE', `STIGMER_LOCK_TIMEOUT must be a number of milliseconds, got "${value}"`);
  }
  return Number(value);
}
