import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isMap, LineCounter, parseAllDocuments } from 'yaml';
import { type FastDocument, fastParseDocuments } from './fast-yaml.js';
import { parseManifestFile } from './parse.js';
import { ConvertError, documentToJson, duplicateKeys, type PositionTrie } from './yaml-nodes.js';

/** A trie that records every node. */
const EVERY: PositionTrie = { terminal: true, children: new Map(), star: undefined };
EVERY.star = EVERY;

interface Reference {
  value: unknown;
  start: number;
  positions: Record<string, number>;
}

/**
 * What the library's path makes of `text`: each non-empty document's value, start and the
 * offset of every node; null when any document has an error, a warning, a repeated key or
 * cannot be converted, or is not a mapping (the fast path must then give up too).
 */
function reference(text: string): Reference[] | null {
  const lineCounter = new LineCounter();
  const out: Reference[] = [];
  for (const doc of parseAllDocuments(text, { lineCounter, uniqueKeys: false })) {
    if (doc.errors.length > 0 || doc.warnings.length > 0) return null;
    const contents = doc.contents;
    if (contents === null) continue;
    if (!isMap(contents)) {
      if ('value' in contents && contents.value === null && contents.range[0] === contents.range[1]) continue;
      return null;
    }
    if (duplicateKeys(doc).length > 0) return null;
    const positions: Record<string, { line: number; column: number }> = {};
    let value: unknown;
    try {
      value = documentToJson(doc, { lineCounter, record: EVERY, positions, duplicates: new Set() });
    } catch (err) {
      if (err instanceof ConvertError) return null;
      throw err;
    }
    const offsets: Record<string, number> = {};
    for (const [pointer, pos] of Object.entries(positions)) {
      offsets[pointer] = lineCounter.lineStarts[pos.line - 1]! + pos.column - 1;
    }
    out.push({ value, start: contents.range[0], positions: offsets });
  }
  return out;
}

function view(docs: FastDocument[]): Reference[] {
  return docs.map((d) => ({
    value: d.value,
    start: d.start,
    positions: Object.fromEntries(d.recorded.map((r) => [r.pointer, r.offset])),
  }));
}

/** Same documents, values (key order and `__proto__` keys included) and positions. */
function agree(text: string): 'fast' | 'fallback' {
  const fast = fastParseDocuments(text, EVERY);
  if (fast === null) return 'fallback';
  const ref = reference(text);
  if (ref === null) throw new Error(`fast path answered where the library fails:\n${text}`);
  const got = view(fast);
  expect(got.map((d) => JSON.stringify(d.value))).toEqual(ref.map((d) => JSON.stringify(d.value)));
  expect(got).toEqual(ref);
  for (const d of fast) {
    for (const r of d.recorded) {
      expect(r.path.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')).toBe(r.pointer);
    }
  }
  return 'fast';
}

const COMMON_KEYS = ['name', 'a', 'spec', 'skill-refs', 'API_URL', 'stigmer.ai/prune', 'a b', 'é'];
const KEYS = [
  'name',
  'a',
  'spec',
  'skill-refs',
  'API_URL',
  'stigmer.ai/prune',
  'a b',
  '__proto__',
  'x~y',
  '$ref',
  'é',
  'true',
  '1',
  'null',
  '~',
  '-x',
  'a:b',
  'a #b',
  '"q"',
  "'s'",
  '"a\\"b"',
  "'it''s'",
  '.5',
  'k ',
];
const COMMON_SCALARS = [
  'hello',
  'hello world',
  '',
  'true',
  '0',
  '-3',
  '1.5',
  'https://x.io/a',
  '"dq"',
  "'sq'",
  '[a, b]',
  '{}',
  'a:b',
  'x #y',
];
const SCALARS = [
  'hello',
  'hello world',
  '',
  'null',
  'Null',
  '~',
  'true',
  'False',
  'TRUE',
  'True',
  'false',
  'FALSE',
  'NULL',
  'nULL',
  'tRUE',
  'yes',
  'no',
  '0o',
  '0x',
  '+.5',
  '-.5e3',
  '1.',
  '1e',
  '.',
  '+',
  '-0.0',
  '0b101',
  '1:30',
  '.Inf',
  '+.inf',
  '.NAN',
  '0',
  '-0',
  '007',
  '+12',
  '0o17',
  '0o8',
  '0x1F',
  '0xg',
  '1e3',
  '1.5e-3',
  '.5',
  '5.',
  '1_000',
  '.inf',
  '-.Inf',
  '.nan',
  '1e999',
  '123456789012345678901234567890',
  'https://example.com/a?b=c',
  'a: b',
  'a:b',
  'ends:',
  '#x',
  'x #y',
  'x# y',
  '-',
  '--',
  '---',
  '-1',
  '-x',
  '- x',
  '? x',
  ':x',
  '@x',
  '`x`',
  '%x',
  '&a x',
  '*a',
  '!tag x',
  '[a, b]',
  '{a: 1}',
  '[]',
  '{}',
  '[a, [b, c], {d: e}]',
  '[a,]',
  '["x", \'y\']',
  '{"k": v, w: 2}',
  '{a: 1, a: 2}',
  '"dq"',
  '"esc \\n \\t \\" \\\\ \\/ \\x41 \\u00e9 \\U0001F600"',
  '"bad \\q"',
  '"\\ud800"',
  "'sq'",
  "'it''s'",
  "'a' b",
  '"a" # c',
  'say "hi"',
  "it's",
  'a\\b',
  'tail  ',
  'ü ∑ 😀',
  `\${inputs.x}`,
  `"\${tasks.a.outputs.b}"`,
  'x,y',
  'a]',
  'a}',
];

interface Tree {
  kind: 'map' | 'seq' | 'scalar' | 'block' | 'empty';
  items?: [string, Tree][];
  values?: Tree[];
  text?: string;
  lines?: string[];
  header?: string;
}

const scalar = fc
  .oneof(
    { arbitrary: fc.constantFrom(...COMMON_SCALARS), weight: 12 },
    { arbitrary: fc.constantFrom(...SCALARS), weight: 1 },
  )
  .map((text): Tree => ({ kind: 'scalar', text }));
const block = fc
  .record({
    header: fc.constantFrom('|', '|', '|-', '>', '>-', '|+', '|2', '| # c', '>-  '),
    lines: fc.array(
      fc.constantFrom('line one', 'two words', '', '  indented', '# not a comment', 'x: y', '  '),
      {
        minLength: 0,
        maxLength: 5,
      },
    ),
  })
  .map((b): Tree => ({ kind: 'block', header: b.header, lines: b.lines }));

const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree; map: Tree; seq: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 4, withCrossShrink: true },
    { arbitrary: scalar, weight: 4 },
    { arbitrary: block, weight: 1 },
    { arbitrary: fc.constant<Tree>({ kind: 'empty' }), weight: 1 },
    { arbitrary: tie('map'), weight: 2 },
    { arbitrary: tie('seq'), weight: 2 },
  ),
  map: fc
    .array(
      fc.tuple(
        fc.oneof(
          { arbitrary: fc.constantFrom(...COMMON_KEYS), weight: 12 },
          { arbitrary: fc.constantFrom(...KEYS), weight: 1 },
        ),
        tie('node'),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((items): Tree => ({ kind: 'map', items })),
  seq: fc.array(tie('node'), { minLength: 1, maxLength: 4 }).map((values): Tree => ({ kind: 'seq', values })),
})).map;

interface Style {
  step: number;
  seqIndented: boolean;
  compact: boolean;
  comments: boolean;
  blankLines: boolean;
  trailing: string;
}

const style = fc.record({
  step: fc.integer({ min: 1, max: 4 }),
  seqIndented: fc.boolean(),
  compact: fc.boolean(),
  comments: fc.boolean(),
  blankLines: fc.boolean(),
  trailing: fc.constantFrom('', ' ', '  # t'),
});

/** Writes a tree as block YAML at indentation `indent`, as the value after `key:` or `-`. */
function write(t: Tree, indent: number, s: Style, out: string[], lead: string): void {
  const pad = ' '.repeat(indent);
  const extra = (): void => {
    if (s.blankLines) out.push('');
    if (s.comments) out.push(`${pad}# comment`);
  };
  switch (t.kind) {
    case 'scalar':
      out.push(`${lead} ${t.text}${s.trailing}`);
      return;
    case 'empty':
      out.push(`${lead}${s.trailing}`);
      return;
    case 'block':
      out.push(`${lead} ${t.header}`);
      for (const l of t.lines!) out.push(l === '' ? '' : `${pad}${' '.repeat(s.step)}${l}`);
      return;
    case 'map': {
      const inner = lead === '' ? indent : indent + s.step;
      if (lead !== '') out.push(`${lead}${s.trailing}`);
      for (const [k, v] of t.items!) {
        extra();
        write(v, inner, s, out, `${' '.repeat(inner)}${k}:`);
      }
      return;
    }
    case 'seq': {
      const inner = lead === '' ? indent : s.seqIndented ? indent + s.step : indent;
      if (lead !== '') out.push(`${lead}${s.trailing}`);
      for (const v of t.values!) {
        extra();
        const dash = `${' '.repeat(inner)}-`;
        if (s.compact && v.kind === 'map') {
          const [first, ...rest] = v.items!;
          const col = inner + 2;
          write(first![1], col, s, out, `${dash} ${first![0]}:`);
          for (const [k, w] of rest) write(w, col, s, out, `${' '.repeat(col)}${k}:`);
        } else {
          write(v, inner + s.step, s, out, dash);
        }
      }
      return;
    }
  }
}

const documentText = fc.tuple(tree, style).map(([t, s]) => {
  const root: Tree = t.kind === 'map' ? t : { kind: 'map', items: [['root', t]] };
  const out: string[] = [];
  write(root, 0, s, out, '');
  return out.join('\n');
});

const fileText = fc
  .tuple(fc.array(documentText, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.boolean())
  .map(([docs, leadingMarker, finalNewline]) => {
    const text = (leadingMarker ? '---\n' : '') + docs.join('\n---\n');
    return finalNewline ? `${text}\n` : text;
  });

describe('fastParseDocuments against the yaml library', () => {
  it('agrees on generated documents whenever it answers', () => {
    let fast = 0;
    let all = 0;
    fc.assert(
      fc.property(fileText, (text) => {
        all++;
        if (agree(text) === 'fast') fast++;
      }),
      { numRuns: 3000 },
    );
    // The generator is mostly valid YAML: the fast path must answer for a good share of it.
    expect(fast / all).toBeGreaterThan(0.1);
  });

  it('agrees on mutated documents whenever it answers', () => {
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.integer({ min: 0, max: 2 }),
      insert: fc.constantFrom(
        '',
        ' ',
        '  ',
        '-',
        '- ',
        ':',
        ': ',
        '#',
        ' #',
        '\n',
        '\n  ',
        '"',
        "'",
        '|',
        '>',
        '[',
        ']',
        '{',
        '}',
        ',',
        '&',
        '*',
        '!',
        '?',
        'a',
        '0',
        '---',
        '\\',
      ),
    });
    fc.assert(
      fc.property(fileText, fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
        let t = text;
        for (const e of edits) {
          const at = e.at % (t.length + 1);
          t = t.slice(0, at) + e.insert + t.slice(at + e.remove);
        }
        agree(t);
      }),
      { numRuns: 3000 },
    );
  });

  it('answers for the shapes manifests use', () => {
    const text = [
      '# a comment',
      'apiVersion: agentic.stigmer.ai/v1',
      'kind: Agent',
      'metadata:',
      '  name: a',
      '  labels: {team: core, "tier": gold}',
      '  annotations:',
      '    stigmer.ai/prune: disabled',
      'spec:',
      '  instructions: |',
      '    line one',
      '',
      '    line two',
      '  summary: >-',
      '    folded',
      '    text',
      '  skillRefs: [a, "b"]',
      '  subAgents:',
      '  - x',
      '  -   y   # c',
      '  mcpServers:',
      '    - name: github',
      '      env:',
      '        - "1"',
      '    -',
      '      name: fs',
      '    - - nested',
      '      - 2',
      '  empty:',
      "  quoted: 'it''s \"x\"'",
      '  escaped: "a\\tb\\u00e9"',
      '  numbers: [1, 0x1f, 0o7, 1.5, 2e3, -3]',
      '---',
      '---',
      'kind: Skill',
      '',
    ].join('\n');
    expect(agree(text)).toBe('fast');
  });

  it('gives up on what it does not read', () => {
    for (const text of [
      'a: &x 1\nb: *x\n',
      'a: !!str 1\n',
      '%YAML 1.2\n---\na: 1\n',
      'a: 1\n...\n',
      'a:\tb\n',
      'a: 1\r\nb: 2\r\n',
      '? a\n: b\n',
      'a: b\n  c\n',
      'a: "b\n  c"\n',
      'a: |+\n  x\n',
      'a: |2\n   x\n',
      'a: .inf\n',
      'a: 1\na: 2\n',
      '1: x\n',
      '- a\n',
      'just a string\n',
      'a: |\n  x',
      '---x: 1\n',
      '...: 1\n',
      'a: 1\n...b: 2\n',
    ]) {
      expect(fastParseDocuments(text, EVERY), text).toBeNull();
    }
  });
});

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) out.push(path);
  }
  return out;
}

const ROOT = new URL('../..', import.meta.url).pathname;

describe('parseManifestFile on its fast path and on the library alone', () => {
  it('gives the same ParsedFile for the benchmark stack, and answers for all of it', async () => {
    const stack = (await import(new URL('../../bench/stack.mjs', import.meta.url).href)) as {
      writeStack(dir: string, n: number): void;
    };
    const dir = mkdtempSync(join(tmpdir(), 'stigmer-fast-yaml-'));
    try {
      stack.writeStack(dir, 400);
      const files = yamlFiles(dir).filter((f) => !f.endsWith('stigmer.yaml'));
      expect(files.length).toBe(40);
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        expect(fastParseDocuments(text, EVERY), file).not.toBeNull();
        const path = relative(dir, file);
        expect(parseManifestFile(path, text, { fast: true })).toEqual(
          parseManifestFile(path, text, { fast: false }),
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('agrees with the library on randomly edited benchmark files whenever it answers', async () => {
    const stack = (await import(new URL('../../bench/stack.mjs', import.meta.url).href)) as {
      writeStack(dir: string, n: number): void;
    };
    const dir = mkdtempSync(join(tmpdir(), 'stigmer-fast-yaml-'));
    let texts: string[];
    try {
      stack.writeStack(dir, 40);
      texts = yamlFiles(dir)
        .filter((f) => !f.endsWith('stigmer.yaml'))
        .map((f) => readFileSync(f, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const edit = fc.record({
      at: fc.nat(),
      remove: fc.integer({ min: 0, max: 3 }),
      insert: fc.constantFrom(
        ...['', ' ', '  ', '-', '- ', ':', ': ', '#', ' #', '\n', '\n  ', '"', "'", '|', '>', '|-', '>-'],
        ...[
          '[',
          ']',
          '{',
          '}',
          ',',
          '0',
          '---',
          '\\',
          'é',
          '~',
          '.5',
          'true',
          'null',
          '\n\n',
          '  - x\n',
          'k: v\n',
        ],
      ),
    });
    let fast = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...texts),
        fc.array(edit, { minLength: 1, maxLength: 4 }),
        (text, edits) => {
          let t = text;
          for (const e of edits) {
            const at = e.at % (t.length + 1);
            t = t.slice(0, at) + e.insert + t.slice(at + e.remove);
          }
          if (agree(t) === 'fast') fast++;
        },
      ),
      { numRuns: 2000 },
    );
    // Many edits leave the file valid (inside a block scalar, an extra space in a value).
    expect(fast).toBeGreaterThan(200);
  });

  it("gives the same ParsedFile for every example's and test fixture's file, with or without diagnostics", () => {
    const files = [...yamlFiles(join(ROOT, 'examples')), ...yamlFiles(join(ROOT, 'test'))];
    expect(files.length).toBeGreaterThan(20);
    let fast = 0;
    for (const file of files) {
      const bytes = readFileSync(file);
      if (fastParseDocuments(bytes.toString('utf8'), EVERY) !== null) fast++;
      const path = relative(ROOT, file);
      expect(parseManifestFile(path, bytes, { fast: true }), path).toEqual(
        parseManifestFile(path, bytes, { fast: false }),
      );
    }
    expect(fast).toBeGreaterThan(files.length / 2);
  });

  it('leaves every diagnostic to the library: a schema error in a file the fast path reads', () => {
    const text =
      'apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: a\nspec:\n  instructions: 5\n  extra: x\n';
    expect(fastParseDocuments(text, EVERY)).not.toBeNull();
    const fast = parseManifestFile('a.yaml', text, { fast: true });
    expect(fast.diagnostics.length).toBeGreaterThan(0);
    expect(fast).toEqual(parseManifestFile('a.yaml', text, { fast: false }));
  });
});
