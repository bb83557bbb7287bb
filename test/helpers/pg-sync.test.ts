/** The synchronous PostgreSQL reader of the test views against the run's real cluster. */
import { afterAll, expect, it } from 'vitest';
import { openPgSync } from './pg-sync.js';
import { postgresAdminUrl } from './postgres.js';

const db = openPgSync(postgresAdminUrl());
afterAll(() => db.close());

it('answers synchronously, with parameters, and reports SQL errors', () => {
  expect(db.query<{ n: number }>('SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
  expect(db.query('SELECT 1 AS a WHERE false')).toEqual([]);
  expect(() => db.query('SELECT * FROM no_such_table')).toThrow(/no_such_table/);
  expect(db.query<{ ok: boolean }>('SELECT true AS ok')[0]!.ok).toBe(true);
});
