/**
 * Agent execution (DESIGN.md §6c), the core of `stigmer agent execute` and of every workflow
 * task. Three layers:
 *
 *   prepareAgent   an Agent resource → everything a turn needs, checked before anything runs
 *                  (model, typed config, prompt with skills, MCP servers, sub-agents)
 *   runAgentTurn   one turn of a prepared agent: opens its MCP scope, runs the loop, always
 *                  closes the scope; no records (workflow tasks record themselves)
 *   executeAgent   the use case: resolve the agent or AgentInstance, record the execution
 *                  (PENDING → RUNNING → COMPLETED | FAILED | CANCELLED, heartbeats, usage,
 *                  transcript artifact, session messages), emit events
 */
import { readConfigFile } from '../backend/config.js';
import type { Backend, Execution, TokenUsage } from '../backend/types.js';
import { NotFoundError, StigmerError } from '../errors.js';
import { loadSecretKey, type SecretKey } from '../secrets/key.js';
import type { JsonObject, StoredResource } from '../types.js';
import { EMPTY_CONTEXT, type RunContext, resolveRunContext } from './context.js';
import type { EventSink } from './events.js';
import { type ChatMessage, startTurn, type ToolCall, type TurnState } from './loop.js';
import { createMasker, type Masker } from './mask.js';
import { type McpServerSpec, openMcpScope, type ToolDefinition, type ToolOutcome } from './mcp.js';
import { createModelClient, type ModelClient } from './model.js';
import { ExecutionRecorder } from './recorder.js';
import { RunCancelled, runTurn, type TurnOutcome } from './run.js';
import {
  type ChatParams,
  chatParams,
  configuredMcpServers,
  type ModelChoice,
  maxToolRounds,
  modelEndpoint,
  resolveModel,
} from './settings.js';
import { buildTranscript, type Transcript, type TranscriptRun } from './transcript.js';

/** What every run of one command shares: the backend, the model client, settings. */
export interface ExecutionEnv {
  backend: Backend;
  model: ModelClient;
  modelChoice: ModelChoice;
  /** The named MCP servers of `$STIGMER_HOME/config.yaml`. */
  mcpServers: Record<string, McpServerSpec>;
  /** How often a running execution heartbeats (ms); its lease is six times this. */
  heartbeatMs: number;
  /** The team's key, loaded only when a run's context holds a sealed secret. */
  secretKey: () => SecretKey;
}

export interface ExecutionEnvOptions {
  backend: Backend;
  /** The process environment: STIGMER_MODEL_URL, STIGMER_MODEL_API_KEY, STIGMER_MODEL, STIGMER_HEARTBEAT_MS. */
  env: Record<string, string | undefined>;
  /** `$STIGMER_HOME`, for `model:` and `mcpServers:` of config.yaml. */
  home: string;
  /** `--model`: overrides every agent's model. */
  model?: string;
  /** A model client to use instead of one for STIGMER_MODEL_URL (tests, embedders). */
  modelClient?: ModelClient;
  /** The key for sealed secrets; default STIGMER_SECRET_KEY or `$STIGMER_HOME/master.key`. */
  secretKey?: () => SecretKey;
}

export const DEFAULT_HEARTBEAT_MS = 5000;

export function createExecutionEnv(options: ExecutionEnvOptions): ExecutionEnv {
  const file = readConfigFile(options.home);
  const fallback = options.env.STIGMER_MODEL || (typeof file.model === 'string' ? file.model : undefined);
  const choice: ModelChoice = {};
  if (options.model) choice.flag = options.model;
  if (fallback) choice.fallback = fallback;
  const rawBeat = options.env.STIGMER_HEARTBEAT_MS;
  const heartbeatMs =
    rawBeat && /^\d+$/.test(rawBeat) && Number(rawBeat) > 0 ? Number(rawBeat) : DEFAULT_HEARTBEAT_MS;
  return {
    backend: options.backend,
    model: options.modelClient ?? createModelClient(modelEndpoint(options.env)),
    modelChoice: choice,
    mcpServers: configuredMcpServers(file.mcpServers, `${options.home}/config.yaml`),
    heartbeatMs,
    secretKey: options.secretKey ?? (() => loadSecretKey({ home: options.home, env: options.env })),
  };
}

/** An agent checked and ready to run. */
export interface PreparedAgent {
  name: string;
  model: string;
  params: ChatParams;
  maxToolRounds: number;
  system: string;
  mcpServers: McpServerSpec[];
  subAgents: Array<{ name: string; description: string }>;
}

/** Sub-agents may call sub-agents, up to this depth. */
const MAX_AGENT_DEPTH = 4;

/**
 * Everything a turn of `agent` needs, checked: the model, the typed config, the prompt with its
 * skills, the MCP servers (string names resolved from config.yaml) and the sub-agents.
 */
export async function prepareAgent(env: ExecutionEnv, agent: StoredResource): Promise<PreparedAgent> {
  const spec = agent.spec as {
    instructions?: string;
    config?: Record<string, string>;
    skillRefs?: string[];
    mcpServers?: Array<string | McpServerSpec>;
    subAgents?: string[];
  };
  const config = spec.config ?? {};
  const model = resolveModel(agent.name, config, env.modelChoice);
  const params = chatParams(agent.name, config);
  const rounds = maxToolRounds(agent.name, config);
  let system = (spec.instructions ?? '').trim();
  for (const skillName of spec.skillRefs ?? []) {
    const skill = await env.backend.getResource('Skill', skillName);
    if (!skill)
      throw new NotFoundError('Skill', skillName, {
        hint: `agent "${agent.name}" refers to it in skillRefs; apply it first`,
      });
    const md = typeof skill.spec.skillMd === 'string' ? skill.spec.skillMd.trim() : '';
    if (md) system += `\n\n## Skill: ${skillName}\n\n${md}`;
  }
  const mcpServers = (spec.mcpServers ?? []).map((entry) => {
    if (typeof entry !== 'string') return entry;
    const found = env.mcpServers[entry];
    if (!found) {
      throw new StigmerError('CONFIG', `agent "${agent.name}": MCP server "${entry}" is not defined`, {
        hint: `define it under mcpServers: in $STIGMER_HOME/config.yaml, e.g. mcpServers: {${entry}: {stdio: {command: ..., args: [...]}}}`,
      });
    }
    return found;
  });
  const subAgents: PreparedAgent['subAgents'] = [];
  for (const sub of spec.subAgents ?? []) {
    const stored = await env.backend.getResource('Agent', sub);
    if (!stored)
      throw new NotFoundError('Agent', sub, {
        hint: `agent "${agent.name}" lists it in subAgents; apply it first`,
      });
    subAgents.push({
      name: sub,
      description: typeof stored.spec.description === 'string' ? stored.spec.description : '',
    });
  }
  return { name: agent.name, model, params, maxToolRounds: rounds, system, mcpServers, subAgents };
}

export interface AgentTurnInput {
  message: string;
  history?: readonly ChatMessage[];
  /** Extra text for the system prompt (a workflow task's output contract). */
  systemSuffix?: string;
  /** Ask for a JSON object (workflow tasks). */
  json?: boolean;
}

export interface AgentTurnContext {
  env: ExecutionEnv;
  context: RunContext;
  mask: Masker;
  signal: AbortSignal;
  emit: EventSink;
  executionId: string;
  /** Set on the events of a workflow task. */
  task?: string;
  checkpoint: () => Promise<void>;
  depth?: number;
}

export interface AgentTurnResult {
  state: TurnState;
  outcome: TurnOutcome;
  usage: TokenUsage;
  /** Transcripts of the sub-agents this turn called. */
  subRuns: TranscriptRun[];
}

/** One turn of a prepared agent: MCP scope opened for the turn and always closed. */
export async function runAgentTurn(
  agent: PreparedAgent,
  input: AgentTurnInput,
  ctx: AgentTurnContext,
): Promise<AgentTurnResult> {
  const start = startTurn({
    system: input.systemSuffix ? `${agent.system}\n\n${input.systemSuffix}` : agent.system,
    history: input.history ?? [],
    message: input.message,
    maxToolRounds: agent.maxToolRounds,
  });
  const subRuns: TranscriptRun[] = [];
  let scope: Awaited<ReturnType<typeof openMcpScope>> | undefined;
  try {
    try {
      scope = await openMcpScope(agent.mcpServers, {
        env: ctx.context.env,
        mask: ctx.mask,
        signal: ctx.signal,
      });
    } catch (err) {
      if (ctx.signal.aborted) {
        const reason =
          ctx.signal.reason instanceof RunCancelled
            ? ctx.signal.reason
            : new RunCancelled('cancelled', false);
        return {
          state: start.state,
          outcome: { type: 'cancelled', reason },
          usage: start.state.usage,
          subRuns,
        };
      }
      throw err;
    }
    const subTools = subAgentTools(agent, scope.tools);
    const tools: ToolDefinition[] = [...scope.tools, ...subTools.map((s) => s.tool)];
    const open = scope;
    const callTool = async (
      call: ToolCall,
      args: Record<string, unknown>,
      signal: AbortSignal,
    ): Promise<ToolOutcome> => {
      const sub = subTools.find((s) => s.tool.function.name === call.function.name);
      if (!sub) return open.call(call.function.name, args, signal);
      return runSubAgent(sub.agent, call, args, ctx, subRuns);
    };
    const tag = ctx.task === undefined ? {} : { task: ctx.task };
    const { state, outcome } = await runTurn(start, {
      model: ctx.env.model,
      request: { model: agent.model, tools, params: agent.params, ...(input.json ? { json: true } : {}) },
      callTool,
      emit: (e) => ctx.emit({ ...e, ...tag, executionId: ctx.executionId }),
      checkpoint: ctx.checkpoint,
      signal: ctx.signal,
    });
    return { state, outcome, usage: state.usage, subRuns };
  } finally {
    await scope?.close();
  }
}

function subAgentTools(agent: PreparedAgent, taken: ToolDefinition[]) {
  const names = new Set(taken.map((t) => t.function.name));
  return agent.subAgents.map((sub) => {
    let name = `agent__${sub.name}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
    for (let i = 2; names.has(name); i++) name = `${name.slice(0, 60)}_${i}`;
    names.add(name);
    const tool: ToolDefinition = {
      type: 'function',
      function: {
        name,
        description: `Ask the agent "${sub.name}"${sub.description ? ` (${sub.description})` : ''}; it answers in text.`,
        parameters: {
          type: 'object',
          properties: { message: { type: 'string', description: 'what to ask the agent' } },
          required: ['message'],
        },
      },
    };
    return { agent: sub.name, tool };
  });
}

async function runSubAgent(
  name: string,
  call: ToolCall,
  args: Record<string, unknown>,
  ctx: AgentTurnContext,
  subRuns: TranscriptRun[],
): Promise<ToolOutcome> {
  const depth = (ctx.depth ?? 0) + 1;
  if (depth > MAX_AGENT_DEPTH)
    return { content: `sub-agents nest at most ${MAX_AGENT_DEPTH} deep`, isError: true };
  if (typeof args.message !== 'string' || args.message === '') {
    return { content: 'pass the question as "message" (a string)', isError: true };
  }
  const stored = await ctx.env.backend.getResource('Agent', name);
  if (!stored) return { content: `agent "${name}" no longer exists`, isError: true };
  let prepared: PreparedAgent;
  try {
    prepared = await prepareAgent(ctx.env, stored);
  } catch (err) {
    return { content: ctx.mask(err instanceof Error ? err.message : String(err)), isError: true };
  }
  // The sub-agent's own deltas and tool events stay out of the parent's stream.
  const result = await runAgentTurn(
    prepared,
    { message: args.message },
    { ...ctx, depth, emit: () => undefined },
  );
  subRuns.push(
    { toolCallId: call.id, agent: name, model: prepared.model, messages: [...result.state.messages] },
    ...result.subRuns,
  );
  if (result.outcome.type === 'done') return { content: result.outcome.output, isError: false };
  if (result.outcome.type === 'cancelled') throw result.outcome.reason;
  return { content: ctx.mask(`agent "${name}" failed: ${result.outcome.error}`), isError: true };
}

export interface ExecuteAgentOptions {
  /** The agent to run; or `instance`. */
  agent?: string;
  /** An AgentInstance: its agent, with its environmentRefs (before `environments`). */
  instance?: string;
  message: string;
  /** Continue this session. */
  sessionId?: string;
  /** `--env`: environments of the execution context, in order (later ones win). */
  environments?: string[];
  /** Ctrl-C: abort with a RunCancelled reason. */
  signal?: AbortSignal;
  emit?: EventSink;
}

export interface AgentRunResult {
  execution: Execution;
  /** The reply (COMPLETED), else what the model had said. */
  output: string;
  /** 0 COMPLETED, 1 FAILED or cancelled from elsewhere, 130 interrupted (Ctrl-C). */
  exitCode: 0 | 1 | 130;
  /** The error of a FAILED run, with its hint when there is one. */
  error?: StigmerError;
}

/** Resolves an agent name or an AgentInstance into the Agent and the environments to use. */
export async function resolveAgentTarget(
  backend: Backend,
  options: { agent?: string; instance?: string; environments?: string[] },
): Promise<{ agent: StoredResource; environmentRefs: string[] }> {
  let agentName = options.agent;
  let refs: string[] = [];
  if (options.instance !== undefined) {
    const instance = await backend.getResource('AgentInstance', options.instance);
    if (!instance) throw new NotFoundError('AgentInstance', options.instance);
    agentName = String(instance.spec.agent);
    refs = Array.isArray(instance.spec.environmentRefs) ? (instance.spec.environmentRefs as string[]) : [];
  }
  if (!agentName) throw new StigmerError('USAGE', 'name the agent to run, or --instance NAME');
  const agent = await backend.getResource('Agent', agentName);
  if (!agent) {
    throw new NotFoundError('Agent', agentName, {
      hint:
        options.instance === undefined
          ? 'list agents with `stigmer agent list`; apply the manifests first'
          : `AgentInstance "${options.instance}" runs it; apply the manifests first`,
    });
  }
  const environmentRefs = [...refs, ...(options.environments ?? [])];
  await checkEnvironments(backend, environmentRefs);
  return { agent, environmentRefs };
}

export async function checkEnvironments(backend: Backend, refs: string[]): Promise<void> {
  for (const name of refs) {
    if (!(await backend.getResource('Environment', name))) {
      throw new NotFoundError('Environment', name, {
        hint: 'list environments with `stigmer get environments`',
      });
    }
  }
}

/**
 * `stigmer agent execute`: one recorded turn. Refusals before the run (unknown agent, no model,
 * a config value that is not a number, an unknown MCP name, a missing environment or session)
 * throw and record nothing; once the execution exists every outcome is recorded and returned.
 */
export async function executeAgent(env: ExecutionEnv, options: ExecuteAgentOptions): Promise<AgentRunResult> {
  const { backend } = env;
  const emit = options.emit ?? (() => undefined);
  const { agent, environmentRefs } = await resolveAgentTarget(backend, options);
  const prepared = await prepareAgent(env, agent);
  const history =
    options.sessionId === undefined ? [] : (await backend.getSession(options.sessionId)).messages;

  const created = await backend.createExecution({
    kind: 'AgentExecution',
    target: agent.name,
    input: { message: options.message },
    environmentRefs,
    ...(options.sessionId !== undefined ? { sessionId: options.sessionId } : {}),
  });
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const recorder = new ExecutionRecorder(backend, created.id, env.heartbeatMs, controller);
  let context: RunContext = EMPTY_CONTEXT;
  let mask: Masker = (t) => t;
  let turn: AgentTurnResult | undefined;
  let failure: unknown;
  try {
    await recorder.start();
    emit({
      type: 'started',
      executionId: created.id,
      kind: 'AgentExecution',
      target: agent.name,
      sessionId: created.sessionId ?? null,
    });
    context = await resolveRunContext(backend, created.id, env.secretKey);
    mask = createMasker(context.secrets);
    turn = await runAgentTurn(
      prepared,
      { message: options.message, history: history as unknown as ChatMessage[] },
      {
        env,
        context,
        mask,
        signal: controller.signal,
        emit,
        executionId: created.id,
        checkpoint: () => recorder.checkpoint(),
      },
    );
  } catch (err) {
    failure = err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    recorder.stop();
  }

  const outcome: TurnOutcome =
    turn?.outcome ??
    (controller.signal.aborted
      ? { type: 'cancelled', reason: reasonOf(controller.signal) }
      : { type: 'failed', error: mask(messageOf(failure)), cause: failure });
  const messages = turn ? [...turn.state.messages] : [];
  const usage = turn?.usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  const transcript: Transcript = buildTranscript({
    executionId: created.id,
    kind: 'AgentExecution',
    target: agent.name,
    model: prepared.model,
    messages,
    subRuns: turn?.subRuns ?? [],
    outcome,
  });
  const artifact = await recorder.storeTranscript(transcript, 'transcript.json');
  const base = { usage, ...(artifact ? { transcriptArtifactId: artifact } : {}) };
  let execution: Execution;
  let output = '';
  if (outcome.type === 'done') {
    output = outcome.output;
    const sessionMessages = turn ? (messages.slice(turn.state.turnStart) as unknown as JsonObject[]) : [];
    execution = await recorder.finish({
      phase: 'COMPLETED',
      output: { reply: output },
      sessionMessages,
      ...base,
    });
  } else if (outcome.type === 'failed') {
    execution = await recorder.finish({ phase: 'FAILED', error: outcome.error, ...base });
  } else {
    execution = await recorder.finish({ phase: 'CANCELLED', error: outcome.reason.message, ...base });
  }
  return finishResult(execution, output, outcome, emit);
}

/** Emits the final event for a recorded execution and maps its phase to an exit code. */
export function finishResult(
  execution: Execution,
  output: string,
  outcome: TurnOutcome,
  emit: EventSink,
): AgentRunResult {
  if (execution.phase === 'COMPLETED') {
    emit({ type: 'completed', executionId: execution.id, output, usage: execution.usage });
    return { execution, output, exitCode: 0 };
  }
  if (execution.phase === 'CANCELLED') {
    const interrupted = outcome.type === 'cancelled' && outcome.reason.interrupted;
    emit({ type: 'cancelled', executionId: execution.id, reason: execution.error ?? 'cancelled' });
    return { execution, output, exitCode: interrupted ? 130 : 1 };
  }
  const error = execution.error ?? 'failed';
  emit({ type: 'failed', executionId: execution.id, error });
  const cause = outcome.type === 'failed' ? outcome.cause : undefined;
  const hint = cause instanceof StigmerError ? cause.hint : undefined;
  return { execution, output, exitCode: 1, error: new StigmerError('ABORTED', error, hint ? { hint } : {}) };
}

function reasonOf(signal: AbortSignal): RunCancelled {
  return signal.reason instanceof RunCancelled ? signal.reason : new RunCancelled('cancelled', false);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
