// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are data in these tests
/**
 * Fuzzing the manifest loader and validator (issue 6, docs/reliability.md): random YAML text,
 * token soups, random JSON values dumped as YAML, and random mutations of valid manifests.
 * Whatever the input, `parseManifestFile` and `validateManifestSet` return diagnostics or throw
 * a StigmerError (never another error), finish each file within a time bound, and do not grow
 * the heap without bound. The number of files checked is printed for docs/reliability.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { StigmerError } from '../../src/errors.js';
import { MAX_FILE_BYTES, parseManifestFile } from '../../src/manifest/parse.js';
import { validateManifestSet } from '../../src/manifest/validate-set.js';

/**
 * Time allowed for parsing and validating one generated file: a hang guard, not a benchmark
 * (the slowest file takes about 0.5 s on an idle machine and 2 s on a loaded one).
 */
const FILE_TIME_BOUND_MS = 6000;
/**
 * Time allowed for the hand-written worst cases, some of them close to MAX_FILE_BYTES (4 MiB):
 * the yaml library alone needs about a second for 4 MB, and CI machines are slow.
 */
const LARGE_FILE_TIME_BOUND_MS = 30_000;
/** Heap a single file may leave behind after a full GC, and the growth allowed over a property. */
const FILE_HEAP_BOUND = 64 * 1024 * 1024;
const RUN_HEAP_BOUND = 96 * 1024 * 1024;
/** FUZZ_SCALE=N multiplies every property's run count (long local runs; CI uses 1). */
const SCALE = Math.max(1, Number.parseInt(process.env.FUZZ_SCALE ?? '1', 10) || 1);

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapAfterGc = () => {
  gc();
  return process.memoryUsage().heapUsed;
};

const cwd = mkdtempSync(join(tmpdir(), 'stigmer-fuzz-'));
let checked = 0;
let slowest = 0;
afterAll(() => {
  rmSync(cwd, { recursive: true, force: true });
  console.log(
    `fuzz: ${checked} files checked (FUZZ_SCALE=${SCALE}), slowest generated file ${Math.round(slowest)} ms`,
  );
});

/**
 * Parses and validates one file. Fails when either function throws something other than a
 * StigmerError, returns a malformed diagnostic, or takes longer than `boundMs`.
 */
function check(input: string | Buffer, boundMs = FILE_TIME_BOUND_MS): void {
  const started = performance.now();
  try {
    const parsed = parseManifestFile('fuzz.yaml', input);
    expect(Array.isArray(parsed.documents)).toBe(true);
    const set = validateManifestSet([parsed], { root: null, project: null, cwd });
    // Plain checks: `expect` per diagnostic would dominate the time of 100,000-diagnostic files.
    const malformed = set.diagnostics.find(
      (d) => typeof d.message !== 'string' || !(d.line >= 1) || !(d.column >= 1),
    );
    expect(malformed).toBeUndefined();
  } catch (err) {
    if (!(err instanceof StigmerError)) {
      throw new Error(`non-Stigmer error for input ${JSON.stringify(String(input).slice(0, 300))}`, {
        cause: err,
      });
    }
  }
  const ms = performance.now() - started;
  checked++;
  if (boundMs === FILE_TIME_BOUND_MS) slowest = Math.max(slowest, ms);
  expect(ms, `one file took ${Math.round(ms)} ms`).toBeLessThan(boundMs);
}

/** Runs a property over `check` and requires the heap, after GC, to grow less than RUN_HEAP_BOUND. */
function assertBounded<T>(arb: fc.Arbitrary<T>, toInput: (v: T) => string | Buffer, numRuns: number): void {
  const before = heapAfterGc();
  fc.assert(
    fc.property(arb, (v) => {
      check(toInput(v));
    }),
    { numRuns: numRuns * SCALE },
  );
  expect(heapAfterGc() - before).toBeLessThan(RUN_HEAP_BOUND);
}

const TOKENS = [
  'apiVersion: agentic.stigmer.ai/v1',
  'kind: Agent',
  'kind: Workflow',
  'kind: Environment',
  'metadata:',
  '  name: a',
  'spec:',
  '  instructions: do the thing well',
  '  data:',
  '    K: {value: v, isSecret: true}',
  '    valueFrom: {env: X, optional: true}',
  '  tasks:',
  '    - name: t',
  '      agent: a',
  '      dependsOn: [t]',
  '${tasks.t.outputs.x}',
  '${workflow.inputs.',
  '---',
  '...',
  '- ',
  '? ',
  ': ',
  '&a ',
  '*a',
  '<<: *a',
  '!!str ',
  '!!binary ',
  '!!map ',
  '!!set ',
  '!!omap ',
  '!!timestamp ',
  '!custom ',
  '!<tag:yaml.org,2002:js/function> ',
  '%YAML 1.1',
  '%YAML 1.2',
  '%TAG !e! tag:example.com,2000:',
  '{',
  '}',
  '[',
  ']',
  ',',
  '"',
  "'",
  '|',
  '>-',
  '#',
  '\n',
  '\n  ',
  '\t',
  ' ',
  '\r\n',
  '__proto__:',
  'constructor:',
  'null',
  '~',
  '1e999',
  '-0',
  '0x1F',
  '.nan',
  'no',
  '\u{feff}',
  '\u{2028}',
  '\\',
  '\0',
];

const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((t) => t.join(''));

/** Valid manifests of every declared kind, as plain objects to mutate. */
const VALID: Record<string, unknown>[] = [
  {
    apiVersion: 'agentic.stigmer.ai/v1',
    kind: 'Skill',
    metadata: { name: 'guide', labels: { team: 'a' } },
    spec: { tag: 'v1', skillMd: '# Guide' },
  },
  {
    apiVersion: 'agentic.stigmer.ai/v1',
    kind: 'Environment',
    metadata: { name: 'env' },
    spec: {
      description: 'settings',
      data: {
        REGION: { value: 'eu' },
        TOKEN: { isSecret: true, valueFrom: { env: 'TOKEN', optional: true } },
      },
    },
  },
  {
    apiVersion: 'agentic.stigmer.ai/v1',
    kind: 'Agent',
    metadata: { name: 'bot', annotations: { 'stigmer.ai/prune': 'disabled' } },
    spec: {
      instructions: 'Answer the questions of customers.',
      mcpServers: ['github', { name: 'fs', stdio: { command: 'mcp-fs', args: ['/'] } }],
      skillRefs: ['guide'],
      config: { model: 'm', temperature: '0.2' },
    },
  },
  {
    apiVersion: 'agentic.stigmer.ai/v1',
    kind: 'Workflow',
    metadata: { name: 'flow' },
    spec: {
      inputs: { repo: { type: 'string', required: true } },
      tasks: [
        { name: 'a', agent: 'bot', inputs: { r: '${workflow.inputs.repo}' }, outputs: { x: 'x' } },
        { name: 'b', agent: 'bot', dependsOn: ['a'], inputs: { y: '${tasks.a.outputs.x}' } },
      ],
    },
  },
  {
    apiVersion: 'agentic.stigmer.ai/v1',
    kind: 'AgentInstance',
    metadata: { name: 'bot-prod' },
    spec: { agent: 'bot', environmentRefs: ['env'] },
  },
  {
    apiVersion: 'agentic.stigmer.ai/v1',
    kind: 'WorkflowInstance',
    metadata: { name: 'flow-prod' },
    spec: { workflow: 'flow', environmentRefs: ['env'] },
  },
];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every path (as key/index lists) of a JSON value, the root included. */
function pathsOf(value: Json, prefix: (string | number)[] = []): (string | number)[][] {
  const out = [prefix];
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) out.push(...pathsOf(value[i]!, [...prefix, i]));
  } else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  return out;
}

type Mutation =
  | { op: 'delete'; at: number }
  | { op: 'rename'; at: number; name: string }
  | { op: 'retype'; at: number; value: Json }
  | { op: 'wrap'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('rename' as const),
    at: fc.nat(),
    name: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'specs', 'Kind', 'metdata', 'instruction')),
  }),
  fc.record({
    op: fc.constant('retype' as const),
    at: fc.nat(),
    value: fc.jsonValue() as fc.Arbitrary<Json>,
  }),
  fc.record({ op: fc.constant('wrap' as const), at: fc.nat() }),
);

/** Applies one mutation in place (the root is replaced only by retype and wrap). */
function mutate(doc: Json, m: Mutation): Json {
  const paths = pathsOf(doc);
  const path = paths[m.at % paths.length]!;
  if (path.length === 0) return m.op === 'retype' ? m.value : m.op === 'wrap' ? [doc] : doc;
  let parent: Json = doc;
  for (const seg of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[seg]!;
  const last = path[path.length - 1]!;
  const container = parent as Record<string | number, Json>;
  switch (m.op) {
    case 'delete':
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete container[last];
      break;
    case 'rename':
      if (!Array.isArray(parent)) {
        const v = container[last]!;
        delete container[last];
        Object.defineProperty(container, m.name, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      break;
    case 'retype':
      container[last] = m.value;
      break;
    case 'wrap':
      container[last] = [container[last]!];
      break;
  }
  return doc;
}

/** Text-level damage done after dumping: anchors, aliases, tags, duplicates, huge and deep values. */
type TextMutation =
  | { op: 'duplicate-doc' }
  | { op: 'insert-line'; at: number; line: string }
  | { op: 'huge-string'; at: number; size: number }
  | { op: 'deep'; at: number; depth: number; flow: boolean }
  | { op: 'truncate'; at: number };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  fc.record({ op: fc.constant('duplicate-doc' as const) }),
  fc.record({
    op: fc.constant('insert-line' as const),
    at: fc.nat(),
    line: fc.oneof(
      fc.constantFrom(
        'x: &anchor {a: 1}',
        'y: *anchor',
        '<<: *anchor',
        'z: *missing',
        'name: !!binary aGVsbG8=',
        'name: !!int 12',
        'spec: !custom {a: 1}',
        'tags: !!set {a, b}',
        'kind: !!str Agent',
        '  duplicate: 1\n  duplicate: 2',
        '---',
        '%YAML 1.1\n---',
      ),
      fc.array(fc.constantFrom(...TOKENS), { maxLength: 8 }).map((t) => t.join('')),
    ),
  }),
  fc.record({
    op: fc.constant('huge-string' as const),
    at: fc.nat(),
    size: fc.integer({ min: 10_000, max: 300_000 }),
  }),
  fc.record({
    op: fc.constant('deep' as const),
    at: fc.nat(),
    depth: fc.integer({ min: 10, max: 5000 }),
    flow: fc.boolean(),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

function damage(text: string, m: TextMutation): string {
  const lines = text.split('\n');
  const at = (n: number) => n % (lines.length + 1);
  switch (m.op) {
    case 'duplicate-doc':
      return `${text}\n---\n${text}`;
    case 'insert-line':
      lines.splice(at(m.at), 0, m.line);
      return lines.join('\n');
    case 'huge-string':
      lines.splice(at(m.at), 0, `  big: "${'x'.repeat(m.size)}"`);
      return lines.join('\n');
    case 'deep': {
      const nested = m.flow
        ? `deep: ${'['.repeat(m.depth)}1${']'.repeat(m.depth)}`
        : `${Array.from({ length: Math.min(m.depth, 400) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')} v`;
      lines.splice(at(m.at), 0, nested);
      return lines.join('\n');
    }
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
  }
}

const validDoc = fc.constantFrom(...VALID).map((d) => structuredClone(d) as Json);

describe('fuzz: parseManifestFile + validateManifestSet', { timeout: 60_000 * SCALE }, () => {
  it('survive arbitrary strings and bytes', () => {
    assertBounded(fc.string({ unit: 'binary', maxLength: 400 }), (s) => s, 300);
    assertBounded(fc.uint8Array({ maxLength: 400 }), (b) => Buffer.from(b), 150);
  });

  it('survive YAML-ish token soups', () => {
    assertBounded(tokenSoup, (s) => s, 1000);
  });

  it('survive random JSON values dumped as YAML, bare and under a manifest envelope', () => {
    assertBounded(fc.jsonValue(), (v) => stringify(v), 300);
    assertBounded(
      fc.record({ kind: fc.constantFrom(...VALID.map((d) => d.kind as string)), spec: fc.jsonValue() }),
      ({ kind, spec }) =>
        stringify({ apiVersion: 'agentic.stigmer.ai/v1', kind, metadata: { name: 'x' }, spec }),
      300,
    );
  });

  it('survive structural mutations of valid manifests (delete, rename, retype, wrap)', () => {
    assertBounded(
      fc.tuple(fc.array(validDoc, { minLength: 1, maxLength: 4 }), fc.array(mutation, { maxLength: 6 })),
      ([docs, mutations]) =>
        docs
          .map((d, i) => mutations.filter((_, j) => j % docs.length === i).reduce(mutate, d))
          .map((d) => stringify(d))
          .join('---\n'),
      600,
    );
  });

  it('survive text damage: anchors, aliases, tags, duplicate documents, huge strings, deep nesting', () => {
    assertBounded(
      fc.tuple(
        fc.array(validDoc, { minLength: 1, maxLength: 3 }),
        fc.array(textMutation, { minLength: 1, maxLength: 3 }),
      ),
      ([docs, damages]) => damages.reduce(damage, docs.map((d) => stringify(d)).join('---\n')),
      150,
    );
  });

  it('handle the classic attacks within the bounds', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'apiVersion: agentic.stigmer.ai/v1',
      'kind: Agent',
      'metadata: {name: bomb}',
      'spec: {instructions: *g}',
    ].join('\n');
    const cases: Array<[string, string | Buffer]> = [
      ['billion laughs', bomb],
      ['deep flow sequence', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
      ['deep flow mapping', `${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}`],
      ['deep block mapping', Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
      ['deep block sequence', Array.from({ length: 2000 }, (_, i) => `${' '.repeat(i)}-`).join('\n')],
      ['self-referencing merge keys', 'a: &a\n  <<: *a\n'],
      ['recursive alias', '&a [*a]'],
      ['huge single string', `spec: "${'y'.repeat(MAX_FILE_BYTES - 20)}"`],
      ['over the size limit', Buffer.alloc(MAX_FILE_BYTES + 1, 'a')],
      ['many empty documents', '---\n'.repeat(100_000)],
      ['many tiny documents', 'a: 1\n---\n'.repeat(25_000)],
      ['many keys in one mapping', Array.from({ length: 100_000 }, (_, i) => `k${i}: ${i}`).join('\n')],
      ['many duplicate keys', 'k: 1\n'.repeat(100_000)],
      ['many anchors', Array.from({ length: 20_000 }, (_, i) => `k${i}: &a${i} v`).join('\n')],
      ['unknown tags everywhere', Array.from({ length: 5000 }, (_, i) => `k${i}: !t${i} v`).join('\n')],
      ['invalid UTF-8', Buffer.from([0x6b, 0x3a, 0x20, 0xc3, 0x28])],
      ['lone surrogates', 'kind: "\\ud800"\nmetadata: {name: "\\udfff"}'],
    ];
    const timings: string[] = [];
    for (const [name, input] of cases) {
      const before = heapAfterGc();
      const started = performance.now();
      check(input, LARGE_FILE_TIME_BOUND_MS);
      const ms = performance.now() - started;
      const grew = heapAfterGc() - before;
      timings.push(`${name} ${Math.round(ms)} ms`);
      expect(grew, `${name}: heap grew ${grew} bytes`).toBeLessThan(FILE_HEAP_BOUND);
      expect(ms, `${name} took ${Math.round(ms)} ms`).toBeLessThan(LARGE_FILE_TIME_BOUND_MS);
    }
    console.log(`fuzz: worst cases: ${timings.join(', ')}`);
    // Hang guard for the whole list on a loaded machine (each case has its own bound above).
  }, 240_000);
});
