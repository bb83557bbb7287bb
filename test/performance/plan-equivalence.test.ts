/**
 * The speed-ups never change a plan: the plan JSON of a generated stack (the benchmark's
 * generator, 300 resources) is the same with and without the parse cache, cold or warm, and on
 * one or two parse threads, and with the fast YAML path or the `yaml` library alone; both for
 * a plan of creates and, after an apply and an edit, for a plan of updates against stored
 * resources (whose specs the planner compares as stored text); and the errors of a broken
 * reference, whose file:line:col come from the positions the cache (or the fast path) records,
 * are the same from the cache as from a fresh parse, with or without the fast path.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStigmer, tempDir } from '../helpers/cli.js';

interface StackModule {
  writeStack(dir: string, n: number): void;
  reviseStack(dir: string, n: number, count: number, revision: number): void;
}

const N = 300;
let tmp: ReturnType<typeof tempDir>;
let home: string;
let stack: StackModule;

beforeAll(async () => {
  stack = (await import(new URL('../../bench/stack.mjs', import.meta.url).href)) as StackModule;
  tmp = tempDir('stigmer-plan-equivalence-');
  home = join(tmp.path, 'home');
  stack.writeStack(join(tmp.path, 'manifests'), N);
});
afterAll(() => tmp.cleanup());

const stigmer = (args: string[], env: Record<string, string> = {}) =>
  runStigmer(args, { cwd: tmp.path, env: { STIGMER_HOME: home, ...env } });

/** `plan --json` of the stack under `env`, after removing the cache when `cold`. */
async function planJson(env: Record<string, string>, cold: boolean): Promise<string> {
  if (cold) rmSync(join(home, 'cache'), { recursive: true, force: true });
  const result = await stigmer(['plan', 'manifests', '--json'], env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return result.stdout;
}

/** The plan under every combination of cache and threads: all must be the same text. */
async function everyVariant(): Promise<string> {
  const reference = await planJson({ STIGMER_NO_CACHE: '1', STIGMER_PARSE_THREADS: '1' }, false);
  const variants = {
    'no cache, two threads': await planJson({ STIGMER_NO_CACHE: '1', STIGMER_PARSE_THREADS: '2' }, false),
    'cold cache, two threads': await planJson({ STIGMER_PARSE_THREADS: '2' }, true),
    'warm cache': await planJson({ STIGMER_PARSE_THREADS: '2' }, false),
    'cold cache, one thread': await planJson({ STIGMER_PARSE_THREADS: '1' }, true),
    'the yaml library alone (no fast path), no cache': await planJson(
      { STIGMER_NO_CACHE: '1', STIGMER_PARSE_THREADS: '2', STIGMER_FAST_YAML: '0' },
      false,
    ),
  };
  for (const [name, text] of Object.entries(variants))
    expect({ name, text }).toEqual({ name, text: reference });
  return reference;
}

describe('plan JSON with and without the parse cache, on one or two threads', () => {
  it('is identical for creates and for updates of stored resources; so are the errors', async () => {
    expect((await stigmer(['init'])).code).toBe(0);
    const creates = JSON.parse(await everyVariant());
    expect(creates.summary).toMatchObject({ create: N, update: 0, delete: 0 });

    // Cold and on two threads: the worker's share of the parse works out the applied-hash of
    // its creates (src/manifest/links.ts, whose test checks every document's); a wrong one
    // would show as drift on the updates below.
    rmSync(join(home, 'cache'), { recursive: true, force: true });
    const applied = await stigmer(['apply', 'manifests', '--auto-approve'], { STIGMER_PARSE_THREADS: '2' });
    expect(applied.code).toBe(0);
    // Six resources get a new description (their files change); the rest stay as stored.
    stack.reviseStack(join(tmp.path, 'manifests'), N, 6, 1);
    const updates = JSON.parse(await everyVariant());
    expect(updates.summary).toMatchObject({ create: 0, update: 6, delete: 0, noop: N - 6 });
    expect(updates.changes.every((c: { action: string }) => c.action === 'update')).toBe(true);
    expect(updates.changes.filter((c: { drift: boolean }) => c.drift)).toEqual([]);

    writeFileSync(
      join(tmp.path, 'manifests', 'zz-broken.yaml'),
      'apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: broken\nspec:\n  instructions: Answer every question.\n  skillRefs:\n    - skill-00000\n    - no-such-skill\n',
    );
    const failures = [];
    for (const [env, cold] of [
      [{ STIGMER_NO_CACHE: '1', STIGMER_PARSE_THREADS: '1' }, false],
      [{ STIGMER_PARSE_THREADS: '2' }, true],
      [{ STIGMER_PARSE_THREADS: '2' }, false],
      [{ STIGMER_NO_CACHE: '1', STIGMER_FAST_YAML: '0' }, false],
    ] as const) {
      if (cold) rmSync(join(home, 'cache'), { recursive: true, force: true });
      const r = await stigmer(['plan', 'manifests'], env);
      failures.push({ code: r.code, stderr: r.stderr });
    }
    expect(failures[0]?.code).toBe(1);
    expect(failures[0]?.stderr).toContain('zz-broken.yaml:9:7');
    expect(failures[1]).toEqual(failures[0]);
    expect(failures[2]).toEqual(failures[0]);
    expect(failures[3]).toEqual(failures[0]);
  });
});
