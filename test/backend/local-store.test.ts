/**
 * Local-only behaviour of the SQLite backend: migrations (fresh schema, WAL, refusing a newer
 * or edited schema, idempotent re-open), lock contention becoming BUSY, and file handling.
 * Every test uses a real database file in a temp directory, and the whole file runs once per
 * SQLite driver this Node has (test/helpers/sqlite-drivers.ts). The file is inspected and locked
 * from outside with better-sqlite3, a connection independent of the driver under test.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readPragma } from '../../src/backend/local/driver.js';
import {
  type LocalBackendOptions,
  loadSqliteDriver,
  migrationHash,
  openLocalBackend as openWithDefaultDriver,
  readMigrations,
  type SqliteDatabase,
  type SqliteDriver,
  type SqliteDriverName,
} from '../../src/backend/local/index.js';
import { type Migration, migrate } from '../../src/backend/local/migrate.js';
import { StigmerError } from '../../src/errors.js';
import { revealExecutionContext } from '../../src/secrets/context.js';
import { SecretKey } from '../../src/secrets/key.js';
import { sealSecret } from '../../src/secrets/seal.js';
import { storedSpecText } from '../../src/stored-text.js';
import type { JsonObject } from '../../src/types.js';
import { ORIGINAL_TABLES } from '../helpers/schema.js';
import { TEST_DRIVERS } from '../helpers/sqlite-drivers.js';

let dir: string;
let dbPath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stigmer-store-'));
  dbPath = join(dir, 'local.db');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function failure(promise: Promise<unknown>): Promise<StigmerError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected a failure');
}

describe.each(TEST_DRIVERS)('driver %s', (driverName: SqliteDriverName) => {
  const openLocalBackend = (options: LocalBackendOptions) =>
    openWithDefaultDriver({ ...options, driver: driverName });
  // The file is inspected (and locked) through the driver under test: two SQLite libraries in
  // one process do not see each other's POSIX locks, so a foreign connection would prove nothing.
  let driver: SqliteDriver;
  beforeAll(async () => {
    driver = await loadSqliteDriver(driverName);
  });
  const rawOpen = (path: string) => driver.open(path, { busyTimeoutMs: 5000 });

  function withDb<T>(fn: (db: SqliteDatabase) => T, path = dbPath): T {
    const db = rawOpen(path);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  }

  function tables(path: string): string[] {
    return withDb(
      (db) =>
        (
          db
            .prepare(
              "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .all() as { name: string }[]
        ).map((r) => r.name),
      path,
    );
  }

  describe('migrations', () => {
    it('a fresh database has the 12 original tables, in WAL mode, with foreign keys on', async () => {
      const backend = await openLocalBackend({ path: dbPath });
      const fk = await backend.status();
      expect(fk.schemaVersion).toBe(readMigrations().at(-1)!.version);
      await backend.close();
      const names = tables(dbPath);
      for (const t of ORIGINAL_TABLES) expect(names).toContain(t);
      withDb((db) => {
        expect(readPragma(db, 'journal_mode')).toBe('wal');
        const rows = db.prepare('SELECT version, name, sha256 FROM schema_version ORDER BY version').all();
        expect(rows).toEqual(
          readMigrations().map((m) => ({ version: m.version, name: m.name, sha256: m.sha256 })),
        );
      });
    });

    it('re-opening an up-to-date database applies nothing and writes nothing', async () => {
      await (await openLocalBackend({ path: dbPath })).close();
      const before = withDb((db) => db.prepare('SELECT * FROM schema_version').all());
      const db = rawOpen(dbPath);
      try {
        const result = migrate(db, { location: dbPath });
        expect(result.applied).toEqual([]);
        expect(db.prepare('SELECT * FROM schema_version').all()).toEqual(before);
      } finally {
        db.close();
      }
    });

    it('refuses a database whose schema is newer than the program (SCHEMA_TOO_NEW)', async () => {
      await (await openLocalBackend({ path: dbPath })).close();
      withDb((db) =>
        db
          .prepare('INSERT INTO schema_version (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)')
          .run(999, '999_from_the_future', 'f'.repeat(64), new Date().toISOString()),
      );
      const err = await failure(openLocalBackend({ path: dbPath }));
      expect(err.code).toBe('SCHEMA_TOO_NEW');
      expect(err.message).toContain('999');
      expect(err.message).toContain(dbPath);
      expect(err.hint).toMatch(/upgrade stigmer/);
    });

    it('stamps the schema version in the file header and refuses a header from the future too', async () => {
      await (await openLocalBackend({ path: dbPath })).close();
      withDb((db) => {
        expect(readPragma(db, 'user_version')).toBe(readMigrations().at(-1)!.version);
        db.exec('PRAGMA user_version = 77');
      });
      const err = await failure(openLocalBackend({ path: dbPath }));
      expect(err.code).toBe('SCHEMA_TOO_NEW');
      expect(err.message).toContain('77');
    });

    it('refuses an applied migration whose file changed (MIGRATION_CHANGED)', async () => {
      const original = readMigrations();
      await (await openLocalBackend({ path: dbPath, migrations: original })).close();
      const edited: Migration[] = original.map((m, i) =>
        i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, sha256: migrationHash(`${m.sql}\n-- edited`) } : m,
      );
      const err = await failure(openLocalBackend({ path: dbPath, migrations: edited }));
      expect(err.code).toBe('MIGRATION_CHANGED');
      expect(err.message).toContain(original[0]!.name);
      expect(err.hint).toMatch(/never edit an applied migration/);
    });

    it('applies a new numbered migration once, in its own transaction, on the next open', async () => {
      const base = readMigrations();
      await (await openLocalBackend({ path: dbPath, migrations: base })).close();
      const sql = 'CREATE TABLE extra_things (id TEXT PRIMARY KEY);';
      const next: Migration = { version: 900, name: '900_extra_things', sql, sha256: migrationHash(sql) };
      const backend = await openLocalBackend({ path: dbPath, migrations: [...base, next] });
      expect((await backend.status()).schemaVersion).toBe(900);
      await backend.close();
      expect(tables(dbPath)).toContain('extra_things');
      await (await openLocalBackend({ path: dbPath, migrations: [...base, next] })).close();
    });

    it('a failing migration leaves no trace and the database at its previous version', async () => {
      const base = readMigrations();
      await (await openLocalBackend({ path: dbPath, migrations: base })).close();
      const sql = 'CREATE TABLE half_done (id TEXT); INSERT INTO no_such_table VALUES (1);';
      const bad: Migration = { version: 901, name: '901_broken', sql, sha256: migrationHash(sql) };
      await expect(openLocalBackend({ path: dbPath, migrations: [...base, bad] })).rejects.toThrow();
      expect(tables(dbPath)).not.toContain('half_done');
      const backend = await openLocalBackend({ path: dbPath, migrations: base });
      expect((await backend.status()).schemaVersion).toBe(base.at(-1)!.version);
      await backend.close();
    });

    it('hashes CRLF and LF checkouts of a migration alike', () => {
      expect(migrationHash('a;\r\nb;\r\n')).toBe(migrationHash('a;\nb;\n'));
    });

    it('reads migrations from a directory in numeric order and refuses duplicate numbers', () => {
      const mdir = join(dir, 'migrations');
      mkdirSync(mdir);
      writeFileSync(join(mdir, '010_later.sql'), 'SELECT 1;');
      writeFileSync(join(mdir, '002_second.sql'), 'SELECT 2;');
      writeFileSync(join(mdir, 'README.md'), 'not a migration');
      expect(readMigrations(mdir).map((m) => m.name)).toEqual(['002_second', '010_later']);
      writeFileSync(join(mdir, '002_again.sql'), 'SELECT 3;');
      expect(() => readMigrations(mdir)).toThrow(/two migrations have number 2/);
    });
  });

  describe('the database file', () => {
    it('creates missing parent directories', async () => {
      const deep = join(dir, 'a', 'b', 'c', 'stigmer.db');
      const backend = await openLocalBackend({ path: deep });
      expect(backend.info).toEqual({ type: 'local', location: deep });
      await backend.close();
      expect(tables(deep)).toContain('agents');
    });

    it('refuses a file that is not a SQLite database with a clear error', async () => {
      writeFileSync(
        dbPath,
        'this is not a database, just some text that is long enough to have a header'.repeat(20),
      );
      const err = await failure(openLocalBackend({ path: dbPath }));
      expect(err.code).toBe('BACKEND');
      expect(err.userFixable).toBe(true);
      expect(err.message).toContain('not a valid stigmer database');
    });

    it('turns a lock held by another writer into BUSY with a hint, and recovers afterwards', async () => {
      const backend = await openLocalBackend({ path: dbPath, busyTimeoutMs: 50 });
      const other = rawOpen(dbPath);
      other.exec('BEGIN IMMEDIATE');
      try {
        const started = Date.now();
        const err = await failure(
          backend.applyChanges([
            { op: 'create', kind: 'Agent', name: 'a', labels: {}, annotations: {}, spec: {} },
          ]),
        );
        expect(err.code).toBe('BUSY');
        expect(err.hint).toMatch(/--lock-timeout/);
        expect(err.message).not.toMatch(/SQLITE/);
        expect(Date.now() - started).toBeGreaterThanOrEqual(40);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      const [created] = await backend.applyChanges([
        { op: 'create', kind: 'Agent', name: 'a', labels: {}, annotations: {}, spec: {} },
      ]);
      expect(created!.version).toBe(1);
      await backend.close();
    });

    it('refuses calls after close', async () => {
      const backend = await openLocalBackend({ path: dbPath });
      await backend.close();
      await backend.close();
      expect((await failure(backend.getResource('Agent', 'x'))).code).toBe('BACKEND');
    });

    it('lists 2,000 resources in bulk pages quickly', async () => {
      const backend = await openLocalBackend({ path: dbPath });
      const changes = Array.from({ length: 2000 }, (_, i) => ({
        op: 'create' as const,
        kind: 'Agent' as const,
        name: `agent-${String(i).padStart(5, '0')}`,
        labels: {},
        annotations: {},
        spec: { instructions: 'You are a helpful agent.', n: i },
      }));
      const t0 = Date.now();
      await backend.applyChanges(changes);
      const all = await backend.listAllResources('Agent');
      expect(all).toHaveLength(2000);
      const first = await backend.listResources('Agent', { pageSize: 5000 });
      expect(first.items).toHaveLength(2000);
      expect(first.nextPageToken).toBeUndefined();
      expect(Date.now() - t0).toBeLessThan(5000);
      await backend.close();
    });

    it('lists the same resources whatever expectedSpecText says (equal, different or unknown)', async () => {
      const backend = await openLocalBackend({ path: dbPath });
      expect(backend.sharesSpecTexts).toBe(true);
      const specs: Record<string, JsonObject> = { a: { n: 1 }, b: { n: 2, s: 'x' }, c: {} };
      await backend.applyChanges(
        Object.entries(specs).map(([name, spec]) => ({
          op: 'create' as const,
          kind: 'Agent' as const,
          name,
          labels: { team: name },
          annotations: {},
          spec,
        })),
      );
      const plain = await backend.listAllResources('Agent');
      const expected: Record<string, string> = { a: JSON.stringify(specs.a), b: '{"n":2}' };
      const shared = await backend.listAllResources('Agent', { expectedSpecText: (name) => expected[name] });
      // The texts first: reading a spec decodes it, and its text is then gone.
      expect(shared.map((r) => [r.name, storedSpecText(r), r.spec])).toEqual([
        ['a', '{"n":1}', { n: 1 }],
        ['b', '{"n":2,"s":"x"}', { n: 2, s: 'x' }],
        ['c', '{}', {}],
      ]);
      expect(shared).toEqual(plain);
      await backend.close();
    });
  });

  describe('execution contexts with secrets', () => {
    const key = SecretKey.fromBytes(new Uint8Array(32).fill(7));
    const sealed = sealSecret(key, { kind: 'Environment', name: 'prod', key: 'TOKEN' }, 'tok-123');

    async function seeded() {
      const backend = await openLocalBackend({ path: dbPath });
      await backend.applyChanges([
        { op: 'create', kind: 'Agent', name: 'bot', labels: {}, annotations: {}, spec: {} },
        {
          op: 'create',
          kind: 'Environment',
          name: 'prod',
          labels: {},
          annotations: {},
          spec: { data: { TOKEN: { isSecret: true, sealed: { ...sealed } }, MODE: { value: 'live' } } },
        },
      ]);
      const run = await backend.createExecution({
        kind: 'AgentExecution',
        target: 'bot',
        input: {},
        environmentRefs: ['prod'],
      });
      return { backend, run };
    }

    it('returns secrets sealed (the store holds no key); the runner decrypts them just in time', async () => {
      const { backend, run } = await seeded();
      const context = await backend.getExecutionContext(run.id);
      expect(context).toEqual({
        executionId: run.id,
        data: { MODE: 'live' },
        secrets: { TOKEN: { environment: 'prod', sealed } },
      });
      let loads = 0;
      expect(
        revealExecutionContext(context, () => {
          loads++;
          return key;
        }),
      ).toEqual({ TOKEN: 'tok-123', MODE: 'live' });
      expect(loads).toBe(1);
      await backend.close();
      withDb((db) => {
        const rows = JSON.stringify([
          db.prepare('SELECT * FROM execution_contexts').all(),
          db.prepare('SELECT * FROM agent_executions').all(),
        ]);
        expect(rows).not.toContain('tok-123');
        expect(rows).toContain('prod');
      });
    });

    it('a context without secrets never loads the key', async () => {
      const { backend, run } = await seeded();
      await backend.applyChanges([
        { op: 'update', kind: 'Environment', name: 'prod', labels: {}, annotations: {}, spec: { data: {} } },
      ]);
      const context = await backend.getExecutionContext(run.id);
      expect(
        revealExecutionContext(context, () => {
          throw new Error('the key must not be loaded');
        }),
      ).toEqual({});
      await backend.close();
    });

    it('a context whose environment was deleted fails with NOT_FOUND', async () => {
      const { backend, run } = await seeded();
      await backend.deleteResource('Environment', 'prod');
      const err = await failure(backend.getExecutionContext(run.id));
      expect(err.code).toBe('NOT_FOUND');
      expect(err.message).toContain('prod');
      await backend.close();
    });
  });
});
