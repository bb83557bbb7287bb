/**
 * Builders of desired and live resources for planner tests (and SDK users testing their own
 * plans), plus `applyToLiveState`: an in-memory stand-in for what a backend's applyChanges
 * does with a plan, so tests can check that "apply then plan" is empty without a database.
 */
import type { BackendInfo } from '../types.js';
import {
  ANNOTATIONS,
  type DeclaredKind,
  type DesiredResource,
  type JsonObject,
  type StoredResource,
} from '../types.js';
import { appliedHash, comparedViewOf, planChanges } from './plan.js';
import type { Plan, PlanOptions } from './types.js';

export const TEST_BACKEND: BackendInfo = { type: 'local', location: 'test.db' };

/** Plan options for tests: project "demo", prune on. */
export function planOptions(overrides: Partial<PlanOptions> = {}): PlanOptions {
  return { project: 'demo', backend: TEST_BACKEND, ...overrides };
}

export interface ResourceFields {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  spec?: JsonObject;
}

const DEFAULT_SPEC: Record<DeclaredKind, JsonObject> = {
  Skill: { skillMd: '# Skill\n' },
  Environment: { data: {} },
  Agent: { instructions: 'You are a helpful agent.' },
  Workflow: { tasks: [] },
  AgentInstance: { agent: 'support-bot' },
  WorkflowInstance: { workflow: 'pr-review-workflow' },
};

/** A desired resource as the manifests would give it. */
export function desired(
  kind: DeclaredKind,
  name: string,
  fields: ResourceFields & { file?: string; line?: number } = {},
): DesiredResource {
  return {
    kind,
    name,
    labels: fields.labels ?? {},
    annotations: fields.annotations ?? {},
    spec: fields.spec ?? DEFAULT_SPEC[kind],
    source: { file: fields.file ?? `manifests/${name}.yaml`, line: fields.line ?? 1, column: 1 },
  };
}

/**
 * A live resource. `project` sets the ownership annotation (null: unowned, the default
 * "demo"); `applied: true` also records the applied-hash of its current compared fields, as an
 * apply by Stigmer would.
 */
export function live(
  kind: DeclaredKind,
  name: string,
  fields: ResourceFields & { project?: string | null; version?: number; applied?: boolean } = {},
): StoredResource {
  const annotations: Record<string, string> = { ...(fields.annotations ?? {}) };
  const project = fields.project === undefined ? 'demo' : fields.project;
  if (project !== null) annotations[ANNOTATIONS.project] = project;
  const resource: StoredResource = {
    id: `${kind.toLowerCase()}_${name}`,
    kind,
    name,
    labels: fields.labels ?? {},
    annotations,
    spec: fields.spec ?? DEFAULT_SPEC[kind],
    status: {},
    version: fields.version ?? 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  };
  if (fields.applied ?? project !== null) {
    resource.annotations[ANNOTATIONS.appliedHash] = appliedHash(kind, name, comparedViewOf(resource));
  }
  return resource;
}

/** A live resource exactly as applying `d` for `project` with Stigmer would leave it. */
export function liveFrom(d: DesiredResource, project = 'demo', version = 1): StoredResource {
  const [resource] = applyToLiveState([], planChanges([d], [], planOptions({ project })));
  return { ...(resource as StoredResource), version };
}

/**
 * What a backend's applyChanges does with a plan, in memory: creates and updates store
 * `write` and bump the version (a new resource starts at 1), deletes remove it. Returns the
 * new live state; the input is not modified.
 */
export function applyToLiveState(state: StoredResource[], plan: Plan): StoredResource[] {
  const byKey = new Map(state.map((r) => [`${r.kind}/${r.name}`, structuredClone(r)]));
  const now = '2026-01-02T00:00:00.000Z';
  for (const change of plan.changes) {
    const key = `${change.kind}/${change.name}`;
    const prev = byKey.get(key);
    if (change.action === 'delete') {
      byKey.delete(key);
      continue;
    }
    const write = change.write;
    if (!write) throw new Error(`${key}: ${change.action} without write`);
    byKey.set(key, {
      id: prev?.id ?? `${change.kind.toLowerCase()}_${change.name}`,
      kind: change.kind,
      name: change.name,
      labels: structuredClone(write.labels),
      annotations: structuredClone(write.annotations),
      spec: JSON.parse(JSON.stringify(write.spec)) as JsonObject,
      status: prev?.status ?? {},
      version: prev ? prev.version + 1 : 1,
      createdAt: prev?.createdAt ?? now,
      updatedAt: now,
    });
  }
  return [...byKey.values()];
}
