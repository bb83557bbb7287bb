/**
 * Secrets at the CLI (issue 6, docs/reliability.md): a master.key readable by others is refused,
 * STIGMER_SECRET_KEY replaces the key file, a plaintext secret value is refused unless
 * --allow-plaintext-secrets, and the default stack's optional GITHUB_TOKEN works with the
 * variable unset, set, and changed.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStigmer, tempDir } from '../helpers/cli.js';
import { writeVault } from './vault.js';

const CANARY = 'canary-7f3a9c1e-first-LINE\n  CANARY:second:line:b41e77';

let tmp: { path: string; cleanup: () => void };
let db: string;
let home: string;
beforeEach(() => {
  tmp = tempDir('stigmer-secrets-cli-');
  db = join(tmp.path, 'state.db');
  home = join(tmp.path, 'home');
});
afterEach(() => tmp.cleanup());

describe('secret keys and plaintext secrets', () => {
  it('refuses a master.key readable by the group, with a clear message', async () => {
    const dir = join(tmp.path, 'stack');
    writeVault(dir);
    const env = { STIGMER_HOME: home, CANARY };
    expect((await runStigmer(['apply', dir, '--auto-approve', '--db', db], { env })).code).toBe(0);
    const keyFile = join(home, 'master.key');
    expect(existsSync(keyFile)).toBe(true);
    chmodSync(keyFile, 0o640);
    const r = await runStigmer(['plan', dir, '--db', db], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(keyFile);
    expect(r.stderr).toContain('chmod 600');
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  it('uses STIGMER_SECRET_KEY instead of a key file', async () => {
    const dir = join(tmp.path, 'stack');
    writeVault(dir);
    const key = randomBytes(32).toString('base64');
    const env = { STIGMER_HOME: home, CANARY, STIGMER_SECRET_KEY: key };
    const applied = await runStigmer(['apply', dir, '--auto-approve', '--db', db], { env });
    expect(applied.code, applied.stderr).toBe(0);
    expect(existsSync(join(home, 'master.key'))).toBe(false);
    const shown = await runStigmer(
      ['get', 'environment', 'vault', '--show-secrets', '-o', 'json', '--db', db],
      {
        env,
      },
    );
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('canary-7f3a9c1e-first-LINE');
    // Another key cannot read it, and says why.
    const other = await runStigmer(['get', 'environment', 'vault', '--show-secrets', '--db', db], {
      env: { ...env, STIGMER_SECRET_KEY: randomBytes(32).toString('base64') },
    });
    expect(other.code).toBe(1);
    expect(other.stderr).toMatch(/key/);
    expect(other.stderr).not.toContain('canary-7f3a9c1e');
  });

  it('refuses a plaintext secret value with file:line, unless --allow-plaintext-secrets', async () => {
    const dir = join(tmp.path, 'stack');
    writeVault(dir, 'value: plain-canary-3e8d1f');
    const env = { STIGMER_HOME: home };
    const refused = await runStigmer(['plan', dir, '--db', db], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/vault\.yaml:\d+:\d+: .*plaintext secret value for CANARY_SECRET/);
    expect(refused.stderr).toContain('--allow-plaintext-secrets');
    expect(refused.stderr).not.toContain('plain-canary-3e8d1f');
    const allowed = await runStigmer(
      ['apply', dir, '--auto-approve', '--allow-plaintext-secrets', '--db', db],
      {
        env,
      },
    );
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stdout).not.toContain('plain-canary-3e8d1f');
    expect(readFileSync(db).toString('latin1')).not.toContain('plain-canary-3e8d1f');
  });
});

describe("the default stack's optional GITHUB_TOKEN", () => {
  it('applies with the variable unset, seals it when set, and shows a changed value as (sensitive, changed)', async () => {
    // The repository's own manifests/ directory, as on a fresh clone.
    const run = (args: string[], token: string | undefined) =>
      runStigmer([...args, '--db', db], { env: { STIGMER_HOME: home, GITHUB_TOKEN: token } });
    const unset = await run(['apply', '--auto-approve'], undefined);
    expect(unset.code, unset.stderr).toBe(0);
    expect(unset.stdout).toContain('Apply complete!');
    const bare = await run(['get', 'environment', 'github-env', '-o', 'json'], undefined);
    expect(bare.stdout).toContain('GITHUB_TOKEN');
    expect(bare.stdout).not.toContain('(sensitive)');

    const token = `ghp_canary${randomBytes(12).toString('hex')}`;
    const set = await run(['plan', '--detailed-exitcode'], token);
    expect(set.code, set.stderr).toBe(2);
    expect(set.stdout).toContain('spec.data.GITHUB_TOKEN.sealed = (sensitive, changed)');
    expect((await run(['apply', '--auto-approve'], token)).code).toBe(0);
    expect((await run(['plan', '--detailed-exitcode'], token)).code).toBe(0);
    const redacted = await run(['get', 'environment', 'github-env', '-o', 'yaml'], token);
    expect(redacted.stdout).toContain('(sensitive)');
    expect(redacted.stdout).not.toContain(token);
    const revealed = await run(['get', 'environment', 'github-env', '-o', 'yaml', '--show-secrets'], token);
    expect(revealed.stdout).toContain(token);

    const rotated = await run(['plan', '--detailed-exitcode'], `${token}-rotated`);
    expect(rotated.code).toBe(2);
    expect(rotated.stdout).toMatch(/~ spec\.data\.GITHUB_TOKEN\.sealed = \(sensitive, changed\)/);
    expect(rotated.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    expect(rotated.stdout).not.toContain(token);
  });
});
