/** The compact form (`--compact`, large PR comments) and the `# used by:` line, through every renderer. */
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../types.js';
import { planChanges } from './plan.js';
import { planToJson } from './render-json.js';
import { renderPlanMarkdown } from './render-markdown.js';
import { compactLine, formatUsedBy } from './render-model.js';
import { renderPlanText } from './render-text.js';
import { desired, live, liveFrom, planOptions } from './testing.js';

const plan = planChanges(
  [
    desired('Skill', 'new'),
    desired('Agent', 'changed', {
      labels: { team: 'cs' },
      spec: { instructions: 'You answer refund questions.', config: { model: 'm2' } },
    }),
    desired('Agent', 'adopted'),
    desired('Skill', 'drifted', { spec: { skillMd: '# Restored\n' } }),
    desired('Workflow', 'flow', { spec: { tasks: [{ name: 't', agent: 'changed' }] } }),
  ],
  [
    liveFrom(
      desired('Agent', 'changed', {
        spec: { instructions: 'You answer billing questions.', config: { model: 'm1' } },
      }),
    ),
    live('Agent', 'adopted', { project: null }),
    live('Skill', 'drifted', { applied: false, annotations: { [ANNOTATIONS.appliedHash]: 'sha256:old' } }),
    live('Skill', 'gone'),
    live('Skill', 'kept', { annotations: { [ANNOTATIONS.prune]: 'disabled' } }),
  ],
  planOptions(),
);

describe('compact form', () => {
  it('gives one line per change: marker, Kind/name and what kind of update', () => {
    const lines = plan.changes.map((c) => {
      const l = compactLine(c);
      return `${l.marker} ${l.text}`;
    });
    expect(lines.sort()).toEqual([
      '+ Skill/new',
      '+ Workflow/flow',
      '- Skill/gone',
      '~ Agent/adopted (no field changes, adopted)',
      '~ Agent/changed (3 fields)',
      '~ Skill/drifted (1 field, drift)',
      '~ Skill/kept (released)',
    ]);
  });

  it('prints the header, one line per change and the summary in text', () => {
    const out = renderPlanText(plan, { compact: true });
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe('Stigmer will perform the following actions:');
    expect(lines.slice(2, 2 + plan.changes.length).every((l) => /^ {2}[+~-] \S+\/\S+/.test(l))).toBe(true);
    expect(lines.at(-1)).toBe('Plan: 2 to add, 4 to change, 1 to destroy.');
    expect(lines).toHaveLength(plan.changes.length + 4);
    expect(out).not.toContain('# source:');
  });

  it('stays one short line per resource for a 3,000-resource change', () => {
    const before = Array.from({ length: 3000 }, (_, i) =>
      desired('Agent', `agent-${i}`, { spec: { instructions: `You are agent number ${i}.` } }),
    );
    const after = before.map((d) => ({ ...d, spec: { ...d.spec, description: 'now described' } }));
    const big = planChanges(
      after,
      before.map((d) => liveFrom(d)),
      planOptions(),
    );
    const lines = renderPlanText(big, { compact: true }).trimEnd().split('\n');
    expect(lines.filter((l) => /^ {2}~ Agent\/agent-\d+ \(1 field\)$/.test(l))).toHaveLength(3000);
    expect(lines.at(-1)).toBe('Plan: 0 to add, 3000 to change, 0 to destroy.');
  });

  it('renders markdown compact on request, or automatically when the full plan is over the limit', () => {
    const compact = renderPlanMarkdown(plan, { compact: true });
    expect(compact).toContain('<details><summary>Show plan (7 changes, one line each)</summary>');
    expect(compact).toContain('\n! Agent/changed (3 fields)\n');
    expect(compact).toContain('\n+ Skill/new\n');
    expect(compact).toContain('\n- Skill/gone\n');
    const full = renderPlanMarkdown(plan);
    const auto = renderPlanMarkdown(plan, {
      compact: 'auto',
      maxChars: full.length - 1,
      truncatedNote: 'see the log',
    });
    expect(auto).toContain('one line each');
    expect(auto).toContain('_Compact form: the full plan is too long to show here; see the log._');
    expect(auto.length).toBeLessThan(full.length);
    // Fits: the full plan.
    expect(renderPlanMarkdown(plan, { compact: 'auto', maxChars: full.length })).toBe(full);
    // Too big even compact: truncated after all.
    const tiny = renderPlanMarkdown(plan, { compact: 'auto', maxChars: compact.length - 20 });
    expect(tiny).toContain('Plan truncated to fit');
    expect(tiny.length).toBeLessThanOrEqual(compact.length - 20);
  });
});

describe('used by', () => {
  it('is a comment line of the change in text and markdown, and usedBy in JSON', () => {
    const text = renderPlanText(plan);
    expect(text).toMatch(
      /~ Agent\/changed will be updated in-place\n\s+# source: manifests\/changed\.yaml:1\n\s+# used by: Workflow\/flow\n/,
    );
    expect(renderPlanMarkdown(plan)).toContain('\n      # used by: Workflow/flow\n');
    const json = planToJson(plan).changes;
    expect(json.find((c) => c.name === 'changed')?.usedBy).toEqual(['Workflow/flow']);
    expect(json.find((c) => c.name === 'gone')?.usedBy).toEqual([]);
    expect(json.find((c) => c.name === 'new')).not.toHaveProperty('usedBy');
  });

  it('names the first five users, then how many more', () => {
    const users = Array.from({ length: 8 }, (_, i) => `Workflow/w${i}`);
    expect(formatUsedBy(users)).toBe(
      'Workflow/w0, Workflow/w1, Workflow/w2, Workflow/w3, Workflow/w4 and 3 more',
    );
    expect(formatUsedBy(users.slice(0, 5))).toBe(users.slice(0, 5).join(', '));
  });
});
