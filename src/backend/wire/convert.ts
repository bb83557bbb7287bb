/**
 * The Backend contract's values on the wire (proto/stigmer/backend/v1/backend.proto), both
 * ways: the server turns requests into Backend calls and results into responses, the cloud
 * backend does the reverse. One module for both sides keeps the two mappings identical: what
 * the server sends is exactly what the client reads back (ISO times as Timestamps, versions as
 * int64, spec and status as google.protobuf.Struct).
 */
import { create } from '@bufbuild/protobuf';
import { type Timestamp, timestampDate, timestampFromMs } from '@bufbuild/protobuf/wkt';
import { StigmerError } from '../../errors.js';
import {
  AppliedChangeSchema,
  ArtifactSchema,
  ChangeOperation,
  ExecutionKind,
  ExecutionSchema,
  ResourceChangeSchema,
  ResourceSchema,
  ResourceVersionSchema,
  SessionSchema,
  TaskExecutionSchema,
  TokenUsageSchema,
  type AppliedChange as WireAppliedChange,
  type Artifact as WireArtifact,
  type Execution as WireExecution,
  ExecutionPhase as WirePhase,
  type Resource as WireResource,
  type ResourceChange as WireResourceChange,
  type ResourceVersion as WireResourceVersion,
  type Session as WireSession,
  type TaskExecution as WireTaskExecution,
  type TokenUsage as WireTokenUsage,
} from '../../gen/stigmer/backend/v1/backend_pb.js';
import type { DeclaredKind, JsonObject, StoredResource } from '../../types.js';
import type {
  AppliedChange,
  Artifact,
  Execution,
  ExecutionPhase,
  HistoryEntry,
  ResourceChange,
  Session,
  TaskExecution,
  TokenUsage,
} from '../types.js';

// --- scalars -------------------------------------------------------------------------------

/** An ISO time (as the stores write it) as a Timestamp; the round trip keeps milliseconds. */
export function toTimestamp(iso: string): Timestamp {
  const ms = Date.parse(iso);
  return timestampFromMs(Number.isNaN(ms) ? 0 : ms);
}

export function fromTimestamp(ts: Timestamp | undefined): string {
  return ts ? timestampDate(ts).toISOString() : new Date(0).toISOString();
}

/** An int64 version as a number; anything beyond 2^53 is not a version a store ever wrote. */
export function fromInt64(value: bigint): number {
  return Number(value);
}

// --- resources -----------------------------------------------------------------------------

export function toWireResource(r: StoredResource): WireResource {
  return create(ResourceSchema, {
    id: r.id,
    kind: r.kind,
    name: r.name,
    labels: r.labels,
    annotations: r.annotations,
    spec: r.spec,
    status: r.status,
    version: BigInt(r.version),
    createTime: toTimestamp(r.createdAt),
    updateTime: toTimestamp(r.updatedAt),
  });
}

export function fromWireResource(r: WireResource): StoredResource {
  return {
    id: r.id,
    kind: r.kind as DeclaredKind,
    name: r.name,
    labels: r.labels,
    annotations: r.annotations,
    spec: r.spec ?? {},
    status: r.status ?? {},
    version: fromInt64(r.version),
    createdAt: fromTimestamp(r.createTime),
    updatedAt: fromTimestamp(r.updateTime),
  };
}

const OPERATIONS = {
  create: ChangeOperation.CREATE,
  update: ChangeOperation.UPDATE,
  delete: ChangeOperation.DELETE,
  assert: ChangeOperation.ASSERT,
} as const;

function operationName(op: ChangeOperation): ResourceChange['op'] | null {
  switch (op) {
    case ChangeOperation.CREATE:
      return 'create';
    case ChangeOperation.UPDATE:
      return 'update';
    case ChangeOperation.DELETE:
      return 'delete';
    case ChangeOperation.ASSERT:
      return 'assert';
    default:
      return null;
  }
}

export function toWireChange(c: ResourceChange): WireResourceChange {
  const expectation: WireResourceChange['expectation'] =
    c.expectedVersion === null
      ? { case: 'expectAbsent', value: true }
      : c.expectedVersion === undefined
        ? { case: undefined }
        : { case: 'expectedVersion', value: BigInt(c.expectedVersion) };
  const fields =
    c.op === 'create' || c.op === 'update'
      ? { labels: c.labels ?? {}, annotations: c.annotations ?? {}, spec: c.spec ?? {} }
      : {};
  return create(ResourceChangeSchema, {
    operation: OPERATIONS[c.op],
    kind: c.kind,
    name: c.name,
    ...fields,
    expectation,
  });
}

/**
 * A change as the client sent it. The shape is checked here; names, kinds and versions are
 * checked by the store, so every backend refuses the same things with the same errors.
 */
export function fromWireChange(c: WireResourceChange, index: number): ResourceChange {
  const op = operationName(c.operation);
  if (op === null) {
    throw new StigmerError('USAGE', `change ${index + 1}: the operation is not set`, {
      hint: 'set operation to CREATE, UPDATE, DELETE or ASSERT',
    });
  }
  const kind = c.kind as DeclaredKind;
  const expected =
    c.expectation.case === 'expectedVersion'
      ? fromInt64(c.expectation.value)
      : c.expectation.case === 'expectAbsent' && c.expectation.value
        ? null
        : undefined;
  switch (op) {
    case 'create':
    case 'update': {
      const change = {
        op,
        kind,
        name: c.name,
        labels: c.labels,
        annotations: c.annotations,
        spec: c.spec ?? {},
      } as ResourceChange & { expectedVersion?: number | null };
      if (expected !== undefined) change.expectedVersion = expected;
      return change;
    }
    case 'delete': {
      if (expected === null) {
        throw new StigmerError(
          'USAGE',
          `change ${index + 1}: a delete cannot expect the resource to be absent`,
        );
      }
      return expected === undefined
        ? { op, kind, name: c.name }
        : { op, kind, name: c.name, expectedVersion: expected };
    }
    case 'assert':
      if (expected === undefined) {
        throw new StigmerError(
          'USAGE',
          `change ${index + 1}: an assert needs expected_version or expect_absent`,
        );
      }
      return { op, kind, name: c.name, expectedVersion: expected };
  }
}

export function toWireApplied(a: AppliedChange): WireAppliedChange {
  return create(AppliedChangeSchema, {
    operation: OPERATIONS[a.op],
    kind: a.kind,
    name: a.name,
    id: a.id,
    version: BigInt(a.version),
  });
}

export function fromWireApplied(a: WireAppliedChange): AppliedChange {
  return {
    op: operationName(a.operation) as AppliedChange['op'],
    kind: a.kind as DeclaredKind,
    name: a.name,
    id: a.id,
    version: fromInt64(a.version),
  };
}

export function toWireVersion(h: HistoryEntry): WireResourceVersion {
  return create(ResourceVersionSchema, {
    kind: h.kind,
    name: h.name,
    resourceId: h.resourceId,
    version: BigInt(h.version),
    operation: OPERATIONS[h.action],
    labels: h.snapshot.labels,
    annotations: h.snapshot.annotations,
    spec: h.snapshot.spec,
    ...(h.message !== null ? { message: h.message } : {}),
    createTime: toTimestamp(h.createdAt),
  });
}

export function fromWireVersion(v: WireResourceVersion): HistoryEntry {
  return {
    kind: v.kind as DeclaredKind,
    name: v.name,
    resourceId: v.resourceId,
    version: fromInt64(v.version),
    action: operationName(v.operation) as HistoryEntry['action'],
    snapshot: { labels: v.labels, annotations: v.annotations, spec: v.spec ?? {} },
    message: v.message ?? null,
    createdAt: fromTimestamp(v.createTime),
  };
}

// --- executions and artifacts --------------------------------------------------------------

export function toWireExecutionKind(kind: Execution['kind'] | undefined): ExecutionKind {
  if (kind === 'AgentExecution') return ExecutionKind.AGENT;
  if (kind === 'WorkflowExecution') return ExecutionKind.WORKFLOW;
  return ExecutionKind.UNSPECIFIED;
}

/** The kind of an execution request; `undefined` for UNSPECIFIED (the store refuses it where needed). */
export function fromWireExecutionKind(kind: ExecutionKind): Execution['kind'] | undefined {
  if (kind === ExecutionKind.AGENT) return 'AgentExecution';
  if (kind === ExecutionKind.WORKFLOW) return 'WorkflowExecution';
  return undefined;
}

const PHASES: Record<ExecutionPhase, WirePhase> = {
  PENDING: WirePhase.PENDING,
  RUNNING: WirePhase.RUNNING,
  COMPLETED: WirePhase.COMPLETED,
  FAILED: WirePhase.FAILED,
  CANCELLED: WirePhase.CANCELLED,
};

export function toWirePhase(phase: ExecutionPhase): WirePhase {
  return PHASES[phase] ?? WirePhase.UNSPECIFIED;
}

/** A phase from the wire; UNSPECIFIED (or a number this program does not know) becomes its name. */
export function fromWirePhase(phase: WirePhase): ExecutionPhase {
  const name = WirePhase[phase];
  return (name ?? String(phase)) as ExecutionPhase;
}

function fromOptionalTime(ts: Timestamp | undefined): string | null {
  return ts ? fromTimestamp(ts) : null;
}

export function toWireUsage(u: TokenUsage): WireTokenUsage {
  return create(TokenUsageSchema, {
    promptTokens: BigInt(u.promptTokens),
    completionTokens: BigInt(u.completionTokens),
    totalTokens: BigInt(u.totalTokens),
  });
}

export function fromWireUsage(u: WireTokenUsage | undefined): TokenUsage {
  return {
    promptTokens: Number(u?.promptTokens ?? 0n),
    completionTokens: Number(u?.completionTokens ?? 0n),
    totalTokens: Number(u?.totalTokens ?? 0n),
  };
}

export function toWireTask(t: TaskExecution): WireTaskExecution {
  return create(TaskExecutionSchema, {
    name: t.name,
    agent: t.agent,
    phase: toWirePhase(t.phase),
    inputs: t.inputs,
    outputs: t.outputs,
    ...(t.error !== null ? { error: t.error } : {}),
    ...(t.startedAt !== null ? { startTime: toTimestamp(t.startedAt) } : {}),
    ...(t.finishedAt !== null ? { finishTime: toTimestamp(t.finishedAt) } : {}),
    usage: toWireUsage(t.usage),
    ...(t.transcriptArtifactId !== null ? { transcriptArtifactId: t.transcriptArtifactId } : {}),
  });
}

export function fromWireTask(t: WireTaskExecution): TaskExecution {
  return {
    name: t.name,
    agent: t.agent,
    phase: fromWirePhase(t.phase),
    inputs: (t.inputs ?? {}) as JsonObject,
    outputs: (t.outputs ?? {}) as JsonObject,
    error: t.error ?? null,
    startedAt: fromOptionalTime(t.startTime),
    finishedAt: fromOptionalTime(t.finishTime),
    usage: fromWireUsage(t.usage),
    transcriptArtifactId: t.transcriptArtifactId ?? null,
  };
}

export function toWireExecution(e: Execution): WireExecution {
  return create(ExecutionSchema, {
    id: e.id,
    kind: toWireExecutionKind(e.kind),
    target: e.target,
    phase: toWirePhase(e.phase),
    input: e.input,
    output: e.output,
    ...(e.error !== null ? { error: e.error } : {}),
    ...(e.sessionId !== undefined ? { sessionId: e.sessionId } : {}),
    createTime: toTimestamp(e.createdAt),
    updateTime: toTimestamp(e.updatedAt),
    environmentRefs: e.environmentRefs,
    ...(e.resumedFrom !== null ? { resumedFrom: e.resumedFrom } : {}),
    ...(e.startedAt !== null ? { startTime: toTimestamp(e.startedAt) } : {}),
    ...(e.finishedAt !== null ? { finishTime: toTimestamp(e.finishedAt) } : {}),
    ...(e.heartbeatAt !== null ? { heartbeatTime: toTimestamp(e.heartbeatAt) } : {}),
    ...(e.leaseUntil !== null ? { leaseExpireTime: toTimestamp(e.leaseUntil) } : {}),
    usage: toWireUsage(e.usage),
    ...(e.transcriptArtifactId !== null ? { transcriptArtifactId: e.transcriptArtifactId } : {}),
    tasks: e.tasks.map(toWireTask),
  });
}

export function fromWireExecution(e: WireExecution): Execution {
  const execution: Execution = {
    id: e.id,
    kind: fromWireExecutionKind(e.kind) ?? 'AgentExecution',
    target: e.target,
    phase: fromWirePhase(e.phase),
    input: (e.input ?? {}) as JsonObject,
    output: (e.output ?? {}) as JsonObject,
    error: e.error ?? null,
    environmentRefs: [...e.environmentRefs],
    resumedFrom: e.resumedFrom ?? null,
    startedAt: fromOptionalTime(e.startTime),
    finishedAt: fromOptionalTime(e.finishTime),
    heartbeatAt: fromOptionalTime(e.heartbeatTime),
    leaseUntil: fromOptionalTime(e.leaseExpireTime),
    usage: fromWireUsage(e.usage),
    transcriptArtifactId: e.transcriptArtifactId ?? null,
    tasks: e.tasks.map(fromWireTask),
    createdAt: fromTimestamp(e.createTime),
    updatedAt: fromTimestamp(e.updateTime),
  };
  if (e.sessionId !== undefined) execution.sessionId = e.sessionId;
  return execution;
}

export function toWireSession(s: Session): WireSession {
  return create(SessionSchema, {
    id: s.id,
    ...(s.agent !== null ? { agentName: s.agent } : {}),
    messages: s.messages,
    createTime: toTimestamp(s.createdAt),
    updateTime: toTimestamp(s.updatedAt),
  });
}

export function fromWireSession(s: WireSession): Session {
  return {
    id: s.id,
    agent: s.agentName ?? null,
    messages: s.messages.map((m) => m as JsonObject),
    createdAt: fromTimestamp(s.createTime),
    updatedAt: fromTimestamp(s.updateTime),
  };
}

export function toWireArtifact(a: Artifact): WireArtifact {
  return create(ArtifactSchema, {
    id: a.id,
    ...(a.executionId !== null ? { executionId: a.executionId } : {}),
    name: a.name,
    contentType: a.contentType,
    data: a.data,
    size: BigInt(a.data.byteLength),
    createTime: toTimestamp(a.createdAt),
  });
}

export function fromWireArtifact(a: WireArtifact): Artifact {
  return {
    id: a.id,
    executionId: a.executionId ?? null,
    name: a.name,
    contentType: a.contentType,
    data: a.data,
    createdAt: fromTimestamp(a.createTime),
  };
}
