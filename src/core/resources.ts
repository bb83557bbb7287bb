/**
 * Reading and deleting stored resources by (kind, name) for `get`, `delete`, `history` and the
 * agent/workflow aliases, plus the manifest-like envelope those commands print. Missing things
 * are NotFoundErrors with a hint; nothing here prints.
 */
import type { AppliedChange, Backend, HistoryEntry } from '../backend/types.js';
import { NotFoundError, StigmerError } from '../errors.js';
import {
  ANNOTATIONS,
  API_VERSION,
  type DeclaredKind,
  type JsonObject,
  KINDS,
  type StoredResource,
} from '../types.js';

/** A stored resource in the shape of a manifest, plus what the backend adds (id, version, times, status). */
export interface ResourceManifest {
  apiVersion: string;
  kind: DeclaredKind;
  metadata: {
    name: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    id: string;
    version: number;
    createdAt: string;
    updatedAt: string;
  };
  spec: JsonObject;
  status?: JsonObject;
}

/** One resource (NotFoundError when absent) or, without a name, every resource of the kind. */
export async function getResources(
  backend: Backend,
  kind: DeclaredKind,
  name?: string,
): Promise<StoredResource[]> {
  if (name === undefined) return backend.listAllResources(kind);
  const resource = await backend.getResource(kind, name);
  if (!resource) throw notFound(kind, name);
  return [resource];
}

export interface DeleteOptions {
  /** Recorded in the history row. */
  message?: string;
  /** Delete even when the resource is annotated stigmer.ai/prevent-destroy: "true". */
  force?: boolean;
}

export interface DeleteResult {
  deleted: AppliedChange;
  /** The project that manages it, when annotated: the next apply of that project recreates it. */
  project: string | null;
}

/**
 * Deletes one resource and records the deletion in its history. The version read first is the
 * expected version of the delete, so a concurrent change makes it fail instead of deleting
 * something the user has not seen.
 */
export async function deleteResourceByName(
  backend: Backend,
  kind: DeclaredKind,
  name: string,
  options: DeleteOptions = {},
): Promise<DeleteResult> {
  const current = await backend.getResource(kind, name);
  if (!current) throw notFound(kind, name);
  if (current.annotations[ANNOTATIONS.preventDestroy] === 'true' && !options.force) {
    throw new StigmerError(
      'USAGE',
      `${kind} "${name}" is protected by ${ANNOTATIONS.preventDestroy}: "true"`,
      {
        hint: 'remove the annotation from its manifest and apply, or pass --force',
      },
    );
  }
  const deleted = await backend.deleteResource(kind, name, {
    expectedVersion: current.version,
    ...(options.message !== undefined ? { message: options.message } : {}),
  });
  return { deleted, project: current.annotations[ANNOTATIONS.project] ?? null };
}

/** The history of (kind, name), oldest first; NotFoundError when the name never existed. */
export async function resourceHistory(
  backend: Backend,
  kind: DeclaredKind,
  name: string,
): Promise<HistoryEntry[]> {
  const history = await backend.listVersions(kind, name);
  if (history.length === 0) {
    throw new NotFoundError(kind, name, {
      hint: `it has no history either; list what exists with \`stigmer get ${KINDS[kind].plural}\``,
    });
  }
  return history;
}

/** The manifest-like envelope of a stored resource (status only when it has any). */
export function toManifest(resource: StoredResource): ResourceManifest {
  const manifest: ResourceManifest = {
    apiVersion: API_VERSION,
    kind: resource.kind,
    metadata: {
      name: resource.name,
      labels: resource.labels,
      annotations: resource.annotations,
      id: resource.id,
      version: resource.version,
      createdAt: resource.createdAt,
      updatedAt: resource.updatedAt,
    },
    spec: resource.spec,
  };
  if (Object.keys(resource.status).length > 0) manifest.status = resource.status;
  return manifest;
}

function notFound(kind: DeclaredKind, name: string): NotFoundError {
  return new NotFoundError(kind, name, {
    hint: `list what exists with \`stigmer get ${KINDS[kind].plural}\``,
  });
}
