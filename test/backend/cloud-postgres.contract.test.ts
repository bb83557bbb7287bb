/**
 * Runs the Backend contract suite on the cloud backend against two real `stigmer server`
 * processes on one PostgreSQL database (DESIGN.md §6d): the backend under test talks to one
 * server, its sibling (the "other client" of the contract) to the other, so every rule of the
 * contract — conflicts, request ids, StateToken, leases, history — is checked across servers.
 * The store is emptied before each test through the database, the way an operator would.
 */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openCloudBackend } from '../../src/backend/cloud/index.js';
import { describeBackendContract } from '../contract/backend-contract.js';
import { freshDatabase } from '../helpers/postgres.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
let one: ServerProcess;
let two: ServerProcess;
beforeAll(async () => {
  database = await freshDatabase('cloudcontract');
  [one, two] = await Promise.all([startServer({ db: database.url }), startServer({ db: database.url })]);
});
afterAll(async () => {
  await Promise.all([one?.stop(), two?.stop()]);
  one?.cleanup();
  two?.cleanup();
  await database?.drop();
});

/** Empties every table but the migration record and the store's own row. */
async function reset(): Promise<void> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name NOT IN ('schema_version', 'stigmer_state')",
    );
    await client.query(`TRUNCATE ${rows.map((r) => pg.escapeIdentifier(r.name)).join(', ')} CASCADE`);
  } finally {
    await client.end();
  }
}

describeBackendContract('cloud (two stigmer server processes on one PostgreSQL database)', async () => {
  await reset();
  return {
    backend: await openCloudBackend({ endpoint: one.url, token: one.token }),
    sibling: () => openCloudBackend({ endpoint: two.url, token: two.token }),
  };
});
