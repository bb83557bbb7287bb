/**
 * What keeps `stigmer watch` incremental (DESIGN.md §6b): a backend's stateToken ignores its own
 * writes and changes on anyone else's. The cloud backend follows the server's change counter
 * (StateToken, the count of resource writes) minus the writes it made itself; the local backend
 * uses SQLite's data_version. Other stores (PostgreSQL) may also change it on their own writes,
 * which only costs watch a full read, so the shared contract asks less than this file.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloudBackend } from '../../src/backend/cloud/index.js';
import { openLocalBackend } from '../../src/backend/local/index.js';
import type { Backend, ResourceChange } from '../../src/backend/types.js';
import { tempDir } from '../helpers/cli.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

let server: ServerProcess;
const dir = tempDir('stigmer-token-');
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  dir.cleanup();
});

const agent = (name: string): ResourceChange => ({
  op: 'create',
  kind: 'Agent',
  name,
  labels: {},
  annotations: {},
  spec: { instructions: 'a test agent' },
});

async function ownWritesAreIgnored(open: () => Promise<Backend>): Promise<void> {
  const mine = await open();
  const other = await open();
  try {
    const t1 = await mine.stateToken!();
    await mine.applyChanges([agent('mine-1'), agent('mine-2')]);
    await mine.deleteResource('Agent', 'mine-2');
    expect(await mine.stateToken!()).toBe(t1);
    await other.applyChanges([agent('theirs')]);
    const t2 = await mine.stateToken!();
    expect(t2).not.toBe(t1);
    // Own writes after someone else's are ignored again.
    await mine.applyChanges([agent('mine-3')]);
    expect(await mine.stateToken!()).toBe(t2);
  } finally {
    await mine.close();
    await other.close();
  }
}

describe("stateToken ignores the client's own writes", () => {
  it('on the cloud backend', async () => {
    await ownWritesAreIgnored(() => openCloudBackend({ endpoint: server.url, token: server.token }));
  });

  it('on the local backend', async () => {
    const path = join(dir.path, 'local.db');
    await ownWritesAreIgnored(() => openLocalBackend({ path }));
  });
});
