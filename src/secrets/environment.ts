/**
 * Secrets in Environment specs (DESIGN.md §2 and §4): the transforms the pipeline applies to
 * `spec.data` between validation and planning, and on the way out to users.
 *
 *   manifest spec ──resolveEnvironmentSecrets──▶ sealed spec (stored by the backend)
 *   sealed spec ──comparableSecretSpec──▶ what the planner diffs and hashes (no ciphertext)
 *   sealed spec ──redactSpec──▶ what plans, JSON, PR comments and `get` show
 *   sealed spec ──revealSpec──▶ plaintext values (`get --show-secrets`, execution contexts)
 *
 * Every function is pure apart from reading `valueFrom.file`, and returns a new spec.
 * Errors name the entry, the variable or the file, never a value.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JsonObject } from '../types.js';
import type { SecretKey } from './key.js';
import { openSecret, type SealedSecret, type SecretRef, sealSecret } from './seal.js';

/** What a secret (or a sealed value) is shown as wherever it must not appear. */
export const SENSITIVE = '(sensitive)';
/** What a plan shows for a secret whose keyed hash changed. */
export const SENSITIVE_CHANGED = '(sensitive, changed)';

const KIND = 'Environment';
/** Larger files are refused: a secret is a token or a certificate, not a data set. */
export const SECRET_FILE_MAX_BYTES = 1024 * 1024;

/**
 * Where an entry's value comes from. With `optional: true`, a variable that is unset (or empty)
 * or a file that does not exist is not an error: the entry is kept without a value and a
 * warning is returned (like Kubernetes' optional secretKeyRef).
 */
export type ValueFrom = ({ env: string } | { file: string }) & { optional?: boolean };

/**
 * One `spec.data` entry, in any of its forms: as written in a manifest (`value` or `valueFrom`),
 * sealed (`sealed: {hash, ciphertext}`), comparable (`sealed: {hash}`), redacted
 * (`sealed: "(sensitive)"`) or revealed (`value` holding the plaintext).
 */
export interface EnvironmentDataEntry {
  value?: string;
  valueFrom?: ValueFrom;
  isSecret?: boolean;
  description?: string;
  sealed?: SealedSecret | { hash: string } | typeof SENSITIVE;
}

/** The resource an Environment spec belongs to (the kind is always Environment). */
export interface EnvironmentRef {
  name: string;
}

/** Why a `valueFrom` may not be read: a validation error at the entry. */
export interface ValueFromRefusal {
  message: string;
  hint: string;
}

/**
 * Limits on what `valueFrom` may read, checked before anything is read (the GitHub Action's
 * untrusted-input policy for pull requests). Each check returns null to allow, or why not.
 */
export interface ValueFromPolicy {
  /** Called with the variable name of a `valueFrom.env`. */
  env?(name: string): ValueFromRefusal | null;
  /** Called with the absolute path of a `valueFrom.file` (resolved from the manifest's directory). */
  file?(path: string): ValueFromRefusal | null;
}

export interface ResolveSecretsContext {
  /** Variables `valueFrom.env` reads from (usually `process.env`). */
  env: Record<string, string | undefined>;
  /** Directory of the manifest file; relative `valueFrom.file` paths are resolved from it. */
  baseDir: string;
  key: SecretKey;
  /** `--allow-plaintext-secrets`: accept `value:` on a secret entry. */
  allowPlaintextSecrets: boolean;
  /** What `valueFrom` may read (default: anything the process can). */
  policy?: ValueFromPolicy;
}

/** A problem with one entry. `path` is the JSON pointer in the document, for file:line positions. */
export interface SecretResolveError {
  message: string;
  hint: string;
  dataKey: string;
  path: string;
}

export interface ResolvedEnvironment {
  spec: JsonObject;
  /** Empty when every entry resolved. When not, `spec` holds no value for the failed entries. */
  errors: SecretResolveError[];
  /**
   * Entries whose optional `valueFrom` found nothing (variable unset or empty, file missing):
   * kept without a value. Not errors; callers may show them.
   */
  warnings: SecretResolveError[];
}

type Entry = Record<string, unknown>;

function isObject(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True for an entry that holds a secret: declared `isSecret: true`, already sealed, or read
 * through `valueFrom` without an explicit `isSecret: false` (what a plan reads from the machine
 * that runs it is never shown by default).
 */
export function isSecretEntry(entry: unknown): boolean {
  return (
    isObject(entry) &&
    (entry.isSecret === true ||
      entry.sealed !== undefined ||
      (entry.valueFrom !== undefined && entry.isSecret !== false))
  );
}

/** Keys of `spec.data` whose entries are secret, in spec order. */
export function secretDataKeys(spec: JsonObject): string[] {
  const data = spec.data;
  if (!isObject(data)) return [];
  return Object.keys(data).filter((k) => isSecretEntry(data[k]));
}

function pointer(...segments: string[]): string {
  return segments.map((s) => `/${s.replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Applies `fn` to every object entry of `spec.data`; returns a new spec, other fields shared. */
function mapData(spec: JsonObject, fn: (entry: Entry, dataKey: string) => Entry): JsonObject {
  const data = spec.data;
  if (!isObject(data)) return spec;
  // fromEntries defines own properties, so even a `__proto__` data key stays a data key.
  const out = Object.fromEntries(
    Object.entries(data).map(([dataKey, entry]) => [dataKey, isObject(entry) ? fn(entry, dataKey) : entry]),
  );
  return { ...spec, data: out as JsonObject };
}

function copyDefined(from: Entry, keys: string[]): Entry {
  const out: Entry = {};
  for (const k of keys) if (from[k] !== undefined) out[k] = from[k];
  return out;
}

type Sourced =
  | { value: string }
  | { error: Omit<SecretResolveError, 'dataKey'> }
  | { absent: Omit<SecretResolveError, 'dataKey'> };

/** Reads the value a `valueFrom` points at. */
function readValueFrom(
  valueFrom: unknown,
  what: string,
  basePath: string,
  ctx: ResolveSecretsContext,
): Sourced {
  const path = `${basePath}/valueFrom`;
  const keys = isObject(valueFrom) ? Object.keys(valueFrom).filter((k) => k !== 'optional') : [];
  if (!isObject(valueFrom) || keys.length !== 1 || (keys[0] !== 'env' && keys[0] !== 'file')) {
    return {
      error: {
        message: `valueFrom of ${what} must have exactly one of env or file`,
        hint: 'write valueFrom: {env: VARIABLE} or valueFrom: {file: path/relative/to/the/manifest}',
        path,
      },
    };
  }
  if (valueFrom.optional !== undefined && typeof valueFrom.optional !== 'boolean') {
    return {
      error: {
        message: `valueFrom.optional of ${what} must be true or false`,
        hint: 'write optional: true (unquoted)',
        path: `${path}/optional`,
      },
    };
  }
  const optional = valueFrom.optional === true;
  if ('env' in valueFrom) {
    const name = valueFrom.env;
    if (typeof name !== 'string' || name === '') {
      return {
        error: {
          message: `valueFrom.env of ${what} must be a variable name`,
          hint: 'write valueFrom: {env: VARIABLE}',
          path: `${path}/env`,
        },
      };
    }
    const refused = ctx.policy?.env?.(name);
    if (refused) return { error: { ...refused, path: `${path}/env` } };
    const value = ctx.env[name];
    if (optional && (value === undefined || value === '')) {
      return {
        absent: {
          message: `environment variable ${name} is not set; optional ${what} is kept without a value`,
          hint: `set ${name} to give it a value`,
          path: `${path}/env`,
        },
      };
    }
    if (value === undefined) {
      return {
        error: {
          message: `environment variable ${name} is not set (valueFrom.env of ${what})`,
          hint: `set ${name} in the environment that runs stigmer (in CI, map the secret to it)`,
          path: `${path}/env`,
        },
      };
    }
    return { value };
  }
  const file = valueFrom.file;
  if (typeof file !== 'string' || file === '') {
    return {
      error: {
        message: `valueFrom.file of ${what} must be a file path`,
        hint: 'write valueFrom: {file: path/relative/to/the/manifest}',
        path: `${path}/file`,
      },
    };
  }
  const full = resolve(ctx.baseDir, file);
  const refused = ctx.policy?.file?.(full);
  if (refused) return { error: { ...refused, path: `${path}/file` } };
  const cannotRead = (why: string, hint: string): Sourced => ({
    error: {
      message: `cannot read file ${file} (valueFrom.file of ${what}): ${why}`,
      hint,
      path: `${path}/file`,
    },
  });
  const relativeHint = `relative paths are resolved from the manifest's directory (${ctx.baseDir})`;
  try {
    const bytes = readAtMost(full, SECRET_FILE_MAX_BYTES);
    if (bytes === 'not-a-file') return cannotRead('not a regular file', relativeHint);
    if (bytes === 'too-large') {
      return cannotRead(
        `larger than ${SECRET_FILE_MAX_BYTES} bytes`,
        'point valueFrom.file at the value only',
      );
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch (cause) {
      if (!(cause instanceof TypeError)) throw cause;
      return cannotRead('not UTF-8 text', 'store binary values base64-encoded');
    }
    return {
      value: text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text,
    };
  } catch (cause) {
    const code = isObject(cause) && typeof cause.code === 'string' ? cause.code : 'error';
    if (optional && (code === 'ENOENT' || code === 'ENOTDIR')) {
      return {
        absent: {
          message: `file ${file} does not exist; optional ${what} is kept without a value`,
          hint: `create it to give it a value; ${relativeHint}`,
          path: `${path}/file`,
        },
      };
    }
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return cannotRead('no such file', `create it, or fix the path; ${relativeHint}`);
    if (code === 'EACCES' || code === 'EPERM')
      return cannotRead('permission denied', `make it readable by the user running stigmer`);
    return cannotRead(code, relativeHint);
  }
}

/**
 * The bytes of a regular file, read until `limit + 1` bytes at most. The limit is checked
 * against what was actually read, not the size the file system reports: files such as
 * `/proc/self/pagemap` report 0 and never end.
 */
function readAtMost(path: string, limit: number): Buffer | 'not-a-file' | 'too-large' {
  const fd = openSync(path, 'r');
  try {
    if (!fstatSync(fd).isFile()) return 'not-a-file';
    // Whole chunks: some kernel files refuse reads of odd sizes (pagemap wants multiples of 8).
    const chunk = 64 * 1024;
    const buf = Buffer.alloc(Math.ceil((limit + 1) / chunk) * chunk);
    let length = 0;
    while (length <= limit) {
      const n = readSync(fd, buf, length, chunk, null);
      if (n === 0) break;
      length += n;
    }
    return length > limit ? 'too-large' : buf.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * Resolves and seals the `data` of an Environment spec.
 *
 * - A secret entry (`isSecret: true`, or `valueFrom` without `isSecret: false`) takes its value from `valueFrom.env`, `valueFrom.file`
 *   (one trailing newline stripped) or, only with `allowPlaintextSecrets`, a plaintext `value`;
 *   an empty value is refused. It becomes `{isSecret: true, valueFrom?, description?,
 *   sealed: {hash, ciphertext}}`: no `value`.
 * - An entry with `valueFrom` and `isSecret: false` gets the resolved `value` and keeps `valueFrom`.
 * - An entry that is already sealed and names no source is kept as it is.
 * - An entry whose `valueFrom` is `optional: true` and finds nothing (variable unset or empty,
 *   file missing) is kept without a value (secret or not) and reported in `warnings`.
 *
 * Every problem is returned (not thrown) with its data key and JSON pointer, so the caller can
 * report them all with file:line:col positions. A failed entry keeps no value.
 */
export function resolveEnvironmentSecrets(
  spec: JsonObject,
  ref: EnvironmentRef,
  ctx: ResolveSecretsContext,
): ResolvedEnvironment {
  const errors: SecretResolveError[] = [];
  const warnings: SecretResolveError[] = [];
  const out = mapData(spec, (entry, dataKey) => {
    const basePath = pointer('spec', 'data', dataKey);
    const hasValue = entry.value !== undefined;
    const hasValueFrom = entry.valueFrom !== undefined;
    // What valueFrom reads is secret unless the entry says `isSecret: false` (DESIGN.md §4).
    const secret = entry.isSecret === true || (hasValueFrom && entry.isSecret === undefined);
    const what = `${secret ? 'secret ' : ''}${dataKey} in ${KIND}/${ref.name}`;
    const report = (e: Omit<SecretResolveError, 'dataKey'>) => errors.push({ ...e, dataKey });
    const warn = (e: Omit<SecretResolveError, 'dataKey'>) => warnings.push({ ...e, dataKey });

    if (entry.isSecret !== undefined && typeof entry.isSecret !== 'boolean') {
      // Treated as secret so that a value is never stored in clear by mistake.
      report({
        message: `isSecret of ${dataKey} in ${KIND}/${ref.name} must be true or false`,
        hint: 'write isSecret: true (unquoted)',
        path: `${basePath}/isSecret`,
      });
      return copyDefined(entry, ['valueFrom', 'description']);
    }
    if (hasValue && hasValueFrom) {
      report({
        message: `${what} sets both value and valueFrom`,
        hint: 'keep one of them',
        path: basePath,
      });
      return secret ? copyDefined(entry, ['isSecret', 'valueFrom', 'description']) : entry;
    }
    if (!secret) {
      if (!hasValueFrom) return entry;
      const sourced = readValueFrom(entry.valueFrom, what, basePath, ctx);
      if ('error' in sourced) {
        report(sourced.error);
        return entry;
      }
      if ('absent' in sourced) {
        warn(sourced.absent);
        return copyDefined(entry, ['valueFrom', 'isSecret', 'description']);
      }
      return { ...entry, value: sourced.value };
    }

    const kept = { isSecret: true, ...copyDefined(entry, ['valueFrom', 'description']) };
    let plaintext: string;
    if (hasValueFrom) {
      const sourced = readValueFrom(entry.valueFrom, what, basePath, ctx);
      if ('error' in sourced) {
        report(sourced.error);
        return kept;
      }
      if ('absent' in sourced) {
        warn(sourced.absent);
        return kept;
      }
      plaintext = sourced.value;
    } else if (hasValue) {
      if (!ctx.allowPlaintextSecrets) {
        report({
          message: `plaintext secret value for ${dataKey} in ${KIND}/${ref.name}; use valueFrom: {env: ...} or --allow-plaintext-secrets`,
          hint: 'keep the value out of git: put it in an environment variable or a file and reference it with valueFrom',
          path: `${basePath}/value`,
        });
        return kept;
      }
      if (typeof entry.value !== 'string') {
        report({
          message: `value of ${what} must be a string`,
          hint: 'quote the value',
          path: `${basePath}/value`,
        });
        return kept;
      }
      plaintext = entry.value;
    } else if (entry.sealed !== undefined) {
      return entry;
    } else {
      report({
        message: `${what} has no value`,
        hint: 'add valueFrom: {env: VARIABLE} or valueFrom: {file: PATH}',
        path: basePath,
      });
      return kept;
    }
    if (plaintext === '') {
      report({
        message: `${what} is empty`,
        hint: hasValueFrom
          ? 'the variable or file it reads from holds no value (in CI, check that the secret is available to this job)'
          : 'give it a value',
        path: hasValueFrom ? `${basePath}/valueFrom` : `${basePath}/value`,
      });
      return kept;
    }
    const secretRef: SecretRef = { kind: KIND, name: ref.name, key: dataKey };
    return { ...kept, isSecret: true, sealed: { ...sealSecret(ctx.key, secretRef, plaintext) } };
  });
  return { spec: out, errors, warnings };
}

/**
 * The spec the planner compares (and hashes for drift): every `sealed.ciphertext` removed, only
 * `sealed.hash` kept. Each seal uses a fresh IV, so comparing ciphertexts would show every
 * secret as changed on every plan; comparing hashes makes an unchanged secret a no-op.
 */
export function comparableSecretSpec(spec: JsonObject): JsonObject {
  return mapData(spec, (entry) => {
    const sealed = entry.sealed;
    if (!isObject(sealed) || !('ciphertext' in sealed)) return entry;
    const { ciphertext: _dropped, ...rest } = sealed;
    return { ...entry, sealed: rest };
  });
}

/**
 * The spec as it may be shown anywhere (plans, JSON, PR comments, `get`): in every secret entry,
 * `sealed` and `value` are replaced by "(sensitive)". Other fields, `valueFrom` included, stay.
 */
export function redactSpec(spec: JsonObject): JsonObject {
  return mapData(spec, (entry) => (isSecretEntry(entry) ? redactEntry(entry) : entry));
}

function redactEntry(entry: Entry): Entry {
  const out: Entry = { ...entry };
  if (out.sealed !== undefined) out.sealed = SENSITIVE;
  if (out.value !== undefined) out.value = SENSITIVE;
  return out;
}

/**
 * Decrypts every sealed entry into `value` (and drops `sealed`), for `get --show-secrets` and
 * execution contexts. Entries without a sealed value are returned unchanged.
 *
 * @throws StigmerError('SECRET') for a value that cannot be decrypted (see `openSecret`), or
 *   for a spec that was already redacted or made comparable.
 */
export function revealSpec(spec: JsonObject, ref: EnvironmentRef, key: SecretKey): JsonObject {
  return mapData(spec, (entry, dataKey) => {
    if (entry.sealed === undefined) return entry;
    const { sealed, ...rest } = entry;
    const plaintext = openSecret(key, { kind: KIND, name: ref.name, key: dataKey }, sealed as SealedSecret);
    return { ...rest, value: plaintext };
  });
}

/** A resource whose secrets `collectSecretValues` should gather; non-Environment kinds are skipped. */
export interface SecretSource {
  kind?: string;
  name: string;
  spec: JsonObject;
}

/**
 * The plaintexts of every secret known for a set of resources, for log masking (the GitHub
 * Action registers each one). Plaintext `value`s of secret entries are taken as they are; sealed
 * values are decrypted when `key` is given. A multi-line value is returned whole and also line
 * by line (masking works per line); blank lines are left out. No duplicates, longest first.
 *
 * @throws StigmerError('SECRET') when a sealed value cannot be decrypted with `key`.
 */
export function collectSecretValues(resources: Iterable<SecretSource>, key?: SecretKey): string[] {
  const found = new Set<string>();
  const add = (value: string) => {
    if (value === '') return;
    found.add(value);
    const lines = value.split(/\r?\n/);
    if (lines.length > 1) for (const line of lines) if (line.trim() !== '') found.add(line);
  };
  for (const resource of resources) {
    if (resource.kind !== undefined && resource.kind !== KIND) continue;
    const data = resource.spec.data;
    if (!isObject(data)) continue;
    for (const [dataKey, entry] of Object.entries(data)) {
      if (!isObject(entry) || !isSecretEntry(entry)) continue;
      if (typeof entry.value === 'string' && entry.value !== SENSITIVE) add(entry.value);
      if (key && isObject(entry.sealed) && typeof entry.sealed.ciphertext === 'string') {
        const ref = { kind: KIND, name: resource.name, key: dataKey };
        add(openSecret(key, ref, entry.sealed as unknown as SealedSecret));
      }
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/** The shape of an RFC 6902 operation, as far as redaction cares. */
export interface PatchOperationLike {
  op: string;
  path: string;
  value?: unknown;
}

function parsePointer(path: string): string[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/**
 * Redacts a patch computed over specs that went through `comparableSecretSpec` (or a view that
 * holds such a spec at `specPath`, default `/spec` as in the plan's ComparedView):
 * an operation that sets a secret entry's `sealed` or `value` gets the value
 * "(sensitive, changed)"; one that adds or replaces a whole entry, `data` or the spec gets it
 * with `redactSpec` applied. Fields that are not secret (`valueFrom`, `description`,
 * `isSecret`) stay readable.
 *
 * @param secretKeys data keys that are secret on either side: `secretDataKeys(before)` and
 *   `secretDataKeys(after)` together.
 */
export function redactSecretPatch<T extends PatchOperationLike>(
  patch: readonly T[],
  secretKeys: Iterable<string>,
  specPath = '/spec',
): T[] {
  const secret = new Set(secretKeys);
  const specSegments = parsePointer(specPath);
  const redactAt = (segments: string[], value: unknown): unknown => {
    if (segments.length < specSegments.length) {
      // An ancestor of the spec (e.g. the whole view on create): redact the spec inside it.
      if (!specSegments.slice(0, segments.length).every((s, i) => s === segments[i])) return value;
      const next = specSegments[segments.length] as string;
      if (!isObject(value) || value[next] === undefined) return value;
      return { ...value, [next]: redactAt([...segments, next], value[next]) };
    }
    if (!specSegments.every((s, i) => s === segments[i])) return value;
    const [field, dataKey, sub] = segments.slice(specSegments.length);
    if (field === undefined) {
      return isObject(value) && value.data !== undefined
        ? { ...value, data: redactAt([...segments, 'data'], value.data) }
        : value;
    }
    if (field !== 'data') return value;
    if (dataKey === undefined) {
      if (!isObject(value)) return value;
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactAt([...segments, k], v)]));
    }
    if (sub === undefined) {
      if (!secret.has(dataKey) && !isSecretEntry(value)) return value;
      return isObject(value) ? redactEntry(value) : SENSITIVE_CHANGED;
    }
    if (!secret.has(dataKey)) return value;
    return sub === 'isSecret' || sub === 'description' || sub === 'valueFrom' ? value : SENSITIVE_CHANGED;
  };
  return patch.map((op) =>
    'value' in op ? { ...op, value: redactAt(parsePointer(op.path), op.value) } : op,
  );
}
