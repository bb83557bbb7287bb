/**
 * Printers of apply events and results: the human lines (`Agent/x: Creation complete`, the
 * `Apply complete!` summary) and the `--json` document (the plan JSON plus `results`).
 */
import { type PlanJson, planToJson } from '../plan/render-json.js';
import { formatApplySummary } from '../plan/render-model.js';
import type { Plan, PlannedChange } from '../plan/types.js';
import { PLAIN_STYLE, type Style } from '../style.js';
import type { ApplyResult } from './apply.js';
import type { ApplyEvent } from './events.js';

export interface ApplyRenderOptions {
  /** How to paint (the CLI passes colours on a terminal only). Default plain text. */
  style?: Style;
}

function completion(change: PlannedChange): string {
  if (change.action === 'create') return 'Creation complete';
  if (change.action === 'delete') return 'Destruction complete';
  if (change.reason === 'release') return 'Released (left in place, no longer managed)';
  if (change.reason === 'adopt') return 'Adoption complete';
  return 'Modifications complete';
}

/** The text for one event (without trailing newline), or null when the event prints nothing. */
export function renderApplyEvent(event: ApplyEvent, options: ApplyRenderOptions = {}): string | null {
  const c = options.style ?? PLAIN_STYLE;
  switch (event.type) {
    case 'apply-started': {
      const n = event.plan.changes.length;
      return n === 0
        ? null
        : `Applying ${n} change${n === 1 ? '' : 's'} to project "${event.plan.project}"...`;
    }
    case 'change-applied': {
      const { change, version } = event;
      const suffix = change.action === 'delete' ? '' : ` [version ${version}]`;
      return `${change.kind}/${change.name}: ${completion(change)}${suffix}`;
    }
    case 'apply-failed':
      return c.red('Apply failed; no changes were made.');
    case 'apply-finished':
      return `\n${c.bold(c.green(formatApplySummary(event.summary)))}`;
  }
}

/**
 * An `onEvent` callback that writes each event's text as a line (default: to stdout); lines of
 * applied changes are gathered until the next other event or 64 KB.
 */
export function createApplyEventPrinter(
  options: ApplyRenderOptions = {},
  write: (text: string) => void = (text) => process.stdout.write(text),
): (event: ApplyEvent) => void {
  // The lines of `change-applied` (emitted one after another once the batch committed) are
  // written in pieces of about 64 KB, not one write each: 100,000 creates were 100,000 writes.
  // Any other event writes what is pending first, so nothing waits for a later event.
  let pending = '';
  return (event) => {
    const text = renderApplyEvent(event, options);
    if (event.type === 'change-applied') {
      if (text !== null) pending += `${text}\n`;
      if (pending.length < APPLIED_LINES_CHUNK) return;
    } else if (text !== null) pending += `${text}\n`;
    if (pending !== '') write(pending);
    pending = '';
  };
}

const APPLIED_LINES_CHUNK = 1 << 16;

/** `stigmer apply --json`: the plan JSON (DESIGN.md §5) plus `results` and the applied summary. */
export interface ApplyJson extends PlanJson {
  applied: ApplyResult['summary'];
  results: ApplyResult['results'];
  durationMs: number;
}

export function applyResultToJson(plan: Plan, result: ApplyResult): ApplyJson {
  return {
    ...planToJson(plan),
    applied: result.summary,
    results: result.results,
    durationMs: result.durationMs,
  };
}

export function renderApplyJson(plan: Plan, result: ApplyResult): string {
  return `${JSON.stringify(applyResultToJson(plan, result), null, 2)}\n`;
}
