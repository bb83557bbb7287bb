/**
 * `stigmer rollback KIND NAME --to VERSION` through the real CLI process on the default stack:
 * restores an earlier version as a plan that is shown, confirmed and stale-checked, is
 * recorded in history, and leaves the manifests' version as drift for the next plan.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeStack, STACK_FRAME } from './stack.js';

describe('stigmer rollback', () => {
  const stack = makeStack({ withDefaultStack: true });
  afterAll(() => stack.cleanup());
  const v1 = () => stack.row('Agent', 'support-bot')!.spec.instructions as string;
  let original: string;

  beforeAll(async () => {
    const first = await stack.run(['apply', '--auto-approve']);
    expect(first.code, first.stderr).toBe(0);
    original = v1();
    const file = 'manifests/agents/support-bot.yaml';
    stack.write(file, stack.read(file).replace('a helpful customer', 'a cheerful customer'));
    const second = await stack.run(['apply', '--auto-approve']);
    expect(second.code, second.stderr).toBe(0);
    expect(stack.row('Agent', 'support-bot')!.version).toBe(2);
  });

  it('refuses without a terminal or --auto-approve, and changes nothing', async () => {
    const before = stack.snapshot();
    const r = await stack.run(['rollback', 'agent', 'support-bot', '--to', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('~ Agent/support-bot will be updated in-place');
    expect(r.stderr).toContain('rollback needs confirmation, but standard input is not a terminal');
    expect(stack.snapshot()).toBe(before);
  });

  it('restores version 1, records it in history, and the next plan shows the manifests as drift', async () => {
    const r = await stack.run(['rollback', 'agents', 'support-bot', '--to', '1', '--auto-approve']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('- You are a cheerful customer support agent');
    expect(r.stdout).toContain('+ You are a helpful customer support agent');
    expect(r.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
    const row = stack.row('Agent', 'support-bot')!;
    expect(row.version).toBe(3);
    expect(row.spec.instructions).toBe(original);
    expect(row.annotations['stigmer.ai/project']).toBe('default');

    const history = await stack.run(['history', 'agent', 'support-bot']);
    expect(history.stdout).toMatch(/^3\s+update\s+\S+\s+rollback of Agent\/support-bot to version 1$/m);

    const plan = await stack.run(['plan', '--json']);
    const changes = JSON.parse(plan.stdout).changes;
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ kind: 'Agent', name: 'support-bot', action: 'update', drift: true });
    const text = await stack.run(['plan']);
    expect(text.stdout).toContain(
      'Agent/support-bot will be updated in-place (drift: changed outside Stigmer)',
    );
  });

  it('saves a rollback plan with --out that apply executes, or refuses as stale', async () => {
    const saved = await stack.run(['rollback', 'agent', 'support-bot', '--to', '2', '--out', 'back.plan']);
    expect(saved.code, saved.stderr).toBe(0);
    expect(saved.stdout).toContain('Saved the plan to: back.plan');
    expect(stack.row('Agent', 'support-bot')!.version).toBe(3);
    const applied = await stack.run(['apply', 'back.plan', '--auto-approve']);
    expect(applied.code, applied.stderr).toBe(0);
    expect(stack.row('Agent', 'support-bot')!.spec.instructions).toContain('a cheerful customer');
    const history = await stack.run(['history', 'agent', 'support-bot']);
    expect(history.stdout).toMatch(/^4\s+update\s+\S+\s+rollback of Agent\/support-bot to version 2$/m);

    const stale = await stack.run(['rollback', 'agent', 'support-bot', '--to', '1', '--out', 'stale.plan']);
    expect(stale.code, stale.stderr).toBe(0);
    // The same rollback applied directly moves the resource on: the saved one is now stale.
    const moved = await stack.run(['rollback', 'agent', 'support-bot', '--to', '1', '--auto-approve']);
    expect(moved.code, moved.stderr).toBe(0);
    const before = stack.snapshot();
    const refused = await stack.run(['apply', 'stale.plan', '--auto-approve']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('saved plan is stale');
    expect(stack.snapshot()).toBe(before);
  });

  it('refuses a version whose references no longer exist, and unknown versions, as one clear line', async () => {
    // Version 1 of the code reviewer used the skill; the skill is then removed everywhere (this
    // apply also restores support-bot from the manifests: version 6).
    const file = 'manifests/agents/code-reviewer.yaml';
    stack.write(file, stack.read(file).replace(/ {2}skillRefs:\n(\s+- .*\n)+/, ''));
    stack.remove('manifests/skills');
    const removed = await stack.run(['apply', '--auto-approve']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(stack.row('Skill', 'code-review-guidelines')).toBeUndefined();
    const before = stack.snapshot();
    const r = await stack.run(['rollback', 'agent', 'code-reviewer', '--to', '1', '--auto-approve']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Error: version 1 of Agent/code-reviewer references Skill/code-review-guidelines, which no longer exists; nothing was planned',
    );
    expect(r.stderr).not.toMatch(STACK_FRAME);
    expect(stack.snapshot()).toBe(before);

    const unknown = await stack.run(['rollback', 'agent', 'support-bot', '--to', '99', '--auto-approve']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /^Error: Agent\/support-bot has no version 99 \(versions: 1, 2, 3, 4, 5, 6\)$/m,
    );
  });
});
