import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import { SecretKey } from './key.js';
import { openSecret, type SecretRef, sealedKeyId, sealSecret, secretAad, secretHash } from './seal.js';

const key = SecretKey.fromBytes(randomBytes(32));
const ref: SecretRef = { kind: 'Environment', name: 'prod', key: 'API_TOKEN' };

function openFails(k: SecretKey, r: SecretRef, sealed: { hash: string; ciphertext: string }): StigmerError {
  try {
    openSecret(k, r, sealed);
  } catch (err) {
    expect(err).toBeInstanceOf(StigmerError);
    expect((err as StigmerError).code).toBe('SECRET');
    expect((err as StigmerError).message).toContain(`secret ${r.key} in ${r.kind}/${r.name}`);
    return err as StigmerError;
  }
  throw new Error('expected openSecret to fail');
}

describe('sealSecret / openSecret', () => {
  it('round-trips any string, unicode and newlines included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (plaintext) => {
        expect(openSecret(key, ref, sealSecret(key, ref, plaintext))).toBe(plaintext);
      }),
      { numRuns: 200 },
    );
  });

  it('writes the documented format', () => {
    const sealed = sealSecret(key, ref, 's3cr3t');
    expect(sealed.hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    const [version, keyId, iv, body] = sealed.ciphertext.split(':');
    expect(version).toBe('v1');
    expect(keyId).toBe(key.keyId);
    expect(sealedKeyId(sealed.ciphertext)).toBe(key.keyId);
    expect(Buffer.from(iv!, 'base64')).toHaveLength(12);
    // ciphertext (same length as the plaintext) + 16-byte tag
    expect(Buffer.from(body!, 'base64')).toHaveLength('s3cr3t'.length + 16);
  });

  it('uses a fresh IV for every seal; the hashes stay equal', () => {
    const a = sealSecret(key, ref, 'same value');
    const b = sealSecret(key, ref, 'same value');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(a.ciphertext.split(':')[2]).not.toBe(b.ciphertext.split(':')[2]);
    expect(a.hash).toBe(b.hash);
    expect(a.hash).toBe(secretHash(key, ref, 'same value'));
  });

  it('hashes differ by value, entry and key', () => {
    const base = secretHash(key, ref, 'v');
    expect(secretHash(key, ref, 'w')).not.toBe(base);
    expect(secretHash(key, { ...ref, key: 'OTHER' }, 'v')).not.toBe(base);
    expect(secretHash(key, { ...ref, name: 'staging' }, 'v')).not.toBe(base);
    expect(secretHash(SecretKey.fromBytes(randomBytes(32)), ref, 'v')).not.toBe(base);
  });

  it('refuses a tampered ciphertext, whichever character changes', () => {
    const sealed = sealSecret(key, ref, 'tamper me: 0123456789');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:v';
    for (let i = 0; i < sealed.ciphertext.length; i++) {
      const original = sealed.ciphertext[i]!;
      for (const replacement of [alphabet[(alphabet.indexOf(original) + 1) % alphabet.length]!, '!']) {
        const ciphertext = sealed.ciphertext.slice(0, i) + replacement + sealed.ciphertext.slice(i + 1);
        openFails(key, ref, { hash: sealed.hash, ciphertext });
      }
    }
  });

  it('refuses truncated, extended or empty ciphertexts', () => {
    const sealed = sealSecret(key, ref, 'value');
    for (const ciphertext of [
      sealed.ciphertext.slice(0, -4),
      `${sealed.ciphertext}AAAA`,
      '',
      'v1',
      sealed.ciphertext.replace(/:[^:]+$/, ':'),
    ]) {
      openFails(key, ref, { hash: sealed.hash, ciphertext });
    }
  });

  it('refuses every single-bit flip of the encrypted bytes', () => {
    const sealed = sealSecret(key, ref, 'bits');
    const [v, id, iv, body] = sealed.ciphertext.split(':') as [string, string, string, string];
    for (const part of ['iv', 'body'] as const) {
      const bytes = Buffer.from(part === 'iv' ? iv : body, 'base64');
      for (let bit = 0; bit < bytes.length * 8; bit++) {
        const flipped = Buffer.from(bytes);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        const text = flipped.toString('base64');
        const ciphertext = [v, id, part === 'iv' ? text : iv, part === 'body' ? text : body].join(':');
        openFails(key, ref, { hash: sealed.hash, ciphertext });
      }
    }
  });

  it('refuses a ciphertext whose hash was replaced', () => {
    const sealed = sealSecret(key, ref, 'one');
    const other = sealSecret(key, ref, 'two');
    const err = openFails(key, ref, { hash: other.hash, ciphertext: sealed.ciphertext });
    expect(err.message).toMatch(/hash does not match/);
  });

  it('binds the entry: a ciphertext copied to another entry fails', () => {
    const sealed = sealSecret(key, ref, 'bound');
    expect(secretAad(ref)).toBe('Environment/prod/API_TOKEN');
    for (const other of [
      { ...ref, key: 'DB_PASSWORD' },
      { ...ref, name: 'staging' },
      { ...ref, kind: 'Agent' },
    ]) {
      const err = openFails(key, other, sealed);
      expect(err.message).toMatch(/altered or copied from another entry/);
    }
  });

  it('refuses a different key and says which key ids differ', () => {
    const sealed = sealSecret(key, ref, 'keyed');
    const other = SecretKey.fromBytes(randomBytes(32));
    const err = openFails(other, ref, sealed);
    expect(err.message).toContain(key.keyId);
    expect(err.message).toContain(other.keyId);
    expect(err.hint).toMatch(/re-apply/);
  });

  it('never puts the value or the ciphertext in an error', () => {
    const plaintext = 'canary-d0f7c2a9-value';
    const sealed = sealSecret(key, ref, plaintext);
    const failures = [
      openFails(SecretKey.fromBytes(randomBytes(32)), ref, sealed),
      openFails(key, { ...ref, key: 'X' }, sealed),
      openFails(key, ref, { hash: sealed.hash, ciphertext: sealed.ciphertext.slice(0, -2) }),
    ];
    for (const err of failures) {
      const text = `${err.message}\n${err.hint}\n${String(err.cause ?? '')}`;
      expect(text).not.toContain(plaintext);
      expect(text).not.toContain(sealed.ciphertext.split(':')[3]!);
      expect(text).not.toContain(sealed.hash);
    }
  });
});
