/**
 * The `node:sqlite` driver of the local store (the GitHub Action's): Node's built-in SQLite,
 * Node ≥ 22.13, no native module to build. It is looked up at run time with
 * `process.getBuiltinModule`, so loading this module on an older Node fails with one clear
 * error instead of an import failure, and bundlers leave the built-in alone. `DatabaseSync`
 * has no transaction helper: `transaction` issues `BEGIN IMMEDIATE` itself.
 */
import { StigmerError } from '../../errors.js';
import { runTransaction, type SqliteDatabase, type SqliteDriver, type SqliteStatement } from './driver.js';

/** The part of `node:sqlite` this driver uses (typed here: the project's @types/node is Node 20's). */
interface NodeSqliteStatement extends SqliteStatement {
  setAllowUnknownNamedParameters?(enabled: boolean): void;
  /** Node ≥ 22.16 / 24: rows as arrays. */
  setReturnArrays?(enabled: boolean): void;
}
interface NodeDatabaseSync {
  readonly isTransaction: boolean;
  prepare(sql: string): NodeSqliteStatement;
  exec(sql: string): void;
  close(): void;
}
interface NodeSqliteModule {
  DatabaseSync: new (path: string, options?: { open?: boolean }) => NodeDatabaseSync;
}

/** The minimum Node version with `node:sqlite` available without a flag. */
export const NODE_SQLITE_MIN_VERSION = '22.13.0';

function loadModule(): NodeSqliteModule {
  const mod = process.getBuiltinModule?.('node:sqlite') as NodeSqliteModule | undefined;
  if (!mod?.DatabaseSync) {
    throw new StigmerError(
      'BACKEND',
      `the node:sqlite driver needs Node.js ${NODE_SQLITE_MIN_VERSION} or newer (this is ${process.version})`,
      { hint: 'use the better-sqlite3 driver (the CLI default), or run on Node.js 22.13+ or 24' },
    );
  }
  return mod;
}

class NodeSqliteDatabase implements SqliteDatabase {
  constructor(private readonly db: NodeDatabaseSync) {}

  prepare(sql: string): SqliteStatement {
    const stmt = this.db.prepare(sql);
    // better-sqlite3 ignores named values a statement does not use; so does this driver.
    stmt.setAllowUnknownNamedParameters?.(true);
    return stmt;
  }

  prepareArrays(sql: string): SqliteStatement {
    const stmt = this.prepare(sql) as NodeSqliteStatement;
    if (typeof stmt.setReturnArrays === 'function') {
      stmt.setReturnArrays(true);
      return stmt;
    }
    // Older node:sqlite: the same arrays, made from the object rows.
    return {
      run: (...params) => stmt.run(...params),
      get: (...params) => {
        const row = stmt.get(...params);
        return row === undefined ? undefined : Object.values(row as object);
      },
      all: (...params) => stmt.all(...params).map((row) => Object.values(row as object)),
      iterate: function* (...params) {
        for (const row of stmt.iterate(...params)) yield Object.values(row as object);
      },
    };
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    return runTransaction(
      (sql) => this.db.exec(sql),
      () => this.db.isTransaction,
      fn,
    );
  }

  close(): void {
    this.db.close();
  }
}

/** node:sqlite: the Action's driver (no native module). */
export const nodeSqliteDriver: SqliteDriver = {
  name: 'node:sqlite',
  open(path, { busyTimeoutMs }) {
    const { DatabaseSync } = loadModule();
    const db = new DatabaseSync(path);
    try {
      // Set before anything else touches the file, so even the first read waits for a writer.
      db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
    } catch (err) {
      db.close();
      throw err;
    }
    return new NodeSqliteDatabase(db);
  },
};
