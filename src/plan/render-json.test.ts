import { describe, expect, it } from 'vitest';
import { planChanges } from './plan.js';
import { planToJson, renderPlanJson } from './render-json.js';
import { desired, live, liveFrom, planOptions } from './testing.js';

describe('plan JSON (DESIGN.md §5)', () => {
  it('has exactly the documented shape', () => {
    const plan = planChanges(
      [
        desired('Agent', 'support-bot', { file: 'manifests/agents/support-bot.yaml' }),
        desired('Skill', 'same'),
      ],
      [liveFrom(desired('Skill', 'same'))],
      planOptions({ project: 'demo', backend: { type: 'local', location: '/tmp/x.db' } }),
    );
    const json = JSON.parse(renderPlanJson(plan));
    expect(Object.keys(json)).toEqual([
      'formatVersion',
      'project',
      'backend',
      'summary',
      'changes',
      'diagnostics',
    ]);
    expect(json.formatVersion).toBe(1);
    expect(json.project).toBe('demo');
    expect(json.backend).toEqual({ type: 'local', location: '/tmp/x.db' });
    expect(json.summary).toEqual({ create: 1, update: 0, delete: 0, noop: 1 });
    expect(json.diagnostics).toEqual([]);
    expect(json.changes).toHaveLength(1);
    expect(Object.keys(json.changes[0])).toEqual([
      'action',
      'kind',
      'name',
      'source',
      'expectedVersion',
      'drift',
      'patch',
      'before',
      'after',
    ]);
    expect(json.changes[0]).toMatchObject({
      action: 'create',
      kind: 'Agent',
      name: 'support-bot',
      source: 'manifests/agents/support-bot.yaml:1',
      expectedVersion: null,
      drift: false,
      before: null,
    });
    expect(json.changes[0].patch.map((op: { op: string; path: string }) => `${op.op} ${op.path}`)).toEqual([
      'add /metadata',
      'add /spec',
    ]);
    expect(json.changes[0].after).toEqual({
      metadata: { labels: {}, annotations: {} },
      spec: plan.changes[0]?.after?.spec,
    });
    expect(renderPlanJson(plan)).not.toContain('stigmer.ai/project');
    expect(renderPlanJson(plan).endsWith('}\n')).toBe(true);
  });

  it('leaves out write and observed, and keeps the reason of adoptions and prunes', () => {
    const plan = planChanges(
      [desired('Skill', 'adopt-me')],
      [live('Skill', 'adopt-me', { project: null }), live('Skill', 'gone')],
      planOptions(),
    );
    const json = planToJson(plan);
    expect(JSON.stringify(json)).not.toContain('"write"');
    expect(JSON.stringify(json)).not.toContain('"observed"');
    expect(json.changes.map((c) => `${c.action}:${c.reason}`)).toEqual(['update:adopt', 'delete:prune']);
  });

  it('lists diagnostics with severity, file, line, column and message', () => {
    const plan = planChanges([], [live('Skill', 'gone')], planOptions());
    const [d] = planToJson(plan).diagnostics;
    expect(d).toMatchObject({ severity: 'error', file: '(plan)', line: 0, column: 0 });
    expect(d?.message).toContain('every resource');
  });

  it('never contains a secret value', () => {
    const env = (v: string) =>
      desired('Environment', 'e', {
        spec: { data: { K: { value: v, isSecret: true, description: 'key' } } },
      });
    const text = renderPlanJson(
      planChanges([env('topsecret-2')], [liveFrom(env('topsecret-1'))], planOptions()),
    );
    expect(text).not.toContain('topsecret');
    expect(text).toContain('(sensitive, changed)');
  });
});
