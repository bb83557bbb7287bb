/**
 * One agent turn as a pure state machine (STYLE.md: "the run loop is a pure state machine over
 * events"): `step(state, input) → {state, next, events}`. The driver (run.ts) does what `next`
 * says — call the model, call tools — and feeds the outcome back in; this module does no I/O,
 * so every path (tool rounds, the round limit, a cut-off reply) is tested with plain data.
 *
 *   startTurn ─▶ call_model ─reply with tool calls─▶ call_tools ─results─▶ call_model … ─▶ done
 *                    └─reply failed / too many rounds─▶ failed
 */
import type { TokenUsage } from '../backend/types.js';

/** A tool call as the chat API returns it. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A chat message in the chat-completions format (what the endpoint, the transcript and sessions hold). */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

export interface ToolResult {
  id: string;
  name: string;
  content: string;
  isError: boolean;
}

export interface TurnState {
  /** The whole conversation sent to the model: system prompt, history, this turn. */
  readonly messages: readonly ChatMessage[];
  /** Where this turn's messages start in `messages` (what a session keeps). */
  readonly turnStart: number;
  readonly toolRounds: number;
  readonly maxToolRounds: number;
  readonly usage: TokenUsage;
}

export type TurnInput =
  | { type: 'reply'; content: string; toolCalls: ToolCall[]; usage: TokenUsage }
  /** The model call failed; `partial` is the text that had arrived (kept in the transcript). */
  | { type: 'reply_failed'; error: string; partial: string }
  | { type: 'tool_results'; results: ToolResult[] };

export type TurnNext =
  | { type: 'call_model' }
  | { type: 'call_tools'; calls: ToolCall[] }
  | { type: 'done'; output: string }
  | { type: 'failed'; error: string };

/** Events of a step, before the driver stamps them with the execution id. */
export type TurnEvent =
  | { type: 'tool_call'; id: string; name: string; arguments: string }
  | { type: 'tool_result'; id: string; name: string; content: string; isError: boolean };

export interface StepResult {
  state: TurnState;
  next: TurnNext;
  events: TurnEvent[];
}

export const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

export function addUsage(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    totalTokens: a.totalTokens + b.totalTokens,
  };
}

/** A turn: the system prompt, the session's history and the user's message; first the model. */
export function startTurn(input: {
  system: string;
  history: readonly ChatMessage[];
  message: string;
  maxToolRounds: number;
}): StepResult {
  const messages: ChatMessage[] = [{ role: 'system', content: input.system }, ...input.history];
  const turnStart = messages.length;
  messages.push({ role: 'user', content: input.message });
  return {
    state: { messages, turnStart, toolRounds: 0, maxToolRounds: input.maxToolRounds, usage: NO_USAGE },
    next: { type: 'call_model' },
    events: [],
  };
}

export function step(state: TurnState, input: TurnInput): StepResult {
  switch (input.type) {
    case 'reply': {
      const usage = addUsage(state.usage, input.usage);
      const assistant: ChatMessage =
        input.toolCalls.length > 0
          ? { role: 'assistant', content: input.content || null, tool_calls: input.toolCalls }
          : { role: 'assistant', content: input.content };
      const next: StepResult['state'] = { ...state, messages: [...state.messages, assistant], usage };
      if (input.toolCalls.length === 0) {
        return { state: next, next: { type: 'done', output: input.content }, events: [] };
      }
      if (state.toolRounds >= state.maxToolRounds) {
        return {
          state: next,
          next: {
            type: 'failed',
            error: `the model still asked for tools after ${state.maxToolRounds} tool round${state.maxToolRounds === 1 ? '' : 's'} (config.max_tool_rounds)`,
          },
          events: [],
        };
      }
      return {
        state: next,
        next: { type: 'call_tools', calls: input.toolCalls },
        events: input.toolCalls.map((c) => ({
          type: 'tool_call' as const,
          id: c.id,
          name: c.function.name,
          arguments: c.function.arguments,
        })),
      };
    }
    case 'reply_failed': {
      const messages =
        input.partial === ''
          ? state.messages
          : [...state.messages, { role: 'assistant' as const, content: input.partial }];
      return { state: { ...state, messages }, next: { type: 'failed', error: input.error }, events: [] };
    }
    case 'tool_results': {
      const messages: ChatMessage[] = [
        ...state.messages,
        ...input.results.map((r) => ({ role: 'tool' as const, tool_call_id: r.id, content: r.content })),
      ];
      return {
        state: { ...state, messages, toolRounds: state.toolRounds + 1 },
        next: { type: 'call_model' },
        events: input.results.map((r) => ({
          type: 'tool_result' as const,
          id: r.id,
          name: r.name,
          content: r.content,
          isError: r.isError,
        })),
      };
    }
  }
}
