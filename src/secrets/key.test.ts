import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import { decodeSecretKeyText, loadSecretKey, MASTER_KEY_FILE, SECRET_KEY_ENV, SecretKey } from './key.js';

const posix = process.platform !== 'win32';
const dirs: string[] = [];
function tempHome(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stigmer-key-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function secretError(fn: () => unknown): StigmerError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StigmerError);
    expect((err as StigmerError).code).toBe('SECRET');
    return err as StigmerError;
  }
  throw new Error('expected a StigmerError');
}

describe('STIGMER_SECRET_KEY', () => {
  const bytes = randomBytes(32);
  const reference = SecretKey.fromBytes(bytes);

  it.each([
    ['base64', bytes.toString('base64')],
    ['base64 without padding', bytes.toString('base64').replace(/=$/, '')],
    ['base64url', bytes.toString('base64url')],
    ['hex', bytes.toString('hex')],
    ['upper-case hex', bytes.toString('hex').toUpperCase()],
    ['base64 with a trailing newline', `${bytes.toString('base64')}\n`],
  ])('accepts %s', (_form, text) => {
    const home = tempHome();
    const key = loadSecretKey({ home, env: { [SECRET_KEY_ENV]: text } });
    expect(key.keyId).toBe(reference.keyId);
    expect(key.source).toEqual({ type: 'env', variable: SECRET_KEY_ENV });
    // The environment key wins; no key file is created.
    expect(() => statSync(join(home, MASTER_KEY_FILE))).toThrow();
  });

  it.each([
    ['a passphrase', 'correct horse battery staple'],
    ['31 bytes of base64', randomBytes(31).toString('base64')],
    ['33 bytes of base64', randomBytes(33).toString('base64')],
    ['31 bytes of hex', randomBytes(31).toString('hex')],
    ['hex with a stray letter', `${randomBytes(31).toString('hex')}zz`],
  ])('refuses %s with a hint, without echoing it', (_form, text) => {
    const err = secretError(() => loadSecretKey({ home: tempHome(), env: { [SECRET_KEY_ENV]: text } }));
    expect(err.hint).toContain('openssl rand -base64 32');
    expect(err.message).not.toContain(text);
    expect(err.message).toContain(SECRET_KEY_ENV);
  });

  it('refuses an empty value instead of silently using another key', () => {
    const err = secretError(() => loadSecretKey({ home: tempHome(), env: { [SECRET_KEY_ENV]: '  ' } }));
    expect(err.message).toMatch(/empty/);
    expect(err.hint).toContain('openssl rand -base64 32');
  });

  it('decodes hex and base64 of the same bytes to the same key', () => {
    expect(decodeSecretKeyText(bytes.toString('hex'))).toEqual(bytes);
    expect(decodeSecretKeyText(bytes.toString('base64'))).toEqual(bytes);
    expect(decodeSecretKeyText('not a key')).toBeNull();
  });
});

describe('SecretKey', () => {
  it('derives a stable key id that differs between keys', () => {
    const bytes = randomBytes(32);
    expect(SecretKey.fromBytes(bytes).keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(SecretKey.fromBytes(Buffer.from(bytes)).keyId).toBe(SecretKey.fromBytes(bytes).keyId);
    expect(SecretKey.fromBytes(randomBytes(32)).keyId).not.toBe(SecretKey.fromBytes(bytes).keyId);
  });

  it('never prints or serialises key material', () => {
    const bytes = randomBytes(32);
    const key = SecretKey.fromBytes(bytes);
    const shown = [JSON.stringify(key), inspect(key, { showHidden: true, depth: 10 }), String(key)].join(
      '\n',
    );
    expect(shown).toContain(key.keyId);
    for (const form of [bytes.toString('base64'), bytes.toString('hex')]) expect(shown).not.toContain(form);
  });

  it('refuses a key of the wrong length', () => {
    secretError(() => SecretKey.fromBytes(randomBytes(16)));
  });
});

describe('master.key', () => {
  it.skipIf(!posix)('is created on first use with 32 random bytes, base64, mode 0600', () => {
    const home = join(tempHome(), 'nested', 'home');
    const key = loadSecretKey({ home, env: {} });
    const path = join(home, MASTER_KEY_FILE);
    expect(key.source).toEqual({ type: 'file', path, created: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    expect(SecretKey.fromBytes(Buffer.from(text.trim(), 'base64')).keyId).toBe(key.keyId);

    const again = loadSecretKey({ home, env: {} });
    expect(again.keyId).toBe(key.keyId);
    expect(again.source).toEqual({ type: 'file', path, created: false });
  });

  it.skipIf(!posix)('is created 0600 even under a permissive umask', () => {
    const previous = process.umask(0);
    try {
      const home = tempHome();
      loadSecretKey({ home, env: {} });
      expect(statSync(join(home, MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(previous);
    }
  });

  it.skipIf(!posix).each([0o640, 0o604, 0o620, 0o602, 0o644])(
    'is refused when its mode is %o, with a chmod hint',
    (mode) => {
      const home = tempHome();
      const path = join(home, MASTER_KEY_FILE);
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`);
      chmodSync(path, mode);
      const err = secretError(() => loadSecretKey({ home, env: {} }));
      expect(err.message).toContain(path);
      expect(err.message).toContain(mode.toString(8));
      expect(err.hint).toBe(`chmod 600 ${path}`);
    },
  );

  it('accepts a key file written in hex', () => {
    const home = tempHome();
    const bytes = randomBytes(32);
    writeFileSync(join(home, MASTER_KEY_FILE), bytes.toString('hex'), { mode: 0o600 });
    expect(loadSecretKey({ home, env: {} }).keyId).toBe(SecretKey.fromBytes(bytes).keyId);
  });

  it('refuses a malformed key file without showing its content', () => {
    const home = tempHome();
    const path = join(home, MASTER_KEY_FILE);
    writeFileSync(path, 'hunter2-is-not-a-key\n', { mode: 0o600 });
    const err = secretError(() => loadSecretKey({ home, env: {} }));
    expect(err.message).toBe(`master key file ${path} is not a 32-byte key in base64`);
    expect(err.hint).toMatch(/backup/);
    // The file is left alone: replacing it would orphan every value sealed with it.
    expect(readFileSync(path, 'utf8')).toBe('hunter2-is-not-a-key\n');
  });

  it('refuses an empty key file after waiting for a writer', () => {
    const home = tempHome();
    writeFileSync(join(home, MASTER_KEY_FILE), '', { mode: 0o600 });
    expect(secretError(() => loadSecretKey({ home, env: {} })).message).toMatch(/is empty$/);
  });

  it('refuses a directory in place of the key file', () => {
    const home = tempHome();
    mkdirSync(join(home, MASTER_KEY_FILE), { mode: 0o700 });
    expect(secretError(() => loadSecretKey({ home, env: {} })).message).toMatch(/not a regular file/);
  });

  it.skipIf(!posix || process.getuid?.() === 0)('reports a home it cannot create', () => {
    const parent = tempHome();
    chmodSync(parent, 0o500);
    try {
      const err = secretError(() => loadSecretKey({ home: join(parent, 'home'), env: {} }));
      expect(err.message).toMatch(/cannot create master key file/);
    } finally {
      chmodSync(parent, 0o700);
    }
  });
});

/**
 * Compiles key.ts and errors.ts to plain JavaScript in a temp directory, so that separate node
 * processes (which cannot load TypeScript on Node 20) can race to create the key file.
 */
function compileKeyModule(outDir: string): string {
  const src = join(dirname(fileURLToPath(import.meta.url)), '..');
  for (const rel of ['errors.ts', 'private-files.ts', 'secrets/key.ts']) {
    const out = ts.transpileModule(readFileSync(join(src, rel), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    const target = join(outDir, rel.replace(/\.ts$/, '.mjs'));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, out.outputText.replace(/from '(\.\.?\/[^']+)\.js'/g, "from '$1.mjs'"));
  }
  return join(outDir, 'secrets', 'key.mjs');
}

function runNode(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

describe('concurrent creation', () => {
  it('leaves every racing process with the same key', async () => {
    const work = tempHome();
    const modulePath = compileKeyModule(join(work, 'js'));
    // Each child waits for a common start instant, then loads (and maybe creates) the key.
    const script = `
      const { loadSecretKey } = await import(${JSON.stringify(`file://${modulePath}`)});
      const [home, startAt] = process.argv.slice(1);
      while (Date.now() < Number(startAt)) {}
      const key = loadSecretKey({ home, env: {} });
      console.log(JSON.stringify({ keyId: key.keyId, created: key.source.created }));
    `;
    for (let round = 0; round < 3; round++) {
      const home = join(work, `home-${round}`);
      const startAt = String(Date.now() + 600);
      const outputs = await Promise.all(Array.from({ length: 6 }, () => runNode(script, [home, startAt])));
      const results = outputs.map((o) => JSON.parse(o) as { keyId: string; created: boolean });
      const fileKey = loadSecretKey({ home, env: {} });
      expect(new Set(results.map((r) => r.keyId))).toEqual(new Set([fileKey.keyId]));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const path = join(home, MASTER_KEY_FILE);
      if (posix) expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
    }
  }, 30_000);
});
