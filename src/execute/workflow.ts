/**
 * Workflow execution (DESIGN.md §6c, issue 14): the task graph of a Workflow runs as one
 * WorkflowExecution record with one record per task. A task starts when every task it depends
 * on has COMPLETED; independent tasks run concurrently (bounded); each runs its agent through
 * the agent-execution core (tools included) with its inputs rendered from
 * `${workflow.inputs.X}` and `${tasks.T.outputs[.Y]}`, and must answer with a JSON object of
 * exactly its declared outputs (JSON mode; one repair request, then the task fails). A failed
 * task fails the workflow: nothing new starts, running tasks finish, what never ran is recorded
 * CANCELLED. `--resume ID` re-runs only what did not complete, reusing recorded outputs.
 */
import { createHash } from 'node:crypto';
import type { Execution, TaskExecution, TokenUsage } from '../backend/types.js';
import { NotFoundError, StigmerError } from '../errors.js';
import { parseExpression, scanExpressions } from '../manifest/workflow.js';
import type { JsonObject, JsonValue, StoredResource } from '../types.js';
import {
  type AgentTurnResult,
  checkEnvironments,
  type ExecutionEnv,
  type PreparedAgent,
  prepareAgent,
  runAgentTurn,
} from './agent.js';
import { EMPTY_CONTEXT, type RunContext, resolveRunContext } from './context.js';
import type { EventSink } from './events.js';
import type { WorkflowTaskSpec } from './graph.js';
import { addUsage, type ChatMessage, NO_USAGE } from './loop.js';
import { createMasker, type Masker } from './mask.js';
import { ExecutionRecorder } from './recorder.js';
import { RunCancelled } from './run.js';
import { buildTranscript } from './transcript.js';
import { checkWorkflowInputs, type WorkflowInputSpec } from './workflow-inputs.js';

export const DEFAULT_CONCURRENCY = 4;

export interface ExecuteWorkflowOptions {
  workflow?: string;
  /** A WorkflowInstance: its workflow, with its environmentRefs (before `environments`). */
  instance?: string;
  /** `--input k=v`, as strings. */
  inputs?: Record<string, string>;
  /** `--input-file`, already parsed. */
  inputFile?: JsonObject;
  environments?: string[];
  /** How many tasks may run at once (default 4). */
  concurrency?: number;
  /** Resume this execution: its recorded inputs, the outputs of its completed tasks. */
  resume?: string;
  signal?: AbortSignal;
  emit?: EventSink;
}

export interface WorkflowRunResult {
  execution: Execution;
  /** Each completed task's outputs. */
  outputs: Record<string, JsonObject>;
  exitCode: 0 | 1 | 130;
  error?: StigmerError;
}

interface WorkflowSpecShape {
  inputs?: Record<string, WorkflowInputSpec>;
  tasks: WorkflowTaskSpec[];
}

/** Identifies a task graph: tasks, agents, inputs, outputs, dependencies. `--resume` refuses another. */
export function graphHash(tasks: readonly WorkflowTaskSpec[]): string {
  const canonical = tasks.map((t) => ({
    name: t.name,
    agent: t.agent,
    inputs: Object.fromEntries(
      Object.entries(t.inputs ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    ),
    outputs: t.outputs ?? [],
    dependsOn: [...(t.dependsOn ?? [])].sort(),
  }));
  return createHash('sha256').update(JSON.stringify(canonical)).digest('hex');
}

/** A task's inputs with every expression replaced by its value (strings as they are, the rest as JSON). */
export function renderTaskInputs(
  task: WorkflowTaskSpec,
  inputs: JsonObject,
  outputs: Record<string, JsonObject>,
): Record<string, string> {
  const text = (v: JsonValue | undefined) =>
    v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  const out: Record<string, string> = {};
  for (const [key, template] of Object.entries(task.inputs ?? {})) {
    const { expressions } = scanExpressions(template);
    let rendered = '';
    let from = 0;
    for (const expr of expressions) {
      const end = template.indexOf('}', expr.index) + 1;
      rendered += template.slice(from, expr.index);
      const parsed = parseExpression(expr.body);
      if (parsed.type === 'input') rendered += text(inputs[parsed.input]);
      else if (parsed.type === 'output') {
        const of = outputs[parsed.task] ?? {};
        rendered += parsed.output === null ? JSON.stringify(of) : text(of[parsed.output]);
      } else rendered += template.slice(expr.index, end);
      from = end;
    }
    out[key] = rendered + template.slice(from);
  }
  return out;
}

/** The user message of a task: which task it is, and its rendered inputs. */
export function taskMessage(
  workflow: string,
  task: WorkflowTaskSpec,
  inputs: Record<string, string>,
): string {
  const lines = [`Task "${task.name}" of workflow "${workflow}".`];
  const entries = Object.entries(inputs);
  if (entries.length > 0) {
    lines.push('', 'Inputs:');
    for (const [key, value] of entries) {
      lines.push(value.includes('\n') ? `${key}:\n${value.replace(/^/gm, '  ')}` : `${key}: ${value}`);
    }
  }
  return lines.join('\n');
}

/** The output contract added to the system prompt of a task that declares outputs. */
export function outputContract(task: WorkflowTaskSpec): string | undefined {
  const outputs = task.outputs ?? [];
  if (outputs.length === 0) return undefined;
  return [
    `You are running task "${task.name}" of a workflow. When you are done, answer with one JSON object and nothing else,`,
    `with exactly these keys: ${outputs.map((o) => `"${o}"`).join(', ')}. Each value is a string unless the task asks for something else.`,
  ].join('\n');
}

export type TaskAnswer = { ok: true; outputs: JsonObject } | { ok: false; problem: string };

/** Reads a task's answer: one JSON object (fences and surrounding prose tolerated) with every declared key. */
export function parseTaskAnswer(text: string, declared: readonly string[]): TaskAnswer {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end < start) return { ok: false, problem: 'the answer is not a JSON object' };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.slice(start, end + 1));
  } catch (err) {
    return {
      ok: false,
      problem: `the answer is not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, problem: 'the answer is not a JSON object' };
  }
  const answer = parsed as JsonObject;
  const missing = declared.filter((k) => !Object.hasOwn(answer, k));
  if (missing.length > 0) {
    return {
      ok: false,
      problem: `the answer has no ${missing.map((k) => `"${k}"`).join(', ')} (declared outputs: ${declared.join(', ')})`,
    };
  }
  return { ok: true, outputs: Object.fromEntries(declared.map((k) => [k, answer[k]!])) };
}

function repairMessage(problem: string, declared: readonly string[]): string {
  return `Your answer could not be used: ${problem}. Answer again with only one JSON object with exactly these keys: ${declared.map((k) => `"${k}"`).join(', ')}.`;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

/**
 * `stigmer workflow execute`: refusals before the run (unknown workflow, agents, environments,
 * inputs that are missing or mistyped, a resume of a changed graph) throw and record nothing;
 * after that every outcome is recorded and returned.
 */
export async function executeWorkflow(
  env: ExecutionEnv,
  options: ExecuteWorkflowOptions,
): Promise<WorkflowRunResult> {
  const { backend } = env;
  const emit = options.emit ?? (() => undefined);
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new StigmerError('USAGE', `--concurrency must be a whole number ≥ 1, got ${concurrency}`);
  }

  let previous: Execution | undefined;
  let workflowName = options.workflow;
  let refs: string[] = [];
  if (options.resume !== undefined) {
    previous = await backend.getExecution(options.resume);
    if (previous.kind !== 'WorkflowExecution') {
      throw new StigmerError('USAGE', `${options.resume} is not a workflow execution`);
    }
    if (!TERMINAL.has(previous.phase)) {
      throw new StigmerError('CONFLICT', `execution ${previous.id} is still ${previous.phase}`, {
        hint: `cancel it first: stigmer execution cancel ${previous.id}`,
      });
    }
    if (previous.phase === 'COMPLETED') {
      throw new StigmerError('USAGE', `execution ${previous.id} is COMPLETED: there is nothing to resume`);
    }
    if (workflowName !== undefined && workflowName !== previous.target) {
      throw new StigmerError(
        'USAGE',
        `execution ${previous.id} ran workflow "${previous.target}", not "${workflowName}"`,
      );
    }
    if (Object.keys(options.inputs ?? {}).length > 0 || options.inputFile !== undefined) {
      throw new StigmerError(
        'USAGE',
        '--resume runs with the recorded inputs; drop --input and --input-file',
      );
    }
    workflowName = previous.target;
    refs = previous.environmentRefs;
  } else if (options.instance !== undefined) {
    const instance = await backend.getResource('WorkflowInstance', options.instance);
    if (!instance) throw new NotFoundError('WorkflowInstance', options.instance);
    workflowName = String(instance.spec.workflow);
    refs = Array.isArray(instance.spec.environmentRefs) ? (instance.spec.environmentRefs as string[]) : [];
  }
  if (!workflowName)
    throw new StigmerError('USAGE', 'name the workflow to run, --instance NAME, or --resume ID');
  const stored = await backend.getResource('Workflow', workflowName);
  if (!stored) {
    throw new NotFoundError('Workflow', workflowName, {
      hint: 'list workflows with `stigmer workflow list`; apply the manifests first',
    });
  }
  const spec = stored.spec as unknown as WorkflowSpecShape;
  const tasks = spec.tasks;
  const hash = graphHash(tasks);
  if (previous && previous.output.graphHash !== hash) {
    throw new StigmerError(
      'CONFLICT',
      `the task graph of workflow "${workflowName}" changed since execution ${previous.id}`,
      {
        hint: 'resume only runs the same graph; start a new execution with `stigmer workflow execute`',
      },
    );
  }
  const inputs = previous
    ? previous.input
    : checkWorkflowInputs(workflowName, spec.inputs ?? {}, options.inputs ?? {}, options.inputFile);
  const environmentRefs =
    previous && (options.environments ?? []).length > 0
      ? [...(options.environments ?? [])]
      : [...refs, ...(options.environments ?? [])];
  await checkEnvironments(backend, environmentRefs);
  const agents = new Map<string, PreparedAgent>();
  for (const task of tasks) {
    if (agents.has(task.agent)) continue;
    const agent: StoredResource | null = await backend.getResource('Agent', task.agent);
    if (!agent) {
      throw new NotFoundError('Agent', task.agent, {
        hint: `task "${task.name}" of workflow "${workflowName}" runs it; apply it first`,
      });
    }
    agents.set(task.agent, await prepareAgent(env, agent));
  }

  // Task records: a resumed run keeps its completed tasks as they were.
  const reused = new Map(
    (previous?.tasks ?? []).filter((t) => t.phase === 'COMPLETED').map((t) => [t.name, t]),
  );
  const records = new Map<string, TaskExecution>(
    tasks.map((t) => [
      t.name,
      reused.get(t.name) ?? {
        name: t.name,
        agent: t.agent,
        phase: 'PENDING',
        inputs: {},
        outputs: {},
        error: null,
        startedAt: null,
        finishedAt: null,
        usage: NO_USAGE,
        transcriptArtifactId: null,
      },
    ]),
  );
  const snapshot = () => tasks.map((t) => ({ ...records.get(t.name)! }));

  const created = await backend.createExecution({
    kind: 'WorkflowExecution',
    target: workflowName,
    input: inputs,
    environmentRefs,
    ...(previous ? { resumedFrom: previous.id } : {}),
  });
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const recorder = new ExecutionRecorder(backend, created.id, env.heartbeatMs, controller);
  let chain: Promise<void> = Promise.resolve();
  const persist = () => {
    const tasksNow = snapshot();
    chain = chain.then(() => recorder.progress({ tasks: tasksNow })).catch(() => undefined);
    return chain;
  };

  let failedTask: { name: string; error: string } | undefined;
  let setupError: unknown;
  let mask: Masker = (t) => t;
  try {
    await recorder.start({ tasks: snapshot(), output: { graphHash: hash } });
    emit({
      type: 'started',
      executionId: created.id,
      kind: 'WorkflowExecution',
      target: workflowName,
      sessionId: null,
    });
    for (const t of tasks) {
      const r = reused.get(t.name);
      if (r) emit({ type: 'task_completed', executionId: created.id, task: t.name, outputs: r.outputs });
    }
    const context: RunContext =
      environmentRefs.length > 0
        ? await resolveRunContext(backend, created.id, env.secretKey)
        : EMPTY_CONTEXT;
    mask = createMasker(context.secrets);
    const outputsOf = () =>
      Object.fromEntries(
        [...records.values()].filter((r) => r.phase === 'COMPLETED').map((r) => [r.name, r.outputs]),
      );

    const runTask = async (task: WorkflowTaskSpec): Promise<void> => {
      const record = records.get(task.name)!;
      const rendered = renderTaskInputs(task, inputs, outputsOf());
      Object.assign(record, { phase: 'RUNNING', inputs: rendered, startedAt: new Date().toISOString() });
      await persist();
      emit({
        type: 'task_started',
        executionId: created.id,
        task: task.name,
        agent: task.agent,
        inputs: rendered,
      });
      const agent = agents.get(task.agent)!;
      const declared = task.outputs ?? [];
      const contract = outputContract(task);
      const ctx = {
        env,
        context,
        mask,
        signal: controller.signal,
        emit,
        executionId: created.id,
        task: task.name,
        checkpoint: () => recorder.checkpoint(),
      };
      const turns: AgentTurnResult[] = [];
      let phase: TaskExecution['phase'] = 'FAILED';
      let error: string | null = null;
      let outputs: JsonObject = {};
      try {
        const base = { ...(contract ? { systemSuffix: contract, json: true } : {}) };
        turns.push(
          await runAgentTurn(agent, { message: taskMessage(workflowName!, task, rendered), ...base }, ctx),
        );
        let last = turns.at(-1)!;
        if (last.outcome.type === 'done' && declared.length > 0) {
          let answer = parseTaskAnswer(last.outcome.output, declared);
          if (!answer.ok) {
            const history = last.state.messages.slice(1) as ChatMessage[];
            turns.push(
              await runAgentTurn(
                agent,
                { message: repairMessage(answer.problem, declared), history, ...base },
                ctx,
              ),
            );
            last = turns.at(-1)!;
            if (last.outcome.type === 'done') {
              answer = parseTaskAnswer(last.outcome.output, declared);
              if (!answer.ok) error = `${answer.problem}, also after a repair request`;
            }
          }
          if (answer.ok) outputs = answer.outputs;
        }
        if (last.outcome.type === 'done' && error === null) phase = 'COMPLETED';
        else if (last.outcome.type === 'failed') error = last.outcome.error;
        else if (last.outcome.type === 'cancelled') {
          phase = 'CANCELLED';
          error = last.outcome.reason.message;
        }
      } catch (err) {
        if (controller.signal.aborted) {
          phase = 'CANCELLED';
          error = reasonOf(controller.signal).message;
        } else error = mask(err instanceof Error ? err.message : String(err));
      }
      const last = turns.at(-1);
      const transcriptId = last
        ? await recorder.storeTranscript(
            buildTranscript({
              executionId: created.id,
              kind: 'WorkflowExecution',
              target: workflowName!,
              task: task.name,
              agent: task.agent,
              model: agent.model,
              messages: last.state.messages,
              subRuns: turns.flatMap((t) => t.subRuns),
              outcome:
                phase === 'COMPLETED'
                  ? { type: 'done', output: '' }
                  : phase === 'CANCELLED'
                    ? { type: 'cancelled', reason: reasonOf(controller.signal) }
                    : { type: 'failed', error: error ?? 'failed' },
            }),
            `transcript-${task.name}.json`,
          )
        : undefined;
      Object.assign(record, {
        phase,
        outputs,
        error,
        finishedAt: new Date().toISOString(),
        usage: turns.reduce<TokenUsage>((u, t) => addUsage(u, t.usage), NO_USAGE),
        transcriptArtifactId: transcriptId ?? null,
      });
      if (phase === 'COMPLETED')
        emit({ type: 'task_completed', executionId: created.id, task: task.name, outputs });
      else {
        if (phase === 'FAILED') failedTask ??= { name: task.name, error: error ?? 'failed' };
        emit({ type: 'task_failed', executionId: created.id, task: task.name, error: error ?? '', phase });
      }
      await persist();
    };

    // The scheduler: start every ready task (bounded); after a failure or a cancel, start nothing new.
    const running = new Map<string, Promise<void>>();
    for (;;) {
      if (!failedTask && !controller.signal.aborted) {
        for (const task of tasks) {
          if (running.size >= concurrency) break;
          const record = records.get(task.name)!;
          if (record.phase !== 'PENDING' || running.has(task.name)) continue;
          if (!(task.dependsOn ?? []).every((d) => records.get(d)?.phase === 'COMPLETED')) continue;
          running.set(
            task.name,
            runTask(task).finally(() => running.delete(task.name)),
          );
        }
      }
      if (running.size === 0) break;
      await Promise.race(running.values());
    }
  } catch (err) {
    setupError = err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  await chain;

  // What never ran is CANCELLED, saying why.
  const why = controller.signal.aborted
    ? reasonOf(controller.signal).message
    : failedTask
      ? `not run: task "${failedTask.name}" failed`
      : setupError
        ? 'not run: the workflow failed'
        : 'not run';
  for (const record of records.values()) {
    if (record.phase === 'PENDING' || record.phase === 'RUNNING') {
      Object.assign(record, {
        phase: 'CANCELLED',
        error: why,
        finishedAt: record.startedAt ? new Date().toISOString() : null,
      });
      emit({
        type: 'task_failed',
        executionId: created.id,
        task: record.name,
        error: why,
        phase: 'CANCELLED',
      });
    }
  }
  const finalTasks = snapshot();
  const usage = finalTasks
    .filter((t) => !reused.has(t.name))
    .reduce<TokenUsage>((u, t) => addUsage(u, t.usage), NO_USAGE);
  const outputs = Object.fromEntries(
    finalTasks.filter((t) => t.phase === 'COMPLETED').map((t) => [t.name, t.outputs]),
  );
  let execution: Execution;
  let error: string | undefined;
  let hint: string | undefined;
  if (controller.signal.aborted) {
    execution = await recorder.finish({ phase: 'CANCELLED', error: why, tasks: finalTasks, usage });
  } else if (failedTask || setupError) {
    error = failedTask
      ? `task "${failedTask.name}" failed: ${failedTask.error}`
      : mask(setupError instanceof Error ? setupError.message : String(setupError));
    hint = `see \`stigmer execution get ${created.id}\`; after fixing it, \`stigmer workflow execute --resume ${created.id}\` runs only what did not complete`;
    execution = await recorder.finish({
      phase: 'FAILED',
      error,
      tasks: finalTasks,
      usage,
      output: { graphHash: hash, tasks: outputs },
    });
  } else {
    execution = await recorder.finish({
      phase: 'COMPLETED',
      tasks: finalTasks,
      usage,
      output: { graphHash: hash, tasks: outputs },
    });
  }
  if (execution.phase === 'COMPLETED') {
    emit({ type: 'completed', executionId: created.id, output: outputs, usage: execution.usage });
    return { execution, outputs, exitCode: 0 };
  }
  if (execution.phase === 'CANCELLED') {
    emit({ type: 'cancelled', executionId: created.id, reason: execution.error ?? 'cancelled' });
    const interrupted = controller.signal.aborted && reasonOf(controller.signal).interrupted;
    return { execution, outputs, exitCode: interrupted ? 130 : 1 };
  }
  emit({ type: 'failed', executionId: created.id, error: execution.error ?? error ?? 'failed' });
  return {
    execution,
    outputs,
    exitCode: 1,
    error: new StigmerError('ABORTED', execution.error ?? error ?? 'failed', hint ? { hint } : {}),
  };
}

function reasonOf(signal: AbortSignal): RunCancelled {
  return signal.reason instanceof RunCancelled ? signal.reason : new RunCancelled('cancelled', false);
}
