import { describe, expect, it } from 'vitest';
import { ANNOTATIONS } from '../types.js';
import { canonicalJson, stableHash } from './hash.js';
import { appliedHash, comparedViewOf, planChanges, planHasErrors, userAnnotations } from './plan.js';
import { SENSITIVE, SENSITIVE_CHANGED } from './secrets.js';
import { applyToLiveState, desired, live, liveFrom, planOptions } from './testing.js';

const opts = planOptions();
const keys = (plan: ReturnType<typeof planChanges>) =>
  plan.changes.map((c) => `${c.action} ${c.kind}/${c.name}`);

describe('planChanges: create, update, no-op', () => {
  it('creates what is not live, with ownership annotations and an add patch of the whole view', () => {
    const d = desired('Agent', 'support-bot', {
      labels: { team: 'cs' },
      annotations: { note: 'hi' },
      file: 'manifests/agents/support-bot.yaml',
      line: 3,
    });
    const plan = planChanges([d], [], opts);
    expect(plan.summary).toEqual({ create: 1, update: 0, delete: 0, noop: 0 });
    const [c] = plan.changes;
    expect(c).toMatchObject({
      action: 'create',
      kind: 'Agent',
      name: 'support-bot',
      source: 'manifests/agents/support-bot.yaml:3',
      expectedVersion: null,
      drift: false,
      before: null,
      after: { metadata: { labels: { team: 'cs' }, annotations: { note: 'hi' } }, spec: d.spec },
    });
    expect(c?.patch).toEqual([
      { op: 'add', path: '/metadata', value: { labels: { team: 'cs' }, annotations: { note: 'hi' } } },
      { op: 'add', path: '/spec', value: d.spec },
    ]);
    expect(c?.write?.annotations).toEqual({
      note: 'hi',
      [ANNOTATIONS.project]: 'demo',
      [ANNOTATIONS.source]: 'manifests/agents/support-bot.yaml:3',
      [ANNOTATIONS.appliedHash]: appliedHash('Agent', 'support-bot', comparedViewOf(d)),
    });
    expect(c?.write?.spec).toEqual(d.spec);
    expect(c?.write?.labels).toEqual({ team: 'cs' });
    expect(plan.observed).toEqual([{ kind: 'Agent', name: 'support-bot', version: null }]);
    expect(planHasErrors(plan)).toBe(false);
  });

  it('is a no-op when the compared fields are equal, whatever the managed annotations say', () => {
    const d = desired('Skill', 'search');
    const l = liveFrom(d, 'demo', 4);
    l.annotations[ANNOTATIONS.source] = 'elsewhere.yaml:9';
    const plan = planChanges([d], [l], opts);
    expect(plan.changes).toEqual([]);
    expect(plan.summary).toEqual({ create: 0, update: 0, delete: 0, noop: 1 });
    expect(plan.observed).toEqual([{ kind: 'Skill', name: 'search', version: 4 }]);
  });

  it('updates when one spec field changes; the patch names exactly that field', () => {
    const d = desired('Agent', 'a', { spec: { instructions: 'You are a new agent.', description: 'x' } });
    const l = liveFrom(
      desired('Agent', 'a', { spec: { instructions: 'You are an old agent.', description: 'x' } }),
    );
    l.version = 7;
    const plan = planChanges([d], [l], opts);
    expect(keys(plan)).toEqual(['update Agent/a']);
    const [c] = plan.changes;
    expect(c?.expectedVersion).toBe(7);
    expect(c?.drift).toBe(false);
    expect(c?.reason).toBeUndefined();
    expect(c?.patch).toEqual([{ op: 'replace', path: '/spec/instructions', value: 'You are a new agent.' }]);
    expect(plan.summary).toEqual({ create: 0, update: 1, delete: 0, noop: 0 });
  });

  it('compares labels and user annotations but ignores the managed annotations', () => {
    const base = desired('Skill', 's', { labels: { a: '1' } });
    const l = liveFrom(base);
    const relabelled = planChanges([desired('Skill', 's', { labels: { a: '2' } })], [l], opts);
    expect(relabelled.changes[0]?.patch).toEqual([{ op: 'replace', path: '/metadata/labels/a', value: '2' }]);
    const annotated = planChanges(
      [desired('Skill', 's', { labels: { a: '1' }, annotations: { owner: 'me' } })],
      [l],
      opts,
    );
    expect(annotated.changes[0]?.patch).toEqual([
      { op: 'add', path: '/metadata/annotations/owner', value: 'me' },
    ]);
    expect(userAnnotations(l.annotations)).toEqual({});
  });

  it('treats key order as irrelevant', () => {
    const d = desired('Agent', 'a', {
      spec: { instructions: 'Long enough text', config: { a: '1', b: '2' } },
    });
    const l = liveFrom(
      desired('Agent', 'a', { spec: { config: { b: '2', a: '1' }, instructions: 'Long enough text' } }),
    );
    expect(planChanges([d], [l], opts).changes).toEqual([]);
  });
});

describe('planChanges: drift', () => {
  it('marks an update drift when live was changed outside Stigmer, and restores the manifest', () => {
    const d = desired('Agent', 'a', { spec: { instructions: 'As in the manifest.' } });
    const l = liveFrom(d);
    l.spec = { instructions: 'Edited by hand in the database.' };
    const plan = planChanges([d], [l], opts);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({ action: 'update', drift: true });
    expect(plan.changes[0]?.write?.spec).toEqual({ instructions: 'As in the manifest.' });
  });

  it('is no change when the manifest equals the drifted live state', () => {
    const d = desired('Agent', 'a', { spec: { instructions: 'Edited by hand in the database.' } });
    const l = liveFrom(desired('Agent', 'a', { spec: { instructions: 'As applied originally.' } }));
    l.spec = { instructions: 'Edited by hand in the database.' };
    expect(planChanges([d], [l], opts).changes).toEqual([]);
  });

  it('is not drift when the manifest changed but live is as applied', () => {
    const l = liveFrom(desired('Agent', 'a', { spec: { instructions: 'Version one of it.' } }));
    const plan = planChanges(
      [desired('Agent', 'a', { spec: { instructions: 'Version two of it.' } })],
      [l],
      opts,
    );
    expect(plan.changes[0]?.drift).toBe(false);
  });
});

describe('planChanges: ownership and adoption', () => {
  it('adopts an unowned same-named resource even when equal', () => {
    const d = desired('Skill', 's');
    const l = live('Skill', 's', { project: null, version: 2 });
    const plan = planChanges([d], [l], opts);
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]).toMatchObject({
      action: 'update',
      reason: 'adopt',
      expectedVersion: 2,
      patch: [],
    });
    expect(plan.changes[0]?.write?.annotations[ANNOTATIONS.project]).toBe('demo');
    expect(plan.summary.update).toBe(1);
    const after = applyToLiveState([l], plan);
    expect(planChanges([d], after, opts).changes).toEqual([]);
  });

  it('reports a resource owned by another project as an error at the manifest position and leaves it alone', () => {
    const d = desired('Agent', 'shared', { file: 'm/shared.yaml', line: 5 });
    const l = live('Agent', 'shared', { project: 'other', spec: { instructions: 'Something else here.' } });
    const plan = planChanges([d], [l], opts);
    expect(plan.changes).toEqual([]);
    expect(planHasErrors(plan)).toBe(true);
    expect(plan.diagnostics).toHaveLength(1);
    expect(plan.diagnostics[0]).toMatchObject({
      severity: 'error',
      file: 'm/shared.yaml',
      line: 5,
      column: 1,
    });
    expect(plan.diagnostics[0]?.message).toContain('owned by project "other"');
  });

  it('never deletes resources of other projects or unowned ones', () => {
    const plan = planChanges(
      [desired('Skill', 'mine')],
      [live('Skill', 'theirs', { project: 'other' }), live('Skill', 'nobody', { project: null })],
      opts,
    );
    expect(keys(plan)).toEqual(['create Skill/mine']);
    expect(plan.observed).toEqual([{ kind: 'Skill', name: 'mine', version: null }]);
  });
});

describe('planChanges: prune', () => {
  const kept = desired('Skill', 'kept');
  const state = () => [liveFrom(kept), live('Skill', 'gone', { version: 3 })];

  it('deletes an owned resource that is no longer desired', () => {
    const plan = planChanges([kept], state(), opts);
    expect(keys(plan)).toEqual(['delete Skill/gone']);
    expect(plan.changes[0]).toMatchObject({ reason: 'prune', expectedVersion: 3, after: null, source: null });
    expect(plan.changes[0]?.patch).toEqual([
      { op: 'remove', path: '/metadata' },
      { op: 'remove', path: '/spec' },
    ]);
    expect(plan.changes[0]?.write).toBeUndefined();
    expect(plan.summary).toEqual({ create: 0, update: 0, delete: 1, noop: 1 });
    expect(plan.observed.map((o) => `${o.name}@${o.version}`)).toEqual(['gone@3', 'kept@1']);
  });

  it('deletes nothing with prune: false but still observes owned resources', () => {
    const plan = planChanges([kept], state(), planOptions({ prune: false }));
    expect(plan.changes).toEqual([]);
    expect(plan.observed).toHaveLength(2);
  });

  it('releases a resource annotated stigmer.ai/prune: disabled instead of deleting it', () => {
    const l = live('Skill', 'keepme', { annotations: { [ANNOTATIONS.prune]: 'disabled' }, version: 5 });
    const plan = planChanges([kept], [liveFrom(kept), l], opts);
    expect(keys(plan)).toEqual(['update Skill/keepme']);
    const [c] = plan.changes;
    expect(c).toMatchObject({ reason: 'release', expectedVersion: 5 });
    expect(c?.write?.annotations[ANNOTATIONS.project]).toBeUndefined();
    expect(c?.write?.annotations[ANNOTATIONS.prune]).toBe('disabled');
    const after = applyToLiveState([liveFrom(kept), l], plan);
    expect(planChanges([kept], after, opts).changes).toEqual([]);
    expect(after.find((r) => r.name === 'keepme')).toBeDefined();
  });

  it('does not even release with prune: false', () => {
    const l = live('Skill', 'keepme', { annotations: { [ANNOTATIONS.prune]: 'disabled' } });
    expect(planChanges([kept], [liveFrom(kept), l], planOptions({ prune: false })).changes).toEqual([]);
  });

  it('fails a plan that would destroy a prevent-destroy resource, naming it', () => {
    const l = live('Environment', 'prod', {
      annotations: { [ANNOTATIONS.preventDestroy]: 'true', [ANNOTATIONS.source]: 'm/prod.yaml:4' },
    });
    const plan = planChanges([kept], [liveFrom(kept), l], opts);
    expect(planHasErrors(plan)).toBe(true);
    expect(plan.diagnostics[0]).toMatchObject({ severity: 'error', file: 'm/prod.yaml', line: 4 });
    expect(plan.diagnostics[0]?.message).toContain('Environment/prod');
    expect(plan.diagnostics[0]?.hint).toContain(ANNOTATIONS.preventDestroy);
  });

  it('fails a plan that would prune a resource a desired one still references', () => {
    const flow = desired('Workflow', 'flow', {
      spec: { tasks: [{ name: 'review', agent: 'reviewer' }] },
      file: 'm/flow.yaml',
      line: 3,
    });
    const agent = live('Agent', 'reviewer');
    const plan = planChanges([flow], [liveFrom(flow), agent], opts);
    expect(planHasErrors(plan)).toBe(true);
    expect(plan.diagnostics[0]).toMatchObject({ severity: 'error', file: 'm/flow.yaml', line: 3 });
    expect(plan.diagnostics[0]?.message).toBe(
      'Agent/reviewer would be destroyed, but Workflow/flow still references it',
    );
    // Without pruning, or when the reference is owned by nobody, nothing dangles.
    expect(planHasErrors(planChanges([flow], [liveFrom(flow), agent], planOptions({ prune: false })))).toBe(
      false,
    );
    const unowned = live('Agent', 'reviewer', { project: null });
    expect(planHasErrors(planChanges([flow], [liveFrom(flow), unowned], opts))).toBe(false);
  });

  it('prevent-destroy does not matter when nothing deletes the resource', () => {
    const d = desired('Skill', 'guarded', { annotations: { [ANNOTATIONS.preventDestroy]: 'true' } });
    const plan = planChanges([d], [liveFrom(d)], opts);
    expect(planHasErrors(plan)).toBe(false);
    expect(planHasErrors(planChanges([kept], [liveFrom(d)], planOptions({ prune: false })))).toBe(false);
  });

  it('refuses an empty desired set that would delete, unless allowEmpty', () => {
    const plan = planChanges([], state(), opts);
    expect(planHasErrors(plan)).toBe(true);
    expect(plan.diagnostics.at(-1)?.hint).toContain('--allow-empty');
    const allowed = planChanges([], state(), planOptions({ allowEmpty: true }));
    expect(planHasErrors(allowed)).toBe(false);
    expect(allowed.summary.delete).toBe(2);
    expect(planHasErrors(planChanges([], [], opts))).toBe(false);
    expect(planHasErrors(planChanges([], state(), planOptions({ prune: false })))).toBe(false);
  });

  it('reports a duplicate desired (kind, name) as an error', () => {
    const plan = planChanges(
      [desired('Skill', 'x', { file: 'a.yaml' }), desired('Skill', 'x', { file: 'b.yaml' })],
      [],
      opts,
    );
    expect(planHasErrors(plan)).toBe(true);
    expect(plan.diagnostics[0]?.message).toContain('a.yaml:1');
  });
});

describe('planChanges: ordering', () => {
  it('writes referenced resources first, across and within kinds, and deletes in reverse afterwards', () => {
    const ds = [
      desired('WorkflowInstance', 'wi', { spec: { workflow: 'wf', environmentRefs: ['env'] } }),
      desired('Workflow', 'wf', { spec: { tasks: [{ name: 't', agent: 'lead' }] } }),
      desired('Agent', 'lead', {
        spec: { instructions: 'Lead agent here', subAgents: ['helper'], skillRefs: ['sk'] },
      }),
      desired('Agent', 'helper', { spec: { instructions: 'Helper agent here', subAgents: ['zeta'] } }),
      desired('Agent', 'zeta', { spec: { instructions: 'Zeta agent is a leaf' } }),
      desired('AgentInstance', 'ai', { spec: { agent: 'lead' } }),
      desired('Skill', 'sk'),
      desired('Environment', 'env'),
    ];
    const old = [
      live('Agent', 'old-parent', { spec: { instructions: 'x', subAgents: ['old-child'] } }),
      live('Agent', 'old-child'),
      live('Skill', 'old-skill'),
      live('Workflow', 'old-wf', { spec: { tasks: [{ name: 't', agent: 'old-parent' }] } }),
    ];
    const expected = [
      'create Skill/sk',
      'create Environment/env',
      'create Agent/zeta',
      'create Agent/helper',
      'create Agent/lead',
      'create Workflow/wf',
      'create AgentInstance/ai',
      'create WorkflowInstance/wi',
      'delete Workflow/old-wf',
      'delete Agent/old-parent',
      'delete Agent/old-child',
      'delete Skill/old-skill',
    ];
    expect(keys(planChanges(ds, old, opts))).toEqual(expected);
    expect(keys(planChanges([...ds].reverse(), [...old].reverse(), opts))).toEqual(expected);
  });

  it('orders names alphabetically when nothing references anything', () => {
    const plan = planChanges([desired('Skill', 'c'), desired('Skill', 'a'), desired('Skill', 'b')], [], opts);
    expect(keys(plan)).toEqual(['create Skill/a', 'create Skill/b', 'create Skill/c']);
  });

  it('still terminates and orders a reference cycle by name', () => {
    const plan = planChanges(
      [
        desired('Agent', 'b', { spec: { instructions: 'b agent text', subAgents: ['a'] } }),
        desired('Agent', 'a', { spec: { instructions: 'a agent text', subAgents: ['b'] } }),
        desired('Skill', 's'),
      ],
      [],
      opts,
    );
    expect(keys(plan)).toEqual(['create Skill/s', 'create Agent/a', 'create Agent/b']);
  });
});

describe('planChanges: secrets', () => {
  const env = (value: string, extra: Record<string, string> = {}) =>
    desired('Environment', 'prod', {
      spec: {
        data: {
          TOKEN: { value, isSecret: true },
          REGION: { value: 'eu-west-1', ...extra },
        },
      },
    });

  it('never shows a secret value in before, after or patch of a create', () => {
    const plan = planChanges([env('hunter2-secret')], [], opts);
    const shown = JSON.stringify({ ...plan.changes[0], write: undefined });
    expect(shown).not.toContain('hunter2-secret');
    expect(plan.changes[0]?.after?.spec).toEqual({
      data: { TOKEN: { value: SENSITIVE, isSecret: true }, REGION: { value: 'eu-west-1' } },
    });
    expect(plan.changes[0]?.write?.annotations[ANNOTATIONS.appliedHash]).toBe(
      stableHash({
        metadata: { labels: {}, annotations: {} },
        spec: { data: { TOKEN: { $secret: SENSITIVE, isSecret: true }, REGION: { value: 'eu-west-1' } } },
      }),
    );
  });

  it('detects a changed secret and shows it as (sensitive, changed) without the values', () => {
    const l = liveFrom(env('old-secret-value'));
    const plan = planChanges([env('new-secret-value')], [l], opts);
    expect(plan.changes).toHaveLength(1);
    const c = plan.changes[0];
    const shown = JSON.stringify([c?.before, c?.after, c?.patch]);
    expect(shown).not.toContain('old-secret-value');
    expect(shown).not.toContain('new-secret-value');
    expect(c?.patch).toEqual([{ op: 'replace', path: '/spec/data/TOKEN/value', value: SENSITIVE_CHANGED }]);
    expect(c?.drift).toBe(false);
  });

  it('is a no-op when the secret is unchanged', () => {
    const l = liveFrom(env('same-secret'));
    expect(planChanges([env('same-secret')], [l], opts).changes).toEqual([]);
  });

  it('compares sealed secrets by their hash, not their ciphertext', () => {
    const sealed = (hash: string, ciphertext: string) =>
      desired('Environment', 'prod', {
        spec: { data: { TOKEN: { isSecret: true, valueFrom: { env: 'T' }, sealed: { hash, ciphertext } } } },
      });
    const l = liveFrom(sealed('hmac-sha256:aaa', 'v1:k:iv1:c1'));
    expect(planChanges([sealed('hmac-sha256:aaa', 'v1:k:iv2:c2')], [l], opts).changes).toEqual([]);
    const changed = planChanges([sealed('hmac-sha256:bbb', 'v1:k:iv3:c3')], [l], opts);
    expect(changed.changes[0]?.patch).toEqual([
      { op: 'replace', path: '/spec/data/TOKEN/sealed', value: SENSITIVE_CHANGED },
    ]);
    expect(JSON.stringify(changed.changes[0]?.after)).not.toContain('v1:k');
  });

  it('uses a plugged-in keyed hash to compare plaintext secrets', () => {
    const calls: string[] = [];
    const secretHash = (kind: string, name: string, key: string, value: string) => {
      calls.push(`${kind}/${name}/${key}`);
      return `keyed:${value.length}`;
    };
    const l = liveFrom(env('abc'));
    const plan = planChanges([env('xyz')], [l], planOptions({ secretHash }));
    expect(plan.changes).toEqual([]);
    expect(calls).toContain('Environment/prod/TOKEN');
  });

  it('shows non-secret values normally', () => {
    const l = liveFrom(env('s'));
    const plan = planChanges([env('s', { value: 'us-east-1' })], [l], opts);
    expect(plan.changes[0]?.patch).toEqual([
      { op: 'replace', path: '/spec/data/REGION/value', value: 'us-east-1' },
    ]);
  });
});

describe('canonical hashing', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"x":2,"y":1}]},"b":1}',
    );
    expect(stableHash({ a: 1, b: 2 })).toBe(stableHash({ b: 2, a: 1 }));
    expect(stableHash({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe('purity', () => {
  it('does not modify its inputs and gives equal plans for equal inputs', () => {
    const ds = [desired('Agent', 'a', { labels: { x: '1' } }), desired('Skill', 's')];
    const ls = [live('Skill', 's', { spec: { skillMd: 'old' } }), live('Agent', 'gone')];
    const snapshot = JSON.stringify([ds, ls]);
    const first = planChanges(ds, ls, opts);
    expect(JSON.stringify([ds, ls])).toBe(snapshot);
    expect(planChanges(ds, ls, opts)).toEqual(first);
  });
});
