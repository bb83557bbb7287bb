/**
 * The presentation model shared by the text and markdown renderers: each change becomes a
 * header plus per-field lines with `+ ~ -` markers (Terraform's conventions), multi-line
 * strings become line diffs, unchanged fields are counted rather than shown. Renderers only
 * decide how a line looks (colour, indentation, diff fences); what is shown is decided here,
 * from the already-redacted `before`/`after` of each change, so no renderer can show a secret.
 */
import { structuredPatch } from 'diff';
import type { JsonValue } from '../types.js';
import { jsonEqual } from './hash.js';
import { SENSITIVE, SENSITIVE_CHANGED } from './secrets.js';
import type { PlannedChange, PlanSummary } from './types.js';

export type Marker = '+' | '-' | '~' | ' ' | '';

export interface Line {
  /** Nesting level: 1 for change headers, 3 for fields, 5 for lines of a multi-line value. */
  depth: number;
  marker: Marker;
  text: string;
  /** header: a change's first line; comment: `# ...` notes; diff: a line of a multi-line value. */
  role: 'header' | 'field' | 'comment' | 'diff';
}

/** `Plan: N to add, N to change, N to destroy.` or the no-changes sentence (DESIGN.md §5). */
export function formatPlanSummary(summary: PlanSummary): string {
  if (summary.create + summary.update + summary.delete === 0) {
    return 'No changes. Your resources match the manifests.';
  }
  return `Plan: ${summary.create} to add, ${summary.update} to change, ${summary.delete} to destroy.`;
}

/** `Apply complete! Resources: N added, N changed, N destroyed.` (DESIGN.md §5). */
export function formatApplySummary(summary: { added: number; changed: number; destroyed: number }): string {
  return `Apply complete! Resources: ${summary.added} added, ${summary.changed} changed, ${summary.destroyed} destroyed.`;
}

/** What a change's header says after `Kind/name`. */
export function describeAction(change: PlannedChange, project?: string): string {
  switch (change.action) {
    case 'create':
      return 'will be created';
    case 'delete':
      return 'will be destroyed';
    case 'update': {
      if (change.reason === 'release') {
        const owner = project ? ` by project "${project}"` : '';
        return `will be released: left in place, no longer managed${owner} (stigmer.ai/prune: disabled)`;
      }
      let text = 'will be updated in-place';
      if (change.reason === 'adopt') text += ' (adopted)';
      if (change.drift) text += ' (drift: changed outside Stigmer)';
      return text;
    }
  }
}

const MARKER: Record<PlannedChange['action'], Marker> = { create: '+', update: '~', delete: '-' };
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function isPlainObject(value: unknown): value is { [key: string]: JsonValue } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A member of a JSON object, never one inherited from Object.prototype (a key named `toString`). */
function own(object: { [key: string]: JsonValue }, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** True for an array with an object or an array among its items (walked item by item). */
function holdsContainers(value: JsonValue[]): boolean {
  return value.some((x) => typeof x === 'object' && x !== null);
}

function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (IDENTIFIER.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

/** A value on one line: strings quoted, secret markers bare, containers as compact JSON. */
export function formatValue(value: JsonValue | undefined): string {
  if (value === SENSITIVE || value === SENSITIVE_CHANGED) return value;
  if (value === undefined) return 'null';
  return compactJson(value);
}

/** JSON on one line with a space after each comma and colon: `["a", "b"]`, `{"k": 1}`. */
function compactJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(compactJson).join(', ')}]`;
  if (isPlainObject(value)) {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}: ${compactJson(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

function isMultiline(value: JsonValue | undefined): boolean {
  return typeof value === 'string' && value.includes('\n');
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines.at(-1) === '') lines.pop();
  return lines;
}

interface Walk {
  lines: Line[];
  unchanged: number;
}

function leaf(walk: Walk, path: string, before: JsonValue | undefined, after: JsonValue | undefined): void {
  const marker: Marker = before === undefined ? '+' : after === undefined ? '-' : '~';
  if (isMultiline(before) || isMultiline(after)) {
    walk.lines.push({ depth: 3, marker, text: `${path}:`, role: 'field' });
    if (marker === '~' && typeof before === 'string' && typeof after === 'string') {
      const patch = structuredPatch('before', 'after', ensureEol(before), ensureEol(after), '', '', {
        context: 2,
      });
      patch.hunks.forEach((hunk, i) => {
        if (i > 0 || hunk.oldStart > 1)
          walk.lines.push({ depth: 5, marker: '', text: '...', role: 'comment' });
        for (const l of hunk.lines) {
          if (l.startsWith('\\')) continue;
          const m = l[0] === '+' ? '+' : l[0] === '-' ? '-' : ' ';
          walk.lines.push({ depth: 5, marker: m, text: l.slice(1), role: 'diff' });
        }
      });
      return;
    }
    if (marker === '~') {
      walk.lines.push(...valueLines(before, '-'), ...valueLines(after, '+'));
      return;
    }
    walk.lines.push(...valueLines(marker === '+' ? after : before, marker));
    return;
  }
  let text: string;
  if (marker === '+') text = `${path} = ${formatValue(after)}`;
  else if (marker === '-') text = `${path} = ${formatValue(before)}`;
  else if (after === SENSITIVE_CHANGED) text = `${path} = ${SENSITIVE_CHANGED}`;
  else text = `${path} = ${formatValue(before)} -> ${formatValue(after)}`;
  walk.lines.push({ depth: 3, marker, text, role: 'field' });
}

function ensureEol(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function valueLines(value: JsonValue | undefined, marker: '+' | '-'): Line[] {
  if (typeof value === 'string' && isMultiline(value)) {
    return splitLines(value).map((text) => ({ depth: 5, marker, text, role: 'diff' as const }));
  }
  return [{ depth: 5, marker, text: formatValue(value), role: 'diff' }];
}

/**
 * walkValue with one side absent (every field of a create or a delete): the same lines, without
 * the comparisons and merged key lists of the two-sided walk (rendering the 10,000 creates of
 * an apply, docs/performance.md item 56).
 */
function walkOneSide(walk: Walk, path: string, value: JsonValue, marker: '+' | '-'): void {
  if (typeof value === 'object' && value !== null) {
    if (!Array.isArray(value)) {
      const keys = Object.keys(value);
      if (keys.length > 0) {
        for (const key of keys) {
          const member = value[key];
          if (member === undefined) leaf(walk, childPath(path, key), undefined, undefined);
          else walkOneSide(walk, childPath(path, key), member, marker);
        }
        return;
      }
    } else if (holdsContainers(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item === undefined) leaf(walk, childPath(path, i), undefined, undefined);
        else walkOneSide(walk, childPath(path, i), item, marker);
      }
      return;
    }
  }
  if (marker === '+') leaf(walk, path, undefined, value);
  else leaf(walk, path, value, undefined);
}

function walkValue(
  walk: Walk,
  path: string,
  before: JsonValue | undefined,
  after: JsonValue | undefined,
): void {
  if (before === undefined && after !== undefined) {
    walkOneSide(walk, path, after, '+');
    return;
  }
  if (after === undefined && before !== undefined) {
    walkOneSide(walk, path, before, '-');
    return;
  }
  if (before !== undefined && after !== undefined && jsonEqual(before, after)) {
    walk.unchanged++;
    return;
  }
  // Both sides are present from here (or both absent: one leaf). Recurse into two objects, and
  // into two arrays that hold containers, so each leaf gets a line.
  if (isPlainObject(before) && isPlainObject(after)) {
    const keys = [...Object.keys(before), ...Object.keys(after).filter((k) => !Object.hasOwn(before, k))];
    for (const key of keys) walkValue(walk, childPath(path, key), own(before, key), own(after, key));
    return;
  }
  if (Array.isArray(before) && Array.isArray(after) && (holdsContainers(before) || holdsContainers(after))) {
    const n = Math.max(before.length, after.length);
    for (let i = 0; i < n; i++) walkValue(walk, childPath(path, i), before[i], after[i]);
    return;
  }
  leaf(walk, path, before, after);
}

/** How many users a `# used by:` line names before "and N more". */
export const USED_BY_SHOWN = 5;

/** `Workflow/a, Agent/b and 3 more`: the first few users of a resource (the blast radius). */
export function formatUsedBy(usedBy: readonly string[], shown = USED_BY_SHOWN): string {
  if (usedBy.length <= shown) return usedBy.join(', ');
  return `${usedBy.slice(0, shown).join(', ')} and ${usedBy.length - shown} more`;
}

/** The lines of one change: header, notes, field changes and the unchanged-fields summary. */
export function changeLines(change: PlannedChange, project?: string): Line[] {
  const lines: Line[] = [
    {
      depth: 1,
      marker: MARKER[change.action],
      text: `${change.kind}/${change.name} ${describeAction(change, project)}`,
      role: 'header',
    },
  ];
  if (change.source)
    lines.push({ depth: 3, marker: '', text: `# source: ${change.source}`, role: 'comment' });
  else if (change.action === 'delete') {
    lines.push({ depth: 3, marker: '', text: '# (no longer in the manifests)', role: 'comment' });
  }
  if (change.usedBy && change.usedBy.length > 0) {
    lines.push({ depth: 3, marker: '', text: `# used by: ${formatUsedBy(change.usedBy)}`, role: 'comment' });
  }
  const walk: Walk = { lines, unchanged: 0 };
  if (change.reason !== 'release') {
    const { before, after } = change;
    for (const field of ['labels', 'annotations'] as const) {
      const b = before?.metadata[field];
      const a = after?.metadata[field];
      // An empty map on both sides (or on the only side) is not worth a line or a count.
      if (Object.keys(b ?? {}).length === 0 && Object.keys(a ?? {}).length === 0) continue;
      walkValue(walk, `metadata.${field}`, b, a);
    }
    const b = before?.spec ?? {};
    const a = after?.spec ?? {};
    for (const key of [...Object.keys(b), ...Object.keys(a).filter((k) => !Object.hasOwn(b, k))]) {
      walkValue(walk, childPath('spec', key), own(b, key), own(a, key));
    }
  }
  const noFieldChanges = walk.lines.every((l) => l.role !== 'field');
  if (change.action === 'update' && noFieldChanges) {
    const note =
      change.reason === 'release'
        ? '# (only the stigmer.ai/project annotation is removed)'
        : '# (no field changes; the ownership annotations will be written)';
    lines.push({ depth: 3, marker: '', text: note, role: 'comment' });
  }
  if (change.action === 'update' && walk.unchanged > 0 && !noFieldChanges) {
    const n = walk.unchanged;
    lines.push({
      depth: 3,
      marker: '',
      text: `# (${n} unchanged attribute${n === 1 ? '' : 's'} hidden)`,
      role: 'comment',
    });
  }
  return lines;
}

/**
 * The one line of a change in the compact form (`--compact`, large PR comments):
 * `+ Agent/new`, `- Skill/old`, `~ Agent/support-bot (2 fields)`, with `adopted`, `drift` or
 * `released` noted in the parentheses.
 */
export function compactLine(change: PlannedChange): Line {
  const text = `${change.kind}/${change.name}`;
  if (change.action !== 'update') return { depth: 1, marker: MARKER[change.action], text, role: 'header' };
  if (change.reason === 'release')
    return { depth: 1, marker: '~', text: `${text} (released)`, role: 'header' };
  const fields = changeLines(change).filter((l) => l.role === 'field' && l.depth === 3).length;
  const notes = [
    fields === 0 ? 'no field changes' : `${fields} field${fields === 1 ? '' : 's'}`,
    ...(change.reason === 'adopt' ? ['adopted'] : []),
    ...(change.drift ? ['drift'] : []),
  ];
  return { depth: 1, marker: '~', text: `${text} (${notes.join(', ')})`, role: 'header' };
}
