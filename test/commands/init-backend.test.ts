/**
 * `stigmer init`, `backend status` and `backend use`, run as the real CLI process with
 * STIGMER_HOME in a temp directory: what init creates, that a second init changes nothing,
 * the status report, config precedence for --db, and refusing a database from the future.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLocalBackend, readMigrations } from '../../src/backend/local/index.js';
import { runStigmer, tempDir } from '../helpers/cli.js';
import { ORIGINAL_TABLES as TABLES } from '../helpers/schema.js';

const LATEST_SCHEMA = readMigrations().at(-1)!.version;

let tmp: ReturnType<typeof tempDir>;
let home: string;

beforeEach(() => {
  tmp = tempDir('stigmer-cli-');
  home = join(tmp.path, 'home');
});

afterEach(() => tmp.cleanup());

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  runStigmer(args, { cwd: tmp.path, env: { STIGMER_HOME: home, ...env } });

function tableNames(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (
      db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .all() as {
        name: string;
      }[]
    )
      .map((r) => r.name)
      .sort();
  } finally {
    db.close();
  }
}

function snapshot(dir: string): Record<string, { mtimeMs: number; content: string }> {
  const out: Record<string, { mtimeMs: number; content: string }> = {};
  // -wal/-shm come and go with connections (the test's own read-only ones too); the database
  // file and config are what must not change.
  for (const file of readdirSync(dir).sort()) {
    if (file.endsWith('-wal') || file.endsWith('-shm')) continue;
    const path = join(dir, file);
    out[file] = { mtimeMs: statSync(path).mtimeMs, content: readFileSync(path).toString('base64') };
  }
  return out;
}

function expectCleanFailure(result: { code: number; stderr: string }): void {
  expect(result.code).toBe(1);
  expect(result.stderr).not.toMatch(/\n\s+at .+\(.*:\d+:\d+\)/);
  expect(result.stderr).not.toMatch(/internal error/);
}

describe('stigmer init', () => {
  it('creates the home, config.yaml and a WAL database with the 12 tables; a second run changes nothing', async () => {
    const first = await run(['init']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Created ${home}`);
    expect(first.stdout).toContain(`Created ${join(home, 'config.yaml')}`);
    expect(first.stdout).toContain(`Created ${join(home, 'local.db')}`);
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toMatch(/^backend: local$/m);
    expect(readdirSync(home).sort()).toEqual(['config.yaml', 'local.db']);
    expect(tableNames(join(home, 'local.db'))).toEqual(expect.arrayContaining(TABLES));
    const db = new Database(join(home, 'local.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();

    const before = snapshot(home);
    const tablesBefore = tableNames(join(home, 'local.db'));
    await new Promise((r) => setTimeout(r, 20));
    const second = await run(['init']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('nothing changed');
    expect(second.stdout).not.toContain('Created');
    expect(snapshot(home)).toEqual(before);
    expect(tableNames(join(home, 'local.db'))).toEqual(tablesBefore);
  });

  it('keeps an existing config.yaml as it is', async () => {
    await run(['init']);
    writeFileSync(join(home, 'config.yaml'), 'backend: local\nlocal:\n  db: other.db\n');
    const again = await run(['init']);
    expect(again.code).toBe(0);
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toContain('other.db');
  });

  it('--help describes the command with examples', async () => {
    const help = await run(['init', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('config.yaml');
    expect(help.stdout).toContain('EXAMPLES');
  });
});

describe('stigmer backend status', () => {
  it('reports type, location, schema version and counts, also as JSON, without init', async () => {
    const dbPath = join(home, 'local.db');
    const backend = await openLocalBackend({ path: dbPath });
    await backend.applyChanges([
      { op: 'create', kind: 'Agent', name: 'a1', labels: {}, annotations: {}, spec: {} },
      { op: 'create', kind: 'Agent', name: 'a2', labels: {}, annotations: {}, spec: {} },
      { op: 'create', kind: 'Skill', name: 's1', labels: {}, annotations: {}, spec: {} },
    ]);
    await backend.close();

    const text = await run(['backend', 'status']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Backend:\s+local/);
    expect(text.stdout).toContain(dbPath);
    expect(text.stdout).toMatch(new RegExp(`Schema version:\\s+${LATEST_SCHEMA}\\b`));
    expect(text.stdout).toMatch(/^agents\s+2$/m);
    expect(text.stdout).toMatch(/^skills\s+1$/m);
    expect(text.stdout).toMatch(/^workflows\s+0$/m);

    const json = await run(['backend', 'status', '--json']);
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout);
    expect(parsed).toMatchObject({ type: 'local', location: dbPath, schemaVersion: LATEST_SCHEMA });
    expect(parsed.counts).toMatchObject({ Agent: 2, Skill: 1, Workflow: 0, Session: 0 });
  });

  it('takes the database from --db over STIGMER_DB over config.yaml over the default', async () => {
    await run(['init']);
    const fromConfig = join(tmp.path, 'config.db');
    const fromEnv = join(tmp.path, 'env.db');
    const fromFlag = join(tmp.path, 'flag.db');
    writeFileSync(join(home, 'config.yaml'), `backend: local\nlocal:\n  db: ${JSON.stringify(fromConfig)}\n`);
    const location = async (args: string[], env: Record<string, string> = {}) =>
      JSON.parse((await run(['backend', 'status', '--json', ...args], env)).stdout).location;
    expect(await location([])).toBe(fromConfig);
    expect(await location([], { STIGMER_DB: fromEnv })).toBe(fromEnv);
    expect(await location(['--db', fromFlag], { STIGMER_DB: fromEnv })).toBe(fromFlag);
    writeFileSync(join(home, 'config.yaml'), 'backend: local\n');
    expect(await location([])).toBe(join(home, 'local.db'));
  });

  it('refuses a database with a newer schema: exit 1, one clear message, no stack trace', async () => {
    await run(['init']);
    const db = new Database(join(home, 'local.db'));
    db.prepare('INSERT INTO schema_version (version, name, sha256, applied_at) VALUES (?, ?, ?, ?)').run(
      42,
      '042_future',
      'a'.repeat(64),
      new Date().toISOString(),
    );
    db.close();
    const result = await run(['backend', 'status']);
    expectCleanFailure(result);
    expect(result.stderr).toContain('schema version 42');
    expect(result.stderr).toContain('hint: ');
    expect(result.stdout).toBe('');
  });

  it('reports an unusable database file as an error with a hint', async () => {
    const bad = join(tmp.path, 'bad.db');
    writeFileSync(bad, 'x'.repeat(4096));
    const result = await run(['backend', 'status', '--db', bad]);
    expectCleanFailure(result);
    expect(result.stderr).toContain('not a valid stigmer database');
  });
});

describe('stigmer backend use', () => {
  it('writes the backend to config.yaml, keeping other settings', async () => {
    await run(['init']);
    writeFileSync(join(home, 'config.yaml'), 'backend: local\nlocal:\n  db: keep.db\n');
    const cloud = await run([
      'backend',
      'use',
      'cloud',
      '--endpoint',
      'https://stigmer.example.com',
      '--token',
      't0k',
    ]);
    expect(cloud.code).toBe(0);
    expect(cloud.stdout).toContain('cloud at https://stigmer.example.com');
    const cfg = readFileSync(join(home, 'config.yaml'), 'utf8');
    expect(cfg).toMatch(/^backend: cloud$/m);
    expect(cfg).toContain('endpoint: https://stigmer.example.com');
    expect(cfg).toContain('keep.db');
    expect(statSync(join(home, 'config.yaml')).mode & 0o077).toBe(0);

    const local = await run(['backend', 'use', 'local']);
    expect(local.code).toBe(0);
    expect(readFileSync(join(home, 'config.yaml'), 'utf8')).toMatch(/^backend: local$/m);
  });

  it('refuses cloud without an endpoint, and an unknown type', async () => {
    const noEndpoint = await run(['backend', 'use', 'cloud']);
    expectCleanFailure(noEndpoint);
    expect(noEndpoint.stderr).toContain('needs an endpoint');
    const unknown = await run(['backend', 'use', 'postgres']);
    expectCleanFailure(unknown);
  });

  it('warns when STIGMER_BACKEND overrides the file', async () => {
    const result = await run(['backend', 'use', 'local'], { STIGMER_BACKEND: 'cloud' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('STIGMER_BACKEND');
  });
});
