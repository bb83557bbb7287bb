/**
 * One watch cycle: refresh the changed files in the cache, read the live state once, then
 * validate and plan through the core and apply through `applyPlan` — the functions `stigmer
 * plan` and `stigmer apply` use. The live state comes from the session's LiveStateCache when
 * given (re-read only when the backend changed from outside), and the plan from the session's
 * IncrementalPlanner (after a settled cycle only what the edit touched is validated and
 * planned; anything else goes through the full `planParsed`). A cycle never throws: whatever
 * happens becomes a CycleReport for the printers. A load or validation error applies nothing
 * (so a broken or half-saved file can never prune what it declares).
 */
import { type ApplyOptions, applyPlan } from '../apply/apply.js';
import type { ApplyEvent, ApplySummary } from '../apply/events.js';
import type { Backend } from '../backend/types.js';
import { IncrementalPlanner, type LiveView } from '../core/incremental.js';
import { type ReconcileOptions, readLiveState, type SecretOptions } from '../core/reconcile.js';
import { ConflictError, type Diagnostic, StigmerError, ValidationError } from '../errors.js';
import { resourceKey } from '../plan/order.js';
import { planHasErrors } from '../plan/plan.js';
import type { ChangeAction } from '../plan/types.js';
import type { DeclaredKind, DesiredResource, StoredResource } from '../types.js';
import type { ManifestCache } from './cache.js';
import type { LiveStateCache } from './live.js';

/** How a cycle ended. */
export type CycleOutcome =
  /** The plan had changes and they were applied (one atomic batch). */
  | 'applied'
  /** The plan was empty. */
  | 'no-changes'
  /** Loading, validation or planning reported errors: nothing was applied. */
  | 'invalid'
  /** Applying (or reading the live state) failed: nothing was applied. */
  | 'failed';

/** What one cycle did; printers turn it into the summary line or the NDJSON object. */
export interface CycleReport {
  cycle: number;
  /** When the cycle ended (the apply committed, or the error was known). */
  time: Date;
  /** Project the cycle planned for (null when it could not be determined). */
  project: string | null;
  /** Files whose events started this cycle (shown paths); every file for the first cycle. */
  files: string[];
  outcome: CycleOutcome;
  /** What was applied (all zero unless `applied`). */
  summary: ApplySummary;
  changes: Array<{ action: ChangeAction; kind: DeclaredKind; name: string }>;
  /** Errors (and warnings) to show, `file:line:col`. */
  diagnostics: Diagnostic[];
  /** Why a `failed` cycle failed (or a one-line reason for `invalid` ones without diagnostics). */
  error?: { code: string; message: string; hint?: string };
  durationMs: number;
}

export interface CycleOptions {
  backend: Backend;
  cache: ManifestCache;
  /** Base of the shown paths (the cache's); files that manifests name are resolved from it. */
  cwd?: string;
  /** --project. */
  project?: string;
  /** Delete resources whose manifests are gone (watch: off unless --prune). */
  prune: boolean;
  allowEmpty?: boolean;
  /** Where secrets come from and how they are sealed (core defaults when absent). */
  secrets?: SecretOptions;
  /** Recorded with every history row the cycle writes. */
  message: string;
  /**
   * The live state kept between cycles (re-read only when the backend changed from outside);
   * without it every cycle reads the whole live state.
   */
  live?: LiveStateCache;
  /**
   * Comparisons that found no change, kept between cycles (PlanOptions.noopMemo): an
   * unchanged manifest document planned against an unchanged live resource is not compared again.
   */
  noopMemo?: WeakMap<DesiredResource, StoredResource>;
  /**
   * The session's planner (src/core/incremental.ts): after a settled cycle it plans only what
   * changed. Without it every cycle plans everything. Its options must match these.
   */
  planner?: IncrementalPlanner;
  /** Receives the apply events of the cycle (per-change lines). */
  onApplyEvent?: (event: ApplyEvent) => void;
}

/** The options of the core pipeline a cycle runs with (for a session's IncrementalPlanner). */
export function reconcileOptionsOf(options: Omit<CycleOptions, 'planner'>): ReconcileOptions {
  return {
    ...(options.project !== undefined ? { project: options.project } : {}),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    prune: options.prune,
    allowEmpty: options.allowEmpty ?? false,
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(options.noopMemo ? { noopMemo: options.noopMemo } : {}),
  };
}

/** Epochs of full views: negative, so they never meet a LiveStateCache's. */
let fullViews = 0;

/**
 * A view of a live state read in full: a new epoch every time (anything may have changed
 * since the last read), so the planner plans it in full.
 */
function fullView(live: StoredResource[]): LiveView {
  fullViews++;
  return { byKey: new Map(live.map((r) => [resourceKey(r.kind, r.name), r])), epoch: -fullViews, log: [] };
}

/**
 * Attempts of a cycle that raced with something: another writer (ConflictError), or a file
 * that changed again while the cycle read it.
 */
const RETRY_ATTEMPTS = 3;

/**
 * Runs one cycle over the paths that had events (`initial`: the cache was just filled and
 * every file counts as changed).
 */
export async function runCycle(
  options: CycleOptions,
  cycle: number,
  paths: readonly string[],
  initial = false,
): Promise<CycleReport> {
  const started = performance.now();
  const report = (fields: Partial<CycleReport> & Pick<CycleReport, 'outcome'>): CycleReport => ({
    cycle,
    time: new Date(),
    project: null,
    files,
    summary: { added: 0, changed: 0, destroyed: 0 },
    changes: [],
    diagnostics: [],
    durationMs: Math.round(performance.now() - started),
    ...fields,
  });

  const planner = options.planner ?? new IncrementalPlanner(options.backend, reconcileOptionsOf(options));
  let files: string[];
  try {
    if (initial) {
      files = options.cache.input().files.map((f) => f.file);
    } else {
      const refreshed = options.cache.refresh(paths);
      files = [...refreshed.changed, ...refreshed.included];
      // An included file (skillMdFile, valueFrom.file) changed: its manifest's parse did not.
      if (refreshed.included.length > 0) planner.invalidate();
    }
  } catch (err) {
    files = [];
    return report({ outcome: 'failed', error: describeError(err) });
  }
  const changedFiles = new Set(files);
  // A file written again while this cycle read it (a save in progress: truncated, not yet
  // filled) is read again and planned again, rather than applying or reporting a torn read.
  const rereadMoving = (): boolean => {
    const moving = paths.filter((p) => options.cache.hasChangedSince(p));
    if (moving.length === 0) return false;
    const refreshed = options.cache.refresh(moving);
    if (refreshed.included.length > 0) planner.invalidate();
    for (const file of refreshed.changed) {
      if (changedFiles.has(file)) continue;
      changedFiles.add(file);
      files.push(file);
    }
    return true;
  };

  for (let attempt = 1; ; attempt++) {
    let project: string | null = null;
    try {
      const live = options.live ? await options.live.view() : fullView(await readLiveState(options.backend));
      const { plan, diagnostics } = planner.plan(options.cache.input(), live);
      project = plan.project;
      // Warnings are shown once, for the files that changed, not on every cycle.
      const warnings = diagnostics.filter((d) => d.severity === 'warning' && changedFiles.has(d.file));
      if (attempt < RETRY_ATTEMPTS && rereadMoving()) continue;
      if (planHasErrors(plan)) {
        return report({ outcome: 'invalid', project, diagnostics: [...warnings, ...plan.diagnostics] });
      }
      const changes = plan.changes.map((c) => ({ action: c.action, kind: c.kind, name: c.name }));
      if (plan.changes.length === 0) {
        planner.settle();
        return report({ outcome: 'no-changes', project, diagnostics: warnings });
      }
      const applyOptions: ApplyOptions = { message: options.message };
      if (options.onApplyEvent) applyOptions.onEvent = options.onApplyEvent;
      const result = await applyPlan(options.backend, plan, applyOptions);
      await options.live?.applied(plan.changes);
      planner.settle();
      return report({ outcome: 'applied', project, summary: result.summary, changes, diagnostics: warnings });
    } catch (err) {
      if (err instanceof ValidationError) {
        if (attempt < RETRY_ATTEMPTS && rereadMoving()) continue;
        const shown = err.diagnostics.filter((d) => d.severity === 'error' || changedFiles.has(d.file));
        return report({ outcome: 'invalid', project, diagnostics: shown });
      }
      // Bad input touched nothing, so the kept live state and the settled plan still hold.
      // Whatever else failed, the next attempt or cycle starts from a full read and a full plan.
      options.live?.invalidate();
      planner.invalidate();
      if (err instanceof ConflictError && attempt < RETRY_ATTEMPTS) continue;
      return report({ outcome: 'failed', project, error: describeError(err) });
    }
  }
}

function describeError(err: unknown): { code: string; message: string; hint?: string } {
  if (err instanceof StigmerError) {
    return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  }
  return {
    code: 'INTERNAL',
    message: err instanceof Error ? err.message : String(err),
    hint: 'this is a bug in stigmer; please report it with the output above',
  };
}
