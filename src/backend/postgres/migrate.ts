/**
 * The schema migration runner of the PostgreSQL store (DESIGN.md §6d), the counterpart of
 * src/backend/local/migrate.ts: numbered files `migrations/postgres/NNN_name.sql`, applied in
 * order on start, each in its own transaction together with its row in `schema_version`
 * (number, name, sha256). A database newer than this program (SCHEMA_TOO_NEW) and an applied
 * migration whose file changed (MIGRATION_CHANGED) are refused before anything is written.
 *
 * Many servers may start on one database at the same moment. Each migration transaction takes
 * a transaction-scoped advisory lock (per schema) and re-reads `schema_version` under it, so
 * the others wait and then find the file applied; it also inserts its version row before
 * running the file (graphile-worker's order), so a runner that somehow raced past the lock
 * loses on the primary key (23505), rolls back and moves on. Opening an up-to-date database
 * writes nothing.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { StigmerError } from '../../errors.js';
import {
  type AppliedMigration,
  checkApplied,
  defaultMigrationsDir,
  type MigrateResult,
  type Migration,
  readMigrations,
} from '../local/migrate.js';
import { sqlState } from './pg-errors.js';
import type { PgPool, Queryable } from './pool.js';

/** The `migrations/postgres/` directory of the installed package. */
export function defaultPostgresMigrationsDir(): string {
  return join(defaultMigrationsDir(), 'postgres');
}

/** Every `NNN_name.sql` of `migrations/postgres/` (or `dir`), ordered by number. */
export function readPostgresMigrations(dir: string = defaultPostgresMigrationsDir()): Migration[] {
  return readMigrations(dir);
}

const SCHEMA_TABLE = `CREATE TABLE IF NOT EXISTS schema_version (
  version integer PRIMARY KEY CHECK (version >= 1),
  name text NOT NULL,
  sha256 text NOT NULL CHECK (length(sha256) = 64),
  applied_at timestamptz NOT NULL DEFAULT now()
)`;

/**
 * The advisory lock key of migrations in the current schema: a signed 64-bit number from the
 * schema's name, so two stigmer stores in two schemas of one database never wait on each other.
 */
export function advisoryKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest().readBigInt64BE(0).toString();
}

/** The rows of `schema_version`, oldest first; empty when the table does not exist yet. */
export async function appliedPostgresMigrations(db: Queryable): Promise<AppliedMigration[]> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
  if (exists.rows[0]?.t == null) return [];
  const rows = await db.query<{ version: number; name: string; sha256: string; applied_at: Date }>(
    'SELECT version, name, sha256, applied_at FROM schema_version ORDER BY version',
  );
  return rows.rows.map((r) => ({
    version: r.version,
    name: r.name,
    sha256: r.sha256,
    appliedAt: r.applied_at.toISOString(),
  }));
}

/**
 * Brings the database of `pool` up to date.
 *
 * @throws StigmerError SCHEMA_TOO_NEW, MIGRATION_CHANGED, and the translated database errors.
 */
export async function migratePostgres(
  pool: PgPool,
  options: { migrations?: Migration[] } = {},
): Promise<MigrateResult> {
  const known = options.migrations ?? readPostgresMigrations();
  const location = pool.location;
  const schema = (await pool.query<{ s: string | null }>('SELECT current_schema() AS s')).rows[0]?.s;
  if (!schema) {
    throw new StigmerError(
      'BACKEND',
      `the PostgreSQL database ${location} has no schema to create tables in`,
      {
        hint: 'the search_path of the user names no existing schema; create one or set search_path (options=-c search_path=NAME in the URL)',
      },
    );
  }
  const lock = `SELECT pg_advisory_xact_lock(${advisoryKey('stigmer:migrate', schema)})`;
  const before = await pool.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
  const applied: Migration[] = [];
  let current = before.rows[0]?.t == null ? [] : await appliedPostgresMigrations(pool);
  checkApplied(current, known, location, 'database');
  const pending = () => {
    const done = new Set(current.map((a) => a.version));
    return known.filter((m) => !done.has(m.version));
  };
  if (pending().length === 0) return { applied, schemaVersion: known.at(-1)?.version ?? 0 };

  for (const migration of pending()) {
    const ran = await pool
      .transaction(async (client) => {
        await client.query(SCHEMA_TABLE);
        const now = await appliedPostgresMigrations(client);
        checkApplied(now, known, location, 'database');
        if (now.some((a) => a.version === migration.version)) return false;
        // The row first: a runner that got here at the same time fails on the key, not halfway.
        await client.query('INSERT INTO schema_version (version, name, sha256) VALUES ($1, $2, $3)', [
          migration.version,
          migration.name,
          migration.sha256,
        ]);
        await client.query(migration.sql);
        return true;
      }, `BEGIN; ${lock}`)
      .catch((err: unknown) => {
        const cause = err instanceof StigmerError ? err.cause : err;
        if (sqlState(cause) === '23505') return false;
        if (err instanceof StigmerError && err.code !== 'BACKEND') throw err;
        throw new StigmerError(
          'BACKEND',
          `migration ${migration.name} failed on ${location}; nothing of it was kept`,
          {
            cause: err,
            userFixable: false,
            hint: 'the database is left at the previous schema version; report this with the output above',
          },
        );
      });
    if (ran) applied.push(migration);
  }
  current = await appliedPostgresMigrations(pool);
  checkApplied(current, known, location, 'database');
  return { applied, schemaVersion: known.at(-1)?.version ?? 0 };
}
