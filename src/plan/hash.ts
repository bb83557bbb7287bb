/**
 * Canonical JSON and the stable hash stored in `stigmer.ai/applied-hash` (DESIGN.md §4.5).
 * Canonical means object keys sorted at every level and `undefined` members dropped, so two
 * structurally equal values always give the same text and the same hash, whatever the key
 * order of the YAML they came from or of the JSON a backend returned.
 */
import { createHash } from 'node:crypto';

/** JSON text with object keys sorted at every level; `undefined` members are left out like JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    const text = JSON.stringify(value);
    return text === undefined ? 'null' : text;
  }
  // One string built in place (no member arrays to join): the applied-hash of every create
  // of a 100,000-resource apply goes through here (docs/performance.md item 39).
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      out += `${i === 0 ? '' : ','}${v === undefined ? 'null' : canonicalJson(v)}`;
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(member)}`;
  }
  return `${out}}`;
}

/** `sha256:<hex>` of the canonical JSON of a value. */
export function stableHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`;
}

/**
 * Structural equality of two JSON values (key order does not matter): true exactly when their
 * canonical JSON texts are equal, decided without building the texts (the planner compares
 * every live resource with its manifest, so this runs N times per plan).
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') {
    // Primitives, and a primitive against an object: compare as canonical JSON does
    // (NaN and Infinity are `null`, `undefined` is `null` at the top and in arrays).
    return canonicalJson(a) === canonicalJson(b);
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) {
      const x = a[i] === undefined ? null : a[i];
      const y = other[i] === undefined ? null : other[i];
      if (!jsonEqual(x, y)) return false;
    }
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const key of Object.keys(x)) {
    const value = x[key];
    if (value === undefined) continue;
    count++;
    if (!Object.hasOwn(y, key) || y[key] === undefined || !jsonEqual(value, y[key])) return false;
  }
  for (const key of Object.keys(y)) if (y[key] !== undefined) count--;
  return count === 0;
}
