/**
 * The compared view of a resource and the hash of it stored in `stigmer.ai/applied-hash`
 * (DESIGN.md §4.5). A module of its own, light to load, because the per-file stage computes
 * the applied-hash of each document it parses (src/manifest/links.ts) and the parse cache's
 * program fingerprint covers this code.
 */
import { ANNOTATIONS, type DeclaredKind, type DesiredResource } from '../types.js';
import { stableHash } from './hash.js';
import { hashableView, type SecretHasher } from './secrets.js';
import type { ComparedView } from './types.js';

/** Annotations Stigmer writes itself; everything else is a user annotation and is compared. */
export const MANAGED_ANNOTATIONS: readonly string[] = [
  ANNOTATIONS.project,
  ANNOTATIONS.source,
  ANNOTATIONS.appliedHash,
];

/** User annotations: every annotation except the ones Stigmer manages. */
export function userAnnotations(annotations: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(annotations)) {
    if (!MANAGED_ANNOTATIONS.includes(key)) out[key] = value;
  }
  return out;
}

/** The compared fields of a desired or live resource. */
export function comparedViewOf(
  resource: Pick<DesiredResource, 'labels' | 'annotations' | 'spec'>,
): ComparedView {
  return {
    metadata: { labels: { ...resource.labels }, annotations: userAnnotations(resource.annotations) },
    spec: resource.spec,
  };
}

/** The value of `stigmer.ai/applied-hash` for a resource whose compared fields are `view`. */
export function appliedHash(
  kind: DeclaredKind,
  name: string,
  view: ComparedView,
  hasher?: SecretHasher,
): string {
  return stableHash(hashableView(kind, name, view, hasher));
}
