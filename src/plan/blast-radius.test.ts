import { describe, expect, it } from 'vitest';
import { withUsedBy } from './blast-radius.js';
import { planChanges } from './plan.js';
import { desired, live, liveFrom, planOptions } from './testing.js';

const agent = (name: string, instructions = 'You review pull requests.', extra = {}) =>
  desired('Agent', name, { spec: { instructions, ...extra } });

describe('blast radius (usedBy)', () => {
  it('lists the workflow whose task calls an updated agent, in the plan of the default stack shape', () => {
    const reviewer = agent('code-reviewer');
    const workflow = desired('Workflow', 'pr-review-workflow', {
      spec: { tasks: [{ name: 'review', agent: 'code-reviewer' }] },
    });
    const plan = planChanges(
      [agent('code-reviewer', 'You review pull requests carefully.'), workflow],
      [liveFrom(reviewer), liveFrom(workflow)],
      planOptions(),
    );
    expect(plan.changes.map((c) => [c.kind, c.name, c.usedBy])).toEqual([
      ['Agent', 'code-reviewer', ['Workflow/pr-review-workflow']],
    ]);
  });

  it('finds users in the manifests and in the live state, once each, sorted by kind and name', () => {
    const skill = desired('Skill', 'guide', { spec: { skillMd: '# v2\n' } });
    const plan = planChanges(
      [
        skill,
        agent('writer', 'You write things down.', { skillRefs: ['guide'] }),
        agent('reader', 'You read things out.', { skillRefs: ['guide'], subAgents: ['writer'] }),
      ],
      [
        liveFrom(desired('Skill', 'guide', { spec: { skillMd: '# v1\n' } })),
        // Declared in another project's manifests: only the live state knows it uses the skill.
        live('Agent', 'elsewhere', {
          project: 'other',
          spec: { instructions: 'x'.repeat(12), skillRefs: ['guide'] },
        }),
        // In the manifests and live: counted once.
        liveFrom(agent('writer', 'You write things down.', { skillRefs: ['guide'] })),
      ],
      planOptions(),
    );
    const guide = plan.changes.find((c) => c.name === 'guide');
    expect(guide?.usedBy).toEqual(['Agent/elsewhere', 'Agent/reader', 'Agent/writer']);
    // Creates carry no blast radius.
    expect(plan.changes.find((c) => c.name === 'reader')?.usedBy).toBeUndefined();
  });

  it('covers deletes, environments used by instances, and only Agents, Skills and Environments', () => {
    const env = live('Environment', 'prod');
    const instance = live('AgentInstance', 'bot-prod', { spec: { agent: 'bot', environmentRefs: ['prod'] } });
    const plan = planChanges([], [env, instance, live('Agent', 'bot')], planOptions({ allowEmpty: true }));
    const byName = Object.fromEntries(plan.changes.map((c) => [c.name, c.usedBy]));
    expect(byName).toEqual({
      prod: ['AgentInstance/bot-prod'],
      bot: ['AgentInstance/bot-prod'],
      'bot-prod': undefined,
    });
  });

  it('is empty (not absent) for an updated resource nobody uses, and ignores self references', () => {
    const changes = withUsedBy(
      planChanges([agent('solo', 'Works alone, always.')], [liveFrom(agent('solo'))], planOptions()).changes,
      [agent('solo', 'Works alone, always.', { subAgents: ['solo'] })],
      [],
    );
    expect(changes[0]?.usedBy).toEqual([]);
  });
});
