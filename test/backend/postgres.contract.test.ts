/** Runs the Backend contract suite on the PostgreSQL store: a fresh schema of the test cluster per test. */
import { openPostgresBackend } from '../../src/backend/postgres/index.js';
import { describeBackendContract } from '../contract/backend-contract.js';
import { freshSchema } from '../helpers/postgres.js';

describeBackendContract('postgres (real PostgreSQL server)', async () => {
  const place = await freshSchema('contract');
  const backend = await openPostgresBackend({ url: place.url, poolSize: 4 });
  return {
    backend,
    sibling: () => openPostgresBackend({ url: place.url, poolSize: 2 }),
    cleanup: place.drop,
  };
});
