/**
 * The human rendering of a plan, Terraform-like: one block per change with `+ ~ -` markers,
 * per-field lines, line diffs of multi-line strings, and the summary line of DESIGN.md §5; or,
 * compact, one line per change. How text is painted is the caller's `Style` (the CLI passes
 * colours on a terminal only); this module decides nothing about terminals.
 */
import { formatDiagnostic } from '../errors.js';
import { PLAIN_STYLE, type Style } from '../style.js';
import { planHasErrors } from './plan.js';
import { changeLines, compactLine, formatPlanSummary, type Line } from './render-model.js';
import type { Plan, PlannedChange } from './types.js';

export interface TextRenderOptions {
  /** How to paint: green +, yellow ~, red -, bold headers, dim comments. Default plain text. */
  style?: Style;
  /** One line per changed resource (`~ Agent/support-bot (2 fields)`) instead of the full blocks. */
  compact?: boolean;
  /**
   * Include the plan's error diagnostics (`Error: file:line:col: ...`) before the summary line.
   * Default true; the CLI passes false and prints them once itself, on standard error.
   */
  errors?: boolean;
  /** What the failure line says can no longer happen (default "nothing can be applied"). */
  failureNote?: string;
}

/** Paints one line of the presentation model. */
export function paintLine(line: Line, style: Style = PLAIN_STYLE): string {
  const paint =
    line.marker === '+'
      ? style.green
      : line.marker === '-'
        ? style.red
        : line.marker === '~'
          ? style.yellow
          : null;
  const indent = ' '.repeat(line.depth * 2);
  if (line.role === 'comment') return `${indent}${style.dim(line.text)}`;
  const marker = line.marker === '' ? '' : `${paint ? paint(line.marker) : line.marker} `;
  if (line.role === 'header') return `${indent}${marker}${style.bold(line.text)}`;
  // An empty line of a multi-line value: no trailing blanks.
  if (line.text === '') return `${indent}${paint ? paint(line.marker) : line.marker}`.trimEnd();
  if (line.role === 'diff' && paint) return `${indent}${marker}${paint(line.text)}`;
  return `${indent}${marker}${line.text}`;
}

/** The block of one change, without a trailing newline. */
export function renderChangeText(
  change: PlannedChange,
  style: Style = PLAIN_STYLE,
  project?: string,
): string {
  return changeLines(change, project)
    .map((line) => paintLine(line, style))
    .join('\n');
}

/**
 * The changes as a terminal shows them, in execution order: the full blocks (each followed by
 * a blank line) or, compact, one line each and then a blank line. Empty when nothing changes.
 */
export function renderPlanChanges(plan: Plan, options: TextRenderOptions = {}): string {
  let out = '';
  writePlanChanges(plan, options, (chunk) => {
    out += chunk;
  });
  return out;
}

/** Pieces of `writePlanChanges` are about this many characters. */
const WRITE_CHUNK = 1 << 16;

/**
 * `renderPlanChanges` in consecutive pieces handed to `write`, so that printing a plan of
 * 100,000 creates (about 80 MB of text) never holds the whole text at once.
 */
export function writePlanChanges(
  plan: Plan,
  options: TextRenderOptions,
  write: (chunk: string) => void,
): void {
  for (const chunk of planChangeChunks(plan, options)) write(chunk);
}

/**
 * The text of the plan's changes in pieces of about WRITE_CHUNK characters, each made when the
 * caller asks for it (so a writer that waits for its output to drain holds one piece at a time).
 */
export function* planChangeChunks(plan: Plan, options: TextRenderOptions): Generator<string> {
  if (plan.changes.length === 0) return;
  const style = options.style ?? PLAIN_STYLE;
  let chunk = 'Stigmer will perform the following actions:\n\n';
  for (const change of plan.changes) {
    chunk += options.compact
      ? `${paintLine(compactLine(change), style)}\n`
      : `${renderChangeText(change, style, plan.project)}\n\n`;
    if (chunk.length >= WRITE_CHUNK) {
      yield chunk;
      chunk = '';
    }
  }
  if (options.compact) chunk += '\n';
  yield chunk;
}

/**
 * The last line of a plan: `Plan: ...` / `No changes. ...`, or, when the plan has errors,
 * `Plan failed: N errors; nothing can be applied.` (the note after `;` is `failureNote`).
 */
export function renderPlanSummaryLine(plan: Plan, options: TextRenderOptions = {}): string {
  const style = options.style ?? PLAIN_STYLE;
  if (planHasErrors(plan)) {
    const n = plan.diagnostics.filter((d) => d.severity === 'error').length;
    return style.red(
      `Plan failed: ${n} error${n === 1 ? '' : 's'}; ${options.failureNote ?? 'nothing can be applied'}.`,
    );
  }
  return style.bold(formatPlanSummary(plan.summary));
}

/**
 * The whole plan as a terminal shows it: the changes in execution order (full or compact), the
 * errors, then the summary line. Ends with a newline. Warnings are the caller's to print (the
 * CLI writes them to standard error, so standard output stays the plan).
 */
export function renderPlanText(plan: Plan, options: TextRenderOptions = {}): string {
  const style = options.style ?? PLAIN_STYLE;
  let out = renderPlanChanges(plan, options);
  if (options.errors ?? true) {
    const errors = plan.diagnostics.filter((d) => d.severity === 'error');
    for (const d of errors) out += `${style.red('Error:')} ${formatDiagnostic(d)}\n`;
    if (errors.length > 0) out += '\n';
  }
  return `${out}${renderPlanSummaryLine(plan, options)}\n`;
}
