/**
 * The one place where node-postgres's errors become StigmerErrors (STYLE.md: foreign errors are
 * translated once, at the edge), so no raw database message ever reaches a user. A database
 * that cannot be reached, is restarting or dropped the connection becomes UNAVAILABLE: nothing
 * of an unfinished transaction was kept, and trying again is the fix. A lock wait that ran out
 * becomes BUSY; wrong credentials, a missing database or missing rights become BACKEND with a
 * hint; anything else is a bug and keeps its cause (and SQLSTATE) for the report.
 */
import { StigmerError } from '../../errors.js';

/** SQLSTATE classes and codes (PostgreSQL, Appendix A). */
const UNAVAILABLE_CODES = new Set([
  '57P01', // admin_shutdown: the server is shutting down or restarting
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '57P05', // idle_session_timeout
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '25P03', // idle_in_transaction_session_timeout
]);
const NETWORK_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** SQLSTATE of a PostgreSQL error, or undefined for anything else. */
export function sqlState(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** True for a failure that a new attempt of the same transaction may not hit (deadlock, serialization). */
export function isRetryableTransactionError(err: unknown): boolean {
  const state = sqlState(err);
  return state === '40P01' || state === '40001';
}

function errnoOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  const code = (err as { code: unknown }).code;
  return typeof code === 'string' && code.startsWith('E') ? code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** True when the connection itself failed: refused, reset, terminated, timed out. */
export function isConnectionError(err: unknown): boolean {
  const state = sqlState(err);
  if (state !== undefined) return state.startsWith('08') || UNAVAILABLE_CODES.has(state);
  const errno = errnoOf(err);
  if (errno !== undefined && NETWORK_ERRNOS.has(errno)) return true;
  return /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Query read timeout/i.test(
    messageOf(err),
  );
}

/**
 * Translates an error thrown by node-postgres (or by its socket) into a StigmerError.
 *
 * @param location the database as shown to users (never with its password: see `describeDatabase`).
 */
export function translatePgError(err: unknown, location: string): unknown {
  if (err instanceof StigmerError) return err;
  const state = sqlState(err);
  if (isConnectionError(err)) {
    const why =
      state === '57P01' || state === '57P02' || state === '57P03'
        ? 'is restarting or shutting down'
        : state === '53300' || state === '53400'
          ? 'has no free connections'
          : errnoOf(err) === 'ECONNREFUSED' || errnoOf(err) === 'ENOTFOUND' || errnoOf(err) === 'EAI_AGAIN'
            ? 'cannot be reached'
            : 'dropped the connection';
    return new StigmerError('UNAVAILABLE', `the PostgreSQL database ${location} ${why}`, {
      cause: err,
      hint: 'nothing of an unfinished change was kept; try again in a moment (check that PostgreSQL is running and the --db URL is right)',
    });
  }
  if (state === '55P03' || state === '57014') {
    return new StigmerError('BUSY', `timed out waiting for a lock in the PostgreSQL database ${location}`, {
      cause: err,
      hint: 'another apply of the same resources is running; try again when it has finished',
    });
  }
  if (state !== undefined && isRetryableTransactionError(err)) {
    return new StigmerError(
      'BUSY',
      `the PostgreSQL database ${location} kept aborting the change because of concurrent writers`,
      { cause: err, hint: 'nothing was changed; try again' },
    );
  }
  if (state === '28P01' || state === '28000') {
    return new StigmerError('BACKEND', `PostgreSQL refused the login to ${location}`, {
      cause: err,
      hint: 'check the user and password of the --db URL (or STIGMER_DATABASE_URL), and pg_hba.conf',
    });
  }
  if (state === '3D000') {
    return new StigmerError('BACKEND', `the PostgreSQL database ${location} does not exist`, {
      cause: err,
      hint: 'create it first (createdb NAME, or CREATE DATABASE NAME) and point --db at it',
    });
  }
  if (state === '42501') {
    return new StigmerError('BACKEND', `permission denied in the PostgreSQL database ${location}`, {
      cause: err,
      hint: 'the user of the --db URL needs to own the stigmer tables (or the rights to create them on first start)',
    });
  }
  if (state === '53100' || state === '53200') {
    return new StigmerError('BACKEND', `the PostgreSQL database ${location} is out of disk space or memory`, {
      cause: err,
      hint: 'free space on the database server, then try again',
    });
  }
  if (state === '25006') {
    return new StigmerError('BACKEND', `the PostgreSQL database ${location} is read-only (a standby?)`, {
      cause: err,
      hint: 'point --db at the primary server',
    });
  }
  if (state !== undefined && (state.startsWith('42') || state === '0A000')) {
    return new StigmerError(
      'BACKEND',
      `the PostgreSQL database ${location} does not have the stigmer schema this program expects (${state})`,
      {
        cause: err,
        userFixable: false,
        hint: 'was the schema changed by hand? point --db at a database that only stigmer manages',
      },
    );
  }
  const errno = errnoOf(err);
  if (errno !== undefined && /^(ENOENT|EACCES|EISDIR)$/.test(errno)) {
    return new StigmerError('BACKEND', `cannot read a file named in the --db URL of ${location} (${errno})`, {
      cause: err,
      hint: 'check the sslrootcert, sslcert and sslkey paths of the URL',
    });
  }
  if (/self[- ]signed|certificate|SSL|TLS/i.test(messageOf(err)) && state === undefined) {
    return new StigmerError('BACKEND', `TLS to the PostgreSQL database ${location} failed`, {
      cause: err,
      hint: 'trust the server certificate with sslrootcert=PATH in the URL (sslmode=verify-full)',
    });
  }
  return new StigmerError(
    'BACKEND',
    `database error on ${location}${state === undefined ? '' : ` (SQLSTATE ${state})`}`,
    { cause: err, userFixable: false },
  );
}
