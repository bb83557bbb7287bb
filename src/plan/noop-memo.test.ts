import { describe, expect, it } from 'vitest';
import type { DesiredResource, StoredResource } from '../types.js';
import { orderByReferences } from './order.js';
import { planChanges } from './plan.js';
import { desired, live, liveFrom, planOptions } from './testing.js';

describe('planChanges with a noopMemo', () => {
  it('gives the same plans as without it, and records only the no-ops it found', () => {
    const a = desired('Skill', 'a');
    const b = desired('Skill', 'b', { spec: { skillMd: 'new' } });
    const liveA = liveFrom(a);
    const liveB = liveFrom(desired('Skill', 'b', { spec: { skillMd: 'old' } }));
    const memo = new WeakMap<DesiredResource, StoredResource>();
    const plain = planChanges([a, b], [liveA, liveB], planOptions());
    const memoized = planChanges([a, b], [liveA, liveB], planOptions({ noopMemo: memo }));
    expect(memoized).toEqual(plain);
    expect(memo.get(a)).toBe(liveA);
    expect(memo.has(b)).toBe(false);
    // A second plan over the same objects is still the same plan.
    expect(planChanges([a, b], [liveA, liveB], planOptions({ noopMemo: memo }))).toEqual(plain);
  });

  it('compares again when the live object is a different one (re-read or changed outside)', () => {
    const a = desired('Skill', 'a');
    const memo = new WeakMap<DesiredResource, StoredResource>();
    const liveA = liveFrom(a);
    expect(planChanges([a], [liveA], planOptions({ noopMemo: memo })).summary.noop).toBe(1);
    const changedOutside = { ...liveA, spec: { skillMd: 'edited by hand' }, version: 2 };
    const plan = planChanges([a], [changedOutside], planOptions({ noopMemo: memo }));
    expect(plan.changes.map((c) => `${c.action} ${c.name}`)).toEqual(['update a']);
    expect(plan.changes[0]?.drift).toBe(true);
  });

  it('does not skip the ownership check for a memoized pair', () => {
    const a = desired('Skill', 'a');
    const memo = new WeakMap<DesiredResource, StoredResource>();
    const liveA = liveFrom(a, 'demo');
    planChanges([a], [liveA], planOptions({ noopMemo: memo }));
    const other = planChanges([a], [liveA], planOptions({ project: 'other', noopMemo: memo }));
    expect(other.diagnostics.map((d) => d.severity)).toEqual(['error']);
    // An unowned live resource is adopted, never memoized as a no-op.
    const unowned = live('Skill', 'u', { project: null });
    const u = desired('Skill', 'u', { spec: unowned.spec });
    const adopt = planChanges([u], [unowned], planOptions({ noopMemo: memo }));
    expect(adopt.changes.map((c) => c.reason)).toEqual(['adopt']);
    expect(memo.has(u)).toBe(false);
  });
});

describe('planChanges observed versions', () => {
  it('are in kind rank then name order, as orderByReferences gives', () => {
    const ds = [
      desired('Agent', 'z'),
      desired('Skill', 'b'),
      desired('Agent', 'a'),
      desired('Skill', 'a'),
      desired('Environment', 'e'),
    ];
    const extra = live('Workflow', 'w');
    const plan = planChanges(ds, [liveFrom(ds[1] as DesiredResource), extra], planOptions({ prune: false }));
    expect(plan.observed).toEqual(orderByReferences([...plan.observed].reverse(), () => ({})));
    expect(plan.observed.map((o) => `${o.kind}/${o.name}`)).toHaveLength(6);
  });
});
