import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../types.js';
import { planChanges } from './plan.js';
import { formatApplySummary, formatPlanSummary } from './render-model.js';
import { renderPlanText } from './render-text.js';
import { desired, live, liveFrom, planOptions } from './testing.js';

const ESC = String.fromCharCode(27);
const opts = planOptions();
const text = (...args: Parameters<typeof planChanges>) => renderPlanText(planChanges(...args));

describe('summary lines', () => {
  it('are word for word those of DESIGN.md §5', () => {
    expect(formatPlanSummary({ create: 1, update: 2, delete: 3, noop: 4 })).toBe(
      'Plan: 1 to add, 2 to change, 3 to destroy.',
    );
    expect(formatPlanSummary({ create: 0, update: 0, delete: 0, noop: 4 })).toBe(
      'No changes. Your resources match the manifests.',
    );
    expect(formatApplySummary({ added: 1, changed: 0, destroyed: 2 })).toBe(
      'Apply complete! Resources: 1 added, 0 changed, 2 destroyed.',
    );
  });
});

describe('renderPlanText', () => {
  it('prints only the no-changes line for an empty plan', () => {
    const d = desired('Skill', 's');
    expect(text([d], [liveFrom(d)], opts)).toBe('No changes. Your resources match the manifests.\n');
  });

  it('renders a create with its source and every field', () => {
    const out = text(
      [
        desired('Agent', 'support-bot', {
          labels: { team: 'cs' },
          spec: { instructions: 'Be helpful.', mcpServers: ['github', 'slack'], config: { model: 'm1' } },
          file: 'manifests/agents/support-bot.yaml',
        }),
      ],
      [],
      opts,
    );
    const lines = out.split('\n');
    expect(lines).toContain('  + Agent/support-bot will be created');
    expect(lines).toContain('      # source: manifests/agents/support-bot.yaml:1');
    expect(lines).toContain('      + metadata.labels.team = "cs"');
    expect(lines).toContain('      + spec.instructions = "Be helpful."');
    expect(lines).toContain('      + spec.mcpServers = ["github", "slack"]');
    expect(lines).toContain('      + spec.config.model = "m1"');
    expect(lines.at(-2)).toBe('Plan: 1 to add, 0 to change, 0 to destroy.');
    expect(out).not.toContain(ESC);
  });

  it('renders an update with old -> new, hides unchanged fields and counts them', () => {
    const before = desired('Agent', 'a', {
      spec: { instructions: 'Same text here.', description: 'old', config: { model: 'x', t: '1' } },
    });
    const after = desired('Agent', 'a', {
      spec: { instructions: 'Same text here.', description: 'new', config: { model: 'x', t: '1' } },
    });
    const out = text([after], [liveFrom(before)], opts);
    expect(out).toContain('  ~ Agent/a will be updated in-place\n');
    expect(out).toContain('      ~ spec.description = "old" -> "new"\n');
    expect(out).toContain('      # (2 unchanged attributes hidden)\n');
    expect(out).not.toContain('Same text here.');
    expect(out).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
  });

  it('renders multi-line strings as line diffs', () => {
    const old = 'You are an agent.\nRule one.\nRule two.\nRule three.\n';
    const neu = 'You are an agent.\nRule one.\nRule 2, rewritten.\nRule three.\n';
    const out = text(
      [desired('Agent', 'a', { spec: { instructions: neu } })],
      [liveFrom(desired('Agent', 'a', { spec: { instructions: old } }))],
      opts,
    );
    const lines = out.split('\n');
    const at = lines.indexOf('      ~ spec.instructions:');
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1, at + 6)).toEqual([
      '            You are an agent.',
      '            Rule one.',
      '          - Rule two.',
      '          + Rule 2, rewritten.',
      '            Rule three.',
    ]);
  });

  it('marks adopted resources and drift', () => {
    const adopted = text([desired('Skill', 's')], [live('Skill', 's', { project: null })], opts);
    expect(adopted).toContain('  ~ Skill/s will be updated in-place (adopted)\n');
    const d = desired('Skill', 'd', { spec: { skillMd: 'as in git' } });
    const drifted = liveFrom(d);
    drifted.spec = { skillMd: 'edited by hand' };
    const out = text([d], [drifted], opts);
    expect(out).toContain('  ~ Skill/d will be updated in-place (drift: changed outside Stigmer)\n');
    expect(out).toContain('      ~ spec.skillMd = "edited by hand" -> "as in git"\n');
  });

  it('renders destroys and releases', () => {
    const out = text(
      [desired('Skill', 'kept')],
      [
        liveFrom(desired('Skill', 'kept')),
        live('Agent', 'old', { labels: { x: 'y' } }),
        live('Skill', 'parked', { annotations: { [ANNOTATIONS.prune]: 'disabled' } }),
      ],
      opts,
    );
    expect(out).toContain('  - Agent/old will be destroyed\n');
    expect(out).toContain('      - metadata.labels.x = "y"\n');
    expect(out).toContain('  ~ Skill/parked will be released');
    expect(out).toContain('Plan: 0 to add, 1 to change, 1 to destroy.');
  });

  it('never prints secret values, changed or not', () => {
    const env = (token: string, other: string) =>
      desired('Environment', 'prod', {
        spec: { data: { TOKEN: { value: token, isSecret: true }, OTHER: { value: other, isSecret: true } } },
      });
    const created = text([env('s3cr3t-create', 'o7her-create')], [], opts);
    expect(created).not.toContain('s3cr3t');
    expect(created).not.toContain('o7her');
    expect(created).toContain('+ spec.data.TOKEN.value = (sensitive)');
    const updated = text(
      [env('s3cr3t-new', 'o7her-same')],
      [liveFrom(env('s3cr3t-old', 'o7her-same'))],
      opts,
    );
    expect(updated).not.toContain('s3cr3t');
    expect(updated).not.toContain('o7her');
    expect(updated).toContain('      ~ spec.data.TOKEN.value = (sensitive, changed)\n');
    expect(updated).not.toContain('OTHER');
    const destroyed = text(
      [env('a', 'b')],
      [
        liveFrom(env('a', 'b')),
        liveFrom(
          desired('Environment', 'old', {
            spec: { data: { K: { value: 'gone-s3cr3t', isSecret: true } } },
          }),
        ),
      ],
      opts,
    );
    expect(destroyed).not.toContain('gone-s3cr3t');
    expect(destroyed).toContain('- spec.data.K.value = (sensitive)');
  });

  it('prints diagnostics and refuses the plan when it has errors', () => {
    const out = text(
      [desired('Agent', 'x', { file: 'm/x.yaml', line: 2 })],
      [live('Agent', 'x', { project: 'other' })],
      opts,
    );
    expect(out).toContain('Error: m/x.yaml:2:1: Agent/x is owned by project "other"');
    expect(out).toContain('Plan failed: 1 error; nothing can be applied.');
    expect(out).not.toContain('Plan: ');
  });

  it('paints with the style it is given: green +, yellow ~, red -; plain by default', () => {
    const args: Parameters<typeof planChanges> = [
      [desired('Skill', 'new'), desired('Skill', 'changed', { spec: { skillMd: 'b' } })],
      [liveFrom(desired('Skill', 'changed', { spec: { skillMd: 'a' } })), live('Skill', 'gone')],
      opts,
    ];
    const plain = renderPlanText(planChanges(...args));
    const coloured = renderPlanText(planChanges(...args), { style: pc.createColors(true) });
    expect(plain).not.toContain(ESC);
    expect(coloured).toContain(`${ESC}[32m+${ESC}[39m`);
    expect(coloured).toContain(`${ESC}[33m~${ESC}[39m`);
    expect(coloured).toContain(`${ESC}[31m-${ESC}[39m`);
    // Stripping the escapes gives back the plain text.
    expect(coloured.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '')).toBe(plain);
  });
});

describe('value formatting', () => {
  it('shows containers as one-line JSON without altering the strings inside', () => {
    const out = text(
      [
        desired('Agent', 'a', {
          spec: { instructions: 'Long enough.', mcpServers: ['a,b', 'c'], config: {} },
        }),
      ],
      [],
      opts,
    );
    expect(out).toContain('      + spec.mcpServers = ["a,b", "c"]\n');
    expect(out).toContain('      + spec.config = {}\n');
  });

  it('shows added list items of objects field by field', () => {
    const before = desired('Workflow', 'w', { spec: { tasks: [{ name: 'one', agent: 'x' }] } });
    const after = desired('Workflow', 'w', {
      spec: {
        tasks: [
          { name: 'one', agent: 'x' },
          { name: 'two', agent: 'y', dependsOn: ['one'] },
        ],
      },
    });
    const out = text([after], [liveFrom(before)], opts);
    expect(out).toContain('      + spec.tasks[1].name = "two"\n');
    expect(out).toContain('      + spec.tasks[1].dependsOn = ["one"]\n');
    expect(out).toContain('      # (1 unchanged attribute hidden)\n');
  });
});

describe('blank lines of multi-line values', () => {
  it('carry the marker without trailing blanks', () => {
    const out = text([desired('Skill', 's', { spec: { skillMd: '# Title\n\nBody\n' } })], [], opts);
    expect(out).toContain('      + spec.skillMd:\n          + # Title\n          +\n          + Body\n');
    expect(out.split('\n').every((l) => l === l.trimEnd())).toBe(true);
  });
});
