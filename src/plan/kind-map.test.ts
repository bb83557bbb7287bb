import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECLARED_KINDS, type DeclaredKind } from '../types.js';
import { compareKindName, sortedByKindName } from './kind-map.js';

describe('sortedByKindName', () => {
  it('orders as compareKindName does, whatever the input order (unknown kinds last)', () => {
    const kind = fc.constantFrom<DeclaredKind>(
      ...DECLARED_KINDS,
      'Zeta' as DeclaredKind,
      'Alpha' as DeclaredKind,
    );
    const item = fc.record({ kind, name: fc.string({ maxLength: 6 }) });
    fc.assert(
      fc.property(fc.array(item, { maxLength: 60 }), (drawn) => {
        // Each item tagged with its place, so equal keys stay apart and none is lost.
        const items = drawn.map((d, tag) => ({ ...d, tag }));
        const sorted = sortedByKindName(items);
        // Both sorts are stable: equal keys keep their input order.
        expect(sorted).toEqual([...items].sort(compareKindName));
      }),
      { numRuns: 300 },
    );
  });
});
