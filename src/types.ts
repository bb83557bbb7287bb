/**
 * The resource model shared by every stage of the pipeline (DESIGN.md §2).
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const API_VERSION = 'agentic.stigmer.ai/v1';

/** Kinds declared in manifests, in dependency order (a kind only references earlier kinds). */
export const DECLARED_KINDS = [
  'Skill',
  'Environment',
  'Agent',
  'Workflow',
  'AgentInstance',
  'WorkflowInstance',
] as const;
export type DeclaredKind = (typeof DECLARED_KINDS)[number];

/** Runtime records created by commands, never by manifests. */
export const RUNTIME_KINDS = ['Session', 'AgentExecution', 'WorkflowExecution', 'ExecutionContext'] as const;
export type RuntimeKind = (typeof RUNTIME_KINDS)[number];

export type Kind = DeclaredKind | RuntimeKind;

export interface KindInfo {
  kind: Kind;
  plural: string;
  table: string;
  idPrefix: string;
  declared: boolean;
}

export const KINDS: Record<Kind, KindInfo> = {
  Skill: { kind: 'Skill', plural: 'skills', table: 'skills', idPrefix: 'skl_', declared: true },
  Environment: {
    kind: 'Environment',
    plural: 'environments',
    table: 'environments',
    idPrefix: 'env_',
    declared: true,
  },
  Agent: { kind: 'Agent', plural: 'agents', table: 'agents', idPrefix: 'agt_', declared: true },
  Workflow: { kind: 'Workflow', plural: 'workflows', table: 'workflows', idPrefix: 'wfl_', declared: true },
  AgentInstance: {
    kind: 'AgentInstance',
    plural: 'agentinstances',
    table: 'agent_instances',
    idPrefix: 'ain_',
    declared: true,
  },
  WorkflowInstance: {
    kind: 'WorkflowInstance',
    plural: 'workflowinstances',
    table: 'workflow_instances',
    idPrefix: 'win_',
    declared: true,
  },
  Session: { kind: 'Session', plural: 'sessions', table: 'sessions', idPrefix: 'ses_', declared: false },
  AgentExecution: {
    kind: 'AgentExecution',
    plural: 'agentexecutions',
    table: 'agent_executions',
    idPrefix: 'aex_',
    declared: false,
  },
  WorkflowExecution: {
    kind: 'WorkflowExecution',
    plural: 'workflowexecutions',
    table: 'workflow_executions',
    idPrefix: 'wex_',
    declared: false,
  },
  ExecutionContext: {
    kind: 'ExecutionContext',
    plural: 'executioncontexts',
    table: 'execution_contexts',
    idPrefix: 'ectx_',
    declared: false,
  },
};

/** Reserved annotation keys (DESIGN.md §4). */
export const ANNOTATIONS = {
  project: 'stigmer.ai/project',
  source: 'stigmer.ai/source',
  appliedHash: 'stigmer.ai/applied-hash',
  prune: 'stigmer.ai/prune',
  preventDestroy: 'stigmer.ai/prevent-destroy',
} as const;
export const RESERVED_ANNOTATION_PREFIX = 'stigmer.ai/';

/** A resource as the manifests describe it, after loading and validation. */
export interface DesiredResource {
  kind: DeclaredKind;
  name: string;
  labels: Record<string, string>;
  /** User annotations as written (may include stigmer.ai/prune and stigmer.ai/prevent-destroy). */
  annotations: Record<string, string>;
  spec: JsonObject;
  /**
   * Where the document starts, relative to the working directory: `file:line`. `includes`
   * lists other files the resource was built from (a Skill's `skillMdFile`), for watch mode.
   */
  source: { file: string; line: number; column: number; includes?: string[] };
}

export type BackendType = 'local' | 'cloud';

/** Which backend a plan was made against (plans and saved plan files carry it). */
export interface BackendInfo {
  /** 'postgres' only for the PostgreSQL store behind `stigmer server` (never a CLI backend). */
  type: BackendType | 'postgres';
  /** The database path (local), endpoint URL (cloud) or database URL without its password (postgres). */
  location: string;
}

/** A resource as a backend stores it. */
export interface StoredResource {
  id: string;
  kind: DeclaredKind;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: JsonObject;
  status: JsonObject;
  version: number;
  createdAt: string;
  updatedAt: string;
}
