/**
 * The planner's text comparison of lazily stored specs (src/stored-text.ts) decides exactly
 * what the structural comparison decides.
 */
import { describe, expect, it } from 'vitest';
import { lazyStoredResource, storedSpecText } from '../stored-text.js';
import type { JsonObject, StoredResource } from '../types.js';
import { planChanges } from './plan.js';
import { desired, live, planOptions } from './testing.js';

/** `r` as the local store returns it: spec kept as the JSON text `specText`. */
function stored(r: StoredResource, specText: string): StoredResource {
  const { spec: _spec, status, ...fields } = r;
  return lazyStoredResource(fields, specText, JSON.stringify(status));
}

const spec: JsonObject = { instructions: 'Answer.', skillRefs: ['docs'], config: { model: 'm' } };

describe('planner over stored spec texts', () => {
  it('is a no-op for the same text without decoding it, and for the same spec in another key order', () => {
    const d = desired('Agent', 'a', { spec, labels: { team: 'x' } });
    const same = stored(live('Agent', 'a', { spec, labels: { team: 'x' } }), JSON.stringify(spec));
    expect(planChanges([d], [same], planOptions()).summary).toMatchObject({ noop: 1, update: 0 });
    expect(storedSpecText(same)).toBe(JSON.stringify(spec));

    const reordered = stored(
      live('Agent', 'a', { spec, labels: { team: 'x' } }),
      JSON.stringify({ config: { model: 'm' }, skillRefs: ['docs'], instructions: 'Answer.' }),
    );
    expect(planChanges([d], [reordered], planOptions()).summary).toMatchObject({ noop: 1, update: 0 });
  });

  it('plans an update when the stored spec, labels or annotations differ', () => {
    const d = desired('Agent', 'a', { spec, labels: { team: 'x' } });
    const other = stored(
      live('Agent', 'a', { labels: { team: 'x' } }),
      JSON.stringify({ ...spec, instructions: 'Other.' }),
    );
    const plan = planChanges([d], [other], planOptions());
    expect(plan.summary).toMatchObject({ update: 1 });
    expect(plan.changes[0]?.before?.spec.instructions).toBe('Other.');

    const relabelled = stored(live('Agent', 'a', { spec, labels: { team: 'y' } }), JSON.stringify(spec));
    expect(planChanges([d], [relabelled], planOptions()).summary).toMatchObject({ update: 1 });
    const annotated = stored(
      live('Agent', 'a', { spec, labels: { team: 'x' }, annotations: { note: 'n' } }),
      JSON.stringify(spec),
    );
    expect(planChanges([d], [annotated], planOptions()).summary).toMatchObject({ update: 1 });
  });
});
