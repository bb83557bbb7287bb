/**
 * What the cross-file stage needs of a document's spec, worked out once in the per-file stage
 * and kept with the packed document (src/manifest/packed.ts), so that a plan never decodes a
 * spec only to find it has nothing to check (issue 17: reading the references of every spec
 * was a tenth of a warm no-op plan at 100,000 resources).
 *
 * The links of a resource are the (kind, name) pairs its spec references, flattened. They are
 * kept only for a spec the cross-file stage has nothing else to do with: not a Skill with a
 * `skillMdFile` to read, not an Environment with a secret or `valueFrom` to resolve, not an
 * Agent among its own sub-agents. Every other resource takes the full path, which reads the
 * spec, and so does any resource whose spec was read or replaced since it was unpacked.
 */
import { secretKeys } from '../plan/secrets.js';
import { appliedHash, comparedViewOf } from '../plan/view.js';
import { LazyHolder, specTextOf } from '../stored-text.js';
import type { DeclaredKind, DesiredResource, JsonObject } from '../types.js';

/** A reference from one resource to another, at a JSON pointer of the referring document. */
export interface Reference {
  kind: DeclaredKind;
  name: string;
  pointer: string;
}

/**
 * Every reference a resource's spec makes (DESIGN.md §2, the "references" column). `spec`
 * defaults to the resource's; pass a peeked one (`peekSpec`) to read a lazy spec without
 * keeping it decoded.
 */
export function referencesOf(
  resource: Pick<DesiredResource, 'kind' | 'spec'>,
  spec: JsonObject = resource.spec,
): Reference[] {
  const out: Reference[] = [];
  const list = (field: string, kind: DeclaredKind): void => {
    const v = spec[field];
    if (!Array.isArray(v)) return;
    v.forEach((name, i) => {
      if (typeof name === 'string') out.push({ kind, name, pointer: `/spec/${field}/${i}` });
    });
  };
  const one = (field: string, kind: DeclaredKind): void => {
    const v = spec[field];
    if (typeof v === 'string') out.push({ kind, name: v, pointer: `/spec/${field}` });
  };
  switch (resource.kind) {
    case 'Agent':
      list('skillRefs', 'Skill');
      list('subAgents', 'Agent');
      break;
    case 'Workflow':
      if (Array.isArray(spec.tasks)) {
        spec.tasks.forEach((task, i) => {
          const agent = (task as JsonObject | null)?.agent;
          if (typeof agent === 'string')
            out.push({ kind: 'Agent', name: agent, pointer: `/spec/tasks/${i}/agent` });
        });
      }
      break;
    case 'AgentInstance':
      one('agent', 'Agent');
      list('environmentRefs', 'Environment');
      break;
    case 'WorkflowInstance':
      one('workflow', 'Workflow');
      list('environmentRefs', 'Environment');
      break;
    default:
      break;
  }
  return out;
}

/** The links to pack with a resource (see the module comment); null when it takes the full path. */
export function linksOf(resource: { kind: DeclaredKind; name: string }, spec: JsonObject): string[] | null {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return null;
  if (resource.kind === 'Skill') return typeof spec.skillMdFile === 'string' ? null : [];
  if (resource.kind === 'Environment') return needsResolution(spec) ? null : [];
  const out: string[] = [];
  for (const ref of referencesOf({ kind: resource.kind, spec }, spec)) {
    if (resource.kind === 'Agent' && ref.kind === 'Agent' && ref.name === resource.name) return null;
    out.push(ref.kind, ref.name);
  }
  return out;
}

/**
 * The `stigmer.ai/applied-hash` a create or update of this resource records (DESIGN.md §4.5),
 * to pack with it; null for an Environment with secret entries, whose hash takes the secret
 * key (the planner computes it then).
 */
export function packedAppliedHash(
  resource: Pick<DesiredResource, 'kind' | 'name' | 'labels' | 'annotations'>,
  spec: JsonObject,
): string | null {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return null;
  if (secretKeys(resource.kind, spec).length > 0) return null;
  const view = comparedViewOf({ labels: resource.labels, annotations: resource.annotations, spec });
  return appliedHash(resource.kind, resource.name, view);
}

const HASH_PREFIX = 'sha256:';
const HEX_LENGTH = 64;
const NO_LINKS = '!';

/**
 * The facts of a resource as one string, which is how they are packed and kept (one string
 * per resource, about 100 bytes, where an object with an array of names took three times
 * that at 100,000 resources): the applied-hash's 64 hex digits or nothing, `|`, then the
 * links joined by NUL, or `!` for none kept (the full path).
 */
export function encodeFacts(hash: string | null, links: readonly string[] | null): string {
  const digest =
    hash?.startsWith(HASH_PREFIX) && hash.length === HASH_PREFIX.length + HEX_LENGTH
      ? hash.slice(HASH_PREFIX.length)
      : '';
  return `${digest}|${links === null ? NO_LINKS : links.join('\0')}`;
}

/** The facts to pack with a resource whose spec is `spec` (see encodeFacts). */
export function factsOf(
  resource: Pick<DesiredResource, 'kind' | 'name' | 'labels' | 'annotations'>,
  spec: JsonObject,
  withHash: boolean,
): string {
  return encodeFacts(withHash ? packedAppliedHash(resource, spec) : null, linksOf(resource, spec));
}

/** True when `value` is what encodeFacts makes. */
export function isFacts(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const bar = value.indexOf('|');
  // Packs are checksummed: the shape is checked, not every digit.
  return bar === 0 || bar === HEX_LENGTH;
}

/** Attaches unpacked facts to a resource (a private slot: copies and JSON never carry them). */
export function attachFacts(resource: LazyHolder, facts: string): void {
  LazyHolder.setExtra(resource, facts);
}

/**
 * The facts a resource was unpacked with, while its spec is still the packed text (so they
 * describe it); undefined otherwise. A desired resource's labels and annotations are never
 * changed in place (a change makes a copy, which carries no facts), so the text vouches for
 * the whole resource.
 */
export function cachedFacts(resource: { spec: unknown }): string | undefined {
  if (!LazyHolder.holds(resource)) return undefined;
  const facts = LazyHolder.extra(resource);
  return typeof facts === 'string' && specTextOf(resource) !== undefined ? facts : undefined;
}

/** True when the facts hold links (not `!`: the full path). */
function linksKept(facts: string): boolean {
  return !facts.endsWith(`|${NO_LINKS}`);
}

/**
 * True when a resource has its links kept (see cachedFacts): an Environment then has nothing
 * to resolve, a Skill no file to read.
 */
export function hasCachedLinks(resource: { spec: unknown }): boolean {
  const facts = cachedFacts(resource);
  return facts !== undefined && linksKept(facts);
}

/**
 * Whether every link of a resource unpacked with them passes `resolves`: true or false, read
 * from the facts without building the list; undefined when there are none to read (see
 * cachedFacts): read the spec.
 */
export function cachedLinksResolve(
  resource: { spec: unknown },
  resolves: (kind: DeclaredKind, name: string) => boolean,
): boolean | undefined {
  const facts = cachedFacts(resource);
  if (facts === undefined || !linksKept(facts)) return undefined;
  let at = facts.indexOf('|') + 1;
  while (at < facts.length) {
    const split = facts.indexOf('\0', at);
    let end = facts.indexOf('\0', split + 1);
    if (end < 0) end = facts.length;
    if (!resolves(facts.slice(at, split) as DeclaredKind, facts.slice(split + 1, end))) return false;
    at = end + 1;
  }
  return true;
}

/**
 * The packed applied-hash of a resource (see cachedFacts); undefined: compute it. Read it
 * before the spec is read.
 */
export function cachedAppliedHash(resource: { spec: unknown }): string | undefined {
  const facts = cachedFacts(resource);
  if (facts === undefined || facts.charCodeAt(0) === 124 /* | */) return undefined;
  return HASH_PREFIX + facts.slice(0, HEX_LENGTH);
}

/**
 * cachedAppliedHash, then drops the facts: the planner takes the hash once for the write it
 * plans, and an apply of 100,000 creates then does not hold every resource's facts to its
 * end. A later plan of the same resource (watch) computes the hash itself.
 */
export function takeAppliedHash(resource: { spec: unknown }): string | undefined {
  const hash = cachedAppliedHash(resource);
  if (hash !== undefined && LazyHolder.holds(resource)) LazyHolder.setExtra(resource, undefined);
  return hash;
}

/**
 * True when an Environment's data has an entry with a secret or a `valueFrom`: sealing it, or
 * reading its value, happens at plan time (src/core/reconcile.ts).
 */
export function needsResolution(spec: JsonObject): boolean {
  const data = spec.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
  return Object.values(data).some(
    (e) =>
      typeof e === 'object' &&
      e !== null &&
      !Array.isArray(e) &&
      (e.isSecret !== undefined || e.valueFrom !== undefined),
  );
}
