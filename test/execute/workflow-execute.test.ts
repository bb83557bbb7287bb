/**
 * `stigmer workflow execute`, `workflow graph` and `execution get|logs` of a workflow run, as a
 * user runs them (issue 14): the real CLI process over the default stack, the fake model
 * endpoint answering each task with its declared outputs, the MCP fixture as `github`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runStigmer, tempDir } from '../helpers/cli.js';
import { type ChatRequestBody, type FakeModelServer, startFakeModel } from '../helpers/fake-model.js';
import { MCP_SERVER_SCRIPT } from '../helpers/mcp-fixture.js';

const tmp = tempDir('stigmer-wf-cli-');
const home = join(tmp.path, 'home');
let fake: FakeModelServer;

const ANSWERS: Record<string, Record<string, string>> = {
  'fetch-pr-details': { pr_title: 'Fix login', pr_description: '', changed_files: 'a.ts', diff: '+x' },
  'analyze-code-quality': { issues: 'none', suggestions: 'none', severity: 'none' },
  'check-tests': { has_tests: 'yes', test_coverage: 'good' },
  'generate-review': { review_comment: 'Looks good', approval_status: 'approve' },
};
const taskOf = (body: ChatRequestBody) =>
  /^Task "([^"]+)"/.exec(body.messages.find((m) => m.role === 'user')?.content ?? '')?.[1] ?? '?';
const env = () => ({
  STIGMER_HOME: home,
  STIGMER_DB: join(tmp.path, 'state.db'),
  STIGMER_MODEL_URL: fake.url,
});

beforeAll(async () => {
  fake = await startFakeModel((body) => ({ text: JSON.stringify(ANSWERS[taskOf(body)] ?? {}) }));
  mkdirSync(home, { recursive: true });
  const fixture = { stdio: { command: process.execPath, args: [MCP_SERVER_SCRIPT] } };
  writeFileSync(
    join(home, 'config.yaml'),
    stringify({ mcpServers: { github: fixture, filesystem: fixture } }),
  );
  const applied = await runStigmer(['apply', '--auto-approve'], { env: env() });
  expect(applied.code, applied.stderr).toBe(0);
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});

describe('stigmer workflow execute', () => {
  it('runs pr-review-workflow to COMPLETED; get shows the task table, logs each transcript, graph the phases', async () => {
    const r = await runStigmer(
      [
        'workflow',
        'execute',
        'pr-review-workflow',
        '--input',
        'pr_url=https://github.com/acme/shop/pull/42',
        '--json',
      ],
      { env: env() },
    );
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const id = events[0].executionId as string;
    expect(events[0]).toMatchObject({
      type: 'started',
      kind: 'WorkflowExecution',
      target: 'pr-review-workflow',
    });
    expect(events.filter((e) => e.type === 'task_started').map((e) => e.task)).toHaveLength(5);
    expect(events.find((e) => e.type === 'task_completed' && e.task === 'generate-review').outputs).toEqual(
      ANSWERS['generate-review'],
    );
    expect(events.at(-1)).toMatchObject({ type: 'completed', executionId: id });
    expect(events.every((e) => e.executionId === id)).toBe(true);

    const get = await runStigmer(['execution', 'get', id], { env: env() });
    expect(get.stdout).toMatch(/Phase:\s+COMPLETED/);
    expect(get.stdout).toMatch(/TASK\s+AGENT\s+PHASE/);
    expect(get.stdout).toMatch(/generate-review\s+review-synthesizer\s+COMPLETED/);
    const logs = await runStigmer(['execution', 'logs', id], { env: env() });
    expect(logs.stdout.match(/^# task /gm)).toHaveLength(5);
    expect(logs.stdout).toContain('# task post-review (agent github-commenter)');
    const graph = await runStigmer(['workflow', 'graph', 'pr-review-workflow', '--execution', id], {
      env: env(),
    });
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stdout).toMatch(/^flowchart TD\n/);
    expect(graph.stdout).toContain('t_fetch_pr_details -->|"changed_files, diff"| t_analyze_code_quality');
    expect(graph.stdout).toContain(
      'class t_fetch_pr_details,t_analyze_code_quality,t_check_tests,t_generate_review,t_post_review completed',
    );
  }, 180_000);

  it('refuses a missing required input: exit 1, names it, no model call', async () => {
    fake.handle((body) => ({ text: JSON.stringify(ANSWERS[taskOf(body)] ?? {}) }));
    const r = await runStigmer(['workflow', 'execute', 'pr-review-workflow'], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: workflow "pr-review-workflow": missing required input "pr_url"/);
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(fake.requests).toHaveLength(0);
    const dot = await runStigmer(['workflow', 'graph', 'pr-review-workflow', '--format', 'dot'], {
      env: env(),
    });
    expect(dot.stdout).toContain(
      '"generate-review" -> "post-review" [label="review_comment, approval_status"];',
    );
  }, 180_000);
  it('runs a WorkflowInstance (--instance) with inputs from --input-file; --input wins over the file', async () => {
    fake.handle((body) => ({ text: JSON.stringify(ANSWERS[taskOf(body)] ?? {}) }));
    const dir = join(tmp.path, 'instances');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'stigmer.yaml'), 'project: wf-instances\n');
    writeFileSync(
      join(dir, 'live.yaml'),
      stringify({
        apiVersion: 'agentic.stigmer.ai/v1',
        kind: 'WorkflowInstance',
        metadata: { name: 'pr-review-live' },
        spec: { workflow: 'pr-review-workflow', environmentRefs: ['github-env'] },
      }),
    );
    const applied = await runStigmer(['apply', dir, '--auto-approve'], { env: env() });
    expect(applied.code, applied.stderr).toBe(0);
    const inputs = join(tmp.path, 'inputs.yaml');
    writeFileSync(inputs, 'pr_url: https://github.com/acme/shop/pull/7\n');

    const r = await runStigmer(
      ['workflow', 'execute', '--instance', 'pr-review-live', '--input-file', inputs, '--json'],
      { env: env() },
    );
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.at(-1)).toMatchObject({ type: 'completed' });
    const fetch = fake.requests.find((q) => taskOf(q) === 'fetch-pr-details')!;
    expect(JSON.stringify(fetch.messages)).toContain('https://github.com/acme/shop/pull/7');
    const record = await runStigmer(['execution', 'get', events[0].executionId, '-o', 'json'], {
      env: env(),
    });
    expect(JSON.parse(record.stdout)).toMatchObject({
      phase: 'COMPLETED',
      environmentRefs: ['github-env'],
    });

    fake.requests.length = 0;
    const both = await runStigmer(
      [
        'workflow',
        'execute',
        '--instance',
        'pr-review-live',
        '--input-file',
        inputs,
        '--input',
        'pr_url=https://github.com/acme/shop/pull/8',
      ],
      { env: env() },
    );
    expect(both.code, both.stderr).toBe(0);
    const again = fake.requests.find((q) => taskOf(q) === 'fetch-pr-details')!;
    expect(JSON.stringify(again.messages)).toContain('https://github.com/acme/shop/pull/8');
    expect(JSON.stringify(again.messages)).not.toContain('https://github.com/acme/shop/pull/7');

    // A file that is not a mapping: one clear error, no model call.
    fake.requests.length = 0;
    writeFileSync(inputs, '- just\n- a list\n');
    const bad = await runStigmer(['workflow', 'execute', 'pr-review-workflow', '--input-file', inputs], {
      env: env(),
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('inputs.yaml');
    expect(bad.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(fake.requests).toHaveLength(0);
  }, 180_000);
});
