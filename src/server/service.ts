/**
 * BackendService over a Store: every RPC of proto/stigmer/backend/v1/backend.proto is one call
 * of the Backend contract, converted both ways by src/backend/wire. Handlers hold no state and
 * raise StigmerErrors; the error interceptor (interceptors.ts) turns them into statuses. The
 * typed CRUD RPCs of the original service (agents, workflows, environments) are thin forms of
 * the generic resource calls, so there is one write path: applyChanges.
 */
import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import type { Backend } from '../backend/types.js';
import {
  fromWireExecutionKind,
  fromWirePhase,
  fromWireTask,
  fromWireUsage,
  toWireApplied,
  toWireArtifact,
  toWireExecution,
  toWireResource,
  toWireSession,
  toWireVersion,
} from '../backend/wire/convert.js';
import { decodeChanges, encodeApplied, encodeResources } from '../backend/wire/fast.js';
import { NotFoundError, StigmerError } from '../errors.js';
import {
  ApplyChangesResponseSchema,
  type BackendService,
  ListResourcesResponseSchema,
  type ResourceInput,
  SealedVariableSchema,
  ExecutionPhase as WirePhase,
} from '../gen/stigmer/backend/v1/backend_pb.js';
import type { DeclaredKind, JsonObject, StoredResource } from '../types.js';
import { type Store, storeStateToken } from './store.js';

export interface ServiceOptions {
  /** Version of this program, reported by GetStatus. */
  version: string;
}

export function backendServiceImpl(
  store: Store,
  options: ServiceOptions,
): ServiceImpl<typeof BackendService> {
  const get = async (kind: DeclaredKind, name: string): Promise<StoredResource> => {
    const found = await store.getResource(kind, name);
    if (!found) throw new NotFoundError(kind, name);
    return found;
  };
  const list = async (kind: DeclaredKind, pageSize: number, pageToken: string) => {
    const page = await store.listResources(kind, {
      ...(pageSize !== 0 ? { pageSize } : {}),
      ...(pageToken !== '' ? { pageToken } : {}),
    });
    return { items: page.items.map(toWireResource), nextPageToken: page.nextPageToken ?? '' };
  };
  const write = async (
    kind: DeclaredKind,
    op: 'create' | 'update',
    input: ResourceInput | undefined,
    expectedVersion: bigint | undefined,
    message: string | undefined,
  ) => {
    if (!input) throw new StigmerError('USAGE', `${op} ${kind}: the request has no ${kind.toLowerCase()}`);
    const change = {
      op,
      kind,
      name: input.name,
      labels: input.labels,
      annotations: input.annotations,
      spec: input.spec ?? {},
      ...(expectedVersion !== undefined ? { expectedVersion: Number(expectedVersion) } : {}),
    };
    await store.applyChanges([change as never], message !== undefined ? { message } : {});
    return toWireResource(await get(kind, input.name));
  };
  const remove = async (
    kind: DeclaredKind,
    name: string,
    expectedVersion: bigint | undefined,
    message: string | undefined,
  ) =>
    toWireApplied(
      await store.deleteResource(kind, name, {
        ...(expectedVersion !== undefined ? { expectedVersion: Number(expectedVersion) } : {}),
        ...(message !== undefined ? { message } : {}),
      }),
    );

  return {
    // --- executions -------------------------------------------------------------------------
    async createExecution(req) {
      const kind = fromWireExecutionKind(req.kind);
      const execution = await store.createExecution({
        kind: kind as NonNullable<typeof kind>,
        target: req.target,
        input: req.input ?? {},
        ...(req.sessionId !== undefined ? { sessionId: req.sessionId } : {}),
        environmentRefs: req.environmentRefs,
        ...(req.resumedFrom !== undefined ? { resumedFrom: req.resumedFrom } : {}),
      });
      return { execution: toWireExecution(execution) };
    },
    async getExecution(req) {
      return { execution: toWireExecution(await store.getExecution(req.id)) };
    },
    async updateExecutionStatus(req) {
      if (req.phase === WirePhase.UNSPECIFIED) {
        throw new StigmerError('USAGE', 'unknown execution phase "UNSPECIFIED"');
      }
      const update: Parameters<Backend['updateExecutionStatus']>[1] = { phase: fromWirePhase(req.phase) };
      if (req.output !== undefined) update.output = req.output;
      if (req.clearError) update.error = null;
      else if (req.error !== undefined) update.error = req.error;
      if (req.usage !== undefined) update.usage = fromWireUsage(req.usage);
      if (req.transcriptArtifactId !== undefined) update.transcriptArtifactId = req.transcriptArtifactId;
      if (req.replaceTasks) update.tasks = req.tasks.map(fromWireTask);
      if (req.sessionMessages.length > 0) update.sessionMessages = req.sessionMessages as JsonObject[];
      if (req.leaseMillis !== undefined) update.leaseMs = Number(req.leaseMillis);
      return { execution: toWireExecution(await store.updateExecutionStatus(req.id, update)) };
    },
    async heartbeatExecution(req) {
      const execution = await store.heartbeatExecution(req.id, { leaseMs: Number(req.leaseMillis) });
      return { execution: toWireExecution(execution) };
    },
    async getSession(req) {
      return { session: toWireSession(await store.getSession(req.id)) };
    },
    async listExecutions(req) {
      const kind = fromWireExecutionKind(req.kind);
      const executions = await store.listExecutions({
        ...(kind !== undefined ? { kind } : {}),
        ...(req.target !== '' ? { target: req.target } : {}),
        ...(req.pageSize !== 0 ? { pageSize: req.pageSize } : {}),
      });
      return { executions: executions.map(toWireExecution) };
    },
    async cancelExecution(req) {
      return { execution: toWireExecution(await store.cancelExecution(req.id)) };
    },
    async getExecutionContext(req) {
      const context = await store.getExecutionContext(req.executionId);
      return {
        executionId: context.executionId,
        data: context.data,
        secrets: Object.entries(context.secrets).map(([name, v]) =>
          create(SealedVariableSchema, {
            name,
            environment: v.environment,
            hash: v.sealed.hash,
            ciphertext: v.sealed.ciphertext,
          }),
        ),
      };
    },

    // --- agents, workflows, environments ----------------------------------------------------
    async getAgent(req) {
      return { agent: toWireResource(await get('Agent', req.name)) };
    },
    async listAgents(req) {
      const page = await list('Agent', req.pageSize, req.pageToken);
      return { agents: page.items, nextPageToken: page.nextPageToken };
    },
    async createAgent(req) {
      return { agent: await write('Agent', 'create', req.agent, undefined, req.message) };
    },
    async updateAgent(req) {
      return { agent: await write('Agent', 'update', req.agent, req.expectedVersion, req.message) };
    },
    async deleteAgent(req) {
      return { result: await remove('Agent', req.name, req.expectedVersion, req.message) };
    },
    async getWorkflow(req) {
      return { workflow: toWireResource(await get('Workflow', req.name)) };
    },
    async listWorkflows(req) {
      const page = await list('Workflow', req.pageSize, req.pageToken);
      return { workflows: page.items, nextPageToken: page.nextPageToken };
    },
    async createWorkflow(req) {
      return { workflow: await write('Workflow', 'create', req.workflow, undefined, req.message) };
    },
    async updateWorkflow(req) {
      return { workflow: await write('Workflow', 'update', req.workflow, req.expectedVersion, req.message) };
    },
    async deleteWorkflow(req) {
      return { result: await remove('Workflow', req.name, req.expectedVersion, req.message) };
    },
    async getEnvironment(req) {
      return { environment: toWireResource(await get('Environment', req.name)) };
    },
    async createEnvironment(req) {
      return { environment: await write('Environment', 'create', req.environment, undefined, req.message) };
    },
    async updateEnvironment(req) {
      return {
        environment: await write('Environment', 'update', req.environment, req.expectedVersion, req.message),
      };
    },

    // --- artifacts --------------------------------------------------------------------------
    async storeArtifact(req) {
      const artifact = await store.storeArtifact({
        ...(req.executionId !== undefined ? { executionId: req.executionId } : {}),
        name: req.name,
        contentType: req.contentType,
        data: req.data,
      });
      return { artifact: toWireArtifact(artifact) };
    },
    async getArtifact(req) {
      return { artifact: toWireArtifact(await store.getArtifact(req.id)) };
    },

    // --- generic resources ------------------------------------------------------------------
    async listResources(req) {
      // The page's resources go out through the fast codec (wire/fast.ts), as unknown fields.
      const page = await store.listResources(req.kind as DeclaredKind, {
        ...(req.pageSize !== 0 ? { pageSize: req.pageSize } : {}),
        ...(req.pageToken !== '' ? { pageToken: req.pageToken } : {}),
      });
      const res = create(ListResourcesResponseSchema, { nextPageToken: page.nextPageToken ?? '' });
      res.$unknown = encodeResources(1, page.items, { json: req.jsonSpecs });
      return res;
    },
    async getResource(req) {
      const found = await store.getResource(req.kind as DeclaredKind, req.name);
      return found ? { resource: toWireResource(found) } : {};
    },
    async applyChanges(req) {
      // Registered with the request's view (serverService): the changes arrive undecoded.
      const changes = decodeChanges(1, req.$unknown);
      const results = await store.applyChanges(changes, {
        ...(req.message !== undefined ? { message: req.message } : {}),
        ...(req.project !== '' ? { project: req.project } : {}),
        ...(req.requestId !== '' ? { requestId: req.requestId } : {}),
      });
      const res = create(ApplyChangesResponseSchema, { stateToken: await storeStateToken(store) });
      res.$unknown = encodeApplied(1, results);
      return res;
    },
    async deleteResource(req) {
      return { result: await remove(req.kind as DeclaredKind, req.name, req.expectedVersion, req.message) };
    },
    async listVersions(req) {
      const versions = await store.listVersions(req.kind as DeclaredKind, req.name);
      return { versions: versions.map(toWireVersion) };
    },
    async getStatus() {
      const status = await store.status();
      const counts: Record<string, bigint> = {};
      for (const [k, n] of Object.entries(status.counts)) counts[k] = BigInt(n);
      return {
        backendType: status.info.type,
        location: status.info.location,
        schemaVersion: status.schemaVersion,
        counts,
        serverVersion: options.version,
      };
    },
    async stateToken() {
      return { stateToken: await storeStateToken(store) };
    },
  };
}
