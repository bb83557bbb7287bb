/**
 * The SQLite drivers the local-store tests run on here: better-sqlite3 always, `node:sqlite`
 * wherever Node has it (≥ 22.13: the Node 24 pass of `.ci/run`). Which drivers run is decided
 * from the Node version, and `sqlite-driver.test.ts` checks that decision against what Node
 * really provides, so the node:sqlite tests can never go missing unnoticed on a Node that has it.
 */
import type { SqliteDriverName } from '../../src/backend/local/driver.js';
import { NODE_SQLITE_MIN_VERSION } from '../../src/backend/local/node-sqlite-driver.js';

/** True when this Node's version is at least `min` (`major.minor.patch`). */
export function nodeAtLeast(min: string, version: string = process.versions.node): boolean {
  const a = version.split('.').map(Number);
  const b = min.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  }
  return true;
}

/** Whether this Node must have node:sqlite (judged by version only). */
export const NODE_HAS_SQLITE = nodeAtLeast(NODE_SQLITE_MIN_VERSION);

/** The drivers to test on this Node. */
export const TEST_DRIVERS: SqliteDriverName[] = NODE_HAS_SQLITE
  ? ['better-sqlite3', 'node:sqlite']
  : ['better-sqlite3'];
