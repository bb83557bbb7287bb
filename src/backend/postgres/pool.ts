/**
 * The one module that owns node-postgres's Pool for a PostgreSQL store (brianc/node-postgres,
 * "project structure"): everything else asks it for a single query or for a transaction. A
 * transaction is one checked-out client, released in `finally` (destroyed instead of returned
 * when its connection failed), never a series of `pool.query` calls that could land on different
 * connections. The pool's `error` listener keeps an idle client whose server went away (a
 * restart of PostgreSQL) from crashing the process; the next checkout opens a fresh connection.
 * Every error leaves here translated (pg-errors.ts).
 */
import pg from 'pg';
import { StigmerError } from '../../errors.js';
import { isConnectionError, isRetryableTransactionError, translatePgError } from './pg-errors.js';

export type PgClient = pg.PoolClient;
/** Anything that runs one statement: the pool, or a transaction's client. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
}

export interface PgPoolOptions {
  /** `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=verify-full&sslrootcert=F&options=...]`. */
  url: string;
  /** Connections this process keeps at most. Default 10. */
  max?: number;
  /** How long a checkout waits for a connection before UNAVAILABLE. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Where the pool reports an idle connection that failed (never contains the password). */
  log?: (line: string) => void;
}

export const DEFAULT_POOL_SIZE = 10;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Attempts of a transaction that PostgreSQL aborted as a deadlock or serialization failure. */
const TRANSACTION_ATTEMPTS = 4;

/**
 * `postgres://user@host:port/db`: the database as messages name it, without the password or
 * the query string (which may name key files).
 */
export function describeDatabase(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username ? `${decodeURIComponent(u.username)}@` : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}`;
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** True for a URL the PostgreSQL store takes (`postgres://` or `postgresql://`). */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}

/** The pool of one PostgreSQL store. */
export class PgPool {
  readonly location: string;
  private readonly pool: pg.Pool;
  private ended = false;

  constructor(options: PgPoolOptions) {
    if (!isPostgresUrl(options.url)) {
      throw new StigmerError('USAGE', 'a PostgreSQL URL starts with postgres:// (or postgresql://)', {
        hint: 'e.g. --db postgres://stigmer@db.internal:5432/stigmer',
      });
    }
    const max = options.max ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(max) || max < 1) {
      throw new StigmerError('USAGE', `the PostgreSQL pool size must be a whole number ≥ 1, got ${max}`);
    }
    this.location = describeDatabase(options.url);
    this.pool = new pg.Pool({
      connectionString: options.url,
      max,
      connectionTimeoutMillis: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      application_name: 'stigmer',
      // A transaction left open by a client that vanished must not hold its locks for ever.
      idle_in_transaction_session_timeout: 60_000,
      keepAlive: true,
    });
    const log = options.log;
    this.pool.on('error', (err) => {
      const translated = translatePgError(err, this.location);
      log?.(`postgres: idle connection closed: ${translated instanceof Error ? translated.message : ''}`);
    });
  }

  /** One statement on any connection of the pool (reads, and single-statement writes). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
    name?: string,
  ): Promise<pg.QueryResult<R>> {
    this.checkOpen();
    try {
      return await this.pool.query<R>(name === undefined ? { text, values } : { name, text, values });
    } catch (err) {
      throw translatePgError(err, this.location);
    }
  }

  /**
   * Runs `fn` on one checked-out client between BEGIN and COMMIT (ROLLBACK when it throws). A
   * transaction that PostgreSQL aborted as a deadlock or serialization failure is run again
   * from the start (nothing of it was kept), a few times. `begin` replaces the plain BEGIN, so
   * a caller can open the transaction and take its locks in the same round trip.
   */
  async transaction<T>(
    fn: (client: PgClient, begun: pg.QueryResult[]) => Promise<T>,
    begin = 'BEGIN',
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once(fn, begin);
      } catch (err) {
        if (attempt < TRANSACTION_ATTEMPTS && isRetryableTransactionError(err)) continue;
        throw translatePgError(err, this.location);
      }
    }
  }

  private async once<T>(
    fn: (client: PgClient, begun: pg.QueryResult[]) => Promise<T>,
    begin: string,
  ): Promise<T> {
    this.checkOpen();
    const client = await this.pool.connect();
    let broken: Error | undefined;
    // A checked-out client has no pool listener: a server that ends the session between two
    // statements (a restart) would otherwise be an uncaught 'error' event. The statement that
    // runs next fails anyway; this only marks the connection as not reusable.
    const onError = (err: Error) => {
      broken = err;
    };
    client.on('error', onError);
    try {
      const r = (await client.query(begin)) as unknown as pg.QueryResult | pg.QueryResult[];
      const begun = Array.isArray(r) ? r : [r];
      const result = await fn(client, begun);
      try {
        await client.query('COMMIT');
      } catch (err) {
        if (!isConnectionError(err)) throw err;
        broken = err instanceof Error ? err : new Error(String(err));
        throw new StigmerError(
          'UNAVAILABLE',
          `the PostgreSQL database ${this.location} dropped the connection while committing`,
          {
            cause: err,
            hint: 'the change was kept entirely or not at all; run `stigmer plan` to see which, then apply again',
          },
        );
      }
      return result;
    } catch (err) {
      if (broken) throw err;
      if (isConnectionError(err)) {
        broken = err instanceof Error ? err : new Error(String(err));
      } else {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
        }
      }
      throw err;
    } finally {
      client.removeListener('error', onError);
      // A truthy argument destroys the connection instead of returning it to the pool.
      client.release(broken ?? false);
    }
  }

  private checkOpen(): void {
    if (this.ended) {
      throw new StigmerError('BACKEND', `the backend for ${this.location} is closed`, { userFixable: false });
    }
  }

  async end(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}
