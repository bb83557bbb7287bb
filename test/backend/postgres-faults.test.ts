/**
 * PostgreSQL restarted under load (issue 15, item 4, in small): two stores (two servers) keep
 * applying batches while the database restarts. Its own cluster, since a restart would cut off
 * every other test file sharing the run's cluster. Every failure a client sees is a clear,
 * retryable StigmerError (never a raw database error or a crash), the pools recover by
 * themselves, and no batch is half-applied: a batch writes the same generation to five agents,
 * so every generation in the history appears on all five or on none.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type PgCluster, startPgCluster } from '../../scripts/pg-cluster.mjs';
import { openPostgresBackend, type PostgresBackend } from '../../src/backend/postgres/index.js';
import type { ResourceChange } from '../../src/backend/types.js';
import { StigmerError } from '../../src/errors.js';

const NAMES = ['a1', 'a2', 'a3', 'a4', 'a5'];
let cluster: PgCluster;
let stores: PostgresBackend[] = [];
const idleErrors: string[] = [];

beforeAll(async () => {
  cluster = await startPgCluster();
  const url = cluster.url();
  stores = [
    await openPostgresBackend({ url, poolSize: 4, log: (l) => idleErrors.push(l) }),
    await openPostgresBackend({ url, poolSize: 4, log: (l) => idleErrors.push(l) }),
  ];
  await stores[0]!.applyChanges(
    NAMES.map((name) => ({
      op: 'create',
      kind: 'Agent',
      name,
      labels: {},
      annotations: {},
      spec: { gen: 0 },
    })),
  );
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await cluster?.stop();
});

function batch(gen: number): ResourceChange[] {
  return NAMES.map((name) => ({
    op: 'update',
    kind: 'Agent',
    name,
    labels: {},
    annotations: {},
    spec: { gen },
  }));
}

it('a restart of PostgreSQL under load gives clients a clear retryable error and never half a batch', async () => {
  let gen = 0;
  let restarted = false;
  let okAfterRestart = 0;
  const failures: unknown[] = [];
  const deadline = Date.now() + 60_000;
  const worker = async (store: PostgresBackend) => {
    while (Date.now() < deadline && !(restarted && okAfterRestart >= 16)) {
      try {
        await store.applyChanges(batch(++gen));
        if (restarted) okAfterRestart++;
      } catch (err) {
        failures.push(err);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const load = Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => worker(stores[i % 2]!)));
  while (gen < 20) await new Promise((r) => setTimeout(r, 5));
  await cluster.restart();
  restarted = true;
  await load;

  expect(okAfterRestart).toBeGreaterThanOrEqual(16);
  expect(failures.length).toBeGreaterThan(0);
  for (const err of failures) {
    expect(err).toBeInstanceOf(StigmerError);
    const e = err as StigmerError;
    expect(e.code).toBe('UNAVAILABLE');
    expect(e.userFixable).toBe(true);
    expect(e.message).toMatch(/^the PostgreSQL database postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres /);
    expect(e.hint).toMatch(/try again|apply again/);
  }

  // All or nothing: every generation that reached the history reached it on all five agents.
  const byGen = new Map<number, number>();
  for (const name of NAMES) {
    const history = await stores[1]!.listVersions('Agent', name);
    expect(history.map((h) => h.version)).toEqual(history.map((_, i) => i + 1));
    for (const h of history)
      byGen.set(h.snapshot.spec.gen as number, (byGen.get(h.snapshot.spec.gen as number) ?? 0) + 1);
  }
  for (const [g, count] of byGen) expect({ g, count }).toEqual({ g, count: NAMES.length });
  const live = await stores[0]!.listAllResources('Agent');
  expect(new Set(live.map((r) => r.spec.gen)).size).toBe(1);
  expect(idleErrors.every((l) => !l.includes(new URL(cluster.url()).password))).toBe(true);
}, 120_000);
