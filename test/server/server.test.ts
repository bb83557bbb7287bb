/**
 * `stigmer server` as an operator and a stock gRPC client see it (real processes, real SQLite
 * file): it refuses to start without a token; every call needs the bearer token except the
 * standard health service; a stock client made by another toolchain (@grpc/grpc-js with the
 * proto loaded at run time) can call it, with paging, typed errors and the original typed RPCs;
 * one access-log line per call, never the token; SIGTERM lets an in-flight call finish (a
 * stalled client does not block the others nor the shutdown beyond its bound) and exits 0.
 */
import { connect as http2Connect } from 'node:http2';
import { join } from 'node:path';
import { create, toBinary } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApplyChangesRequestSchema, ChangeOperation } from '../../src/gen/stigmer/backend/v1/backend_pb.js';
import { repoRoot, runStigmer } from '../helpers/cli.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

// biome-ignore lint/suspicious/noExplicitAny: grpc-js clients are untyped when loaded at run time.
type Loaded = any;

const definition = protoLoader.loadSync(['stigmer/backend/v1/backend.proto', 'grpc/health/v1/health.proto'], {
  includeDirs: [join(repoRoot, 'proto')],
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const loaded = grpc.loadPackageDefinition(definition) as Loaded;

function stockClients(server: ServerProcess) {
  const address = `127.0.0.1:${server.port}`;
  const credentials = grpc.credentials.createInsecure();
  return {
    backend: new loaded.stigmer.backend.v1.BackendService(address, credentials),
    health: new loaded.grpc.health.v1.Health(address, credentials),
  };
}

function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** Calls a unary grpc-js method; resolves with the response or the ServiceError. */
function unary(client: Loaded, method: string, request: object, md = new grpc.Metadata()) {
  return new Promise<{ res?: Loaded; err?: grpc.ServiceError }>((resolve) => {
    client[method](
      request,
      md,
      { deadline: Date.now() + 20_000 },
      (err: grpc.ServiceError | null, res: Loaded) => resolve(err ? { err } : { res }),
    );
  });
}

const struct = (o: Record<string, string>) => ({
  fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, { stringValue: v }])),
});

describe('starting the server', () => {
  it('refuses to start without a token: exit 1, one clear line and a hint', async () => {
    const r = await runStigmer(['server', '--port', '0'], {
      env: { STIGMER_TOKEN: 'client-token-is-not-read' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^Error: stigmer server needs a token and none was given\n {2}hint: .*--token-file/,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses --tls-cert without --tls-key, and --token with --token-file', async () => {
    const tls = await runStigmer(['server', '--port', '0', '--token', 't', '--tls-cert', 'x.pem']);
    expect(tls.code).toBe(1);
    expect(tls.stderr).toContain('TLS needs both --tls-cert and --tls-key');
    const both = await runStigmer(['server', '--port', '0', '--token', 't', '--token-file', 'f']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('--token and --token-file cannot be used together');
  });

  it('reads the token from STIGMER_SERVER_TOKEN or --token-file; warns on a public address without TLS', async () => {
    const server = await startServer({
      tokenFlag: false,
      env: { STIGMER_SERVER_TOKEN: 'from-env' },
      args: ['--host', '0.0.0.0'],
    });
    try {
      await waitFor(() => server.stderr().includes('store:'), 'start-up lines');
      const lines = server.stderr().split('\n');
      expect(lines[0]).toMatch(/^listening on http:\/\/0\.0\.0\.0:\d+$/);
      expect(lines[1]).toMatch(/^warning: serving 0\.0\.0\.0 without TLS/);
      const { backend } = stockClients(server);
      expect((await unary(backend, 'GetStatus', {}, bearer('from-env'))).res?.serverVersion).toMatch(
        /^\d+\.\d+/,
      );
      backend.close();
    } finally {
      expect((await server.stop()).code).toBe(0);
      server.cleanup();
    }
  });
});

describe('a running server and a stock gRPC client', () => {
  let server: ServerProcess;
  let clients: ReturnType<typeof stockClients>;
  beforeAll(async () => {
    server = await startServer({ args: ['--log-format', 'json'] });
    clients = stockClients(server);
  });
  afterAll(async () => {
    clients?.backend.close();
    clients?.health.close();
    await server?.stop();
    server?.cleanup();
  });

  it('health answers without a token; an unknown service is NOT_FOUND', async () => {
    const overall = await unary(clients.health, 'Check', { service: '' });
    expect(overall.res?.status).toBe('SERVING');
    const service = await unary(clients.health, 'Check', { service: 'stigmer.backend.v1.BackendService' });
    expect(service.res?.status).toBe('SERVING');
    const unknown = await unary(clients.health, 'Check', { service: 'nope.Service' });
    expect(unknown.err?.code).toBe(grpc.status.NOT_FOUND);
  });

  it('a missing or wrong token is UNAUTHENTICATED and reads nothing', async () => {
    const missing = await unary(clients.backend, 'ListResources', { kind: 'Agent' });
    expect(missing.err?.code).toBe(grpc.status.UNAUTHENTICATED);
    const wrong = await unary(
      clients.backend,
      'ListResources',
      { kind: 'Agent' },
      bearer(`${server.token}x`),
    );
    expect(wrong.err?.code).toBe(grpc.status.UNAUTHENTICATED);
    const basic = new grpc.Metadata();
    basic.set('authorization', `Basic ${server.token}`);
    expect((await unary(clients.backend, 'GetStatus', {}, basic)).err?.code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
  });

  it('applies a batch, pages through ListResources and reports a stale version as ABORTED', async () => {
    const md = bearer(server.token);
    const changes = Array.from({ length: 7 }, (_, i) => ({
      operation: 'CHANGE_OPERATION_CREATE',
      kind: 'Agent',
      name: `stock-${i}`,
      labels: { team: 'cs' },
      annotations: {},
      spec: struct({ instructions: `agent number ${i}` }),
    }));
    const applied = await unary(clients.backend, 'ApplyChanges', { changes, message: 'from grpc-js' }, md);
    expect(applied.err).toBeUndefined();
    expect(applied.res.results).toHaveLength(7);
    expect(applied.res.results[0]).toMatchObject({ operation: 'CHANGE_OPERATION_CREATE', version: '1' });

    const names: string[] = [];
    let pageToken = '';
    do {
      const page = await unary(
        clients.backend,
        'ListResources',
        { kind: 'Agent', pageSize: 3, pageToken },
        md,
      );
      names.push(...page.res.resources.map((r: { name: string }) => r.name));
      pageToken = page.res.nextPageToken;
    } while (pageToken);
    expect(names).toEqual(changes.map((c) => c.name));

    const stale = await unary(
      clients.backend,
      'ApplyChanges',
      {
        changes: [{ ...changes[0], operation: 'CHANGE_OPERATION_UPDATE', expectedVersion: '9' }],
      },
      md,
    );
    expect(stale.err?.code).toBe(grpc.status.ABORTED);
    // grpc-message is percent-encoded on the wire; grpc-js decodes only part of it.
    expect(decodeURIComponent(stale.err?.details ?? '')).toContain(
      'conflict on Agent/stock-0: expected version 9, found version 1',
    );

    const badKind = await unary(clients.backend, 'ListResources', { kind: 'Gadget' }, md);
    expect(badKind.err?.code).toBe(grpc.status.INVALID_ARGUMENT);
  });

  it('ListResources with json_specs sends the stored JSON text instead of Structs', async () => {
    const md = bearer(server.token);
    const created = await unary(
      clients.backend,
      'ApplyChanges',
      {
        changes: [
          {
            operation: 'CHANGE_OPERATION_CREATE',
            kind: 'Skill',
            name: 'json-skill',
            labels: {},
            annotations: {},
            spec: struct({ description: 'as text', skillMd: '# Hi' }),
          },
        ],
      },
      md,
    );
    expect(created.err).toBeUndefined();
    const asText = await unary(clients.backend, 'ListResources', { kind: 'Skill', jsonSpecs: true }, md);
    const [r] = asText.res.resources;
    expect(r.name).toBe('json-skill');
    expect(r.specJson).toBe('{"description":"as text","skillMd":"# Hi"}');
    expect(r.statusJson).toBe('{}');
    expect(r.spec).toBeNull();
    const asStruct = await unary(clients.backend, 'ListResources', { kind: 'Skill' }, md);
    expect(asStruct.res.resources[0].specJson).toBe('');
    expect(asStruct.res.resources[0].spec.fields.description.stringValue).toBe('as text');
  });

  it('serves the original typed RPCs: agents, workflows, environments', async () => {
    const md = bearer(server.token);
    const created = await unary(
      clients.backend,
      'CreateAgent',
      { agent: { name: 'typed-bot', spec: struct({ instructions: 'typed agent here' }) } },
      md,
    );
    expect(created.res.agent).toMatchObject({ name: 'typed-bot', kind: 'Agent', version: '1' });
    const updated = await unary(
      clients.backend,
      'UpdateAgent',
      {
        agent: { name: 'typed-bot', spec: struct({ instructions: 'typed agent, v2' }) },
        expectedVersion: '1',
      },
      md,
    );
    expect(updated.res.agent.version).toBe('2');
    const got = await unary(clients.backend, 'GetAgent', { name: 'typed-bot' }, md);
    expect(got.res.agent.spec.fields.instructions.stringValue).toBe('typed agent, v2');
    const deleted = await unary(
      clients.backend,
      'DeleteAgent',
      { name: 'typed-bot', expectedVersion: '2' },
      md,
    );
    expect(deleted.res.result).toMatchObject({ operation: 'CHANGE_OPERATION_DELETE', version: '2' });
    expect((await unary(clients.backend, 'GetAgent', { name: 'typed-bot' }, md)).err?.code).toBe(
      grpc.status.NOT_FOUND,
    );
    const env = await unary(clients.backend, 'CreateEnvironment', { environment: { name: 'typed-env' } }, md);
    expect(env.res.environment.id).toMatch(/^env_/);
    const token = await unary(clients.backend, 'StateToken', {}, md);
    expect(Number(token.res.stateToken)).toBeGreaterThan(0);
  });

  it('writes one JSON access-log line per call (method, code, ms), never the token', async () => {
    const log = server.stderr();
    const calls = log
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(calls.length).toBeGreaterThan(5);
    for (const c of calls) {
      expect(Object.keys(c)).toEqual(expect.arrayContaining(['time', 'method', 'code', 'ms']));
      expect(typeof c.ms).toBe('number');
    }
    expect(calls).toContainEqual(
      expect.objectContaining({ method: 'grpc.health.v1.Health/Check', code: 'OK' }),
    );
    expect(calls).toContainEqual(
      expect.objectContaining({
        method: 'stigmer.backend.v1.BackendService/ListResources',
        code: 'UNAUTHENTICATED',
      }),
    );
    expect(calls).toContainEqual(
      expect.objectContaining({ method: 'stigmer.backend.v1.BackendService/ApplyChanges', code: 'ABORTED' }),
    );
    expect(log).not.toContain(server.token);
  });
});

/** A raw HTTP/2 gRPC call whose request body is sent in two halves, for in-flight tests. */
function halfSentApply(server: ServerProcess, name: string) {
  const session = http2Connect(server.url);
  session.on('error', () => {});
  const message = toBinary(
    ApplyChangesRequestSchema,
    create(ApplyChangesRequestSchema, {
      changes: [
        { operation: ChangeOperation.CREATE, kind: 'Agent', name, spec: { instructions: 'in flight' } },
      ],
    }),
  );
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  Buffer.from(message).copy(frame, 5);
  const stream = session.request({
    ':method': 'POST',
    ':path': '/stigmer.backend.v1.BackendService/ApplyChanges',
    'content-type': 'application/grpc',
    te: 'trailers',
    authorization: `Bearer ${server.token}`,
  });
  stream.on('error', () => {});
  const half = Math.floor(frame.length / 2);
  stream.write(frame.subarray(0, half));
  const status = new Promise<string | undefined>((resolve) => {
    let grpcStatus: string | undefined;
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) grpcStatus = String(h['grpc-status']);
    });
    stream.on('trailers', (t) => {
      grpcStatus = String(t['grpc-status']);
    });
    stream.resume();
    stream.on('close', () => resolve(grpcStatus));
  });
  return {
    finish: () => stream.end(frame.subarray(half)),
    status,
    close: () => session.destroy(),
  };
}

async function waitFor(what: () => boolean, label: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!what()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('shutdown and stalled clients', () => {
  it('a stalled call blocks nobody; SIGTERM lets it finish, then the server exits 0', async () => {
    const server = await startServer();
    try {
      const stalled = halfSentApply(server, 'in-flight');
      await waitFor(() => server.stderr().includes('store:'), 'start-up lines');
      // Another client is served while the first one is stalled mid-request.
      const other = await runStigmer(['get', 'agents', '--backend', 'cloud', '--endpoint', server.url], {
        env: { STIGMER_TOKEN: server.token },
      });
      expect(other.code, other.stderr).toBe(0);
      server.process.kill('SIGTERM');
      await waitFor(() => server.stderr().includes('SIGTERM: shutting down'), 'the shutdown line');
      stalled.finish();
      expect(await stalled.status).toBe('0');
      stalled.close();
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr()).toMatch(/BackendService\/ApplyChanges OK/);
      expect(server.stderr().trimEnd().split('\n').at(-1)).toBe('stopped');
    } finally {
      await server.stop('SIGKILL');
      server.cleanup();
    }
  });

  it('a call that never finishes holds shutdown only for --shutdown-timeout', async () => {
    const server = await startServer({ args: ['--shutdown-timeout', '300'] });
    try {
      const stalled = halfSentApply(server, 'never-finished');
      await waitFor(() => server.stderr().includes('store:'), 'start-up lines');
      await new Promise((r) => setTimeout(r, 100));
      server.process.kill('SIGINT');
      expect(await server.exited).toEqual({ code: 0, signal: null });
      expect(server.stderr()).toContain('SIGINT: shutting down');
      stalled.close();
    } finally {
      await server.stop('SIGKILL');
      server.cleanup();
    }
  });
});
