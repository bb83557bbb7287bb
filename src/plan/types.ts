/**
 * The Plan: what `stigmer plan` prints, `--out` saves and `stigmer apply` executes
 * (DESIGN.md §4, §5). Produced by the pure `planChanges(desired, live, options)`.
 */
import type { Operation } from 'fast-json-patch';
import type { Diagnostic } from '../errors.js';
import type { BackendInfo, DeclaredKind, DesiredResource, JsonObject, StoredResource } from '../types.js';
import type { SecretHasher } from './secrets.js';

/** The fields a plan compares: labels, user annotations and spec. */
export interface ComparedView {
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  spec: JsonObject;
}

export type ChangeAction = 'create' | 'update' | 'delete';

export interface PlannedChange {
  action: ChangeAction;
  kind: DeclaredKind;
  name: string;
  /** `path:line` of the manifest (null for deletes). */
  source: string | null;
  /** Live version the change was computed against; null for creates. */
  expectedVersion: number | null;
  /** The live resource was changed outside Stigmer since it was last applied. */
  drift: boolean;
  /** Why this change exists beyond a plain diff. */
  reason?: 'adopt' | 'prune' | 'release';
  /**
   * Blast radius, on updates and deletes of Agents, Skills and Environments: `Kind/name` of
   * every resource that uses this one (Workflows through a task's `agent`, Agents through
   * `skillRefs`/`subAgents`, instances through `agent`/`workflow`/`environmentRefs`), from the
   * manifests and the live state, sorted. Absent on other changes.
   */
  usedBy?: string[];
  /** RFC 6902 patch from `before` to `after` over ComparedView. */
  patch: Operation[];
  before: ComparedView | null;
  after: ComparedView | null;
  /**
   * Exactly what apply writes (labels, all annotations including ownership, spec); absent for
   * deletes. Secret values in here are already sealed, never plaintext.
   */
  write?: { labels: Record<string, string>; annotations: Record<string, string>; spec: JsonObject };
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  noop: number;
}

export interface Plan {
  formatVersion: 1;
  project: string;
  backend: BackendInfo;
  summary: PlanSummary;
  /** Only create/update/delete, in execution order. */
  changes: PlannedChange[];
  diagnostics: Diagnostic[];
  /**
   * Live version (null: absent) of every resource the plan looked at: each desired (kind, name)
   * and each live resource owned by the project. A saved plan is stale when any differs.
   */
  observed: Array<{ kind: DeclaredKind; name: string; version: number | null }>;
  /**
   * The history message an apply of this plan records when the apply names none (a rollback
   * plan says which version it restores). Saved with the plan file.
   */
  message?: string;
}

export interface PlanOptions {
  project: string;
  backend: BackendInfo;
  /** Delete resources of this project that are no longer in the manifests (default true). */
  prune?: boolean;
  /** Allow a plan whose desired set is empty to delete every resource of the project. */
  allowEmpty?: boolean;
  /**
   * Keyed hash of a secret value. When given, plaintext secret values are compared (and hashed
   * into `stigmer.ai/applied-hash`) by it; sealed values always compare by their stored hash.
   */
  secretHash?: SecretHasher;
  /**
   * What `stigmer.ai/source` and a change's `source` record for a desired resource (default
   * `file:line` as loaded). The pipeline records the path relative to the manifest root's git
   * top level (`sourceRecorder` in src/core/reconcile.ts).
   */
  recordSource?: (source: DesiredResource['source']) => string;
  /**
   * Memo of comparisons that found no change, for callers that plan again and again (watch):
   * desired resource object → the live resource object it equalled. When the same desired
   * object meets the same live object again (owned by the project), the compare is skipped and
   * it counts as a no-op. The planner adds the no-ops it finds. Only valid while the project
   * and the secret key stay the same; a memo must not be shared across them.
   */
  noopMemo?: WeakMap<DesiredResource, StoredResource>;
}
