/**
 * Concurrent applies against one SQLite database (issue 6, docs/reliability.md), through the
 * real CLI process: several `stigmer apply` at once, for different projects and for the same
 * one; a write lock held past `--lock-timeout`; a saved plan made stale by another apply.
 * No raw SQLITE_BUSY ever reaches the user, no update is lost, a stale plan changes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type CliResult, runStigmer, tempDir } from '../helpers/cli.js';

let tmp: { path: string; cleanup: () => void };
let db: string;
beforeEach(() => {
  tmp = tempDir('stigmer-concurrency-');
  db = join(tmp.path, 'state.db');
});
afterEach(() => tmp.cleanup());

const env = () => ({ STIGMER_HOME: join(tmp.path, 'home') });
const stigmer = (args: string[]) => runStigmer([...args, '--db', db], { env: env(), timeoutMs: 60_000 });

/** Writes a stack of `count` Skills and Agents named after the project into a new directory. */
function writeStack(project: string, count: number, version = 'v1'): string {
  const dir = join(tmp.path, `${project}-${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stigmer.yaml'), `project: ${project}\n`);
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    docs.push(
      `apiVersion: agentic.stigmer.ai/v1\nkind: Skill\nmetadata:\n  name: ${project}-skill-${i}\nspec:\n  skillMd: "# ${version}"\n`,
      `apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: ${project}-agent-${i}\nspec:\n  instructions: Agent ${i} of ${project}, ${version}.\n  skillRefs: [${project}-skill-${i}]\n`,
    );
  }
  writeFileSync(join(dir, 'stack.yaml'), docs.join('---\n'));
  return dir;
}

/** (kind, name, spec) of every declared resource in the database, sorted. */
function stateRows(): string[] {
  const conn = new Database(db, { readonly: true });
  try {
    const rows: string[] = [];
    for (const [kind, table] of [
      ['Skill', 'skills'],
      ['Agent', 'agents'],
    ] as const) {
      for (const r of conn.prepare(`SELECT name, spec FROM ${table} ORDER BY name`).all() as Array<{
        name: string;
        spec: string;
      }>) {
        rows.push(`${kind}/${r.name} ${r.spec}`);
      }
    }
    return rows.sort();
  } finally {
    conn.close();
  }
}

/** A failure the user can read: one StigmerError line, no raw SQLite code, no stack trace. */
function expectCleanOutcome(r: CliResult): void {
  expect(r.stderr).not.toContain('SQLITE_BUSY');
  expect(r.stderr).not.toMatch(/^database is locked/m);
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  if (r.code !== 0) {
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Error: .+/);
  }
}

describe('concurrent applies', () => {
  it('four projects at once: all succeed, the final state is the union of the four', async () => {
    // Create the database first, so the four processes race on applies, not on migrations.
    expect((await stigmer(['apply', writeStack('seed', 1), '--auto-approve'])).code).toBe(0);
    const projects = ['alpha', 'beta', 'gamma', 'delta'];
    const dirs = projects.map((p) => writeStack(p, 30));
    const results = await Promise.all(
      dirs.map((dir) => stigmer(['apply', dir, '--auto-approve', '--lock-timeout', '30000'])),
    );
    for (const r of results) {
      expectCleanOutcome(r);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 60 added, 0 changed, 0 destroyed.');
    }
    const rows = stateRows();
    expect(rows).toHaveLength(2 + 4 * 60);
    for (const p of projects) {
      expect(rows.filter((r) => r.startsWith(`Skill/${p}-`))).toHaveLength(30);
      expect(rows.filter((r) => r.startsWith(`Agent/${p}-`))).toHaveLength(30);
    }
    for (const dir of dirs) expect((await stigmer(['plan', dir, '--detailed-exitcode'])).code).toBe(0);
  });

  it('four applies of the same directory at once: each succeeds or fails clearly, and the result converges', async () => {
    expect((await stigmer(['apply', writeStack('seed', 1), '--auto-approve'])).code).toBe(0);
    const dir = writeStack('shared', 30);
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => stigmer(['apply', dir, '--auto-approve', '--lock-timeout', '30000'])),
    );
    for (const r of results) expectCleanOutcome(r);
    const succeeded = results.filter((r) => r.code === 0);
    expect(succeeded.length).toBeGreaterThanOrEqual(1);
    // Losers planned against the state before the winner's commit: their creates conflict.
    for (const r of results.filter((x) => x.code !== 0))
      expect(r.stderr).toMatch(/conflict on (Skill|Agent)\/shared-/);
    expect(stateRows()).toHaveLength(2 + 60);
    expect((await stigmer(['plan', dir, '--detailed-exitcode'])).code).toBe(0);
  });

  it('waits for a write lock held by another process, and fails clearly past --lock-timeout', async () => {
    expect((await stigmer(['apply', writeStack('seed', 1), '--auto-approve'])).code).toBe(0);
    const dir = writeStack('locked', 3);
    const before = stateRows();
    const holder = new Database(db);
    holder.prepare('BEGIN IMMEDIATE').run();
    try {
      const r = await stigmer(['apply', dir, '--auto-approve', '--lock-timeout', '1']);
      expectCleanOutcome(r);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('locked');
      expect(r.stderr).toContain('--lock-timeout');
      expect(stateRows()).toEqual(before);

      // With a longer timeout, the apply waits for the lock and then goes through.
      const waiting = stigmer(['apply', dir, '--auto-approve', '--lock-timeout', '20000']);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      holder.prepare('ROLLBACK').run();
      const waited = await waiting;
      expectCleanOutcome(waited);
      expect(waited.code, waited.stderr).toBe(0);
      expect(stateRows()).toHaveLength(before.length + 6);
    } finally {
      if (holder.inTransaction) holder.prepare('ROLLBACK').run();
      holder.close();
    }
  });

  it('refuses a saved plan made stale by another apply, and changes nothing', async () => {
    const v1 = writeStack('stale', 5, 'v1');
    const v2 = writeStack('stale', 5, 'v2');
    const v3 = writeStack('stale', 5, 'v3');
    expect((await stigmer(['apply', v1, '--auto-approve'])).code).toBe(0);
    const planFile = join(tmp.path, 'v2.plan.json');
    const planned = await stigmer(['plan', v2, '--out', planFile]);
    expect(planned.code, planned.stderr).toBe(0);
    // Someone else applies v3 in between.
    expect((await stigmer(['apply', v3, '--auto-approve'])).code).toBe(0);
    const before = stateRows();
    const r = await stigmer(['apply', planFile, '--auto-approve']);
    expectCleanOutcome(r);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('saved plan is stale');
    expect(stateRows()).toEqual(before);
    expect(before.every((row) => !row.includes('v2'))).toBe(true);
  });
});
