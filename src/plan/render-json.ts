/**
 * The machine rendering of a plan: exactly the `--json` shape of DESIGN.md §5 (formatVersion 1).
 * `write` (what apply stores, including ownership annotations) and `observed` stay out of it;
 * `before`, `after` and `patch` are already redacted by the planner.
 */
import type { Operation } from 'fast-json-patch';
import type { Diagnostic } from '../errors.js';
import type { BackendInfo, DeclaredKind } from '../types.js';
import type { ChangeAction, ComparedView, Plan, PlanSummary } from './types.js';

export interface PlanJsonChange {
  action: ChangeAction;
  kind: DeclaredKind;
  name: string;
  source: string | null;
  expectedVersion: number | null;
  drift: boolean;
  /** Present for adoptions ('adopt'), prunes ('prune') and releases ('release'). */
  reason?: 'adopt' | 'prune' | 'release';
  /** On updates and deletes of Agents, Skills and Environments: `Kind/name` of every user. */
  usedBy?: string[];
  patch: Operation[];
  before: ComparedView | null;
  after: ComparedView | null;
}

export interface PlanJsonDiagnostic {
  severity: Diagnostic['severity'];
  file: string;
  line: number;
  column: number;
  message: string;
  hint?: string;
}

/** The `stigmer plan --json` document. */
export interface PlanJson {
  formatVersion: 1;
  project: string;
  backend: BackendInfo;
  summary: PlanSummary;
  changes: PlanJsonChange[];
  diagnostics: PlanJsonDiagnostic[];
}

/** Diagnostics in the JSON shape (severity, file, line, column, message, and hint when known). */
export function diagnosticsToJson(diagnostics: Diagnostic[]): PlanJsonDiagnostic[] {
  return diagnostics.map((d) => ({
    severity: d.severity,
    file: d.file,
    line: d.line,
    column: d.column,
    message: d.message,
    ...(d.hint !== undefined ? { hint: d.hint } : {}),
  }));
}

/** The plan as the `--json` object (DESIGN.md §5). */
export function planToJson(plan: Plan): PlanJson {
  return {
    formatVersion: 1,
    project: plan.project,
    backend: { type: plan.backend.type, location: plan.backend.location },
    summary: { ...plan.summary },
    changes: plan.changes.map((c) => ({
      action: c.action,
      kind: c.kind,
      name: c.name,
      source: c.source,
      expectedVersion: c.expectedVersion,
      drift: c.drift,
      ...(c.reason !== undefined ? { reason: c.reason } : {}),
      ...(c.usedBy !== undefined ? { usedBy: [...c.usedBy] } : {}),
      patch: c.patch,
      before: c.before,
      after: c.after,
    })),
    diagnostics: diagnosticsToJson(plan.diagnostics),
  };
}

/** `planToJson` as indented text with a trailing newline, ready for stdout. */
export function renderPlanJson(plan: Plan): string {
  return `${JSON.stringify(planToJson(plan), null, 2)}\n`;
}
