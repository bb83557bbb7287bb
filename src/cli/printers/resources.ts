/**
 * Output of `get`, `history` and `backend status`: tables for people, YAML and JSON for scripts.
 * Environment secrets are redacted here, on the way out, unless the caller passes a revealer
 * (`--show-secrets`): a value of an entry with `isSecret: true` prints as "(sensitive)".
 */
import { stringify } from 'yaml';
import type { BackendStatus, HistoryEntry } from '../../backend/types.js';
import { toManifest } from '../../core/resources.js';
import { redactSpec } from '../../secrets/environment.js';
import {
  ANNOTATIONS,
  API_VERSION,
  DECLARED_KINDS,
  type JsonObject,
  KINDS,
  type Kind,
  type StoredResource,
} from '../../types.js';

export const OUTPUT_FORMATS = ['table', 'yaml', 'json'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Turns a sealed Environment spec into plaintext (`--show-secrets`). */
export type RevealSpec = (resource: StoredResource) => JsonObject;

/** The resource as it may be shown: Environment secrets redacted, or revealed when asked. */
export function displayable(resource: StoredResource, reveal?: RevealSpec): StoredResource {
  if (resource.kind !== 'Environment') return resource;
  return { ...resource, spec: reveal ? reveal(resource) : redactSpec(resource.spec) };
}

/** A plain text table: columns padded to the widest cell, separated by three spaces (kubectl). */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Time since `iso` the way kubectl prints AGE: 45s, 12m, 5h, 3d, 2y. */
export function formatAge(iso: string, now: Date = new Date()): string {
  const seconds = Math.max(0, Math.floor((now.getTime() - Date.parse(iso)) / 1000));
  if (Number.isNaN(seconds)) return '-';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 730) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

export function formatResourceTable(resources: StoredResource[], now: Date = new Date()): string {
  return formatTable(
    ['NAME', 'VERSION', 'PROJECT', 'AGE', 'UPDATED'],
    resources.map((r) => [
      r.name,
      String(r.version),
      r.annotations[ANNOTATIONS.project] ?? '-',
      formatAge(r.createdAt, now),
      formatAge(r.updatedAt, now),
    ]),
  );
}

/**
 * `get` output. One named resource prints as one document; a listing prints as a YAML stream
 * (`---` between documents) or a JSON `List` with `items`.
 */
export function formatResources(
  resources: StoredResource[],
  format: OutputFormat,
  options: { single: boolean; reveal?: RevealSpec; now?: Date },
): string {
  const shown = resources.map((r) => displayable(r, options.reveal));
  if (format === 'table') return formatResourceTable(shown, options.now);
  const manifests = shown.map(toManifest);
  if (format === 'json') {
    const value = options.single ? manifests[0] : { apiVersion: API_VERSION, kind: 'List', items: manifests };
    return JSON.stringify(value, null, 2);
  }
  return manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
}

/** What `get KIND` prints when the kind has no resources (to stderr). */
export function noResourcesMessage(kind: Kind): string {
  return `No ${KINDS[kind].plural} found.`;
}

export function formatHistoryTable(entries: HistoryEntry[]): string {
  return formatTable(
    ['VERSION', 'ACTION', 'DATE', 'MESSAGE'],
    entries.map((e) => [String(e.version), e.action, e.createdAt, e.message ?? '']),
  );
}

/** `history -o json`: the entries with Environment secrets redacted in their snapshots. */
export function formatHistoryJson(entries: HistoryEntry[]): string {
  const shown = entries.map((e) =>
    e.kind === 'Environment' ? { ...e, snapshot: { ...e.snapshot, spec: redactSpec(e.snapshot.spec) } } : e,
  );
  return JSON.stringify(shown, null, 2);
}

export function formatStatus(status: BackendStatus): string {
  const lines = [
    `Backend:         ${status.info.type}`,
    `${status.server ? 'Endpoint:' : 'Location:'}        ${status.info.location}`,
  ];
  if (status.server) {
    lines.push(
      `Server version:  ${status.server.version}`,
      `Server store:    ${status.server.store.type} ${status.server.store.location}`,
      `Round trip:      ${status.server.roundTripMs} ms`,
    );
  }
  lines.push(`Schema version:  ${status.schemaVersion}`, '');
  const declared = DECLARED_KINDS.map((k) => [KINDS[k].plural, String(status.counts[k] ?? 0)]);
  const runtime = (Object.keys(KINDS) as Kind[])
    .filter((k) => !KINDS[k].declared)
    .map((k) => [KINDS[k].plural, String(status.counts[k] ?? 0)]);
  lines.push(
    formatTable(['RESOURCES', 'COUNT'], declared),
    '',
    formatTable(['RUNTIME RECORDS', 'COUNT'], runtime),
  );
  return lines.join('\n');
}

export function formatStatusJson(status: BackendStatus): string {
  return JSON.stringify(
    {
      type: status.info.type,
      location: status.info.location,
      schemaVersion: status.schemaVersion,
      counts: status.counts,
      ...(status.server ? { server: status.server } : {}),
    },
    null,
    2,
  );
}
