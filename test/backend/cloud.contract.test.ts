/**
 * Runs the Backend contract suite on the cloud backend against a real `stigmer server` process
 * on a loopback port (one process for the file, its store emptied before each test).
 */
import { afterAll, beforeAll } from 'vitest';
import { openCloudBackend } from '../../src/backend/cloud/index.js';
import { describeBackendContract } from '../contract/backend-contract.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describeBackendContract('cloud (stigmer server process)', async () => {
  server.reset();
  const open = () => openCloudBackend({ endpoint: server.url, token: server.token });
  return { backend: await open(), sibling: open };
});
