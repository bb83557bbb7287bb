/**
 * PostgreSQL for tests: the shared cluster of the run (test/setup/postgres.ts) and fresh,
 * empty places in it. A schema per backend is the cheap way (tens of milliseconds, and the
 * URL's search_path points the store at it); a database per scenario when a test needs the
 * whole database (many servers on one database).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** The admin URL of the shared cluster. */
export function postgresAdminUrl(): string {
  return inject('postgresUrl');
}

function withDatabase(url: string, database: string, params = ''): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  u.search = params;
  return u.toString();
}

export async function adminQuery(sql: string, values: unknown[] = [], url = postgresAdminUrl()) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/** A fresh schema; `url` opens a store in it. `drop` removes it with everything in it. */
export async function freshSchema(
  prefix = 't',
): Promise<{ schema: string; url: string; drop: () => Promise<void> }> {
  const admin = postgresAdminUrl();
  const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`);
  const database = new URL(admin).pathname.slice(1) || 'postgres';
  return {
    schema,
    url: withDatabase(admin, database, `options=${encodeURIComponent(`-c search_path=${schema}`)}`),
    drop: async () => {
      await adminQuery(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
    },
  };
}

/** A fresh database; `url` connects to it. `drop` removes it (closing what is still connected). */
export async function freshDatabase(
  prefix = 'db',
): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const admin = postgresAdminUrl();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  return {
    name,
    url: withDatabase(admin, name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
    },
  };
}
