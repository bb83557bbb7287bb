/**
 * Execution order of a plan (DESIGN.md §4.3): a resource is written after every resource it
 * references, ties broken by kind (DECLARED_KINDS ranks kinds so that a kind only references
 * earlier ones) and then by name; deletes run in the reverse of that order. Deterministic for
 * any input order.
 */
import type { DeclaredKind, JsonObject, JsonValue } from '../types.js';
import { KindNameMap, sortedByKindName } from './kind-map.js';

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
  // Items by (kind, name), the last of equal keys winning (as a keyed map would keep it).
  const byKey = new KindNameMap<T>();
  for (const item of items) byKey.set(item.kind, item.name, item);
  // Index i = position in kind/name order = priority; everything below works on indices.
  const sorted = sortedByKindName([...byKey.values()]);
  const n = sorted.length;
  const indexOf = new KindNameMap<number>();
  for (let i = 0; i < n; i++) indexOf.set((sorted[i] as T).kind, (sorted[i] as T).name, i);
  /** deps[i]: the distinct items i references (itself excluded). */
  const deps: number[][] = new Array(n);
  const pendingCount = new Int32Array(n);
  const dependents: number[][] = Array.from({ length: n }, () => []);
  for (let i = 0; i < n; i++) {
    const item = sorted[i] as T;
    const mine: number[] = [];
    for (const ref of specReferences(item.kind, specOf(item))) {
      const d = indexOf.get(ref.kind, ref.name);
      if (d === undefined || d === i || mine.includes(d)) continue;
      mine.push(d);
      (dependents[d] as number[]).push(i);
    }
    deps[i] = mine;
    pendingCount[i] = mine.length;
  }
  const done = new Uint8Array(n);
  const ready = new MinHeap();
  for (let i = 0; i < n; i++) if (pendingCount[i] === 0) ready.push(i);
  const ordered: T[] = [];
  /** Items already taken, in priority order, are skipped by the cycle search from here on. */
  let firstPending = 0;
  while (ordered.length < n) {
    if (ready.size === 0) {
      // Stuck on a reference cycle: release the first resource that lies on one, so the
      // resources that merely depend on the cycle still come after it.
      while (done[firstPending]) firstPending++;
      let onCycle = firstPending;
      while (done[onCycle] || !reachesItself(onCycle, deps, done)) onCycle++;
      ready.push(onCycle);
    }
    const i = ready.pop();
    if (done[i]) continue;
    done[i] = 1;
    ordered.push(sorted[i] as T);
    for (const dependent of dependents[i] as number[]) {
      if (done[dependent]) continue;
      const left = (pendingCount[dependent] as number) - 1;
      pendingCount[dependent] = left;
      if (left === 0) ready.push(dependent);
    }
  }
  return ordered;
}

/** True when `start` can reach itself through references to items not yet taken. */
function reachesItself(start: number, deps: number[][], done: Uint8Array): boolean {
  const seen = new Uint8Array(deps.length);
  const stack = (deps[start] as number[]).filter((d) => !done[d]);
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (i === start) return true;
    if (seen[i]) continue;
    seen[i] = 1;
    for (const d of deps[i] as number[]) if (!done[d]) stack.push(d);
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
