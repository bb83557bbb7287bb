/**
 * The shipped content: the default stack in manifests/ (with the seed examples copied byte for
 * byte) and every stack under examples/ validate offline, self-contained; the committed JSON
 * Schema files match the TypeBox source, and the shipped manifests validate against them too.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { formatDiagnostic } from '../../src/errors.js';
import { loadManifests, renderSchemaFiles } from '../../src/manifest/index.js';
import { repoRoot } from '../helpers/cli.js';

// The seed examples as shipped with the original foundation, pinned by SHA-256 so a copy that drifts fails.
const SEED: Record<string, string> = {
  'agents/support-bot.yaml': '96f6460db0dc0ea68efc24b6ab7b1a824fa38a328ecb81712353b987fc0737f5',
  'workflows/pr-review.yaml': 'd6f0336e0cd5ed29f5be032599e1f23b8e1101451e6acada2229ec2c1c7b5d71',
};
const WORKFLOW_AGENTS = [
  'github-analyst',
  'code-reviewer',
  'test-analyzer',
  'review-synthesizer',
  'github-commenter',
];

// A stack is a directory with a stigmer.yaml; other example folders (a CI workflow, say) are not manifests.
const exampleDirs = readdirSync(join(repoRoot, 'examples'))
  .filter((d) => statSync(join(repoRoot, 'examples', d)).isDirectory())
  .filter((d) => existsSync(join(repoRoot, 'examples', d, 'stigmer.yaml')))
  .sort();

describe('default stack (manifests/)', () => {
  it('validates offline with project "default" and no diagnostics', async () => {
    const set = await loadManifests({ dir: 'manifests', cwd: repoRoot });
    expect(set.diagnostics.map(formatDiagnostic)).toEqual([]);
    expect(set.project).toBe('default');
    const names = set.resources.map((r) => `${r.kind}/${r.name}`).sort();
    expect(names).toEqual(
      [
        'Agent/support-bot',
        ...WORKFLOW_AGENTS.map((a) => `Agent/${a}`),
        'Workflow/pr-review-workflow',
        'Skill/code-review-guidelines',
        'Environment/github-env',
      ].sort(),
    );
  });

  it('keeps the seed examples exactly as written (string mcpServers, string-map config)', async () => {
    for (const [file, sha256] of Object.entries(SEED)) {
      const bytes = readFileSync(join(repoRoot, 'manifests', file));
      expect(createHash('sha256').update(bytes).digest('hex'), file).toBe(sha256);
    }
    const set = await loadManifests({ dir: 'manifests', cwd: repoRoot });
    const bot = set.resources.find((r) => r.name === 'support-bot')!;
    expect(bot.spec.mcpServers).toEqual(['github', 'filesystem', 'slack']);
    expect(bot.spec.config).toEqual({
      model: 'claude-3-5-sonnet-20241022',
      temperature: '0.7',
      max_tokens: '2000',
    });
    const wf = set.resources.find((r) => r.kind === 'Workflow')!;
    const agents = (wf.spec.tasks as Array<{ agent: string }>).map((t) => t.agent);
    expect(agents).toEqual(WORKFLOW_AGENTS);
    const reviewer = set.resources.find((r) => r.name === 'code-reviewer')!;
    expect(reviewer.spec.skillRefs).toEqual(['code-review-guidelines']);
  });
});

describe('examples/', () => {
  it('has more stacks', () => {
    expect(exampleDirs).toEqual(expect.arrayContaining(['support-desk', 'secrets']));
  });
  for (const dir of exampleDirs) {
    it(`${dir} validates offline`, async () => {
      const set = await loadManifests({ dir: join('examples', dir), cwd: repoRoot });
      expect(set.diagnostics.map(formatDiagnostic)).toEqual([]);
      expect(set.resources.length).toBeGreaterThan(0);
    });
  }
  it('support-desk has both instance kinds and a skillMdFile', async () => {
    const set = await loadManifests({ dir: 'examples/support-desk', cwd: repoRoot });
    const kinds = new Set(set.resources.map((r) => r.kind));
    expect([...kinds].sort()).toEqual([
      'Agent',
      'AgentInstance',
      'Environment',
      'Skill',
      'Workflow',
      'WorkflowInstance',
    ]);
    const skill = set.resources.find((r) => r.kind === 'Skill')!;
    expect(String(skill.spec.skillMd)).toContain('# Support tone guide');
  });
  it('secrets keeps valueFrom env and file as written', async () => {
    const set = await loadManifests({ dir: 'examples/secrets', cwd: repoRoot });
    const env = set.resources.find((r) => r.kind === 'Environment')!;
    expect(env.spec.data).toMatchObject({
      OPENAI_API_KEY: { valueFrom: { env: 'OPENAI_API_KEY' }, isSecret: true },
      DB_PASSWORD: { valueFrom: { file: '../credentials/db-password.txt' }, isSecret: true },
    });
  });
});

describe('schemas/', () => {
  it('matches the TypeBox source (run `npm run gen:schemas` after changing src/manifest/schema.ts)', () => {
    const rendered = renderSchemaFiles();
    const committed = readdirSync(join(repoRoot, 'schemas'))
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(committed).toEqual(Object.keys(rendered).sort());
    for (const [file, text] of Object.entries(rendered)) {
      expect(readFileSync(join(repoRoot, 'schemas', file), 'utf8'), `schemas/${file} is stale`).toBe(text);
    }
  });

  it('accepts every shipped manifest through manifest.json (what editors check)', () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(
      JSON.parse(readFileSync(join(repoRoot, 'schemas', 'manifest.json'), 'utf8')),
    );
    const files = [
      ...walk(join(repoRoot, 'manifests')),
      ...exampleDirs.flatMap((d) => walk(join(repoRoot, 'examples', d))),
    ].filter((f) => !f.endsWith('stigmer.yaml'));
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) {
      for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
        const value = doc.toJS();
        if (value === null) continue;
        expect(validate(value), `${file}: ${ajv.errorsText(validate.errors)}`).toBe(true);
      }
    }
    expect(
      validate({ apiVersion: 'agentic.stigmer.ai/v1', kind: 'Agent', metadata: { name: 'x' }, spec: {} }),
    ).toBe(false);
  });
});

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}
