import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, jsonEqual } from './hash.js';

/** Same value with object keys in reverse order at every level. */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).reverse())
    out[key] = reordered((value as Record<string, unknown>)[key]);
  return out;
}

/** JSON values as the planner gets them (JSON.parse of stored rows, YAML converted to JSON). */
const json = fc
  .jsonValue()
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  // `reordered` cannot rebuild a "__proto__" member faithfully under vitest's transform.
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'));

const values = fc.oneof(
  json,
  fc.anything({ withNullPrototype: false, withObjectString: false, maxDepth: 3 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 0, null, undefined, [undefined], [null], {
    a: undefined,
  }),
);

describe('jsonEqual', () => {
  it('agrees with comparing canonical JSON texts', () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        expect(jsonEqual(a, b)).toBe(canonicalJson(a) === canonicalJson(b));
      }),
      { numRuns: 2000 },
    );
  });

  it('ignores key order and undefined members, and sees every difference', () => {
    fc.assert(
      fc.property(json, (a) => {
        expect(jsonEqual(a, reordered(a))).toBe(true);
        expect(jsonEqual({ x: a, gone: undefined }, { x: reordered(a) })).toBe(true);
        expect(jsonEqual({ x: a }, { x: a, extra: 1 })).toBe(false);
        expect(jsonEqual([a], [a, a])).toBe(false);
      }),
      { numRuns: 1000 },
    );
    expect(jsonEqual([undefined], [null])).toBe(true);
    expect(jsonEqual({ a: 1 }, [1])).toBe(false);
    expect(jsonEqual({ a: { b: [1, 2] } }, { a: { b: [2, 1] } })).toBe(false);
    expect(jsonEqual(Number.NaN, null)).toBe(true);
    expect(jsonEqual('1', 1)).toBe(false);
  });
});
