/**
 * Executes a Plan against a Backend (DESIGN.md §4.6): the whole plan becomes ONE
 * `applyChanges` batch, so local SQLite applies it in one transaction and the cloud backend in
 * one atomic RPC: every change or none. A saved plan also asserts, inside that batch, that
 * every resource it looked at and does not change is still at the version it saw; any
 * difference makes it "stale" and nothing changes.
 */
import type { AppliedChange, Backend, ResourceChange } from '../backend/types.js';
import { ConflictError, StigmerError } from '../errors.js';
import { planHasErrors } from '../plan/plan.js';
import type { Plan, PlannedChange } from '../plan/types.js';
import type { ApplyEvent, ApplySummary } from './events.js';

export interface ApplyOptions {
  /**
   * Recorded with every history row of the batch (`stigmer apply --message`); default the
   * plan's own `message` (a rollback's), if any.
   */
  message?: string;
  /** Receives the typed progress events. */
  onEvent?: (event: ApplyEvent) => void;
  /**
   * Saved plans: also assert the observed version of every resource the plan does not change,
   * and report a conflict as STALE_PLAN.
   */
  checkObserved?: boolean;
}

/** One applied change, in plan order. */
export interface ApplyChangeResult {
  action: PlannedChange['action'];
  kind: PlannedChange['kind'];
  name: string;
  id: string;
  /** Version after the write (for a delete: the version the resource had). */
  version: number;
}

export interface ApplyResult {
  results: ApplyChangeResult[];
  summary: ApplySummary;
  durationMs: number;
}

/** The backend batch for a plan: its changes in order, then the staleness asserts when asked. */
export function buildApplyBatch(plan: Plan, checkObserved: boolean): ResourceChange[] {
  const batch: ResourceChange[] = [];
  const changed = new Set<string>();
  for (const c of plan.changes) {
    changed.add(`${c.kind}/${c.name}`);
    if (c.action === 'delete') {
      batch.push({ op: 'delete', kind: c.kind, name: c.name, ...versionOf(c) });
      continue;
    }
    const write = c.write;
    if (!write) {
      throw new StigmerError('INTERNAL', `planned ${c.action} of ${c.kind}/${c.name} has nothing to write`, {
        userFixable: false,
      });
    }
    const fields = {
      kind: c.kind,
      name: c.name,
      labels: write.labels,
      annotations: write.annotations,
      spec: write.spec,
    };
    if (c.action === 'create') batch.push({ op: 'create', ...fields, expectedVersion: null });
    else batch.push({ op: 'update', ...fields, ...versionOf(c) });
  }
  if (checkObserved) {
    for (const o of plan.observed) {
      if (changed.has(`${o.kind}/${o.name}`)) continue;
      batch.push({ op: 'assert', kind: o.kind, name: o.name, expectedVersion: o.version });
    }
  }
  return batch;
}

function versionOf(c: PlannedChange): { expectedVersion?: number } {
  return c.expectedVersion === null ? {} : { expectedVersion: c.expectedVersion };
}

function summarise(plan: Plan): ApplySummary {
  const summary: ApplySummary = { added: 0, changed: 0, destroyed: 0 };
  for (const c of plan.changes) {
    if (c.action === 'create') summary.added++;
    else if (c.action === 'update') summary.changed++;
    else summary.destroyed++;
  }
  return summary;
}

/**
 * Applies a plan in one atomic batch and reports progress through `onEvent`.
 *
 * @throws StigmerError('PLAN') when the plan has error diagnostics (nothing is sent);
 *   StigmerError('STALE_PLAN') when `checkObserved` and anything changed since the plan was
 *   made; ConflictError for a stale version otherwise; backend errors as they come. On any
 *   failure nothing was changed and an `apply-failed` event was emitted.
 */
export async function applyPlan(
  backend: Backend,
  plan: Plan,
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const emit = options.onEvent ?? (() => {});
  if (planHasErrors(plan)) {
    const n = plan.diagnostics.filter((d) => d.severity === 'error').length;
    throw new StigmerError('PLAN', `the plan has ${n} error${n === 1 ? '' : 's'} and cannot be applied`, {
      hint: 'fix the errors reported by `stigmer plan`; nothing was changed',
    });
  }
  const message = options.message ?? plan.message;
  const started = performance.now();
  emit({ type: 'apply-started', plan });
  let applied: AppliedChange[];
  try {
    const batch = buildApplyBatch(plan, options.checkObserved ?? false);
    applied =
      batch.length === 0
        ? []
        : await backend.applyChanges(batch, {
            // The store re-checks ownership and prevent-destroy against the live rows.
            project: plan.project,
            ...(message === undefined ? {} : { message }),
          });
  } catch (err) {
    const error = options.checkObserved && isStaleness(err) ? staleError(err) : err;
    emit({ type: 'apply-failed', error: error instanceof Error ? error : new Error(String(error)) });
    throw error;
  }
  const byKey = new Map(applied.map((a) => [`${a.kind}/${a.name}`, a]));
  const results: ApplyChangeResult[] = [];
  for (const change of plan.changes) {
    const a = byKey.get(`${change.kind}/${change.name}`);
    const version = a?.version ?? change.expectedVersion ?? 0;
    results.push({ action: change.action, kind: change.kind, name: change.name, id: a?.id ?? '', version });
    emit({ type: 'change-applied', change, version });
  }
  const summary = summarise(plan);
  const durationMs = Math.round(performance.now() - started);
  emit({ type: 'apply-finished', summary, durationMs });
  return { results, summary, durationMs };
}

/** A version mismatch, or a resource that appeared or vanished since the plan was made. */
function isStaleness(err: unknown): err is StigmerError {
  return (
    err instanceof ConflictError ||
    (err instanceof StigmerError && (err.code === 'ALREADY_EXISTS' || err.code === 'NOT_FOUND'))
  );
}

function staleError(cause: StigmerError): StigmerError {
  return new StigmerError('STALE_PLAN', `saved plan is stale: ${cause.message}; nothing was changed`, {
    hint: 'run `stigmer plan` again (and save a new plan with --out if you need one)',
    cause,
  });
}
