/**
 * Secrets through plan and apply, as a user runs them (real CLI process, real SQLite file): an
 * `isSecret` value read from the environment never appears in the text plan, the JSON plan, a
 * saved plan file, `apply --json`, `get` or the database file; a changed secret is detected
 * (by keyed hash) and shown only as `(sensitive, changed)`; an unchanged one plans nothing.
 * Every client of one state shares the key: two CLIs with the same STIGMER_SECRET_KEY plan the
 * same secrets as unchanged, and a client with another key gets one error naming both key ids.
 * On the local backend and on the cloud backend (a real `stigmer server`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SecretKey } from '../../src/secrets/key.js';
import { BACKENDS, makeStack } from './stack.js';

const SECRET = 'ghp_s3cr3t-token-value-0123456789';
const ROTATED = 'ghp_r0tated-token-value-9876543210';

const environment = [
  'apiVersion: agentic.stigmer.ai/v1',
  'kind: Environment',
  'metadata:',
  '  name: github-env',
  'spec:',
  '  data:',
  '    GITHUB_API_URL:',
  '      value: https://api.github.com',
  '    GITHUB_TOKEN:',
  '      isSecret: true',
  '      valueFrom:',
  '        env: DEMO_GITHUB_TOKEN',
  '',
].join('\n');

describe.each(BACKENDS)('%s backend', (backend) => {
  describe('secrets in plan and apply', () => {
    const stack = makeStack({ backend });
    afterAll(() => stack.cleanup());
    stack.write('manifests/stigmer.yaml', 'project: demo\n');
    stack.write('manifests/env.yaml', environment);
    const env = { DEMO_GITHUB_TOKEN: SECRET };

    it('plan shows the secret only as (sensitive), in text, JSON and the saved plan file', async () => {
      const text = await stack.run(['plan', '--out', 'secret.plan'], { env });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain('spec.data.GITHUB_TOKEN.sealed = (sensitive)');
      const json = await stack.run(['plan', '--json'], { env });
      expect(json.code, json.stderr).toBe(0);
      expect(json.stdout).toContain('(sensitive)');
      for (const out of [text.stdout, text.stderr, json.stdout, json.stderr])
        expect(out).not.toContain(SECRET);
      expect(readFileSync(join(stack.dir, 'secret.plan'), 'utf8')).not.toContain(SECRET);
    });

    it('apply --json reports results without the value; nothing stored in plaintext', async () => {
      const r = await stack.run(['apply', 'secret.plan', '--auto-approve', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.applied).toEqual({ added: 1, changed: 0, destroyed: 0 });
      expect(out.results).toEqual([
        expect.objectContaining({ action: 'create', kind: 'Environment', version: 1 }),
      ]);
      expect(r.stdout).not.toContain(SECRET);
      const get = await stack.run(['get', 'environment', 'github-env', '-o', 'yaml']);
      expect(get.stdout).not.toContain(SECRET);
      for (const file of [stack.db, `${stack.db}-wal`]) {
        if (existsSync(file)) expect(readFileSync(file).includes(Buffer.from(SECRET)), file).toBe(false);
      }
    });

    it('the same secret plans no change; a rotated one is one update shown as (sensitive, changed)', async () => {
      const same = await stack.run(['plan', '--detailed-exitcode'], { env });
      expect(same.code, same.stdout + same.stderr).toBe(0);
      const rotated = await stack.run(['plan', '--detailed-exitcode'], {
        env: { DEMO_GITHUB_TOKEN: ROTATED },
      });
      expect(rotated.code, rotated.stderr).toBe(2);
      expect(rotated.stdout).toContain('~ spec.data.GITHUB_TOKEN.sealed = (sensitive, changed)');
      expect(rotated.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
      expect(rotated.stdout).not.toContain(ROTATED);
      expect(rotated.stdout).not.toContain(SECRET);
    });

    it('a missing secret variable is an error at the manifest, and nothing is written', async () => {
      const before = stack.snapshot();
      const r = await stack.run(['apply', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^manifests\/env\.yaml:\d+:\d+: .*DEMO_GITHUB_TOKEN/m);
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(stack.snapshot()).toBe(before);
    });
  });

  describe('one key for every client of the state', () => {
    const stack = makeStack({ backend });
    // A colleague's checkout of the same project, planning against the same state.
    const colleague = makeStack({ home: stack.home, backend });
    afterAll(async () => {
      await colleague.cleanup();
      await stack.cleanup();
    });
    const teamKey = randomBytes(32).toString('base64');
    for (const s of [stack, colleague]) {
      s.write('manifests/stigmer.yaml', 'project: demo\n');
      s.write('manifests/env.yaml', environment);
    }

    it('two CLIs with the same STIGMER_SECRET_KEY plan the same secrets as unchanged', async () => {
      const env = { DEMO_GITHUB_TOKEN: SECRET, STIGMER_SECRET_KEY: teamKey };
      const applied = await stack.run(['apply', '--auto-approve'], { env });
      expect(applied.code, applied.stderr).toBe(0);
      const plan = await colleague.run(['plan', '--detailed-exitcode'], { env });
      expect(plan.code, plan.stdout + plan.stderr).toBe(0);
      expect(plan.stdout.trim()).toBe('No changes. Your resources match the manifests.');
    });

    it('a client with another key gets one error naming both key ids, never a plan rewriting the secrets', async () => {
      const otherKey = randomBytes(32).toString('base64');
      const before = stack.snapshot();
      for (const args of [['plan'], ['apply', '--auto-approve']]) {
        const r = await colleague.run(args, {
          env: { DEMO_GITHUB_TOKEN: SECRET, STIGMER_SECRET_KEY: otherKey },
        });
        expect(r.code, args.join(' ')).toBe(1);
        const ids = [keyId(teamKey), keyId(otherKey)];
        expect(r.stderr.split('\n')[0]).toBe(
          `Error: Environment/github-env holds secrets sealed with key ${ids[0]}, but this client's key is ${ids[1]}`,
        );
        expect(r.stderr).toContain('STIGMER_SECRET_KEY');
        expect(r.stdout).not.toContain('(sensitive, changed)');
        expect(r.stderr).not.toMatch(/^\s+at /m);
      }
      expect(stack.snapshot()).toBe(before);
    });

    it('--reseal-secrets rotates to the new key: every secret sealed again, then no changes', async () => {
      const newKey = randomBytes(32).toString('base64');
      const env = { DEMO_GITHUB_TOKEN: SECRET, STIGMER_SECRET_KEY: newKey };
      const plan = await colleague.run(['plan', '--reseal-secrets'], { env });
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('(sensitive, changed)');
      const applied = await colleague.run(['apply', '--reseal-secrets', '--auto-approve'], { env });
      expect(applied.code, applied.stderr).toBe(0);
      const again = await stack.run(['plan', '--detailed-exitcode'], { env });
      expect(again.code, again.stdout + again.stderr).toBe(0);
      const old = await stack.run(['plan'], { env: { ...env, STIGMER_SECRET_KEY: teamKey } });
      expect(old.code).toBe(1);
      expect(old.stderr).toContain(`sealed with key ${keyId(newKey)}`);
    });
  });
});

/** The key id of a base64 key, as the CLI names it. */
function keyId(text: string): string {
  return SecretKey.fromBytes(Buffer.from(text, 'base64')).keyId;
}
