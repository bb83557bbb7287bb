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
    const { loadSecretKey } = await import('../secrets/key.js');
    return openLocalBackend({
      path: config.dbPath,
      ...(config.lockTimeoutMs !== undefined ? { busyTimeoutMs: config.lockTimeoutMs } : {}),
      // Loaded only when an execution context holds a secret.
      secretKey: () => loadSecretKey({ home: config.home }),
      ...(options.sqliteDriver ? { driver: options.sqliteDriver } : {}),
    });
  }
  throw new StigmerError('CONFIG', 'the cloud backend is not available in this version of stigmer', {
    hint: 'use the local backend: `stigmer backend use local`',
  });
}
