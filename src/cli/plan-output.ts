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
import { planChangeChunks, renderPlanSummaryLine } from '../plan/render-text.js';
import type { Plan } from '../plan/types.js';
import { colors } from './color.js';
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

/**
 * Prints a plan; returns true when the plan has errors (the caller exits 1). Text: the changes
 * on stdout, then warnings and errors (each once, with its hint) on stderr, then the summary
 * line on stdout, so on a terminal the errors sit between the plan and its last line.
 */
export async function printPlanOutcome(
  plan: Plan,
  options: {
    json: boolean;
    color: boolean;
    compact?: boolean | undefined;
    savedTo?: string | undefined;
    /** What a failed plan's last line says (default "nothing can be applied"). */
    failureNote?: string;
  },
): Promise<boolean> {
  const failed = planHasErrors(plan);
  if (options.json) {
    process.stdout.write(renderPlanJson(plan));
    return failed;
  }
  const style = colors(options.color);
  const text = { style, compact: options.compact ?? false, errors: false };
  // Waits for standard output to drain between pieces: a pipe is written asynchronously, and a
  // plan of 100,000 creates (82 MB of text) was otherwise all held in memory until the process
  // next waited for something.
  for (const chunk of planChangeChunks(plan, text)) await writeStdout(chunk);
  for (const d of plan.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (failed && plan.changes.length > 0) process.stderr.write('\n');
  const summary = renderPlanSummaryLine(plan, {
    ...text,
    ...(options.failureNote ? { failureNote: options.failureNote } : {}),
  });
  process.stdout.write(`${summary}\n`);
  if (options.savedTo && !failed) {
    process.stdout.write(
      `\nSaved the plan to: ${options.savedTo}\nTo apply exactly this plan, run: stigmer apply ${options.savedTo}\n`,
    );
  }
  return failed;
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export const printApplyOutcome = {
  eventPrinter(options: { color: boolean }) {
    return createApplyEventPrinter({ style: colors(options.color) });
  },
  json(plan: Plan, result: ApplyResult): void {
    process.stdout.write(ensureNewline(renderApplyJson(plan, result)));
  },
};

/**
 * Writes to standard output and, when the stream buffers (a pipe is asynchronous on POSIX),
 * waits until it drained, or failed, or closed (a reader that went away must not hang us).
 */
function writeStdout(chunk: string): Promise<void> {
  if (process.stdout.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      process.stdout.off('drain', done);
      process.stdout.off('error', done);
      process.stdout.off('close', done);
      resolve();
    };
    process.stdout.once('drain', done);
    process.stdout.once('error', done);
    process.stdout.once('close', done);
  });
}
