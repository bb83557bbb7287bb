/**
 * Printing plans and apply results for the plan/apply commands: text (Terraform-like) on
 * stdout, diagnostics on stderr, or the JSON formats of DESIGN.md §5.
 */

import type { ApplyResult } from '../apply/apply.js';
import { createApplyEventPrinter, renderApplyJson } from '../apply/render.js';
import type { BackendInfo } from '../backend/types.js';
import { formatDiagnostic, ValidationError } from '../errors.js';
import { planHasErrors } from '../plan/plan.js';
import { diagnosticsToJson, renderPlanJson } from '../plan/render-json.js';
import { renderPlanText } from '../plan/render-text.js';
import type { Plan } from '../plan/types.js';
import { ExitCode } from './errors.js';

/**
 * Turns a failure to plan into what the command should throw. With --json, validation
 * diagnostics are printed in the plan JSON shape and the command exits 1.
 */
export function printPlanFailure(
  err: unknown,
  options: { json: boolean; backend: BackendInfo; project?: string | undefined },
): unknown {
  if (options.json && err instanceof ValidationError) {
    const out = {
      formatVersion: 1,
      // The project is known here only when --project named it (stigmer.yaml may be unreadable).
      project: options.project ?? null,
      backend: options.backend,
      summary: { create: 0, update: 0, delete: 0, noop: 0 },
      changes: [],
      diagnostics: diagnosticsToJson(err.diagnostics),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return new ExitCode(1);
  }
  return err;
}

/** Prints a plan; returns true when the plan has errors (the caller exits 1). */
export function printPlanOutcome(
  plan: Plan,
  options: { json: boolean; color: boolean; savedTo?: string | undefined },
): boolean {
  const failed = planHasErrors(plan);
  if (options.json) {
    process.stdout.write(renderPlanJson(plan));
    if (!renderPlanJson(plan).endsWith('\n')) process.stdout.write('\n');
  } else {
    for (const d of plan.diagnostics) {
      if (failed || d.severity === 'warning') process.stderr.write(`${formatDiagnostic(d)}\n`);
    }
    process.stdout.write(ensureNewline(renderPlanText(plan, { color: options.color })));
    if (options.savedTo && !failed) {
      process.stdout.write(
        `\nSaved the plan to: ${options.savedTo}\nTo apply exactly this plan, run: stigmer apply ${options.savedTo}\n`,
      );
    }
  }
  return failed;
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export const printApplyOutcome = {
  eventPrinter(options: { color: boolean }) {
    return createApplyEventPrinter(options);
  },
  json(plan: Plan, result: ApplyResult): void {
    process.stdout.write(ensureNewline(renderApplyJson(plan, result)));
  },
};
