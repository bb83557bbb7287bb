/**
 * A fake OpenAI-compatible chat-completions endpoint on loopback, for tests (COMMON.md: a fake
 * only for the model endpoint). It speaks the real routes and wire format — `POST
 * /v1/chat/completions` with `stream: true` answered as server-sent events, chunk by chunk,
 * tool calls in indexed fragments, a final usage chunk, `data: [DONE]` — and can also answer
 * 401, 404 (unknown model), 429 with Retry-After, or cut a stream off mid-reply. Every request
 * body is kept, so a test can prove what the model did (and did not) receive.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequestBody {
  model: string;
  messages: Array<{ role: string; content: string | null; tool_calls?: unknown[]; tool_call_id?: string }>;
  tools?: Array<{ type: string; function: { name: string; description?: string; parameters: unknown } }>;
  stream?: boolean;
  response_format?: { type: string };
  [key: string]: unknown;
}

export type FakeReply =
  /** Streams `text` in about `chunks` pieces, then finish_reason stop. */
  | { text: string; chunks?: number; usage?: { prompt: number; completion: number } }
  /** Streams tool calls (optionally after some text), then finish_reason tool_calls. */
  | { toolCalls: Array<{ id?: string; name: string; arguments: string }>; text?: string }
  /** An error answer. */
  | { status: number; error?: string; headers?: Record<string, string> }
  /** Streams `text`, then ends the response without a finish reason or [DONE]. */
  | { cutAfter: string }
  /** Streams `text`, then holds the connection open until the client goes away. */
  | { stall: string };

export type FakeHandler = (body: ChatRequestBody, index: number) => FakeReply | Promise<FakeReply>;

export interface FakeModelServer {
  /** The base URL to use as STIGMER_MODEL_URL (ends in /v1). */
  url: string;
  requests: ChatRequestBody[];
  /** Raw request bodies and headers, for leak checks. */
  raw: Array<{ body: string; headers: IncomingMessage['headers'] }>;
  /** Replaces the handler (and clears the recorded requests). */
  handle(handler: FakeHandler): void;
  /** Resolves when the number of received requests reaches n. */
  waitForRequests(n: number): Promise<void>;
  close(): Promise<void>;
}

export const KNOWN_MODELS = new Set([
  'fake-small',
  'fake-large',
  'claude-3-5-sonnet-20241022',
  'claude-3-5-haiku-20241022',
]);

export async function startFakeModel(
  handler: FakeHandler = () => ({ text: 'ok' }),
): Promise<FakeModelServer> {
  let current = handler;
  const requests: ChatRequestBody[] = [];
  const raw: FakeModelServer['raw'] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const open = new Set<ServerResponse>();

  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    const body = JSON.parse(text) as ChatRequestBody;
    const index = requests.length;
    requests.push(body);
    raw.push({ body: text, headers: req.headers });
    for (const w of waiters.filter((w) => requests.length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
    if (!KNOWN_MODELS.has(body.model)) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { message: `model '${body.model}' not found`, type: 'not_found_error' } }),
      );
      return;
    }
    const reply = await current(body, index);
    if ('status' in reply) {
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(JSON.stringify({ error: { message: reply.error ?? `status ${reply.status}` } }));
      return;
    }
    open.add(res);
    res.on('close', () => open.delete(res));
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const id = `chatcmpl-${index}`;
    const send = (delta: Record<string, unknown>, finish: string | null = null) =>
      res.write(
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`,
      );
    send({ role: 'assistant', content: '' });
    if ('cutAfter' in reply || 'stall' in reply) {
      const partial = 'cutAfter' in reply ? reply.cutAfter : reply.stall;
      for (const piece of split(partial, 3)) send({ content: piece });
      if ('cutAfter' in reply) res.end();
      return;
    }
    if ('toolCalls' in reply) {
      if (reply.text) send({ content: reply.text });
      reply.toolCalls.forEach((call, i) => {
        const callId = call.id ?? `call_${index}_${i}`;
        send({
          tool_calls: [
            { index: i, id: callId, type: 'function', function: { name: call.name, arguments: '' } },
          ],
        });
        for (const piece of split(call.arguments, 2))
          send({ tool_calls: [{ index: i, function: { arguments: piece } }] });
      });
      send({}, 'tool_calls');
    } else {
      for (const piece of split(reply.text, reply.chunks ?? 3)) send({ content: piece });
      send({}, 'stop');
    }
    const usage = 'usage' in reply && reply.usage ? reply.usage : { prompt: 10, completion: 5 };
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 0, model: body.model, choices: [], usage: { prompt_tokens: usage.prompt, completion_tokens: usage.completion, total_tokens: usage.prompt + usage.completion } })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    raw,
    handle(next) {
      current = next;
      requests.length = 0;
      raw.length = 0;
    },
    waitForRequests(n) {
      if (requests.length >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close() {
      for (const res of open) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function split(text: string, parts: number): string[] {
  if (text === '') return [];
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The last message of a role in a request. */
export function lastMessage(body: ChatRequestBody, role: string): string {
  for (let i = body.messages.length - 1; i >= 0; i--) {
    const m = body.messages[i]!;
    if (m.role === role) return m.content ?? '';
  }
  return '';
}
