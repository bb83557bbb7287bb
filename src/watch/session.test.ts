import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import type { CycleReport } from './cycle.js';
import { createHumanPrinter } from './report.js';
import { startWatch, type WatchSession } from './session.js';
import { MemoryBackend } from './testing.js';

function skill(name: string, tag: string): string {
  return `apiVersion: agentic.stigmer.ai/v1\nkind: Skill\nmetadata:\n  name: ${name}\nspec:\n  tag: "${tag}"\n  skillMd: "# ${name}"\n`;
}

let cwd: string;
let root: string;
let backend: MemoryBackend;
let session: WatchSession | undefined;
let reports: CycleReport[];
let output: string;
let waiters: Array<() => void>;

const write = (rel: string, text: string): string => {
  const abs = join(root, rel);
  writeFileSync(abs, text);
  return abs;
};

/** Resolves with the first report after `after` cycles that satisfies `test`. */
async function cycleWhere(
  after: number,
  test: (r: CycleReport) => boolean,
  timeoutMs = 10_000,
): Promise<CycleReport> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = reports.slice(after).find(test);
    if (found) return found;
    if (Date.now() > deadline)
      throw new Error(`no matching cycle within ${timeoutMs} ms; output:\n${output}`);
    await new Promise<void>((resolve) => {
      waiters.push(resolve);
      setTimeout(resolve, 100);
    });
  }
}

async function start(prune: boolean): Promise<void> {
  session = await startWatch({
    secrets: { home: join(cwd, 'home'), env: {} },
    backend: backend.asBackend(),
    dir: 'manifests',
    cwd,
    project: 'demo',
    prune,
    debounceMs: 20,
    printer: createHumanPrinter({
      color: false,
      write: (t) => {
        output += t;
      },
    }),
    onCycle: (r) => {
      reports.push(r);
      for (const w of waiters.splice(0)) w();
    },
  });
}

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'stigmer-watch-session-'));
  root = join(cwd, 'manifests');
  mkdirSync(root);
  backend = new MemoryBackend();
  reports = [];
  output = '';
  waiters = [];
  write('a.yaml', skill('a', 'v1'));
  write('b.yaml', skill('b', 'v1'));
});
afterEach(async () => {
  await session?.stop();
  session = undefined;
  rmSync(cwd, { recursive: true, force: true });
});

describe('startWatch', () => {
  it('applies the directory, then each edit, atomic save and burst of saves', async () => {
    await start(false);
    expect(output.split('\n')[0]).toBe('Watching manifests (project demo) — press Ctrl-C to stop');
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({ outcome: 'applied', summary: { added: 2 } });

    write('a.yaml', skill('a', 'v2'));
    await cycleWhere(1, (r) => r.outcome === 'applied');
    expect(backend.skill('a')!.spec.tag).toBe('v2');

    // Atomic save: write a temp file, rename it over the manifest.
    let seen = reports.length;
    writeFileSync(join(root, 'a.yaml.tmp'), skill('a', 'v3'));
    renameSync(join(root, 'a.yaml.tmp'), join(root, 'a.yaml'));
    await cycleWhere(seen, (r) => r.outcome === 'applied');
    expect(backend.skill('a')!.spec.tag).toBe('v3');

    // Editor-style unlink then re-create: one change, never a deletion (prune is off anyway).
    seen = reports.length;
    const idBefore = backend.skill('a')!.id;
    rmSync(join(root, 'a.yaml'));
    write('a.yaml', skill('a', 'v4'));
    await cycleWhere(seen, (r) => r.outcome === 'applied');
    expect(backend.skill('a')).toMatchObject({ id: idBefore, spec: { tag: 'v4' } });

    seen = reports.length;
    for (let i = 0; i < 50; i++) write('a.yaml', skill('a', `burst-${i}`));
    await cycleWhere(seen, () => backend.skill('a')!.spec.tag === 'burst-49');
    expect(reports.length - seen).toBeLessThan(50);
    expect(output).toMatch(
      /^\[\d\d:\d\d:\d\d\] Apply complete! Resources: 0 added, 1 changed, 0 destroyed\.$/m,
    );
  });

  it('reports a broken file, applies nothing until it is fixed, and prunes only with prune on', async () => {
    await start(true);
    const batches = backend.batches.length;
    write('a.yaml', 'kind: Skill\nmetadata: [\n');
    const broken = await cycleWhere(1, (r) => r.outcome === 'invalid');
    expect(broken.diagnostics[0]).toMatchObject({ file: join('manifests', 'a.yaml') });
    expect(output).toMatch(/manifests[/\\]a\.yaml:\d+:\d+: /);
    expect(output).toMatch(/\] 1 errors?; nothing applied \(last good state kept\)/);
    expect(backend.batches).toHaveLength(batches);

    let seen = reports.length;
    write('a.yaml', skill('a', 'fixed'));
    await cycleWhere(seen, (r) => r.outcome === 'applied');
    expect(backend.skill('a')!.spec.tag).toBe('fixed');

    seen = reports.length;
    rmSync(join(root, 'b.yaml'));
    const pruned = await cycleWhere(seen, (r) => r.outcome === 'applied');
    expect(pruned.summary).toEqual({ added: 0, changed: 0, destroyed: 1 });
    expect(backend.skill('b')).toBeUndefined();
  });

  it('retries a cycle that failed in the backend without waiting for an edit', async () => {
    backend.failures.push(new StigmerError('BUSY', 'database is locked', { hint: 'retry' }));
    await start(false);
    expect(reports[0]).toMatchObject({ outcome: 'failed', error: { code: 'BUSY' } });
    expect(output).toContain('Apply failed: database is locked; nothing applied (last good state kept)');
    expect(output).toContain('retrying in 2 s, or at the next change');
    const retried = await cycleWhere(1, (r) => r.outcome === 'applied');
    expect(retried.summary).toEqual({ added: 2, changed: 0, destroyed: 0 });
    expect(backend.skill('a')).toBeDefined();
  });

  it('applies again when a secret file that an Environment reads changes, never printing its value', async () => {
    mkdirSync(join(root, 'secrets'));
    write('secrets/token.txt', 'first-canary-value\n');
    write(
      'env.yaml',
      'apiVersion: agentic.stigmer.ai/v1\nkind: Environment\nmetadata:\n  name: e\nspec:\n  data:\n' +
        '    TOKEN:\n      valueFrom: {file: secrets/token.txt}\n      isSecret: true\n',
    );
    await start(false);
    expect(reports[0]).toMatchObject({ outcome: 'applied', summary: { added: 3 } });
    write('secrets/token.txt', 'second-canary-value\n');
    const changed = await cycleWhere(1, (r) => r.outcome === 'applied');
    expect(changed.files).toEqual([join('manifests', 'secrets', 'token.txt')]);
    expect(changed.changes).toEqual([{ action: 'update', kind: 'Environment', name: 'e' }]);
    expect(output).not.toContain('canary');
    expect(JSON.stringify(backend.resources.get('Environment/e'))).not.toContain('canary');
  });

  it('stop() closes the watcher: later edits start no cycle', async () => {
    await start(false);
    await session!.stop();
    write('a.yaml', skill('a', 'after-stop'));
    await new Promise((r) => setTimeout(r, 300));
    expect(reports).toHaveLength(1);
    expect(backend.skill('a')!.spec.tag).toBe('v1');
  });

  it('refuses a directory that does not exist, or a file', async () => {
    await expect(
      startWatch({
        backend: backend.asBackend(),
        dir: 'nope',
        cwd,
        prune: false,
        debounceMs: 0,
        printer: createHumanPrinter({ color: false, write: () => {} }),
      }),
    ).rejects.toMatchObject({ code: 'LOAD', message: 'manifest directory "nope" does not exist' });
    await expect(
      startWatch({
        backend: backend.asBackend(),
        dir: join('manifests', 'a.yaml'),
        cwd,
        prune: false,
        debounceMs: 0,
        printer: createHumanPrinter({ color: false, write: () => {} }),
      }),
    ).rejects.toMatchObject({ code: 'USAGE' });
  });
});
