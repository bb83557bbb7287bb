/**
 * The one place where SQLite's errors become StigmerErrors (STYLE.md: foreign errors are
 * translated once, at the edge). A locked database becomes BUSY with a hint about the other
 * process and the lock timeout; a file that cannot be opened, read or written becomes BACKEND
 * with a hint; anything else is a bug and keeps its cause for the report. Both drivers' errors
 * are recognised by shape (better-sqlite3's `SqliteError` with a `SQLITE_…` code, node:sqlite's
 * `ERR_SQLITE_ERROR` with a numeric `errcode`), so this module imports neither driver.
 */
import { StigmerError } from '../../errors.js';

/** SQLite's primary result codes by number (https://sqlite.org/rescode.html). */
const PRIMARY_CODES: Record<number, string> = {
  1: 'ERROR',
  2: 'INTERNAL',
  3: 'PERM',
  4: 'ABORT',
  5: 'BUSY',
  6: 'LOCKED',
  7: 'NOMEM',
  8: 'READONLY',
  9: 'INTERRUPT',
  10: 'IOERR',
  11: 'CORRUPT',
  12: 'NOTFOUND',
  13: 'FULL',
  14: 'CANTOPEN',
  15: 'PROTOCOL',
  16: 'EMPTY',
  17: 'SCHEMA',
  18: 'TOOBIG',
  19: 'CONSTRAINT',
  20: 'MISMATCH',
  21: 'MISUSE',
  22: 'NOLFS',
  23: 'AUTH',
  24: 'FORMAT',
  25: 'RANGE',
  26: 'NOTADB',
};

/**
 * The `SQLITE_…` code of an error thrown by either driver (the primary code for node:sqlite,
 * whose number may be an extended one), or undefined for anything else.
 */
export function sqliteErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; code?: unknown; errcode?: unknown };
  if (e.name === 'SqliteError' && typeof e.code === 'string' && e.code.startsWith('SQLITE_')) return e.code;
  if (e.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number') {
    return `SQLITE_${PRIMARY_CODES[e.errcode & 0xff] ?? String(e.errcode)}`;
  }
  return undefined;
}

/** Translates an error thrown by a SQLite driver (or by file system calls around it). */
export function translateSqliteError(err: unknown, location: string): unknown {
  if (err instanceof StigmerError) return err;
  const code = sqliteErrorCode(err);
  if (code !== undefined && err instanceof Error) {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StigmerError('BUSY', `the database ${location} is locked by another writer`, {
        cause: err,
        hint: 'another stigmer process (apply, watch or server) is writing to it; wait for it to finish, or wait longer with --lock-timeout MS (STIGMER_LOCK_TIMEOUT)',
      });
    }
    if (code.startsWith('SQLITE_READONLY')) {
      return new StigmerError('BACKEND', `the database ${location} is read-only`, {
        cause: err,
        hint: 'check the permissions of the file and of its directory (SQLite writes -wal and -shm files beside it)',
      });
    }
    if (
      code.startsWith('SQLITE_CANTOPEN') ||
      code.startsWith('SQLITE_PERM') ||
      code.startsWith('SQLITE_AUTH')
    ) {
      return new StigmerError('BACKEND', `cannot open the database ${location}`, {
        cause: err,
        hint: 'check that the path is right and that its directory is writable (--db PATH, STIGMER_DB)',
      });
    }
    if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) {
      return new StigmerError('BACKEND', `${location} is not a valid stigmer database (${err.message})`, {
        cause: err,
        hint: 'point --db at another file, or move this one away and run `stigmer init`',
      });
    }
    if (code.startsWith('SQLITE_FULL') || code.startsWith('SQLITE_IOERR')) {
      return new StigmerError('BACKEND', `cannot write the database ${location}: ${err.message}`, {
        cause: err,
        hint: 'check free disk space and the health of the file system',
      });
    }
    return new StigmerError('BACKEND', `database error on ${location}: ${err.message} (${code})`, {
      cause: err,
      userFixable: false,
    });
  }
  const errno = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
  if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS' || errno === 'ENOTDIR') {
    return new StigmerError('BACKEND', `cannot create the database ${location} (${errno})`, {
      cause: err,
      hint: 'check the permissions of its directory, or choose another place with --db PATH (STIGMER_DB)',
    });
  }
  if (err instanceof Error && /database (connection )?is not open/i.test(err.message)) {
    return new StigmerError('BACKEND', `the backend for ${location} is closed`, {
      cause: err,
      userFixable: false,
    });
  }
  return err;
}
