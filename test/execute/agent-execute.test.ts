/**
 * `stigmer agent execute` and `stigmer execution …` as a user runs them (issue 13): the real CLI
 * process, a real SQLite file, the fake OpenAI-compatible endpoint, the real MCP fixture server
 * (stdio, and through a stub `docker`), a secret canary that must appear nowhere but in the MCP
 * server's environment.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openLocalBackend } from '../../src/backend/local/index.js';
import { startStigmer } from '../helpers/background.js';
import { runStigmer, tempDir } from '../helpers/cli.js';
import {
  type ChatRequestBody,
  type FakeModelServer,
  lastMessage,
  startFakeModel,
} from '../helpers/fake-model.js';
import { allGone, DOCKER_STUB_DIR, MCP_SERVER_SCRIPT, readPids } from '../helpers/mcp-fixture.js';

const CANARY = 'canary-5d1f0a9e-secret';
const tmp = tempDir('stigmer-exec-');
const home = join(tmp.path, 'home');
const db = join(tmp.path, 'state.db');
const pidFile = join(tmp.path, 'mcp-pids');
const dockerArgs = join(tmp.path, 'docker-args');
let fake: FakeModelServer;

const doc = (kind: string, name: string, spec: Record<string, unknown>) =>
  stringify({ apiVersion: 'agentic.stigmer.ai/v1', kind, metadata: { name }, spec });
const orders = {
  name: 'orders',
  stdio: { command: process.execPath, args: [MCP_SERVER_SCRIPT], env: { MCP_PID_FILE: pidFile } },
};

function env(extra: Record<string, string> = {}) {
  return {
    STIGMER_HOME: home,
    STIGMER_DB: db,
    STIGMER_MODEL_URL: fake.url,
    PATH: `${DOCKER_STUB_DIR}:${process.env.PATH}`,
    ...extra,
  };
}

/** The model: support-bot looks the order up and checks its token; everyone else just answers. */
function script(body: ChatRequestBody) {
  const system = body.messages[0]?.content ?? '';
  const toolsDone = body.messages.some((m) => m.role === 'tool');
  if (system.includes('support agent') && body.tools?.length && !toolsDone) {
    return {
      toolCalls: [
        { name: 'orders__lookup_order', arguments: '{"orderId":"A-17"}' },
        { name: 'orders__env_check', arguments: '{"name":"SUPPORT_TOKEN"}' },
        { name: 'orders__echo_env', arguments: '{"name":"SUPPORT_TOKEN"}' },
      ],
    };
  }
  if (toolsDone) {
    const results = body.messages.filter((m) => m.role === 'tool').map((m) => m.content);
    return { text: `Your order shipped. (${results.length} tool results)` };
  }
  return { text: `You said: ${lastMessage(body, 'user')}` };
}

beforeAll(async () => {
  fake = await startFakeModel(script);
  const dir = join(tmp.path, 'stack');
  mkdirSync(dir, { recursive: true });
  mkdirSync(home, { recursive: true });
  writeFileSync(join(dir, 'stigmer.yaml'), 'project: exec-test\n');
  writeFileSync(
    join(dir, 'stack.yaml'),
    [
      doc('Skill', 'order-guide', { skillMd: '# Orders\nAlways quote the order id.' }),
      doc('Environment', 'support-env', {
        data: { SUPPORT_TOKEN: { valueFrom: { env: 'CANARY' }, isSecret: true }, REGION: { value: 'eu' } },
      }),
      doc('Agent', 'support-bot', {
        instructions: 'You are a helpful support agent for an online shop.',
        skillRefs: ['order-guide'],
        mcpServers: [orders],
        config: { model: 'fake-small', temperature: '0.2', max_tokens: '256' },
      }),
      doc('Agent', 'plain-bot', {
        instructions: 'You answer briefly and politely.',
        config: { model: 'fake-small' },
      }),
      doc('Agent', 'named-bot', {
        instructions: 'You use the github server by name.',
        mcpServers: ['github'],
      }),
      doc('Agent', 'undefined-tools', {
        instructions: 'You use a server nobody defined.',
        mcpServers: ['nowhere'],
      }),
      doc('Agent', 'broken-tools', {
        instructions: 'Your MCP server does not exist.',
        mcpServers: [{ name: 'ghost', stdio: { command: 'stigmer-no-such-mcp-server' } }],
        config: { model: 'fake-small' },
      }),
      doc('Agent', 'boxed-bot', {
        instructions: 'Your tools run in a container.',
        mcpServers: [
          { name: 'boxed', docker: { image: 'mcp/orders:1', env: { DOCKER_ARGS_FILE: dockerArgs } } },
        ],
        config: { model: 'fake-small' },
      }),
      doc('Agent', 'hot-bot', {
        instructions: 'Your temperature is wrong.',
        config: { model: 'fake-small', temperature: 'hot' },
      }),
      doc('AgentInstance', 'support-prod', { agent: 'support-bot', environmentRefs: ['support-env'] }),
    ].join('---\n'),
  );
  writeFileSync(
    join(home, 'config.yaml'),
    stringify({
      mcpServers: { github: { stdio: { command: process.execPath, args: [MCP_SERVER_SCRIPT] } } },
    }),
  );
  const applied = await runStigmer(['apply', dir, '--auto-approve'], { env: env({ CANARY }) });
  expect(applied.code, applied.stderr).toBe(0);
});
afterAll(async () => {
  await fake.close();
  tmp.cleanup();
});

const noStack = (text: string) => expect(text).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);

describe('stigmer agent execute', () => {
  it('streams a reply, records a COMPLETED execution that list/get/logs show, and continues its session', async () => {
    const r = await runStigmer(['agent', 'execute', 'plain-bot', 'hello there'], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('You said: hello there\n');
    const id = /execution (aex_\w+) COMPLETED/.exec(r.stderr)?.[1];
    const session = /session (ses_\w+)/.exec(r.stderr)?.[1];
    expect(id).toBeDefined();
    expect(session).toBeDefined();
    expect(fake.requests.at(-1)).toMatchObject({ model: 'fake-small', stream: true });

    const list = await runStigmer(['execution', 'list', '--kind', 'agent', '--target', 'plain-bot'], {
      env: env(),
    });
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+agent\\s+plain-bot\\s+COMPLETED`));
    const got = JSON.parse(
      (await runStigmer(['execution', 'get', id!, '-o', 'json'], { env: env() })).stdout,
    );
    expect(got).toMatchObject({
      id,
      phase: 'COMPLETED',
      input: { message: 'hello there' },
      output: { reply: 'You said: hello there' },
      usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
      sessionId: session,
    });
    expect(got.startedAt).toBeTruthy();
    expect(got.finishedAt).toBeTruthy();
    const logs = await runStigmer(['execution', 'logs', id!], { env: env() });
    expect(logs.stdout).toContain('[user]\nhello there');
    expect(logs.stdout).toContain('[assistant]\nYou said: hello there');

    const again = await runStigmer(['agent', 'execute', 'plain-bot', '-', '--session', session!], {
      env: env(),
      input: 'and again',
    });
    expect(again.code, again.stderr).toBe(0);
    expect(fake.requests.at(-1)!.messages.map((m) => [m.role, m.content])).toEqual([
      ['system', 'You answer briefly and politely.'],
      ['user', 'hello there'],
      ['assistant', 'You said: hello there'],
      ['user', 'and again'],
    ]);
  }, 180_000);

  it('runs a model → MCP tool → model round trip; the secret reaches only the MCP server, which is gone afterwards', async () => {
    writeFileSync(pidFile, '');
    fake.handle(script);
    const r = await runStigmer(
      ['agent', 'execute', '--instance', 'support-prod', 'Where is my order A-17?', '--json'],
      {
        env: env(),
      },
    );
    expect(r.code, r.stderr).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const id = events[0].executionId;
    expect(events.every((e) => e.executionId === id)).toBe(true);
    expect(events[0]).toMatchObject({ type: 'started', kind: 'AgentExecution', target: 'support-bot' });
    expect(events.filter((e) => e.type === 'tool_call').map((e) => e.name)).toEqual([
      'orders__lookup_order',
      'orders__env_check',
      'orders__echo_env',
    ]);
    const results = events.filter((e) => e.type === 'tool_result');
    expect(results.map((e) => e.content)).toEqual([
      'order A-17: shipped on 2026-11-30',
      `SUPPORT_TOKEN is set (${CANARY.length} characters)`,
      'SUPPORT_TOKEN=(sensitive)',
    ]);
    expect(
      events
        .filter((e) => e.type === 'delta')
        .map((e) => e.text)
        .join(''),
    ).toBe('Your order shipped. (3 tool results)');
    expect(events.at(-1)).toMatchObject({
      type: 'completed',
      output: 'Your order shipped. (3 tool results)',
    });
    expect(events.at(-1).usage.totalTokens).toBe(30);

    // The prompt had the instructions and the skill; the tools were offered.
    const first = fake.requests[0]!;
    expect(first.messages[0]!.content).toContain('## Skill: order-guide');
    expect(first.tools!.map((t) => t.function.name)).toContain('orders__lookup_order');
    expect(first).toMatchObject({ temperature: 0.2, max_tokens: 256 });

    expect(await allGone(readPids(pidFile))).toBe(true);
    const record = await runStigmer(['execution', 'get', id, '-o', 'json'], { env: env() });
    const logs = await runStigmer(['execution', 'logs', id, '--json'], { env: env() });
    expect(JSON.parse(record.stdout)).toMatchObject({ phase: 'COMPLETED', environmentRefs: ['support-env'] });
    for (const text of [r.stdout, r.stderr, record.stdout, logs.stdout, ...fake.raw.map((q) => q.body)]) {
      expect(text).not.toContain(CANARY);
    }
    expect(readFileSync(db).includes(CANARY)).toBe(false);
    expect(logs.stdout).toContain('SUPPORT_TOKEN=(sensitive)');
  }, 180_000);

  it('resolves string MCP servers from config.yaml and runs docker servers through `docker run -i`', async () => {
    fake.handle((body) =>
      body.messages.some((m) => m.role === 'tool')
        ? { text: 'done' }
        : {
            toolCalls: [
              {
                name: body.tools![0]!.function.name.replace(/__.*/, '__lookup_order'),
                arguments: '{"orderId":"1"}',
              },
            ],
          },
    );
    const named = await runStigmer(['agent', 'execute', 'named-bot', 'hi', '--model', 'fake-large'], {
      env: env(),
    });
    expect(named.code, named.stderr).toBe(0);
    expect(fake.requests[0]!.model).toBe('fake-large');
    expect(named.stderr).toContain('→ github__lookup_order');
    const boxed = await runStigmer(['agent', 'execute', 'boxed-bot', 'hi', '--env', 'support-env'], {
      env: env(),
    });
    expect(boxed.code, boxed.stderr).toBe(0);
    const args = readFileSync(dockerArgs, 'utf8').split('\n');
    expect(args.slice(0, 3)).toEqual(['run', '-i', '--rm']);
    expect(args).toContain('SUPPORT_TOKEN');
    expect(args.join(' ')).not.toContain(CANARY);
  }, 180_000);

  it('fails with one clear line and a FAILED record: endpoint down, cut-off stream, bad MCP command', async () => {
    const down = await runStigmer(['agent', 'execute', 'plain-bot', 'hi'], {
      env: env({ STIGMER_MODEL_URL: 'http://127.0.0.1:9/v1' }),
    });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^Error: cannot reach the model endpoint at http:\/\/127\.0\.0\.1:9\/v1\n {2}hint: .*ollama serve/m,
    );
    expect(down.stderr).toMatch(/execution aex_\w+ FAILED/);
    noStack(down.stderr);

    fake.handle(() => ({ cutAfter: 'The first half of' }));
    const cut = await runStigmer(['agent', 'execute', 'plain-bot', 'hi'], { env: env() });
    expect(cut.code).toBe(1);
    expect(cut.stdout).toBe('The first half of\n');
    expect(cut.stderr).toMatch(/Error: the model's reply stream was cut off/);
    const cutId = /execution (aex_\w+) FAILED/.exec(cut.stderr)![1]!;
    const logs = await runStigmer(['execution', 'logs', cutId], { env: env() });
    expect(logs.stdout).toContain('[assistant]\nThe first half of');
    noStack(cut.stderr);

    const bad = await runStigmer(['agent', 'execute', 'broken-tools', 'hi'], { env: env() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^Error: MCP server "ghost" failed to start: .*ENOENT/m);
    const badId = /execution (aex_\w+) FAILED/.exec(bad.stderr)![1]!;
    const record = JSON.parse(
      (await runStigmer(['execution', 'get', badId, '-o', 'json'], { env: env() })).stdout,
    );
    expect(record).toMatchObject({ phase: 'FAILED' });
    expect(record.error).toMatch(/MCP server "ghost" failed to start/);
    noStack(bad.stderr);
  }, 180_000);

  it('refuses before running (unknown agent, a config value that is not a number) and records nothing', async () => {
    const count = async () => {
      const store = await openLocalBackend({ path: db });
      try {
        return (await store.listExecutions({ kind: 'AgentExecution', pageSize: 5000 })).length;
      } finally {
        await store.close();
      }
    };
    const before = await count();
    const cases: Array<[string[], RegExp]> = [
      [['ghost-bot', 'hi'], /^Error: Agent "ghost-bot" not found/],
      [['hot-bot', 'hi'], /^Error: agent "hot-bot": config.temperature must be a number, got "hot"/],
    ];
    for (const [args, message] of cases) {
      const r = await runStigmer(['agent', 'execute', ...args], { env: env() });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      noStack(r.stderr);
    }
    expect(await count()).toBe(before);
  }, 180_000);

  it('stops at Ctrl-C (exit 130, CANCELLED, MCP process gone) and on `execution cancel` from another process', async () => {
    writeFileSync(pidFile, '');
    fake.handle(() => ({ stall: 'Thinking about' }));
    const run = startStigmer(['agent', 'execute', 'support-bot', 'hi', '--json'], env());
    const started = await run.waitForEvent((e) => e.type === 'delta');
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(run.stdout()).toContain('"type":"cancelled"');
    const record = JSON.parse(
      (await runStigmer(['execution', 'get', String(started.executionId), '-o', 'json'], { env: env() }))
        .stdout,
    );
    expect(record).toMatchObject({ phase: 'CANCELLED' });
    expect(record.transcriptArtifactId).toBeTruthy();
    expect(await allGone(readPids(pidFile))).toBe(true);

    const other = startStigmer(['agent', 'execute', 'plain-bot', 'hi', '--json'], env());
    const delta = await other.waitForEvent((e) => e.type === 'delta');
    const cancel = await runStigmer(['execution', 'cancel', String(delta.executionId)], { env: env() });
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stderr).toMatch(/CANCELLED/);
    expect(await other.exited).toBe(1);
    expect(other.stdout()).toContain('"type":"cancelled"');
  }, 180_000);

  it('shows a run whose process died as FAILED (runner lost), not RUNNING', async () => {
    fake.handle(() => ({ stall: 'Half' }));
    const run = startStigmer(
      ['agent', 'execute', 'plain-bot', 'hi', '--json'],
      env({ STIGMER_HEARTBEAT_MS: '100' }),
    );
    const delta = await run.waitForEvent((e) => e.type === 'delta');
    run.child.kill('SIGKILL');
    await run.exited;
    await new Promise((r) => setTimeout(r, 1000));
    const got = await runStigmer(['execution', 'get', String(delta.executionId)], { env: env() });
    expect(got.stdout).toMatch(/Phase:\s+FAILED/);
    expect(got.stdout).toMatch(/Error:\s+runner lost: no heartbeat since/);
  }, 180_000);
});
