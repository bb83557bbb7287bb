/**
 * The driver of one agent turn: does what the pure loop (loop.ts) asks — streams a model reply,
 * runs the tool calls — and feeds the outcome back, emitting events as it goes. Before each
 * step it calls `checkpoint` (the record's heartbeat, which also sees a cancellation made by
 * another process); an aborted signal (Ctrl-C, cancel) ends the turn as cancelled with what it
 * had so far.
 */
import { StigmerError } from '../errors.js';
import {
  type StepResult,
  step,
  type ToolCall,
  type ToolResult,
  type TurnEvent,
  type TurnState,
} from './loop.js';
import type { ToolDefinition, ToolOutcome } from './mcp.js';
import { type ModelClient, ModelError } from './model.js';
import type { ChatParams } from './settings.js';

/** Why a run was stopped before it finished; the abort reason of its signal. */
export class RunCancelled extends StigmerError {
  constructor(
    readonly reason: string,
    readonly interrupted: boolean,
  ) {
    super('ABORTED', reason);
    this.name = 'RunCancelled';
  }
}

export interface TurnDeps {
  model: ModelClient;
  request: { model: string; tools: ToolDefinition[]; params: ChatParams; json?: boolean };
  /** Runs one tool call; failures are results for the model, not exceptions. */
  callTool: (call: ToolCall, args: Record<string, unknown>, signal: AbortSignal) => Promise<ToolOutcome>;
  emit: (event: TurnEvent | { type: 'delta'; text: string }) => void;
  /** Called before every step; may abort the signal (a cancellation seen in the record). */
  checkpoint: () => Promise<void>;
  signal: AbortSignal;
}

export type TurnOutcome =
  | { type: 'done'; output: string }
  | { type: 'failed'; error: string; cause?: unknown }
  | { type: 'cancelled'; reason: RunCancelled };

export interface TurnRun {
  state: TurnState;
  outcome: TurnOutcome;
}

/** Runs a turn from `start` (see `startTurn`) to its end. Never throws for a run's own failures. */
export async function runTurn(start: StepResult, deps: TurnDeps): Promise<TurnRun> {
  let { state, next } = start;
  for (;;) {
    if (next.type === 'done') return { state, outcome: { type: 'done', output: next.output } };
    if (next.type === 'failed') return { state, outcome: { type: 'failed', error: next.error } };
    await deps.checkpoint().catch(() => undefined);
    if (deps.signal.aborted) return { state, outcome: cancelled(deps.signal) };
    let result: StepResult;
    if (next.type === 'call_model') {
      try {
        const reply = await deps.model.complete(
          { ...deps.request, messages: [...state.messages] },
          { signal: deps.signal, onDelta: (text) => deps.emit({ type: 'delta', text }) },
        );
        result = step(state, {
          type: 'reply',
          content: reply.content,
          toolCalls: reply.toolCalls,
          usage: reply.usage,
        });
      } catch (err) {
        const partial = err instanceof ModelError ? err.partial : '';
        result = step(state, { type: 'reply_failed', error: messageOf(err), partial });
        if (deps.signal.aborted) return { state: result.state, outcome: cancelled(deps.signal) };
        return { state: result.state, outcome: { type: 'failed', error: messageOf(err), cause: err } };
      }
    } else {
      const results: ToolResult[] = [];
      try {
        for (const call of next.calls) {
          results.push({ id: call.id, name: call.function.name, ...(await runCall(call, deps)) });
        }
      } catch (err) {
        if (deps.signal.aborted) return { state, outcome: cancelled(deps.signal) };
        throw err;
      }
      result = step(state, { type: 'tool_results', results });
    }
    for (const event of result.events) deps.emit(event);
    state = result.state;
    next = result.next;
  }
}

async function runCall(call: ToolCall, deps: TurnDeps): Promise<ToolOutcome> {
  let args: unknown;
  try {
    args = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
  } catch {
    return { content: `the arguments of ${call.function.name} are not valid JSON`, isError: true };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { content: `the arguments of ${call.function.name} must be a JSON object`, isError: true };
  }
  return deps.callTool(call, args as Record<string, unknown>, deps.signal);
}

function cancelled(signal: AbortSignal): TurnOutcome {
  const reason = signal.reason instanceof RunCancelled ? signal.reason : new RunCancelled('cancelled', false);
  return { type: 'cancelled', reason };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
