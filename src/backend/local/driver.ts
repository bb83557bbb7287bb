/**
 * The SQLite driver seam of the local store (DESIGN.md §6): the store talks to this small
 * interface, never to a driver's own API, so the same code runs on better-sqlite3 (the CLI: a
 * native module built for the machine's Node) and on Node's built-in `node:sqlite` (the GitHub
 * Action: a bundle without native code, run on GitHub's Node ≥ 22.13). A driver is loaded only
 * when asked for, so the CLI never touches `node:sqlite` and the Action never loads
 * better-sqlite3.
 *
 * What both drivers must do alike: positional `?` and named `@name` parameters (named ones
 * passed as one object whose keys have no prefix), rows as plain objects keyed by column name,
 * BLOBs read back as Uint8Array (a Buffer is one), integers as numbers, and `transaction` as
 * `BEGIN IMMEDIATE` … `COMMIT` that rolls back when its function throws.
 */
import { StigmerError } from '../../errors.js';

/** A value SQLite can bind. */
export type SqliteValue = string | number | bigint | null | Uint8Array;

/** Positional values, or one object of named values (`@id` ← `{ id: … }`). */
export type SqliteParams = SqliteValue[] | [Record<string, SqliteValue>];

/** A prepared statement; prepare once, run many times. */
export interface SqliteStatement {
  run(...params: SqliteParams): { changes: number | bigint };
  /** The first row, or undefined. */
  get(...params: SqliteParams): unknown;
  all(...params: SqliteParams): unknown[];
  /**
   * The rows one at a time: each can be dropped before the next is made, so a caller that keeps
   * little of a row never holds every row at once (`all` does).
   */
  iterate(...params: SqliteParams): IterableIterator<unknown>;
}

/** One open connection. */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  /**
   * A statement whose rows are arrays of the column values in the order of the SELECT instead
   * of objects: cheaper to build when a query returns every row of a table (about half the
   * time of object rows for 100,000 resources in better-sqlite3).
   */
  prepareArrays(sql: string): SqliteStatement;
  /** Runs one or more statements without parameters (DDL, PRAGMA assignments). */
  exec(sql: string): void;
  /**
   * Runs `fn` in one `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back when
   * it throws. `fn` must be synchronous. A nested call runs in a savepoint of the outer one.
   */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** The drivers this package ships. */
export type SqliteDriverName = 'better-sqlite3' | 'node:sqlite';

/** Opens connections. */
export interface SqliteDriver {
  readonly name: SqliteDriverName;
  /** Opens (creating when missing) the database file, or `:memory:`. */
  open(path: string, options: { busyTimeoutMs: number }): SqliteDatabase;
}

/**
 * Loads a driver by name (lazily: each lives in its own module). better-sqlite3 is the
 * default of the CLI; `node:sqlite` needs Node ≥ 22.13.
 */
export async function loadSqliteDriver(name: SqliteDriverName = 'better-sqlite3'): Promise<SqliteDriver> {
  switch (name) {
    case 'better-sqlite3':
      return (await import('./better-sqlite3-driver.js')).betterSqlite3Driver;
    case 'node:sqlite':
      return (await import('./node-sqlite-driver.js')).nodeSqliteDriver;
    default:
      throw new StigmerError('USAGE', `unknown SQLite driver "${String(name)}"`, {
        hint: 'drivers: better-sqlite3, node:sqlite',
      });
  }
}

/** The value of a read-only PRAGMA (e.g. `user_version`). */
export function readPragma(db: SqliteDatabase, name: string): unknown {
  const row = db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown> | undefined;
  return row === undefined ? undefined : Object.values(row)[0];
}

/**
 * The shared `transaction` of drivers without a helper of their own: `BEGIN IMMEDIATE` at the
 * outermost level, a savepoint inside it; rolled back (to the savepoint) when `fn` throws.
 */
export function runTransaction<T>(exec: (sql: string) => void, inTransaction: () => boolean, fn: () => T): T {
  const nested = inTransaction();
  exec(nested ? 'SAVEPOINT stigmer_nested' : 'BEGIN IMMEDIATE');
  let result: T;
  try {
    result = fn();
  } catch (err) {
    if (nested) {
      exec('ROLLBACK TO stigmer_nested');
      exec('RELEASE stigmer_nested');
    } else if (inTransaction()) {
      // SQLite may already have rolled back on its own (e.g. SQLITE_FULL); only then is there nothing to do.
      exec('ROLLBACK');
    }
    throw err;
  }
  exec(nested ? 'RELEASE stigmer_nested' : 'COMMIT');
  return result;
}
