/**
 * A map keyed by (kind, name) without building a `Kind/name` string per lookup: the planner
 * looks every desired and live resource up several times per plan, and at 10,000 resources the
 * string keys (built, hashed, then garbage) were a measurable share of a no-op plan.
 */
import { DECLARED_KINDS, type DeclaredKind } from '../types.js';

export class KindNameMap<V> {
  private readonly byKind = new Map<DeclaredKind, Map<string, V>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(kind: DeclaredKind, name: string): V | undefined {
    return this.byKind.get(kind)?.get(name);
  }

  has(kind: DeclaredKind, name: string): boolean {
    return this.byKind.get(kind)?.has(name) ?? false;
  }

  set(kind: DeclaredKind, name: string, value: V): this {
    let names = this.byKind.get(kind);
    if (names === undefined) {
      names = new Map();
      this.byKind.set(kind, names);
    }
    if (!names.has(name)) this.count++;
    names.set(name, value);
    return this;
  }

  /** Values in insertion order within each kind, kinds in first-insertion order. */
  *values(): IterableIterator<V> {
    for (const names of this.byKind.values()) yield* names.values();
  }
}

const KIND_RANK = new Map<DeclaredKind, number>(DECLARED_KINDS.map((k, i) => [k, i]));

/** Kinds in DECLARED_KINDS order (a kind only references earlier ones); unknown ones last. */
export function compareKinds(a: DeclaredKind, b: DeclaredKind): number {
  const rank = (KIND_RANK.get(a) ?? 99) - (KIND_RANK.get(b) ?? 99);
  if (rank !== 0) return rank;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By kind (compareKinds), then by name (UTF-16 code units). */
export function compareKindName(
  a: { kind: DeclaredKind; name: string },
  b: { kind: DeclaredKind; name: string },
): number {
  if (a.kind !== b.kind) return compareKinds(a.kind, b.kind);
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * `items` ordered by kind (DECLARED_KINDS order; others last, by name) and then by name, as
 * compareKindName orders them: grouped by kind first, so each sort compares names only (and the
 * input's runs, such as a store's rows in name order, cost one pass each).
 */
export function sortedByKindName<T extends { kind: DeclaredKind; name: string }>(items: readonly T[]): T[] {
  const byKind = new Map<DeclaredKind, T[]>();
  for (const item of items) {
    const group = byKind.get(item.kind);
    if (group === undefined) byKind.set(item.kind, [item]);
    else group.push(item);
  }
  const out: T[] = [];
  for (const kind of [...byKind.keys()].sort(compareKinds)) {
    const group = (byKind.get(kind) as T[]).sort(byName);
    for (const item of group) out.push(item);
  }
  return out;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
