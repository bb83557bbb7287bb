/**
 * The agent-execution core in process, over a throw-away SQLite store and the fake model
 * endpoint: what is refused before a run (nothing recorded), sub-agents as tools, sessions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeModelServer, lastMessage, startFakeModel } from '../../test/helpers/fake-model.js';
import { openLocalBackend } from '../backend/local/index.js';
import type { Backend, ResourceChange } from '../backend/types.js';
import { StigmerError } from '../errors.js';
import { createExecutionEnv, executeAgent } from './agent.js';
import type { ExecutionEvent } from './events.js';
import { createModelClient } from './model.js';

let fake: FakeModelServer;
let backend: Backend;
const agent = (name: string, spec: Record<string, unknown>): ResourceChange => ({
  op: 'create',
  kind: 'Agent',
  name,
  labels: {},
  annotations: {},
  spec: { instructions: `You are the ${name} agent of the tests.`, ...spec } as never,
});

beforeAll(async () => {
  fake = await startFakeModel();
  backend = await openLocalBackend({ path: ':memory:' });
  await backend.applyChanges([
    agent('lead', { subAgents: ['helper'], config: { model: 'fake-small' } }),
    agent('helper', { description: 'knows the answer', config: { model: 'fake-large' } }),
    agent('modelless', {}),
    agent('named', { mcpServers: ['nowhere'], config: { model: 'fake-small' } }),
    agent('skilled', { skillRefs: ['gone'], config: { model: 'fake-small' } }),
  ]);
});
afterAll(async () => {
  await backend.close();
  await fake.close();
});

const env = (extra: Record<string, string> = {}) =>
  createExecutionEnv({
    backend,
    env: extra,
    home: '/nonexistent-stigmer-home',
    modelClient: createModelClient({ baseURL: fake.url, maxRetries: 0 }),
  });

async function refusal(promise: Promise<unknown>): Promise<StigmerError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('executeAgent', () => {
  it('refuses before running, recording nothing: no model, unknown MCP name, skill, environment, session', async () => {
    const cases: Array<[Parameters<typeof executeAgent>[1], RegExp]> = [
      [{ agent: 'modelless', message: 'hi' }, /^no model for agent "modelless"$/],
      [{ agent: 'named', message: 'hi' }, /^agent "named": MCP server "nowhere" is not defined$/],
      [{ agent: 'skilled', message: 'hi' }, /^Skill "gone" not found$/],
      [{ agent: 'lead', message: 'hi', environments: ['absent'] }, /^Environment "absent" not found$/],
      [{ agent: 'lead', message: 'hi', sessionId: 'ses_nope' }, /^session "ses_nope" not found$/],
      [{ instance: 'nope', message: 'hi' }, /^AgentInstance "nope" not found$/],
    ];
    for (const [options, message] of cases)
      expect((await refusal(executeAgent(env(), options))).message).toMatch(message);
    expect(await backend.listExecutions()).toEqual([]);
    expect(fake.requests).toHaveLength(0);
    // STIGMER_MODEL is the fallback model.
    fake.handle(() => ({ text: 'fine' }));
    const ran = await executeAgent(env({ STIGMER_MODEL: 'fake-large' }), {
      agent: 'modelless',
      message: 'hi',
    });
    expect(ran.exitCode).toBe(0);
    expect(fake.requests[0]!.model).toBe('fake-large');
  });

  it('offers sub-agents as tools that run that agent and return its reply; a session continues', async () => {
    fake.handle((body) => {
      if (body.model === 'fake-large') return { text: `helper says 42 to "${lastMessage(body, 'user')}"` };
      if (!body.messages.some((m) => m.role === 'tool')) {
        return { toolCalls: [{ name: 'agent__helper', arguments: '{"message":"what is the answer?"}' }] };
      }
      return { text: `lead heard: ${lastMessage(body, 'tool')}` };
    });
    const events: ExecutionEvent[] = [];
    const result = await executeAgent(env(), {
      agent: 'lead',
      message: 'ask the helper',
      emit: (e) => events.push(e),
    });
    expect(result.exitCode).toBe(0);
    expect(result.output).toBe('lead heard: helper says 42 to "what is the answer?"');
    const offered = fake.requests[0]!.tools!.find((t) => t.function.name === 'agent__helper')!;
    expect(offered.function.description).toContain('knows the answer');
    expect(events.filter((e) => e.type === 'tool_result')).toEqual([
      expect.objectContaining({
        name: 'agent__helper',
        content: 'helper says 42 to "what is the answer?"',
        isError: false,
      }),
    ]);
    // The sub-agent's own reply did not stream into the parent's output.
    expect(
      events
        .filter((e) => e.type === 'delta')
        .map((e) => (e as { text: string }).text)
        .join(''),
    ).toBe(result.output);
    const artifact = await backend.getArtifact(result.execution.transcriptArtifactId!);
    const transcript = JSON.parse(new TextDecoder().decode(artifact.data));
    expect(transcript.subAgents).toEqual([expect.objectContaining({ agent: 'helper', model: 'fake-large' })]);

    fake.handle(() => ({ text: 'second turn' }));
    const next = await executeAgent(env(), {
      agent: 'lead',
      message: 'again',
      sessionId: result.execution.sessionId!,
    });
    expect(next.execution.sessionId).toBe(result.execution.sessionId);
    expect(fake.requests[0]!.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
      'user',
    ]);
  });
});
