/**
 * The reproductions of the security review (issue #10), each through the real CLI process with
 * a fresh STIGMER_HOME: valueFrom values are secret by default and bounded by bytes read;
 * saved plans are authenticated, show what they write and are re-checked at apply time; prune
 * needs an explicit project; the home is private; bad homes are one clear line; errors never
 * echo a secret.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parsePlanFile, serializePlanFile } from '../../src/plan/plan-file.js';
import { decodeSecretKeyText, SecretKey } from '../../src/secrets/key.js';
import { agentYaml, makeStack, STACK_FRAME, type Stack } from '../reconcile/stack.js';

const stacks: Stack[] = [];
afterAll(() => {
  for (const s of stacks) s.cleanup();
});
function fresh(): Stack {
  const s = makeStack();
  stacks.push(s);
  return s;
}

/** Every file under `dir`, recursively, as [path relative to dir, bytes]. */
function filesUnder(dir: string): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push([relative(dir, p), readFileSync(p)]);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const envYaml = (data: string) =>
  `apiVersion: agentic.stigmer.ai/v1\nkind: Environment\nmetadata:\n  name: prod\nspec:\n  data:\n${data}`;

describe('1. valueFrom values are secrets unless isSecret: false', () => {
  it('never prints, saves or stores in clear what valueFrom reads by default', async () => {
    const s = fresh();
    const canary = `canary-${randomBytes(6).toString('hex')}`;
    s.write('manifests/stigmer.yaml', 'project: demo\n');
    s.write('manifests/token.txt', `${canary}-file\n`);
    s.write(
      'manifests/env.yaml',
      envYaml(
        `    FROM_ENV:\n      valueFrom: {env: CANARY}\n    FROM_FILE:\n      valueFrom: {file: token.txt}\n    REGION:\n      valueFrom: {env: REGION}\n      isSecret: false\n`,
      ),
    );
    const env = { CANARY: canary, REGION: 'eu-west-1' };
    const outputs: string[] = [];
    for (const args of [
      ['plan'],
      ['plan', '--json'],
      ['plan', '--out', 'p.plan'],
      ['apply', 'p.plan', '--auto-approve'],
    ]) {
      const r = await s.run(args, { env });
      expect(r.code, r.stderr).toBe(0);
      outputs.push(r.stdout, r.stderr);
    }
    const yaml = await s.run(['get', 'environment', 'prod', '-o', 'yaml'], { env });
    outputs.push(yaml.stdout, yaml.stderr, s.read('p.plan'));
    const everything = outputs.join('\n');
    expect(everything).toContain('(sensitive)');
    expect(everything).toContain('eu-west-1'); // isSecret: false is shown as written
    expect(everything).not.toContain(canary);
    for (const [path, bytes] of filesUnder(s.home)) {
      expect(bytes.includes(canary), `${path} holds the plaintext`).toBe(false);
    }
    const stored = s.row('Environment', 'prod')!.spec.data as Record<string, Record<string, unknown>>;
    expect(stored.FROM_ENV).toMatchObject({ isSecret: true, sealed: expect.any(Object) });
    expect(stored.FROM_ENV!.value).toBeUndefined();
    expect(stored.REGION).toMatchObject({ isSecret: false, value: 'eu-west-1' });
  });

  it.skipIf(process.platform !== 'linux')(
    'refuses a file past 1 MiB by bytes read, even one that reports size 0 (/proc/self/pagemap)',
    async () => {
      const s = fresh();
      s.write('manifests/env.yaml', envYaml('    HUGE:\n      valueFrom: {file: /proc/self/pagemap}\n'));
      const r = await s.run(['plan']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('cannot read file /proc/self/pagemap');
      expect(r.stderr).toContain('larger than 1048576 bytes');
      expect(r.stderr).not.toMatch(STACK_FRAME);
    },
  );
});

describe('2. saved plans can be trusted', () => {
  const keyText = randomBytes(32).toString('base64');
  const key = SecretKey.fromBytes(decodeSecretKeyText(keyText)!);
  const s = fresh();
  const db = join(s.dir, 'team.db');
  const machine = (name: string, withKey = true) => ({
    STIGMER_HOME: join(s.dir, `home-${name}`),
    STIGMER_DB: db,
    ...(withKey ? { STIGMER_SECRET_KEY: keyText } : {}),
  });

  it('plans on one machine and applies on another that shares STIGMER_SECRET_KEY', async () => {
    s.write('manifests/stigmer.yaml', 'project: demo\n');
    s.write('manifests/a.yaml', agentYaml('alpha'));
    s.write('manifests/b.yaml', agentYaml('beta'));
    const planned = await s.run(['plan', '--out', 'p.plan'], { env: machine('ci-plan') });
    expect(planned.code, planned.stderr).toBe(0);
    // A third machine with its own key (a fresh master.key) cannot apply it.
    const foreign = await s.run(['apply', 'p.plan', '--auto-approve'], { env: machine('laptop', false) });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(
      /^Error: saved plan was made with secret key [0-9a-f]{8}, but this machine's key is [0-9a-f]{8}; nothing was applied$/m,
    );
    expect(statSync(join(s.dir, 'home-laptop', 'master.key')).mode & 0o777).toBe(0o600);
    const applied = await s.run(['apply', 'p.plan', '--auto-approve'], { env: machine('ci-apply') });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
  });

  it('refuses a file edited anywhere (a change, the project, an observed version), writing nothing', async () => {
    s.write('manifests/a.yaml', agentYaml('alpha', 'You help users with billing questions.'));
    s.remove('manifests/b.yaml');
    const planned = await s.run(['plan', '--out', 'p.plan'], { env: machine('ci-plan') });
    expect(planned.code, planned.stderr).toBe(0);
    const text = s.read('p.plan');
    const agents = async () =>
      (await s.run(['get', 'agents', '-o', 'json'], { env: machine('ci-apply') })).stdout;
    const before = await agents();
    const edits: Array<(t: string) => string> = [
      (t) => t.replace('billing questions', 'billing questionz'),
      (t) => t.replace(/"project": "demo"/, '"project": "demx"'),
      (t) => t.replace(/"version": 1\b/, '"version": 2'),
      // An old-style checksum recomputed by hand proves nothing.
      (t) => t.replace(/"mac": "[^"]+"/, `"mac": "hmac-sha256:${'ab'.repeat(32)}"`),
    ];
    for (const edit of edits) {
      const edited = edit(text);
      expect(edited).not.toBe(text);
      s.write('edited.plan', edited);
      const r = await s.run(['apply', 'edited.plan', '--auto-approve'], { env: machine('ci-apply') });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^Error: saved plan failed authentication: it was changed after it was saved; nothing was applied$/m,
      );
      expect(r.stdout).toBe('');
    }
    expect(await agents()).toBe(before);
  });

  it('shows what it writes, and re-checks ownership at apply time, even for a validly signed forgery', async () => {
    // Someone holding the key (or a bug) writes a plan whose display and write disagree.
    const planned = await s.run(['plan', '--out', 'p.plan'], { env: machine('ci-plan') });
    expect(planned.code, planned.stderr).toBe(0);
    const plan = parsePlanFile(s.read('p.plan'), { key });
    const change = plan.changes.find((c) => c.name === 'alpha')!;
    change.after!.spec.instructions = 'What the reviewer was shown.';
    change.write!.spec.instructions = 'What is really written.';
    s.write('forged.plan', serializePlanFile(plan, { key }));
    const shown = await s.run(['apply', 'forged.plan', '--auto-approve'], { env: machine('ci-apply') });
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('"What is really written."');
    expect(shown.stdout).not.toContain('What the reviewer was shown.');

    // A prune of another project's protected resource is refused, and nothing is written.
    s.write(
      'guarded.yaml',
      agentYaml('guarded', undefined, '  annotations:\n    stigmer.ai/prevent-destroy: "true"'),
    );
    const other = await s.run(['apply', '--project', 'other', '--auto-approve', '-f', 'guarded.yaml'], {
      env: machine('ci-apply'),
    });
    expect(other.code, other.stderr).toBe(0);
    const again = await s.run(['plan', '--out', 'p.plan'], { env: machine('ci-plan') });
    expect(again.code, again.stderr).toBe(0);
    const base = parsePlanFile(s.read('p.plan'), { key });
    base.changes.push({
      action: 'delete',
      kind: 'Agent',
      name: 'guarded',
      source: null,
      expectedVersion: 1,
      drift: false,
      reason: 'prune',
      patch: [],
      before: null,
      after: null,
    });
    base.summary.delete++;
    s.write('prune.plan', serializePlanFile(base, { key }));
    const refused = await s.run(['apply', 'prune.plan', '--auto-approve'], { env: machine('ci-apply') });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'Agent/guarded is owned by project "other", not "demo"; nothing was applied',
    );
    expect(refused.stderr).not.toMatch(STACK_FRAME);
    const kept = await s.run(['get', 'agent', 'guarded', '-o', 'json'], { env: machine('ci-apply') });
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stdout).toContain('"version": 1');
  });
});

describe('3. prune needs an explicit project', () => {
  it('two repositories without stigmer.yaml sharing a derived name never delete each other', async () => {
    const s = fresh();
    mkdirSync(join(s.dir, 'repo-one'));
    mkdirSync(join(s.dir, 'repo-two'));
    s.write('repo-one/manifests/a.yaml', agentYaml('from-one'));
    s.write('repo-two/manifests/b.yaml', agentYaml('from-two'));
    const one = await s.run(['apply', '--auto-approve'], { cwd: join(s.dir, 'repo-one') });
    expect(one.code, one.stderr).toBe(0);
    const two = await s.run(['apply', '--auto-approve'], { cwd: join(s.dir, 'repo-two') });
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    expect(two.stderr).toContain(
      'warning: no project is set, so prune is off: the project is "manifests", derived from the directory name, which other repositories may share; 1 resource of "manifests" no longer in the manifests is kept',
    );
    expect(two.stderr).toContain('to turn prune on');
    expect(s.rows().map((r) => r.name)).toEqual(['from-one', 'from-two']);
    // Said once per plan, also in --json.
    const json = await s.run(['plan', '--json'], { cwd: join(s.dir, 'repo-two') });
    const warnings = JSON.parse(json.stdout).diagnostics.filter((d: { message: string }) =>
      d.message.includes('prune is off'),
    );
    expect(warnings).toHaveLength(1);
  });

  it('names the derived project when the directory name had to be normalised', async () => {
    const s = fresh();
    s.write('odd dir!/a.yaml', agentYaml('a'));
    const r = await s.run(['plan', 'odd dir!', '--no-prune']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'warning: the project is "odd-dir", derived from the directory name "odd dir!"',
    );
  });
});

describe('4. files under STIGMER_HOME are private', () => {
  it('creates the home 0700 and every file 0600, and never caches a plaintext secret', async () => {
    const s = fresh();
    const canary = `plain-${randomBytes(6).toString('hex')}`;
    s.write('manifests/stigmer.yaml', 'project: demo\n');
    s.write('manifests/a.yaml', agentYaml('a'));
    s.write('manifests/env.yaml', envYaml(`    TOKEN:\n      isSecret: true\n      value: ${canary}\n`));
    const plan = await s.run(['plan', '--allow-plaintext-secrets']);
    expect(plan.code, plan.stderr).toBe(0);
    const apply = await s.run(['apply', '--allow-plaintext-secrets', '--auto-approve']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(statSync(s.home).mode & 0o777).toBe(0o700);
    const files = filesUnder(s.home);
    expect(files.map(([p]) => p)).toEqual(expect.arrayContaining(['local.db', 'master.key']));
    expect(files.some(([p]) => p.startsWith('cache/parse/'))).toBe(true);
    for (const [path, bytes] of files) {
      expect(statSync(join(s.home, path)).mode & 0o777, path).toBe(0o600);
      expect(bytes.includes(canary), `${path} holds the plaintext`).toBe(false);
    }
    expect(statSync(join(s.home, 'cache')).mode & 0o777).toBe(0o700);
    expect(statSync(join(s.home, 'cache', 'parse')).mode & 0o777).toBe(0o700);
  });
});

describe('5. bad homes are one clear line', () => {
  const s = fresh();
  writeFileSync(join(s.dir, 'a-file'), 'not a directory\n');
  s.write('manifests/a.yaml', agentYaml('a'));
  const cases: Array<[string, string, RegExp]> = [
    ['a file', join(s.dir, 'a-file'), /^Error: STIGMER_HOME \S+a-file is not a directory$/m],
    [
      'under a file',
      join(s.dir, 'a-file', 'home'),
      /^Error: STIGMER_HOME \S+ cannot be a directory: \S+a-file is a file$/m,
    ],
    ['/proc/nonexist', '/proc/nonexist', /^Error: cannot create STIGMER_HOME \/proc\/nonexist \(\w+\)$/m],
  ];
  for (const [what, home, expected] of cases) {
    it.skipIf(home.startsWith('/proc') && process.platform !== 'linux')(
      `STIGMER_HOME pointing at ${what}: exit 1, one line naming the path`,
      async () => {
        const commands = home.endsWith('a-file')
          ? [['plan'], ['apply', '--auto-approve'], ['get', 'agents'], ['init']]
          : [['apply', '--auto-approve'], ['init']];
        for (const args of commands) {
          const r = await s.run(args, { env: { STIGMER_HOME: home } });
          expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(1);
          expect(r.stderr).toMatch(expected);
          expect(r.stderr).not.toContain('internal error');
          expect(r.stderr).not.toMatch(STACK_FRAME);
        }
      },
    );
  }
});

describe('6. errors never echo a secret', () => {
  it('names the secret entry in hints (text and --json), and quotes other values as written', async () => {
    const s = fresh();
    s.write('manifests/env.yaml', envYaml('    PIN:\n      isSecret: true\n      value: 12345678901234\n'));
    s.write(
      'manifests/a.yaml',
      agentYaml('a', undefined, '').replace('spec:\n', 'spec:\n  config:\n    max_tokens: 0x10\n'),
    );
    const text = await s.run(['plan', '--allow-plaintext-secrets']);
    const json = await s.run(['plan', '--json', '--allow-plaintext-secrets']);
    const validate = await s.run(['validate']);
    for (const r of [text, json, validate]) {
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).not.toContain('12345678901234');
    }
    expect(text.stderr).toContain('hint: write the value of secret PIN in quotes, so it stays a string');
    expect(text.stderr).toContain('hint: quote the value: "0x10"');
    const hints = JSON.parse(json.stdout).diagnostics.map((d: { hint?: string }) => d.hint);
    expect(hints).toEqual(
      expect.arrayContaining([
        'write the value of secret PIN in quotes, so it stays a string',
        'quote the value: "0x10"',
      ]),
    );
    for (const [path, bytes] of filesUnder(s.home)) {
      expect(bytes.includes('12345678901234'), path).toBe(false);
    }
  });
});
