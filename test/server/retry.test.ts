/**
 * A retry after a lost response (DESIGN.md §6b): the connection between the cloud backend and a
 * real `stigmer server` breaks after the server committed an ApplyChanges batch but before its
 * answer arrived (a TCP proxy holds the answer back and cuts both sides). The client retries the
 * same request id on a new connection and gets the original results: no second write, no
 * spurious conflict. Reads retry the same way when the server is briefly unreachable.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloudBackend } from '../../src/backend/cloud/index.js';
import type { ResourceChange } from '../../src/backend/types.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

/**
 * A TCP proxy to `port`. Once armed, after the client has sent more than `thresholdBytes`, it
 * holds back everything the server sends and, when `cut()` resolves, destroys the connection.
 */
function lossyProxy(port: number) {
  const sockets = new Set<Socket>();
  let trap: { thresholdBytes: number; cut: () => Promise<void>; fired: boolean } | null = null;
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(port, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    let sent = 0;
    let holding = false;
    client.on('data', (d) => {
      sent += d.length;
      upstream.write(d);
      if (trap && !trap.fired && sent > trap.thresholdBytes) {
        trap.fired = true;
        holding = true;
        void trap.cut().then(() => {
          client.destroy();
          upstream.destroy();
        });
      }
    });
    upstream.on('data', (d) => {
      if (!holding) client.write(d);
    });
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      a.on('error', () => b.destroy());
      a.on('close', () => {
        b.destroy();
        sockets.delete(a);
      });
    }
  });
  return {
    listen: (on = 0) =>
      new Promise<number>((r) =>
        server.listen(on, '127.0.0.1', () => r((server.address() as { port: number }).port)),
      ),
    arm(thresholdBytes: number, cut: () => Promise<void>) {
      trap = { thresholdBytes, cut, fired: false };
    },
    get fired() {
      return trap?.fired ?? false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

async function waitFor(test: () => boolean, label: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

let server: ServerProcess;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
});

describe('retries', () => {
  it('a batch whose answer was lost is retried with its request id and applied once', async () => {
    const proxy = lossyProxy(server.port);
    const port = await proxy.listen();
    const backend = await openCloudBackend({ endpoint: `http://127.0.0.1:${port}`, token: server.token });
    try {
      expect(await backend.listAllResources('Agent')).toEqual([]);
      const changes: ResourceChange[] = Array.from({ length: 200 }, (_, i) => ({
        op: 'create',
        kind: 'Agent',
        name: `retried-${i}`,
        labels: {},
        annotations: { 'stigmer.ai/project': 'retry' },
        spec: { instructions: `Agent ${i} answers questions about retries and lost responses.` },
      }));
      const commits = () => server.stderr().match(/BackendService\/ApplyChanges OK/g)?.length ?? 0;
      // Cut the connection once the server logged the commit: its answer never arrives.
      proxy.arm(10_000, () => waitFor(() => commits() === 1, 'the first commit'));
      const results = await backend.applyChanges(changes, { message: 'once' });
      expect(proxy.fired).toBe(true);
      expect(commits()).toBe(2);
      expect(results).toHaveLength(200);
      const stored = await backend.listAllResources('Agent');
      expect(stored.map((r) => [r.name, r.id, r.version]).sort()).toEqual(
        results.map((r) => [r.name, r.id, r.version]).sort(),
      );
      expect(await backend.listVersions('Agent', 'retried-7')).toHaveLength(1);
    } finally {
      await backend.close();
      await proxy.close();
    }
  });

  it('reads are retried while the server is briefly unreachable', async () => {
    // A free port where nothing listens until the server "comes back" behind a proxy.
    const probe = lossyProxy(server.port);
    const port = await probe.listen();
    await probe.close();
    const backend = await openCloudBackend({
      endpoint: `http://127.0.0.1:${port}`,
      token: server.token,
      retry: { retries: 6, baseDelayMs: 100 },
    });
    const back = lossyProxy(server.port);
    try {
      const reading = backend.listAllResources('Agent');
      await new Promise((r) => setTimeout(r, 150));
      await back.listen(port);
      expect((await reading).map((r) => r.name)).toContain('retried-7');
    } finally {
      await backend.close();
      await back.close();
    }
  });

  it('gives up after the retries with one clear line', async () => {
    const probe = lossyProxy(server.port);
    const port = await probe.listen();
    await probe.close();
    const endpoint = `http://127.0.0.1:${port}`;
    const backend = await openCloudBackend({
      endpoint,
      token: server.token,
      retry: { retries: 2, baseDelayMs: 10 },
    });
    try {
      await expect(backend.getResource('Agent', 'x')).rejects.toThrow(
        `cannot reach stigmer server at ${endpoint}`,
      );
    } finally {
      await backend.close();
    }
  });
});
