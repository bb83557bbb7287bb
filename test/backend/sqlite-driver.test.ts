/**
 * The SQLite driver seam (src/backend/local/driver.ts): both drivers behave alike where the
 * store relies on it — transactions (rollback, savepoints), parameters, BLOBs, error codes —
 * and the set of drivers tested here matches what this Node really provides.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSqliteDriver, readPragma, type SqliteDatabase } from '../../src/backend/local/driver.js';
import { translateSqliteError } from '../../src/backend/local/sqlite-errors.js';
import { StigmerError } from '../../src/errors.js';
import { NODE_HAS_SQLITE, nodeAtLeast, TEST_DRIVERS } from '../helpers/sqlite-drivers.js';

describe('the drivers available on this Node', () => {
  it('node:sqlite is tested exactly when this Node has it', async () => {
    const builtin = process.getBuiltinModule?.('node:sqlite');
    expect(builtin !== undefined).toBe(NODE_HAS_SQLITE);
    expect(TEST_DRIVERS.includes('node:sqlite')).toBe(NODE_HAS_SQLITE);
    if (!NODE_HAS_SQLITE) {
      const driver = await loadSqliteDriver('node:sqlite');
      const err = (() => {
        try {
          driver.open(':memory:', { busyTimeoutMs: 10 });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(StigmerError);
      expect((err as StigmerError).message).toContain('22.13.0');
    }
  });

  it('compares Node versions numerically', () => {
    expect(nodeAtLeast('22.13.0', '22.13.0')).toBe(true);
    expect(nodeAtLeast('22.13.0', '22.9.5')).toBe(false);
    expect(nodeAtLeast('22.13.0', '24.0.0')).toBe(true);
    expect(nodeAtLeast('22.13.0', '20.20.2')).toBe(false);
  });

  it('refuses an unknown driver name', async () => {
    await expect(loadSqliteDriver('sqlite4' as never)).rejects.toThrow(/unknown SQLite driver/);
  });
});

describe.each(TEST_DRIVERS)('driver %s', (driverName) => {
  let dir: string;
  let db: SqliteDatabase;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stigmer-driver-'));
    db = (await loadSqliteDriver(driverName)).open(join(dir, 'x.db'), { busyTimeoutMs: 30 });
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, data BLOB)');
  });

  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ids = () => (db.prepare('SELECT id FROM t ORDER BY id').all() as { id: string }[]).map((r) => r.id);

  it('binds positional and named values, ignores unused named ones, reads rows by column', () => {
    db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('a', 1);
    const info = db.prepare('INSERT INTO t (id, n) VALUES (@id, @n)').run({ id: 'b', n: 2, unused: 'x' });
    expect(Number(info.changes)).toBe(1);
    expect({ ...(db.prepare('SELECT id, n FROM t WHERE id = ?').get('b') as object) }).toEqual({
      id: 'b',
      n: 2,
    });
    expect(db.prepare('SELECT id FROM t WHERE id = ?').get('zzz')).toBeUndefined();
    expect(ids()).toEqual(['a', 'b']);
  });

  it('reads rows as arrays of column values, in SELECT order, from prepareArrays', () => {
    db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('b', 2);
    db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('a', 1);
    const stmt = db.prepareArrays('SELECT n, id FROM t ORDER BY id');
    expect(stmt.all().map((r) => [...(r as unknown[])])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect([...(db.prepareArrays('SELECT id, n FROM t WHERE id = ?').get('b') as unknown[])]).toEqual([
      'b',
      2,
    ]);
    // Object rows from prepare are unaffected.
    expect(ids()).toEqual(['a', 'b']);
  });

  it('iterates rows one at a time, as objects from prepare and as arrays from prepareArrays', () => {
    db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('b', 2);
    db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('a', 1);
    db.prepare('INSERT INTO t (id, n) VALUES (?, ?)').run('c', 3);
    const arrays = [...db.prepareArrays('SELECT n, id FROM t WHERE n > ? ORDER BY id').iterate(1)];
    expect(arrays.map((r) => [...(r as unknown[])])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ]);
    const objects = [...db.prepare('SELECT id FROM t ORDER BY id').iterate()] as Array<{ id: string }>;
    expect(objects.map((r) => r.id)).toEqual(['a', 'b', 'c']);
  });

  it('stores and returns BLOBs as bytes', () => {
    db.prepare('INSERT INTO t (id, data) VALUES (?, ?)').run('b', Buffer.from([0, 1, 255]));
    const row = db.prepare('SELECT data FROM t').get() as { data: Uint8Array };
    expect(row.data).toBeInstanceOf(Uint8Array);
    expect([...row.data]).toEqual([0, 1, 255]);
  });

  it('commits a transaction, rolls back one that throws, and nests as a savepoint', () => {
    expect(db.transaction(() => db.prepare('INSERT INTO t (id) VALUES (?)').run('a') && 42)).toBe(42);
    expect(() =>
      db.transaction(() => {
        db.prepare('INSERT INTO t (id) VALUES (?)').run('b');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(ids()).toEqual(['a']);
    db.transaction(() => {
      db.prepare('INSERT INTO t (id) VALUES (?)').run('c');
      expect(() =>
        db.transaction(() => {
          db.prepare('INSERT INTO t (id) VALUES (?)').run('d');
          throw new Error('inner');
        }),
      ).toThrow('inner');
    });
    expect(ids()).toEqual(['a', 'c']);
  });

  it('takes the write lock at BEGIN (IMMEDIATE), so a second writer gets SQLITE_BUSY up front', async () => {
    // Another connection of the same driver: two SQLite libraries in one process do not see
    // each other's POSIX locks.
    const other = (await loadSqliteDriver(driverName)).open(join(dir, 'x.db'), { busyTimeoutMs: 10 });
    try {
      other.exec('BEGIN IMMEDIATE');
      let ran = false;
      const err = (() => {
        try {
          db.transaction(() => {
            ran = true;
          });
        } catch (e) {
          return e;
        }
      })();
      expect(ran).toBe(false);
      const translated = translateSqliteError(err, 'x.db');
      expect(translated).toBeInstanceOf(StigmerError);
      expect((translated as StigmerError).code).toBe('BUSY');
      other.exec('ROLLBACK');
    } finally {
      other.close();
    }
  });

  it('reports constraint failures with a SQLITE_ code that the store translates', () => {
    db.prepare('INSERT INTO t (id) VALUES (?)').run('a');
    const err = (() => {
      try {
        db.prepare('INSERT INTO t (id) VALUES (?)').run('a');
      } catch (e) {
        return e;
      }
    })();
    const translated = translateSqliteError(err, 'x.db') as StigmerError;
    expect(translated.code).toBe('BACKEND');
    expect(translated.message).toContain('SQLITE_CONSTRAINT');
    expect(translated.userFixable).toBe(false);
  });

  it('reads and writes PRAGMAs', () => {
    db.exec('PRAGMA user_version = 7');
    expect(readPragma(db, 'user_version')).toBe(7);
    expect(readPragma(db, 'journal_mode')).toBe('wal');
  });
});
