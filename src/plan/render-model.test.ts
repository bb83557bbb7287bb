/**
 * The one-sided walk of changeLines (every field of a create or a delete, item 56 of
 * docs/performance.md) against the rule it implements, on generated JSON: each leaf of an
 * object, and of an array that holds containers, is one line; other arrays, empty objects and
 * scalars are one line; multi-line strings are a field line then one line per line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../types.js';
import { changeLines, formatValue, type Line } from './render-model.js';
import type { PlannedChange } from './types.js';

function change(action: 'create' | 'delete', spec: JsonObject): PlannedChange {
  const view = { metadata: { labels: { team: 'cs' }, annotations: {} }, spec };
  return {
    action,
    kind: 'Agent',
    name: 'a',
    source: action === 'create' ? 'a.yaml:1' : null,
    expectedVersion: action === 'create' ? null : 1,
    drift: false,
    patch: [],
    before: action === 'create' ? null : view,
    after: action === 'create' ? view : null,
  };
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const child = (path: string, key: string | number) =>
  typeof key === 'number'
    ? `${path}[${key}]`
    : IDENTIFIER.test(key)
      ? `${path}.${key}`
      : `${path}[${JSON.stringify(key)}]`;

/** The rule, written plainly. */
function expected(path: string, value: JsonValue, marker: '+' | '-'): string[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.keys(value).flatMap((k) => expected(child(path, k), value[k] as JsonValue, marker));
  }
  if (Array.isArray(value) && value.some((x) => typeof x === 'object' && x !== null)) {
    return value.flatMap((x, i) => expected(child(path, i), x, marker));
  }
  if (typeof value === 'string' && value.includes('\n')) {
    const lines = value.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return [`3 ${marker} ${path}:`, ...lines.map((l) => `5 ${marker} ${l}`)];
  }
  return [`3 ${marker} ${path} = ${formatValue(value)}`];
}

const shown = (lines: Line[]) =>
  lines.filter((l) => l.role === 'field' || l.role === 'diff').map((l) => `${l.depth} ${l.marker} ${l.text}`);

const specs = fc.dictionary(
  fc.oneof(fc.constantFrom('toString', 'constructor', 'has space', 'x-y', '0'), fc.string({ maxLength: 6 })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => v as JsonValue),
  { maxKeys: 6 },
);

describe('changeLines of a create or a delete', () => {
  it('shows every leaf once, by the rule, with + for a create and - for a delete', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          specs,
          fc.constant<Record<string, JsonValue>>({
            instructions: 'line one\nline two\n',
            mcpServers: [{ name: 'gh', args: ['-y'] }],
            tags: [],
          }),
        ),
        (spec: Record<string, JsonValue>) => {
          const want = (m: '+' | '-') => [
            `3 ${m} metadata.labels.team = "cs"`,
            ...Object.keys(spec).flatMap((k) => expected(child('spec', k), spec[k] as JsonValue, m)),
          ];
          expect(shown(changeLines(change('create', spec as JsonObject)))).toEqual(want('+'));
          expect(shown(changeLines(change('delete', spec as JsonObject)))).toEqual(want('-'));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('shows a key named like a member of Object.prototype', () => {
    const lines = shown(changeLines(change('create', { toString: 'x', constructor: { a: 1 } })));
    expect(lines).toContain('3 + spec.toString = "x"');
    expect(lines).toContain('3 + spec.constructor.a = 1');
  });
});
