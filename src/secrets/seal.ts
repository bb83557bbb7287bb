/**
 * Sealing one secret value: AES-256-GCM encryption with a fresh 96-bit IV and the entry's
 * identity (`kind/name/dataKey`) as associated data, plus a deterministic keyed hash
 * (HMAC-SHA256) so that an unchanged value compares equal without being decrypted.
 *
 * Wire format of a ciphertext: `v1:<keyId>:<base64 iv>:<base64 ciphertext+tag>`.
 * Error messages name the entry, never the value, the ciphertext or the key.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { StigmerError } from '../errors.js';
import { SECRET_KEY_ENV, type SecretKey, subkeys } from './key.js';

/** Identifies the entry a secret belongs to; bound into both the ciphertext and the hash. */
export interface SecretRef {
  /** Resource kind, e.g. `Environment`. */
  kind: string;
  /** Resource name. */
  name: string;
  /** Key of the entry inside the resource's `data` map. */
  key: string;
}

/** A sealed secret as stored in a spec. */
export interface SealedSecret {
  /** `hmac-sha256:<hex>`: deterministic for (key, entry, value). */
  hash: string;
  /** `v1:<keyId>:<base64 iv>:<base64 ciphertext+tag>`: fresh for every seal. */
  ciphertext: string;
}

const CIPHERTEXT_VERSION = 'v1';
const HASH_PREFIX = 'hmac-sha256:';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const RESEAL_HINT = 're-apply the manifests so the value is sealed again from its source (valueFrom)';

/** The associated data that binds a sealed value to its entry: `kind/name/key`. */
export function secretAad(ref: SecretRef): string {
  return `${ref.kind}/${ref.name}/${ref.key}`;
}

function describe(ref: SecretRef): string {
  return `secret ${ref.key} in ${ref.kind}/${ref.name}`;
}

/**
 * The keyed hash of a value: `hmac-sha256:` + hex HMAC-SHA256(hash subkey, aad + NUL + plaintext).
 * Equal for equal (key, entry, value); reveals nothing about the value without the key.
 */
export function secretHash(key: SecretKey, ref: SecretRef, plaintext: string): string {
  const mac = createHmac('sha256', subkeys(key).hash);
  mac.update(`${secretAad(ref)}\0${plaintext}`, 'utf8');
  return HASH_PREFIX + mac.digest('hex');
}

/**
 * The MAC of a saved plan file's canonical text: `hmac-sha256:` + hex HMAC-SHA256 under the
 * plan subkey. Anyone holding the same secret key (a team's CI sharing STIGMER_SECRET_KEY) makes
 * and checks the same MAC; an edited file, or one made with another key, does not match.
 */
export function planFileMac(key: SecretKey, text: string): string {
  return HASH_PREFIX + createHmac('sha256', subkeys(key).plan).update(text, 'utf8').digest('hex');
}

/** True when `mac` is the MAC of `text` under `key` (compared in constant time). */
export function verifyPlanFileMac(key: SecretKey, text: string, mac: string): boolean {
  const expected = Buffer.from(planFileMac(key, text), 'utf8');
  const given = Buffer.from(mac, 'utf8');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

/** Encrypts a value for one entry. Two seals of the same value differ; their hashes are equal. */
export function sealSecret(key: SecretKey, ref: SecretRef, plaintext: string): SealedSecret {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', subkeys(key).encryption, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(secretAad(ref), 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    hash: secretHash(key, ref, plaintext),
    ciphertext: [CIPHERTEXT_VERSION, key.keyId, iv.toString('base64'), body.toString('base64')].join(':'),
  };
}

/** The key id a ciphertext was sealed with, or null when it is not a v1 ciphertext. */
export function sealedKeyId(ciphertext: string): string | null {
  const parts = ciphertext.split(':');
  return parts.length === 4 && parts[0] === CIPHERTEXT_VERSION && /^[0-9a-f]{8}$/.test(parts[1] ?? '')
    ? (parts[1] as string)
    : null;
}

/** Strict base64: Node's decoder skips junk silently, so a round trip must give the same text. */
function decodeBase64Strict(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}

/**
 * Decrypts a sealed value and checks it against its hash.
 *
 * @throws StigmerError('SECRET') when the ciphertext is malformed, was sealed with another key,
 *   was altered, or belongs to another entry (associated data mismatch). The message names the
 *   entry only.
 */
export function openSecret(key: SecretKey, ref: SecretRef, sealed: SealedSecret): string {
  const fail = (why: string, hint = RESEAL_HINT) =>
    new StigmerError('SECRET', `cannot decrypt ${describe(ref)}: ${why}`, { hint });
  if (typeof sealed?.ciphertext !== 'string' || typeof sealed.hash !== 'string') {
    throw fail('no sealed value (hash and ciphertext) is stored');
  }
  const parts = sealed.ciphertext.split(':');
  if (parts.length !== 4 || parts[0] !== CIPHERTEXT_VERSION) {
    throw fail(`not a ${CIPHERTEXT_VERSION} ciphertext`);
  }
  const [, keyId, ivText, bodyText] = parts as [string, string, string, string];
  if (keyId !== key.keyId) {
    throw fail(
      `it was sealed with key ${keyId}, but the current key is ${key.keyId}`,
      `use the key it was sealed with (${SECRET_KEY_ENV} or $STIGMER_HOME/master.key), or ${RESEAL_HINT}`,
    );
  }
  const iv = decodeBase64Strict(ivText);
  const body = decodeBase64Strict(bodyText);
  if (!iv || iv.length !== IV_BYTES || !body || body.length < TAG_BYTES) {
    throw fail('the stored ciphertext is malformed');
  }
  let plaintext: string;
  try {
    const decipher = createDecipheriv('aes-256-gcm', subkeys(key).encryption, iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(secretAad(ref), 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    plaintext = Buffer.concat([
      decipher.update(body.subarray(0, body.length - TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    // The cause (an OpenSSL authentication failure) says nothing more and is deliberately dropped.
    throw fail('authentication failed: the stored value was altered or copied from another entry');
  }
  const expected = Buffer.from(secretHash(key, ref, plaintext), 'utf8');
  const stored = Buffer.from(sealed.hash, 'utf8');
  if (expected.length !== stored.length || !timingSafeEqual(expected, stored)) {
    throw fail('the stored hash does not match the decrypted value');
  }
  return plaintext;
}
