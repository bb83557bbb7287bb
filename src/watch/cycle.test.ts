import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, StigmerError } from '../errors.js';
import { ManifestCache } from './cache.js';
import { type CycleOptions, runCycle } from './cycle.js';
import { MemoryBackend } from './testing.js';

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

let cwd: string;
let root: string;
let backend: MemoryBackend;
let cycle = 0;
const path = (rel: string): string => join(root, rel);
const write = (rel: string, text: string): string => {
  writeFileSync(path(rel), text);
  return path(rel);
};

async function setup(prune: boolean): Promise<CycleOptions> {
  const cache = await ManifestCache.load('manifests', cwd);
  return { backend: backend.asBackend(), cache, prune, message: 'stigmer watch', project: 'demo' };
}

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'stigmer-watch-cycle-'));
  root = join(cwd, 'manifests');
  mkdirSync(root);
  backend = new MemoryBackend();
  cycle = 0;
  write('a.yaml', skill('a'));
  write('b.yaml', skill('b'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

describe('runCycle', () => {
  it('applies everything first, then only what changed, with the watch message', async () => {
    const options = await setup(false);
    const first = await runCycle(options, ++cycle, [], true);
    expect(first).toMatchObject({
      cycle: 1,
      outcome: 'applied',
      project: 'demo',
      summary: { added: 2, changed: 0, destroyed: 0 },
    });
    expect(first.files).toEqual([join('manifests', 'a.yaml'), join('manifests', 'b.yaml')]);
    expect(backend.batches[0]!.message).toBe('stigmer watch');

    expect(await runCycle(options, ++cycle, [path('a.yaml')])).toMatchObject({ outcome: 'no-changes' });
    const a = write('a.yaml', skill('a', 'v2'));
    const second = await runCycle(options, ++cycle, [a]);
    expect(second).toMatchObject({
      outcome: 'applied',
      files: [join('manifests', 'a.yaml')],
      summary: { added: 0, changed: 1, destroyed: 0 },
      changes: [{ action: 'update', kind: 'Skill', name: 'a' }],
    });
    expect(backend.skill('a')!.spec.tag).toBe('v2');
  });

  it('keeps the resources of a removed file unless prune is on', async () => {
    const options = await setup(false);
    await runCycle(options, ++cycle, [], true);
    rmSync(path('b.yaml'));
    expect(await runCycle(options, ++cycle, [path('b.yaml')])).toMatchObject({ outcome: 'no-changes' });
    expect(backend.skill('b')).toBeDefined();

    const pruning = { ...options, prune: true };
    expect(await runCycle(pruning, ++cycle, [])).toMatchObject({
      outcome: 'applied',
      summary: { added: 0, changed: 0, destroyed: 1 },
    });
    expect(backend.skill('b')).toBeUndefined();
  });

  it('applies nothing, and prunes nothing, in a cycle with a broken file', async () => {
    const options = await setup(true);
    await runCycle(options, ++cycle, [], true);
    const batches = backend.batches.length;
    const a = write('a.yaml', 'apiVersion: agentic.stigmer.ai/v1\nkind: Skill\nmetadata: {name: a\n');
    rmSync(path('b.yaml'));
    const broken = await runCycle(options, ++cycle, [a, path('b.yaml')]);
    expect(broken.outcome).toBe('invalid');
    expect(broken.diagnostics.length).toBeGreaterThan(0);
    expect(broken.diagnostics[0]).toMatchObject({ severity: 'error', file: join('manifests', 'a.yaml') });
    expect(broken.summary).toEqual({ added: 0, changed: 0, destroyed: 0 });
    expect(backend.batches).toHaveLength(batches);
    expect(backend.skill('a')).toBeDefined();
    expect(backend.skill('b')).toBeDefined();

    write('a.yaml', skill('a', 'v3'));
    const fixed = await runCycle(options, ++cycle, [a]);
    expect(fixed).toMatchObject({ outcome: 'applied', summary: { added: 0, changed: 1, destroyed: 1 } });
    expect(backend.skill('a')!.spec.tag).toBe('v3');
    expect(backend.skill('b')).toBeUndefined();
  });

  it('reports plan errors (an empty set with prune) without applying', async () => {
    const options = await setup(true);
    await runCycle(options, ++cycle, [], true);
    rmSync(path('a.yaml'));
    rmSync(path('b.yaml'));
    const report = await runCycle(options, ++cycle, [path('a.yaml'), path('b.yaml')]);
    expect(report.outcome).toBe('invalid');
    expect(report.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    expect(backend.skill('a')).toBeDefined();
  });

  it('reads a file again when it changed while the cycle read it (a save in progress)', async () => {
    const options = await setup(true);
    await runCycle(options, ++cycle, [], true);
    // The save truncated the file when the cycle read it, and finished while it planned.
    const a = write('a.yaml', '');
    backend.beforeNextList = () => write('a.yaml', skill('a', 'complete'));
    const report = await runCycle(options, ++cycle, [a]);
    expect(report).toMatchObject({ outcome: 'applied', summary: { added: 0, changed: 1, destroyed: 0 } });
    expect(backend.skill('a')!.spec.tag).toBe('complete');
    expect(backend.batches.flatMap((b) => b.changes).some((c) => c.op === 'delete')).toBe(false);
  });

  it('plans again when another writer won the race, and reports other apply failures', async () => {
    const options = await setup(false);
    backend.failures.push(new ConflictError('Skill', 'a', null, 1));
    expect(await runCycle(options, ++cycle, [], true)).toMatchObject({ outcome: 'applied' });
    expect(backend.skill('a')).toBeDefined();

    write('a.yaml', skill('a', 'v9'));
    backend.failures.push(new StigmerError('BUSY', 'database is locked', { hint: 'retry' }));
    const failed = await runCycle(options, ++cycle, [path('a.yaml')]);
    expect(failed).toMatchObject({
      outcome: 'failed',
      error: { code: 'BUSY', message: 'database is locked', hint: 'retry' },
    });
    expect(backend.skill('a')!.spec.tag).toBe('v1');
    // Nothing is lost: the next cycle, whatever starts it, applies the file's current content.
    expect(await runCycle(options, ++cycle, [])).toMatchObject({ outcome: 'applied' });
    expect(backend.skill('a')!.spec.tag).toBe('v9');
  });
});
