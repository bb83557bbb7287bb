/**
 * The planner (DESIGN.md §4.3–4.5): a pure function of the desired resources, the live ones
 * and the project, returning the ordered changes that make the live state match the manifests.
 * No I/O, no clock, no randomness: the same inputs always give the same Plan.
 *
 * Rules, in the words of the design:
 * - desired and live are matched by (kind, name); compared fields are labels, user annotations
 *   (all but stigmer.ai/project, /source, /applied-hash) and spec;
 * - create when not live, update when the compared fields differ, no-op when equal;
 * - a live resource with no project annotation is adopted (an update, even when equal, so the
 *   ownership annotations get written); one owned by another project is an error;
 * - prune: a live resource owned by the project and not desired is deleted (unless prune is
 *   off), or released (project annotation removed, left in place) when annotated
 *   `stigmer.ai/prune: disabled`; `stigmer.ai/prevent-destroy: "true"` makes the plan fail;
 * - an empty desired set may not delete anything unless allowEmpty;
 * - drift: a live resource whose compared fields no longer hash to its applied-hash was changed
 *   outside Stigmer; the change that restores the manifest says so;
 * - blast radius: each update or delete of an Agent, Skill or Environment lists the resources
 *   (manifests and live) that use it, in `usedBy`.
 *
 * Problems are returned as error diagnostics in `plan.diagnostics` (never thrown): callers
 * check `planHasErrors(plan)` and must not apply such a plan (`applyPlan` refuses it).
 */
import jsonPatch, { type Operation } from 'fast-json-patch';
import type { Diagnostic } from '../errors.js';
import { takeAppliedHash } from '../manifest/links.js';
import { specTextOf, storedSpecText } from '../stored-text.js';
import { ANNOTATIONS, type DeclaredKind, type DesiredResource, type StoredResource } from '../types.js';
import { withUsedBy } from './blast-radius.js';
import { jsonEqual } from './hash.js';
import { KindNameMap, sortedByKindName } from './kind-map.js';
import { orderByReferences, resourceKey, specReferences } from './order.js';
import { changedSecretKeys, comparableView, redactView, type SecretHasher } from './secrets.js';
import type { ComparedView, Plan, PlannedChange, PlanOptions, PlanSummary } from './types.js';

type ObservedVersion = Plan['observed'][number];

/** `file` of diagnostics that concern the plan as a whole rather than one manifest. */
export const PLAN_DIAGNOSTIC_FILE = '(plan)';

import { appliedHash, comparedViewOf, userAnnotations } from './view.js';

export { appliedHash, comparedViewOf, MANAGED_ANNOTATIONS, userAnnotations } from './view.js';

/**
 * True when a live resource was changed outside Stigmer: it carries an applied-hash and its
 * compared fields no longer hash to it.
 */
export function hasDrift(live: StoredResource, hasher?: SecretHasher): boolean {
  const recorded = live.annotations[ANNOTATIONS.appliedHash];
  if (recorded === undefined) return false;
  return appliedHash(live.kind, live.name, comparedViewOf(live), hasher) !== recorded;
}

/** True when the plan has an error diagnostic: it must not be applied. */
export function planHasErrors(plan: Pick<Plan, 'diagnostics'>): boolean {
  return plan.diagnostics.some((d) => d.severity === 'error');
}

/** `path:line` of a manifest document. */
export function formatSource(source: DesiredResource['source']): string {
  return `${source.file}:${source.line}`;
}

/** Where a live resource was last applied from (`stigmer.ai/source`), as a diagnostic position. */
function livePosition(live: StoredResource): Pick<Diagnostic, 'file' | 'line' | 'column'> {
  const source = live.annotations[ANNOTATIONS.source];
  const match = source === undefined ? null : /^(.*):(\d+)$/.exec(source);
  if (match) return { file: match[1] as string, line: Number(match[2]), column: 1 };
  return { file: PLAN_DIAGNOSTIC_FILE, line: 0, column: 0 };
}

/** The RFC 6902 patch from `before` to `after` (whole-resource add/remove for creates and deletes). */
export function patchBetween(before: ComparedView | null, after: ComparedView | null): Operation[] {
  if (before === null && after !== null) {
    return [
      { op: 'add', path: '/metadata', value: after.metadata },
      { op: 'add', path: '/spec', value: after.spec },
    ];
  }
  if (before !== null && after === null) {
    return [
      { op: 'remove', path: '/metadata' },
      { op: 'remove', path: '/spec' },
    ];
  }
  if (before === null || after === null) return [];
  return jsonPatch.compare(before, after);
}

/** A planned write (create or update) of one resource, before ordering. */
export interface Candidate {
  kind: DeclaredKind;
  name: string;
  change: PlannedChange;
}

/**
 * Plans one desired resource against the live resource of the same (kind, name): null when
 * nothing changes, the create or update to make otherwise, or the error that stops it (the
 * resource is owned by another project). The per-resource rule of planChanges, also used by
 * the incremental planner (src/core/incremental.ts) for the resources an edit touched.
 */
export function planResource(
  d: DesiredResource,
  l: StoredResource | undefined,
  options: Pick<PlanOptions, 'project' | 'secretHash' | 'noopMemo' | 'recordSource'>,
): Candidate | { error: Diagnostic } | null {
  const project = options.project;
  const hasher = options.secretHash;
  // Same document object against the same live object, owned by this project: known no-op.
  if (l !== undefined && options.noopMemo?.get(d) === l && l.annotations[ANNOTATIONS.project] === project) {
    return null;
  }

  // Worked out by the per-file stage when it can be (src/manifest/links.ts); read before the
  // spec is, since reading it ends what the packed text vouches for.
  const packedHash = takeAppliedHash(d);
  // Built only for a create or an update: hashing every unchanged resource would dominate a no-op plan.
  const write = (source: string, after: ComparedView) => ({
    labels: { ...d.labels },
    annotations: {
      ...after.metadata.annotations,
      [ANNOTATIONS.project]: project,
      [ANNOTATIONS.source]: source,
      [ANNOTATIONS.appliedHash]: packedHash ?? appliedHash(d.kind, d.name, after, hasher),
    },
    spec: d.spec,
  });
  if (!l) {
    const after = comparedViewOf(d);
    const source = (options.recordSource ?? formatSource)(d.source);
    const shownAfter = redactView(d.kind, after);
    return {
      kind: d.kind,
      name: d.name,
      change: {
        action: 'create',
        kind: d.kind,
        name: d.name,
        source,
        expectedVersion: null,
        drift: false,
        patch: patchBetween(null, shownAfter),
        before: null,
        after: shownAfter,
        write: write(source, after),
      },
    };
  }

  const owner = l.annotations[ANNOTATIONS.project];
  if (owner !== undefined && owner !== project) {
    const key = resourceKey(d.kind, d.name);
    return {
      error: {
        severity: 'error',
        ...d.source,
        message: `${key} is owned by project "${owner}", not "${project}"; it will not be changed`,
        hint: `rename it in the manifest, or remove it from project "${owner}" first`,
      },
    };
  }
  const adopt = owner === undefined;
  if (!adopt && sameAsStored(d, l)) {
    options.noopMemo?.set(d, l);
    return null;
  }
  const after = comparedViewOf(d);
  const before = comparedViewOf(l);
  const changed = !jsonEqual(
    comparableView(l.kind, l.name, before, hasher),
    comparableView(d.kind, d.name, after, hasher),
  );
  if (!changed && !adopt) {
    options.noopMemo?.set(d, l);
    return null;
  }
  const source = (options.recordSource ?? formatSource)(d.source);
  const shownBefore = redactView(l.kind, before);
  const shownAfter = redactView(d.kind, after, changedSecretKeys(d.kind, d.name, before, after, hasher));
  return {
    kind: d.kind,
    name: d.name,
    change: {
      action: 'update',
      kind: d.kind,
      name: d.name,
      source,
      expectedVersion: l.version,
      drift: hasDrift(l, hasher),
      ...(adopt ? { reason: 'adopt' as const } : {}),
      patch: patchBetween(shownBefore, shownAfter),
      before: shownBefore,
      after: shownAfter,
      write: write(source, after),
    },
  };
}

/**
 * True when the compared fields of `d` and `l` are certainly equal without decoding the stored
 * spec: the labels and user annotations are equal and the stored JSON text of the spec is the
 * desired spec's JSON (what the store writes). Equal texts are equal specs, so their
 * comparable views are equal for every kind; different texts prove nothing (key order), so
 * false sends the caller to the full comparison. Undefined text (not a lazily read resource,
 * or its spec was read) is false as well.
 */
function sameAsStored(d: DesiredResource, l: StoredResource): boolean {
  const text = storedSpecText(l);
  return (
    text !== undefined &&
    jsonEqual(l.labels, d.labels) &&
    jsonEqual(userAnnotations(l.annotations), userAnnotations(d.annotations)) &&
    text === (specTextOf(d) ?? JSON.stringify(d.spec))
  );
}

/**
 * Plans the changes that make `live` match `desired` for `options.project`.
 *
 * @param desired validated resources from the manifests (any order)
 * @param live every declared resource the backend holds (any order, any project)
 * @returns the Plan: changes in execution order, summary, diagnostics (check `planHasErrors`)
 *   and the live versions observed, which a saved plan re-checks at apply time.
 */
export function planChanges(desired: DesiredResource[], live: StoredResource[], options: PlanOptions): Plan {
  const prune = options.prune ?? true;
  const project = options.project;
  const diagnostics: Diagnostic[] = [];
  // One keyed lookup per resource (issue 17): live resources by (kind, name) as indices into
  // `live`, and a claim per index; only desired resources without a live one need a map of
  // their own (creates, and duplicates among them). At 100,000 resources the eight map
  // operations per resource this replaced were a fifth of a warm no-op plan.
  const liveIndex = new KindNameMap<number>();
  for (let i = 0; i < live.length; i++) {
    const resource = live[i] as StoredResource;
    liveIndex.set(resource.kind, resource.name, i);
  }
  /** claimedBy[i]: the desired resource planned against live[i]. */
  const claimedBy: Array<DesiredResource | undefined> = new Array(live.length);
  const unmatched = new KindNameMap<DesiredResource>();
  /** The first definition of each (kind, name), in order. */
  const planned: DesiredResource[] = [];
  /** Every (kind, name) planned, with the live version seen (null: none). */
  const observed: ObservedVersion[] = [];

  const writes: Candidate[] = [];
  const deletes: Candidate[] = [];
  let noop = 0;

  for (const d of desired) {
    const index = liveIndex.get(d.kind, d.name);
    const seen = index === undefined ? unmatched.get(d.kind, d.name) : claimedBy[index];
    if (seen) {
      diagnostics.push({
        severity: 'error',
        ...d.source,
        message: `${resourceKey(d.kind, d.name)} is defined twice (also at ${formatSource(seen.source)})`,
        hint: 'keep one definition per (kind, name)',
      });
      continue;
    }
    if (index === undefined) unmatched.set(d.kind, d.name, d);
    else claimedBy[index] = d;
    planned.push(d);
    const l = index === undefined ? undefined : live[index];
    observed.push({ kind: d.kind, name: d.name, version: l === undefined ? null : l.version });
    const outcome = planResource(d, l, options);
    if (outcome === null) noop++;
    else if ('change' in outcome) writes.push(outcome);
    else diagnostics.push(outcome.error);
  }

  for (let i = 0; i < live.length; i++) {
    const l = live[i] as StoredResource;
    if (claimedBy[i] !== undefined || l.annotations[ANNOTATIONS.project] !== project || !prune) continue;
    const key = resourceKey(l.kind, l.name);
    const before = redactView(l.kind, comparedViewOf(l));
    if (l.annotations[ANNOTATIONS.prune] === 'disabled') {
      const { [ANNOTATIONS.project]: _released, ...annotations } = l.annotations;
      writes.push({
        kind: l.kind,
        name: l.name,
        change: {
          action: 'update',
          kind: l.kind,
          name: l.name,
          source: null,
          expectedVersion: l.version,
          drift: false,
          reason: 'release',
          patch: [],
          before,
          after: before,
          write: { labels: { ...l.labels }, annotations, spec: l.spec },
        },
      });
      continue;
    }
    if (l.annotations[ANNOTATIONS.preventDestroy] === 'true') {
      diagnostics.push({
        severity: 'error',
        ...livePosition(l),
        message: `${key} has ${ANNOTATIONS.preventDestroy}: "true" and this plan would destroy it`,
        hint: `remove the ${ANNOTATIONS.preventDestroy} annotation first (apply that), or keep ${key} in the manifests`,
      });
    }
    deletes.push({
      kind: l.kind,
      name: l.name,
      change: {
        action: 'delete',
        kind: l.kind,
        name: l.name,
        source: null,
        expectedVersion: l.version,
        drift: false,
        reason: 'prune',
        patch: patchBetween(before, null),
        before,
        after: null,
      },
    });
  }

  // A desired resource may reference one that exists only in the backend (validation accepts
  // live names); if this plan prunes that resource, applying would leave a dangling reference.
  const deleted = new Set(deletes.map((c) => resourceKey(c.kind, c.name)));
  if (deleted.size > 0) {
    for (const d of planned) {
      for (const ref of specReferences(d.kind, d.spec)) {
        const refKey = resourceKey(ref.kind, ref.name);
        if (!deleted.has(refKey)) continue;
        diagnostics.push({
          severity: 'error',
          ...d.source,
          message: `${refKey} would be destroyed, but ${resourceKey(d.kind, d.name)} still references it`,
          hint: `keep ${refKey} in the manifests, or remove the reference first`,
        });
      }
    }
  }

  if (desired.length === 0 && deletes.length > 0 && !options.allowEmpty) {
    diagnostics.push({
      severity: 'error',
      file: PLAN_DIAGNOSTIC_FILE,
      line: 0,
      column: 0,
      message: `no manifests were given, and the plan would destroy every resource of project "${project}" (${deletes.length})`,
      hint: 'check the manifest path; to really delete them all, pass --allow-empty',
    });
  }

  const liveSpec = (c: Candidate) => {
    const index = liveIndex.get(c.kind, c.name);
    return index === undefined ? {} : (live[index] as StoredResource).spec;
  };
  const orderedWrites = orderByReferences(writes, (c) => c.change.write?.spec ?? {});
  const orderedDeletes = orderByReferences(deletes, liveSpec).reverse();
  // Blast radius: who uses each updated or deleted Agent, Skill and Environment.
  const changes = withUsedBy(
    [...orderedWrites, ...orderedDeletes].map((c) => c.change),
    planned,
    live,
  );

  const summary: PlanSummary = { create: 0, update: 0, delete: 0, noop };
  for (const c of changes) summary[c.action]++;

  // And every live resource of the project (one a desired resource claimed is there already).
  for (let i = 0; i < live.length; i++) {
    const l = live[i] as StoredResource;
    if (claimedBy[i] !== undefined || l.annotations[ANNOTATIONS.project] !== project) continue;
    observed.push({ kind: l.kind, name: l.name, version: l.version });
  }

  return {
    formatVersion: 1,
    project,
    backend: { ...options.backend },
    summary,
    changes,
    diagnostics,
    // Nothing references anything here, so the order is kind rank then name (as orderByReferences gives).
    observed: sortedByKindName(observed),
  };
}
