/**
 * The store `stigmer server` serves: one function that opens it from `--db` (DESIGN.md §6b,
 * §6d). A path is a SQLite file opened with the local backend's code; a `postgres://` URL is a
 * PostgreSQL database. The server is generic over the Backend contract: whatever this returns
 * is served as is. Its StateToken is the store's `changeCounter` (the count of resource writes,
 * which lets clients tell their own writes from others'), else the store's `stateToken`.
 */
import { resolve } from 'node:path';
import type { Backend } from '../backend/types.js';

/** A Backend the server can serve. */
export type Store = Backend;

/** The StateToken of a store: its change counter, else its own state token. */
export async function storeStateToken(store: Store): Promise<string> {
  if (store.changeCounter) return String(await store.changeCounter());
  return store.stateToken ? await store.stateToken() : '';
}

export interface OpenStoreOptions {
  /** SQLite: how long a writer waits for the lock (ms). */
  busyTimeoutMs?: number;
  /** Where a store reports what happens outside calls (PostgreSQL: a dropped idle connection). */
  log?: (line: string) => void;
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
    const { openPostgresBackend } = await import('../backend/postgres/index.js');
    return openPostgresBackend({ url: db, ...(options.log ? { log: options.log } : {}) });
  }
  const { openLocalBackend } = await import('../backend/local/index.js');
  return openLocalBackend({
    path: resolve(db),
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
}
