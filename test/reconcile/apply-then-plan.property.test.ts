/**
 * Property: for generated manifest directories (YAML files written to disk, several documents
 * per file, references between kinds, workflow task graphs with expressions), the real pipeline
 * — loader, validator, planner, applyPlan on a real SQLite file — converges: after applying set A
 * and then set B, planning B again is empty; and applying never leaves an error behind.
 * (The CLI runs the same library calls; driving it per run would be too slow for a property.)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { applyPlan } from '../../src/apply/apply.js';
import { openLocalBackend } from '../../src/backend/local/index.js';
import { planManifests } from '../../src/core/reconcile.js';
import { planHasErrors } from '../../src/plan/plan.js';
import { tempDir } from '../helpers/cli.js';

type Doc = Record<string, unknown>;

const AGENTS = ['reviewer', 'writer', 'fetcher', 'support-bot'];
const label = fc.constantFrom('a', 'b', 'engineering', '');
const labels = fc.dictionary(fc.constantFrom('team', 'tier'), label, { maxKeys: 2 });
const text = fc.string({ minLength: 10, maxLength: 30 }).map((s) => `Agent ${s.replace(/\s+/g, ' ')}`);
const multiline = fc.array(fc.constantFrom('Be brief.', 'Cite sources.', '', 'Ask first.'), {
  minLength: 1,
  maxLength: 4,
});

const doc = (kind: string, name: string, metaLabels: Record<string, string>, spec: Doc): Doc => ({
  apiVersion: 'agentic.stigmer.ai/v1',
  kind,
  metadata: { name, ...(Object.keys(metaLabels).length > 0 ? { labels: metaLabels } : {}) },
  spec,
});

/** A valid stack: a Skill, an Environment, some agents and a workflow over them. */
const stackArb = fc
  .record({
    agents: fc.uniqueArray(fc.constantFrom(...AGENTS), { minLength: 1, maxLength: AGENTS.length }),
    withSkill: fc.boolean(),
    skillMd: multiline,
    env: fc.dictionary(fc.constantFrom('REGION', 'TIER', 'URL'), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    instructions: fc.array(
      fc.oneof(
        text,
        multiline.map((l) => l.join('\n')),
      ),
      {
        minLength: AGENTS.length,
        maxLength: AGENTS.length,
      },
    ),
    temperature: fc.constantFrom('0', '0.2', '0.7'),
    labels,
    tasks: fc.integer({ min: 0, max: 4 }),
    layout: fc.constantFrom('one-file', 'per-kind', 'per-resource'),
  })
  .map((s) => {
    const docs: Doc[] = [];
    if (s.withSkill)
      docs.push(doc('Skill', 'guide', s.labels, { skillMd: `# Guide\n${s.skillMd.join('\n')}\n` }));
    docs.push(
      doc(
        'Environment',
        'settings',
        {},
        { data: Object.fromEntries(Object.entries(s.env).map(([k, v]) => [k, { value: v }])) },
      ),
    );
    s.agents.forEach((name, i) => {
      docs.push(
        doc('Agent', name, s.labels, {
          instructions: s.instructions[i]!.padEnd(10, '.'),
          config: { temperature: s.temperature },
          ...(s.withSkill && i === 0 ? { skillRefs: ['guide'] } : {}),
        }),
      );
    });
    if (s.tasks > 0) {
      const tasks = Array.from({ length: s.tasks }, (_, i) => ({
        name: `step-${i}`,
        agent: s.agents[i % s.agents.length],
        ...(i > 0
          ? { dependsOn: [`step-${i - 1}`], inputs: { previous: `\${tasks.step-${i - 1}.outputs.result}` } }
          : { inputs: { url: `\${workflow.inputs.url}` } }),
        outputs: ['result'],
      }));
      docs.push(doc('Workflow', 'flow', {}, { inputs: { url: { type: 'string', required: true } }, tasks }));
    }
    return { docs, layout: s.layout };
  });

function writeStack(dir: string, stack: { docs: Doc[]; layout: string }): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stigmer.yaml'), 'project: prop\n');
  const files = new Map<string, Doc[]>();
  for (const d of stack.docs) {
    const meta = d.metadata as { name: string };
    const file =
      stack.layout === 'one-file'
        ? 'all.yaml'
        : stack.layout === 'per-kind'
          ? `${String(d.kind).toLowerCase()}s/all.yaml`
          : `${String(d.kind).toLowerCase()}s/${meta.name}.yml`;
    files.set(file, [...(files.get(file) ?? []), d]);
  }
  for (const [file, docs] of files) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), docs.map((d) => stringify(d)).join('---\n'));
  }
}

const tmp = tempDir('stigmer-prop-');
afterAll(() => tmp.cleanup());
let run = 0;

describe('apply then plan (real loader, validator and SQLite file)', () => {
  it('converges: after applying A then B, planning B is empty', async () => {
    await fc.assert(
      fc.asyncProperty(stackArb, stackArb, async (a, b) => {
        run++;
        const dir = join(tmp.path, `run-${run}`, 'manifests');
        const home = join(tmp.path, `run-${run}`, 'home');
        const backend = await openLocalBackend({ path: join(home, 'local.db') });
        const options = {
          dir,
          cwd: join(dir, '..'),
          prune: true,
          allowEmpty: true,
          secrets: { home, env: {} },
        };
        try {
          for (const stack of [a, b]) {
            writeStack(dir, stack);
            const { plan } = await planManifests(backend, options);
            expect(plan.diagnostics).toEqual([]);
            expect(planHasErrors(plan)).toBe(false);
            await applyPlan(backend, plan);
          }
          const { plan } = await planManifests(backend, options);
          expect(plan.changes).toEqual([]);
          expect(plan.summary.noop).toBe(b.docs.length);
          const names = (await backend.listAllResources('Agent')).map((r) => r.name).sort();
          const wanted = b.docs
            .filter((d) => d.kind === 'Agent')
            .map((d) => (d.metadata as { name: string }).name);
          expect(names).toEqual(wanted.sort());
        } finally {
          await backend.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});
