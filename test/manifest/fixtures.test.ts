/**
 * Scenario tests over real manifest directories: test/fixtures/valid loads cleanly, and each
 * test/fixtures/invalid/<case>/ produces exactly the errors listed in its expected.json
 * (file, line, column, message and hint substrings), with no resources planned from a
 * failing document.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/errors.js';
import { loadManifests } from '../../src/manifest/index.js';
import { repoRoot } from '../helpers/cli.js';

const fixtures = join(repoRoot, 'test', 'fixtures');

interface Expected {
  file: string;
  line?: number;
  column?: number;
  message?: string;
  hint?: string;
}

describe('valid fixture', () => {
  it('loads every kind, multi-document files, skillMdFile and stigmer.yaml without diagnostics', async () => {
    const dir = join(fixtures, 'valid');
    const set = await loadManifests({ dir, cwd: dir });
    expect(set.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(set.project).toBe('fixture-valid');
    expect(set.root).toBe(dir);
    expect(set.files).toEqual([
      'agents/agents.yaml',
      'instances/instances.yaml',
      'skills/planning.yaml',
      'workflows/plan-and-write.yml',
    ]);
    expect(
      set.resources.map((r) => `${r.kind}/${r.name}@${r.source.file}:${r.source.line}:${r.source.column}`),
    ).toEqual([
      'Agent/planner@agents/agents.yaml:2:1',
      'Agent/writer@agents/agents.yaml:35:1',
      'Environment/prod@instances/instances.yaml:1:1',
      'AgentInstance/planner-prod@instances/instances.yaml:16:1',
      'WorkflowInstance/plan-and-write-prod@instances/instances.yaml:24:1',
      'Skill/planning@skills/planning.yaml:1:1',
      'Workflow/plan-and-write@workflows/plan-and-write.yml:1:1',
    ]);
    const skill = set.resources.find((r) => r.kind === 'Skill')!;
    expect(skill.spec).toEqual({
      description: 'How to plan work',
      tag: 'v2',
      skillMd: '# Planning\n\nSplit work into steps that can each be checked.\n',
    });
    expect(skill.source.includes).toEqual(['skills/planning.md']);
    const planner = set.resources.find((r) => r.name === 'planner')!;
    expect(planner.annotations).toEqual({
      'stigmer.ai/prevent-destroy': 'true',
      'example.com/owner': 'platform-team',
    });
    expect(planner.labels).toEqual({ team: 'platform' });
    const env = set.resources.find((r) => r.kind === 'Environment')!;
    // valueFrom is kept as written: secrets are resolved later in the pipeline.
    expect(env.spec.data).toMatchObject({
      API_KEY: { valueFrom: { env: 'FIXTURE_API_KEY' }, isSecret: true },
    });
  });
});

describe('invalid fixtures', () => {
  const cases = readdirSync(join(fixtures, 'invalid')).sort();
  it('has a case for every class of bad input', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });
  for (const name of cases) {
    it(name, async () => {
      const dir = join(fixtures, 'invalid', name);
      const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected[];
      const set = await loadManifests({ dir, cwd: dir });
      const errors = set.diagnostics.filter((d) => d.severity === 'error');
      const shown = errors.map(formatDiagnostic).join('\n');
      expect(errors.length, shown).toBe(expected.length);
      for (const want of expected) {
        const match = errors.find(
          (d) =>
            d.file === want.file &&
            (want.line === undefined || d.line === want.line) &&
            (want.column === undefined || d.column === want.column) &&
            (want.message === undefined || d.message.includes(want.message)) &&
            (want.hint === undefined || (d.hint ?? '').includes(want.hint)),
        );
        expect(match, `expected ${JSON.stringify(want)} among:\n${shown}`).toBeDefined();
      }
    });
  }
});
