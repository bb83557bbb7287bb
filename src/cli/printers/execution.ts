/**
 * Output of runs and their records: the live event printer of `agent execute` and `workflow
 * execute` (reply text to stdout as it streams, tool calls and task progress to stderr; or one
 * JSON object a line with `--json`), and the tables of `execution list|get`.
 */
import { stringify } from 'yaml';
import type { Execution, TaskExecution } from '../../backend/types.js';
import type { EventSink, ExecutionEvent } from '../../execute/events.js';
import type { Colors } from '../color.js';
import { formatAge, formatTable } from './resources.js';

export interface EventPrinterOptions {
  json: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
  colors: Colors;
}

const clip = (text: string, max = 160) => {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
};

/** Prints events as they arrive. */
export function eventPrinter(options: EventPrinterOptions): EventSink {
  const { out, err, colors: c } = options;
  if (options.json) return (event) => out(`${JSON.stringify(event)}\n`);
  let streamed = '';
  const endLine = () => {
    if (streamed !== '' && !streamed.endsWith('\n')) out('\n');
    streamed = '';
  };
  return (event: ExecutionEvent) => {
    switch (event.type) {
      case 'started':
        if (event.kind === 'WorkflowExecution')
          err(c.dim(`workflow ${event.target} · ${event.executionId}\n`));
        return;
      case 'delta':
        if (event.task !== undefined) return;
        streamed += event.text;
        out(event.text);
        return;
      case 'tool_call':
        endLine();
        err(c.dim(`${event.task ? `[${event.task}] ` : ''}→ ${event.name}(${clip(event.arguments, 120)})\n`));
        return;
      case 'tool_result':
        err(
          c.dim(
            `${event.task ? `[${event.task}] ` : ''}${event.isError ? c.red('✗') : '←'} ${event.name}: ${clip(event.content, 120)}\n`,
          ),
        );
        return;
      case 'task_started':
        err(`${c.cyan('▶')} task ${event.task} ${c.dim(`(agent ${event.agent})`)}\n`);
        return;
      case 'task_completed':
        err(`${c.green('✓')} task ${event.task}\n`);
        return;
      case 'task_failed':
        err(
          event.phase === 'CANCELLED'
            ? `${c.yellow('○')} task ${event.task} cancelled${event.error ? c.dim(`: ${clip(event.error)}`) : ''}\n`
            : `${c.red('✗')} task ${event.task} failed: ${clip(event.error, 300)}\n`,
        );
        return;
      case 'completed':
        endLine();
        if (typeof event.output !== 'string') out(stringify(event.output));
        return;
      case 'failed':
      case 'cancelled':
        endLine();
        return;
    }
  };
}

/** The closing line on stderr: execution id, phase, session, tokens. */
export function executionSummary(execution: Execution, c: Colors): string {
  const phase =
    execution.phase === 'COMPLETED'
      ? c.green(execution.phase)
      : execution.phase === 'CANCELLED'
        ? c.yellow(execution.phase)
        : c.red(execution.phase);
  const parts = [`execution ${execution.id} ${phase}`];
  if (execution.sessionId) parts.push(`session ${execution.sessionId}`);
  if (execution.usage.totalTokens > 0) parts.push(`${execution.usage.totalTokens} tokens`);
  return `${parts.join(' · ')}\n`;
}

export function formatExecutionTable(executions: Execution[], now: Date = new Date()): string {
  return formatTable(
    ['ID', 'KIND', 'TARGET', 'PHASE', 'AGE', 'DURATION', 'TOKENS'],
    executions.map((e) => [
      e.id,
      e.kind === 'AgentExecution' ? 'agent' : 'workflow',
      e.target,
      e.phase,
      formatAge(e.createdAt, now),
      duration(e.startedAt, e.finishedAt),
      String(e.usage.totalTokens),
    ]),
  );
}

/** `execution get ID`: the record as key/value lines, then the task table of a workflow run. */
export function formatExecutionDetail(e: Execution): string {
  const rows: Array<[string, string]> = [
    ['ID', e.id],
    ['Kind', e.kind],
    ['Target', e.target],
    ['Phase', e.phase],
  ];
  if (e.error) rows.push(['Error', e.error]);
  if (e.sessionId) rows.push(['Session', e.sessionId]);
  if (e.resumedFrom) rows.push(['Resumed from', e.resumedFrom]);
  if (e.environmentRefs.length > 0) rows.push(['Environments', e.environmentRefs.join(', ')]);
  rows.push(['Created', e.createdAt]);
  if (e.startedAt) rows.push(['Started', e.startedAt]);
  if (e.finishedAt) rows.push(['Finished', `${e.finishedAt} (${duration(e.startedAt, e.finishedAt)})`]);
  else if (e.heartbeatAt) rows.push(['Heartbeat', e.heartbeatAt]);
  rows.push([
    'Tokens',
    `${e.usage.totalTokens} (prompt ${e.usage.promptTokens}, completion ${e.usage.completionTokens})`,
  ]);
  if (e.transcriptArtifactId)
    rows.push(['Transcript', `${e.transcriptArtifactId} (stigmer execution logs ${e.id})`]);
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  const lines = rows.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v}`);
  const sections = [lines.join('\n')];
  if (Object.keys(e.input).length > 0) sections.push(`Input:\n${indent(stringify(e.input))}`);
  if (Object.keys(e.output).length > 0 && e.kind === 'AgentExecution') {
    sections.push(`Output:\n${indent(stringify(e.output))}`);
  }
  if (e.tasks.length > 0) sections.push(`Tasks:\n${indent(formatTaskTable(e.tasks))}`);
  return `${sections.join('\n\n')}\n`;
}

export function formatTaskTable(tasks: TaskExecution[]): string {
  return formatTable(
    ['TASK', 'AGENT', 'PHASE', 'DURATION', 'TOKENS', 'OUTPUTS / ERROR'],
    tasks.map((t) => [
      t.name,
      t.agent,
      t.phase,
      duration(t.startedAt, t.finishedAt),
      String(t.usage.totalTokens),
      t.error ? clip(t.error, 80) : Object.keys(t.outputs).join(', '),
    ]),
  );
}

function duration(start: string | null, end: string | null): string {
  if (!start || !end) return '-';
  const ms = Date.parse(end) - Date.parse(start);
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${ms}ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.round(ms / 60_000)}m`;
}

function indent(text: string): string {
  return text.replace(/\n$/, '').replace(/^/gm, '  ');
}
