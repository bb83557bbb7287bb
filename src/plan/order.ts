/**
 * Execution order of a plan (DESIGN.md §4.3): a resource is written after every resource it
 * references, ties broken by kind (DECLARED_KINDS ranks kinds so that a kind only references
 * earlier ones) and then by name; deletes run in the reverse of that order. Deterministic for
 * any input order.
 */
import type { DeclaredKind, JsonObject, JsonValue } from '../types.js';
import { compareKindName } from './kind-map.js';

export interface ResourceRef {
  kind: DeclaredKind;
  name: string;
}

/** `Kind/name`: the identity of a resource inside a plan. */
export function resourceKey(kind: DeclaredKind, name: string): string {
  return `${kind}/${name}`;
}

/** A reference written either as a name or as an object with `name` (or `ref`). */
function refName(value: JsonValue | undefined): string | null {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    if (typeof value.name === 'string') return value.name;
    if (typeof value.ref === 'string') return value.ref;
  }
  return null;
}

function refList(value: JsonValue | undefined): string[] {
  if (Array.isArray(value)) return value.map(refName).filter((n): n is string => n !== null);
  const one = refName(value);
  return one === null ? [] : [one];
}

/**
 * The resources a spec references: Agent.skillRefs (Skill), Agent.subAgents (Agent),
 * Workflow.tasks[].agent (Agent), AgentInstance.agent (Agent), WorkflowInstance.workflow
 * (Workflow), and environmentRefs of any kind (Environment).
 */
export function specReferences(kind: DeclaredKind, spec: JsonObject): ResourceRef[] {
  const refs: ResourceRef[] = [];
  const add = (k: DeclaredKind, names: string[]) => {
    for (const name of names) refs.push({ kind: k, name });
  };
  switch (kind) {
    case 'Agent':
      add('Skill', refList(spec.skillRefs));
      add('Agent', refList(spec.subAgents));
      break;
    case 'Workflow':
      if (Array.isArray(spec.tasks)) {
        for (const task of spec.tasks) {
          if (task && typeof task === 'object' && !Array.isArray(task)) add('Agent', refList(task.agent));
        }
      }
      break;
    case 'AgentInstance':
      add('Agent', refList(spec.agent));
      break;
    case 'WorkflowInstance':
      add('Workflow', refList(spec.workflow));
      break;
    default:
      break;
  }
  add('Environment', refList(spec.environmentRefs));
  return refs;
}

/**
 * Orders items so that each comes after the items it references (Kahn's algorithm, always
 * taking the smallest ready item by kind rank then name). References to items outside the set
 * are ignored; a reference cycle (validation normally rejects those) is broken at its first
 * resource in kind/name order, and resources that depend on the cycle still come after it.
 */
export function orderByReferences<T extends ResourceRef>(items: T[], specOf: (item: T) => JsonObject): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(resourceKey(item.kind, item.name), item);
  const pending = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  for (const [key, item] of byKey) {
    const deps = new Set<string>();
    for (const ref of specReferences(item.kind, specOf(item))) {
      const depKey = resourceKey(ref.kind, ref.name);
      if (depKey !== key && byKey.has(depKey)) deps.add(depKey);
    }
    pending.set(key, deps);
    for (const dep of deps) {
      const list = dependents.get(dep) ?? [];
      list.push(key);
      dependents.set(dep, list);
    }
  }
  // Priority of each item = its position in kind/name order; the ready set is a min-heap of those.
  const keys = [...byKey.keys()].sort((a, b) => compareKindName(byKey.get(a) as T, byKey.get(b) as T));
  const priority = new Map(keys.map((k, i) => [k, i]));
  const ready = new MinHeap();
  for (const key of keys) if (pending.get(key)?.size === 0) ready.push(priority.get(key) as number);
  const ordered: T[] = [];
  while (pending.size > 0) {
    if (ready.size === 0) {
      // Stuck on a reference cycle: release the first resource that lies on one, so the
      // resources that merely depend on the cycle still come after it.
      const onCycle = keys.find((k) => pending.has(k) && reachesItself(k, pending)) as string;
      ready.push(priority.get(onCycle) as number);
    }
    const key = keys[ready.pop()] as string;
    ordered.push(byKey.get(key) as T);
    pending.delete(key);
    for (const dependent of dependents.get(key) ?? []) {
      const deps = pending.get(dependent);
      if (!deps?.delete(key)) continue;
      if (deps.size === 0) ready.push(priority.get(dependent) as number);
    }
  }
  return ordered;
}

/** True when `start` can reach itself through unresolved references. */
function reachesItself(start: string, pending: Map<string, Set<string>>): boolean {
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
}

/** A binary min-heap of integers: the ready set of the topological sort. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as number) <= value) break;
      items[i] = items[parent] as number;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0] as number;
    const last = items.pop() as number;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child =
          right < items.length && (items[right] as number) < (items[left] as number) ? right : left;
        if ((items[child] as number) >= last) break;
        items[i] = items[child] as number;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
