/**
 * Bad input never reaches the backend. For each class of invalid manifests (the fixtures in
 * test/fixtures/invalid), `plan --json` and `apply --auto-approve` exit 1, name file:line, show
 * no stack trace, and leave the database exactly as it was — even though the project already
 * owns resources that a careless prune would delete. A database locked by another writer is a
 * clean exit 1 too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { agentYaml, makeStack, STACK_FRAME } from './stack.js';

const CLASSES = [
  'unknown-field',
  'unknown-kind',
  'bad-name',
  'duplicate',
  'dangling-ref',
  'cycle',
  'bad-expressions',
  'missing-required',
  'yaml-syntax',
  'alias-bomb',
];

/** expected.json of a fixture; `line` is absent where the exact line is not the point. */
interface Expected {
  file: string;
  line?: number;
  message: string;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const stack = makeStack();
afterAll(() => stack.cleanup());

beforeAll(async () => {
  stack.write('manifests/bot.yaml', agentYaml('victim-bot'));
  const r = await stack.run(['apply', '--project', 'victim', '--auto-approve']);
  expect(r.code, r.stderr).toBe(0);
  expect(stack.rows()).toHaveLength(1);
  baseline = stack.snapshot();
});

/** The database as it was before any bad input was tried; no run may change it. */
let baseline = '';

// The runs only read the database, so they may run side by side (each is a separate process).
describe.concurrent.each(CLASSES)('invalid input: %s', (name) => {
  const dir = join('test/fixtures/invalid', name);
  const expected = JSON.parse(readFileSync(join(repoRoot, dir, 'expected.json'), 'utf8')) as Expected[];

  it('apply exits 1 with file:line, no stack trace, and writes nothing', async ({ expect }) => {
    const started = Date.now();
    const r = await stack.run(['apply', dir, '--project', 'victim', '--auto-approve'], { cwd: repoRoot });
    // A hang guard, not a benchmark (a loaded CI machine runs these side by side).
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    for (const want of expected) {
      const line = want.line === undefined ? '[1-9]\\d*' : String(want.line);
      expect(r.stderr).toMatch(new RegExp(`^${escapeRegExp(join(dir, want.file))}:${line}:\\d+: `, 'm'));
      // Messages in expected.json name other files relative to the fixture directory.
      expect(r.stderr.replaceAll(`${dir}/`, '')).toContain(want.message);
    }
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stdout).not.toContain('Apply complete!');
    expect(stack.snapshot()).toBe(baseline);
  });

  it('plan --json prints the diagnostics as JSON and exits 1', async ({ expect }) => {
    const r = await stack.run(['plan', dir, '--json', '--project', 'victim'], { cwd: repoRoot });
    expect(r.code, r.stderr).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.formatVersion).toBe(1);
    expect(out.project).toBe('victim');
    expect(out.backend).toEqual({ type: 'local', location: stack.db });
    expect(out.summary).toEqual({ create: 0, update: 0, delete: 0, noop: 0 });
    expect(out.changes).toEqual([]);
    expect(out.diagnostics.length).toBeGreaterThan(0);
    for (const want of expected) {
      expect(out.diagnostics).toContainEqual(
        expect.objectContaining({
          severity: 'error',
          file: join(dir, want.file),
          line: want.line ?? expect.any(Number),
        }),
      );
    }
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(stack.snapshot()).toBe(baseline);
  });
});

describe('invalid input in the default directory', () => {
  // The file that defines the applied victim-bot breaks: skipping it would prune victim-bot.
  const broken = {
    'YAML syntax error': Buffer.from(
      'apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: victim-bot\nspec:\n  instructions: "unterminated\n',
    ),
    'binary file': Buffer.from([0x00, 0xff, 0xfe, 0x00, 0x80, 0x81, 0x0a]),
  };
  it.each(Object.entries(broken))(
    '%s: validate, plan and apply refuse it; nothing is pruned',
    async (_, bytes) => {
      const good = stack.read('manifests/bot.yaml');
      stack.write('manifests/bot.yaml', bytes);
      try {
        const commands = [
          ['validate'],
          ['plan', '--project', 'victim'],
          ['apply', '--project', 'victim', '--auto-approve'],
        ];
        // None of them may write, so they run side by side.
        const results = await Promise.all(commands.map((args) => stack.run(args)));
        results.forEach((r, i) => {
          expect(r.code, commands[i]!.join(' ')).toBe(1);
          expect(r.stderr).toMatch(/^manifests\/bot\.yaml:\d+:\d+: /m);
          expect(r.stderr).not.toMatch(STACK_FRAME);
          expect(r.stdout).not.toContain('will be destroyed');
        });
        expect(stack.snapshot()).toBe(baseline);
      } finally {
        stack.write('manifests/bot.yaml', good);
      }
    },
  );
});

describe('apply --json with invalid input', () => {
  it('prints the diagnostics as JSON on stdout and exits 1', async () => {
    const dir = 'test/fixtures/invalid/cycle';
    const r = await stack.run(['apply', dir, '--json', '--auto-approve', '--project', 'victim'], {
      cwd: repoRoot,
    });
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ formatVersion: 1, project: 'victim', changes: [] });
    expect(out.diagnostics).toContainEqual(
      expect.objectContaining({ severity: 'error', file: `${dir}/flow.yaml`, line: 12 }),
    );
    expect(out.applied).toBeUndefined();
    expect(stack.snapshot()).toBe(baseline);
  });
});

describe('a backend error', () => {
  it('a database locked by another writer fails apply cleanly after --lock-timeout; nothing written', async () => {
    stack.write('manifests/other.yaml', agentYaml('other-bot'));
    const holder = new Database(stack.db);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const r = await stack.run(['apply', '--project', 'victim', '--auto-approve', '--lock-timeout', '200']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is locked by another writer');
      expect(r.stderr).toContain('--lock-timeout');
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(r.stdout).not.toContain('Apply complete!');
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    expect(stack.snapshot()).toBe(baseline);
    stack.remove('manifests/other.yaml');
  });
});
