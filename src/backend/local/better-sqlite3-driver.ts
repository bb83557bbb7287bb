/**
 * The better-sqlite3 driver of the local store (the CLI's): a native module compiled for the
 * machine's Node. Its statements and its `transaction(fn).immediate()` already have the seam's
 * shape; this module only adapts the types.
 */
import Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteDriver, SqliteParams, SqliteStatement } from './driver.js';

class BetterSqlite3Database implements SqliteDatabase {
  constructor(private readonly db: Database.Database) {}

  prepare(sql: string): SqliteStatement {
    // better-sqlite3's statements already have the seam's shape: no wrapper on the hot path.
    return this.db.prepare<SqliteParams>(sql);
  }

  prepareArrays(sql: string): SqliteStatement {
    return this.db.prepare<SqliteParams>(sql).raw(true);
  }

  exec(sql: string): void {
    this.db.exec(sql);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  close(): void {
    this.db.close();
  }
}

/** better-sqlite3: the default driver. */
export const betterSqlite3Driver: SqliteDriver = {
  name: 'better-sqlite3',
  open(path, { busyTimeoutMs }) {
    return new BetterSqlite3Database(new Database(path, { timeout: busyTimeoutMs }));
  },
};
