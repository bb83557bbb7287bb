/**
 * Printers of watch mode. Human: a banner, the apply events' per-change lines, then exactly
 * one timestamped summary line per cycle (after the diagnostics when a file is broken).
 * `--json`: one JSON object per cycle on stdout (NDJSON), banner and notices on stderr, so
 * stdout stays machine-readable.
 */
import type { ApplyEvent } from '../apply/events.js';
import { renderApplyEvent } from '../apply/render.js';
import { colors } from '../cli/color.js';
import { type Diagnostic, formatDiagnostic } from '../errors.js';
import { formatApplySummary } from '../plan/render-model.js';
import type { CycleReport } from './cycle.js';

/** What the session tells its printer. */
export interface WatchPrinter {
  /** Watching has started (before the first cycle). */
  watching(info: WatchBanner): void;
  /** An apply event of the running cycle. */
  applyEvent(event: ApplyEvent): void;
  /** A cycle ended. */
  cycle(report: CycleReport): void;
  /** Something outside a cycle went wrong (the file watcher reported an error). */
  notice(message: string): void;
  /** Watching has stopped. */
  stopped(reason: string): void;
}

export interface WatchBanner {
  /** The directory as the user named it. */
  dir: string;
  project: string;
  prune: boolean;
  debounceMs: number;
}

/** `HH:MM:SS` in local time. */
export function clockTime(time: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;
}

function errorCount(diagnostics: readonly Diagnostic[]): number {
  return diagnostics.filter((d) => d.severity === 'error').length;
}

/** The summary sentence of a cycle, without timestamp. */
export function cycleSummary(report: CycleReport): string {
  switch (report.outcome) {
    case 'applied':
      return formatApplySummary(report.summary);
    case 'no-changes':
      return 'No changes. Your resources match the manifests.';
    case 'invalid': {
      const n = errorCount(report.diagnostics);
      return `${n} error${n === 1 ? '' : 's'}; nothing applied (last good state kept)`;
    }
    case 'failed':
      return `Apply failed: ${report.error?.message ?? 'unknown error'}; nothing applied (last good state kept)`;
  }
}

/** The lines a human sees for a cycle (diagnostics first, then `[HH:MM:SS] summary`). */
export function renderCycle(report: CycleReport, color: boolean): string {
  const c = colors(color);
  const lines: string[] = [];
  for (const d of report.diagnostics) {
    const text = formatDiagnostic(d);
    lines.push(d.severity === 'error' ? c.red(text) : c.yellow(text));
  }
  if (report.outcome === 'failed' && report.error?.hint) lines.push(`  hint: ${report.error.hint}`);
  const summary = cycleSummary(report);
  const painted =
    report.outcome === 'applied'
      ? c.green(summary)
      : report.outcome === 'no-changes'
        ? summary
        : c.red(summary);
  lines.push(`${c.dim(`[${clockTime(report.time)}]`)} ${painted}`);
  return lines.join('\n');
}

/** The NDJSON object of a cycle. */
export interface CycleJson {
  time: string;
  cycle: number;
  project: string | null;
  files: string[];
  outcome: CycleReport['outcome'];
  /** True when the cycle wrote to the backend. */
  applied: boolean;
  summary: CycleReport['summary'];
  changes: CycleReport['changes'];
  durationMs: number;
  error?: CycleReport['error'];
  diagnostics?: Diagnostic[];
}

export function cycleToJson(report: CycleReport): CycleJson {
  const json: CycleJson = {
    time: report.time.toISOString(),
    cycle: report.cycle,
    project: report.project,
    files: report.files,
    outcome: report.outcome,
    applied: report.outcome === 'applied',
    summary: report.summary,
    changes: report.changes,
    durationMs: report.durationMs,
  };
  if (report.error) json.error = report.error;
  if (report.diagnostics.length > 0) json.diagnostics = report.diagnostics;
  return json;
}

function bannerText(info: WatchBanner): string {
  return `Watching ${info.dir} (project ${info.project}) — press Ctrl-C to stop`;
}

type Write = (text: string) => void;

/** The terminal printer. */
export function createHumanPrinter(options: { color: boolean; write: Write }): WatchPrinter {
  const c = colors(options.color);
  const line = (text: string): void => options.write(`${text}\n`);
  return {
    watching(info) {
      line(c.bold(bannerText(info)));
      if (!info.prune) line(c.dim('  removed manifests keep their resources (pass --prune to delete them)'));
    },
    applyEvent(event) {
      if (event.type !== 'change-applied') return;
      const text = renderApplyEvent(event, { style: c });
      if (text !== null) line(`  ${text}`);
    },
    cycle(report) {
      line(renderCycle(report, options.color));
    },
    notice(message) {
      line(c.yellow(message));
    },
    stopped(reason) {
      line(c.dim(reason));
    },
  };
}

/** The `--json` printer: NDJSON cycles on `write`, everything else on `writeNotice`. */
export function createJsonPrinter(options: { write: Write; writeNotice: Write }): WatchPrinter {
  return {
    watching(info) {
      options.writeNotice(`${bannerText(info)}\n`);
    },
    applyEvent() {},
    cycle(report) {
      options.write(`${JSON.stringify(cycleToJson(report))}\n`);
    },
    notice(message) {
      options.writeNotice(`${message}\n`);
    },
    stopped(reason) {
      options.writeNotice(`${reason}\n`);
    },
  };
}
