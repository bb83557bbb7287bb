/**
 * The events of a run (DESIGN.md §6c). The run loop and the workflow runner produce them; the
 * human printer, `--json` (one object a line) and the records all consume the same stream.
 * Every event carries the execution it belongs to; task events also carry the task's name.
 */
import type { ExecutionKind, TokenUsage } from '../backend/types.js';
import type { JsonObject } from '../types.js';

export type ExecutionEvent =
  | { type: 'started'; executionId: string; kind: ExecutionKind; target: string; sessionId: string | null }
  | { type: 'delta'; executionId: string; text: string; task?: string }
  | { type: 'tool_call'; executionId: string; id: string; name: string; arguments: string; task?: string }
  | {
      type: 'tool_result';
      executionId: string;
      id: string;
      name: string;
      content: string;
      isError: boolean;
      task?: string;
    }
  | { type: 'task_started'; executionId: string; task: string; agent: string; inputs: JsonObject }
  | { type: 'task_completed'; executionId: string; task: string; outputs: JsonObject }
  | { type: 'task_failed'; executionId: string; task: string; error: string; phase: 'FAILED' | 'CANCELLED' }
  | { type: 'completed'; executionId: string; output: JsonObject | string; usage: TokenUsage }
  | { type: 'failed'; executionId: string; error: string }
  | { type: 'cancelled'; executionId: string; reason: string };

export type ExecutionEventType = ExecutionEvent['type'];

/** Receives events as they happen; must not throw (a printer that fails is a bug). */
export type EventSink = (event: ExecutionEvent) => void;
