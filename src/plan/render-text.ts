/**
 * The human rendering of a plan, Terraform-like: one block per change with `+ ~ -` markers,
 * per-field lines, line diffs of multi-line strings, and the summary line of DESIGN.md §5.
 * Colour only when the caller says so (it decides from the TTY and NO_COLOR).
 */
import { colors } from '../cli/color.js';
import { formatDiagnostic } from '../errors.js';
import { planHasErrors } from './plan.js';
import { changeLines, formatPlanSummary, type Line } from './render-model.js';
import type { Plan, PlannedChange } from './types.js';

export interface TextRenderOptions {
  /** ANSI colours: green +, yellow ~, red -. */
  color: boolean;
}

/** Paints one line of the presentation model. */
export function paintLine(line: Line, options: TextRenderOptions): string {
  const c = colors(options.color);
  const paint =
    line.marker === '+' ? c.green : line.marker === '-' ? c.red : line.marker === '~' ? c.yellow : null;
  const indent = ' '.repeat(line.depth * 2);
  if (line.role === 'comment') return `${indent}${c.dim(line.text)}`;
  const marker = line.marker === '' ? '' : `${paint ? paint(line.marker) : line.marker} `;
  if (line.role === 'header') return `${indent}${marker}${c.bold(line.text)}`;
  // An empty line of a multi-line value: no trailing blanks.
  if (line.text === '') return `${indent}${paint ? paint(line.marker) : line.marker}`.trimEnd();
  if (line.role === 'diff' && paint) return `${indent}${marker}${paint(line.text)}`;
  return `${indent}${marker}${line.text}`;
}

/** The block of one change, without a trailing newline. */
export function renderChangeText(
  change: PlannedChange,
  options: TextRenderOptions,
  project?: string,
): string {
  return changeLines(change, project)
    .map((line) => paintLine(line, options))
    .join('\n');
}

/**
 * The whole plan as a terminal shows it: the changes in execution order, the diagnostics,
 * then the summary line (`Plan: ...` / `No changes. ...`), or, when the plan has errors, a
 * line saying it cannot be applied. Ends with a newline.
 */
export function renderPlanText(plan: Plan, options: TextRenderOptions): string {
  const c = colors(options.color);
  const out: string[] = [];
  if (plan.changes.length > 0) {
    out.push('Stigmer will perform the following actions:', '');
    for (const change of plan.changes) out.push(renderChangeText(change, options, plan.project), '');
  }
  // Warnings are the caller's to print (the CLI writes them to stderr, so stdout stays the plan).
  const errors = plan.diagnostics.filter((d) => d.severity === 'error');
  for (const d of errors) out.push(`${c.red('Error:')} ${formatDiagnostic(d)}`);
  if (errors.length > 0) out.push('');
  if (planHasErrors(plan)) {
    const n = plan.diagnostics.filter((d) => d.severity === 'error').length;
    out.push(c.red(`Plan failed: ${n} error${n === 1 ? '' : 's'}; nothing can be applied.`));
  } else {
    out.push(c.bold(formatPlanSummary(plan.summary)));
  }
  return `${out.join('\n')}\n`;
}
