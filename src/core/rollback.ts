/**
 * `stigmer rollback KIND NAME --to VERSION` (DESIGN.md §5, "Plan review"): an ordinary plan
 * that restores the spec, labels and user annotations a resource had at one version of its
 * history. It is shown, confirmed, saved (`--out`) and stale-checked like any other plan; the
 * ownership annotations stay as they are, and so does `stigmer.ai/applied-hash`, so the next
 * plan of the manifests reports the rolled-back resource as changed outside Stigmer (drift)
 * and offers to restore the manifests' version, as for any outside change.
 */
import type { Backend, HistoryEntry } from '../backend/types.js';
import { StigmerError } from '../errors.js';
import { specReferences } from '../plan/order.js';
import { planChanges, userAnnotations } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';
import { ANNOTATIONS, type DeclaredKind, type DesiredResource, type StoredResource } from '../types.js';

export interface RollbackOptions {
  kind: DeclaredKind;
  name: string;
  /** The history version to restore. */
  version: number;
}

export interface RollbackPlan {
  /** The plan; `plan.message` names the version (recorded in history when applied). */
  plan: Plan;
  /** The history entry restored. */
  target: HistoryEntry;
  /** The live resource (null when it was deleted since: the rollback creates it again). */
  live: StoredResource | null;
}

/** The history message of a rollback. */
export function rollbackMessage(kind: DeclaredKind, name: string, version: number): string {
  return `rollback of ${kind}/${name} to version ${version}`;
}

/**
 * Plans the rollback of one resource to a version of its history.
 *
 * @throws StigmerError NOT_FOUND when the history has no such version; USAGE when no project
 *   owns the resource; VALIDATION when that version references resources that no longer exist
 *   (nothing is planned, so nothing can break).
 */
export async function planRollback(backend: Backend, options: RollbackOptions): Promise<RollbackPlan> {
  const { kind, name, version } = options;
  const key = `${kind}/${name}`;
  if (!Number.isInteger(version) || version < 1) {
    throw new StigmerError('USAGE', `--to must be a version number ≥ 1, got ${version}`, {
      hint: `see the versions with \`stigmer history ${kind.toLowerCase()} ${name}\``,
    });
  }
  const history = await backend.listVersions(kind, name);
  // The newest incarnation that had this version (a deleted and re-created name starts at 1 again).
  const target = history.findLast((h) => h.version === version && h.action !== 'delete');
  if (!target) {
    const known = [...new Set(history.filter((h) => h.action !== 'delete').map((h) => h.version))];
    throw new StigmerError(
      'NOT_FOUND',
      history.length === 0
        ? `${key} has no history`
        : `${key} has no version ${version} (versions: ${known.join(', ')})`,
      { hint: `see the versions with \`stigmer history ${kind.toLowerCase()} ${name}\`` },
    );
  }
  const live = await backend.getResource(kind, name);
  const snapshot = target.snapshot;
  const project = live ? live.annotations[ANNOTATIONS.project] : snapshot.annotations[ANNOTATIONS.project];
  if (project === undefined) {
    throw new StigmerError('USAGE', `${key} is not owned by any project, so there is nothing to roll back`, {
      hint: 'rollback restores resources that `stigmer apply` manages',
    });
  }

  const missing: string[] = [];
  for (const ref of specReferences(kind, snapshot.spec)) {
    if (ref.kind === kind && ref.name === name) continue;
    if ((await backend.getResource(ref.kind, ref.name)) === null) missing.push(`${ref.kind}/${ref.name}`);
  }
  if (missing.length > 0) {
    throw new StigmerError(
      'VALIDATION',
      `version ${version} of ${key} references ${missing.join(', ')}, which no longer exist${missing.length === 1 ? 's' : ''}; nothing was planned`,
      { hint: `create ${missing.length === 1 ? 'it' : 'them'} first, or roll back to another version` },
    );
  }

  const source = (live ?? snapshot).annotations[ANNOTATIONS.source];
  const desired: DesiredResource = {
    kind,
    name,
    labels: { ...snapshot.labels },
    annotations: userAnnotations(snapshot.annotations),
    spec: snapshot.spec,
    source: { file: `(history of ${key})`, line: version, column: 1 },
  };
  const plan = planChanges([desired], live ? [live] : [], {
    project,
    backend: backend.info,
    prune: false,
    recordSource: () => source ?? `(history of ${key} version ${version})`,
  });
  // Keep what the manifests last applied as the applied-hash: the rolled-back resource is then
  // an outside change to the next plan of the manifests, which offers to restore them.
  const appliedHash = live?.annotations[ANNOTATIONS.appliedHash];
  for (const change of plan.changes) {
    if (change.write && appliedHash !== undefined) {
      change.write = {
        ...change.write,
        annotations: { ...change.write.annotations, [ANNOTATIONS.appliedHash]: appliedHash },
      };
    }
  }
  plan.message = rollbackMessage(kind, name, version);
  return { plan, target, live };
}
