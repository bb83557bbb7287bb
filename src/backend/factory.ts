/** Opens the backend a BackendConfig names. Implementations are imported lazily. */
import { StigmerError } from '../errors.js';
import type { BackendConfig } from './config.js';
import type { Backend } from './types.js';

export async function openBackend(config: BackendConfig): Promise<Backend> {
  if (config.type === 'local') {
    const { openLocalBackend } = await import('./local/index.js');
    return openLocalBackend({ path: config.dbPath });
  }
  throw new StigmerError('CONFIG', 'the cloud backend is not available in this version of stigmer', {
    hint: 'use the local backend: `stigmer backend use local`',
  });
}
