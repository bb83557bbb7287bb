import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FakeModelServer, type FakeReply, startFakeModel } from '../../test/helpers/fake-model.js';
import { createModelClient, ModelError } from './model.js';

let fake: FakeModelServer;
beforeAll(async () => {
  fake = await startFakeModel();
});
afterAll(() => fake.close());

const request = (model = 'fake-small') => ({
  model,
  messages: [{ role: 'user' as const, content: 'hi' }],
  tools: [],
  params: { temperature: 0.2, max_tokens: 100 },
});

async function failure(promise: Promise<unknown>): Promise<ModelError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof ModelError) return err;
    throw err;
  }
  throw new Error('expected a ModelError');
}

describe('model client', () => {
  it('streams deltas, folds tool calls by index and reports usage', async () => {
    const client = createModelClient({ baseURL: fake.url, maxRetries: 0 });
    fake.handle(() => ({ text: 'Hello there, friend.', chunks: 4, usage: { prompt: 7, completion: 4 } }));
    const deltas: string[] = [];
    const reply = await client.complete(request(), { onDelta: (t) => deltas.push(t) });
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('Hello there, friend.');
    expect(reply).toMatchObject({ content: 'Hello there, friend.', finishReason: 'stop', toolCalls: [] });
    expect(reply.usage).toEqual({ promptTokens: 7, completionTokens: 4, totalTokens: 11 });
    // config keys arrive typed, the stream asks for usage
    expect(fake.requests[0]).toMatchObject({ temperature: 0.2, max_tokens: 100, stream: true });

    fake.handle(() => ({
      toolCalls: [
        { id: 'a', name: 'orders__lookup_order', arguments: '{"orderId":"A-1"}' },
        { id: 'b', name: 'orders__env_check', arguments: '{"name":"X"}' },
      ],
    }));
    const calls = await client.complete(request());
    expect(calls.finishReason).toBe('tool_calls');
    expect(calls.toolCalls).toEqual([
      {
        id: 'a',
        type: 'function',
        function: { name: 'orders__lookup_order', arguments: '{"orderId":"A-1"}' },
      },
      { id: 'b', type: 'function', function: { name: 'orders__env_check', arguments: '{"name":"X"}' } },
    ]);
  });

  it('retries 429 honouring Retry-After, and 5xx, then succeeds', async () => {
    const client = createModelClient({ baseURL: fake.url, maxRetries: 3 });
    fake.handle(
      (_, i): FakeReply =>
        i === 0
          ? { status: 429, error: 'slow down', headers: { 'retry-after': '0' } }
          : i === 1
            ? { status: 503, error: 'busy', headers: { 'retry-after-ms': '10' } }
            : { text: 'finally' },
    );
    const reply = await client.complete(request());
    expect(reply.content).toBe('finally');
    expect(fake.requests).toHaveLength(3);
  });

  it('names the failure: 401, unknown model, rate limit after retries, unreachable, cut-off stream', async () => {
    const client = createModelClient({ baseURL: fake.url, maxRetries: 1 });
    fake.handle(() => ({ status: 401, error: 'bad key' }));
    const auth = await failure(client.complete(request()));
    expect(auth.message).toMatch(/refused the API key \(401\)/);
    expect(auth.hint).toMatch(/STIGMER_MODEL_API_KEY/);

    const missing = await failure(client.complete(request('no-such-model')));
    expect(missing.message).toMatch(/model "no-such-model" not found/);
    expect(missing.hint).toMatch(/--model/);

    fake.handle(() => ({ status: 429, headers: { 'retry-after': '0' } }));
    const limited = await failure(client.complete(request()));
    expect(limited.message).toMatch(/rate limiting \(429\)/);
    expect(fake.requests).toHaveLength(2);

    fake.handle(() => ({ cutAfter: 'The answer is' }));
    const cut = await failure(client.complete(request()));
    expect(cut.message).toMatch(/cut off/);
    expect(cut.partial).toBe('The answer is');

    const down = createModelClient({ baseURL: 'http://127.0.0.1:9/v1', maxRetries: 0 });
    const unreachable = await failure(down.complete(request()));
    expect(unreachable.message).toBe('cannot reach the model endpoint at http://127.0.0.1:9/v1');
    expect(unreachable.hint).toMatch(/ollama serve/);
  });

  it('asks for JSON mode and falls back when the endpoint rejects it', async () => {
    const client = createModelClient({ baseURL: fake.url, maxRetries: 0 });
    fake.handle((body) =>
      body.response_format ? { status: 400, error: 'response_format is not supported' } : { text: '{"a":1}' },
    );
    const reply = await client.complete({ ...request(), json: true });
    expect(reply.content).toBe('{"a":1}');
    expect(fake.requests.map((r) => r.response_format?.type ?? null)).toEqual(['json_object', null]);
  });
});
