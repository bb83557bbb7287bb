/**
 * Synchronous reads of a PostgreSQL database for test views that are synchronous because the
 * SQLite ones are (test/reconcile/stack.ts: `rows()`, `snapshot()`): a worker thread owns one
 * node-postgres client, and the caller blocks on `Atomics.wait` until the worker has posted the
 * result, which it then takes with `receiveMessageOnPort`. Tests only: it blocks the thread.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

const WORKER = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.pg);
const { port, flag, url } = workerData;
const client = new pg.Client({ connectionString: url });
const ready = client.connect();
port.on('message', async ({ sql, values }) => {
  let reply;
  try {
    await ready;
    const r = await client.query(sql, values);
    reply = { rows: r.rows };
  } catch (err) {
    reply = { error: String(err && err.message || err) };
  }
  port.postMessage(reply);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
});
port.on('close', () => client.end().catch(() => {}));
`;

export interface PgSync {
  /** Runs one statement and returns its rows, blocking until they are there. */
  query<R = Record<string, unknown>>(sql: string, values?: unknown[]): R[];
  close(): Promise<void>;
}

export function openPgSync(url: string, timeoutMs = 30_000): PgSync {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { port: port2, flag, url, pg: require.resolve('pg') },
    transferList: [port2],
  });
  worker.unref();
  return {
    query<R>(sql: string, values: unknown[] = []): R[] {
      Atomics.store(flag, 0, 0);
      port1.postMessage({ sql, values });
      if (Atomics.wait(flag, 0, 0, timeoutMs) === 'timed-out') throw new Error(`no answer to: ${sql}`);
      const message = receiveMessageOnPort(port1)?.message as { rows?: R[]; error?: string } | undefined;
      if (!message) throw new Error(`no answer to: ${sql}`);
      if (message.error !== undefined) throw new Error(`${message.error} (in: ${sql})`);
      return message.rows ?? [];
    },
    async close() {
      port1.close();
      await worker.terminate();
    },
  };
}
