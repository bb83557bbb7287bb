/**
 * The workflow runner (issue 14) in process, over a real SQLite file, the fake model endpoint
 * and the real MCP fixture: the seed pr-review-workflow runs its five tasks in dependency
 * order with outputs flowing into inputs and its parallel branches overlapping; a task whose
 * answer lacks a declared output gets one repair request, then fails the workflow and cancels
 * its dependents; --resume runs only what is left; a cancel stops the graph.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { applyPlan } from '../../src/apply/apply.js';
import { openLocalBackend } from '../../src/backend/local/index.js';
import type { Backend } from '../../src/backend/types.js';
import { planManifests } from '../../src/core/reconcile.js';
import { StigmerError } from '../../src/errors.js';
import { createExecutionEnv, type ExecutionEnv } from '../../src/execute/agent.js';
import type { ExecutionEvent } from '../../src/execute/events.js';
import { createModelClient } from '../../src/execute/model.js';
import { RunCancelled } from '../../src/execute/run.js';
import { executeWorkflow } from '../../src/execute/workflow.js';
import { repoRoot, tempDir } from '../helpers/cli.js';
import {
  type ChatRequestBody,
  type FakeModelServer,
  type FakeReply,
  lastMessage,
  startFakeModel,
} from '../helpers/fake-model.js';
import { allGone, MCP_SERVER_SCRIPT, readPids } from '../helpers/mcp-fixture.js';

const tmp = tempDir('stigmer-wf-');
const home = join(tmp.path, 'home');
const pidFile = join(tmp.path, 'pids');
let fake: FakeModelServer;
let backend: Backend;
let env: ExecutionEnv;

const OUTPUTS: Record<string, Record<string, string>> = {
  'fetch-pr-details': {
    pr_title: 'Fix login',
    pr_description: 'Fixes #1',
    changed_files: 'src/login.ts',
    diff: '+fixed',
  },
  'analyze-code-quality': { issues: 'none found', suggestions: 'add a test', severity: 'minor' },
  'check-tests': { has_tests: 'no', test_coverage: 'unknown' },
  'generate-review': { review_comment: 'LGTM with a nit', approval_status: 'approve' },
  'post-review': {},
};

/** Which task a request is for: the user message names it. */
function taskOf(body: ChatRequestBody): string {
  const first = body.messages.find((m) => m.role === 'user')?.content ?? '';
  return /^Task "([^"]+)"/.exec(first)?.[1] ?? '?';
}

/** Answers each task with its outputs; fetch-pr-details calls a tool first. */
function seedModel(
  overrides: Partial<Record<string, (body: ChatRequestBody) => FakeReply | Promise<FakeReply>>> = {},
) {
  return (body: ChatRequestBody) => {
    const task = taskOf(body);
    const override = overrides[task];
    if (override) return override(body);
    if (task === 'fetch-pr-details' && !body.messages.some((m) => m.role === 'tool')) {
      return { toolCalls: [{ name: 'github__lookup_order', arguments: '{"orderId":"PR-42"}' }] };
    }
    return { text: JSON.stringify(OUTPUTS[task] ?? {}) };
  };
}

function run(options: Parameters<typeof executeWorkflow>[1] = {}) {
  const events: ExecutionEvent[] = [];
  const result = executeWorkflow(env, { emit: (e) => events.push(e), ...options });
  return { events, result };
}

beforeAll(async () => {
  fake = await startFakeModel(seedModel());
  mkdirSync(home, { recursive: true });
  const fixture = {
    stdio: { command: process.execPath, args: [MCP_SERVER_SCRIPT], env: { MCP_PID_FILE: pidFile } },
  };
  writeFileSync(
    join(home, 'config.yaml'),
    stringify({ mcpServers: { github: fixture, filesystem: fixture } }),
  );
  backend = await openLocalBackend({ path: join(tmp.path, 'state.db') });
  const { plan } = await planManifests(backend, {
    dir: 'manifests',
    cwd: repoRoot,
    secrets: { home, env: {} },
  });
  await applyPlan(backend, plan);
  env = createExecutionEnv({
    backend,
    env: {},
    home,
    modelClient: createModelClient({ baseURL: fake.url, maxRetries: 0 }),
  });
});
afterAll(async () => {
  await backend.close();
  await fake.close();
  tmp.cleanup();
});

describe('workflow execution', () => {
  it('runs the seed workflow in dependency order, outputs flowing into inputs, parallel branches overlapping', async () => {
    writeFileSync(pidFile, '');
    let inFlight = 0;
    let maxInFlight = 0;
    let release = () => {};
    const both = { promise: new Promise<void>((r) => (release = r)), resolve: () => release() };
    const arrived = new Set<string>();
    const parallel = async (body: ChatRequestBody): Promise<FakeReply> => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      arrived.add(taskOf(body));
      if (arrived.size === 2) both.resolve();
      // Each of the two waits for the other: a runner that did not overlap them would stall here.
      await Promise.race([both.promise, new Promise((r) => setTimeout(r, 15_000))]);
      inFlight--;
      return { text: JSON.stringify(OUTPUTS[taskOf(body)]) };
    };
    fake.handle(seedModel({ 'analyze-code-quality': parallel, 'check-tests': parallel }));
    const { events, result } = run({
      workflow: 'pr-review-workflow',
      inputs: { pr_url: 'https://github.com/acme/shop/pull/42' },
    });
    const { execution, exitCode, outputs } = await result;
    expect(exitCode, execution.error ?? '').toBe(0);
    expect(execution.phase).toBe('COMPLETED');
    expect(maxInFlight).toBe(2);

    const order = events.filter((e) => e.type === 'task_started').map((e) => (e as { task: string }).task);
    expect(order[0]).toBe('fetch-pr-details');
    expect(order.slice(1, 3).sort()).toEqual(['analyze-code-quality', 'check-tests']);
    expect(order.slice(3)).toEqual(['generate-review', 'post-review']);
    const done = events.filter((e) => e.type === 'task_completed').map((e) => (e as { task: string }).task);
    expect(done.indexOf('generate-review')).toBeGreaterThan(
      Math.max(done.indexOf('analyze-code-quality'), done.indexOf('check-tests')),
    );
    expect(events.every((e) => e.executionId === execution.id)).toBe(true);
    expect(events.some((e) => e.type === 'tool_call' && e.task === 'fetch-pr-details')).toBe(true);

    const tasks = Object.fromEntries(execution.tasks.map((t) => [t.name, t]));
    expect(tasks['fetch-pr-details']!.inputs).toEqual({ pr_url: 'https://github.com/acme/shop/pull/42' });
    expect(tasks['analyze-code-quality']!.inputs).toEqual({ files: 'src/login.ts', diff: '+fixed' });
    expect(JSON.parse(tasks['generate-review']!.inputs.test_status as string)).toEqual(
      OUTPUTS['check-tests'],
    );
    expect(tasks['post-review']!.inputs).toEqual({
      pr_url: 'https://github.com/acme/shop/pull/42',
      comment: 'LGTM with a nit',
      status: 'approve',
    });
    expect(outputs['fetch-pr-details']).toEqual(OUTPUTS['fetch-pr-details']);
    for (const t of execution.tasks) {
      expect(t).toMatchObject({ phase: 'COMPLETED', error: null });
      expect(t.transcriptArtifactId).toBeTruthy();
      expect(t.usage.totalTokens).toBeGreaterThan(0);
    }
    // The rendered inputs reached the model, JSON mode was asked for, the contract named the keys.
    const review = fake.requests.find((r) => taskOf(r) === 'analyze-code-quality')!;
    expect(lastMessage(review, 'user')).toContain('diff: +fixed');
    expect(review.response_format).toEqual({ type: 'json_object' });
    expect(review.messages[0]!.content).toContain('exactly these keys: "issues", "suggestions", "severity"');
    expect(await allGone(readPids(pidFile))).toBe(true);
  }, 180_000);

  it('refuses a missing or mistyped input before any model call, recording nothing', async () => {
    fake.handle(seedModel());
    const before = (await backend.listExecutions({ kind: 'WorkflowExecution' })).length;
    const err = await run({ workflow: 'pr-review-workflow', inputs: {} }).result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StigmerError);
    expect((err as StigmerError).message).toBe(
      'workflow "pr-review-workflow": missing required input "pr_url" (GitHub pull request URL)',
    );
    expect(fake.requests).toHaveLength(0);
    expect((await backend.listExecutions({ kind: 'WorkflowExecution' })).length).toBe(before);
  }, 180_000);

  it('fails a task whose answer lacks a declared output after one repair request, cancels its dependents, and resumes', async () => {
    fake.handle(seedModel({ 'generate-review': () => ({ text: '{"review_comment": "LGTM"}' }) }));
    const { events, result } = run({
      workflow: 'pr-review-workflow',
      inputs: { pr_url: 'https://example.test/pr/7' },
    });
    const failed = await result;
    expect(failed.exitCode).toBe(1);
    expect(failed.execution.phase).toBe('FAILED');
    expect(failed.execution.error).toMatch(
      /^task "generate-review" failed: the answer has no "approval_status"/,
    );
    expect(failed.error!.hint).toContain(`--resume ${failed.execution.id}`);
    const tasks = Object.fromEntries(failed.execution.tasks.map((t) => [t.name, t]));
    expect(tasks['generate-review']).toMatchObject({ phase: 'FAILED' });
    expect(tasks['post-review']).toMatchObject({
      phase: 'CANCELLED',
      error: 'not run: task "generate-review" failed',
    });
    expect(events.some((e) => e.type === 'task_started' && e.task === 'post-review')).toBe(false);
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'task_failed', task: 'post-review', phase: 'CANCELLED' }),
    );
    const attempts = fake.requests.filter((r) => taskOf(r) === 'generate-review');
    expect(attempts).toHaveLength(2);
    expect(lastMessage(attempts[1]!, 'user')).toMatch(
      /^Your answer could not be used: the answer has no "approval_status"/,
    );
    expect(fake.requests.some((r) => taskOf(r) === 'post-review')).toBe(false);

    fake.handle(seedModel());
    const resumed = await run({ resume: failed.execution.id }).result;
    expect(resumed.exitCode, resumed.execution.error ?? '').toBe(0);
    expect(resumed.execution).toMatchObject({
      phase: 'COMPLETED',
      resumedFrom: failed.execution.id,
      input: { pr_url: 'https://example.test/pr/7' },
    });
    expect(fake.requests.map(taskOf).sort()).toEqual(['generate-review', 'post-review']);
    expect(resumed.execution.tasks.find((t) => t.name === 'fetch-pr-details')).toEqual(
      tasks['fetch-pr-details'],
    );
    const again = await run({ resume: resumed.execution.id }).result.catch((e: unknown) => e);
    expect((again as StigmerError).message).toMatch(/is COMPLETED: there is nothing to resume/);
  }, 180_000);

  it('stops the graph on cancel, records CANCELLED, and refuses to resume a changed graph', async () => {
    fake.handle(seedModel({ 'fetch-pr-details': () => ({ stall: 'thinking' }) }));
    const controller = new AbortController();
    const { result } = run({
      workflow: 'pr-review-workflow',
      inputs: { pr_url: 'u' },
      signal: controller.signal,
    });
    await fake.waitForRequests(1);
    controller.abort(new RunCancelled('interrupted (Ctrl-C)', true));
    const cancelled = await result;
    expect(cancelled.exitCode).toBe(130);
    expect(cancelled.execution.phase).toBe('CANCELLED');
    expect(cancelled.execution.tasks.map((t) => t.phase)).toEqual(Array(5).fill('CANCELLED'));

    const workflow = (await backend.getResource('Workflow', 'pr-review-workflow'))!;
    const spec = structuredClone(workflow.spec) as { tasks: Array<{ outputs?: string[] }> };
    spec.tasks[0]!.outputs = [...(spec.tasks[0]!.outputs ?? []), 'labels'];
    await backend.applyChanges([
      {
        op: 'update',
        kind: 'Workflow',
        name: workflow.name,
        labels: workflow.labels,
        annotations: workflow.annotations,
        spec: spec as never,
      },
    ]);
    const err = await run({ resume: cancelled.execution.id }).result.catch((e: unknown) => e);
    expect((err as StigmerError).message).toMatch(
      /the task graph of workflow "pr-review-workflow" changed since execution wex_/,
    );
  }, 180_000);
});
