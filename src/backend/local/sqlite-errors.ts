/**
 * The one place where SQLite's errors become StigmerErrors (STYLE.md: foreign errors are
 * translated once, at the edge). A locked database becomes BUSY with a hint about the other
 * process and the lock timeout; a file that cannot be opened, read or written becomes BACKEND
 * with a hint; anything else is a bug and keeps its cause for the report.
 */
import Database from 'better-sqlite3';
import { StigmerError } from '../../errors.js';

/** Translates an error thrown by better-sqlite3 (or by file system calls around it). */
export function translateSqliteError(err: unknown, location: string): unknown {
  if (err instanceof StigmerError) return err;
  if (err instanceof Database.SqliteError) {
    const code = err.code;
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
  if (err instanceof TypeError && /database connection is not open/i.test(err.message)) {
    return new StigmerError('BACKEND', `the backend for ${location} is closed`, {
      cause: err,
      userFixable: false,
    });
  }
  return err;
}
