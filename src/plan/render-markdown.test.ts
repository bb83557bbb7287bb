import { describe, expect, it } from 'vitest';
import { planChanges } from './plan.js';
import { renderPlanMarkdown } from './render-markdown.js';
import { desired, live, liveFrom, planOptions } from './testing.js';

describe('renderPlanMarkdown', () => {
  const plan = planChanges(
    [
      desired('Skill', 'new', { spec: { skillMd: '# Title\nBody text\n' } }),
      desired('Skill', 'changed', { spec: { skillMd: 'after' } }),
      desired('Environment', 'env', { spec: { data: { K: { value: 'md-secret-value', isSecret: true } } } }),
    ],
    [liveFrom(desired('Skill', 'changed', { spec: { skillMd: 'before' } })), live('Skill', 'gone')],
    planOptions(),
  );

  it('shows the summary line, then the plan as a diff inside a collapsible block', () => {
    const md = renderPlanMarkdown(plan);
    expect(md).toContain('### Stigmer plan for project `demo`');
    expect(md).toContain('**Plan: 2 to add, 1 to change, 1 to destroy.**');
    expect(md).toContain('<details><summary>Show plan (4 changes)</summary>');
    expect(md).toContain('```diff\n');
    expect(md).toContain('\n+ Skill/new will be created\n');
    expect(md).toContain('\n! Skill/changed will be updated in-place\n');
    expect(md).toContain('\n!     spec.skillMd = "before" -> "after"\n');
    expect(md).toContain('\n- Skill/gone will be destroyed\n');
    expect(md).toContain('\n+         Body text\n');
    expect(md.indexOf('**Plan:')).toBeLessThan(md.indexOf('<details>'));
    expect(md.trimEnd().endsWith('</details>')).toBe(true);
    expect(md).not.toContain('md-secret-value');
  });

  it('shows only the summary when nothing changes', () => {
    const d = desired('Skill', 's');
    const md = renderPlanMarkdown(planChanges([d], [liveFrom(d)], planOptions()));
    expect(md).toContain('**No changes. Your resources match the manifests.**');
    expect(md).not.toContain('<details>');
  });

  it('truncates to the size limit with a note saying where the full plan is', () => {
    const many = Array.from({ length: 300 }, (_, i) =>
      desired('Skill', `skill-${i}`, { spec: { skillMd: `# Skill ${i}\n${'text '.repeat(20)}\n` } }),
    );
    const big = planChanges(many, [], planOptions());
    const md = renderPlanMarkdown(big, { maxChars: 5000, truncatedNote: 'the full plan is in the job log' });
    expect(md.length).toBeLessThanOrEqual(5000);
    expect(md).toContain('**Plan: 300 to add, 0 to change, 0 to destroy.**');
    expect(md).toContain('Plan truncated to fit; the full plan is in the job log.');
    expect(md).toContain('```diff\n+ Skill/skill-0 will be created');
    expect(md.trimEnd().endsWith('</details>')).toBe(true);
    expect(renderPlanMarkdown(big).length).toBeGreaterThan(5000);
  });

  it('uses a longer fence when the plan itself contains backticks', () => {
    const p = planChanges(
      [desired('Skill', 'code', { spec: { skillMd: 'Run:\n```sh\nls\n```\n' } })],
      [],
      planOptions(),
    );
    const md = renderPlanMarkdown(p);
    expect(md).toContain('````diff\n');
    expect(md).toContain('\n````\n');
  });

  it('lists errors and says the plan cannot be applied', () => {
    const p = planChanges(
      [desired('Skill', 'x', { file: 'm/x.yaml' })],
      [live('Skill', 'x', { project: 'o' })],
      planOptions(),
    );
    const md = renderPlanMarkdown(p);
    expect(md).toContain('**Plan failed:** 1 error(s)');
    expect(md).toContain('- **Error**: m/x.yaml:1:1: Skill/x is owned by project "o"');
  });
});
