/**
 * The apply-time ownership rules every store checks inside its batch transaction, against the
 * live row, when `applyChanges` is given a project (DESIGN.md §4.6, issue #10): the planner
 * checked them against the state it read, and this makes them hold against the state written.
 *
 * - create/update: the resource is not owned by another project, and the write does not give
 *   it to another project (writing no project is a release, allowed for a resource this
 *   project owns or nobody owns);
 * - delete: the resource is owned by this project and not `stigmer.ai/prevent-destroy: "true"`.
 */
import { StigmerError } from '../errors.js';
import { ANNOTATIONS } from '../types.js';
import type { ResourceChange } from './types.js';

/**
 * Throws when `change` may not be applied for `project`, given the annotations of the live
 * resource (null: absent).
 *
 * @throws StigmerError('OWNERSHIP') or StigmerError('PREVENT_DESTROY')
 */
export function checkOwnership(
  change: ResourceChange,
  live: Record<string, string> | null,
  project: string,
): void {
  if (change.op === 'assert' || live === null) {
    if (change.op === 'create' || change.op === 'update') checkWrittenOwner(change, project);
    return;
  }
  const key = `${change.kind}/${change.name}`;
  const owner = live[ANNOTATIONS.project];
  if (change.op === 'delete') {
    if (owner !== project) {
      throw new StigmerError(
        'OWNERSHIP',
        `${key} is ${owner === undefined ? 'not owned by any project' : `owned by project "${owner}"`}, so project "${project}" cannot delete it; nothing was applied`,
        { hint: 'a plan only deletes resources of its own project; run `stigmer plan` again' },
      );
    }
    if (live[ANNOTATIONS.preventDestroy] === 'true') {
      throw new StigmerError(
        'PREVENT_DESTROY',
        `${key} has ${ANNOTATIONS.preventDestroy}: "true" and cannot be destroyed; nothing was applied`,
        { hint: `remove the ${ANNOTATIONS.preventDestroy} annotation first (apply that), then plan again` },
      );
    }
    return;
  }
  if (owner !== undefined && owner !== project) {
    throw new StigmerError(
      'OWNERSHIP',
      `${key} is owned by project "${owner}", not "${project}"; nothing was applied`,
      { hint: `rename it in the manifest, or remove it from project "${owner}" first` },
    );
  }
  checkWrittenOwner(change, project);
}

function checkWrittenOwner(
  change: ResourceChange & { annotations: Record<string, string> },
  project: string,
): void {
  const writes = change.annotations?.[ANNOTATIONS.project];
  if (writes !== undefined && writes !== project) {
    throw new StigmerError(
      'OWNERSHIP',
      `${change.kind}/${change.name} would be given to project "${writes}" by a batch of project "${project}"; nothing was applied`,
      { hint: 'a plan only writes resources of its own project; run `stigmer plan` again' },
    );
  }
}
