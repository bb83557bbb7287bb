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
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const member = record[key];
    if (member === undefined) continue;
    members.push(`${JSON.stringify(key)}:${canonicalJson(member)}`);
  }
  return `{${members.join(',')}}`;
}

/** `sha256:<hex>` of the canonical JSON of a value. */
export function stableHash(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex')}`;
}

/** Structural equality of two JSON values (key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
