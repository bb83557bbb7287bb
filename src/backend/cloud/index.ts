/**
 * The cloud backend (DESIGN.md §3, §6b): the Backend contract as a gRPC client of
 * BackendService — `stigmer server` or any server of the same proto. Kinds are listed in bulk
 * pages (never a call per resource); a plan is one atomic ApplyChanges call carrying the project
 * and a request id made here, sent again when the call is retried, so a retry after a lost
 * response returns the original results. Reads (and writes that certainly never left) are
 * retried with backoff when the server is unreachable; every error comes back as the typed
 * error the store raised (src/backend/wire/errors.ts). `stateToken` follows the server's change
 * counter minus this client's own writes, so `stigmer watch` stays incremental.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SecureClientSessionOptions } from 'node:http2';
import { create, type DescMethodUnary, type Message } from '@bufbuild/protobuf';
import {
  type CallOptions,
  type Client,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from '@connectrpc/connect';
import { createGrpcTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { StigmerError } from '../../errors.js';
import {
  ApplyChangesRequestSchema,
  BackendService,
  ListResourcesRequestSchema,
} from '../../gen/stigmer/backend/v1/backend_pb.js';
import type { DeclaredKind, StoredResource } from '../../types.js';
import { checkExecutionUpdate } from '../local/index.js';
import type {
  AppliedChange,
  ApplyChangesOptions,
  Artifact,
  Backend,
  BackendInfo,
  BackendStatus,
  CreateExecutionInput,
  Execution,
  ExecutionContext,
  ExecutionUpdate,
  HistoryEntry,
  ListOptions,
  Page,
  ResourceChange,
  SealedVariable,
  Session,
} from '../types.js';
import {
  fromWireArtifact,
  fromWireExecution,
  fromWireResource,
  fromWireSession,
  fromWireVersion,
  toWireExecutionKind,
  toWirePhase,
  toWireTask,
  toWireUsage,
} from '../wire/convert.js';
import { causeCodes, fromConnectError, isTransportFailure, neverSent } from '../wire/errors.js';
import {
  decodeApplied,
  decodeLazyResources,
  decodeResources,
  encodeChanges,
  wireViews,
  withViews,
} from '../wire/fast.js';

/** Same limit as the server: one 100,000-resource batch fits. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
/** Page size of bulk lists (the server's maximum). */
const LIST_PAGE_SIZE = 5000;
/** Deadline of one call; an apply may be large. */
const READ_TIMEOUT_MS = 120_000;
const WRITE_TIMEOUT_MS = 600_000;

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** First delay; each next one is three times longer (with jitter). */
  baseDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 100 };

export interface CloudBackendOptions {
  /** `http://HOST:PORT` or `https://HOST:PORT`. */
  endpoint: string;
  token: string;
  /** PEM file of a CA to trust for an `https://` endpoint (`--ca-cert`, STIGMER_CA_CERT). */
  caCert?: string;
  retry?: RetryPolicy;
}

const TOKEN_HINT =
  'pass --token TOKEN or set STIGMER_TOKEN (or `stigmer backend use cloud --endpoint URL --token TOKEN`)';

/** Checks an endpoint and returns it without a trailing slash. */
export function normalizeEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new StigmerError('USAGE', `endpoint "${endpoint}" is not a URL`, {
      hint: 'endpoints are http(s)://HOST:PORT, e.g. http://127.0.0.1:7234',
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StigmerError('USAGE', `endpoint "${endpoint}" must start with http:// or https://`, {
      hint: 'endpoints are http(s)://HOST:PORT, e.g. http://127.0.0.1:7234',
    });
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new StigmerError('USAGE', `endpoint "${endpoint}" must be http(s)://HOST:PORT only`, {
      hint: 'pass the token with --token or STIGMER_TOKEN, not in the URL',
    });
  }
  return url.href.replace(/\/+$/, '');
}

/**
 * The client's HTTP/2 receive window, per stream and for the connection. With the default
 * 64 KB, a server can send only 64 KB of a bulk list each time the client's event loop reads
 * the socket, and while a plan parses manifests that is every 10 ms (item 37): 100,000
 * listed resources (80 MB uncompressed) then arrive long after the parse has ended.
 */
const RECEIVE_WINDOW_BYTES = 16 * 1024 * 1024;

/** Sessions whose connection-level window is widened too (http2.connect sets streams' only). */
class WideWindowSessions extends Http2SessionManager {
  private readonly widened = new WeakSet<object>();

  override async request(...args: Parameters<Http2SessionManager['request']>) {
    const stream = await super.request(...args);
    const session = stream.session;
    if (session && !this.widened.has(session)) {
      this.widened.add(session);
      session.setLocalWindowSize(RECEIVE_WINDOW_BYTES);
    }
    return stream;
  }
}

/**
 * Whether the endpoint is on this machine (localhost, 127.0.0.0/8, ::1). Responses from such a
 * server are not compressed: gzip costs CPU on both ends, which share the machine's CPUs, and
 * saves nothing a loopback link needs (docs/performance.md, item 42).
 */
export function isLoopbackEndpoint(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.toLowerCase();
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Opens a client of the server at `options.endpoint`; nothing is sent until the first call. */
export async function openCloudBackend(options: CloudBackendOptions): Promise<CloudBackend> {
  return new CloudBackend(options);
}

export class CloudBackend implements Backend {
  readonly info: BackendInfo;
  private readonly rpc: Client<typeof BackendService>;
  private readonly transport: Transport;
  private fastMethods: { listResources: DescMethodUnary; applyChanges: DescMethodUnary } | undefined;
  private readonly sessions: Http2SessionManager;
  private readonly retry: RetryPolicy;
  private closed = false;
  /** The last token `stateToken` returned, and the server counter it stands for with our own writes. */
  private reportedToken: string | null = null;
  private expectedCounter: number | null = null;

  constructor(options: CloudBackendOptions) {
    const endpoint = normalizeEndpoint(options.endpoint);
    if (!options.token) {
      throw new StigmerError('UNAUTHENTICATED', 'the cloud backend needs a token and none was given', {
        hint: TOKEN_HINT,
      });
    }
    this.info = { type: 'cloud', location: endpoint };
    this.retry = options.retry ?? DEFAULT_RETRY;
    const nodeOptions: SecureClientSessionOptions = {
      maxSessionMemory: 1024,
      settings: { initialWindowSize: RECEIVE_WINDOW_BYTES },
    };
    if (options.caCert !== undefined) {
      if (!endpoint.startsWith('https:')) {
        throw new StigmerError('USAGE', `--ca-cert is for https:// endpoints, and ${endpoint} is not one`, {
          hint: 'use the https:// endpoint of a server started with --tls-cert and --tls-key',
        });
      }
      try {
        nodeOptions.ca = readFileSync(options.caCert);
      } catch (cause) {
        throw new StigmerError('USAGE', `--ca-cert ${options.caCert}: cannot read the file`, {
          cause,
          hint: 'give the path of the PEM file of the CA that signed the server certificate',
        });
      }
    }
    this.sessions = new WideWindowSessions(endpoint, { idleConnectionTimeoutMs: 60_000 }, nodeOptions);
    const token = options.token;
    const auth: Interceptor = (next) => (req) => {
      req.header.set('authorization', `Bearer ${token}`);
      return next(req);
    };
    const transport = createGrpcTransport({
      baseUrl: endpoint,
      sessionManager: this.sessions,
      interceptors: [auth],
      readMaxBytes: MAX_MESSAGE_BYTES,
      writeMaxBytes: MAX_MESSAGE_BYTES,
      // Empty: the client accepts no compression, so the server sends plain messages.
      ...(isLoopbackEndpoint(endpoint) ? { acceptCompression: [] } : {}),
    });
    this.rpc = createClient(BackendService, transport);
    this.transport = transport;
  }

  /** The bulk calls, through the fast codec: bulk fields travel as unknown fields of views. */
  private get fast() {
    const v = wireViews();
    this.fastMethods ??= {
      listResources: withViews(BackendService.method.listResources, undefined, v.ListResourcesResponse),
      applyChanges: withViews(BackendService.method.applyChanges, undefined, v.ApplyChangesResponse),
    };
    return this.fastMethods;
  }

  /**
   * One call with the retry policy. `idempotent` calls (reads, and ApplyChanges with its
   * request id) are retried when the transport failed; others only when the request certainly
   * never reached the server.
   */
  private async call<T>(
    fn: (options: CallOptions) => Promise<T>,
    options: { idempotent: boolean; timeoutMs?: number },
  ): Promise<T> {
    if (this.closed) {
      throw new StigmerError('BACKEND', `the backend for ${this.info.location} is closed`, {
        userFixable: false,
      });
    }
    const timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn({ timeoutMs });
      } catch (err) {
        // Only failures of the call itself are translated; anything else is this process's own.
        if (!(err instanceof ConnectError)) throw err;
        const retryable =
          attempt < this.retry.retries &&
          isTransportFailure(err) &&
          !isTlsFailure(err) &&
          (options.idempotent || neverSent(err));
        if (!retryable) throw fromConnectError(err, { endpoint: this.info.location, timeoutMs });
        const delay = this.retry.baseDelayMs * 3 ** attempt;
        await new Promise((r) => setTimeout(r, delay * (0.75 + Math.random() * 0.5)));
      }
    }
  }

  private read<T>(fn: (options: CallOptions) => Promise<T>): Promise<T> {
    return this.call(fn, { idempotent: true });
  }

  private write<T>(fn: (options: CallOptions) => Promise<T>): Promise<T> {
    return this.call(fn, { idempotent: false });
  }

  /** One ListResources call through the fast codec: its items stay undecoded in `$unknown`. */
  private listPage(
    kind: DeclaredKind,
    pageSize: number,
    pageToken: string,
    jsonSpecs = false,
  ): Promise<Message & { nextPageToken: string }> {
    const request = create(ListResourcesRequestSchema, { kind, pageSize, pageToken, jsonSpecs });
    return this.read(
      async (o) =>
        (
          await this.transport.unary(
            this.fast.listResources,
            undefined,
            o.timeoutMs,
            undefined,
            request,
            undefined,
          )
        ).message as Message & { nextPageToken: string },
    );
  }

  async listResources(kind: DeclaredKind, options: ListOptions = {}): Promise<Page<StoredResource>> {
    const res = await this.listPage(kind, options.pageSize ?? 0, options.pageToken ?? '');
    const page: Page<StoredResource> = { items: decodeResources(1, res.$unknown) };
    if (res.nextPageToken !== '') page.nextPageToken = res.nextPageToken;
    return page;
  }

  /**
   * Every resource of the kind, page after page. The next page is asked for before this one is
   * decoded, so the server encodes it meanwhile. Specs and statuses are asked for as the
   * store's JSON text (`json_specs`; a server that predates it sends Structs, written to text
   * on demand) and kept as the response's bytes until read (decodeLazyResources), like the
   * local store's rows: the planner then compares a stored spec's text with the manifest's
   * without decoding either (docs/performance.md items 36, 38 and 40). The text is what the
   * server's store holds: it wrote JSON.stringify of the same object.
   */
  async listAllResources(kind: DeclaredKind): Promise<StoredResource[]> {
    const all: StoredResource[] = [];
    let next = this.listPage(kind, LIST_PAGE_SIZE, '', true);
    for (;;) {
      const res = await next;
      const token = res.nextPageToken;
      if (token !== '') {
        next = this.listPage(kind, LIST_PAGE_SIZE, token, true);
        // Awaited on the next turn; a decoding error below must not leave it unhandled.
        next.catch(() => {});
      }
      for (const r of decodeLazyResources(1, res.$unknown)) all.push(r);
      if (token === '') return all;
    }
  }

  async getResource(kind: DeclaredKind, name: string): Promise<StoredResource | null> {
    const res = await this.read((o) => this.rpc.getResource({ kind, name }, o));
    return res.resource ? fromWireResource(res.resource) : null;
  }

  /**
   * The server's change counter, unchanged by this object's own writes: when the counter moved
   * by exactly what we wrote, the previous token is returned again.
   */
  async stateToken(): Promise<string> {
    const res = await this.read((o) => this.rpc.stateToken({}, o));
    const counter = Number(res.stateToken);
    if (this.reportedToken !== null && this.expectedCounter === counter) return this.reportedToken;
    this.reportedToken = res.stateToken;
    this.expectedCounter = Number.isFinite(counter) ? counter : null;
    return this.reportedToken;
  }

  /** After our own batch of `writes` writes that left the counter at `after`. */
  private ownWrites(writes: number, after: string): void {
    const counter = Number(after);
    if (
      this.expectedCounter !== null &&
      Number.isFinite(counter) &&
      counter - writes === this.expectedCounter
    ) {
      this.expectedCounter = counter;
    } else {
      // Someone else wrote in between (or the batch was a replay): the next token must differ.
      this.expectedCounter = null;
    }
  }

  async applyChanges(changes: ResourceChange[], options: ApplyChangesOptions = {}): Promise<AppliedChange[]> {
    if (!Array.isArray(changes)) throw new StigmerError('USAGE', 'applyChanges expects an array of changes');
    const request = create(ApplyChangesRequestSchema, {
      ...(options.message !== undefined ? { message: options.message } : {}),
      project: options.project ?? '',
      requestId: options.requestId ?? randomUUID(),
    });
    request.$unknown = encodeChanges(1, changes);
    const res = await this.call(
      async (o) =>
        (
          await this.transport.unary(
            this.fast.applyChanges,
            undefined,
            o.timeoutMs,
            undefined,
            request,
            undefined,
          )
        ).message as Message & { stateToken: string },
      { idempotent: true, timeoutMs: WRITE_TIMEOUT_MS },
    );
    const results = decodeApplied(1, res.$unknown);
    this.ownWrites(results.length, res.stateToken);
    return results;
  }

  async deleteResource(
    kind: DeclaredKind,
    name: string,
    options: { expectedVersion?: number; message?: string } = {},
  ): Promise<AppliedChange> {
    const change: ResourceChange = { op: 'delete', kind, name };
    if (options.expectedVersion !== undefined) change.expectedVersion = options.expectedVersion;
    const [applied] = await this.applyChanges(
      [change],
      options.message !== undefined ? { message: options.message } : {},
    );
    return applied!;
  }

  async listVersions(kind: DeclaredKind, name: string): Promise<HistoryEntry[]> {
    const res = await this.read((o) => this.rpc.listVersions({ kind, name }, o));
    return res.versions.map(fromWireVersion);
  }

  async status(): Promise<BackendStatus> {
    const started = performance.now();
    const res = await this.read((o) => this.rpc.getStatus({}, o));
    const roundTripMs = Math.round((performance.now() - started) * 10) / 10;
    const counts: Record<string, number> = {};
    for (const [k, n] of Object.entries(res.counts)) counts[k] = Number(n);
    return {
      info: { ...this.info },
      schemaVersion: res.schemaVersion,
      counts,
      server: {
        version: res.serverVersion,
        store: { type: res.backendType, location: res.location },
        roundTripMs,
      },
    };
  }

  async createExecution(input: CreateExecutionInput): Promise<Execution> {
    if (input?.kind !== 'AgentExecution' && input?.kind !== 'WorkflowExecution') {
      throw new StigmerError(
        'USAGE',
        `execution kind must be AgentExecution or WorkflowExecution, got "${String(input?.kind)}"`,
      );
    }
    const res = await this.write((o) =>
      this.rpc.createExecution(
        {
          kind: toWireExecutionKind(input.kind),
          target: input.target,
          input: input.input,
          ...(input.sessionId !== undefined ? { sessionId: input.sessionId } : {}),
          environmentRefs: input.environmentRefs ?? [],
          ...(input.resumedFrom !== undefined ? { resumedFrom: input.resumedFrom } : {}),
        },
        o,
      ),
    );
    return fromWireExecution(res.execution!);
  }

  async getExecution(id: string): Promise<Execution> {
    const res = await this.read((o) => this.rpc.getExecution({ id }, o));
    return fromWireExecution(res.execution!);
  }

  async updateExecutionStatus(id: string, update: ExecutionUpdate): Promise<Execution> {
    // The store's own checks, before anything is sent (the server checks again).
    checkExecutionUpdate(update);
    const phase = toWirePhase(update.phase);
    const res = await this.write((o) =>
      this.rpc.updateExecutionStatus(
        {
          id,
          phase,
          ...(update.output !== undefined ? { output: update.output } : {}),
          ...(typeof update.error === 'string' ? { error: update.error } : {}),
          clearError: update.error === null,
          ...(update.usage !== undefined ? { usage: toWireUsage(update.usage) } : {}),
          ...(update.transcriptArtifactId !== undefined
            ? { transcriptArtifactId: update.transcriptArtifactId }
            : {}),
          ...(update.tasks !== undefined ? { tasks: update.tasks.map(toWireTask), replaceTasks: true } : {}),
          ...(update.sessionMessages !== undefined ? { sessionMessages: update.sessionMessages } : {}),
          ...(update.leaseMs !== undefined ? { leaseMillis: BigInt(update.leaseMs) } : {}),
        },
        o,
      ),
    );
    return fromWireExecution(res.execution!);
  }

  async heartbeatExecution(id: string, options: { leaseMs: number }): Promise<Execution> {
    if (typeof options?.leaseMs !== 'number' || !Number.isInteger(options.leaseMs)) {
      throw new StigmerError(
        'USAGE',
        `a lease must be a whole number of milliseconds, got ${String(options?.leaseMs)}`,
      );
    }
    // A heartbeat twice is a heartbeat: safe to retry.
    const res = await this.read((o) =>
      this.rpc.heartbeatExecution({ id, leaseMillis: BigInt(options.leaseMs) }, o),
    );
    return fromWireExecution(res.execution!);
  }

  async getSession(id: string): Promise<Session> {
    const res = await this.read((o) => this.rpc.getSession({ id }, o));
    return fromWireSession(res.session!);
  }

  async listExecutions(
    filter: { kind?: Execution['kind']; target?: string; pageSize?: number } = {},
  ): Promise<Execution[]> {
    const res = await this.read((o) =>
      this.rpc.listExecutions(
        {
          kind: toWireExecutionKind(filter.kind),
          target: filter.target ?? '',
          pageSize: filter.pageSize ?? 0,
        },
        o,
      ),
    );
    return res.executions.map(fromWireExecution);
  }

  async cancelExecution(id: string): Promise<Execution> {
    // Cancelling twice is the same as once, so a retry is safe.
    const res = await this.read((o) => this.rpc.cancelExecution({ id }, o));
    return fromWireExecution(res.execution!);
  }

  async getExecutionContext(executionId: string): Promise<ExecutionContext> {
    const res = await this.read((o) => this.rpc.getExecutionContext({ executionId }, o));
    const secrets: Record<string, SealedVariable> = {};
    for (const s of res.secrets) {
      secrets[s.name] = { environment: s.environment, sealed: { hash: s.hash, ciphertext: s.ciphertext } };
    }
    return { executionId: res.executionId, data: { ...res.data }, secrets };
  }

  async storeArtifact(input: {
    executionId?: string;
    name: string;
    contentType: string;
    data: Uint8Array;
  }): Promise<Artifact> {
    if (typeof input?.name !== 'string' || input.name === '' || !(input.data instanceof Uint8Array)) {
      throw new StigmerError('USAGE', 'an artifact needs a name and its data as bytes');
    }
    const res = await this.write((o) =>
      this.rpc.storeArtifact(
        {
          ...(input.executionId !== undefined ? { executionId: input.executionId } : {}),
          name: input.name,
          contentType: input.contentType,
          data: input.data,
        },
        { ...o, timeoutMs: WRITE_TIMEOUT_MS },
      ),
    );
    return fromWireArtifact(res.artifact!);
  }

  async getArtifact(id: string): Promise<Artifact> {
    const res = await this.read((o) => this.rpc.getArtifact({ id }, o));
    return fromWireArtifact(res.artifact!);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sessions.abort();
  }
}

function isTlsFailure(err: unknown): boolean {
  return causeCodes(err).some((c) => /CERT|SSL|TLS|EPROTO|SELF_SIGNED|VERIFY/.test(c));
}
