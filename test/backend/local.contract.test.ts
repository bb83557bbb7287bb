/** Runs the Backend contract suite on the local SQLite backend, one fresh file per test. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalBackend } from '../../src/backend/local/index.js';
import { describeBackendContract } from '../contract/backend-contract.js';

describeBackendContract('local (SQLite file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'stigmer-contract-'));
  const path = join(dir, 'nested', 'local.db');
  const backend = await openLocalBackend({ path });
  return {
    backend,
    sibling: () => openLocalBackend({ path }),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
});
