/**
 * The no-op memo of `stigmer plan` (src/core/noop-memo.ts), through the real CLI process and a
 * real SQLite file: a second no-op plan of unchanged manifests and state is the memo's, and
 * everything a plan depends on makes it run in full again: a manifest's bytes, stigmer.yaml,
 * the flags, STIGMER_NO_CACHE, and the stored rows however they were changed (SQL from outside
 * included). Whether a run used the memo is seen by planting a marker in it: a reused memo
 * prints the marker, a full plan never does.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openLocalBackend } from '../../src/backend/local/index.js';
import { readLiveState } from '../../src/core/reconcile.js';
import { agentYaml, makeStack } from '../reconcile/stack.js';

const MARKER = 4242;

const ENVIRONMENT = [
  'apiVersion: agentic.stigmer.ai/v1',
  'kind: Environment',
  'metadata:',
  '  name: plain-env',
  'spec:',
  '  data:',
  '    REGION:',
  '      value: eu-west-1',
  '',
].join('\n');

describe('no-op memo of stigmer plan (local backend)', () => {
  const stack = makeStack();
  afterAll(() => stack.cleanup());
  const memoDir = () => join(stack.home, 'cache', 'plan');
  const memoFiles = (): string[] => {
    try {
      return readdirSync(memoDir()).filter((f) => f.endsWith('.json'));
    } catch {
      return [];
    }
  };
  /** Plants MARKER as the memo's noop count; a plan that reuses the memo prints it. */
  const plant = (): void => {
    const files = memoFiles();
    expect(files).toHaveLength(1);
    const path = join(memoDir(), files[0] as string);
    const memo = JSON.parse(readFileSync(path, 'utf8'));
    memo.plan.summary.noop = MARKER;
    writeFileSync(path, JSON.stringify(memo));
  };
  const planJson = async (args: string[] = [], env?: Record<string, string>) => {
    const r = await stack.run(['plan', '--json', ...args], env ? { env } : {});
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  };
  const sql = (statement: string): void => {
    const d = new Database(stack.db);
    try {
      d.prepare(statement).run();
    } finally {
      d.close();
    }
  };

  beforeEach(async () => {
    stack.write('manifests/stigmer.yaml', 'project: memo\n');
    stack.write('manifests/agents.yaml', `${agentYaml('alpha')}---\n${agentYaml('beta')}`);
    stack.write('manifests/env.yaml', ENVIRONMENT);
    const applied = await stack.run(['apply', '--auto-approve']);
    expect(applied.code, applied.stderr).toBe(0);
    // A full no-op plan writes the memo (the last test's is removed first).
    rmSync(memoDir(), { recursive: true, force: true });
    const plan = await planJson();
    expect(plan.changes).toEqual([]);
    expect(plan.summary.noop).toBe(3);
    plant();
  });

  it('a second no-op plan of the same manifests and state is the memo', async () => {
    expect((await planJson()).summary.noop).toBe(MARKER);
    const text = await stack.run(['plan']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('No changes');
  });

  it('its JSON is the full plan’s, less the versions a saved plan needs', async () => {
    const memo = await planJson();
    const full = await planJson([], { STIGMER_NO_CACHE: '1' });
    expect({ ...memo, summary: { ...memo.summary, noop: 3 } }).toEqual(full);
  });

  it('a change to a stored row made with SQL from outside is planned (drift)', async () => {
    sql(`UPDATE agents SET spec = '{"instructions":"edited by hand"}' WHERE name = 'alpha'`);
    const plan = await planJson();
    expect(plan.summary.noop).toBe(2);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'update', kind: 'Agent', name: 'alpha', drift: true });
  });

  it('a row deleted with SQL from outside is planned again', async () => {
    sql(`DELETE FROM agents WHERE name = 'beta'`);
    const plan = await planJson();
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'create', kind: 'Agent', name: 'beta' });
  });

  it('a change of a timestamp or a label made from outside is enough to plan in full', async () => {
    sql(`UPDATE agents SET updated_at = '2020-01-01T00:00:00.000Z' WHERE name = 'alpha'`);
    expect((await planJson()).summary.noop).toBe(3);
  });

  it('an edited manifest is planned', async () => {
    stack.write(
      'manifests/agents.yaml',
      `${agentYaml('alpha', 'New instructions.')}---\n${agentYaml('beta')}`,
    );
    const plan = await planJson();
    expect(plan.changes.map((c: { action: string; name: string }) => `${c.action} ${c.name}`)).toEqual([
      'update alpha',
    ]);
  });

  it('a new file, the same bytes under another name, or stigmer.yaml changed: planned in full', async () => {
    stack.write('manifests/more.yaml', agentYaml('gamma'));
    expect((await planJson()).summary.create).toBe(1);
    // Back to the files and rows the memo was made of: the memo holds again.
    stack.remove('manifests/more.yaml');
    expect((await planJson()).summary.noop).toBe(MARKER);
    const bytes = stack.read('manifests/agents.yaml');
    stack.remove('manifests/agents.yaml');
    stack.write('manifests/renamed.yaml', bytes);
    expect((await planJson()).summary.noop).toBe(3);
    stack.remove('manifests/renamed.yaml');
    stack.write('manifests/agents.yaml', bytes);
    expect((await planJson()).summary.noop).toBe(3);
    plant();
    stack.write('manifests/stigmer.yaml', 'project: memo2\n');
    // Another project: the resources belong to "memo", so the full plan refuses to take them.
    const r = await stack.run(['plan', '--json']);
    expect(r.stdout).not.toContain(String(MARKER));
    expect(`${r.stdout}${r.stderr}`).toContain('memo2');
  });

  it('other flags, STIGMER_NO_CACHE and --out plan in full', async () => {
    for (const args of [['--no-prune'], ['--allow-empty'], ['--project', 'memo']]) {
      expect((await planJson(args)).summary.noop, args.join(' ')).toBe(3);
    }
    expect((await planJson([], { STIGMER_NO_CACHE: '1' })).summary.noop).toBe(3);
    const saved = await stack.run(['plan', '--json', '--out', 'saved.json']);
    expect(saved.code, saved.stderr).toBe(0);
    expect(JSON.parse(saved.stdout).summary.noop).toBe(3);
    // One memo per manifest root: the last no-op plan's (here with --project).
    expect((await planJson()).summary.noop).toBe(3);
    plant();
    expect((await planJson()).summary.noop).toBe(MARKER);
  });

  it('a store changed through stigmer (delete) is planned', async () => {
    const r = await stack.run(['delete', 'agent', 'alpha']);
    expect(r.code, r.stderr).toBe(0);
    expect((await planJson()).summary.create).toBe(1);
  });

  it('an Environment with a secret, or a Skill with skillMdFile, is never memoised', async () => {
    const secret = ENVIRONMENT.replace(
      '      value: eu-west-1',
      '      valueFrom:\n        env: MEMO_REGION',
    );
    stack.write('manifests/env.yaml', secret);
    const env = { MEMO_REGION: 'eu-west-2' };
    const first = await stack.run(['plan', '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    // Planned in full (the value changed), and no memo of this state is written.
    expect(JSON.parse(first.stdout).summary.update).toBe(1);
    const applied = await stack.run(['apply', '--auto-approve'], { env });
    expect(applied.code, applied.stderr).toBe(0);
    const before = readFileSync(join(memoDir(), memoFiles()[0] as string), 'utf8');
    expect(JSON.parse((await stack.run(['plan', '--json'], { env })).stdout).summary.noop).toBe(3);
    expect(readFileSync(join(memoDir(), memoFiles()[0] as string), 'utf8')).toBe(before);
    // The variable it reads changed: planned, although no file and no row did.
    const changed = await stack.run(['plan', '--json'], { env: { MEMO_REGION: 'us-east-1' } });
    expect(JSON.parse(changed.stdout).summary.update).toBe(1);
  });
});

describe('Backend.resourcesDigest (local)', () => {
  it('equals the digest of a bulk read, and changes with any column of any row', async () => {
    const stack = makeStack();
    try {
      stack.write(
        'manifests/agents.yaml',
        `${agentYaml('a-1', 'Ünïcödé instructions ✓')}---\n${agentYaml('a-2')}`,
      );
      const applied = await stack.run(['apply', 'manifests', '--auto-approve', '--project', 'digest']);
      expect(applied.code, applied.stderr).toBe(0);
      const digestNow = async (): Promise<[string, string | undefined]> => {
        const backend = await openLocalBackend({ path: stack.db });
        try {
          let read: string | undefined;
          await readLiveState(backend, undefined, (d) => {
            read = d;
          });
          return [await backend.resourcesDigest(), read];
        } finally {
          await backend.close();
        }
      };
      const [first, firstRead] = await digestNow();
      expect(firstRead).toBe(first);
      const seen = new Set([first]);
      for (const statement of [
        `UPDATE agents SET labels = '{"x":"1"}' WHERE name = 'a-1'`,
        `UPDATE agents SET status = '{"phase":"x"}' WHERE name = 'a-2'`,
        `UPDATE agents SET version = 7 WHERE name = 'a-2'`,
        `DELETE FROM agents WHERE name = 'a-1'`,
      ]) {
        const d = new Database(stack.db);
        d.prepare(statement).run();
        d.close();
        const [digest, read] = await digestNow();
        expect(read, statement).toBe(digest);
        expect(seen.has(digest), statement).toBe(false);
        seen.add(digest);
      }
    } finally {
      await stack.cleanup();
    }
  });
});
