import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openLocalBackend } from '../backend/local/index.js';
import type { Backend } from '../backend/types.js';
import { ConflictError, StigmerError } from '../errors.js';
import { planChanges } from '../plan/plan.js';
import { parsePlanFile, serializePlanFile } from '../plan/plan-file.js';
import { desired, planOptions } from '../plan/testing.js';
import type { Plan } from '../plan/types.js';
import { SecretKey } from '../secrets/key.js';
import { ANNOTATIONS, DECLARED_KINDS, type DesiredResource, type StoredResource } from '../types.js';
import { applyPlan } from './apply.js';
import type { ApplyEvent } from './events.js';

let dir: string;
let backend: Backend;
const key = SecretKey.fromBytes(new Uint8Array(32).fill(7));
/** A plan through its saved file and back, as `plan --out` then `apply FILE` do. */
const roundTrip = (p: Plan): Plan => parsePlanFile(serializePlanFile(p, { key }), { key });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'stigmer-apply-'));
  backend = await openLocalBackend({ path: join(dir, 'local.db') });
});

afterEach(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

async function liveState(): Promise<StoredResource[]> {
  return (await Promise.all(DECLARED_KINDS.map((k) => backend.listAllResources(k)))).flat();
}

async function plan(ds: DesiredResource[], overrides: Parameters<typeof planOptions>[0] = {}): Promise<Plan> {
  return planChanges(ds, await liveState(), planOptions({ backend: backend.info, ...overrides }));
}

async function failure(promise: Promise<unknown>): Promise<StigmerError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected the apply to fail');
}

const stack = (instructions = 'You answer support questions.') => [
  desired('Skill', 'search', { spec: { skillMd: '# Search\n' } }),
  desired('Agent', 'helper', { spec: { instructions: 'You help the lead agent.' } }),
  desired('Agent', 'lead', {
    labels: { team: 'cs' },
    spec: { instructions, subAgents: ['helper'], skillRefs: ['search'] },
  }),
  desired('Workflow', 'flow', { spec: { tasks: [{ name: 'first', agent: 'lead' }] } }),
];

describe('applyPlan against the local backend', () => {
  it('applies a plan in one batch, reports typed events, and a second plan is empty', async () => {
    const events: ApplyEvent[] = [];
    const p = await plan(stack());
    const result = await applyPlan(backend, p, { onEvent: (e) => events.push(e), message: 'first apply' });
    expect(result.summary).toEqual({ added: 4, changed: 0, destroyed: 0 });
    expect(result.results.map((r) => `${r.action} ${r.kind}/${r.name}@${r.version}`)).toEqual([
      'create Skill/search@1',
      'create Agent/helper@1',
      'create Agent/lead@1',
      'create Workflow/flow@1',
    ]);
    expect(result.results.every((r) => r.id !== '')).toBe(true);
    expect(events.map((e) => e.type)).toEqual([
      'apply-started',
      'change-applied',
      'change-applied',
      'change-applied',
      'change-applied',
      'apply-finished',
    ]);
    const lead = await backend.getResource('Agent', 'lead');
    expect(lead?.labels).toEqual({ team: 'cs' });
    expect(lead?.annotations[ANNOTATIONS.project]).toBe('demo');
    expect(lead?.annotations[ANNOTATIONS.source]).toBe('manifests/lead.yaml:1');
    expect(lead?.annotations[ANNOTATIONS.appliedHash]).toMatch(/^sha256:/);
    expect((await backend.listVersions('Agent', 'lead'))[0]?.message).toBe('first apply');
    const again = await plan(stack());
    expect(again.changes).toEqual([]);
    expect(again.summary.noop).toBe(4);
  });

  it('updates with the expected version and prunes what left the manifests', async () => {
    await applyPlan(backend, await plan(stack()));
    const next = stack('You answer support questions, politely.').filter((d) => d.name !== 'flow');
    const p = await plan(next);
    expect(p.changes.map((c) => `${c.action} ${c.kind}/${c.name}`)).toEqual([
      'update Agent/lead',
      'delete Workflow/flow',
    ]);
    const result = await applyPlan(backend, p);
    expect(result.summary).toEqual({ added: 0, changed: 1, destroyed: 1 });
    expect((await backend.getResource('Agent', 'lead'))?.version).toBe(2);
    expect(await backend.getResource('Workflow', 'flow')).toBeNull();
    expect((await plan(next)).changes).toEqual([]);
  });

  it('changes nothing when someone else wrote in between (conflict)', async () => {
    await applyPlan(backend, await plan(stack()));
    const p = await plan([...stack('New instructions for the lead.'), desired('Skill', 'extra')]);
    // Someone else updates the agent after the plan was made.
    const lead = (await backend.getResource('Agent', 'lead')) as StoredResource;
    await backend.applyChanges([
      {
        op: 'update',
        kind: 'Agent',
        name: 'lead',
        labels: {},
        annotations: lead.annotations,
        spec: lead.spec,
      },
    ]);
    const events: ApplyEvent[] = [];
    const err = await failure(applyPlan(backend, p, { onEvent: (e) => events.push(e) }));
    expect(err).toBeInstanceOf(ConflictError);
    expect(events.map((e) => e.type)).toEqual(['apply-started', 'apply-failed']);
    expect(await backend.getResource('Skill', 'extra')).toBeNull();
  });

  it('refuses a stale saved plan, even one made on an empty state, and changes nothing', async () => {
    const saved = roundTrip(await plan(stack()));
    // Someone else applies first.
    await applyPlan(backend, await plan(stack()));
    const err = await failure(applyPlan(backend, saved, { checkObserved: true }));
    expect(err.code).toBe('STALE_PLAN');
    expect(err.message).toMatch(/^saved plan is stale: /);
    expect(err.hint).toContain('stigmer plan');
    expect((await backend.getResource('Agent', 'lead'))?.version).toBe(1);
  });

  it('refuses a saved plan when a resource it did not change moved on (assert), changing nothing', async () => {
    await applyPlan(backend, await plan(stack()));
    const saved = roundTrip(await plan([...stack(), desired('Skill', 'extra')]));
    expect(saved.changes.map((c) => c.name)).toEqual(['extra']);
    const search = (await backend.getResource('Skill', 'search')) as StoredResource;
    await backend.applyChanges([
      {
        op: 'update',
        kind: 'Skill',
        name: 'search',
        labels: { touched: 'yes' },
        annotations: search.annotations,
        spec: search.spec,
      },
    ]);
    const err = await failure(applyPlan(backend, saved, { checkObserved: true }));
    expect(err.code).toBe('STALE_PLAN');
    expect(await backend.getResource('Skill', 'extra')).toBeNull();
  });

  it('applies a saved plan that is still current', async () => {
    await applyPlan(backend, await plan(stack()));
    const saved = roundTrip(await plan([...stack(), desired('Skill', 'extra')]));
    const result = await applyPlan(backend, saved, { checkObserved: true });
    expect(result.summary).toEqual({ added: 1, changed: 0, destroyed: 0 });
    expect(await backend.getResource('Skill', 'extra')).not.toBeNull();
  });

  it('refuses a plan with errors before sending anything', async () => {
    await applyPlan(backend, await plan([desired('Skill', 'shared')], { project: 'other' }));
    const p = await plan([desired('Skill', 'shared'), desired('Skill', 'mine')]);
    const events: ApplyEvent[] = [];
    const err = await failure(applyPlan(backend, p, { onEvent: (e) => events.push(e) }));
    expect(err.code).toBe('PLAN');
    expect(events).toEqual([]);
    expect(await backend.getResource('Skill', 'mine')).toBeNull();
  });

  it('adopts an unowned resource and releases one marked prune: disabled', async () => {
    await backend.applyChanges([
      { op: 'create', kind: 'Skill', name: 'handmade', labels: {}, annotations: {}, spec: { skillMd: 'x' } },
    ]);
    const kept = desired('Skill', 'kept', { annotations: { [ANNOTATIONS.prune]: 'disabled' } });
    await applyPlan(backend, await plan([desired('Skill', 'handmade', { spec: { skillMd: 'x' } }), kept]));
    expect((await backend.getResource('Skill', 'handmade'))?.annotations[ANNOTATIONS.project]).toBe('demo');
    const p = await plan([desired('Skill', 'handmade', { spec: { skillMd: 'x' } })]);
    expect(p.changes.map((c) => `${c.action}:${c.reason}`)).toEqual(['update:release']);
    await applyPlan(backend, p);
    const released = await backend.getResource('Skill', 'kept');
    expect(released).not.toBeNull();
    expect(released?.annotations[ANNOTATIONS.project]).toBeUndefined();
    expect((await plan([desired('Skill', 'handmade', { spec: { skillMd: 'x' } })])).changes).toEqual([]);
  });
});
