import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import jsonpatch from 'fast-json-patch';
import { afterAll, describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import type { JsonObject } from '../types.js';
import {
  collectSecretValues,
  comparableSecretSpec,
  isSecretEntry,
  type ResolveSecretsContext,
  redactSecretPatch,
  redactSpec,
  resolveEnvironmentSecrets,
  revealSpec,
  SENSITIVE,
  SENSITIVE_CHANGED,
  secretDataKeys,
} from './environment.js';
import { SecretKey } from './key.js';
import { openSecret } from './seal.js';

const key = SecretKey.fromBytes(randomBytes(32));
const baseDir = mkdtempSync(join(tmpdir(), 'stigmer-env-'));
afterAll(() => rmSync(baseDir, { recursive: true, force: true }));

function ctx(overrides: Partial<ResolveSecretsContext> = {}): ResolveSecretsContext {
  return { env: {}, baseDir, key, allowPlaintextSecrets: false, ...overrides };
}

type Data = Record<string, Record<string, unknown>>;
const dataOf = (spec: JsonObject) => spec.data as unknown as Data;

describe('resolveEnvironmentSecrets', () => {
  it('seals a secret from valueFrom.env and keeps valueFrom and description', () => {
    const spec: JsonObject = {
      description: 'production',
      data: {
        API_TOKEN: { valueFrom: { env: 'PROD_TOKEN' }, isSecret: true, description: 'the token' },
        REGION: { value: 'eu-west-1' },
      },
    };
    const { spec: out, errors } = resolveEnvironmentSecrets(
      spec,
      { name: 'prod' },
      ctx({ env: { PROD_TOKEN: 'tok-123' } }),
    );
    expect(errors).toEqual([]);
    expect(out.description).toBe('production');
    const entry = dataOf(out).API_TOKEN!;
    expect(Object.keys(entry).sort()).toEqual(['description', 'isSecret', 'sealed', 'valueFrom']);
    expect(entry.valueFrom).toEqual({ env: 'PROD_TOKEN' });
    expect(entry.value).toBeUndefined();
    const sealed = entry.sealed as { hash: string; ciphertext: string };
    expect(openSecret(key, { kind: 'Environment', name: 'prod', key: 'API_TOKEN' }, sealed)).toBe('tok-123');
    expect(dataOf(out).REGION).toEqual({ value: 'eu-west-1' });
    // The input is not modified.
    expect(dataOf(spec).API_TOKEN!.sealed).toBeUndefined();
  });

  it('reads valueFrom.file relative to the manifest directory and strips one trailing newline', () => {
    mkdirSync(join(baseDir, 'secrets'), { recursive: true });
    writeFileSync(join(baseDir, 'secrets', 'one.txt'), 'line1\nline2\n\n');
    writeFileSync(join(baseDir, 'secrets', 'crlf.txt'), 'windows\r\n');
    writeFileSync(join(baseDir, 'secrets', 'bare.txt'), 'bare');
    const spec: JsonObject = {
      data: {
        ONE: { valueFrom: { file: 'secrets/one.txt' }, isSecret: true },
        CRLF: { valueFrom: { file: 'secrets/crlf.txt' }, isSecret: true },
        BARE: { valueFrom: { file: join(baseDir, 'secrets', 'bare.txt') }, isSecret: true },
        PLAIN: { valueFrom: { file: 'secrets/bare.txt' }, isSecret: false },
      },
    };
    const { spec: out, errors } = resolveEnvironmentSecrets(spec, { name: 'files' }, ctx());
    expect(errors).toEqual([]);
    const revealed = dataOf(revealSpec(out, { name: 'files' }, key));
    expect(revealed.ONE!.value).toBe('line1\nline2\n');
    expect(revealed.CRLF!.value).toBe('windows');
    expect(revealed.BARE!.value).toBe('bare');
    expect(dataOf(out).PLAIN).toEqual({
      valueFrom: { file: 'secrets/bare.txt' },
      isSecret: false,
      value: 'bare',
    });
  });

  it('refuses a file that is not UTF-8 text', () => {
    writeFileSync(join(baseDir, 'binary.bin'), Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    const spec: JsonObject = { data: { BIN: { valueFrom: { file: 'binary.bin' }, isSecret: true } } };
    const { errors } = resolveEnvironmentSecrets(spec, { name: 'e' }, ctx());
    expect(errors[0]!.message).toMatch(/not UTF-8 text$/);
  });

  it('resolves valueFrom with isSecret: false into value and keeps valueFrom', () => {
    const spec: JsonObject = {
      data: { LOG_LEVEL: { valueFrom: { env: 'LOG_LEVEL' }, isSecret: false, description: 'd' } },
    };
    const { spec: out, errors } = resolveEnvironmentSecrets(
      spec,
      { name: 'e' },
      ctx({ env: { LOG_LEVEL: 'debug' } }),
    );
    expect(errors).toEqual([]);
    expect(dataOf(out).LOG_LEVEL).toEqual({
      valueFrom: { env: 'LOG_LEVEL' },
      isSecret: false,
      description: 'd',
      value: 'debug',
    });
  });

  it('treats valueFrom without isSecret as a secret: sealed, no value, redacted', () => {
    const spec: JsonObject = {
      data: {
        FROM_ENV: { valueFrom: { env: 'LOG_LEVEL' } },
        SHOWN: { value: 'eu-west-1' },
      },
    };
    const { spec: out, errors } = resolveEnvironmentSecrets(
      spec,
      { name: 'e' },
      ctx({ env: { LOG_LEVEL: 'debug-canary' } }),
    );
    expect(errors).toEqual([]);
    const entry = dataOf(out).FROM_ENV!;
    expect(entry.isSecret).toBe(true);
    expect(entry.value).toBeUndefined();
    expect(JSON.stringify(out)).not.toContain('debug-canary');
    expect(dataOf(revealSpec(out, { name: 'e' }, key)).FROM_ENV!.value).toBe('debug-canary');
    expect(secretDataKeys(out)).toEqual(['FROM_ENV']);
    // Even unsealed (as an older version stored it), such an entry is redacted.
    expect(
      dataOf(redactSpec({ data: { OLD: { valueFrom: { env: 'X' }, value: 'debug-canary' } } })).OLD,
    ).toEqual({ valueFrom: { env: 'X' }, value: '(sensitive)' });
  });

  it.skipIf(process.platform !== 'linux')(
    'stops reading a file at the size limit by bytes read, whatever size the file reports',
    () => {
      // /proc/self/pagemap reports size 0 and yields gigabytes; the limit must hold anyway.
      const spec: JsonObject = { data: { HUGE: { valueFrom: { file: '/proc/self/pagemap' } } } };
      const before = process.memoryUsage().rss;
      const { errors } = resolveEnvironmentSecrets(spec, { name: 'e' }, ctx());
      expect(errors.map((e) => e.message)).toEqual([
        'cannot read file /proc/self/pagemap (valueFrom.file of secret HUGE in Environment/e): larger than 1048576 bytes',
      ]);
      expect(process.memoryUsage().rss - before).toBeLessThan(64 * 1024 * 1024);
    },
  );

  it('names a missing variable, never a value', () => {
    const spec: JsonObject = {
      data: {
        TOKEN: { valueFrom: { env: 'MISSING_TOKEN' }, isSecret: true },
        HOST: { valueFrom: { env: 'MISSING_HOST' }, isSecret: false },
      },
    };
    const { spec: out, errors } = resolveEnvironmentSecrets(spec, { name: 'prod' }, ctx());
    expect(errors).toEqual([
      {
        dataKey: 'TOKEN',
        path: '/spec/data/TOKEN/valueFrom/env',
        message:
          'environment variable MISSING_TOKEN is not set (valueFrom.env of secret TOKEN in Environment/prod)',
        hint: expect.stringContaining('MISSING_TOKEN'),
      },
      {
        dataKey: 'HOST',
        path: '/spec/data/HOST/valueFrom/env',
        message: 'environment variable MISSING_HOST is not set (valueFrom.env of HOST in Environment/prod)',
        hint: expect.any(String),
      },
    ]);
    expect(dataOf(out).TOKEN).toEqual({ valueFrom: { env: 'MISSING_TOKEN' }, isSecret: true });
  });

  it('reports a missing file with its path', () => {
    const spec: JsonObject = { data: { CERT: { valueFrom: { file: 'nope/cert.pem' }, isSecret: true } } };
    const { errors } = resolveEnvironmentSecrets(spec, { name: 'prod' }, ctx());
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(
      'cannot read file nope/cert.pem (valueFrom.file of secret CERT in Environment/prod): no such file',
    );
    expect(errors[0]!.path).toBe('/spec/data/CERT/valueFrom/file');
    expect(errors[0]!.hint).toContain(baseDir);
  });

  it('refuses a plaintext secret value unless allowed', () => {
    const spec: JsonObject = { data: { PASSWORD: { value: 'hunter2', isSecret: true } } };
    const refused = resolveEnvironmentSecrets(spec, { name: 'prod' }, ctx());
    expect(refused.errors).toEqual([
      {
        dataKey: 'PASSWORD',
        path: '/spec/data/PASSWORD/value',
        message:
          'plaintext secret value for PASSWORD in Environment/prod; use valueFrom: {env: ...} or --allow-plaintext-secrets',
        hint: expect.any(String),
      },
    ]);
    expect(JSON.stringify(refused)).not.toContain('hunter2');

    const allowed = resolveEnvironmentSecrets(spec, { name: 'prod' }, ctx({ allowPlaintextSecrets: true }));
    expect(allowed.errors).toEqual([]);
    expect(dataOf(allowed.spec).PASSWORD!.value).toBeUndefined();
    expect(JSON.stringify(allowed.spec)).not.toContain('hunter2');
    expect(dataOf(revealSpec(allowed.spec, { name: 'prod' }, key)).PASSWORD!.value).toBe('hunter2');
  });

  it('refuses empty secrets, entries with no source, both value and valueFrom, and malformed valueFrom', () => {
    const spec: JsonObject = {
      data: {
        EMPTY: { valueFrom: { env: 'EMPTY' }, isSecret: true },
        NONE: { isSecret: true },
        BOTH: { value: 'x', valueFrom: { env: 'EMPTY' }, isSecret: true },
        TWO_SOURCES: { valueFrom: { env: 'A', file: 'b' }, isSecret: true },
        NOT_A_NAME: { valueFrom: { env: 3 } as unknown as JsonObject, isSecret: true },
      },
    };
    const { spec: out, errors } = resolveEnvironmentSecrets(spec, { name: 'e' }, ctx({ env: { EMPTY: '' } }));
    expect(errors.map((e) => [e.dataKey, e.path])).toEqual([
      ['EMPTY', '/spec/data/EMPTY/valueFrom'],
      ['NONE', '/spec/data/NONE'],
      ['BOTH', '/spec/data/BOTH'],
      ['TWO_SOURCES', '/spec/data/TWO_SOURCES/valueFrom'],
      ['NOT_A_NAME', '/spec/data/NOT_A_NAME/valueFrom/env'],
    ]);
    expect(errors[0]!.message).toBe('secret EMPTY in Environment/e is empty');
    for (const entry of Object.values(dataOf(out))) {
      expect(entry.value).toBeUndefined();
      expect(entry.sealed).toBeUndefined();
    }
  });

  it('refuses a non-boolean isSecret and keeps no value for it', () => {
    const spec: JsonObject = { data: { T: { value: 'maybe-secret', isSecret: 'true' } } };
    const { spec: out, errors } = resolveEnvironmentSecrets(spec, { name: 'e' }, ctx());
    expect(errors.map((e) => e.path)).toEqual(['/spec/data/T/isSecret']);
    expect(JSON.stringify(out)).not.toContain('maybe-secret');
  });

  it('never throws, and never leaves a secret value in clear, whatever the data', () => {
    const env = { A: 'env-a', B: '', C: 'env-c' };
    const valueFrom = fc.oneof(
      fc.record({ env: fc.constantFrom('A', 'B', 'C', 'UNSET') }),
      fc.record({ file: fc.constantFrom('missing.txt', '.', '') }),
      fc.anything({ maxDepth: 2 }),
    );
    const entry = fc.record(
      {
        value: fc.oneof(fc.string(), fc.anything({ maxDepth: 1 })),
        valueFrom,
        isSecret: fc.oneof(fc.boolean(), fc.anything({ maxDepth: 0 })),
        description: fc.string(),
        sealed: fc.anything({ maxDepth: 1 }),
      },
      { requiredKeys: [] },
    );
    const data = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(entry, fc.anything({ maxDepth: 1 })), {
      maxKeys: 6,
    });
    fc.assert(
      fc.property(data, fc.boolean(), (d, allowPlaintextSecrets) => {
        const spec = { data: d } as unknown as JsonObject;
        const { spec: out, errors } = resolveEnvironmentSecrets(
          spec,
          { name: 'e' },
          ctx({ env, allowPlaintextSecrets }),
        );
        for (const e of errors) {
          for (const field of [e.message, e.hint, e.dataKey, e.path]) expect(typeof field).toBe('string');
        }
        for (const [k, v] of Object.entries(dataOf(out))) {
          const input = (d as Record<string, unknown>)[k] as Record<string, unknown> | undefined;
          if (typeof v !== 'object' || v === null || Array.isArray(v) || input?.isSecret === undefined)
            continue;
          if (input.isSecret === false) continue;
          expect(v.value).toBeUndefined();
        }
        expect(() => JSON.stringify(redactSpec(out))).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });

  it('keeps a __proto__ data key as a data key', () => {
    const spec = JSON.parse('{"data":{"__proto__":{"valueFrom":{"env":"T"},"isSecret":true}}}') as JsonObject;
    const { spec: out, errors } = resolveEnvironmentSecrets(spec, { name: 'e' }, ctx({ env: { T: 'v' } }));
    expect(errors).toEqual([]);
    expect(Object.keys(out.data as JsonObject)).toEqual(['__proto__']);
    expect(secretDataKeys(out)).toEqual(['__proto__']);
    expect(
      Object.getOwnPropertyDescriptor(dataOf(revealSpec(out, { name: 'e' }, key)), '__proto__')?.value,
    ).toMatchObject({
      value: 'v',
    });
  });

  it('escapes data keys in JSON pointers', () => {
    const spec: JsonObject = { data: { 'a/b~c': { valueFrom: { env: 'NOPE' }, isSecret: true } } };
    const { errors } = resolveEnvironmentSecrets(spec, { name: 'e' }, ctx());
    expect(errors[0]!.path).toBe('/spec/data/a~1b~0c/valueFrom/env');
  });

  it('leaves an already sealed entry alone and passes specs without data through', () => {
    const first = resolveEnvironmentSecrets(
      { data: { T: { valueFrom: { env: 'T' }, isSecret: true } } },
      { name: 'e' },
      ctx({ env: { T: 'v' } }),
    ).spec;
    const sealedOnly: JsonObject = {
      data: { T: { isSecret: true, sealed: dataOf(first).T!.sealed as JsonObject } },
    };
    expect(resolveEnvironmentSecrets(sealedOnly, { name: 'e' }, ctx())).toEqual({
      spec: sealedOnly,
      errors: [],
      warnings: [],
    });
    expect(resolveEnvironmentSecrets({ description: 'x' }, { name: 'e' }, ctx())).toEqual({
      spec: { description: 'x' },
      errors: [],
      warnings: [],
    });
  });

  describe('optional valueFrom', () => {
    const spec: JsonObject = {
      data: {
        TOKEN: { isSecret: true, valueFrom: { env: 'TOKEN', optional: true }, description: 'd' },
        CERT: { isSecret: true, valueFrom: { file: 'missing.pem', optional: true } },
        REGION: { valueFrom: { env: 'REGION', optional: true }, isSecret: false },
      },
    };

    it('keeps entries without a value and warns when the variable or file is absent', () => {
      for (const env of [{}, { TOKEN: '', REGION: '' }]) {
        const { spec: out, errors, warnings } = resolveEnvironmentSecrets(spec, { name: 'e' }, ctx({ env }));
        expect(errors).toEqual([]);
        expect(warnings.map((w) => [w.dataKey, w.path])).toEqual([
          ['TOKEN', '/spec/data/TOKEN/valueFrom/env'],
          ['CERT', '/spec/data/CERT/valueFrom/file'],
          ['REGION', '/spec/data/REGION/valueFrom/env'],
        ]);
        expect(warnings[0]!.message).toMatch(/TOKEN is not set; optional secret TOKEN in Environment\/e/);
        expect(warnings[1]!.message).toMatch(/missing\.pem does not exist/);
        expect(dataOf(out)).toEqual({
          TOKEN: { isSecret: true, valueFrom: { env: 'TOKEN', optional: true }, description: 'd' },
          CERT: { isSecret: true, valueFrom: { file: 'missing.pem', optional: true } },
          REGION: { valueFrom: { env: 'REGION', optional: true }, isSecret: false },
        });
      }
    });

    it('seals and resolves as usual when the source is there', () => {
      writeFileSync(join(baseDir, 'present.pem'), 'cert-body\n');
      const present: JsonObject = {
        data: {
          ...(spec.data as JsonObject),
          CERT: { isSecret: true, valueFrom: { file: 'present.pem', optional: true } },
        },
      };
      const {
        spec: out,
        errors,
        warnings,
      } = resolveEnvironmentSecrets(present, { name: 'e' }, ctx({ env: { TOKEN: 'tok', REGION: 'eu' } }));
      expect(errors).toEqual([]);
      expect(warnings).toEqual([]);
      const revealed = dataOf(revealSpec(out, { name: 'e' }, key));
      expect(revealed.TOKEN!.value).toBe('tok');
      expect(revealed.CERT!.value).toBe('cert-body');
      expect(dataOf(out).REGION!.value).toBe('eu');
    });

    it('still refuses an unreadable file and a non-boolean optional', () => {
      mkdirSync(join(baseDir, 'a-dir'), { recursive: true });
      const { errors, warnings } = resolveEnvironmentSecrets(
        {
          data: {
            DIR: { isSecret: true, valueFrom: { file: 'a-dir', optional: true } },
            BAD: { isSecret: true, valueFrom: { env: 'X', optional: 'yes' } },
          },
        },
        { name: 'e' },
        ctx({ env: { X: 'v' } }),
      );
      expect(warnings).toEqual([]);
      expect(errors.map((e) => [e.dataKey, e.path])).toEqual([
        ['DIR', '/spec/data/DIR/valueFrom/file'],
        ['BAD', '/spec/data/BAD/valueFrom/optional'],
      ]);
    });
  });
});

describe('comparableSecretSpec', () => {
  it('makes re-sealing an unchanged value a no-op and a changed value a difference', () => {
    const spec: JsonObject = { data: { T: { valueFrom: { env: 'T' }, isSecret: true }, R: { value: 'r' } } };
    const seal = (value: string) =>
      resolveEnvironmentSecrets(spec, { name: 'e' }, ctx({ env: { T: value } })).spec;
    const a = seal('same');
    const b = seal('same');
    expect(a).not.toEqual(b);
    expect(comparableSecretSpec(a)).toEqual(comparableSecretSpec(b));
    expect(comparableSecretSpec(seal('other'))).not.toEqual(comparableSecretSpec(a));
    const entry = dataOf(comparableSecretSpec(a)).T!;
    expect(entry.sealed).toEqual({ hash: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/) });
    expect(dataOf(comparableSecretSpec(a)).R).toEqual({ value: 'r' });
  });

  it('shows a key change as a change', () => {
    const spec: JsonObject = { data: { T: { valueFrom: { env: 'T' }, isSecret: true } } };
    const withKey = (k: SecretKey) =>
      comparableSecretSpec(
        resolveEnvironmentSecrets(spec, { name: 'e' }, ctx({ key: k, env: { T: 'v' } })).spec,
      );
    expect(withKey(SecretKey.fromBytes(randomBytes(32)))).not.toEqual(withKey(key));
  });
});

describe('redactSpec / revealSpec', () => {
  const spec: JsonObject = {
    data: {
      T: { valueFrom: { env: 'T' }, isSecret: true, description: 'token' },
      P: { value: 'plain', isSecret: true },
      R: { value: 'public' },
    },
  };
  const sealed = resolveEnvironmentSecrets(
    spec,
    { name: 'e' },
    ctx({ env: { T: 'token-value' }, allowPlaintextSecrets: true }),
  ).spec;

  it('redacts sealed and plaintext secret values, keeps everything else', () => {
    expect(redactSpec(sealed)).toEqual({
      data: {
        T: { valueFrom: { env: 'T' }, isSecret: true, description: 'token', sealed: SENSITIVE },
        P: { isSecret: true, sealed: SENSITIVE },
        R: { value: 'public' },
      },
    });
    expect(dataOf(redactSpec(spec)).P).toEqual({ value: SENSITIVE, isSecret: true });
    expect(dataOf(redactSpec(comparableSecretSpec(sealed))).T!.sealed).toBe(SENSITIVE);
  });

  it('reveals sealed values into value', () => {
    expect(revealSpec(sealed, { name: 'e' }, key)).toEqual({
      data: {
        T: { valueFrom: { env: 'T' }, isSecret: true, description: 'token', value: 'token-value' },
        P: { isSecret: true, value: 'plain' },
        R: { value: 'public' },
      },
    });
  });

  it('refuses to reveal with the wrong key, under another name, or from a redacted spec', () => {
    for (const attempt of [
      () => revealSpec(sealed, { name: 'e' }, SecretKey.fromBytes(randomBytes(32))),
      () => revealSpec(sealed, { name: 'other' }, key),
      () => revealSpec(redactSpec(sealed), { name: 'e' }, key),
      () => revealSpec(comparableSecretSpec(sealed), { name: 'e' }, key),
    ]) {
      expect(attempt).toThrow(StigmerError);
    }
  });

  it('swapping two sealed entries fails to decrypt', () => {
    const two = resolveEnvironmentSecrets(
      {
        data: {
          A: { valueFrom: { env: 'A' }, isSecret: true },
          B: { valueFrom: { env: 'B' }, isSecret: true },
        },
      },
      { name: 'e' },
      ctx({ env: { A: 'alpha', B: 'beta' } }),
    ).spec;
    const d = dataOf(two);
    const swapped: JsonObject = { data: { A: d.B as JsonObject, B: d.A as JsonObject } };
    expect(() => revealSpec(swapped, { name: 'e' }, key)).toThrow(/secret A in Environment\/e/);
  });

  it('lists secret entries', () => {
    expect(secretDataKeys(sealed)).toEqual(['T', 'P']);
    expect(isSecretEntry({ value: 'x' })).toBe(false);
    expect(isSecretEntry({ isSecret: true })).toBe(true);
  });
});

describe('redactSecretPatch', () => {
  const view = (spec: JsonObject) => ({
    metadata: { labels: {}, annotations: {} },
    spec: comparableSecretSpec(spec),
  });
  const resolveWith = (env: Record<string, string>, spec: JsonObject) =>
    resolveEnvironmentSecrets(spec, { name: 'e' }, ctx({ env })).spec;
  const manifest: JsonObject = {
    data: {
      T: { valueFrom: { env: 'T' }, isSecret: true, description: 'token' },
      R: { value: 'r1' },
    },
  };

  it('shows a changed secret as (sensitive, changed) and keeps other changes readable', () => {
    const before = resolveWith({ T: 'old' }, manifest);
    const after = resolveWith(
      { T: 'new' },
      {
        data: { ...(manifest.data as JsonObject), R: { value: 'r2' } },
      },
    );
    const patch = jsonpatch.compare(view(before), view(after));
    expect(patch.length).toBeGreaterThan(0);
    const keys = [...secretDataKeys(before), ...secretDataKeys(after)];
    const redacted = redactSecretPatch(patch, keys);
    expect(redacted).toContainEqual({
      op: 'replace',
      path: '/spec/data/T/sealed/hash',
      value: SENSITIVE_CHANGED,
    });
    expect(redacted).toContainEqual({ op: 'replace', path: '/spec/data/R/value', value: 'r2' });
    expect(JSON.stringify(redacted)).not.toMatch(/hmac-sha256/);
  });

  it('redacts whole views, specs, data maps and entries that are added', () => {
    const after = view(resolveWith({ T: 'v' }, manifest));
    const ops = [
      { op: 'add', path: '', value: after },
      { op: 'add', path: '/spec', value: after.spec },
      { op: 'add', path: '/spec/data', value: after.spec.data },
      { op: 'add', path: '/spec/data/T', value: (after.spec.data as JsonObject).T },
      { op: 'replace', path: '/spec/data/T/sealed', value: { hash: 'hmac-sha256:00' } },
      { op: 'replace', path: '/spec/data/T/description', value: 'new description' },
      { op: 'replace', path: '/spec/data/T/valueFrom/env', value: 'T2' },
      { op: 'remove', path: '/spec/data/T/valueFrom' },
      { op: 'add', path: '/spec/description', value: 'env' },
    ];
    const redacted = redactSecretPatch(ops, ['T']);
    expect(JSON.stringify(redacted)).not.toMatch(/hmac-sha256/);
    const entry = { valueFrom: { env: 'T' }, isSecret: true, description: 'token', sealed: SENSITIVE };
    expect(redacted[3]!.value).toEqual(entry);
    expect(redacted[2]!.value).toEqual({ T: entry, R: { value: 'r1' } });
    expect(redacted.slice(4)).toEqual([
      { op: 'replace', path: '/spec/data/T/sealed', value: SENSITIVE_CHANGED },
      { op: 'replace', path: '/spec/data/T/description', value: 'new description' },
      { op: 'replace', path: '/spec/data/T/valueFrom/env', value: 'T2' },
      { op: 'remove', path: '/spec/data/T/valueFrom' },
      { op: 'add', path: '/spec/description', value: 'env' },
    ]);
    // A key that is secret only on the other side is redacted too.
    expect(
      redactSecretPatch([{ op: 'replace', path: '/spec/data/T/value', value: 'now-public' }], ['T']),
    ).toEqual([{ op: 'replace', path: '/spec/data/T/value', value: SENSITIVE_CHANGED }]);
    expect(redactSecretPatch([{ op: 'add', path: '/data/T', value: { value: 'x' } }], ['T'], '')).toEqual([
      { op: 'add', path: '/data/T', value: { value: SENSITIVE } },
    ]);
  });
});

describe('collectSecretValues', () => {
  it('gathers decrypted and plaintext secret values, and each line of multi-line ones', () => {
    const sealed = resolveEnvironmentSecrets(
      {
        data: {
          T: { valueFrom: { env: 'T' }, isSecret: true },
          M: { valueFrom: { env: 'M' }, isSecret: true },
          R: { value: 'public' },
        },
      },
      { name: 'e' },
      ctx({ env: { T: 'token', M: 'first line\n\nsecond line' } }),
    ).spec;
    const values = collectSecretValues(
      [
        { kind: 'Environment', name: 'e', spec: sealed },
        { kind: 'Environment', name: 'raw', spec: { data: { P: { value: 'plain', isSecret: true } } } },
        { kind: 'Agent', name: 'a', spec: { data: { X: { value: 'not-an-env', isSecret: true } } } },
      ],
      key,
    );
    expect(values).toEqual(['first line\n\nsecond line', 'second line', 'first line', 'token', 'plain']);
    expect(collectSecretValues([{ name: 'e', spec: sealed }])).toEqual([]);
  });
});

describe('canary', () => {
  const canary = [
    '-----BEGIN CANARY KEY-----',
    'Zm9vYmFyLWNhbmFyeS02NjQyMzkxMA',
    'c4n4ry-7f3b9e21-line-three',
    '-----END CANARY KEY-----',
  ].join('\n');
  const lines = canary.split('\n');
  const forms = [
    canary,
    ...lines,
    Buffer.from(canary).toString('base64'),
    Buffer.from(canary).toString('base64url'),
  ];
  // base64 of every line, at each of the three alignments it could take inside a longer base64 text
  for (const line of [canary, ...lines]) {
    for (const pad of ['', 'x', 'xy']) {
      const b64 = Buffer.from(pad + line).toString('base64');
      forms.push(b64.slice(pad.length === 0 ? 0 : 4, -4));
    }
  }

  function expectClean(label: string, text: string): void {
    for (const form of forms) {
      if (text.includes(form)) throw new Error(`${label} contains the canary (form ${JSON.stringify(form)})`);
    }
  }

  it('never appears in the sealed, comparable or redacted spec, nor in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stigmer-canary-'));
    try {
      writeFileSync(join(dir, 'key.pem'), `${canary}\n`);
      const spec: JsonObject = {
        data: {
          FROM_ENV: { valueFrom: { env: 'CANARY' }, isSecret: true },
          FROM_FILE: { valueFrom: { file: 'key.pem' }, isSecret: true },
          PLAIN: { value: canary, isSecret: true },
          BOTH: { value: canary, valueFrom: { env: 'CANARY' }, isSecret: true },
        },
      };
      const refused = resolveEnvironmentSecrets(
        spec,
        { name: 'canary' },
        ctx({ baseDir: dir, env: { CANARY: canary } }),
      );
      expect(refused.errors.map((e) => e.dataKey)).toEqual(['PLAIN', 'BOTH']);
      expectClean('errors', JSON.stringify(refused.errors));
      expectClean('refused spec', JSON.stringify(refused.spec));

      const allowed = resolveEnvironmentSecrets(
        spec,
        { name: 'canary' },
        ctx({ baseDir: dir, env: { CANARY: canary }, allowPlaintextSecrets: true }),
      );
      expectClean('sealed spec', JSON.stringify(allowed.spec));
      expectClean('comparable spec', JSON.stringify(comparableSecretSpec(allowed.spec)));
      expectClean('redacted spec', JSON.stringify(redactSpec(allowed.spec)));
      expectClean('redacted manifest spec', JSON.stringify(redactSpec(spec)));

      const wrongKey = SecretKey.fromBytes(randomBytes(32));
      for (const attempt of [
        () => revealSpec(allowed.spec, { name: 'canary' }, wrongKey),
        () => revealSpec(allowed.spec, { name: 'elsewhere' }, key),
      ]) {
        try {
          attempt();
          throw new Error('expected a failure');
        } catch (err) {
          expect(err).toBeInstanceOf(StigmerError);
          const e = err as StigmerError;
          expectClean('reveal error', `${e.message}\n${e.hint}\n${String(e.cause ?? '')}\n${e.stack ?? ''}`);
        }
      }

      // The check itself can fail: the revealed spec does contain the canary.
      const revealed = JSON.stringify(revealSpec(allowed.spec, { name: 'canary' }, key));
      expect(() => expectClean('revealed', revealed)).toThrow(/contains the canary/);
      expect(dataOf(revealSpec(allowed.spec, { name: 'canary' }, key)).FROM_FILE!.value).toBe(canary);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
