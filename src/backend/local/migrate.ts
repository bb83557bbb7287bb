/**
 * The schema migration runner of the local store (DESIGN.md §3). Migrations are numbered SQL
 * files `migrations/NNN_name.sql` shipped with the package. On every open, pending files are
 * applied in order, each in its own `BEGIN IMMEDIATE` transaction together with its row in
 * `schema_version` (number, name, sha256). Two things are refused before anything is written:
 * a database whose schema is newer than this program (SCHEMA_TOO_NEW), and an applied migration
 * whose file no longer has the recorded hash (MIGRATION_CHANGED).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StigmerError } from '../../errors.js';
import { readPragma, type SqliteDatabase } from './driver.js';

/** One migration file. */
export interface Migration {
  version: number;
  /** File name without `.sql`, e.g. `001_initial_schema`. */
  name: string;
  sql: string;
  /** sha256 (hex) of the file text with line endings normalised to `\n`. */
  sha256: string;
}

/** A row of `schema_version`. */
export interface AppliedMigration {
  version: number;
  name: string;
  sha256: string;
  appliedAt: string;
}

export interface MigrateResult {
  /** Migrations applied by this call, in order. */
  applied: Migration[];
  /** Schema version of the database after the call. */
  schemaVersion: number;
}

const FILE_PATTERN = /^(\d{3,})_([a-z0-9_]+)\.sql$/;

/**
 * The `migrations/` directory of the installed package: found by walking up from this module
 * (src/backend/local in a checkout, dist/backend/local when built or installed) to the first
 * directory that has both a package.json and a migrations/ folder.
 */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'migrations');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new StigmerError('INTERNAL', 'cannot find the migrations/ directory of the stigmer package', {
        userFixable: false,
        hint: 'the package is incomplete; reinstall stigmer',
      });
    }
    dir = parent;
  }
}

/** sha256 of a migration's text; CRLF and LF checkouts of the same file hash alike. */
export function migrationHash(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

/** Reads every `NNN_name.sql` of a directory, ordered by number; duplicate numbers are refused. */
export function readMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  const out: Migration[] = [];
  for (const file of readdirSync(dir)) {
    const m = FILE_PATTERN.exec(file);
    if (!m) continue;
    const sql = readFileSync(join(dir, file), 'utf8');
    out.push({ version: Number(m[1]), name: file.slice(0, -'.sql'.length), sql, sha256: migrationHash(sql) });
  }
  out.sort((a, b) => a.version - b.version);
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.version === out[i - 1]!.version) {
      throw new StigmerError(
        'INTERNAL',
        `two migrations have number ${out[i]!.version}: ${out[i - 1]!.name} and ${out[i]!.name}`,
        { userFixable: false },
      );
    }
  }
  return out;
}

function hasSchemaTable(db: SqliteDatabase): boolean {
  return (
    db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get() !==
    undefined
  );
}

/** The rows of `schema_version`, oldest first; empty for a fresh database. */
export function appliedMigrations(db: SqliteDatabase): AppliedMigration[] {
  if (!hasSchemaTable(db)) return [];
  const rows = db
    .prepare('SELECT version, name, sha256, applied_at AS appliedAt FROM schema_version ORDER BY version')
    .all() as AppliedMigration[];
  return rows;
}

/**
 * Refuses a database newer than `known`, or one whose applied migrations differ from the files.
 * Shared by the SQLite and PostgreSQL runners; `other` names what --db could point at instead.
 */
export function checkApplied(
  applied: AppliedMigration[],
  known: Migration[],
  location: string,
  other: 'file' | 'database' = 'file',
): void {
  const newest = known.at(-1)?.version ?? 0;
  const tooNew = applied.filter((a) => a.version > newest);
  if (tooNew.length > 0) {
    const top = tooNew.at(-1)!;
    throw new StigmerError(
      'SCHEMA_TOO_NEW',
      `${location} has schema version ${top.version} (${top.name}), but this stigmer knows only up to ${newest}`,
      {
        hint: `a newer stigmer wrote this database; upgrade stigmer (npm install -g stigmer@latest) or point --db at another ${other}`,
      },
    );
  }
  const byVersion = new Map(known.map((m) => [m.version, m]));
  for (const a of applied) {
    const file = byVersion.get(a.version);
    if (!file) {
      throw new StigmerError(
        'MIGRATION_CHANGED',
        `${location} records migration ${a.name}, which this stigmer does not have`,
        { hint: 'migrations are never removed; reinstall stigmer, or use a database made by this version' },
      );
    }
    if (file.sha256 !== a.sha256 || file.name !== a.name) {
      throw new StigmerError(
        'MIGRATION_CHANGED',
        `migration ${file.name} was changed after it was applied to ${location} (recorded sha256 ${a.sha256.slice(0, 12)}…, file ${file.sha256.slice(0, 12)}…)`,
        {
          hint: 'never edit an applied migration: restore the original file and add a new numbered migration (see CONTRIBUTING.md)',
        },
      );
    }
  }
}

/** A database stamped by a newer program in its header (PRAGMA user_version) is refused too. */
function checkUserVersion(db: SqliteDatabase, known: Migration[], location: string): void {
  const stamped = Number(readPragma(db, 'user_version'));
  const newest = known.at(-1)?.version ?? 0;
  if (stamped > newest) {
    throw new StigmerError(
      'SCHEMA_TOO_NEW',
      `${location} has schema version ${stamped}, but this stigmer knows only up to ${newest}`,
      {
        hint: 'a newer stigmer wrote this database; upgrade stigmer (npm install -g stigmer@latest) or point --db at another file',
      },
    );
  }
}

/**
 * Brings a database up to date. Each pending migration runs in its own immediate transaction
 * that re-reads `schema_version` first, so two processes opening a fresh database at once
 * apply every file exactly once.
 *
 * @param location how to name the database in messages (its path).
 * @throws StigmerError SCHEMA_TOO_NEW, MIGRATION_CHANGED; SQLite errors propagate unchanged
 *   (the caller translates them).
 */
export function migrate(
  db: SqliteDatabase,
  options: { migrations?: Migration[]; location?: string } = {},
): MigrateResult {
  const known = options.migrations ?? readMigrations();
  const location = options.location ?? 'the database';
  const before = appliedMigrations(db);
  checkUserVersion(db, known, location);
  checkApplied(before, known, location);
  const done = new Set(before.map((a) => a.version));
  const applied: Migration[] = [];
  // Only pending files take the write lock: re-opening an up-to-date database writes nothing.
  for (const migration of known.filter((m) => !done.has(m.version))) {
    const ran = db.transaction(() => {
      const now = appliedMigrations(db);
      checkApplied(now, known, location);
      if (now.some((a) => a.version === migration.version)) return false;
      db.exec(migration.sql);
      db.prepare('INSERT INTO schema_version (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)').run(
        migration.version,
        migration.name,
        migration.sha256,
        new Date().toISOString(),
      );
      // Mirrors the version in the file header, so tools that only read user_version see it too.
      db.exec(`PRAGMA user_version = ${migration.version}`);
      return true;
    });
    if (ran) applied.push(migration);
  }
  return { applied, schemaVersion: known.at(-1)?.version ?? 0 };
}
