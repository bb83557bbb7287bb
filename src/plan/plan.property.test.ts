import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ANNOTATIONS,
  DECLARED_KINDS,
  type DeclaredKind,
  type DesiredResource,
  type JsonObject,
  type StoredResource,
} from '../types.js';
import { resourceKey, specReferences } from './order.js';
import { planChanges, planHasErrors } from './plan.js';
import { applyToLiveState, desired, live, planOptions } from './testing.js';

const SECRET_MARK = 'SeCrEt~';
const name = fc.constantFrom('a', 'b', 'c', 'd', 'support-bot', 'x-1');
const kind = fc.constantFrom<DeclaredKind>(...DECLARED_KINDS);
const shortText = fc.string({ maxLength: 8 });
const stringMap = fc.dictionary(fc.constantFrom('team', 'tier', 'env', 'a.b/c'), shortText, { maxKeys: 3 });
const jsonLeaf = fc.oneof(
  shortText,
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.string({ maxLength: 30 }).map((s) => `${s}\n${s}`),
);
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, jsonLeaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(fc.constantFrom('k', 'm', 'n', 'model'), tie('value'), { maxKeys: 3 }),
})).value;

const secretData = fc.dictionary(
  fc.constantFrom('TOKEN', 'REGION', 'KEY'),
  // Secret values carry a marker no other generated value has, so leaks are easy to spot.
  fc
    .record({ value: fc.string({ minLength: 1, maxLength: 10 }), isSecret: fc.boolean() })
    .map((e) => ({ ...e, value: `${e.isSecret ? SECRET_MARK : 'pub-'}${e.value}` })),
  { maxKeys: 3 },
);

function specFor(k: DeclaredKind): fc.Arbitrary<JsonObject> {
  const extra = fc.dictionary(fc.constantFrom('description', 'config', 'extra'), jsonValue, { maxKeys: 2 });
  const refs = fc.array(name, { maxLength: 2 });
  switch (k) {
    case 'Agent':
      return fc
        .record({
          instructions: fc.string({ minLength: 10, maxLength: 40 }),
          subAgents: refs,
          skillRefs: refs,
          extra,
        })
        .map(({ extra: e, ...s }) => ({ ...e, ...s }));
    case 'Environment':
      return secretData.map((data) => ({ data }) as JsonObject);
    case 'Workflow':
      return fc
        .array(fc.record({ name: name, agent: name }), { maxLength: 3 })
        .map((tasks) => ({ tasks }) as JsonObject);
    case 'AgentInstance':
      return fc.record({ agent: name, environmentRefs: refs });
    case 'WorkflowInstance':
      return fc.record({ workflow: name, environmentRefs: refs });
    default:
      return fc
        .record({ skillMd: fc.string({ maxLength: 40 }), extra })
        .map(({ extra: e, ...s }) => ({ ...e, ...s }));
  }
}

const annotationsArb = fc.dictionary(
  fc.constantFrom('note', ANNOTATIONS.prune, ANNOTATIONS.preventDestroy),
  fc.constantFrom('disabled', 'true', 'x'),
  { maxKeys: 2 },
);

const desiredArb: fc.Arbitrary<DesiredResource> = fc
  .tuple(kind, name)
  .chain(([k, n]) =>
    fc
      .record({ labels: stringMap, annotations: annotationsArb, spec: specFor(k) })
      .map((f) => desired(k, n, f)),
  );

/** A desired set without duplicate (kind, name). */
const desiredSet = fc.uniqueArray(desiredArb, {
  selector: (d) => resourceKey(d.kind, d.name),
  maxLength: 12,
});

const liveArb: fc.Arbitrary<StoredResource> = fc
  .tuple(
    kind,
    name,
    fc.constantFrom<string | null>('demo', 'demo', 'other', null),
    fc.integer({ min: 1, max: 9 }),
  )
  .chain(([k, n, project, version]) =>
    fc
      .record({ labels: stringMap, annotations: annotationsArb, spec: specFor(k), applied: fc.boolean() })
      .map((f) => live(k, n, { ...f, project, version })),
  );
const liveSet = fc.uniqueArray(liveArb, { selector: (l) => resourceKey(l.kind, l.name), maxLength: 12 });

const runs = { numRuns: 300 };

describe('planChanges properties', () => {
  it('apply then plan is empty, from any starting state', () => {
    fc.assert(
      fc.property(desiredSet, liveSet, fc.boolean(), (ds, ls, prune) => {
        const options = planOptions({ prune, allowEmpty: true });
        const first = planChanges(ds, ls, options);
        fc.pre(!planHasErrors(first));
        const after = applyToLiveState(ls, first);
        const second = planChanges(ds, after, options);
        expect(second.diagnostics).toEqual([]);
        expect(second.changes).toEqual([]);
        expect(second.summary).toEqual({ create: 0, update: 0, delete: 0, noop: ds.length });
      }),
      runs,
    );
  });

  it('applying the same manifests twice from empty gives an empty second plan', () => {
    fc.assert(
      fc.property(desiredSet, (ds) => {
        const first = planChanges(ds, [], planOptions());
        expect(planHasErrors(first)).toBe(false);
        expect(first.summary.create).toBe(ds.length);
        expect(planChanges(ds, applyToLiveState([], first), planOptions()).changes).toEqual([]);
      }),
      runs,
    );
  });

  it('deletes only resources owned by the project, and never touches other projects', () => {
    fc.assert(
      fc.property(desiredSet, liveSet, (ds, ls) => {
        const plan = planChanges(ds, ls, planOptions({ allowEmpty: true }));
        const byKey = new Map(ls.map((l) => [resourceKey(l.kind, l.name), l]));
        for (const c of plan.changes) {
          const l = byKey.get(resourceKey(c.kind, c.name));
          if (c.action === 'delete') {
            expect(l?.annotations[ANNOTATIONS.project]).toBe('demo');
            expect(ds.some((d) => d.kind === c.kind && d.name === c.name)).toBe(false);
          }
          if (l) expect(l.annotations[ANNOTATIONS.project] ?? 'demo').toBe('demo');
        }
      }),
      runs,
    );
  });

  it('writes each resource after the ones it references, and deletes in reverse', () => {
    fc.assert(
      fc.property(desiredSet, liveSet, (ds, ls) => {
        const plan = planChanges(ds, ls, planOptions({ allowEmpty: true }));
        const position = new Map(plan.changes.map((c, i) => [resourceKey(c.kind, c.name), i]));
        const liveByKey = new Map(ls.map((l) => [resourceKey(l.kind, l.name), l]));
        let seenDelete = false;
        plan.changes.forEach((c, i) => {
          if (c.action === 'delete') {
            seenDelete = true;
            const spec = liveByKey.get(resourceKey(c.kind, c.name))?.spec ?? {};
            for (const ref of specReferences(c.kind, spec)) {
              const j = position.get(resourceKey(ref.kind, ref.name));
              const target = j === undefined ? undefined : plan.changes[j];
              if (target?.action === 'delete' && !isCyclic(c, ref, plan.changes))
                expect(j).toBeGreaterThan(i);
            }
            return;
          }
          expect(seenDelete).toBe(false);
          for (const ref of specReferences(c.kind, c.write?.spec ?? {})) {
            const j = position.get(resourceKey(ref.kind, ref.name));
            const target = j === undefined ? undefined : plan.changes[j];
            if (target && target.action !== 'delete' && !isCyclic(c, ref, plan.changes))
              expect(j).toBeLessThan(i);
          }
        });
      }),
      runs,
    );
  });

  it('never lets a secret value out of before, after or patch', () => {
    fc.assert(
      fc.property(desiredSet, liveSet, (ds, ls) => {
        const plan = planChanges(ds, ls, planOptions({ allowEmpty: true }));
        const shown = JSON.stringify(plan.changes.map((c) => [c.before, c.after, c.patch]));
        expect(shown).not.toContain(SECRET_MARK);
      }),
      runs,
    );
  });
});

/** True when `ref` also (transitively) references `change`: cycles have no valid order. */
function isCyclic(
  change: { kind: DeclaredKind; name: string },
  ref: { kind: DeclaredKind; name: string },
  changes: ReturnType<typeof planChanges>['changes'],
): boolean {
  const specOf = new Map(
    changes.map((c) => [resourceKey(c.kind, c.name), c.write?.spec ?? c.before?.spec ?? {}]),
  );
  const target = resourceKey(change.kind, change.name);
  const seen = new Set<string>();
  const stack = [resourceKey(ref.kind, ref.name)];
  while (stack.length > 0) {
    const key = stack.pop() as string;
    if (key === target) return true;
    if (seen.has(key)) continue;
    seen.add(key);
    const [k, n] = key.split('/') as [DeclaredKind, string];
    for (const r of specReferences(k, specOf.get(`${k}/${n}`) ?? {})) stack.push(resourceKey(r.kind, r.name));
  }
  return false;
}
