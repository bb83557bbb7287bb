/**
 * The markdown rendering of a plan, for pull-request comments and job summaries (DESIGN.md §6):
 * a visible summary line, then the plan as a `diff` block inside a collapsible <details> —
 * full, or compact (one line per changed resource) — truncated to a size limit with a note
 * saying where the full plan is.
 */
import { formatDiagnostic } from '../errors.js';
import { planHasErrors } from './plan.js';
import { changeLines, compactLine, formatPlanSummary, type Line } from './render-model.js';
import type { Plan } from './types.js';

export interface MarkdownRenderOptions {
  /** Upper bound on the length of the returned markdown (GitHub comments: 65,536). */
  maxChars?: number;
  /** Said when the plan had to be truncated, e.g. "the full plan is in the job log and summary". */
  truncatedNote?: string;
  /** Heading above the summary (default: "Stigmer plan for project `NAME`"). */
  title?: string;
  /**
   * `true`: one line per changed resource (`! Agent/support-bot (2 fields)`). `'auto'`: the
   * full plan when it fits `maxChars`, else the compact form (DESIGN.md §6: over the comment
   * limit, the compact form comes first, and only then is anything truncated). Default false.
   */
  compact?: boolean | 'auto';
  /** Markdown blocks shown right after the summary line (e.g. the Action's destroy warning). */
  afterSummary?: string[];
}

/** Diff-syntax line: the marker in column 0 so GitHub colours it (`!` for in-place changes). */
function diffLine(line: Line): string {
  const marker = line.marker === '~' ? '!' : line.marker === '' ? ' ' : line.marker;
  return `${marker}${' '.repeat(Math.max(1, line.depth * 2 - 1))}${line.text}`.trimEnd();
}

function fenceFor(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

function escapeInline(text: string): string {
  return text.replace(/[\\`*_<>[\]|]/g, (ch) => `\\${ch}`);
}

/** The plan as markdown. */
export function renderPlanMarkdown(plan: Plan, options: MarkdownRenderOptions = {}): string {
  const title = options.title ?? `Stigmer plan for project \`${plan.project}\``;
  const errors = planHasErrors(plan);
  const summary = errors
    ? `**Plan failed:** ${plan.diagnostics.filter((d) => d.severity === 'error').length} error(s); nothing can be applied.`
    : `**${formatPlanSummary(plan.summary)}**`;
  const head: string[] = [`### ${title}`, '', summary, ''];
  for (const block of options.afterSummary ?? []) head.push(block, '');
  head.push('');
  if (plan.diagnostics.length > 0) {
    for (const d of plan.diagnostics) {
      head.splice(
        -1,
        0,
        `- ${d.severity === 'error' ? '**Error**' : 'Warning'}: ${escapeInline(formatDiagnostic(d))}`,
      );
    }
    head.splice(-1, 0, '');
  }
  if (plan.changes.length === 0) return `${head.join('\n')}`;

  const n = plan.changes.length;
  const changes = `${n} change${n === 1 ? '' : 's'}`;
  const close = '\n\n</details>\n';
  const fullBody = () =>
    plan.changes.map((c) => changeLines(c, plan.project).map(diffLine).join('\n')).join('\n\n');
  const compactBody = () => plan.changes.map((c) => diffLine(compactLine(c))).join('\n');
  let compact = options.compact === true;
  let body = compact ? compactBody() : fullBody();
  const render = (text: string, note: string) => {
    const fence = fenceFor(text);
    const open = `<details><summary>Show plan (${changes}${compact ? ', one line each' : ''})</summary>\n\n`;
    return `${head.join('\n')}${open}${fence}diff\n${text}\n${fence}${note}${close}`;
  };
  const full = render(body, '');
  if (options.maxChars === undefined || full.length <= options.maxChars) return full;
  const whereFull = options.truncatedNote ?? 'run `stigmer plan` to see the full plan';
  if (options.compact === 'auto') {
    compact = true;
    body = compactBody();
    const short = render(body, `\n\n_Compact form: the full plan is too long to show here; ${whereFull}._`);
    if (short.length <= options.maxChars) return short;
  }

  const note = `\n\n_Plan truncated to fit; ${whereFull}._`;
  const lines = body.split('\n');
  let keep = lines.length;
  // Drop whole lines from the end until it fits (binary search keeps this fast for big plans).
  let lo = 0;
  let hi = lines.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (render(`${lines.slice(0, mid).join('\n')}\n...`, note).length <= options.maxChars) lo = mid;
    else hi = mid - 1;
  }
  keep = lo;
  return render(`${lines.slice(0, keep).join('\n')}\n...`, note);
}
