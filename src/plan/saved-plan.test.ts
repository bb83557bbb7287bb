import { describe, expect, it } from 'vitest';
import { ConflictError, StigmerError } from '../errors.js';
import { ANNOTATIONS, type StoredResource } from '../types.js';
import { planChanges } from './plan.js';
import { describeSavedPlan } from './saved-plan.js';
import { desired, live, liveFrom, planOptions } from './testing.js';
import type { Plan } from './types.js';

function failure(fn: () => unknown): StigmerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('describeSavedPlan', () => {
  const state: StoredResource[] = [
    liveFrom(
      desired('Agent', 'changed', { spec: { instructions: 'You answer billing questions.' } }),
      'demo',
      2,
    ),
    live('Agent', 'unowned', { project: null }),
    live('Skill', 'gone', { version: 3 }),
    live('Skill', 'kept', { annotations: { [ANNOTATIONS.prune]: 'disabled' } }),
    live('Skill', 'drifted', { applied: false, annotations: { [ANNOTATIONS.appliedHash]: 'sha256:old' } }),
  ];
  const honest = planChanges(
    [
      desired('Agent', 'changed', { spec: { instructions: 'You answer refund questions.' } }),
      desired('Agent', 'unowned'),
      desired('Agent', 'new', { labels: { team: 'cs' } }),
      desired('Skill', 'drifted', { spec: { skillMd: '# Restored\n' } }),
    ],
    state,
    planOptions(),
  );

  it('gives back exactly the plan the planner made when nothing was edited', () => {
    expect(honest.changes.map((c) => `${c.action} ${c.name} ${c.reason ?? ''}`).sort()).toEqual([
      'create new ',
      'delete gone prune',
      'update changed ',
      'update drifted ',
      'update kept release',
      'update unowned adopt',
    ]);
    expect(honest.changes.find((c) => c.name === 'drifted')?.drift).toBe(true);
    expect(describeSavedPlan(honest, state)).toEqual(honest);
  });

  it('shows and counts what the plan writes, whatever the file says it shows', () => {
    const edited: Plan = JSON.parse(JSON.stringify(honest));
    const change = edited.changes.find((c) => c.name === 'changed')!;
    change.after!.spec.instructions = 'What the reviewer was shown.';
    change.patch = [];
    change.source = 'elsewhere.yaml:9';
    edited.summary = { create: 0, update: 0, delete: 0, noop: honest.summary.noop };
    const shown = describeSavedPlan(edited, state);
    const rebuilt = shown.changes.find((c) => c.name === 'changed')!;
    expect(rebuilt.after!.spec.instructions).toBe('You answer refund questions.');
    expect(rebuilt.patch).toEqual([
      { op: 'replace', path: '/spec/instructions', value: 'You answer refund questions.' },
    ]);
    expect(rebuilt.source).toBe('manifests/changed.yaml:1');
    expect(shown.summary).toEqual(honest.summary);
  });

  it('refuses a write that hands a resource to another project, or releases and changes it', () => {
    const edited: Plan = JSON.parse(JSON.stringify(honest));
    edited.changes.find((c) => c.name === 'new')!.write!.annotations[ANNOTATIONS.project] = 'other';
    expect(failure(() => describeSavedPlan(edited, state))).toMatchObject({
      code: 'OWNERSHIP',
      message: 'saved plan would make Agent/new owned by project "other", not "demo"; nothing was applied',
    });
    const release: Plan = JSON.parse(JSON.stringify(honest));
    release.changes.find((c) => c.reason === 'release')!.write!.spec = { skillMd: '# Other\n' };
    expect(failure(() => describeSavedPlan(release, state)).code).toBe('OWNERSHIP');
  });

  it('refuses deletes of what the project does not own or may not destroy, against the live state', () => {
    const protectedNow = state.map((r) =>
      r.name === 'gone'
        ? { ...r, annotations: { ...r.annotations, [ANNOTATIONS.preventDestroy]: 'true' } }
        : r,
    );
    expect(failure(() => describeSavedPlan(honest, protectedNow)).code).toBe('PREVENT_DESTROY');
    const otherNow = state.map((r) =>
      r.name === 'gone' ? { ...r, annotations: { [ANNOTATIONS.project]: 'other' } } : r,
    );
    expect(failure(() => describeSavedPlan(honest, otherNow))).toMatchObject({
      code: 'OWNERSHIP',
      message: 'Skill/gone is owned by project "other", not "demo"; nothing was applied',
    });
  });

  it('reports a resource that moved on since the plan as a conflict', () => {
    const moved = state.map((r) => (r.name === 'changed' ? { ...r, version: 3 } : r));
    const err = failure(() => describeSavedPlan(honest, moved));
    expect(err).toBeInstanceOf(ConflictError);
    expect(err.message).toBe('conflict on Agent/changed: expected version 2, found version 3');
    const appeared = [...state, live('Agent', 'new')];
    expect(failure(() => describeSavedPlan(honest, appeared))).toBeInstanceOf(ConflictError);
  });
});
