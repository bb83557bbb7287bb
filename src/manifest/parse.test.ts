import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../errors.js';
import { MAX_FILE_BYTES, parseManifestFile } from './parse.js';

const agent = (name: string, extra = '') =>
  `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: ${name}
spec:
  instructions: Answer questions about the product.
${extra}`;

const errors = (text: string | Buffer) =>
  parseManifestFile('m.yaml', text).diagnostics.filter((d) => d.severity === 'error');
const shown = (text: string | Buffer) => errors(text).map(formatDiagnostic);

describe('parseManifestFile: documents', () => {
  it('parses several documents with their start positions and skips empty ones', () => {
    const text = `# leading comment\n${agent('a')}---\n---\n# only a comment\n---\n${agent('b')}`;
    const parsed = parseManifestFile('dir/m.yaml', text);
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.documents.map((d) => [d.resource.name, d.resource.source])).toEqual([
      ['a', { file: 'dir/m.yaml', line: 2, column: 1 }],
      ['b', { file: 'dir/m.yaml', line: 12, column: 1 }],
    ]);
    expect(parsed.documents[0]!.resource).toMatchObject({ kind: 'Agent', labels: {}, annotations: {} });
  });

  it('records positions for the values cross-file checks point at', () => {
    const text = agent('a', '  skillRefs:\n    - s1\n    - s2\n  subAgents: [b]\n');
    const [doc] = parseManifestFile('m.yaml', text).documents;
    expect(doc!.positions).toMatchObject({
      '': { line: 1, column: 1 },
      '/metadata/name': { line: 4, column: 9 },
      '/spec/skillRefs/0': { line: 8, column: 7 },
      '/spec/skillRefs/1': { line: 9, column: 7 },
      '/spec/subAgents/0': { line: 10, column: 15 },
    });
  });

  it('is a pure function with a JSON-serialisable result', () => {
    const text = agent('a', '  config:\n    model: m\n');
    const a = parseManifestFile('m.yaml', text);
    expect(parseManifestFile('m.yaml', Buffer.from(text))).toEqual(a);
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('keeps YAML 1.2 scalars: no/yes/on stay strings', () => {
    const [doc] = parseManifestFile(
      'm.yaml',
      agent('a', '  config:\n    stream: no\n    cache: on\n'),
    ).documents;
    expect(doc!.resource.spec.config).toEqual({ stream: 'no', cache: 'on' });
  });

  it('keeps a __proto__ key as data, without touching the prototype', () => {
    const text = agent('a').replace('  name: a\n', '  name: a\n  labels:\n    __proto__: polluted\n');
    const [doc] = parseManifestFile('m.yaml', text).documents;
    expect(Object.keys(doc!.resource.labels)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(doc!.resource.labels)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('accepts a few aliases', () => {
    const text = agent('a', '  config:\n    model: &m claude\n    fallback: *m\n');
    expect(parseManifestFile('m.yaml', text).documents[0]!.resource.spec.config).toEqual({
      model: 'claude',
      fallback: 'claude',
    });
  });
});

describe('parseManifestFile: refused input', () => {
  it('rejects a file with NUL bytes (binary) at the first NUL', () => {
    expect(shown(Buffer.from('kind: Agent\nab\0cd'))).toEqual([
      'm.yaml:2:3: file contains NUL bytes: not a text file\n  hint: only YAML text files (*.yaml, *.yml) belong in a manifest directory',
    ]);
  });

  it('rejects invalid UTF-8', () => {
    expect(errors(Buffer.from([0x6b, 0x3a, 0x20, 0xc3, 0x28, 0x0a]))).toMatchObject([
      { line: 1, column: 1, message: 'file is not valid UTF-8' },
    ]);
  });

  it('accepts a UTF-8 byte-order mark', () => {
    expect(
      parseManifestFile('m.yaml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(agent('a'))]))
        .diagnostics,
    ).toEqual([]);
  });

  it('rejects a file over the size limit without parsing it', () => {
    expect(errors(`# ${'x'.repeat(MAX_FILE_BYTES)}`)).toMatchObject([
      { message: 'file is larger than 4 MiB' },
    ]);
  });

  it('stops an alias bomb fast, at the alias, with a clear message', () => {
    let text = agent(
      'bomb',
      '  config:\n    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
    );
    let prev = 'a';
    for (const n of 'bcdefghi') {
      text += `    ${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
      prev = n;
    }
    const started = performance.now();
    const found = errors(text);
    expect(performance.now() - started).toBeLessThan(500);
    expect(found).toHaveLength(1);
    expect(found[0]!.message).toBe('too many alias expansions (more than 50) in one document');
    expect(found[0]!.line).toBe(9);
    expect(found[0]!.hint).toContain('alias bomb');
  });

  it('reports duplicate keys, unknown aliases and syntax errors at their position', () => {
    expect(errors(agent('a', '  instructions: again, a second time\n'))).toMatchObject([
      { line: 7, column: 3, message: 'Map keys must be unique' },
    ]);
    expect(errors(agent('a', '  config:\n    model: *nope\n'))).toMatchObject([
      { line: 8, column: 12, message: 'unknown alias *nope' },
    ]);
    expect(errors('kind: [unclosed\n')[0]).toMatchObject({ file: 'm.yaml', line: 2 });
  });

  it('rejects non-finite numbers and non-string keys', () => {
    expect(errors(agent('a', '  config:\n    x: .inf\n'))).toMatchObject([
      { line: 8, column: 8, message: '.inf is not a finite number' },
    ]);
    expect(errors(agent('a', '  config:\n    [a, b]: c\n'))).toMatchObject([
      { line: 8, column: 5, message: 'mapping keys must be strings, not collections or aliases' },
    ]);
  });

  it('rejects a document that is not a mapping', () => {
    expect(errors('- a\n- b\n')).toMatchObject([
      { line: 1, column: 1, message: 'a manifest document must be a mapping, got a list' },
    ]);
  });
});

describe('parseManifestFile: envelope', () => {
  it('requires apiVersion and kind', () => {
    expect(shown('metadata: {name: a}\nspec: {}\n')).toEqual([
      'm.yaml:1:1: missing required field "apiVersion"\n  hint: add `apiVersion: agentic.stigmer.ai/v1`',
      'm.yaml:1:1: missing required field "kind"\n  hint: kinds: Skill, Environment, Agent, Workflow, AgentInstance, WorkflowInstance',
    ]);
  });

  it('suggests the kind for a wrong case', () => {
    expect(errors(agent('a').replace('kind: Agent', 'kind: agent'))).toMatchObject([
      { line: 2, column: 7, message: 'unknown kind "agent"', hint: 'did you mean `Agent`?' },
    ]);
  });

  it('reports unknown top-level fields with a did-you-mean', () => {
    expect(errors(agent('a').replace('metadata:', 'metdata:'))).toMatchObject([
      { line: 1, column: 1, message: 'missing required field "metadata"' },
      { line: 3, column: 1, message: 'unknown field "metdata"', hint: 'did you mean `metadata`?' },
    ]);
  });

  it('suggests quoting a number as it was written, and never repeats a secret value', () => {
    const env = (entry: string) =>
      `apiVersion: agentic.stigmer.ai/v1\nkind: Environment\nmetadata:\n  name: e\nspec:\n  data:\n    K:\n${entry}`;
    expect(errors(agent('a', '  config:\n    max_tokens: 0x10\n'))[0]!.hint).toBe('quote the value: "0x10"');
    expect(errors(env('      value: 1e3\n'))[0]!.hint).toBe('quote the value: "1e3"');
    const secret = errors(env('      isSecret: true\n      value: 12345678901234\n'));
    expect(secret).toMatchObject([{ line: 9, message: 'spec.data.K.value: expected string, got number' }]);
    expect(secret[0]!.hint).toBe('write the value of secret K in quotes, so it stays a string');
    expect(JSON.stringify(secret)).not.toContain('12345678901234');
  });

  it('requires string labels and annotations', () => {
    expect(errors(agent('a').replace('  name: a\n', '  name: a\n  labels:\n    tier: 1\n'))).toMatchObject([
      { line: 6, column: 11, message: 'metadata.labels.tier: expected string, got number' },
    ]);
  });

  it('reserves stigmer.ai/ annotations except prune and prevent-destroy', () => {
    const with_ = (key: string) =>
      agent('a').replace('  name: a\n', `  name: a\n  annotations:\n    ${key}: "x"\n`);
    const with2 = (key: string, value: string) => with_(key).replace('"x"', JSON.stringify(value));
    expect(errors(with2('stigmer.ai/prune', 'disabled'))).toEqual([]);
    expect(errors(with2('stigmer.ai/prevent-destroy', 'true'))).toEqual([]);
    expect(errors(with_('example.com/owner'))).toEqual([]);
    expect(errors(with2('stigmer.ai/prune', 'disable'))).toMatchObject([
      {
        line: 6,
        column: 23,
        message: 'annotation stigmer.ai/prune must be "disabled" or "enabled", got "disable"',
        hint: 'did you mean `disabled`?',
      },
    ]);
    expect(errors(with_('stigmer.ai/applied-hash'))).toMatchObject([
      { line: 6, column: 5, message: expect.stringContaining('"stigmer.ai/applied-hash" is reserved') },
    ]);
  });

  it('names a failed document so that duplicates and references still see it', () => {
    const parsed = parseManifestFile(
      'm.yaml',
      agent('a').replace('Answer questions about the product.', 'short'),
    );
    expect(parsed.documents).toEqual([]);
    expect(parsed.invalidDocuments).toEqual([{ kind: 'Agent', name: 'a', line: 1, column: 1 }]);
  });
});

describe('parseManifestFile: specs', () => {
  it('checks each kind strictly', () => {
    const doc = (kind: string, spec: string) =>
      `apiVersion: agentic.stigmer.ai/v1\nkind: ${kind}\nmetadata:\n  name: x\nspec:\n${spec}`;
    expect(errors(doc('Skill', '  tag: v1\n'))).toMatchObject([
      { message: 'spec: set exactly one of skillMd or skillMdFile' },
    ]);
    expect(errors(doc('Skill', '  skillMd: "# hi"\n  skillMdFile: a.md\n'))).toMatchObject([
      { message: 'spec: set only one of skillMd or skillMdFile' },
    ]);
    expect(errors(doc('Skill', '  skillMdFile: /etc/passwd\n'))).toMatchObject([
      { line: 6, message: expect.stringContaining('must be a path relative to this manifest') },
    ]);
    expect(errors(doc('AgentInstance', '  description: no agent\n'))).toMatchObject([
      { message: 'missing required field "spec.agent"' },
    ]);
    expect(errors(doc('WorkflowInstance', '  workflow: wf\n  environmentRefs: [Prod]\n'))).toMatchObject([
      { line: 7, column: 21, message: 'spec.environmentRefs[0]: "Prod" is not a valid name' },
    ]);
    expect(errors(doc('Workflow', '  tasks: []\n'))).toMatchObject([
      { message: 'spec.tasks: must have at least 1 item' },
    ]);
    expect(
      errors(
        doc(
          'Workflow',
          '  inputs:\n    n: {type: number, default: "3"}\n  tasks:\n    - {name: t, agent: a}\n',
        ),
      ),
    ).toMatchObject([{ line: 7, message: `default of input "n" is string, but the input's type is number` }]);
    expect(
      errors(doc('Agent', '  instructions: Long enough here.\n  mcpServers:\n    - name: fs\n')),
    ).toMatchObject([
      { line: 8, column: 7, message: 'spec.mcpServers[0]: set exactly one of stdio, http or docker' },
    ]);
    expect(errors(doc('Agent', '  instructions: Long enough here.\n  mcpServers: [42]\n'))).toMatchObject([
      { line: 7, column: 16, message: 'spec.mcpServers[0]: expected string or object, got number' },
    ]);
  });

  it('reports every error of a file, not only the first', () => {
    const text = `${agent('Bad_Name', '  colour: red\n')}---\n${agent('ok').replace('Answer questions about the product.', 'short')}`;
    expect(errors(text).map((d) => `${d.line}:${d.column}`)).toEqual(['4:9', '7:3', '14:17']);
  });
});

describe('parseManifestFile: property', () => {
  it('gives back exactly the values yaml.stringify wrote, for arbitrary string maps', async () => {
    const fc = await import('fast-check');
    const { stringify } = await import('yaml');
    const key = fc.oneof(
      fc.string({ minLength: 1 }),
      fc.constantFrom('__proto__', 'no', 'true', '1', '~', 'null'),
    );
    const value = fc.oneof(
      fc.string(),
      fc.constantFrom('no', 'yes', 'on', '0x1F', '1e3', '~', '', '- a', '#x', "'q'"),
    );
    const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(name, fc.dictionary(key, value), fc.dictionary(key, value), (n, labels, config) => {
        const text = stringify({
          apiVersion: 'agentic.stigmer.ai/v1',
          kind: 'Agent',
          metadata: { name: n, labels },
          spec: { instructions: 'Answer questions about the product.', config },
        });
        const parsed = parseManifestFile('p.yaml', text);
        expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const r = parsed.documents[0]!.resource;
        expect(r.name).toBe(n);
        expect(JSON.stringify(r.labels)).toBe(JSON.stringify(labels));
        expect(JSON.stringify(r.spec.config)).toBe(JSON.stringify(config));
      }),
      { numRuns: 200 },
    );
  });
});

describe('parseManifestFile: bounded work on hostile input', () => {
  it('reports every duplicate key, in block and flow mappings, nested and top level', () => {
    const text = `${agent('a', '  config: {model: a, model: b}\n  instructions: again, a second time\n')}kind: Skill\n`;
    expect(errors(text).map((d) => [d.line, d.column, d.message])).toEqual([
      [7, 22, 'Map keys must be unique'],
      [8, 3, 'Map keys must be unique'],
      [9, 1, 'Map keys must be unique'],
    ]);
    // Keys equal by value only: 1 and "1" differ, as in the yaml library's own check.
    expect(errors(agent('a', '  config: {1: a, "1": b}\n')).map((d) => d.message)).not.toContain(
      'Map keys must be unique',
    );
  });

  it('reports repeated keys alone, also beside a value that cannot convert or through an alias', () => {
    // A repeated key and a non-finite number: only the repeated key, as a syntax error.
    expect(
      errors(agent('a', '  config: {model: a, model: b, temperature: .inf}\n')).map((d) => d.message),
    ).toEqual(['Map keys must be unique']);
    // A mapping reached twice through an alias is reported once, at its definition.
    const aliased = agent('a', '  config: &c {model: a, model: b}\n  other: *c\n');
    expect(errors(aliased).map((d) => [d.line, d.message])).toEqual([[7, 'Map keys must be unique']]);
    // A collection as a key: reported for what it is, a repeated key inside it too.
    expect(errors(agent('a', '  config: {? {x: 1, x: 2} : v}\n')).map((d) => d.message)).toEqual([
      'Map keys must be unique',
    ]);
    expect(errors(agent('a', '  config: {? {x: 1} : v}\n')).map((d) => d.message)).toEqual([
      'mapping keys must be strings, not collections or aliases',
    ]);
  });

  it('stays linear in the number of keys (100,000 unknown keys)', () => {
    const text = agent('a', Array.from({ length: 100_000 }, (_, i) => `  k${i}: ${i}`).join('\n'));
    const started = performance.now();
    const found = errors(text);
    expect(found).toHaveLength(100_000);
    expect(found[99_999]).toMatchObject({
      line: 100_006,
      column: 3,
      message: 'unknown field "k99999" in spec',
    });
    // A bound, not a benchmark: the quadratic check this replaced took minutes; a loaded CI
    // machine takes up to about 20 s.
    expect(performance.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it('says a too deeply nested document is too deep, instead of a stack overflow', () => {
    const found = errors(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(found[0]).toMatchObject({ message: 'document is nested too deeply to parse' });
    expect(found[0]!.hint).toContain('flatten');
  });
});
