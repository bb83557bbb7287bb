/**
 * What the PostgreSQL store must do beyond the shared contract (DESIGN.md §6d, issue 15): its
 * migrations (hash, too new, edited, many servers starting at once), row-level version checks
 * that hold while another session writes (proved with a second session that holds its locks
 * while the store's batch waits), several stores on one database (StateToken, conflicts,
 * history without gaps) and its errors (never a raw database error).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMigrations } from '../../src/backend/local/migrate.js';
import {
  openPostgresBackend,
  type PostgresBackend,
  readPostgresMigrations,
} from '../../src/backend/postgres/index.js';
import { translatePgError } from '../../src/backend/postgres/pg-errors.js';
import type { ResourceChange } from '../../src/backend/types.js';
import { ConflictError, StigmerError } from '../../src/errors.js';
import { freshSchema, postgresAdminUrl } from '../helpers/postgres.js';

type Place = Awaited<ReturnType<typeof freshSchema>>;

const places: Place[] = [];
const backends: PostgresBackend[] = [];
afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await Promise.all(places.map((p) => p.drop()));
});

async function place(): Promise<Place> {
  const p = await freshSchema('store');
  places.push(p);
  return p;
}

async function open(url: string, options: { lockTimeoutMs?: number } = {}): Promise<PostgresBackend> {
  const b = await openPostgresBackend({ url, poolSize: 3, ...options });
  backends.push(b);
  return b;
}

/** A second, independent session on the same schema (another server's transaction). */
async function session(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

async function failure(promise: Promise<unknown>): Promise<StigmerError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

function agent(name: string, spec: Record<string, unknown> = {}): ResourceChange {
  return {
    op: 'create',
    kind: 'Agent',
    name,
    labels: {},
    annotations: { 'stigmer.ai/project': 'demo' },
    spec: { instructions: 'do the thing well', ...spec } as never,
  };
}

function update(
  name: string,
  expectedVersion: number | undefined,
  spec: Record<string, unknown>,
): ResourceChange {
  const change = { ...agent(name, spec), op: 'update' } as ResourceChange & { expectedVersion?: number };
  if (expectedVersion !== undefined) change.expectedVersion = expectedVersion;
  return change;
}

/** Resolves once a store session runs a statement like `pattern` and waits on a lock (the race is on). */
async function waitForLockWait(admin: pg.Client, pattern: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    const { rows } = await admin.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE application_name = 'stigmer' AND wait_event_type = 'Lock' AND query LIKE $1`,
      [pattern],
    );
    if (rows[0].n > 0) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no store session ever waited for a lock in ${pattern}`);
}

describe('PostgreSQL migrations', () => {
  it('applies migrations/postgres/ in order on open, records each with its hash, and writes nothing on reopen', async () => {
    const p = await place();
    const first = await open(p.url);
    const files = readPostgresMigrations();
    expect(files.length).toBeGreaterThanOrEqual(1);
    expect(first.migrationsApplied).toEqual(files.map((m) => m.name));
    const admin = await session(p.url);
    try {
      const { rows } = await admin.query('SELECT version, name, sha256 FROM schema_version ORDER BY version');
      expect(rows).toEqual(files.map((m) => ({ version: m.version, name: m.name, sha256: m.sha256 })));
      const again = await open(p.url);
      expect(again.migrationsApplied).toEqual([]);
      expect((await again.status()).schemaVersion).toBe(files.at(-1)!.version);
    } finally {
      await admin.end();
    }
  });

  it('has its own SQL files, not the SQLite ones', () => {
    const sqlite = readMigrations();
    const postgres = readPostgresMigrations();
    expect(postgres[0]!.name).toBe(sqlite[0]!.name);
    expect(postgres[0]!.sha256).not.toBe(sqlite[0]!.sha256);
  });

  it('refuses a database migrated past this program, before writing anything', async () => {
    const p = await place();
    await open(p.url);
    const admin = await session(p.url);
    try {
      await admin.query(
        "INSERT INTO schema_version (version, name, sha256) VALUES (999, '999_future', repeat('a', 64))",
      );
      const err = await failure(openPostgresBackend({ url: p.url }));
      expect(err.code).toBe('SCHEMA_TOO_NEW');
      expect(err.message).toContain('999');
      expect(err.hint).toContain('another database');
      expect(err.message).not.toContain(new URL(postgresAdminUrl()).password);
    } finally {
      await admin.end();
    }
  });

  it('refuses an applied migration whose file was edited', async () => {
    const p = await place();
    const files = readPostgresMigrations();
    await open(p.url);
    const edited = files.map((m, i) =>
      i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, sha256: 'f'.repeat(64) } : m,
    );
    const err = await failure(openPostgresBackend({ url: p.url, migrations: edited }));
    expect(err.code).toBe('MIGRATION_CHANGED');
    expect(err.message).toContain(files[0]!.name);
  });

  it('applies a new migration once when four servers start on one database at the same moment', async () => {
    const p = await place();
    const files = readPostgresMigrations();
    const next = {
      version: 900,
      name: '900_test_extra',
      sql: 'CREATE TABLE extra_test (id integer PRIMARY KEY); INSERT INTO extra_test VALUES (1);',
      sha256: 'e'.repeat(64),
    };
    const opened = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresBackend({ url: p.url, migrations: [...files, next] })),
    );
    backends.push(...opened);
    const applied = opened.flatMap((b) => b.migrationsApplied);
    expect(applied.sort()).toEqual([...files.map((m) => m.name), next.name].sort());
    const admin = await session(p.url);
    try {
      expect((await admin.query('SELECT count(*)::int AS n FROM extra_test')).rows[0].n).toBe(1);
    } finally {
      await admin.end();
    }
  });
});

describe('PostgreSQL store: row-level checks while another session writes', () => {
  let p: Place;
  let store: PostgresBackend;
  let other: pg.Client;
  let admin: pg.Client;

  beforeAll(async () => {
    p = await place();
    store = await open(p.url, { lockTimeoutMs: 20_000 });
    other = await session(p.url);
    admin = await session(p.url);
  });
  afterAll(async () => {
    await other.end();
    await admin.end();
  });

  it('an update waiting on a row that another transaction changes gets a conflict, not a lost update', async () => {
    await store.applyChanges([agent('contested')]);
    await other.query('BEGIN');
    await other.query('UPDATE agents SET version = 2, spec = \'{"by":"other"}\' WHERE name = \'contested\'');
    const mine = failure(store.applyChanges([update('contested', 1, { by: 'store' })]));
    await waitForLockWait(admin, '%FROM agents WHERE name = ANY%FOR UPDATE%');
    await other.query('COMMIT');
    const err = await mine;
    expect(err).toBeInstanceOf(ConflictError);
    expect((err as ConflictError).expectedVersion).toBe(1);
    expect((err as ConflictError).actualVersion).toBe(2);
    expect((await store.getResource('Agent', 'contested'))!.spec).toEqual({ by: 'other' });
  });

  it('a create racing another transaction that creates the same name loses with a conflict', async () => {
    await other.query('BEGIN');
    await other.query(
      `INSERT INTO agents (id, name, version, created_at, updated_at) VALUES ('agt_other', 'raced', 1, now(), now())`,
    );
    const mine = failure(store.applyChanges([agent('first-part'), agent('raced')]));
    await waitForLockWait(admin, 'INSERT INTO agents%ON CONFLICT%');
    await other.query('COMMIT');
    const err = await mine;
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('conflict on Agent/raced: expected absent, found version 1');
    expect(await store.getResource('Agent', 'first-part')).toBeNull();
    expect(await store.listVersions('Agent', 'first-part')).toEqual([]);
  });

  it('a lock held longer than the lock timeout is BUSY with a hint, and nothing is written', async () => {
    const quick = await open(p.url, { lockTimeoutMs: 150 });
    await store.applyChanges([agent('held')]);
    await other.query('BEGIN');
    await other.query("SELECT 1 FROM agents WHERE name = 'held' FOR UPDATE");
    try {
      const err = await failure(quick.applyChanges([update('held', 1, { x: 1 })]));
      expect(err.code).toBe('BUSY');
      expect(err.hint).toMatch(/try again/);
    } finally {
      await other.query('ROLLBACK');
    }
    expect((await store.getResource('Agent', 'held'))!.version).toBe(1);
  });
});

describe('PostgreSQL store: many servers on one database', () => {
  let p: Place;
  let servers: PostgresBackend[];

  beforeAll(async () => {
    p = await place();
    servers = [await open(p.url), await open(p.url), await open(p.url), await open(p.url)];
  });

  it('StateToken is a change counter: it moves when another server commits, and only then', async () => {
    const [a, b] = servers as [PostgresBackend, PostgresBackend];
    const t0 = await a.stateToken();
    expect(await a.stateToken()).toBe(t0);
    await b.applyChanges([agent('token-1')]);
    const t1 = await a.stateToken();
    expect(t1).not.toBe(t0);
    await failure(b.applyChanges([agent('token-2'), agent('token-1')]));
    expect(await a.stateToken()).toBe(t1);
    await b.applyChanges([{ op: 'assert', kind: 'Agent', name: 'token-1', expectedVersion: 1 }]);
    expect(await a.stateToken()).toBe(t1);
    await b.createExecution({ kind: 'AgentExecution', target: 'token-1', input: {} });
    expect(await a.stateToken()).toBe(t1);
    // Another store (another schema) never has the same token.
    const elsewhere = await open((await place()).url);
    expect(await elsewhere.stateToken()).not.toBe(await a.stateToken());
  });

  it('32 concurrent updates through 4 servers with the same expected version: one wins, the rest conflict, history has no gaps', async () => {
    const [a] = servers as [PostgresBackend];
    await a.applyChanges([agent('hot', { round: 0 })]);
    const attempts = Array.from({ length: 32 }, (_, i) =>
      servers[i % servers.length]!.applyChanges([update('hot', 1, { round: 1, by: i })]).then(
        (r) => ({ ok: true as const, by: i, r }),
        (err: unknown) => ({ ok: false as const, err }),
      ),
    );
    const results = await Promise.all(attempts);
    const wins = results.filter((r) => r.ok);
    expect(wins).toHaveLength(1);
    for (const r of results) {
      if (!r.ok) {
        expect(r.err).toBeInstanceOf(ConflictError);
        expect((r.err as ConflictError).actualVersion).toBe(2);
      }
    }
    const stored = await servers[3]!.getResource('Agent', 'hot');
    expect(stored!.version).toBe(2);
    expect(stored!.spec.by).toBe(wins[0]!.ok ? wins[0]!.by : -1);
    expect((await a.listVersions('Agent', 'hot')).map((h) => h.version)).toEqual([1, 2]);
  });

  it('unconditional concurrent updates through 4 servers are all kept, in order: versions 1..N without gaps', async () => {
    const [a] = servers as [PostgresBackend];
    await a.applyChanges([agent('counter', { n: 0 })]);
    const n = 24;
    const results = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        servers[i % servers.length]!.applyChanges([update('counter', undefined, { n: i + 1 })]),
      ),
    );
    const versions = results.map((r) => r[0]!.version).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: n }, (_, i) => i + 2));
    const history = await servers[1]!.listVersions('Agent', 'counter');
    expect(history.map((h) => h.version)).toEqual(Array.from({ length: n + 1 }, (_, i) => i + 1));
    for (let i = 1; i < history.length; i++)
      expect(history[i]!.createdAt >= history[i - 1]!.createdAt).toBe(true);
  });
});

describe('PostgreSQL errors are StigmerErrors a user can act on', () => {
  it('an unreachable database is UNAVAILABLE, one line, without the password', async () => {
    const url = 'postgres://stigmer:s3cret-pw@127.0.0.1:1/stigmer';
    const err = await failure(openPostgresBackend({ url }));
    expect(err.code).toBe('UNAVAILABLE');
    expect(err.message).toBe(
      'the PostgreSQL database postgres://stigmer@127.0.0.1:1/stigmer cannot be reached',
    );
    expect(`${err.message} ${err.hint}`).not.toContain('s3cret-pw');
  });

  it('a wrong password and a missing database say so', async () => {
    const admin = new URL(postgresAdminUrl());
    const wrong = new URL(admin);
    wrong.password = 'not-the-password';
    const login = await failure(openPostgresBackend({ url: wrong.toString() }));
    expect(login.code).toBe('BACKEND');
    expect(login.message).toMatch(/refused the login/);
    expect(login.message).not.toContain('not-the-password');
    const missing = new URL(admin);
    missing.pathname = '/no_such_database';
    const db = await failure(openPostgresBackend({ url: missing.toString() }));
    expect(db.message).toMatch(/does not exist/);
    expect(db.hint).toMatch(/CREATE DATABASE/);
  });

  it('translates PostgreSQL states once: restarts are retryable, unknown ones are bugs with their SQLSTATE', () => {
    const pgError = (code: string) => Object.assign(new Error('raw server text'), { code });
    for (const code of ['57P01', '57P03', '08006', '53300']) {
      expect((translatePgError(pgError(code), 'db') as StigmerError).code).toBe('UNAVAILABLE');
    }
    expect((translatePgError(pgError('55P03'), 'db') as StigmerError).code).toBe('BUSY');
    expect(
      (translatePgError(new Error('Connection terminated unexpectedly'), 'db') as StigmerError).code,
    ).toBe('UNAVAILABLE');
    const bug = translatePgError(pgError('XX000'), 'db') as StigmerError;
    expect(bug.code).toBe('BACKEND');
    expect(bug.userFixable).toBe(false);
    expect(bug.message).toBe('database error on db (SQLSTATE XX000)');
    expect(bug.message).not.toContain('raw server text');
  });
});
