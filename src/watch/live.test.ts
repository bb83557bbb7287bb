import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type LocalBackend, openLocalBackend } from '../backend/local/index.js';
import type { Backend } from '../backend/types.js';
import { IncrementalPlanner } from '../core/incremental.js';
import type { DesiredResource, StoredResource } from '../types.js';
import { ManifestCache } from './cache.js';
import { type CycleOptions, reconcileOptionsOf, runCycle } from './cycle.js';
import { LiveStateCache } from './live.js';

function skill(name: string, tag = 'v1'): string {
  return `apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata:
  name: ${name}
spec:
  tag: ${tag}
  skillMd: "# ${name}"
`;
}

let dir: string;
let root: string;
let backend: LocalBackend;
/** A second connection to the same database: "another process". */
let outside: LocalBackend;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stigmer-watch-live-'));
  root = join(dir, 'manifests');
  mkdirSync(root);
  backend = await openLocalBackend({ path: join(dir, 'local.db') });
  outside = await openLocalBackend({ path: join(dir, 'local.db') });
});
afterEach(async () => {
  await backend.close();
  await outside.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Every live resource of the cache's current view. */
const resources = async (cache: LiveStateCache): Promise<StoredResource[]> => [
  ...(await cache.view()).byKey.values(),
];
const names = (live: StoredResource[]) => live.map((r) => `${r.kind}/${r.name}@${r.version}`).sort();

describe('LocalBackend.stateToken', () => {
  it('stays the same for own writes and changes when another connection commits', async () => {
    const before = await backend.stateToken();
    await backend.applyChanges([
      { op: 'create', kind: 'Skill', name: 'own', labels: {}, annotations: {}, spec: { skillMd: 'x' } },
    ]);
    expect(await backend.stateToken()).toBe(before);
    await outside.applyChanges([
      { op: 'create', kind: 'Skill', name: 'theirs', labels: {}, annotations: {}, spec: { skillMd: 'y' } },
    ]);
    expect(await backend.stateToken()).not.toBe(before);
  });
});

describe('LiveStateCache', () => {
  it('reads once while nothing changes, and reads again after an outside commit', async () => {
    await backend.applyChanges([
      { op: 'create', kind: 'Skill', name: 'a', labels: {}, annotations: {}, spec: { skillMd: 'a' } },
    ]);
    const cache = new LiveStateCache(backend);
    expect(names(await resources(cache))).toEqual(['Skill/a@1']);
    expect(names(await resources(cache))).toEqual(['Skill/a@1']);
    expect(cache.fullReads).toBe(1);

    await outside.applyChanges([
      { op: 'update', kind: 'Skill', name: 'a', labels: {}, annotations: {}, spec: { skillMd: 'b' } },
    ]);
    const live = await resources(cache);
    expect(cache.fullReads).toBe(2);
    expect(names(live)).toEqual(['Skill/a@2']);
    expect(live[0]?.spec).toEqual({ skillMd: 'b' });
  });

  it('patches and logs what this session applied without a full read; an outside commit starts a new epoch', async () => {
    await backend.applyChanges([
      { op: 'create', kind: 'Skill', name: 'a', labels: {}, annotations: {}, spec: { skillMd: 'a' } },
      { op: 'create', kind: 'Skill', name: 'b', labels: {}, annotations: {}, spec: { skillMd: 'b' } },
    ]);
    const cache = new LiveStateCache(backend);
    const first = await cache.view();
    expect(first.log).toEqual([]);
    await backend.applyChanges([
      { op: 'update', kind: 'Skill', name: 'a', labels: {}, annotations: {}, spec: { skillMd: 'a2' } },
      { op: 'delete', kind: 'Skill', name: 'b' },
      { op: 'create', kind: 'Agent', name: 'c', labels: {}, annotations: {}, spec: { instructions: 'c' } },
    ]);
    await cache.applied([
      { kind: 'Skill', name: 'a' },
      { kind: 'Skill', name: 'b' },
      { kind: 'Agent', name: 'c' },
    ]);
    // The view logs this session's writes, in the same epoch.
    const second = await cache.view();
    expect(second.epoch).toBe(first.epoch);
    expect(second.log).toEqual([
      { key: 'Skill/a', change: 'updated' },
      { key: 'Skill/b', change: 'removed' },
      { key: 'Agent/c', change: 'added' },
    ]);
    const live = await resources(cache);
    expect(cache.fullReads).toBe(1);
    expect(names(live)).toEqual(['Agent/c@1', 'Skill/a@2']);
    // The patched copy equals a fresh read.
    const fresh = new LiveStateCache(backend);
    expect(names(await resources(fresh))).toEqual(names(live));

    // An outside commit: a full read, a new epoch, an empty log.
    await outside.applyChanges([
      { op: 'create', kind: 'Skill', name: 'd', labels: {}, annotations: {}, spec: { skillMd: 'd' } },
    ]);
    const third = await cache.view();
    expect(cache.fullReads).toBe(2);
    expect(third.epoch).not.toBe(first.epoch);
    expect(third.log).toEqual([]);
    expect([...third.byKey.keys()].sort()).toEqual(['Agent/c', 'Skill/a', 'Skill/d']);
  });

  it('reads every time from a backend without stateToken, and after invalidate', async () => {
    // The local backend with stateToken hidden, as a backend that cannot tell (cloud).
    const plain = new Proxy(backend, {
      get(target, prop) {
        if (prop === 'stateToken') return undefined;
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as Backend;
    expect(plain.stateToken).toBeUndefined();
    const cache = new LiveStateCache(plain);
    await resources(cache);
    await resources(cache);
    expect(cache.fullReads).toBe(2);

    const tokened = new LiveStateCache(backend);
    await resources(tokened);
    tokened.invalidate();
    await resources(tokened);
    expect(tokened.fullReads).toBe(2);
  });
});

/** Another process rewrites Skill `name` (keeping its ownership annotations). */
async function changeOutside(name: string): Promise<void> {
  const current = await outside.getResource('Skill', name);
  await outside.applyChanges([
    {
      op: 'update',
      kind: 'Skill',
      name,
      labels: {},
      annotations: current?.annotations ?? {},
      spec: { tag: 'v1', skillMd: '# changed outside' },
      expectedVersion: current?.version ?? 1,
    },
  ]);
}

describe('runCycle with a LiveStateCache', () => {
  async function setup(): Promise<CycleOptions & { planner: IncrementalPlanner }> {
    const cache = await ManifestCache.load('manifests', dir);
    const base = {
      backend,
      cache,
      cwd: dir,
      prune: false,
      message: 'stigmer watch',
      project: 'demo',
      live: new LiveStateCache(backend),
      noopMemo: new WeakMap<DesiredResource, StoredResource>(),
    };
    return { ...base, planner: new IncrementalPlanner(backend, reconcileOptionsOf(base)) };
  }

  it('restores a resource another process changed, at the next cycle', async () => {
    writeFileSync(join(root, 'a.yaml'), skill('a'));
    writeFileSync(join(root, 'b.yaml'), skill('b'));
    const options = await setup();
    expect((await runCycle(options, 1, [], true)).outcome).toBe('applied');
    // A no-op cycle fills the no-op memo with (document, live resource) pairs.
    writeFileSync(join(root, 'a.yaml'), skill('a'));
    expect((await runCycle(options, 2, [join(root, 'a.yaml')])).outcome).toBe('no-changes');

    await changeOutside('a');
    // Another file's edit starts the cycle; the outside change to a must still be seen and undone.
    writeFileSync(join(root, 'b.yaml'), skill('b', 'v2'));
    const report = await runCycle(options, 3, [join(root, 'b.yaml')]);
    expect(report.outcome).toBe('applied');
    expect(report.changes.map((c) => `${c.action} ${c.kind}/${c.name}`).sort()).toEqual([
      'update Skill/a',
      'update Skill/b',
    ]);
    // The outside commit started a new epoch of the live state: that cycle planned everything.
    expect(options.planner.counts).toEqual({ full: 2, incremental: 1 });
    expect(options.live?.fullReads).toBe(2);
    expect((await backend.getResource('Skill', 'a'))?.spec).toEqual({ tag: 'v1', skillMd: '# a' });
  });

  it('with a planner but no LiveStateCache, reads and plans in full every cycle', async () => {
    writeFileSync(join(root, 'a.yaml'), skill('a'));
    writeFileSync(join(root, 'b.yaml'), skill('b'));
    const { live: _kept, ...options } = await setup();
    expect((await runCycle(options, 1, [], true)).outcome).toBe('applied');
    writeFileSync(join(root, 'a.yaml'), skill('a', 'v2'));
    expect((await runCycle(options, 2, [join(root, 'a.yaml')])).outcome).toBe('applied');
    // Changed outside: without a kept live state nothing says so but a full read and plan.
    await changeOutside('b');
    writeFileSync(join(root, 'a.yaml'), skill('a', 'v3'));
    const report = await runCycle(options, 3, [join(root, 'a.yaml')]);
    expect(report.changes.map((c) => `${c.action} ${c.kind}/${c.name}`).sort()).toEqual([
      'update Skill/a',
      'update Skill/b',
    ]);
    expect(options.planner.counts).toEqual({ full: 3, incremental: 0 });
  });

  it('plans against what it applied itself: a second identical edit is a no-op', async () => {
    writeFileSync(join(root, 'a.yaml'), skill('a'));
    const options = await setup();
    await runCycle(options, 1, [], true);
    writeFileSync(join(root, 'a.yaml'), skill('a', 'v2'));
    expect((await runCycle(options, 2, [join(root, 'a.yaml')])).outcome).toBe('applied');
    writeFileSync(join(root, 'a.yaml'), skill('a', 'v2'));
    expect((await runCycle(options, 3, [join(root, 'a.yaml')])).outcome).toBe('no-changes');
    writeFileSync(join(root, 'a.yaml'), skill('a', 'v3'));
    const third = await runCycle(options, 4, [join(root, 'a.yaml')]);
    expect(third.outcome).toBe('applied');
    expect(options.live?.fullReads).toBe(1);
    expect((await backend.getResource('Skill', 'a'))?.version).toBe(3);
    // Only the first cycle planned everything; the others planned the edited file.
    expect(options.planner.counts).toEqual({ full: 1, incremental: 3 });
  });
});
