/**
 * The CLI's cloud backend as a new user meets it (real CLI processes, a real `stigmer server`):
 * `backend use cloud` writes config.yaml (0600, token included) and `backend status` shows the
 * endpoint, the server's version and schema, counts and round-trip time; a wrong or missing
 * token and a dead server are one line each, exit 1, with nothing read or written; a client
 * never opens a postgres:// URL itself; and a server killed with SIGKILL in the middle of a large
 * apply leaves all or nothing, after which the next apply converges.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStigmer } from '../helpers/cli.js';
import { type ServerProcess, startServer } from '../helpers/server.js';
import { agentYaml, makeStack, STACK_FRAME } from '../reconcile/stack.js';

let server: ServerProcess;
const stack = makeStack({ withDefaultStack: true });
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  await stack.cleanup();
});

const cloud = (extra: Record<string, string> = {}) => ({
  STIGMER_BACKEND: 'cloud',
  STIGMER_ENDPOINT: server.url,
  STIGMER_TOKEN: server.token,
  ...extra,
});

/** The server's resources and history, as its SQLite file holds them. */
function readRows(db: string): unknown[] {
  const d = new Database(db, { readonly: true });
  try {
    return [
      d.prepare('SELECT name, version, spec FROM agents ORDER BY name').all(),
      d.prepare('SELECT count(*) AS n FROM api_resource_versions').get(),
    ];
  } finally {
    d.close();
  }
}

const serverState = () => JSON.stringify(readRows(server.db));

describe('choosing the cloud backend', () => {
  it('backend use cloud writes config.yaml (0600) with the token; backend status shows the server', async () => {
    const use = await stack.run([
      'backend',
      'use',
      'cloud',
      '--endpoint',
      server.url,
      '--token',
      server.token,
    ]);
    expect(use.code, use.stderr).toBe(0);
    expect(use.stdout).toContain(`Default backend is now cloud at ${server.url}`);
    const config = join(stack.home, 'config.yaml');
    expect(statSync(config).mode & 0o777).toBe(0o600);
    expect(readFileSync(config, 'utf8')).toContain(`token: ${server.token}`);

    const status = await stack.run(['backend', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('Backend:         cloud');
    expect(status.stdout).toContain(`Endpoint:        ${server.url}`);
    expect(status.stdout).toMatch(/^Server version: {2}\d+\.\d+\.\d+$/m);
    expect(status.stdout).toContain(`Server store:    local ${server.db}`);
    expect(status.stdout).toMatch(/^Round trip: {6}[\d.]+ ms$/m);
    expect(status.stdout).toMatch(/^Schema version: {2}\d+$/m);
    expect(status.stdout).toMatch(/^agents\s+0$/m);

    const json = JSON.parse((await stack.run(['backend', 'status', '--json'])).stdout);
    expect(json).toMatchObject({ type: 'cloud', location: server.url, counts: { Agent: 0 } });
    expect(json.server.store).toEqual({ type: 'local', location: server.db });
    expect(typeof json.server.roundTripMs).toBe('number');
  });

  it('applies the default stack through the cloud backend set in config.yaml; the next plan is empty', async () => {
    const apply = await stack.run(['apply', '--auto-approve']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('Apply complete! Resources: 9 added, 0 changed, 0 destroyed.');
    const plan = await stack.run(['plan', '--detailed-exitcode']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout.trim()).toBe('No changes. Your resources match the manifests.');
    expect((await stack.run(['backend', 'use', 'local'])).code).toBe(0);
  });
});

describe('failures are one line, exit 1, nothing read or written', () => {
  it('a wrong token', async () => {
    const before = serverState();
    for (const args of [['plan'], ['apply', '--auto-approve'], ['get', 'agents']]) {
      const r = await stack.run(args, { env: cloud({ STIGMER_TOKEN: 'not-the-token' }) });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.split('\n')[0]).toBe(
        `Error: authentication failed: the stigmer server at ${server.url} refused the token`,
      );
      expect(r.stderr).toMatch(/hint: .*--token.*STIGMER_TOKEN/);
      expect(r.stderr).not.toMatch(STACK_FRAME);
      expect(r.stdout).not.toContain('Agent/');
    }
    expect(serverState()).toBe(before);
    expect(server.stderr()).not.toContain('not-the-token');
  });

  it('no token at all', async () => {
    // A home of its own: the stack's config.yaml holds a token by now.
    const r = await runStigmer(['plan', '--backend', 'cloud', '--endpoint', server.url], {
      cwd: stack.dir,
      env: { STIGMER_HOME: join(stack.dir, 'fresh-home') },
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('Error: the cloud backend needs a token and none was given');
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('a server that is not running', async () => {
    const gone = await startServer();
    await gone.stop();
    gone.cleanup();
    const r = await stack.run(['plan'], { env: cloud({ STIGMER_ENDPOINT: gone.url }) });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(`Error: cannot reach stigmer server at ${gone.url}`);
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });

  it('an endpoint that is not http(s)://HOST:PORT', async () => {
    const r = await stack.run(['plan'], { env: cloud({ STIGMER_ENDPOINT: 'grpc://example:1' }) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('must start with http:// or https://');
  });

  it('a client given a postgres:// database is told that only servers use one', async () => {
    const r = await runStigmer(['plan', '--db', 'postgres://stigmer@db.example/stigmer'], {
      cwd: stack.dir,
      env: { STIGMER_HOME: stack.home },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--db is a PostgreSQL URL, which only `stigmer server` can use');
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});

describe('a server killed in the middle of a large apply', () => {
  it('leaves all or nothing; after a restart the next apply converges', async () => {
    const big = makeStack();
    const victim = await startServer();
    let restarted: ServerProcess | undefined;
    try {
      const docs = Array.from({ length: 1500 }, (_, i) => agentYaml(`bulk-${i}`)).join('---\n');
      big.write('manifests/stigmer.yaml', 'project: bulk\n');
      big.write('manifests/agents.yaml', docs);
      const env = { STIGMER_BACKEND: 'cloud', STIGMER_ENDPOINT: victim.url, STIGMER_TOKEN: victim.token };
      const applying = big.run(['apply', '--auto-approve'], { env });
      // The plan's reads are logged once answered; the batch follows right after.
      const deadline = Date.now() + 60_000;
      while (!/ListResources OK/.test(victim.stderr()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      await new Promise((r) => setTimeout(r, 30));
      await victim.stop('SIGKILL');
      const killed = await applying;
      const count = (readRows(victim.db)[0] as unknown[]).length;
      expect([0, 1500]).toContain(count);
      if (killed.code !== 0) {
        expect(killed.stderr.split('\n')[0]).toBe(`Error: cannot reach stigmer server at ${victim.url}`);
      }

      restarted = await startServer({ db: victim.db });
      const renv = {
        STIGMER_BACKEND: 'cloud',
        STIGMER_ENDPOINT: restarted.url,
        STIGMER_TOKEN: restarted.token,
      };
      const again = await big.run(['apply', '--auto-approve'], { env: renv });
      expect(again.code, again.stderr).toBe(0);
      expect((readRows(victim.db)[0] as unknown[]).length).toBe(1500);
      const plan = await big.run(['plan', '--detailed-exitcode'], { env: renv });
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);
    } finally {
      await restarted?.stop();
      restarted?.cleanup();
      victim.cleanup();
      await big.cleanup();
    }
  });
});
