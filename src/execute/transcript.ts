/**
 * Transcripts (DESIGN.md §6c): the messages of a run — prompt, replies, tool calls and their
 * results, sub-agents' turns — stored as a JSON artifact of the execution and shown by
 * `stigmer execution logs ID`. They hold what the model saw: never a variable of the execution
 * context (those reach only MCP servers) and tool output already masked.
 */
import type { ExecutionKind } from '../backend/types.js';
import type { ChatMessage } from './loop.js';
import type { TurnOutcome } from './run.js';

export const TRANSCRIPT_FORMAT_VERSION = 1;

/** A sub-agent's turn, called through the tool call `toolCallId`. */
export interface TranscriptRun {
  toolCallId?: string;
  agent: string;
  model: string;
  messages: ChatMessage[];
}

export interface Transcript {
  formatVersion: typeof TRANSCRIPT_FORMAT_VERSION;
  executionId: string;
  kind: ExecutionKind;
  target: string;
  /** The workflow task this transcript is of. */
  task?: string;
  agent?: string;
  model: string;
  outcome: { phase: 'COMPLETED' | 'FAILED' | 'CANCELLED'; error?: string };
  messages: ChatMessage[];
  subAgents: TranscriptRun[];
}

export function buildTranscript(input: {
  executionId: string;
  kind: ExecutionKind;
  target: string;
  task?: string;
  agent?: string;
  model: string;
  messages: readonly ChatMessage[];
  subRuns: readonly TranscriptRun[];
  outcome: TurnOutcome;
}): Transcript {
  const outcome: Transcript['outcome'] =
    input.outcome.type === 'done'
      ? { phase: 'COMPLETED' }
      : input.outcome.type === 'failed'
        ? { phase: 'FAILED', error: input.outcome.error }
        : { phase: 'CANCELLED', error: input.outcome.reason.message };
  return {
    formatVersion: TRANSCRIPT_FORMAT_VERSION,
    executionId: input.executionId,
    kind: input.kind,
    target: input.target,
    ...(input.task !== undefined ? { task: input.task } : {}),
    ...(input.agent !== undefined ? { agent: input.agent } : {}),
    model: input.model,
    outcome,
    messages: [...input.messages],
    subAgents: [...input.subRuns],
  };
}

/** A transcript as text for a terminal: one block per message. */
export function renderTranscript(t: Transcript): string {
  const lines: string[] = [];
  const head = t.task === undefined ? `${t.kind} ${t.target}` : `task ${t.task} (agent ${t.agent ?? '?'})`;
  lines.push(
    `# ${head} · model ${t.model} · ${t.outcome.phase}${t.outcome.error ? `: ${t.outcome.error}` : ''}`,
  );
  renderMessages(t.messages, lines, '');
  for (const sub of t.subAgents) {
    lines.push(
      '',
      `## sub-agent ${sub.agent} · model ${sub.model}${sub.toolCallId ? ` · for ${sub.toolCallId}` : ''}`,
    );
    renderMessages(sub.messages, lines, '  ');
  }
  return `${lines.join('\n')}\n`;
}

function renderMessages(messages: readonly ChatMessage[], lines: string[], indent: string): void {
  for (const m of messages) {
    lines.push('');
    if (m.role === 'tool') {
      lines.push(`${indent}[tool result ${m.tool_call_id}]`, indentText(m.content, indent));
      continue;
    }
    lines.push(`${indent}[${m.role}]`);
    if (m.content) lines.push(indentText(m.content, indent));
    if (m.role === 'assistant') {
      for (const call of m.tool_calls ?? []) {
        lines.push(`${indent}→ ${call.function.name}(${call.function.arguments}) [${call.id}]`);
      }
    }
  }
}

function indentText(text: string, indent: string): string {
  return indent === '' ? text : text.replace(/^/gm, indent);
}
