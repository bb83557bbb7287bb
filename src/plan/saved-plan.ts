/**
 * What a saved plan shows and counts, rebuilt from what it will write (issue #10): the
 * `before`, `after`, `patch`, `source`, `reason` and `drift` of each change come from the live
 * resource it was planned against and from its `write`, never from the file's own copies of
 * them, and the summary is counted from the changes. So what `stigmer apply FILE` prints is
 * exactly what the batch stores. A pure function: the caller reads the live state.
 */
import { ConflictError, StigmerError } from '../errors.js';
import { ANNOTATIONS, type StoredResource } from '../types.js';
import { KindNameMap } from './kind-map.js';
import { comparedViewOf, hasDrift, patchBetween } from './plan.js';
import { changedSecretKeys, redactView } from './secrets.js';
import type { Plan, PlannedChange, PlanSummary } from './types.js';

/**
 * The plan with every change's shown fields recomputed from `write` and the live state.
 *
 * @param live the live resources (at least those the plan changes)
 * @throws ConflictError when a changed resource is no longer at the version the plan saw (the
 *   caller reports it as a stale plan); StigmerError('OWNERSHIP') when a change would write
 *   another project's ownership, or delete a resource this project does not own.
 */
export function describeSavedPlan(plan: Plan, live: Iterable<StoredResource>): Plan {
  const byKey = new KindNameMap<StoredResource>();
  for (const l of live) byKey.set(l.kind, l.name, l);
  const project = plan.project;
  const changes = plan.changes.map((c): PlannedChange => {
    const l = byKey.get(c.kind, c.name);
    const actual = l?.version ?? null;
    if (actual !== c.expectedVersion) throw new ConflictError(c.kind, c.name, c.expectedVersion, actual);
    const key = `${c.kind}/${c.name}`;
    const owner = l?.annotations[ANNOTATIONS.project];
    const before = l ? comparedViewOf(l) : null;
    if (c.action === 'delete') {
      if (owner !== project) throw notOwned(key, project, owner);
      if (l!.annotations[ANNOTATIONS.preventDestroy] === 'true') throw preventDestroy(key);
      const shownBefore = redactView(c.kind, before!);
      return {
        action: 'delete',
        kind: c.kind,
        name: c.name,
        source: null,
        expectedVersion: c.expectedVersion,
        drift: false,
        reason: 'prune',
        ...(c.usedBy ? { usedBy: c.usedBy } : {}),
        patch: patchBetween(shownBefore, null),
        before: shownBefore,
        after: null,
      };
    }
    const write = c.write!;
    const writes = write.annotations[ANNOTATIONS.project];
    // A release (stigmer.ai/prune: disabled) drops the annotation of a resource this project owns.
    const release = c.action === 'update' && writes === undefined && owner === project;
    if (!release && writes !== project) {
      throw new StigmerError(
        'OWNERSHIP',
        `saved plan would make ${key} owned by ${writes === undefined ? 'no project' : `project "${writes}"`}, not "${project}"; nothing was applied`,
        { hint: 'plan again with `stigmer plan --out FILE`' },
      );
    }
    if (owner !== undefined && owner !== project) throw notOwned(key, project, owner);
    const after = comparedViewOf(write);
    const shownBefore = before ? redactView(c.kind, before) : null;
    const shownAfter = redactView(
      c.kind,
      after,
      before ? changedSecretKeys(c.kind, c.name, before, after) : new Set(),
    );
    const patch = patchBetween(shownBefore, shownAfter);
    if (release && patch.length > 0) {
      throw new StigmerError(
        'OWNERSHIP',
        `saved plan would release ${key} and change it at once; nothing was applied`,
        { hint: 'plan again with `stigmer plan --out FILE`' },
      );
    }
    const reason = release ? 'release' : l && owner === undefined ? 'adopt' : undefined;
    return {
      action: c.action,
      kind: c.kind,
      name: c.name,
      source: write.annotations[ANNOTATIONS.source] ?? null,
      expectedVersion: c.expectedVersion,
      drift: l && !release ? hasDrift(l) : false,
      ...(reason ? { reason } : {}),
      // The blast radius is what the planner found: informational, and covered by the MAC.
      ...(c.usedBy ? { usedBy: c.usedBy } : {}),
      patch,
      before: shownBefore,
      after: shownAfter,
      write,
    };
  });
  const summary: PlanSummary = { create: 0, update: 0, delete: 0, noop: plan.summary.noop };
  for (const c of changes) summary[c.action]++;
  return { ...plan, summary, changes };
}

function notOwned(key: string, project: string, owner: string | undefined): StigmerError {
  return new StigmerError(
    'OWNERSHIP',
    `${key} is ${owner === undefined ? 'not owned by any project' : `owned by project "${owner}"`}, not "${project}"; nothing was applied`,
    { hint: 'plan again with `stigmer plan --out FILE`' },
  );
}

/** The error of a delete of a resource annotated `stigmer.ai/prevent-destroy: "true"`. */
export function preventDestroy(key: string): StigmerError {
  return new StigmerError(
    'PREVENT_DESTROY',
    `${key} has ${ANNOTATIONS.preventDestroy}: "true" and cannot be destroyed; nothing was applied`,
    { hint: `remove the ${ANNOTATIONS.preventDestroy} annotation first (apply that), then plan again` },
  );
}
