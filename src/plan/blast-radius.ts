/**
 * The blast radius of a plan (DESIGN.md §5, "Plan review"): for each update or delete of an
 * Agent, Skill or Environment, the resources that use it — Workflows through a task's `agent`,
 * Agents through `skillRefs` and `subAgents`, instances through `agent`, `workflow` and
 * `environmentRefs` — from the manifests and from the live state, so a reviewer sees what else
 * a change reaches. Pure: data in, changes out.
 */
import { peekSpec } from '../stored-text.js';
import type { DeclaredKind, JsonObject } from '../types.js';
import { compareKindName } from './kind-map.js';
import { resourceKey, specReferences } from './order.js';
import type { PlannedChange } from './types.js';

/** Kinds whose changes list their users. */
export const BLAST_RADIUS_KINDS: ReadonlySet<DeclaredKind> = new Set(['Agent', 'Skill', 'Environment']);

interface Referrer {
  kind: DeclaredKind;
  name: string;
  spec: JsonObject;
}

function needsUsedBy(change: PlannedChange): boolean {
  return change.action !== 'create' && BLAST_RADIUS_KINDS.has(change.kind);
}

/**
 * `changes` with `usedBy` set on every update and delete of an Agent, Skill or Environment:
 * the `Kind/name` of each resource of `desired` or `live` whose spec references it (a
 * resource in both counts once, with the references of both sides), sorted by kind and name.
 * Other changes are returned as they are.
 */
export function withUsedBy(
  changes: readonly PlannedChange[],
  desired: Iterable<Referrer>,
  live: Iterable<Referrer>,
): PlannedChange[] {
  if (!changes.some(needsUsedBy)) return [...changes];
  const wanted = new Set(changes.filter(needsUsedBy).map((c) => resourceKey(c.kind, c.name)));
  const users = new Map<string, Map<string, { kind: DeclaredKind; name: string }>>();
  const scan = (r: Referrer) => {
    const self = resourceKey(r.kind, r.name);
    // Peeked: a lazy spec (src/stored-text.ts) read once here is not kept decoded.
    for (const ref of specReferences(r.kind, peekSpec(r))) {
      const target = resourceKey(ref.kind, ref.name);
      if (target === self || !wanted.has(target)) continue;
      const set = users.get(target) ?? new Map<string, { kind: DeclaredKind; name: string }>();
      users.set(target, set);
      set.set(self, { kind: r.kind, name: r.name });
    }
  };
  for (const r of desired) scan(r);
  for (const r of live) scan(r);
  return changes.map((c) => {
    if (!needsUsedBy(c)) return c;
    const found = [...(users.get(resourceKey(c.kind, c.name))?.values() ?? [])];
    found.sort(compareKindName);
    return { ...c, usedBy: found.map((u) => resourceKey(u.kind, u.name)) };
  });
}
