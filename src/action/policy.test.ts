import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ResolveSecretsContext, resolveEnvironmentSecrets } from '../secrets/environment.js';
import { SecretKey } from '../secrets/key.js';
import { FORBIDDEN_ENV_PREFIXES, parseAllowEnv, untrustedInputPolicy } from './policy.js';

const root = mkdtempSync(join(tmpdir(), 'stigmer-policy-'));
const workspace = join(root, 'ws');
const manifests = join(workspace, 'manifests');
mkdirSync(manifests, { recursive: true });
mkdirSync(join(workspace, '.git'));
writeFileSync(join(workspace, '.git', 'config'), 'token\n');
writeFileSync(join(manifests, 'inside.txt'), 'inside-value\n');
writeFileSync(join(root, 'outside.txt'), 'outside-value\n');
symlinkSync(join(root, 'outside.txt'), join(workspace, 'sneaky.txt'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An environment that records every variable read from it. */
function recordingEnv(values: Record<string, string>) {
  const reads: string[] = [];
  const env = new Proxy(values, {
    get(target, name) {
      if (typeof name === 'string') reads.push(name);
      return target[name as string];
    },
  }) as Record<string, string | undefined>;
  return { env, reads };
}

function resolveWith(
  data: Record<string, unknown>,
  env: Record<string, string | undefined>,
  allow: string[],
) {
  const ctx: ResolveSecretsContext = {
    env,
    baseDir: manifests,
    key: SecretKey.fromBytes(randomBytes(32)),
    allowPlaintextSecrets: false,
    policy: untrustedInputPolicy({ allowEnv: new Set(allow), workspace }),
  };
  return resolveEnvironmentSecrets({ data } as never, { name: 'env' }, ctx);
}

describe('parseAllowEnv', () => {
  it('takes names separated by commas or newlines; empty means none', () => {
    expect([...parseAllowEnv('')]).toEqual([]);
    expect([...parseAllowEnv(' OPENAI_API_KEY, SLACK_URL\nOTHER ')]).toEqual([
      'OPENAI_API_KEY',
      'SLACK_URL',
      'OTHER',
    ]);
  });

  it('refuses names the action never exposes, in any case, and what is not a variable name', () => {
    for (const prefix of FORBIDDEN_ENV_PREFIXES) {
      expect(() => parseAllowEnv(`OK, ${prefix}THING`)).toThrow(/can never be read/);
      expect(() => parseAllowEnv(`${prefix.toLowerCase()}thing`)).toThrow(/can never be read/);
    }
    expect(() => parseAllowEnv('NOT-A-NAME')).toThrow(/not an environment variable name/);
  });
});

describe('the untrusted-input policy', () => {
  it('reads only allowed variables; refused ones are errors at the entry and are never read', () => {
    const { env, reads } = recordingEnv({
      ALLOWED: 'a-value',
      GITHUB_TOKEN: 'gh',
      INPUT_TOKEN: 'in',
      OTHER: 'o',
    });
    const result = resolveWith(
      {
        A: { isSecret: true, valueFrom: { env: 'ALLOWED' } },
        B: { isSecret: false, valueFrom: { env: 'GITHUB_TOKEN' } },
        C: { isSecret: false, valueFrom: { env: 'INPUT_TOKEN', optional: true } },
        D: { isSecret: false, valueFrom: { env: 'OTHER' } },
      },
      env,
      ['ALLOWED'],
    );
    expect(reads).toEqual(['ALLOWED']);
    expect(result.errors.map((e) => [e.dataKey, e.path])).toEqual([
      ['B', '/spec/data/B/valueFrom/env'],
      ['C', '/spec/data/C/valueFrom/env'],
      ['D', '/spec/data/D/valueFrom/env'],
    ]);
    expect(result.errors[0]!.message).toMatch(/may never read GITHUB_\* variables/);
    expect(result.errors[2]!.message).toMatch(/OTHER, which is not in the action's allow-env list/);
    expect(JSON.stringify(result)).not.toMatch(/"gh"|"in"|"o"/);
  });

  it('a listed variable with a forbidden prefix is still refused', () => {
    const { env, reads } = recordingEnv({ RUNNER_TOKEN: 'r' });
    const result = resolveWith({ A: { isSecret: false, valueFrom: { env: 'RUNNER_TOKEN' } } }, env, [
      'RUNNER_TOKEN',
    ]);
    expect(reads).toEqual([]);
    expect(result.errors[0]!.message).toMatch(/RUNNER_\*/);
  });

  it('reads files inside the workspace only: not outside, not through a symlink out, not in .git', () => {
    const result = resolveWith(
      {
        IN: { isSecret: false, valueFrom: { file: 'inside.txt' } },
        OUT: { isSecret: false, valueFrom: { file: join(root, 'outside.txt') } },
        UP: { isSecret: false, valueFrom: { file: '../../outside.txt' } },
        LINK: { isSecret: false, valueFrom: { file: '../sneaky.txt' } },
        GIT: { isSecret: false, valueFrom: { file: '../.git/config' } },
        MISSING: { isSecret: false, valueFrom: { file: 'nope.txt' } },
      },
      {},
      [],
    );
    expect((result.spec.data as Record<string, { value?: string }>).IN!.value).toBe('inside-value');
    const byKey = Object.fromEntries(result.errors.map((e) => [e.dataKey, e.message]));
    expect(byKey.OUT).toMatch(/outside the workspace/);
    expect(byKey.UP).toMatch(/outside the workspace/);
    expect(byKey.LINK).toMatch(/sneaky\.txt, a symbolic link that leads outside the workspace/);
    expect(byKey.GIT).toMatch(/\.git\/config, inside the repository's \.git directory/);
    expect(byKey.MISSING).toMatch(/no such file/);
    expect(JSON.stringify(result)).not.toContain('outside-value');
  });
});
