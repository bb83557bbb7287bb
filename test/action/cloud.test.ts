/**
 * The GitHub Action on the cloud backend (DESIGN.md §6, issue #12: "its `backend: cloud` inputs
 * use the cloud backend"): the bundled entry under Node 24 plans a pull request and applies on
 * the push through a real `stigmer server` process, with the token from the `token` input masked
 * and shown nowhere else; a wrong token and an unreachable server fail the step with one clear
 * error and write nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActionRun,
  checkoutAction,
  node24,
  type RunActionOptions,
  runActionProcess,
} from '../helpers/action.js';
import { FakeGitHub } from '../helpers/fake-github.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

const KEY = Buffer.alloc(32, 5).toString('base64');
const CANARY = 'canary-41d7-cloud-action-secret';
let node: string;
let actionDir: string;
let gh: FakeGitHub;
let server: ServerProcess;
const dirs: string[] = [];

beforeAll(async () => {
  node = node24();
  actionDir = checkoutAction();
  dirs.push(actionDir);
  [gh, server] = await Promise.all([new FakeGitHub().start(), startServer()]);
});

afterAll(async () => {
  await Promise.all([gh?.stop(), server?.stop()]);
  server?.cleanup();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

const agentDoc = (name: string) => `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: ${name}
spec:
  instructions: You answer questions about ${name} for the team.
`;

const ENV_DOC = `apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: team-env
spec:
  data:
    API_TOKEN:
      valueFrom:
        env: CLOUD_CANARY
`;

const sha = (c: string) => c.repeat(40).slice(0, 40);

/** What the server's store holds: `Kind/name` and the raw spec text of each row. */
function stored(): Array<{ key: string; spec: string }> {
  const db = new Database(server.db, { readonly: true });
  try {
    const out: Array<{ key: string; spec: string }> = [];
    for (const [kind, table] of [
      ['Agent', 'agents'],
      ['Environment', 'environments'],
    ]) {
      for (const r of db.prepare(`SELECT name, spec FROM ${table} ORDER BY name`).all() as Array<{
        name: string;
        spec: string;
      }>) {
        out.push({ key: `${kind}/${r.name}`, spec: r.spec });
      }
    }
    return out;
  } finally {
    db.close();
  }
}
const storedKeys = () => stored().map((r) => r.key);

/** Everything a run made visible, with its `::add-mask::` commands taken out. */
function shown(r: ActionRun): string {
  return [r.stdout, r.stderr, r.outputFile, r.summary].join('\n').replace(/^::add-mask::.*$/gm, '');
}

const push = (c: string) => ({
  name: 'push',
  payload: {
    ref: 'refs/heads/main',
    before: '0'.repeat(40),
    after: sha(c),
    repository: { full_name: 'acme/agents', default_branch: 'main' },
    head_commit: { id: sha(c), message: 'merge' },
  },
});

describe('backend: cloud', () => {
  let ws: string;
  let home: string;

  beforeAll(() => {
    ws = tempDir('stigmer-ws-');
    mkdirSync(join(ws, 'manifests'), { recursive: true });
    writeFileSync(join(ws, 'manifests/stigmer.yaml'), 'project: team\n');
    writeFileSync(join(ws, 'manifests/a.yaml'), agentDoc('alpha'));
    writeFileSync(join(ws, 'manifests/env.yaml'), ENV_DOC);
    home = tempDir('stigmer-home-');
  });

  const run = (
    options: Pick<RunActionOptions, 'event'> & Partial<RunActionOptions>,
    inputs: Record<string, string> = {},
  ) =>
    runActionProcess({
      actionDir,
      node,
      apiUrl: gh.url,
      workspace: ws,
      home,
      env: { STIGMER_SECRET_KEY: KEY, CLOUD_CANARY: CANARY },
      ...options,
      inputs: {
        backend: 'cloud',
        endpoint: server.url,
        token: server.token,
        'allow-env': 'CLOUD_CANARY',
        ...inputs,
      },
    });

  it('plans a pull request against the server, comments it, and writes nothing', async () => {
    const r = await run({
      event: {
        name: 'pull_request',
        payload: {
          action: 'opened',
          number: 5,
          pull_request: { number: 5, head: { sha: sha('1'), ref: 'f' }, base: { ref: 'main' } },
          repository: { full_name: 'acme/agents', default_branch: 'main' },
        },
      },
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('on the cloud backend');
    expect(r.stdout).toContain(`::add-mask::${server.token}`);
    expect(r.stdout).toContain(`::add-mask::${CANARY}`);
    const comments = gh.planComments(5, 'team');
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toContain('**Plan: 2 to add, 0 to change, 0 to destroy.**');
    expect(comments[0]!.body).not.toContain(CANARY);
    expect(r.outputs).toMatchObject({ 'has-changes': 'true', add: '2' });
    expect(storedKeys()).toEqual([]);
    expect(shown(r)).not.toContain(server.token);
    expect(shown(r)).not.toContain(CANARY);
  });

  it('applies on the push through the server (secret sealed there); the next run plans no changes', async () => {
    const applied = await run({ event: push('2'), sha: sha('2') });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.summary).toContain('**Apply complete! Resources: 2 added, 0 changed, 0 destroyed.**');
    expect(storedKeys()).toEqual(['Agent/alpha', 'Environment/team-env']);
    for (const row of stored()) expect(row.spec).not.toContain(CANARY);
    expect(shown(applied)).not.toContain(server.token);
    expect(shown(applied)).not.toContain(CANARY);

    const again = await run({ event: push('3'), sha: sha('3') });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.outputs['has-changes']).toBe('false');
    expect(again.summary).toContain('No changes. Your resources match the manifests.');
  });

  it('a wrong token fails the step with one clear error, shows no token, and writes nothing', async () => {
    writeFileSync(join(ws, 'manifests/b.yaml'), agentDoc('beta'));
    const wrong = 'wrong-token-1f2e3d4c5b6a';
    const r = await run({ event: push('4'), sha: sha('4') }, { token: wrong });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::.*authentication failed/m);
    expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
    expect(shown(r)).not.toContain(wrong);
    expect(storedKeys()).toEqual(['Agent/alpha', 'Environment/team-env']);
  });

  it('an unreachable server fails the step with one line naming it', async () => {
    const r = await run({ event: push('5'), sha: sha('5') }, { endpoint: 'http://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::cannot reach stigmer server at http://127.0.0.1:9');
    expect(r.stdout + r.stderr).not.toMatch(/^\s+at /m);
    expect(storedKeys()).toEqual(['Agent/alpha', 'Environment/team-env']);
  });
});
