/**
 * The one Backend contract (DESIGN.md §3). The local SQLite store and the gRPC cloud client
 * both implement it, and `describeBackendContract` (test/contract) proves they behave alike.
 * Every method is async so that the remote implementation fits the same shape.
 */
import type { BackendInfo, DeclaredKind, JsonObject, StoredResource } from '../types.js';

// Shared with the pure planner, so they live in src/types.ts; re-exported for the backends.
export type { BackendInfo, BackendType } from '../types.js';

export interface Page<T> {
  items: T[];
  /** Opaque token for the next page; absent on the last page. */
  nextPageToken?: string;
}

export interface ListOptions {
  /** Default 500, maximum 5000. */
  pageSize?: number;
  pageToken?: string;
}

/** One write of an atomic batch. `expectedVersion: null` means "must not exist yet". */
export type ResourceChange =
  | {
      op: 'create';
      kind: DeclaredKind;
      name: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
      spec: JsonObject;
      expectedVersion?: null;
    }
  | {
      op: 'update';
      kind: DeclaredKind;
      name: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
      spec: JsonObject;
      /** When given, the stored version must equal it or the batch fails with ConflictError. */
      expectedVersion?: number;
    }
  | {
      op: 'delete';
      kind: DeclaredKind;
      name: string;
      expectedVersion?: number;
    }
  | {
      /**
       * Writes nothing: fails the batch with ConflictError unless the resource is at
       * `expectedVersion` (null: absent). Saved plans use it to prove that what they did not
       * change is still as it was when planned, inside the same transaction.
       */
      op: 'assert';
      kind: DeclaredKind;
      name: string;
      expectedVersion: number | null;
    };

export interface ApplyChangesOptions {
  /** Recorded with every history row of the batch (`stigmer apply --message`). */
  message?: string;
  /**
   * The project the batch applies for (`applyPlan` always gives it). The store then checks
   * every change against the live row inside the transaction (`checkOwnership` in
   * ownership.ts): no write touches or hands over a resource of another project, no delete
   * removes one this project does not own or one with `stigmer.ai/prevent-destroy: "true"`.
   * A violation fails the whole batch with StigmerError `OWNERSHIP` or `PREVENT_DESTROY`.
   */
  project?: string;
  /**
   * Identifies the batch across retries (the cloud backend makes one per call and sends it again
   * when it retries). The store remembers recent ids with their results in the database, so the
   * same id returns the original results instead of applying again; the same id with another
   * batch is refused (USAGE).
   */
  requestId?: string;
}

/** Result of one write (asserts produce none). */
export interface AppliedChange {
  op: 'create' | 'update' | 'delete';
  kind: DeclaredKind;
  name: string;
  id: string;
  /** Version after the write (for delete: the version the resource had when deleted). */
  version: number;
}

export interface HistoryEntry {
  kind: DeclaredKind;
  name: string;
  resourceId: string;
  version: number;
  action: 'create' | 'update' | 'delete';
  /** The resource as it was after this change (for delete: as it was before). */
  snapshot: { labels: Record<string, string>; annotations: Record<string, string>; spec: JsonObject };
  message: string | null;
  createdAt: string;
}

export interface BackendStatus {
  info: BackendInfo;
  schemaVersion: number;
  counts: Record<string, number>;
  /** Cloud only: the server answering, and how long one status call took. */
  server?: {
    /** Version of the stigmer program serving the endpoint. */
    version: string;
    /** The server's own store: its type and location (a path, never a password). */
    store: { type: string; location: string };
    roundTripMs: number;
  };
}

export type ExecutionPhase = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';

/** Tokens a run used, as the model endpoint reported them (zeros when it reported none). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

/** One task of a workflow execution (DESIGN.md §6c), kept inside the WorkflowExecution record. */
export interface TaskExecution {
  /** The task's name in the workflow. */
  name: string;
  /** The agent the task runs. */
  agent: string;
  phase: ExecutionPhase;
  /** The task's inputs as rendered for this run. */
  inputs: JsonObject;
  /** The declared outputs the task produced (empty until COMPLETED). */
  outputs: JsonObject;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  usage: TokenUsage;
  /** The artifact holding the task's transcript, once written. */
  transcriptArtifactId: string | null;
}

export type ExecutionKind = 'AgentExecution' | 'WorkflowExecution';

export interface Execution {
  id: string;
  /** 'AgentExecution' or 'WorkflowExecution'. */
  kind: 'AgentExecution' | 'WorkflowExecution';
  /** Name of the agent or workflow it runs. */
  target: string;
  phase: ExecutionPhase;
  input: JsonObject;
  output: JsonObject;
  error: string | null;
  /** The conversation an agent execution belongs to (agent executions only). */
  sessionId?: string;
  /** The environments the run's context is resolved from, in order (later ones win). */
  environmentRefs: string[];
  /** The execution this one resumes (workflow `--resume`), else null. */
  resumedFrom: string | null;
  /** When it became RUNNING, and when it became COMPLETED, FAILED or CANCELLED. */
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * The runner's last heartbeat, and until when it promised the next one. A PENDING or RUNNING
   * execution whose lease has passed is recorded FAILED ("runner lost") when next read or
   * touched: its process died.
   */
  heartbeatAt: string | null;
  leaseUntil: string | null;
  usage: TokenUsage;
  /** The artifact holding the transcript (messages, tool calls and results), once written. */
  transcriptArtifactId: string | null;
  /** Workflow executions: one record per task, in the workflow's order. Empty for agents. */
  tasks: TaskExecution[];
  createdAt: string;
  updatedAt: string;
}

export interface CreateExecutionInput {
  kind: 'AgentExecution' | 'WorkflowExecution';
  target: string;
  input: JsonObject;
  /** Continue this session (agent executions); a new session is started when absent. */
  sessionId?: string;
  /** Environments whose variables the run gets, resolved just in time by getExecutionContext. */
  environmentRefs?: string[];
  /** The execution this one resumes; it must exist and be of the same kind. */
  resumedFrom?: string;
}

/** A change to an execution record. Absent fields keep their stored value. */
export interface ExecutionUpdate {
  phase: ExecutionPhase;
  output?: JsonObject;
  error?: string | null;
  usage?: TokenUsage;
  transcriptArtifactId?: string;
  /** Replaces the task records. */
  tasks?: TaskExecution[];
  /** Appended to the execution's session, in the same write (agent executions). */
  sessionMessages?: JsonObject[];
  /** Heartbeats in the same write: the runner promises its next heartbeat within this many ms. */
  leaseMs?: number;
}

/** A conversation: the messages that agent executions sharing it have exchanged, oldest first. */
export interface Session {
  id: string;
  /** The agent whose first execution started it. */
  agent: string | null;
  messages: JsonObject[];
  createdAt: string;
  updatedAt: string;
}

/** A secret variable of an execution context, still sealed (`sealSecret`, src/secrets). */
export interface SealedVariable {
  /** The Environment the value comes from (part of what the ciphertext is bound to). */
  environment: string;
  sealed: { hash: string; ciphertext: string };
}

/**
 * The variables of an execution's environments, resolved just in time and never stored. A name
 * is in `data` or in `secrets`, never both: a later environment wins. Backends never decrypt:
 * the client running the execution does (`revealExecutionContext`, src/secrets).
 */
export interface ExecutionContext {
  executionId: string;
  /** Non-secret variables. */
  data: Record<string, string>;
  /** Secret variables, sealed as stored. */
  secrets: Record<string, SealedVariable>;
}

export interface Artifact {
  id: string;
  executionId: string | null;
  name: string;
  contentType: string;
  data: Uint8Array;
  createdAt: string;
}

/** Options of `Backend.listAllResources`. */
export interface BulkListOptions {
  /**
   * The JSON text the stored spec of the resource named `name` is expected to have (the
   * manifests' spec), if known. A backend with `sharesSpecTexts` gives a resource whose stored
   * text equals it that same string instead of a copy of its own: a no-op plan of 100,000
   * resources then holds one copy of every spec text instead of two (issue 17). Others ignore it.
   */
  expectedSpecText?: (name: string) => string | undefined;
  /**
   * Called once with the digest of exactly the rows the list returned, the one
   * `resourcesDigest` combines for this kind. Backends without `resourcesDigest` ignore it.
   */
  onDigest?: (digest: string) => void;
}

export interface Backend {
  readonly info: BackendInfo;

  /** Bulk, paged list of one kind, ordered by name. */
  listResources(kind: DeclaredKind, options?: ListOptions): Promise<Page<StoredResource>>;
  /** Every resource of a kind (follows pages). */
  listAllResources(kind: DeclaredKind, options?: BulkListOptions): Promise<StoredResource[]>;
  /**
   * Optional: true when listAllResources uses `BulkListOptions.expectedSpecText`. The planner
   * then reads the live state after parsing the manifests (to pass their spec texts) rather
   * than while parsing them.
   */
  readonly sharesSpecTexts?: boolean;
  getResource(kind: DeclaredKind, name: string): Promise<StoredResource | null>;
  /**
   * Optional: a token that changes whenever another connection or process has committed to
   * the store since the previous call (writes made through this backend object need not change
   * it). Equal tokens from two calls mean the resources were not changed from outside in
   * between, so a long-lived caller (watch) may keep its copy. Backends that cannot tell omit
   * it, and callers then re-read.
   */
  stateToken?(): Promise<string>;
  /**
   * Optional, for stores that `stigmer server` serves: the number of resource writes (create,
   * update, delete) ever committed to the store, by any connection. A batch of N writes adds
   * exactly N, and any commit changes it (the StateToken RPC).
   */
  changeCounter?(): Promise<number>;
  /**
   * Optional: a digest of every stored declared resource, every column a plan can see, however
   * it was written (by stigmer, by a server, or by SQL from outside). Equal digests mean equal
   * stored resources, so a plan of the same manifests gives the same result (the no-op memo,
   * src/core/noop-memo.ts). `kindDigests` combines per-kind digests (BulkListOptions.onDigest)
   * into the same value.
   */
  resourcesDigest?(): Promise<string>;
  /**
   * Applies every change or none. A change whose expectedVersion does not match raises
   * ConflictError and the whole batch is rolled back.
   */
  applyChanges(changes: ResourceChange[], options?: ApplyChangesOptions): Promise<AppliedChange[]>;
  /** Deletes one resource; NotFoundError when absent; ConflictError on a stale expectedVersion. */
  deleteResource(
    kind: DeclaredKind,
    name: string,
    options?: { expectedVersion?: number; message?: string },
  ): Promise<AppliedChange>;
  /** History of a resource, oldest first (includes deleted incarnations of that name). */
  listVersions(kind: DeclaredKind, name: string): Promise<HistoryEntry[]>;
  status(): Promise<BackendStatus>;

  createExecution(input: CreateExecutionInput): Promise<Execution>;
  getExecution(id: string): Promise<Execution>;
  /**
   * Moves an execution to a phase, with its results. A finished execution never changes
   * (CONFLICT), with one exception: a CANCELLED one (cancelled from elsewhere) takes a CANCELLED
   * update's usage, transcript and task records, so the runner's results are kept. RUNNING sets
   * startedAt, a finished phase sets finishedAt.
   */
  updateExecutionStatus(id: string, update: ExecutionUpdate): Promise<Execution>;
  /**
   * The runner is alive: records the heartbeat and a lease of `leaseMs`. Returns the record, so
   * the runner sees a cancellation made by another process; a finished execution is returned
   * unchanged.
   */
  heartbeatExecution(id: string, options: { leaseMs: number }): Promise<Execution>;
  listExecutions(filter?: {
    kind?: Execution['kind'];
    target?: string;
    pageSize?: number;
  }): Promise<Execution[]>;
  cancelExecution(id: string): Promise<Execution>;
  /** A session with its messages; NOT_FOUND when absent. */
  getSession(id: string): Promise<Session>;
  getExecutionContext(executionId: string): Promise<ExecutionContext>;
  storeArtifact(input: {
    executionId?: string;
    name: string;
    contentType: string;
    data: Uint8Array;
  }): Promise<Artifact>;
  getArtifact(id: string): Promise<Artifact>;

  close(): Promise<void>;
}
