/** Opens the backend a BackendConfig names. Implementations are imported lazily. */
import { StigmerError } from '../errors.js';
import { ensurePrivateDir } from '../private-files.js';
import type { BackendConfig } from './config.js';
import type { SqliteDriverName } from './local/driver.js';
import type { Backend } from './types.js';

export interface OpenBackendOptions {
  /** The local store's SQLite driver (default better-sqlite3; the Action uses node:sqlite). */
  sqliteDriver?: SqliteDriverName;
}

export async function openBackend(config: BackendConfig, options: OpenBackendOptions = {}): Promise<Backend> {
  // Whichever command runs first creates the home, private (0700): the parse cache, the master
  // key and usually the database live there.
  ensurePrivateDir(config.home, 'STIGMER_HOME');
  if (config.type === 'local') {
    const { openLocalBackend } = await import('./local/index.js');
    return openLocalBackend({
      path: config.dbPath,
      ...(config.lockTimeoutMs !== undefined ? { busyTimeoutMs: config.lockTimeoutMs } : {}),
      ...(options.sqliteDriver ? { driver: options.sqliteDriver } : {}),
    });
  }
  if (!config.endpoint) {
    throw new StigmerError('USAGE', 'the cloud backend needs an endpoint and none was given', {
      hint: 'pass --endpoint URL or set STIGMER_ENDPOINT (or `stigmer backend use cloud --endpoint URL --token TOKEN`)',
    });
  }
  const { openCloudBackend } = await import('./cloud/index.js');
  return openCloudBackend({
    endpoint: config.endpoint,
    token: config.token ?? '',
    ...(config.caCert !== undefined ? { caCert: config.caCert } : {}),
  });
}
