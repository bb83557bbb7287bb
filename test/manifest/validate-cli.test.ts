/**
 * `stigmer validate` as a user runs it (the real CLI process over dist/): the default stack and
 * every example pass; each invalid fixture fails with exit 1, its diagnostics as
 * file:line:col, and no stack trace; stdin works with `-f -`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runStigmer, tempDir } from '../helpers/cli.js';

const home = tempDir('stigmer-validate-home-');
afterAll(() => home.cleanup());
const env = { STIGMER_HOME: home.path };
const validate = (args: string[], input?: string) =>
  runStigmer(['validate', ...args], { env, ...(input !== undefined ? { input } : {}) });

describe('stigmer validate', () => {
  it('accepts the default stack from ./manifests with no argument', async () => {
    const r = await validate([]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Success! 9 resources in 9 files valid.');
  });

  it('accepts every example stack', async () => {
    for (const dir of ['examples/support-desk', 'examples/secrets']) {
      const r = await validate([dir]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  const cases = readdirSync(join(repoRoot, 'test/fixtures/invalid')).sort();
  it('rejects every class of bad input with exit 1, file:line:col and no stack trace', async () => {
    for (const name of cases) {
      const dir = join('test/fixtures/invalid', name);
      const expected = JSON.parse(readFileSync(join(repoRoot, dir, 'expected.json'), 'utf8')) as Array<{
        file: string;
        line?: number;
      }>;
      const r = await validate([dir]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(1);
      for (const want of expected) {
        const where = `${join(dir, want.file)}:${want.line ?? ''}`;
        expect(r.stderr, name).toContain(where);
      }
      expect(r.stderr, name).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(r.stderr, name).not.toContain('internal error');
    }
  }, 300_000); // hang guard: one CLI run per fixture, on a machine that may be loaded

  it('reads standard input with -f -', async () => {
    const agent =
      'apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: bot\nspec:\n  instructions: Help users well.\n  colour: red\n';
    const r = await validate(['-f', '-'], agent);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('<stdin>:7:3: unknown field "colour" in spec');
  });

  it('a missing directory is one clear error', async () => {
    const r = await validate(['no-such-dir']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('no-such-dir');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
