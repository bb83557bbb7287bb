/**
 * The master key that seals Environment secrets at rest (DESIGN.md §4, issue 6).
 *
 * Responsible for finding the 32-byte key (`STIGMER_SECRET_KEY`, else `$STIGMER_HOME/master.key`,
 * created on first use), refusing keys that are malformed or readable by other users, and deriving
 * the subkeys everything else uses: one for AES-256-GCM, one for the keyed hash, one that
 * authenticates saved plan files. The raw key
 * and the subkeys never leave this module's closure; a `SecretKey` prints and serialises as its
 * key id only.
 */
import { createHash, hkdfSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fstatSync,
  fsyncSync,
  linkSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { inspect } from 'node:util';
import { StigmerError } from '../errors.js';
import { ensurePrivateDir } from '../private-files.js';

/** Environment variable that holds the key (base64 or hex of 32 bytes). */
export const SECRET_KEY_ENV = 'STIGMER_SECRET_KEY';
/** Name of the key file inside `$STIGMER_HOME`. */
export const MASTER_KEY_FILE = 'master.key';
/** Length of the master key and of each derived subkey, in bytes. */
export const SECRET_KEY_BYTES = 32;

const GENERATE_HINT = 'generate one with `openssl rand -base64 32`';
const HKDF_SALT = 'stigmer.ai/secrets/v1';
const HKDF_INFO_ENCRYPTION = 'aes-256-gcm encryption';
const HKDF_INFO_HASH = 'hmac-sha256 keyed hash';
const HKDF_INFO_PLAN = 'hmac-sha256 saved plan authentication';
/** A key file is a few dozen bytes; anything much larger is not one. */
const KEY_FILE_MAX_BYTES = 1024;
/** How long a reader waits for a key file that another process is still writing. */
const INCOMPLETE_WAIT_MS = 2000;

/** Where a key came from, for messages such as "created a new master key at PATH". */
export type SecretKeySource =
  | { type: 'env'; variable: string }
  | { type: 'file'; path: string; created: boolean }
  | { type: 'bytes' };

interface Subkeys {
  encryption: Buffer;
  hash: Buffer;
  /** Authenticates saved plan files (`plan --out`). */
  plan: Buffer;
}

const subkeysOf = new WeakMap<SecretKey, Subkeys>();

/**
 * A loaded master key. Holds no readable key material: the derived subkeys are reachable only
 * by the sealing functions of this package. `JSON.stringify` and `console.log` show the key id
 * and source, never the key.
 */
export class SecretKey {
  /** First 8 hex digits of SHA-256 of the hash subkey: tells two keys apart without revealing either. */
  readonly keyId: string;
  readonly source: SecretKeySource;

  private constructor(keyId: string, source: SecretKeySource) {
    this.keyId = keyId;
    this.source = source;
  }

  /** Builds a key from 32 raw bytes (tests, SDK users holding their own key). */
  static fromBytes(bytes: Uint8Array, source: SecretKeySource = { type: 'bytes' }): SecretKey {
    if (bytes.length !== SECRET_KEY_BYTES) {
      throw new StigmerError('SECRET', `a secret key must be ${SECRET_KEY_BYTES} bytes`, {
        hint: GENERATE_HINT,
      });
    }
    const derive = (info: string) =>
      Buffer.from(hkdfSync('sha256', bytes, HKDF_SALT, info, SECRET_KEY_BYTES));
    const subkeys: Subkeys = {
      encryption: derive(HKDF_INFO_ENCRYPTION),
      hash: derive(HKDF_INFO_HASH),
      plan: derive(HKDF_INFO_PLAN),
    };
    const keyId = createHash('sha256').update(subkeys.hash).digest('hex').slice(0, 8);
    const key = new SecretKey(keyId, source);
    subkeysOf.set(key, subkeys);
    return key;
  }

  toJSON(): { keyId: string; source: SecretKeySource } {
    return { keyId: this.keyId, source: this.source };
  }

  toString(): string {
    return `SecretKey(${this.keyId})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/** @internal The derived subkeys of a key; used by seal.ts, not exported from the package. */
export function subkeys(key: SecretKey): Subkeys {
  const found = subkeysOf.get(key);
  if (!found) {
    throw new StigmerError('SECRET', 'not a key made by loadSecretKey or SecretKey.fromBytes', {
      userFixable: false,
    });
  }
  return found;
}

/**
 * Decodes key text: 64 hex digits, or base64 / base64url (padded or not) of exactly 32 bytes.
 * Surrounding whitespace (a trailing newline) is ignored. Returns null for anything else,
 * passphrases included.
 */
export function decodeSecretKeyText(text: string): Buffer | null {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Buffer.from(t, 'hex');
  const standard = /^[A-Za-z0-9+/]{43}=?$/.test(t);
  const urlSafe = /^[A-Za-z0-9_-]{43}=?$/.test(t);
  if (!standard && !urlSafe) return null;
  const bytes = Buffer.from(t, standard ? 'base64' : 'base64url');
  return bytes.length === SECRET_KEY_BYTES ? bytes : null;
}

/** A new random key as base64 text, the form written to master.key. */
export function generateSecretKeyText(): string {
  return randomBytes(SECRET_KEY_BYTES).toString('base64');
}

export interface LoadSecretKeyOptions {
  /** The Stigmer home directory (`BackendConfig.home`, i.e. `$STIGMER_HOME` or `~/.stigmer`). */
  home: string;
  /** Environment to read `STIGMER_SECRET_KEY` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * Loads the master key: `STIGMER_SECRET_KEY` when set (base64 or hex of 32 bytes; anything else,
 * an empty value included, is refused), else `HOME/master.key`, created on first use with 32
 * random bytes in base64 and mode 0600. Creation is exclusive: when several processes start at
 * once, one key is written and every process ends up with it.
 *
 * @throws StigmerError('SECRET') for a malformed key, a key file readable or writable by group or
 *   others, or a key file that cannot be read or created. Messages never contain key material.
 */
export function loadSecretKey(options: LoadSecretKeyOptions): SecretKey {
  const env = options.env ?? process.env;
  const text = env[SECRET_KEY_ENV];
  if (text !== undefined) {
    if (text.trim() === '') {
      throw new StigmerError('SECRET', `${SECRET_KEY_ENV} is set but empty`, {
        hint: `unset it to use $STIGMER_HOME/${MASTER_KEY_FILE}, or set it to a key: ${GENERATE_HINT}`,
      });
    }
    const bytes = decodeSecretKeyText(text);
    if (!bytes) {
      throw new StigmerError(
        'SECRET',
        `${SECRET_KEY_ENV} is not a ${SECRET_KEY_BYTES}-byte key in base64 or hex (passphrases are not accepted)`,
        { hint: GENERATE_HINT },
      );
    }
    return SecretKey.fromBytes(bytes, { type: 'env', variable: SECRET_KEY_ENV });
  }
  return loadOrCreateKeyFile(join(options.home, MASTER_KEY_FILE));
}

function loadOrCreateKeyFile(path: string): SecretKey {
  const existing = readKeyFile(path);
  if (existing) return SecretKey.fromBytes(existing, { type: 'file', path, created: false });
  const bytes = randomBytes(SECRET_KEY_BYTES);
  if (createKeyFileExclusive(path, bytes)) {
    return SecretKey.fromBytes(bytes, { type: 'file', path, created: true });
  }
  // Another process created the file between our read and our create: use its key.
  const winner = readKeyFile(path);
  if (!winner) {
    throw new StigmerError('SECRET', `${path} vanished while it was being created`, {
      hint: 'another process removed it; run the command again',
    });
  }
  return SecretKey.fromBytes(winner, { type: 'file', path, created: false });
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Reads and checks the key file; null when it does not exist. An empty file is waited on for a
 * moment (a process on a file system without hard links may be writing it), then refused.
 */
function readKeyFile(path: string): Buffer | null {
  const deadline = Date.now() + INCOMPLETE_WAIT_MS;
  for (;;) {
    const text = readKeyFileText(path);
    if (text === null) return null;
    if (text.trim() !== '' || Date.now() >= deadline) {
      const bytes = decodeSecretKeyText(text);
      if (bytes) return bytes;
      const what = text.trim() === '' ? 'is empty' : `is not a ${SECRET_KEY_BYTES}-byte key in base64`;
      throw new StigmerError('SECRET', `master key file ${path} ${what}`, {
        hint:
          `restore it from a backup, or set ${SECRET_KEY_ENV}. If no secret was ever sealed with it, ` +
          'delete it and Stigmer creates a new one (values sealed with the old key become unreadable)',
      });
    }
    sleepSync(20);
  }
}

function readKeyFileText(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    if (errnoCode(cause) === 'ENOENT') return null;
    throw new StigmerError('SECRET', `cannot read master key file ${path} (${errnoCode(cause) ?? 'error'})`, {
      cause,
      hint: `make it readable by your user only: chmod 600 ${path}`,
    });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new StigmerError('SECRET', `master key path ${path} is not a regular file`, {
        hint: `remove it, or set ${SECRET_KEY_ENV}`,
      });
    }
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
      const mode = (stat.mode & 0o777).toString(8).padStart(3, '0');
      throw new StigmerError(
        'SECRET',
        `master key file ${path} is accessible by group or others (mode ${mode}); refusing to use it`,
        { hint: `chmod 600 ${path}` },
      );
    }
    if (stat.size > KEY_FILE_MAX_BYTES) {
      throw new StigmerError('SECRET', `master key file ${path} is too large to be a key`, {
        hint: `restore it from a backup, or set ${SECRET_KEY_ENV}`,
      });
    }
    const buf = Buffer.alloc(KEY_FILE_MAX_BYTES + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > KEY_FILE_MAX_BYTES) break;
    }
    return buf.subarray(0, length).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates the key file only if it does not exist. The key is written and synced to a private
 * temporary file (opened with `wx`, mode 0600) and then hard-linked into place: `link` fails
 * when the target exists, so exactly one process wins, and readers never see a half-written
 * key. Where hard links are not supported, the file is opened with `wx` directly.
 * Returns false when another process created it first.
 */
function createKeyFileExclusive(path: string, bytes: Buffer): boolean {
  const dir = dirname(path);
  ensurePrivateDir(dir, 'STIGMER_HOME');
  const content = `${bytes.toString('base64')}\n`;
  const tmp = join(dir, `.${MASTER_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    writePrivateFile(tmp, content);
  } catch (cause) {
    throw cannotCreate(path, cause);
  }
  let linked: boolean | 'unsupported';
  try {
    linkSync(tmp, path);
    linked = true;
  } catch (cause) {
    const code = errnoCode(cause);
    if (code === 'EEXIST') linked = false;
    else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'ENOSYS') {
      linked = 'unsupported';
    } else throw cannotCreate(path, cause);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Best effort: a leftover temporary file is harmless and never read.
    }
  }
  if (linked === 'unsupported') {
    try {
      writePrivateFile(path, content);
      linked = true;
    } catch (cause) {
      if (errnoCode(cause) === 'EEXIST') return false;
      throw cannotCreate(path, cause);
    }
  }
  if (linked) syncDirectory(dir);
  return linked;
}

/** Writes a new file exclusively (`wx`), mode 0600 whatever the umask, and syncs it. */
function writePrivateFile(path: string, content: string): void {
  const fd = openSync(path, 'wx', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some platforms cannot fsync a directory; the file itself is already synced.
  }
}

function cannotCreate(path: string, cause: unknown): StigmerError {
  return new StigmerError(
    'SECRET',
    `cannot create master key file ${path} (${errnoCode(cause) ?? 'error'})`,
    { cause, hint: `check that the directory is writable, or set ${SECRET_KEY_ENV}; ${GENERATE_HINT}` },
  );
}
