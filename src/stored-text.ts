/**
 * Stored resources whose `spec` and `status` are decoded from their JSON text on first read
 * (performance at 100,000 resources, docs/performance.md). A no-op plan compares every live
 * resource with its manifest; decoding every stored spec into objects cost most of the live
 * read and held a second full object copy of the stack in memory. With a lazy spec the planner
 * first compares the stored text with the desired spec's JSON (`storedSpecText`): equal texts
 * mean equal specs, and only a difference (or a resource whose spec was read) decodes it.
 *
 * The properties are own, enumerable accessors, so spreading, JSON.stringify and structured
 * cloning see plain values; assigning replaces the value.
 */
import type { JsonObject, StoredResource } from './types.js';

/** The stored JSON text of a resource's spec, for resources whose spec was never read or set. */
const specTexts = new WeakMap<StoredResource, string>();

/** Fields of a stored resource other than the lazily decoded ones. */
export type EagerFields = Omit<StoredResource, 'spec' | 'status'>;

/**
 * A StoredResource whose `spec` and `status` are parsed from `specText` / `statusText` when
 * first read. The texts must be JSON objects as the store wrote them (JSON.stringify).
 */
export function lazyStoredResource(
  fields: EagerFields,
  specText: string,
  statusText: string,
): StoredResource {
  let spec: JsonObject | undefined;
  let rawSpec: string | undefined = specText;
  let status: JsonObject | undefined;
  let rawStatus: string | undefined = statusText;
  // Built member by member, in StoredResource's order (what `get -o json` prints).
  const resource: StoredResource = {
    id: fields.id,
    kind: fields.kind,
    name: fields.name,
    labels: fields.labels,
    annotations: fields.annotations,
    get spec(): JsonObject {
      if (spec === undefined) {
        spec = JSON.parse(rawSpec as string) as JsonObject;
        rawSpec = undefined;
        // Whoever read it may change it in place: the text no longer vouches for it.
        specTexts.delete(resource);
      }
      return spec;
    },
    set spec(value: JsonObject) {
      spec = value;
      rawSpec = undefined;
      specTexts.delete(resource);
    },
    get status(): JsonObject {
      if (status === undefined) {
        status = JSON.parse(rawStatus as string) as JsonObject;
        rawStatus = undefined;
      }
      return status;
    },
    set status(value: JsonObject) {
      status = value;
      rawStatus = undefined;
    },
    version: fields.version,
    createdAt: fields.createdAt,
    updatedAt: fields.updatedAt,
  };
  specTexts.set(resource, specText);
  return resource;
}

/**
 * The JSON text `resource.spec` was stored as, when it is a lazy resource whose spec has not
 * been read or replaced since; undefined otherwise (compare the decoded spec then).
 */
export function storedSpecText(resource: StoredResource): string | undefined {
  return specTexts.get(resource);
}
