import { describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import { SecretKey } from '../secrets/key.js';
import { planChanges } from './plan.js';
import {
  looksLikePlanFile,
  PLAN_FILE_FORMAT,
  parsePlanFile,
  programVersion,
  serializePlanFile,
} from './plan-file.js';
import { desired, live, liveFrom, planOptions } from './testing.js';
import type { Plan } from './types.js';

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return err instanceof StigmerError ? err.code : `not a StigmerError: ${String(err)}`;
  }
  return undefined;
};

const key = SecretKey.fromBytes(new Uint8Array(32).fill(1));
const otherKey = SecretKey.fromBytes(new Uint8Array(32).fill(2));
const save = (p: Parameters<typeof serializePlanFile>[0]) => serializePlanFile(p, { key });
const read = (text: string, k: SecretKey = key) => parsePlanFile(text, { key: k });
const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '(no error)';
};

describe('saved plan files', () => {
  const plan = planChanges(
    [desired('Agent', 'a', { labels: { x: 'y' } }), desired('Skill', 'same')],
    [liveFrom(desired('Skill', 'same'), 'demo', 3), live('Skill', 'gone', { version: 2 })],
    planOptions(),
  );

  it('round-trips the plan with write and observed, and records marker, version, key id and MAC', () => {
    const text = save(plan);
    const doc = JSON.parse(text);
    expect(doc.format).toBe(PLAN_FILE_FORMAT);
    expect(doc.formatVersion).toBe(2);
    expect(doc.stigmerVersion).toBe(programVersion());
    expect(programVersion()).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.keyId).toBe(key.keyId);
    expect(doc.mac).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    const back = read(text);
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
    const text = save(plan);
    expect(code(() => read(text.replace('"x": "y"', '"x": "z"')))).toBe('PLAN');
    expect(code(() => read(text.slice(0, text.length / 2)))).toBe('PLAN');
    expect(code(() => read('apiVersion: agentic.stigmer.ai/v1\nkind: Agent\n'))).toBe('PLAN');
    expect(code(() => read('{"format": "terraform"}'))).toBe('PLAN');
    expect(code(() => read('null'))).toBe('PLAN');
    const future = JSON.parse(text);
    future.formatVersion = 99;
    expect(code(() => read(JSON.stringify(future)))).toBe('PLAN');
    expect(looksLikePlanFile('kind: Agent')).toBe(false);
    expect(looksLikePlanFile('{"format": "x"}')).toBe(false);
  });

  it('refuses a file whose MAC was recomputed without the key (a plain checksum proves nothing)', () => {
    const doc = JSON.parse(save(plan));
    doc.plan.changes[0].write.labels.x = 'tampered';
    doc.plan.changes[0].after.metadata.labels.x = 'tampered';
    // An attacker without the key can only guess: any MAC they compute is refused.
    doc.mac = `hmac-sha256:${'0'.repeat(64)}`;
    expect(message(() => read(JSON.stringify(doc)))).toBe(
      'saved plan failed authentication: it was changed after it was saved; nothing was applied',
    );
    // A MAC made with another key, under our key id or its own, is refused too.
    const forged = JSON.parse(serializePlanFile(plan, { key: otherKey }));
    expect(code(() => read(JSON.stringify({ ...forged, keyId: key.keyId })))).toBe('PLAN');
    expect(message(() => read(JSON.stringify(forged)))).toContain(
      `saved plan was made with secret key ${otherKey.keyId}, but this machine's key is ${key.keyId}`,
    );
  });

  it('refuses a change to any byte of a change, the project or the observed versions', () => {
    const text = save(plan);
    const edits: Array<(doc: { plan: Plan }) => void> = [
      (d) => {
        d.plan.project = 'other';
      },
      (d) => {
        (d.plan.observed[0] as { version: number | null }).version = 99;
      },
      (d) => {
        d.plan.changes[0]!.write!.annotations['stigmer.ai/project'] = 'other';
      },
      (d) => {
        d.plan.changes[0]!.expectedVersion = 7;
      },
      (d) => {
        d.plan.changes.pop();
      },
    ];
    for (const edit of edits) {
      const doc = JSON.parse(text);
      edit(doc);
      expect(code(() => read(JSON.stringify(doc)))).toBe('PLAN');
    }
    // Whitespace and key order are not part of what is authenticated.
    expect(read(JSON.stringify(JSON.parse(text)))).toEqual(plan);
    expect(read(text, SecretKey.fromBytes(new Uint8Array(32).fill(1)))).toEqual(plan);
  });

  it('refuses a well-formed file whose plan is malformed even with a valid MAC', () => {
    const withBadChange = { ...plan, changes: [{ ...plan.changes[0], kind: 'Nope' }] };
    // biome-ignore lint/suspicious/noExplicitAny: deliberately malformed input
    const text = save(withBadChange as any);
    expect(code(() => read(text))).toBe('PLAN');
  });

  it('does not save plans with errors', () => {
    const bad = planChanges(
      [desired('Skill', 's')],
      [live('Skill', 's', { project: 'other' })],
      planOptions(),
    );
    expect(code(() => save(bad))).toBe('PLAN');
  });

  it('never writes a plaintext secret, and refuses to apply a plan that needed one', () => {
    const env = desired('Environment', 'prod', {
      spec: { data: { TOKEN: { value: 'plain-s3cret', isSecret: true }, REGION: { value: 'eu' } } },
    });
    const text = save(planChanges([env], [], planOptions()));
    expect(text).not.toContain('plain-s3cret');
    expect(text).toContain('"REGION"');
    let error: unknown;
    try {
      read(text);
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
    const back = read(save(plan));
    expect(back.changes[0]?.write?.spec).toEqual(env.spec);
  });
});
