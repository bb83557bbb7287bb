/**
 * Typed progress events of an apply (STYLE.md: every printer — terminal, --json, watch mode,
 * the PR comment — renders the same events). Emitted by `applyPlan` in this order:
 * `apply-started`, then either one `change-applied` per change (in plan order, after the
 * atomic batch committed) and `apply-finished`, or `apply-failed` (nothing was changed).
 */
import type { Plan, PlannedChange } from '../plan/types.js';

/** Counts of what an apply did, as the summary line says them. */
export interface ApplySummary {
  added: number;
  changed: number;
  destroyed: number;
}

export type ApplyEvent =
  | { type: 'apply-started'; plan: Plan }
  | {
      type: 'change-applied';
      change: PlannedChange;
      /** Version after the write (for a delete: the version the resource had). */
      version: number;
    }
  | { type: 'apply-failed'; error: Error }
  | { type: 'apply-finished'; summary: ApplySummary; durationMs: number };

export type ApplyEventType = ApplyEvent['type'];
