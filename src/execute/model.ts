/**
 * The model client (DESIGN.md §6c): OpenAI-compatible chat completions through the official
 * `openai` package pointed at `baseURL` (Ollama, vLLM, LM Studio, OpenAI, …). A reply is
 * streamed (server-sent events, parsed by the package) and handed out delta by delta; tool-call
 * deltas are folded by index. The package retries 429 and 5xx with backoff, honouring
 * `Retry-After`. Every failure becomes one clear StigmerError (`MODEL`): endpoint unreachable
 * (with the Ollama hint), 401/403, unknown model, a stream cut off mid-reply (with what did
 * arrive, for the transcript).
 */
import OpenAI from 'openai';
import type { TokenUsage } from '../backend/types.js';
import { StigmerError } from '../errors.js';
import type { ChatMessage, ToolCall } from './loop.js';
import { perRequest, type ToolDefinition } from './mcp.js';
import type { ChatParams, ModelEndpoint } from './settings.js';

export interface ModelRequest {
  model: string;
  messages: ChatMessage[];
  tools: ToolDefinition[];
  params: ChatParams;
  /** Ask for a JSON object (`response_format: json_object`) where the endpoint supports it. */
  json?: boolean;
}

export interface ModelReply {
  content: string;
  toolCalls: ToolCall[];
  usage: TokenUsage;
  finishReason: string;
}

export interface ModelCallOptions {
  signal?: AbortSignal;
  /** Each piece of reply text as it arrives. */
  onDelta?: (text: string) => void;
}

/** What the run loop calls; tests may script one, the CLI uses `createModelClient`. */
export interface ModelClient {
  complete(request: ModelRequest, options?: ModelCallOptions): Promise<ModelReply>;
}

/** A failed model call. `partial` is the reply text that had arrived when a stream was cut off. */
export class ModelError extends StigmerError {
  readonly partial: string;
  readonly partialToolCalls: ToolCall[];
  constructor(
    message: string,
    options: { hint?: string; cause?: unknown; partial?: string; partialToolCalls?: ToolCall[] } = {},
  ) {
    super('MODEL', message, options);
    this.name = 'ModelError';
    this.partial = options.partial ?? '';
    this.partialToolCalls = options.partialToolCalls ?? [];
  }
}

export interface ModelClientOptions extends ModelEndpoint {
  /** Retries of 429 and 5xx answers (and dropped connections) before a call fails. Default 3. */
  maxRetries?: number;
  /** Per-request timeout in ms. Default 10 minutes. */
  timeoutMs?: number;
}

const OLLAMA_HINT =
  'is the endpoint running? For a local Ollama: `ollama serve`; for another OpenAI-compatible endpoint set STIGMER_MODEL_URL (and STIGMER_MODEL_API_KEY)';

export function createModelClient(options: ModelClientOptions): ModelClient {
  const client = new OpenAI({
    baseURL: options.baseURL,
    // The package refuses to start without a key; local endpoints (Ollama) ignore it.
    apiKey: options.apiKey ?? 'stigmer-no-key',
    maxRetries: options.maxRetries ?? 3,
    timeout: options.timeoutMs ?? 600_000,
    logLevel: 'off',
  });
  const where = options.baseURL;

  async function once(request: ModelRequest, opts: ModelCallOptions, json: boolean): Promise<ModelReply> {
    let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
    try {
      stream = await client.chat.completions.create(
        {
          model: request.model,
          messages: request.messages as OpenAI.Chat.Completions.ChatCompletionMessageParam[],
          ...(request.tools.length > 0 ? { tools: request.tools } : {}),
          ...request.params,
          ...(json ? { response_format: { type: 'json_object' as const } } : {}),
          stream: true,
          stream_options: { include_usage: true },
        },
        opts.signal ? { signal: perRequest(opts.signal) } : {},
      );
    } catch (err) {
      throw translate(err, request.model, where, opts.signal);
    }
    let content = '';
    let finishReason = '';
    const calls: ToolCall[] = [];
    let usage: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    try {
      for await (const chunk of stream) {
        if (chunk.usage) {
          usage = {
            promptTokens: chunk.usage.prompt_tokens ?? 0,
            completionTokens: chunk.usage.completion_tokens ?? 0,
            totalTokens: chunk.usage.total_tokens ?? 0,
          };
        }
        const choice = chunk.choices?.[0];
        if (!choice) continue;
        const text = choice.delta?.content;
        if (text) {
          content += text;
          opts.onDelta?.(text);
        }
        for (const delta of choice.delta?.tool_calls ?? []) foldToolCall(calls, delta);
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? err;
      throw new ModelError(`the model's reply stream was cut off: ${messageOf(err)}`, {
        cause: err,
        partial: content,
        partialToolCalls: calls,
        hint: 'what arrived is kept in the transcript (`stigmer execution logs ID`); run it again',
      });
    }
    if (!finishReason) {
      throw new ModelError(
        `the model's reply stream was cut off after ${content.length} characters (it ended without a finish reason)`,
        {
          partial: content,
          partialToolCalls: calls,
          hint: 'what arrived is kept in the transcript (`stigmer execution logs ID`); run it again',
        },
      );
    }
    if (usage.totalTokens === 0 && usage.promptTokens + usage.completionTokens > 0) {
      usage = { ...usage, totalTokens: usage.promptTokens + usage.completionTokens };
    }
    return { content, toolCalls: calls.filter(Boolean), usage, finishReason };
  }

  return {
    async complete(request, opts = {}) {
      try {
        return await once(request, opts, request.json === true);
      } catch (err) {
        // JSON mode "where the endpoint supports it": one that rejects the parameter is asked again without.
        if (request.json && err instanceof ModelError && err.cause instanceof OpenAI.BadRequestError) {
          if (/response_format|json/i.test(err.cause.message)) return once(request, opts, false);
        }
        throw err;
      }
    },
  };
}

type ToolCallDelta = OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall;

/** Tool calls arrive in pieces keyed by index: the id and name once, the arguments in fragments. */
function foldToolCall(calls: ToolCall[], delta: ToolCallDelta): void {
  const index = delta.index ?? calls.length;
  let call = calls[index];
  if (!call) {
    call = { id: '', type: 'function', function: { name: '', arguments: '' } };
    calls[index] = call;
  }
  if (delta.id) call.id = delta.id;
  if (delta.function?.name) call.function.name += delta.function.name;
  if (delta.function?.arguments) call.function.arguments += delta.function.arguments;
  if (!call.id) call.id = `call_${index}`;
}

function translate(err: unknown, model: string, where: string, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  const detail = (e: unknown) => {
    const m = messageOf(e)
      .replace(/^\d{3}\s+/, '')
      .trim();
    return m ? `: ${m.length > 300 ? `${m.slice(0, 300)}…` : m}` : '';
  };
  if (err instanceof OpenAI.APIConnectionTimeoutError) {
    return new ModelError(`the model endpoint at ${where} did not answer in time`, {
      cause: err,
      hint: OLLAMA_HINT,
    });
  }
  if (err instanceof OpenAI.APIConnectionError) {
    return new ModelError(`cannot reach the model endpoint at ${where}`, { cause: err, hint: OLLAMA_HINT });
  }
  if (err instanceof OpenAI.AuthenticationError || err instanceof OpenAI.PermissionDeniedError) {
    return new ModelError(`the model endpoint at ${where} refused the API key (${err.status})`, {
      cause: err,
      hint: 'set STIGMER_MODEL_API_KEY to a valid key for this endpoint',
    });
  }
  if (err instanceof OpenAI.NotFoundError) {
    return new ModelError(`model "${model}" not found at ${where}${detail(err)}`, {
      cause: err,
      hint: 'choose another with --model (or config.model); for Ollama, `ollama pull MODEL` first',
    });
  }
  if (err instanceof OpenAI.RateLimitError) {
    return new ModelError(
      `the model endpoint at ${where} is rate limiting (429), still after retries${detail(err)}`,
      {
        cause: err,
        hint: 'wait and run it again',
      },
    );
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    return new ModelError(`the model endpoint at ${where} answered ${err.status}${detail(err)}`, {
      cause: err,
    });
  }
  return new ModelError(`the model call failed: ${messageOf(err)}`, { cause: err });
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
