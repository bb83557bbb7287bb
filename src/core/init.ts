/**
 * `stigmer init`: creates $STIGMER_HOME, a config.yaml selecting the local backend, and the
 * local database with its migrations applied. Idempotent: what already exists is left exactly
 * as it is, and the result says what was created so the command can report it.
 */
import { existsSync } from 'node:fs';
import {
  type BackendFlags,
  configPath,
  type Env,
  resolveBackendConfig,
  writeConfigFile,
} from '../backend/config.js';
import { openLocalBackend } from '../backend/local/index.js';
import { ensurePrivateDir } from '../private-files.js';

export interface InitOptions {
  /** Global flags (--db, --lock-timeout...); the database path follows the usual precedence. */
  flags?: BackendFlags;
  env?: Env;
}

export interface InitResult {
  home: string;
  configPath: string;
  dbPath: string;
  /** Paths created by this call, in creation order. */
  created: string[];
  /** Migrations applied to an existing database (an upgrade). */
  migrationsApplied: string[];
  schemaVersion: number;
  /** True when nothing at all was changed. */
  unchanged: boolean;
}

/** Creates what is missing of the Stigmer home; never rewrites what exists. */
export async function initStigmer(options: InitOptions = {}): Promise<InitResult> {
  const env = options.env ?? process.env;
  const config = resolveBackendConfig(options.flags ?? {}, env);
  const created: string[] = [];

  if (!existsSync(config.home)) created.push(config.home);
  ensurePrivateDir(config.home, 'STIGMER_HOME');
  const cfgPath = configPath(config.home);
  if (!existsSync(cfgPath)) {
    writeConfigFile(config.home, { backend: 'local' });
    created.push(cfgPath);
  }

  const dbExisted = existsSync(config.dbPath);
  const backend = await openLocalBackend({
    path: config.dbPath,
    ...(config.lockTimeoutMs !== undefined ? { busyTimeoutMs: config.lockTimeoutMs } : {}),
  });
  let schemaVersion: number;
  try {
    schemaVersion = (await backend.status()).schemaVersion;
  } finally {
    await backend.close();
  }
  if (!dbExisted) created.push(config.dbPath);
  const migrationsApplied = dbExisted ? [...backend.migrationsApplied] : [];

  return {
    home: config.home,
    configPath: cfgPath,
    dbPath: config.dbPath,
    created,
    migrationsApplied,
    schemaVersion,
    unchanged: created.length === 0 && migrationsApplied.length === 0,
  };
}
