import { describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import { planChanges } from './plan.js';
import {
  looksLikePlanFile,
  PLAN_FILE_FORMAT,
  parsePlanFile,
  programVersion,
  serializePlanFile,
} from './plan-file.js';
import { desired, live, liveFrom, planOptions } from './testing.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof StigmerError ? err.code : `not a StigmerError: ${String(err)}`;
  }
  return undefined;
};

describe('saved plan files', () => {
  const plan = planChanges(
    [desired('Agent', 'a', { labels: { x: 'y' } }), desired('Skill', 'same')],
    [liveFrom(desired('Skill', 'same'), 'demo', 3), live('Skill', 'gone', { version: 2 })],
    planOptions(),
  );

  it('round-trips the plan with write and observed, and records marker, version and checksum', () => {
    const text = serializePlanFile(plan);
    const doc = JSON.parse(text);
    expect(doc.format).toBe(PLAN_FILE_FORMAT);
    expect(doc.formatVersion).toBe(1);
    expect(doc.stigmerVersion).toBe(programVersion());
    expect(programVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    const back = parsePlanFile(text);
    expect(back).toEqual(plan);
    expect(back.changes[0]?.write?.annotations['stigmer.ai/project']).toBe('demo');
    expect(back.observed).toEqual([
      { kind: 'Skill', name: 'gone', version: 2 },
      { kind: 'Skill', name: 'same', version: 3 },
      { kind: 'Agent', name: 'a', version: null },
    ]);
    expect(looksLikePlanFile(text)).toBe(true);
  });

  it('refuses edited, damaged or foreign files with a StigmerError', () => {
    const text = serializePlanFile(plan);
    expect(code(() => parsePlanFile(text.replace('"x": "y"', '"x": "z"')))).toBe('PLAN');
    expect(code(() => parsePlanFile(text.slice(0, text.length / 2)))).toBe('PLAN');
    expect(code(() => parsePlanFile('apiVersion: agentic.stigmer.ai/v1\nkind: Agent\n'))).toBe('PLAN');
    expect(code(() => parsePlanFile('{"format": "terraform"}'))).toBe('PLAN');
    expect(code(() => parsePlanFile('null'))).toBe('PLAN');
    const future = JSON.parse(text);
    future.formatVersion = 99;
    expect(code(() => parsePlanFile(JSON.stringify(future)))).toBe('PLAN');
    expect(looksLikePlanFile('kind: Agent')).toBe(false);
    expect(looksLikePlanFile('{"format": "x"}')).toBe(false);
  });

  it('refuses a well-formed file whose plan is malformed even with a matching checksum', () => {
    const withBadChange = { ...plan, changes: [{ ...plan.changes[0], kind: 'Nope' }] };
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
    const text = serializePlanFile(withBadChange as any);
    expect(code(() => parsePlanFile(text))).toBe('PLAN');
  });

  it('does not save plans with errors', () => {
    const bad = planChanges(
      [desired('Skill', 's')],
      [live('Skill', 's', { project: 'other' })],
      planOptions(),
    );
    expect(code(() => serializePlanFile(bad))).toBe('PLAN');
  });

  it('never writes a plaintext secret, and refuses to apply a plan that needed one', () => {
    const env = desired('Environment', 'prod', {
      spec: { data: { TOKEN: { value: 'plain-s3cret', isSecret: true }, REGION: { value: 'eu' } } },
    });
    const text = serializePlanFile(planChanges([env], [], planOptions()));
    expect(text).not.toContain('plain-s3cret');
    expect(text).toContain('"REGION"');
    let error: unknown;
    try {
      parsePlanFile(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StigmerError);
    expect((error as StigmerError).code).toBe('SECRET');
    expect((error as StigmerError).message).toContain('Environment/prod: TOKEN');
    expect((error as StigmerError).hint).toContain('valueFrom');
  });

  it('keeps sealed secrets (ciphertext and hash) and valueFrom references, which are safe to store', () => {
    const env = desired('Environment', 'prod', {
      spec: {
        data: {
          TOKEN: {
            isSecret: true,
            valueFrom: { env: 'TOKEN' },
            sealed: { hash: 'hmac-sha256:ab', ciphertext: 'v1:k:iv:ct' },
          },
        },
      },
    });
    const plan = planChanges([env], [], planOptions());
    const back = parsePlanFile(serializePlanFile(plan));
    expect(back.changes[0]?.write?.spec).toEqual(env.spec);
  });
});
