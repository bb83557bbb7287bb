/**
 * The store `stigmer server` serves: one function that opens it from `--db` (DESIGN.md §6b,
 * §6d). A path is a SQLite file opened with the local backend's code; a `postgres://` URL is a
 * PostgreSQL database. The server is generic over the Backend contract: whatever this returns
 * is served as is, and needs only `changeCounter` beyond the Backend interface.
 */
import { resolve } from 'node:path';
import type { Backend } from '../backend/types.js';
import { StigmerError } from '../errors.js';

/** A Backend the server can serve: it can also count the resource writes it committed. */
export type Store = Backend & { changeCounter(): Promise<number> };

export interface OpenStoreOptions {
  /** SQLite: how long a writer waits for the lock (ms). */
  busyTimeoutMs?: number;
}

/** True for a PostgreSQL connection URL (`postgres://` or `postgresql://`). */
export function isPostgresUrl(db: string): boolean {
  return /^postgres(ql)?:\/\//i.test(db);
}

/**
 * Opens the store named by `db`: a SQLite file path (created with its directory when missing,
 * migrations applied) or a `postgres://` URL.
 */
export async function openStore(db: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresUrl(db)) {
    throw new StigmerError('CONFIG', 'this build of stigmer cannot serve a PostgreSQL store yet', {
      hint: 'serve a SQLite file instead: --db PATH',
    });
  }
  const { openLocalBackend } = await import('../backend/local/index.js');
  return openLocalBackend({
    path: resolve(db),
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
}
