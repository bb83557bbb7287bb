import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DECLARED_KINDS, type DeclaredKind, type JsonObject } from '../types.js';
import { compareKindName } from './kind-map.js';
import { orderByReferences, resourceKey, specReferences } from './order.js';

interface Item {
  kind: DeclaredKind;
  name: string;
  spec: JsonObject;
}

/**
 * The order as first written (string keys, a Set of pending references per item, a sorted
 * ready list): the reference the index-based orderByReferences is checked against.
 */
function referenceOrder(items: Item[]): Item[] {
  const byKey = new Map<string, Item>();
  for (const item of items) byKey.set(resourceKey(item.kind, item.name), item);
  const pending = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  for (const [key, item] of byKey) {
    const deps = new Set<string>();
    for (const ref of specReferences(item.kind, item.spec)) {
      const depKey = resourceKey(ref.kind, ref.name);
      if (depKey !== key && byKey.has(depKey)) deps.add(depKey);
    }
    pending.set(key, deps);
    for (const dep of deps) dependents.set(dep, [...(dependents.get(dep) ?? []), key]);
  }
  const keys = [...byKey.keys()].sort((a, b) => compareKindName(byKey.get(a) as Item, byKey.get(b) as Item));
  const reaches = (start: string): boolean => {
    const seen = new Set<string>();
    const stack = [...(pending.get(start) ?? [])];
    while (stack.length > 0) {
      const key = stack.pop() as string;
      if (key === start) return true;
      if (seen.has(key)) continue;
      seen.add(key);
      stack.push(...(pending.get(key) ?? []));
    }
    return false;
  };
  const ready = new Set(keys.filter((k) => pending.get(k)?.size === 0));
  const ordered: Item[] = [];
  while (pending.size > 0) {
    if (ready.size === 0) ready.add(keys.find((k) => pending.has(k) && reaches(k)) as string);
    const key = keys.find((k) => ready.has(k)) as string;
    ready.delete(key);
    ordered.push(byKey.get(key) as Item);
    pending.delete(key);
    for (const dependent of dependents.get(key) ?? []) {
      const deps = pending.get(dependent);
      if (!deps?.delete(key)) continue;
      if (deps.size === 0) ready.add(dependent);
    }
  }
  return ordered;
}

const names = ['a', 'b', 'c', 'd', 'e'];

/** Items with references of every kind, to names that may or may not exist, cycles included. */
const itemsArb = fc.array(
  fc.record({
    kind: fc.constantFrom(...DECLARED_KINDS),
    name: fc.constantFrom(...names),
    skillRefs: fc.array(fc.constantFrom(...names), { maxLength: 3 }),
    subAgents: fc.array(fc.constantFrom(...names), { maxLength: 3 }),
    agents: fc.array(fc.constantFrom(...names), { maxLength: 3 }),
    workflow: fc.constantFrom(...names),
    environmentRefs: fc.array(fc.constantFrom(...names), { maxLength: 2 }),
    tag: fc.nat(),
  }),
  { maxLength: 30 },
);

function toItems(raw: Array<Record<string, unknown>>): Item[] {
  return raw.map((r) => {
    const kind = r.kind as DeclaredKind;
    const spec: JsonObject = { tag: r.tag as number, environmentRefs: r.environmentRefs as string[] };
    if (kind === 'Agent') Object.assign(spec, { skillRefs: r.skillRefs, subAgents: r.subAgents });
    if (kind === 'Workflow') spec.tasks = (r.agents as string[]).map((agent) => ({ agent }));
    if (kind === 'AgentInstance') spec.agent = (r.agents as string[])[0] ?? 'a';
    if (kind === 'WorkflowInstance') spec.workflow = r.workflow as string;
    return { kind, name: r.name as string, spec };
  });
}

describe('orderByReferences', () => {
  it('orders exactly as the first (string-keyed) version did, cycles and duplicates included', () => {
    fc.assert(
      fc.property(itemsArb, (raw) => {
        const items = toItems(raw);
        expect(orderByReferences(items, (i) => i.spec)).toEqual(referenceOrder(items));
      }),
      { numRuns: 500 },
    );
  });

  it('puts each item after what it references, and breaks a cycle at its first member', () => {
    const items: Item[] = [
      { kind: 'Agent', name: 'b', spec: { subAgents: ['a'] } },
      { kind: 'Agent', name: 'a', spec: { subAgents: ['b'], skillRefs: ['s'] } },
      { kind: 'Skill', name: 's', spec: {} },
      { kind: 'AgentInstance', name: 'i', spec: { agent: 'b' } },
    ];
    expect(orderByReferences(items, (i) => i.spec).map((i) => `${i.kind}/${i.name}`)).toEqual([
      'Skill/s',
      'Agent/a',
      'Agent/b',
      'AgentInstance/i',
    ]);
  });
});
