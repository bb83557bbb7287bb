/**
 * Many servers, one database (DESIGN.md §6d, issue 15 "done when"): two real `stigmer server`
 * processes on one PostgreSQL database of the run's throwaway cluster, driven by real CLI
 * processes. One server finds the database through STIGMER_DATABASE_URL alone, each has its own
 * pool size (--db-pool-size, STIGMER_DB_POOL_SIZE). An apply through one is planned as done
 * through the other; a saved plan made through one is stale after a change through the other;
 * four concurrent applies of one project through both each exit 0 or with a clear conflict and
 * leave exactly one of their inputs with gap-free history; the StateToken of one server moves
 * with writes through the other; a retried ApplyChanges through the other server returns the
 * original result without writing again.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCloudBackend } from '../../src/backend/cloud/index.js';
import type { ResourceChange } from '../../src/backend/types.js';
import { type CliResult, runStigmer, tempDir } from '../helpers/cli.js';
import { freshDatabase } from '../helpers/postgres.js';
import { type ServerProcess, startServer } from '../helpers/server.js';
import { agentYaml, STACK_FRAME } from '../reconcile/stack.js';

const POOL_A = 2;
const POOL_B = 3;
let database: Awaited<ReturnType<typeof freshDatabase>>;
let a: ServerProcess;
let b: ServerProcess;
const tmp = tempDir('stigmer-pg-servers-');

beforeAll(async () => {
  database = await freshDatabase('servers');
  // Both start at once on an empty database: the migrations are applied exactly once.
  [a, b] = await Promise.all([
    startServer({
      db: database.url,
      dbFlag: false,
      args: ['--db-pool-size', String(POOL_A)],
      env: { STIGMER_DATABASE_URL: database.url },
    }),
    startServer({ db: database.url, env: { STIGMER_DB_POOL_SIZE: String(POOL_B) } }),
  ]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  a?.cleanup();
  b?.cleanup();
  await database?.drop();
  tmp.cleanup();
});

async function sql<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** A checkout of project `project` in its own directory, run against `server`. */
function checkout(name: string, project: string) {
  const dir = join(tmp.path, name);
  mkdirSync(join(dir, 'manifests'), { recursive: true });
  writeFileSync(join(dir, 'manifests', 'stigmer.yaml'), `project: ${project}\n`);
  return {
    dir,
    write(file: string, content: string) {
      writeFileSync(join(dir, 'manifests', file), content);
    },
    run(server: ServerProcess, args: string[]): Promise<CliResult> {
      return runStigmer(args, {
        cwd: dir,
        env: {
          STIGMER_HOME: join(dir, 'home'),
          STIGMER_BACKEND: 'cloud',
          STIGMER_ENDPOINT: server.url,
          STIGMER_TOKEN: server.token,
        },
        timeoutMs: 60_000,
      });
    },
  };
}

const CONFLICT = /^Error: conflict on Agent\/\S+: expected .*$/m;

describe('two stigmer servers on one PostgreSQL database', () => {
  it('both report the PostgreSQL store (one found it through STIGMER_DATABASE_URL), never its password', async () => {
    const location = `postgres://postgres@${new URL(database.url).host}/${database.name}`;
    for (const server of [a, b]) {
      // The store line follows the listening line.
      for (let i = 0; i < 200 && !server.stderr().includes('store: '); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(server.stderr()).toContain(`store: ${location}`);
      expect(server.stderr()).not.toContain(new URL(database.url).password);
    }
    // The server given the URL on the command line (with a password) is warned to use the variable.
    expect(b.stderr()).toContain('set STIGMER_DATABASE_URL instead');
    expect(a.stderr()).not.toContain('set STIGMER_DATABASE_URL instead');
  });

  it('an apply through one server is seen by a plan through the other', async () => {
    const work = checkout('seen', 'seen');
    work.write('agents.yaml', [agentYaml('seen-1'), agentYaml('seen-2')].join('---\n'));
    const applied = await work.run(a, ['apply', '--auto-approve']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
    const plan = await work.run(b, ['plan', '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    expect(plan.stdout).toContain('No changes.');
    // A prune planned through the other server deletes what the first one wrote.
    work.write('agents.yaml', agentYaml('seen-1'));
    const pruned = await work.run(b, ['apply', '--auto-approve']);
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(pruned.stdout).toContain('Resources: 0 added, 0 changed, 1 destroyed.');
    expect((await work.run(a, ['plan', '--detailed-exitcode'])).code).toBe(0);
  });

  it('a saved plan made through one server is refused as stale after a change through the other', async () => {
    const mine = checkout('stale-mine', 'stale');
    const theirs = checkout('stale-theirs', 'stale');
    mine.write('agents.yaml', [agentYaml('stale-1'), agentYaml('stale-2')].join('---\n'));
    expect((await mine.run(a, ['apply', '--auto-approve'])).code).toBe(0);

    mine.write(
      'agents.yaml',
      [agentYaml('stale-1', 'You answer billing questions.'), agentYaml('stale-2')].join('---\n'),
    );
    const saved = await mine.run(a, ['plan', '--out', 'release.plan']);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');

    theirs.write(
      'agents.yaml',
      [agentYaml('stale-1'), agentYaml('stale-2', 'You answer beta questions.')].join('---\n'),
    );
    const other = await theirs.run(b, ['apply', '--auto-approve']);
    expect(other.code, other.stderr).toBe(0);

    const before = await sql('SELECT name, version, spec FROM agents ORDER BY name');
    const r = await mine.run(a, ['apply', 'release.plan', '--auto-approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('saved plan is stale');
    expect(r.stderr).toContain('Agent/stale-2');
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(await sql('SELECT name, version, spec FROM agents ORDER BY name')).toEqual(before);
  });

  it('four concurrent applies of one project through both servers: each ok or a clear conflict, one input stored, gap-free history', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `race-${i}`);
    const inputs = [0, 1, 2, 3].map((c) => {
      const work = checkout(`race-${c}`, 'race');
      work.write('agents.yaml', names.map((n) => agentYaml(n, `Variant ${c} of ${n}.`)).join('---\n'));
      return work;
    });
    const results = await Promise.all(
      inputs.map((work, c) => work.run(c % 2 === 0 ? a : b, ['apply', '--auto-approve'])),
    );
    let ok = 0;
    for (const r of results) {
      expect(r.stdout + r.stderr).not.toMatch(STACK_FRAME);
      expect(r.stderr).not.toMatch(/SQLSTATE|duplicate key|deadlock|internal/i);
      if (r.code === 0) ok++;
      else {
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(CONFLICT);
      }
    }
    expect(ok).toBeGreaterThanOrEqual(1);

    const live = await sql<{ name: string; spec: { instructions: string } }>(
      "SELECT name, spec FROM agents WHERE name LIKE 'race-%' ORDER BY name",
    );
    expect(live.map((r) => r.name)).toEqual(names);
    const variant = /^Variant (\d) of/.exec(live[0]!.spec.instructions)?.[1];
    expect(live.map((r) => r.spec.instructions)).toEqual(names.map((n) => `Variant ${variant} of ${n}.`));

    const history = await sql<{ name: string; versions: number[] }>(
      "SELECT name, array_agg(version ORDER BY seq) AS versions FROM api_resource_versions WHERE kind = 'Agent' AND name LIKE 'race-%' GROUP BY name ORDER BY name",
    );
    expect(history).toHaveLength(names.length);
    for (const h of history) {
      expect(h.versions).toEqual(h.versions.map((_, i) => i + 1));
      // Every successful apply wrote each resource once (a create, then updates).
      expect(h.versions).toHaveLength(ok);
    }
    // Neither server held more connections than its pool allows.
    const [row] = await sql<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'stigmer' AND datname = $1",
      [database.name],
    );
    expect(row!.n).toBeLessThanOrEqual(POOL_A + POOL_B);
  });

  it("the StateToken through one server moves with writes through the other, and ignores the client's own", async () => {
    const mine = await openCloudBackend({ endpoint: a.url, token: a.token });
    const other = await openCloudBackend({ endpoint: b.url, token: b.token });
    const agent = (name: string): ResourceChange => ({
      op: 'create',
      kind: 'Agent',
      name,
      labels: {},
      annotations: {},
      spec: { instructions: 'a test agent' },
    });
    try {
      const t1 = await mine.stateToken!();
      await mine.applyChanges([agent('token-mine-1')]);
      expect(await mine.stateToken!()).toBe(t1);
      await other.applyChanges([agent('token-theirs')]);
      const t2 = await mine.stateToken!();
      expect(t2).not.toBe(t1);
      expect(await mine.stateToken!()).toBe(t2);
      await mine.applyChanges([agent('token-mine-2')]);
      expect(await mine.stateToken!()).toBe(t2);
    } finally {
      await mine.close();
      await other.close();
    }
  });

  it('a retried ApplyChanges (same request id) through the other server returns the original result', async () => {
    const first = await openCloudBackend({ endpoint: a.url, token: a.token });
    const second = await openCloudBackend({ endpoint: b.url, token: b.token });
    const batch: ResourceChange[] = [
      {
        op: 'create',
        kind: 'Agent',
        name: 'retried',
        labels: {},
        annotations: {},
        spec: { instructions: 'applied once' },
      },
    ];
    try {
      const requestId = `retry-${Date.now()}`;
      const original = await first.applyChanges(batch, { requestId });
      const historyBefore = await sql("SELECT seq FROM api_resource_versions WHERE name = 'retried'");
      const retried = await second.applyChanges(batch, { requestId });
      expect(retried).toEqual(original);
      expect(await sql("SELECT seq FROM api_resource_versions WHERE name = 'retried'")).toEqual(
        historyBefore,
      );
      // The same id with another batch is refused, not applied.
      const other = [{ ...batch[0]!, name: 'retried-other' }];
      await expect(second.applyChanges(other, { requestId })).rejects.toThrow(/request id/i);
      expect(await sql("SELECT name FROM agents WHERE name = 'retried-other'")).toEqual([]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('a pool size that is not a whole number ≥ 1, or one for a SQLite store, is one line and exit 1', async () => {
    const bad = await runStigmer(['server', '--port', '0', '--token', 't', '--db-pool-size', '0'], {
      env: { STIGMER_HOME: join(tmp.path, 'bad-home'), STIGMER_DATABASE_URL: database.url },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--db-pool-size must be a whole number from 1 to 1000, got "0"');
    expect(bad.stderr).not.toMatch(STACK_FRAME);
    const sqlite = await runStigmer(
      ['server', '--port', '0', '--token', 't', '--db', join(tmp.path, 'x.db')],
      {
        env: { STIGMER_HOME: join(tmp.path, 'bad-home'), STIGMER_DB_POOL_SIZE: '5' },
      },
    );
    expect(sqlite.code).toBe(1);
    expect(sqlite.stderr).toContain('STIGMER_DB_POOL_SIZE applies to a postgres:// database only');
  });
});
