/**
 * `stigmer watch` as a user runs it: the real CLI process on a temp manifest directory and a
 * temp SQLite database, driven by editing files the ways editors do. After each step the test
 * waits for the cycle's printed summary and checks the database (opened read-only). Everything
 * runs on the local backend and on the cloud backend, against a real `stigmer server` process
 * serving that database.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, cleanEnv, runStigmer, tempDir } from '../helpers/cli.js';
import { type ServerProcess, startServer } from '../helpers/server.js';
import { BACKENDS } from '../reconcile/stack.js';

interface Row {
  id: string;
  name: string;
  version: number;
  spec: Record<string, unknown>;
  annotations: Record<string, string>;
}

const SUMMARY = /^\[\d\d:\d\d:\d\d\] .*$/gm;
const STEP_TIMEOUT_MS = 15_000;

describe.each(BACKENDS)('%s backend', (backend) => {
  let tmp: ReturnType<typeof tempDir>;
  let dbPath: string;
  /** Cloud: one server per database, started when first used. */
  const servers = new Map<string, Promise<ServerProcess>>();
  /** Arguments and environment that make a CLI process use the backend holding `db`. */
  async function backendOf(db: string): Promise<{ args: string[]; env: Record<string, string> }> {
    if (backend === 'local') return { args: ['--db', db], env: {} };
    let server = servers.get(db);
    if (!server) {
      server = startServer({ db });
      servers.set(db, server);
    }
    const s = await server;
    return { args: [], env: { STIGMER_BACKEND: 'cloud', STIGMER_ENDPOINT: s.url, STIGMER_TOKEN: s.token } };
  }
  const manifest = (rel: string): string => join(tmp.path, 'manifests', rel);

  function skill(name: string, tag: string): string {
    return [
      'apiVersion: agentic.stigmer.ai/v1',
      'kind: Skill',
      'metadata:',
      `  name: ${name}`,
      'spec:',
      `  tag: ${tag}`,
      `  skillMd: "# ${name}"`,
      '',
    ].join('\n');
  }

  function agent(name: string, skillRef: string): string {
    return [
      'apiVersion: agentic.stigmer.ai/v1',
      'kind: Agent',
      'metadata:',
      `  name: ${name}`,
      'spec:',
      '  instructions: You help people with their questions.',
      '  skillRefs:',
      `    - ${skillRef}`,
      '',
    ].join('\n');
  }

  function rows(table: 'skills' | 'agents', path = dbPath): Map<string, Row> {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      const raw = db.prepare(`SELECT id, name, version, spec, annotations FROM ${table}`).all() as Array<
        Omit<Row, 'spec' | 'annotations'> & { spec: string; annotations: string }
      >;
      return new Map(
        raw.map((r) => [r.name, { ...r, spec: JSON.parse(r.spec), annotations: JSON.parse(r.annotations) }]),
      );
    } finally {
      db.close();
    }
  }

  const isInvalid = (c: Record<string, unknown>): boolean => c.outcome === 'invalid';
  const isApplied = (c: Record<string, unknown>): boolean => c.outcome === 'applied';

  /** A running `stigmer watch` process with its output so far. */
  class WatchProcess {
    readonly child: ChildProcessWithoutNullStreams;
    stdout = '';
    stderr = '';
    readonly exited: Promise<number | null>;

    static async start(args: string[], cwd = tmp.path, db = dbPath): Promise<WatchProcess> {
      return new WatchProcess(args, cwd, await backendOf(db));
    }

    private constructor(
      args: string[],
      cwd: string,
      target: { args: string[]; env: Record<string, string> },
    ) {
      this.child = spawn(process.execPath, [binPath, 'watch', 'manifests', ...target.args, ...args], {
        cwd,
        env: cleanEnv({ STIGMER_HOME: join(cwd, 'home'), ...target.env }),
      });
      this.child.stdout.setEncoding('utf8').on('data', (d: string) => {
        this.stdout += d;
      });
      this.child.stderr.setEncoding('utf8').on('data', (d: string) => {
        this.stderr += d;
      });
      this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    }

    /** Timestamped summary lines printed so far (human output). */
    summaries(): string[] {
      return this.stdout.match(SUMMARY) ?? [];
    }

    /** Cycle objects printed so far (--json output). */
    cycles(): Array<Record<string, unknown>> {
      return this.stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    }

    /** Waits until `test` holds, failing with the output so far after the step timeout. */
    async until<T>(what: string, test: () => T | undefined | false): Promise<T> {
      const deadline = Date.now() + STEP_TIMEOUT_MS;
      for (;;) {
        const value = test();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline || this.child.exitCode !== null) {
          throw new Error(
            `waiting for ${what}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    }

    /** Waits for summary line number `n` (1-based) and returns it. */
    summary(n: number): Promise<string> {
      return this.until(`summary line ${n}`, () => this.summaries()[n - 1]);
    }

    /** Waits for cycle number `n` (1-based) in --json mode and returns it. */
    cycle(n: number): Promise<Record<string, unknown>> {
      return this.until(`cycle ${n}`, () => this.cycles()[n - 1]);
    }

    async stop(signal: NodeJS.Signals): Promise<number | null> {
      this.child.kill(signal);
      return this.exited;
    }
  }

  beforeAll(() => {
    tmp = tempDir('stigmer-watch-');
    dbPath = join(tmp.path, 'state.db');
    mkdirSync(manifest('skills'), { recursive: true });
    mkdirSync(manifest('agents'), { recursive: true });
    writeFileSync(manifest('stigmer.yaml'), 'project: watchdemo\n');
    writeFileSync(manifest('skills/alpha.yaml'), skill('alpha', 'v1'));
    writeFileSync(manifest('skills/beta.yaml'), skill('beta', 'v1'));
    writeFileSync(manifest('agents/helper.yaml'), agent('helper', 'beta'));
  });

  afterAll(async () => {
    for (const server of servers.values()) {
      const s = await server;
      await s.stop();
      s.cleanup();
    }
    tmp.cleanup();
  });

  describe('stigmer watch', () => {
    it('applies the directory, then every edit; keeps removed resources without --prune; survives a broken file', async () => {
      const watch = await WatchProcess.start(['--debounce', '50']);
      try {
        expect(await watch.summary(1)).toMatch(
          /\] Apply complete! Resources: 3 added, 0 changed, 0 destroyed\.$/,
        );
        expect(watch.stdout.split('\n')[0]).toBe(
          'Watching manifests (project watchdemo) — press Ctrl-C to stop',
        );
        const initial = rows('skills');
        expect([...initial.keys()].sort()).toEqual(['alpha', 'beta']);
        expect(initial.get('alpha')!.annotations['stigmer.ai/project']).toBe('watchdemo');
        expect(rows('agents').get('helper')!.spec.skillRefs).toEqual(['beta']);
        const alphaId = initial.get('alpha')!.id;

        // Edit in place.
        writeFileSync(manifest('skills/alpha.yaml'), skill('alpha', 'v2'));
        expect(await watch.summary(2)).toMatch(
          /Apply complete! Resources: 0 added, 1 changed, 0 destroyed\.$/,
        );
        expect(rows('skills').get('alpha')).toMatchObject({ id: alphaId, version: 2, spec: { tag: 'v2' } });

        // Atomic save: the editor writes a temp file and renames it over the manifest.
        writeFileSync(manifest('skills/alpha.yaml.tmp-4242'), skill('alpha', 'v3'));
        renameSync(manifest('skills/alpha.yaml.tmp-4242'), manifest('skills/alpha.yaml'));
        expect(await watch.summary(3)).toMatch(
          /Apply complete! Resources: 0 added, 1 changed, 0 destroyed\.$/,
        );
        expect(rows('skills').get('alpha')).toMatchObject({ id: alphaId, version: 3, spec: { tag: 'v3' } });

        // An edit in another file.
        writeFileSync(manifest('agents/helper.yaml'), agent('helper', 'alpha'));
        expect(await watch.summary(4)).toMatch(
          /Apply complete! Resources: 0 added, 1 changed, 0 destroyed\.$/,
        );
        expect(rows('agents').get('helper')!.spec.skillRefs).toEqual(['alpha']);

        // A removed file keeps its resources without --prune.
        rmSync(manifest('skills/beta.yaml'));
        expect(await watch.summary(5)).toMatch(/\] No changes\. Your resources match the manifests\.$/);
        expect(rows('skills').has('beta')).toBe(true);

        // A YAML syntax error: reported with file:line:col, nothing applied, still watching.
        writeFileSync(
          manifest('skills/alpha.yaml'),
          'apiVersion: agentic.stigmer.ai/v1\nkind: Skill\nmetadata: {name: alpha\n',
        );
        expect(await watch.summary(6)).toMatch(/\] \d+ errors?; nothing applied \(last good state kept\)$/);
        expect(watch.stdout).toMatch(/^manifests[/\\]skills[/\\]alpha\.yaml:\d+:\d+: /m);
        expect(rows('skills').get('alpha')).toMatchObject({ version: 3, spec: { tag: 'v3' } });
        expect(rows('skills').has('beta')).toBe(true);

        // Its fix is applied.
        writeFileSync(manifest('skills/alpha.yaml'), skill('alpha', 'v4'));
        expect(await watch.summary(7)).toMatch(
          /Apply complete! Resources: 0 added, 1 changed, 0 destroyed\.$/,
        );
        expect(rows('skills').get('alpha')).toMatchObject({ version: 4, spec: { tag: 'v4' } });

        // A burst of 50 saves ends with the last content applied, in far fewer cycles.
        for (let i = 0; i < 50; i++) {
          writeFileSync(manifest('skills/alpha.yaml'), skill('alpha', `burst-${i}`));
          if (i % 10 === 9) await new Promise((r) => setTimeout(r, 5));
        }
        await watch.until('the last save of the burst in the database', () => {
          return rows('skills').get('alpha')!.spec.tag === 'burst-49';
        });
        await watch.until('the summary of the last burst cycle', () =>
          /Apply complete! Resources: 0 added, 1 changed, 0 destroyed\.$/.test(
            watch.summaries().at(-1) ?? '',
          ),
        );
        await new Promise((r) => setTimeout(r, 500));
        const burstCycles = watch.summaries().length - 7;
        expect(burstCycles).toBeGreaterThanOrEqual(1);
        expect(burstCycles).toBeLessThan(50);
        expect(rows('skills').get('alpha')!.spec.tag).toBe('burst-49');

        expect(await watch.stop('SIGTERM')).toBe(0);
        expect(watch.stdout).toContain('Stopped watching.');
        expect(watch.stderr).not.toMatch(/internal error|at .*\.js:\d+/);
      } finally {
        watch.child.kill('SIGKILL');
      }
    });

    it('with --prune deletes what removed files declared, never in a cycle with an error; --json prints one object per cycle', async () => {
      const watch = await WatchProcess.start([
        '--debounce',
        '50',
        '--prune',
        '--json',
        '--message',
        'from the test',
      ]);
      try {
        // beta's file was removed while watching without --prune: the first cycle prunes it now.
        const first = await watch.cycle(1);
        expect(first).toMatchObject({
          cycle: 1,
          project: 'watchdemo',
          outcome: 'applied',
          applied: true,
          summary: { added: 0, changed: 0, destroyed: 1 },
          changes: [{ action: 'delete', kind: 'Skill', name: 'beta' }],
        });
        expect(typeof first.time).toBe('string');
        expect(watch.stderr).toContain('Watching manifests (project watchdemo)');
        expect(rows('skills').has('beta')).toBe(false);
        const alphaId = rows('skills').get('alpha')!.id;

        // Delete then re-create within a few ms (an editor's save): a change, never a deletion.
        rmSync(manifest('skills/alpha.yaml'));
        writeFileSync(manifest('skills/alpha.yaml'), skill('alpha', 'recreated'));
        const recreated = await watch.cycle(2);
        expect(recreated).toMatchObject({
          outcome: 'applied',
          summary: { added: 0, changed: 1, destroyed: 0 },
        });
        expect(recreated.files).toEqual([join('manifests', 'skills', 'alpha.yaml')]);
        expect(rows('skills').get('alpha')).toMatchObject({ id: alphaId, spec: { tag: 'recreated' } });

        // A broken file and a removed file in the same cycle: nothing is applied, nothing pruned.
        writeFileSync(manifest('agents/helper.yaml'), 'kind: Agent\nmetadata:\n  name: helper\n  nope: [\n');
        rmSync(manifest('skills/alpha.yaml'));
        const broken = await watch.until('an invalid cycle', () => watch.cycles().slice(2).find(isInvalid));
        expect(broken.applied).toBe(false);
        expect(broken.diagnostics).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ severity: 'error', file: join('manifests', 'agents', 'helper.yaml') }),
          ]),
        );
        expect(rows('skills').has('alpha')).toBe(true);
        expect(rows('agents').has('helper')).toBe(true);

        // Fixed: now the removal is applied (helper no longer references alpha).
        writeFileSync(manifest('skills/gamma.yaml'), skill('gamma', 'v1'));
        writeFileSync(manifest('agents/helper.yaml'), agent('helper', 'gamma'));
        const fixedFrom = watch.cycles().length;
        const fixed = await watch.until('the fixed cycle', () =>
          watch.cycles().slice(fixedFrom).find(isApplied),
        );
        // Every cycle between the first two and the fix applied nothing.
        const between = watch
          .cycles()
          .filter((c) => (c.cycle as number) > 2 && (c.cycle as number) < (fixed.cycle as number));
        expect(between.length).toBeGreaterThanOrEqual(1);
        expect(between.every(isInvalid)).toBe(true);
        expect(fixed.summary).toEqual({ added: 1, changed: 1, destroyed: 1 });
        expect([...rows('skills').keys()].sort()).toEqual(['gamma']);

        expect(await watch.stop('SIGINT')).toBe(0);
        for (const c of watch.cycles()) expect(Object.keys(c)).toContain('cycle');
      } finally {
        watch.child.kill('SIGKILL');
      }
    });

    it('on Ctrl-C right after start-up, finishes the first cycle (all or nothing), then exits 0', async () => {
      const other = join(tmp.path, 'other');
      const otherDb = join(other, 'state.db');
      mkdirSync(join(other, 'manifests'), { recursive: true });
      for (let i = 0; i < 50; i++)
        writeFileSync(join(other, 'manifests', `s${i}.yaml`), skill(`s${i}`, 'v1'));
      const watch = await WatchProcess.start(['--debounce', '0'], other, otherDb);
      try {
        await watch.until('the banner', () => watch.stdout.includes('press Ctrl-C to stop'));
        watch.child.kill('SIGINT');
        expect(await watch.exited).toBe(0);
        expect(watch.summaries()).toHaveLength(1);
        expect(watch.summaries()[0]).toMatch(
          /Apply complete! Resources: 50 added, 0 changed, 0 destroyed\.$/,
        );
        expect(rows('skills', otherDb).size).toBe(50);
        expect(watch.stdout).toContain('Stopped watching.');
      } finally {
        watch.child.kill('SIGKILL');
      }
    });

    it('refuses a directory that does not exist, with a hint and exit 1', async () => {
      const target = await backendOf(dbPath);
      const result = await runStigmer(['watch', 'nope', ...target.args], {
        cwd: tmp.path,
        env: { STIGMER_HOME: join(tmp.path, 'home'), ...target.env },
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('manifest directory "nope" does not exist');
      expect(result.stderr).toContain('hint:');
      expect(result.stdout).toBe('');
    });
  });
});
