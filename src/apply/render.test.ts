import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { planChanges } from '../plan/plan.js';
import { desired, live, liveFrom, planOptions } from '../plan/testing.js';
import { ANNOTATIONS } from '../types.js';
import type { ApplyResult } from './apply.js';
import type { ApplyEvent } from './events.js';
import { applyResultToJson, createApplyEventPrinter, renderApplyEvent } from './render.js';

const plan = planChanges(
  [
    desired('Skill', 'new'),
    desired('Skill', 'changed', { spec: { skillMd: 'b' } }),
    desired('Skill', 'adopted'),
  ],
  [
    liveFrom(desired('Skill', 'changed', { spec: { skillMd: 'a' } }), 'demo', 4),
    live('Skill', 'adopted', { project: null }),
    live('Skill', 'gone', { version: 2 }),
    live('Skill', 'parked', { annotations: { [ANNOTATIONS.prune]: 'disabled' } }),
  ],
  planOptions(),
);

describe('apply event printer', () => {
  it('prints one line per applied change and the summary line', () => {
    const out: string[] = [];
    const print = createApplyEventPrinter({}, (t) => out.push(t));
    const events: ApplyEvent[] = [
      { type: 'apply-started', plan },
      ...plan.changes.map((change, i) => ({ type: 'change-applied' as const, change, version: i + 1 })),
      { type: 'apply-finished', summary: { added: 1, changed: 3, destroyed: 1 }, durationMs: 5 },
    ];
    events.forEach(print);
    expect(out.join('')).toBe(
      [
        'Applying 5 changes to project "demo"...',
        'Skill/adopted: Adoption complete [version 1]',
        'Skill/changed: Modifications complete [version 2]',
        'Skill/new: Creation complete [version 3]',
        'Skill/parked: Released (left in place, no longer managed) [version 4]',
        'Skill/gone: Destruction complete',
        '',
        'Apply complete! Resources: 1 added, 3 changed, 1 destroyed.',
        '',
      ].join('\n'),
    );
  });

  it('says nothing was changed when the apply failed, in red only with colour', () => {
    const failed: ApplyEvent = { type: 'apply-failed', error: new Error('boom') };
    expect(renderApplyEvent(failed)).toBe('Apply failed; no changes were made.');
    expect(renderApplyEvent(failed, { style: pc.createColors(true) })).toContain('\u001b[31m');
  });

  it('prints nothing at the start of an empty apply', () => {
    const empty = planChanges([], [], planOptions());
    expect(renderApplyEvent({ type: 'apply-started', plan: empty })).toBeNull();
  });
});

describe('apply JSON', () => {
  it('is the plan JSON plus results', () => {
    const result: ApplyResult = {
      results: [{ action: 'create', kind: 'Skill', name: 'new', id: 'skl_1', version: 1 }],
      summary: { added: 1, changed: 0, destroyed: 0 },
      durationMs: 3,
    };
    const json = applyResultToJson(plan, result);
    expect(json.formatVersion).toBe(1);
    expect(json.changes).toHaveLength(5);
    expect(json.results).toEqual(result.results);
    expect(json.applied).toEqual({ added: 1, changed: 0, destroyed: 0 });
    expect(JSON.stringify(json)).not.toContain('"write"');
  });
});
