/**
 * How the planner treats secret values (DESIGN.md §4): entries of an Environment's `spec.data`
 * with `isSecret: true`, read through `valueFrom` (unless `isSecret: false`), or already sealed
 * (`sealed: {hash, ciphertext}`).
 *
 * Three forms of a ComparedView exist inside the planner:
 * - comparable: what decides "changed or not". A secret entry's `value`/`sealed` become one
 *   token (the keyed hash when a `SecretHasher` is plugged in or the entry is sealed, else the
 *   plaintext, which never leaves the planner);
 * - hashable: what `stigmer.ai/applied-hash` is computed over. Like comparable, but a plaintext
 *   with no keyed hash is replaced by a constant, so the stored hash reveals nothing about it;
 * - redacted: what plans, JSON, PR comments and saved files show. Every secret `value` and
 *   `sealed` reads "(sensitive)", or "(sensitive, changed)" on the `after` side of a change.
 */
import type { DeclaredKind, JsonObject, JsonValue } from '../types.js';
import type { ComparedView } from './types.js';

/** What a secret value is shown as wherever it must not appear. */
export const SENSITIVE = '(sensitive)';
/** What a plan shows, on the `after` side, for a secret whose value changed. */
export const SENSITIVE_CHANGED = '(sensitive, changed)';

/**
 * A keyed hash of one secret value (e.g. HMAC-SHA256 under the master key). When the planner
 * has one, plaintext values are compared by it; sealed values are always compared by their
 * stored `sealed.hash`, which must be the same function's output.
 */
export type SecretHasher = (kind: DeclaredKind, name: string, key: string, value: string) => string;

/** The kind whose spec.data may hold secrets. */
const SECRET_KIND: DeclaredKind = 'Environment';
/** Member a secret entry's value token is stored under in the comparable form. */
const TOKEN_MEMBER = '$secret';

type Entry = { [key: string]: JsonValue };

function isObject(value: unknown): value is Entry {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * True for a `spec.data` entry that holds a secret: `isSecret: true`, sealed, or read through
 * `valueFrom` without an explicit `isSecret: false`.
 */
export function isSecretEntry(entry: unknown): entry is Entry {
  return (
    isObject(entry) &&
    (entry.isSecret === true ||
      entry.sealed !== undefined ||
      (entry.valueFrom !== undefined && entry.isSecret !== false))
  );
}

/** Keys of the secret entries of a spec (none for kinds other than Environment). */
export function secretKeys(kind: DeclaredKind, spec: JsonObject): string[] {
  if (kind !== SECRET_KIND || !isObject(spec.data)) return [];
  const data = spec.data;
  return Object.keys(data).filter((k) => isSecretEntry(data[k]));
}

/** Returns the view with each secret entry of spec.data replaced by `fn(entry, key)`. */
function mapSecrets(
  kind: DeclaredKind,
  view: ComparedView,
  fn: (entry: Entry, key: string) => Entry,
): ComparedView {
  const keys = secretKeys(kind, view.spec);
  if (keys.length === 0) return view;
  const data: Entry = { ...(view.spec.data as Entry) };
  for (const key of keys) data[key] = fn(data[key] as Entry, key);
  return { metadata: view.metadata, spec: { ...view.spec, data } };
}

/**
 * The token a secret entry's value compares by: the sealed hash, the keyed hash of the
 * plaintext, or (with no hasher) the plaintext itself. Undefined when the entry has no value
 * (e.g. only a `valueFrom` reference).
 */
function secretToken(
  kind: DeclaredKind,
  name: string,
  key: string,
  entry: Entry,
  hasher: SecretHasher | undefined,
  plaintextFallback: 'plaintext' | 'constant',
): string | undefined {
  const sealed = entry.sealed;
  if (isObject(sealed) && typeof sealed.hash === 'string') return sealed.hash;
  if (typeof entry.value === 'string') {
    if (hasher) return hasher(kind, name, key, entry.value);
    return plaintextFallback === 'plaintext' ? entry.value : SENSITIVE;
  }
  return undefined;
}

function tokenised(
  kind: DeclaredKind,
  name: string,
  view: ComparedView,
  hasher: SecretHasher | undefined,
  fallback: 'plaintext' | 'constant',
): ComparedView {
  return mapSecrets(kind, view, (entry, key) => {
    const { value: _value, sealed: _sealed, ...rest } = entry;
    const token = secretToken(kind, name, key, entry, hasher, fallback);
    return token === undefined ? rest : { ...rest, [TOKEN_MEMBER]: token };
  });
}

/** The form that decides whether a resource changed. Holds plaintext: never let it out of the planner. */
export function comparableView(
  kind: DeclaredKind,
  name: string,
  view: ComparedView,
  hasher?: SecretHasher,
): ComparedView {
  return tokenised(kind, name, view, hasher, 'plaintext');
}

/** The form `stigmer.ai/applied-hash` is computed over: no plaintext secret in it. */
export function hashableView(
  kind: DeclaredKind,
  name: string,
  view: ComparedView,
  hasher?: SecretHasher,
): ComparedView {
  return tokenised(kind, name, view, hasher, 'constant');
}

/**
 * The view as it may be shown anywhere: every secret entry's `value` and `sealed` replaced by
 * "(sensitive)". `changedKeys` names entries to mark "(sensitive, changed)" instead.
 */
export function redactView(
  kind: DeclaredKind,
  view: ComparedView,
  changedKeys: ReadonlySet<string> = new Set(),
): ComparedView {
  return mapSecrets(kind, view, (entry, key) => {
    const mark = changedKeys.has(key) ? SENSITIVE_CHANGED : SENSITIVE;
    const out: Entry = { ...entry };
    if (out.value !== undefined) out.value = mark;
    if (out.sealed !== undefined) out.sealed = mark;
    return out;
  });
}

/**
 * Keys of secret entries present (as secrets) on both sides whose values differ. These are
 * the changes a redacted diff would hide, so the `after` side marks them.
 */
export function changedSecretKeys(
  kind: DeclaredKind,
  name: string,
  before: ComparedView,
  after: ComparedView,
  hasher?: SecretHasher,
): Set<string> {
  const changed = new Set<string>();
  const beforeKeys = new Set(secretKeys(kind, before.spec));
  const beforeData = before.spec.data as Entry | undefined;
  const afterData = after.spec.data as Entry | undefined;
  for (const key of secretKeys(kind, after.spec)) {
    if (!beforeKeys.has(key) || !beforeData || !afterData) continue;
    const a = secretToken(kind, name, key, beforeData[key] as Entry, hasher, 'plaintext');
    const b = secretToken(kind, name, key, afterData[key] as Entry, hasher, 'plaintext');
    if (a !== b && b !== undefined) changed.add(key);
  }
  return changed;
}
