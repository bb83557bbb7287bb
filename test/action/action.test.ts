/**
 * The GitHub Action end to end (DESIGN.md §6, issue #12 "Done when"): the bundled entry runs as
 * a real process under Node 24 with the runner's variables and real event payload files,
 * against a local server speaking GitHub's REST routes under an Enterprise-style `/api/v3`
 * prefix (so GITHUB_API_URL is honoured), on a real SQLite file through node:sqlite.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ActionRun,
  checkoutAction,
  node24,
  type RunActionOptions,
  runActionProcess,
} from '../helpers/action.js';
import { FakeGitHub } from '../helpers/fake-github.js';

const KEY = Buffer.alloc(32, 9).toString('base64');
let node: string;
let actionDir: string;
let gh: FakeGitHub;
const dirs: string[] = [];

beforeAll(async () => {
  node = node24();
  actionDir = checkoutAction();
  dirs.push(actionDir);
  gh = await new FakeGitHub().start();
});

afterAll(async () => {
  await gh?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function agentDoc(name: string, extra = ''): string {
  return `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: ${name}
spec:
  description: agent ${name}
  instructions: You review pull requests and answer questions about ${name}.${extra}
`;
}

/** A workspace whose `dir` holds `stigmer.yaml` (project) and the given files. */
function workspace(files: Record<string, string>): string {
  const ws = tempDir('stigmer-ws-');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(ws, path, '..'), { recursive: true });
    writeFileSync(join(ws, path), text);
  }
  return ws;
}

function prEvent(number: number, sha: string, action = 'opened') {
  return {
    name: 'pull_request',
    payload: {
      action,
      number,
      pull_request: { number, head: { sha, ref: 'feature' }, base: { ref: 'main' } },
      repository: { full_name: 'acme/agents', default_branch: 'main' },
    },
  };
}

function pushEvent(sha: string) {
  return {
    name: 'push',
    payload: {
      ref: 'refs/heads/main',
      before: '0'.repeat(40),
      after: sha,
      repository: { full_name: 'acme/agents', default_branch: 'main' },
      head_commit: { id: sha, message: 'merge' },
    },
  };
}

const sha = (c: string) => c.repeat(40).slice(0, 40);

function run(options: Omit<RunActionOptions, 'actionDir' | 'node' | 'apiUrl'>): Promise<ActionRun> {
  return runActionProcess({ actionDir, node, apiUrl: gh.url, ...options });
}

/** Everything a run made visible: log, annotations, outputs, summary. */
function visible(r: ActionRun): string {
  return [r.stdout, r.stderr, r.outputFile, r.summary].join('\n');
}

describe('on pull requests', () => {
  const PR = 12;
  let ws: string;
  let home: string;

  beforeAll(() => {
    const files: Record<string, string> = { 'manifests/stigmer.yaml': 'project: big\n' };
    for (let f = 0; f < 30; f++) {
      const docs: string[] = [];
      for (let i = 0; i < 100; i++) docs.push(agentDoc(`agent-${String(f * 100 + i).padStart(4, '0')}`));
      files[`manifests/agents/batch-${f}.yaml`] = docs.join('---\n');
    }
    files['other/stigmer.yaml'] = 'project: other\n';
    files['other/bot.yaml'] = agentDoc('other-bot');
    ws = workspace(files);
    home = tempDir('stigmer-home-');
    for (let i = 0; i < 120; i++) gh.addComment(PR, `comment number ${i}: looks good`);
    // A marker pasted by a person is never taken for the Action's comment.
    gh.addComment(
      PR,
      '<!-- stigmer-plan project=big -->\nfake plan\n<!-- stigmer-plan-hash=' + 'a'.repeat(64) + ' -->',
    );
  });

  it('plans 3,000 resources into exactly one comment within the limit, collapsed and truncated', async () => {
    const r = await run({ workspace: ws, home, event: prEvent(PR, sha('1')) });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ours = gh.planComments(PR, 'big').filter((c) => c.user.type === 'Bot');
    expect(ours).toHaveLength(1);
    const body = ours[0]!.body;
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain('**Plan: 3000 to add, 0 to change, 0 to destroy.**');
    expect(body).toContain('<details><summary>');
    expect(body).toMatch(
      /_Plan truncated to fit; the full plan is in the \[job summary and log\]\(https:\/\/github\.example\.com\/acme\/agents\/actions\/runs\/4242\)\._/,
    );
    expect(body).toMatch(/<!-- stigmer-plan-hash=[0-9a-f]{64} -->\n$/);
    expect(r.outputs).toMatchObject({ 'has-changes': 'true', add: '3000', change: '0', destroy: '0' });
    const json = JSON.parse(readFileSync(r.outputs['plan-json']!, 'utf8'));
    expect(json.summary).toEqual({ create: 3000, update: 0, delete: 0, noop: 0 });
    expect(json.changes).toHaveLength(3000);
    expect(r.summary).toContain('**Plan: 3000 to add, 0 to change, 0 to destroy.**');
    expect(r.stdout).toContain('Plan: 3000 to add, 0 to change, 0 to destroy.');
    // The person's comment with a pasted marker is left alone, and the token was sent.
    expect(gh.planComments(PR, 'big').find((c) => c.user.type === 'User')!.body).toContain('fake plan');
    expect(gh.requests.some((q) => q.authorization?.includes('ghs_fake_workflow_token_0123456789'))).toBe(
      true,
    );
    expect(r.stdout).toContain('::add-mask::ghs_fake_workflow_token_0123456789');
  });

  it('edits the same comment on the next push, found across pages of 120 other comments', async () => {
    const before = gh.planComments(PR, 'big').find((c) => c.user.type === 'Bot')!;
    gh.requests.length = 0;
    const r = await run({ workspace: ws, home, event: prEvent(PR, sha('2'), 'synchronize') });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ours = gh.planComments(PR, 'big').filter((c) => c.user.type === 'Bot');
    expect(ours.map((c) => c.id)).toEqual([before.id]);
    expect(ours[0]!.body).toContain('Planned for 222222222222');
    expect(gh.requests.filter((q) => q.method === 'POST')).toEqual([]);
    expect(gh.requests.filter((q) => q.method === 'PATCH').map((q) => q.path)).toEqual([
      `/api/v3/repos/acme/agents/issues/comments/${before.id}`,
    ]);
    expect(gh.requests.filter((q) => q.path.includes('/comments?')).length).toBeGreaterThanOrEqual(2);
  });

  it('gives a second project its own comment', async () => {
    const big = gh.planComments(PR, 'big').find((c) => c.user.type === 'Bot')!.body;
    const r = await run({ workspace: ws, home, event: prEvent(PR, sha('2')), inputs: { path: 'other' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const other = gh.planComments(PR, 'other');
    expect(other).toHaveLength(1);
    expect(other[0]!.body).toContain('**Plan: 1 to add, 0 to change, 0 to destroy.**');
    expect(gh.planComments(PR, 'big').find((c) => c.user.type === 'Bot')!.body).toBe(big);
  });

  it('retries a failed GitHub request (5xx) and still comments once', async () => {
    gh.failNext = 1;
    const r = await run({ workspace: ws, home, event: prEvent(77, sha('4')), inputs: { path: 'other' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(gh.failNext).toBe(0);
    expect(gh.planComments(77, 'other')).toHaveLength(1);
  });

  it('a token that may not comment (403) is a warning: the plan is still in the job summary', async () => {
    gh.forbidComments = true;
    try {
      const r = await run({ workspace: ws, home, event: prEvent(99, sha('3')), inputs: { path: 'other' } });
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toMatch(/::warning::no comment on the pull request: the token may not comment/);
      expect(r.summary).toContain('**Plan: 1 to add, 0 to change, 0 to destroy.**');
      expect(gh.planComments(99, 'other')).toEqual([]);
    } finally {
      gh.forbidComments = false;
    }
  });
});

describe('on push to the default branch', () => {
  let ws: string;
  let home: string;

  beforeAll(() => {
    ws = workspace({
      'manifests/stigmer.yaml': 'project: demo\n',
      'manifests/a.yaml': agentDoc('alpha'),
      'manifests/b.yaml': agentDoc('beta'),
    });
    home = tempDir('stigmer-home-');
  });

  it('applies the plan reviewed on the merged pull request; the next plan is empty', async () => {
    const planned = await run({ workspace: ws, home, event: prEvent(21, sha('a')) });
    expect(planned.code, planned.stdout).toBe(0);
    expect(gh.planComments(21, 'demo')).toHaveLength(1);

    gh.pullsByCommit.set(sha('b'), [
      { number: 21, state: 'closed', merged_at: '2026-12-01T10:00:00Z', merge_commit_sha: sha('b') },
    ]);
    const applied = await run({
      workspace: ws,
      home,
      event: pushEvent(sha('b')),
      sha: sha('b'),
      inputs: { 'require-reviewed-plan': 'true' },
    });
    expect(applied.code, applied.stdout + applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Agent/alpha: Creation complete');
    expect(applied.outputs).toMatchObject({ 'has-changes': 'true', add: '2', change: '0', destroy: '0' });
    expect(applied.summary).toContain('**Apply complete! Resources: 2 added, 0 changed, 0 destroyed.**');
    expect(applied.summary).toContain('The plan matched the one reviewed in #21.');

    const again = await run({ workspace: ws, home, event: pushEvent(sha('c')), sha: sha('c') });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs['has-changes']).toBe('false');
    expect(again.summary).toContain('No changes. Your resources match the manifests.');
  });

  it('with require-reviewed-plan, refuses manifests changed after the review and applies nothing', async () => {
    writeFileSync(join(ws, 'manifests/c.yaml'), agentDoc('gamma'));
    const planned = await run({ workspace: ws, home, event: prEvent(22, sha('d')) });
    expect(planned.code).toBe(0);
    // Changed after the review: the merge brings one more agent than the reviewed plan.
    writeFileSync(join(ws, 'manifests/d.yaml'), agentDoc('delta'));
    gh.pullsByCommit.set(sha('e'), [
      { number: 22, state: 'closed', merged_at: '2026-12-01T11:00:00Z', merge_commit_sha: sha('e') },
    ]);
    const refused = await run({
      workspace: ws,
      home,
      event: pushEvent(sha('e')),
      sha: sha('e'),
      inputs: { 'require-reviewed-plan': 'true' },
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(
      /::error::refusing to apply: the plan differs from the one reviewed in #22/,
    );
    expect(refused.summary).toContain('nothing was applied');
    expect(refused.outputs).toMatchObject({ add: '0', change: '0', destroy: '0' });

    // Nothing was applied: the same two agents are still to add. Without the requirement a
    // different plan is a warning, and a direct push (no pull request) applies as planned.
    const warned = await run({ workspace: ws, home, event: pushEvent(sha('e')), sha: sha('e') });
    expect(warned.code, warned.stdout).toBe(0);
    expect(warned.stdout).toMatch(/::warning::the plan differs from the one reviewed in #22/);
    expect(warned.outputs).toMatchObject({ add: '2' });
    writeFileSync(join(ws, 'manifests/e.yaml'), agentDoc('epsilon'));
    const direct = await run({
      workspace: ws,
      home,
      event: pushEvent(sha('f')),
      sha: sha('f'),
      inputs: { 'require-reviewed-plan': 'true' },
    });
    expect(direct.code, direct.stdout).toBe(0);
    expect(direct.summary).toContain('Direct push: no pull request was found for this commit.');
    expect(direct.outputs).toMatchObject({ add: '1' });
  });
});

describe('secrets and untrusted manifests', () => {
  const CANARY = 'canary-7f3a9c1e-secret-value';

  it('a secret never reaches the comment, summary, outputs or log, except its ::add-mask::', async () => {
    const ws = workspace({
      'manifests/stigmer.yaml': 'project: secrets\n',
      'manifests/env.yaml': `apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: prod
spec:
  data:
    API_TOKEN:
      isSecret: true
      valueFrom: {env: CANARY_TOKEN}
    FROM_FILE:
      isSecret: true
      valueFrom: {file: token.txt}
`,
      'manifests/token.txt': `${CANARY}-file\n`,
    });
    const home = tempDir('stigmer-home-');
    const env = { CANARY_TOKEN: CANARY, STIGMER_SECRET_KEY: KEY };
    const pr = await run({
      workspace: ws,
      home,
      env,
      event: prEvent(31, sha('1')),
      inputs: { 'allow-env': 'CANARY_TOKEN' },
    });
    expect(pr.code, pr.stdout + pr.stderr).toBe(0);
    const push = await run({ workspace: ws, home, env, event: pushEvent(sha('2')), sha: sha('2') });
    expect(push.code, push.stdout + push.stderr).toBe(0);
    expect(push.outputs.add).toBe('1');
    for (const r of [pr, push]) {
      expect(r.stdout).toContain(`::add-mask::${CANARY}\n`);
      expect(r.stdout).toContain(`::add-mask::${CANARY}-file\n`);
      const masked = visible(r).replace(/^::add-mask::.*$/gm, '');
      expect(masked).not.toContain(CANARY);
      expect(readFileSync(r.outputs['plan-json']!, 'utf8')).not.toContain(CANARY);
    }
    const comment = gh.planComments(31, 'secrets')[0]!.body;
    expect(comment).toContain('(sensitive)');
    expect(comment).not.toContain(CANARY);
    expect(pr.stdout).toContain(`::add-mask::${KEY}`);

    const noKey = await run({
      workspace: ws,
      home: tempDir('stigmer-home-'),
      env: { CANARY_TOKEN: CANARY },
      event: pushEvent(sha('3')),
    });
    expect(noKey.code).toBe(1);
    expect(noKey.stdout).toContain('::error::the manifests hold secrets, and STIGMER_SECRET_KEY is not set');
    expect(visible(noKey).replace(/^::add-mask::.*$/gm, '')).not.toContain(CANARY);
  });

  it("refuses a pull request's reads of runner variables and files outside the workspace, at file:line, reading nothing", async () => {
    const outside = tempDir('stigmer-outside-');
    writeFileSync(join(outside, 'credentials'), 'outside-file-canary\n');
    const ws = workspace({
      'manifests/stigmer.yaml': 'project: untrusted\n',
      'manifests/env.yaml': `apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: leak
spec:
  data:
    A:
      isSecret: false
      valueFrom: {env: GITHUB_TOKEN}
    B:
      isSecret: false
      valueFrom: {env: DEPLOY_KEY}
    C:
      isSecret: false
      valueFrom: {file: ${join(outside, 'credentials')}}
    D:
      isSecret: false
      valueFrom: {file: ../link/credentials}
    E:
      isSecret: false
      valueFrom: {file: ../.git/config}
`,
      '.git/config': '[http]\n\textraheader = AUTHORIZATION: basic git-config-canary\n',
    });
    symlinkSync(outside, join(ws, 'link'));
    const r = await run({
      workspace: ws,
      home: tempDir('stigmer-home-'),
      env: { GITHUB_TOKEN: 'runner-token-canary', DEPLOY_KEY: 'deploy-key-canary' },
      event: prEvent(41, sha('1')),
      inputs: { 'allow-env': 'SOMETHING_ELSE' },
    });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error file=manifests/env.yaml,line='));
    expect(errors, r.stdout).toHaveLength(5);
    expect(errors[0]).toMatch(/may never read GITHUB_\* variables/);
    expect(errors[1]).toMatch(/DEPLOY_KEY, which is not in the action's allow-env list/);
    expect(errors[2]).toMatch(/outside the workspace/);
    expect(errors[3]).toMatch(/link\/credentials, a symbolic link that leads outside the workspace/);
    expect(errors[4]).toMatch(/reads \.git\/config, inside the repository's \.git directory/);
    // Each at the line of its valueFrom (A's env is on line 9, E's file on line 21).
    expect(errors[0]).toMatch(/^::error file=manifests\/env\.yaml,line=9,col=\d+::/);
    expect(errors[4]).toMatch(/^::error file=manifests\/env\.yaml,line=21,col=\d+::/);
    const comment = gh.planComments(41, 'untrusted')[0]!.body;
    expect(comment).toContain('**Plan failed:** 5 error(s)');
    expect(comment).toContain('manifests/env.yaml:');
    expect(comment).not.toMatch(/stigmer-plan-hash/);
    for (const canary of [
      'runner-token-canary',
      'deploy-key-canary',
      'outside-file-canary',
      'git-config-canary',
    ]) {
      expect(visible(r)).not.toContain(canary);
      expect(comment).not.toContain(canary);
    }
  });

  it('reports invalid manifests as annotations at file:line:col and in the comment, failing the step', async () => {
    const ws = workspace({
      'manifests/stigmer.yaml': 'project: broken\n',
      'manifests/bad.yaml': `${agentDoc('bad')}  colour: blue\n`,
    });
    const r = await run({ workspace: ws, home: tempDir('stigmer-home-'), event: prEvent(51, sha('1')) });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error file=manifests\/bad\.yaml,line=8,col=3::.*colour/m);
    expect(gh.planComments(51, 'broken')[0]!.body).toContain('manifests/bad.yaml:8:3');
    expect(r.summary).toContain('**Plan failed:** 1 error(s)');
  });
});
