import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Diagnostic } from '../errors.js';
import type { DeclaredKind } from '../types.js';
import { loadManifests } from './load.js';
import { parseManifestFile } from './parse.js';
import type { LiveNames } from './types.js';
import { referencesOf, validateManifestSet } from './validate-set.js';

const doc = (kind: string, name: string, spec: string) =>
  `apiVersion: agentic.stigmer.ai/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
const agent = (name: string, extra = '') =>
  doc('Agent', name, `  instructions: Answer questions well.\n${extra}`);

const live =
  (names: Partial<Record<DeclaredKind, string[]>>): LiveNames =>
  (kind) =>
    new Set(names[kind] ?? []);

const check = (files: Record<string, string>, liveNames?: LiveNames) =>
  validateManifestSet(
    Object.entries(files).map(([f, t]) => parseManifestFile(f, t)),
    { root: null, project: null, ...(liveNames ? { liveNames } : {}) },
  );
const messages = (ds: Diagnostic[]) => ds.map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`);

describe('validateManifestSet: duplicates', () => {
  it('names both locations and keeps the first definition', () => {
    const set = check({ 'a.yaml': agent('bot'), 'b.yaml': `# again\n${agent('bot')}` });
    expect(messages(set.diagnostics)).toEqual([
      'b.yaml:2:1: duplicate Agent "bot": also defined at a.yaml:1:1',
    ]);
    expect(set.resources.map((r) => r.source.file)).toEqual(['a.yaml']);
  });

  it('allows the same name in different kinds', () => {
    const set = check({
      'a.yaml': agent('shared'),
      'b.yaml': doc('Skill', 'shared', '  skillMd: "# skill"\n'),
    });
    expect(set.diagnostics).toEqual([]);
  });

  it('counts a document that failed validation, so the error is not reported twice as dangling', () => {
    const set = check({
      'a.yaml': agent('bot').replace('Answer questions well.', 'short'),
      'b.yaml': doc('AgentInstance', 'bot-live', '  agent: bot\n'),
      'c.yaml': agent('bot'),
    });
    expect(messages(set.diagnostics)).toEqual([
      'a.yaml:6:17: spec.instructions: must be at least 10 characters',
      'c.yaml:1:1: duplicate Agent "bot": also defined at a.yaml:1:1',
    ]);
  });
});

describe('validateManifestSet: references', () => {
  const files = {
    'agents.yaml': agent('writer', '  skillRefs: [styel]\n  subAgents: [editor]\n'),
    'flow.yaml': doc(
      'Workflow',
      'flow',
      '  tasks:\n    - name: t\n      agent: writer\n    - name: u\n      agent: reviewer\n',
    ),
    'inst.yaml': doc('WorkflowInstance', 'flow-live', '  workflow: flow\n  environmentRefs: [prod]\n'),
  };

  it('offline: every reference must resolve within the manifests', () => {
    const set = check({ ...files, 'skill.yaml': doc('Skill', 'style', '  skillMd: "# style"\n') });
    expect(messages(set.diagnostics)).toEqual([
      'agents.yaml:7:15: Skill "styel" not found (referenced by Agent "writer" in spec.skillRefs[0])',
      'agents.yaml:8:15: Agent "editor" not found (referenced by Agent "writer" in spec.subAgents[0])',
      'flow.yaml:10:14: Agent "reviewer" not found (referenced by Workflow "flow" in spec.tasks[1].agent)',
      'inst.yaml:7:21: Environment "prod" not found (referenced by WorkflowInstance "flow-live" in spec.environmentRefs[0])',
    ]);
    expect(set.diagnostics[0]!.hint).toBe('did you mean `style`?');
    expect(set.diagnostics[1]!.hint).toContain('works offline');
    expect(set.diagnostics[0]!.path).toBe('/spec/skillRefs/0');
  });

  it('with live names: references resolve against the backend too', () => {
    const set = check(
      files,
      live({ Skill: ['styel'], Agent: ['editor', 'reviewer'], Environment: ['prod'] }),
    );
    expect(set.diagnostics).toEqual([]);
    expect(set.resources).toHaveLength(3);
  });

  it('with live names: what is in neither is still an error, with a suggestion from both', () => {
    const set = check(files, live({ Skill: ['style'], Agent: ['editor'], Environment: ['prod'] }));
    expect(messages(set.diagnostics)).toEqual([
      'agents.yaml:7:15: Skill "styel" not found (referenced by Agent "writer" in spec.skillRefs[0])',
      'flow.yaml:10:14: Agent "reviewer" not found (referenced by Workflow "flow" in spec.tasks[1].agent)',
    ]);
    expect(set.diagnostics[0]!.hint).toBe('did you mean `style`?');
  });

  it('an agent may not list itself as a sub-agent', () => {
    expect(messages(check({ 'a.yaml': agent('a', '  subAgents: [a]\n') }).diagnostics)).toEqual([
      'a.yaml:7:15: Agent "a" lists itself in subAgents',
    ]);
  });

  it('lists the references of each kind', () => {
    expect(
      referencesOf({ kind: 'AgentInstance', spec: { agent: 'a', environmentRefs: ['e1', 'e2'] } }).map(
        (r) => `${r.kind}/${r.name}@${r.pointer}`,
      ),
    ).toEqual([
      'Agent/a@/spec/agent',
      'Environment/e1@/spec/environmentRefs/0',
      'Environment/e2@/spec/environmentRefs/1',
    ]);
    expect(referencesOf({ kind: 'Environment', spec: { data: {} } })).toEqual([]);
  });
});

describe('validateManifestSet: result', () => {
  it('merges source diagnostics and sorts everything in file order', () => {
    const parsed = [
      parseManifestFile('a.yaml', agent('a', '  skillRefs: [missing]\n')),
      parseManifestFile('b.yaml', agent('B')),
    ];
    const source: Diagnostic = {
      severity: 'error',
      file: 'link.yaml',
      line: 1,
      column: 1,
      message: 'symlink loop',
    };
    const set = validateManifestSet(parsed, { root: '/r', project: 'p', diagnostics: [source] });
    expect(set.diagnostics.map((d) => d.file)).toEqual(['link.yaml', 'a.yaml', 'b.yaml']);
    expect(set).toMatchObject({ root: '/r', project: 'p', files: ['a.yaml', 'b.yaml'] });
  });

  it('does not modify the parsed files it is given (they may be cached)', () => {
    const parsed = [parseManifestFile('a.yaml', agent('a'))];
    const before = JSON.stringify(parsed);
    validateManifestSet(parsed, { root: null, project: null });
    expect(JSON.stringify(parsed)).toBe(before);
  });
});

describe('validateManifestSet: skillMdFile', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = mkdtempSync(join(tmpdir(), 'stigmer-skill-'));
    mkdirSync(join(tmp, 'm', 'skills'), { recursive: true });
  });
  afterEach(() => rmSync(tmp, { recursive: true, force: true }));

  const skill = (file: string) => doc('Skill', 's', `  skillMdFile: ${file}\n`);

  it('reads the file relative to the manifest into skillMd and records it', async () => {
    writeFileSync(join(tmp, 'm/skills/s.yaml'), skill('md/s.md'));
    mkdirSync(join(tmp, 'm/skills/md'));
    writeFileSync(join(tmp, 'm/skills/md/s.md'), '# S\n');
    const set = await loadManifests({ dir: 'm', cwd: tmp });
    expect(set.diagnostics).toEqual([]);
    expect(set.resources[0]!.spec).toEqual({ skillMd: '# S\n' });
    expect(set.resources[0]!.source).toEqual({
      file: 'm/skills/s.yaml',
      line: 1,
      column: 1,
      includes: ['m/skills/md/s.md'],
    });
  });

  it('refuses a path (or a symlink) that leaves the root, and a missing or empty file', async () => {
    writeFileSync(join(tmp, 'outside.md'), '# outside\n');
    symlinkSync(join(tmp, 'outside.md'), join(tmp, 'm/skills/link.md'));
    writeFileSync(join(tmp, 'm/skills/empty.md'), '\n');
    writeFileSync(
      join(tmp, 'm/skills/s.yaml'),
      [skill('../../outside.md'), skill('link.md'), skill('nope.md'), skill('empty.md')]
        .map((t, i) => t.replace('name: s', `name: s${i}`))
        .join('---\n'),
    );
    const set = await loadManifests({ dir: 'm', cwd: tmp });
    expect(set.diagnostics.map((d) => `${d.line}: ${d.message}`)).toEqual([
      '6: Skill "s0": skillMdFile "../../outside.md" is outside the manifest directory',
      '13: Skill "s1": skillMdFile "link.md" is outside the manifest directory',
      '20: Skill "s2": skillMdFile "nope.md" not found (looked for m/skills/nope.md)',
      '27: Skill "s3": skillMdFile "empty.md" is empty',
    ]);
    expect(set.resources).toEqual([]);
  });

  it('cannot be used from stdin', async () => {
    const set = await loadManifests({ files: ['-'], stdin: skill('s.md'), cwd: tmp });
    expect(set.diagnostics).toMatchObject([
      {
        file: '<stdin>',
        line: 6,
        column: 16,
        message: expect.stringContaining('cannot be used in a manifest read from standard input'),
      },
    ]);
  });
});

describe('loadManifests', () => {
  it('reads stdin and files together and resolves references across them', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'stigmer-load-'));
    try {
      writeFileSync(join(tmp, 'agent.yaml'), agent('bot'));
      const set = await loadManifests({
        files: ['agent.yaml', '-'],
        stdin: doc('AgentInstance', 'bot-live', '  agent: bot\n'),
        cwd: tmp,
      });
      expect(set.diagnostics).toEqual([]);
      expect(set.root).toBeNull();
      expect(set.files).toEqual(['agent.yaml', '<stdin>']);
      expect(set.resources.map((r) => `${r.kind}/${r.name}@${r.source.file}`)).toEqual([
        'Agent/bot@agent.yaml',
        'AgentInstance/bot-live@<stdin>',
      ]);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
