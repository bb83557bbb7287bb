/**
 * Runs the Backend contract suite on the local SQLite backend, one fresh file per test, once per
 * SQLite driver this Node has (better-sqlite3; node:sqlite on Node ≥ 22.13).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openLocalBackend } from '../../src/backend/local/index.js';
import { describeBackendContract } from '../contract/backend-contract.js';
import { TEST_DRIVERS } from '../helpers/sqlite-drivers.js';

for (const driver of TEST_DRIVERS) {
  describeBackendContract(`local (SQLite file, ${driver})`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stigmer-contract-'));
    const path = join(dir, 'nested', 'local.db');
    const backend = await openLocalBackend({ path, driver });
    return {
      backend,
      sibling: () => openLocalBackend({ path, driver }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  });
}
