/**
 * Ownership and safety rules of DESIGN.md §4, through the real CLI process: adoption of an
 * unowned resource, stigmer.ai/prevent-destroy blocking a prune, stigmer.ai/prune: disabled
 * releasing a resource, the empty-set guard with --allow-empty, and drift (a live resource
 * changed outside Stigmer is reported and restored). Live changes are made through the local
 * backend library, as another tool would.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openLocalBackend } from '../../src/backend/local/index.js';
import { agentYaml, BACKENDS, makeStack } from './stack.js';

/** Writes through the library, like a tool other than Stigmer would. */
async function withBackend<T>(
  db: string,
  fn: (b: Awaited<ReturnType<typeof openLocalBackend>>) => Promise<T>,
) {
  const backend = await openLocalBackend({ path: db });
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

describe.each(BACKENDS)('%s backend', (backend) => {
  describe('adoption of an unowned resource', () => {
    const stack = makeStack({ backend });
    afterAll(() => stack.cleanup());

    it('is shown as adopted, then annotated with the project; a second plan is empty', async () => {
      await withBackend(stack.db, (b) =>
        b.applyChanges([
          {
            op: 'create',
            kind: 'Agent',
            name: 'helper',
            labels: {},
            annotations: {},
            spec: { instructions: 'You help users with their questions.' },
          },
        ]),
      );
      stack.write('manifests/stigmer.yaml', 'project: demo\n');
      stack.write('manifests/helper.yaml', agentYaml('helper'));

      const json = await stack.run(['plan', '--json']);
      expect(json.code, json.stderr).toBe(0);
      const plan = JSON.parse(json.stdout);
      expect(plan.summary).toEqual({ create: 0, update: 1, delete: 0, noop: 0 });
      expect(plan.changes[0]).toMatchObject({ action: 'update', name: 'helper', reason: 'adopt', patch: [] });

      const text = await stack.run(['plan']);
      expect(text.stdout).toContain('~ Agent/helper will be updated in-place (adopted)');
      expect(text.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');

      const r = await stack.run(['apply', '--auto-approve']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
      const row = stack.row('Agent', 'helper')!;
      expect(row.version).toBe(2);
      expect(row.annotations['stigmer.ai/project']).toBe('demo');
      expect(row.annotations['stigmer.ai/source']).toBe('helper.yaml:1');

      const again = await stack.run(['plan', '--detailed-exitcode']);
      expect(again.code, again.stdout).toBe(0);
    });

    it('an unowned resource missing from the manifests is never deleted', async () => {
      await withBackend(stack.db, (b) =>
        b.applyChanges([
          {
            op: 'create',
            kind: 'Agent',
            name: 'stray',
            labels: {},
            annotations: {},
            spec: { instructions: 'Nobody manages this agent.' },
          },
        ]),
      );
      const r = await stack.run(['apply', '--auto-approve']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('No changes. Your resources match the manifests.');
      expect(stack.row('Agent', 'stray')).toBeDefined();
    });
  });

  describe('prune safety', () => {
    const stack = makeStack({ backend });
    afterAll(() => stack.cleanup());

    it('applies three agents, two of them carrying the safety annotations', async () => {
      stack.write('manifests/stigmer.yaml', 'project: demo\n');
      stack.write('manifests/keep.yaml', agentYaml('keep'));
      stack.write(
        'manifests/guarded.yaml',
        agentYaml('guarded', undefined, '  annotations:\n    stigmer.ai/prevent-destroy: "true"'),
      );
      stack.write(
        'manifests/loose.yaml',
        agentYaml('loose', undefined, '  annotations:\n    stigmer.ai/prune: disabled'),
      );
      const r = await stack.run(['apply', '--auto-approve']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 3 added, 0 changed, 0 destroyed.');
    });

    it('stigmer.ai/prevent-destroy makes a plan that would prune it fail; nothing is written', async () => {
      stack.remove('manifests/guarded.yaml');
      const before = stack.snapshot();
      const plan = await stack.run(['plan', '--detailed-exitcode']);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain(
        'Agent/guarded has stigmer.ai/prevent-destroy: "true" and this plan would destroy it',
      );
      // Where it was last applied from: its stigmer.ai/source, relative to the manifest root.
      expect(plan.stderr).toContain('guarded.yaml:1:1: Agent/guarded');
      const apply = await stack.run(['apply', '--auto-approve']);
      expect(apply.code).toBe(1);
      expect(apply.stderr).not.toMatch(/^\s+at /m);
      expect(stack.snapshot()).toBe(before);
      // Without pruning the plan is fine: the guard concerns deletes only.
      const kept = await stack.run(['plan', '--no-prune', '--detailed-exitcode']);
      expect(kept.code, kept.stderr).toBe(0);
      stack.write(
        'manifests/guarded.yaml',
        agentYaml('guarded', undefined, '  annotations:\n    stigmer.ai/prevent-destroy: "true"'),
      );
    });

    it('stigmer.ai/prune: disabled keeps the resource and drops the project annotation', async () => {
      stack.remove('manifests/loose.yaml');
      const text = await stack.run(['plan']);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain('Agent/loose will be released');
      expect(text.stdout).not.toContain('will be destroyed');
      const r = await stack.run(['apply', '--auto-approve']);
      expect(r.code, r.stderr).toBe(0);
      const row = stack.row('Agent', 'loose')!;
      expect(row).toBeDefined();
      expect(row.annotations['stigmer.ai/project']).toBeUndefined();
      expect(row.spec).toEqual({ instructions: 'You help users with their questions.' });
      // Released: no longer this project's, so later plans leave it alone.
      const again = await stack.run(['plan', '--detailed-exitcode']);
      expect(again.code, again.stdout).toBe(0);
    });

    it('refuses an empty manifest set that would delete everything, unless --allow-empty', async () => {
      stack.remove('manifests/guarded.yaml');
      stack.remove('manifests/keep.yaml');
      const before = stack.snapshot();
      const plan = await stack.run(['plan']);
      expect(plan.code).toBe(1);
      expect(plan.stderr).toContain('would destroy every resource of project "demo"');
      expect(plan.stderr).toContain('--allow-empty');
      const apply = await stack.run(['apply', '--auto-approve']);
      expect(apply.code).toBe(1);
      expect(stack.snapshot()).toBe(before);

      // prevent-destroy still wins over --allow-empty; drop that guard first (a new version of
      // the resource without the annotation), then --allow-empty deletes the project's resources.
      await withBackend(stack.db, async (b) => {
        const live = (await b.getResource('Agent', 'guarded'))!;
        const { 'stigmer.ai/prevent-destroy': _guard, ...annotations } = live.annotations;
        await b.applyChanges([
          {
            op: 'update',
            kind: 'Agent',
            name: 'guarded',
            labels: live.labels,
            annotations,
            spec: live.spec,
            expectedVersion: live.version,
          },
        ]);
      });
      const r = await stack.run(['apply', '--auto-approve', '--allow-empty']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 0 added, 0 changed, 2 destroyed.');
      expect(stack.rows().map((x) => x.name)).toEqual(['loose']);
    });
  });

  describe('drift', () => {
    const stack = makeStack({ backend });
    afterAll(() => stack.cleanup());

    it('a live change made outside Stigmer is reported as drift and the manifest version restored', async () => {
      stack.write('manifests/stigmer.yaml', 'project: demo\n');
      stack.write('manifests/bot.yaml', agentYaml('bot', 'You answer questions about billing.'));
      expect((await stack.run(['apply', '--auto-approve'])).code).toBe(0);

      await withBackend(stack.db, async (b) => {
        const live = (await b.getResource('Agent', 'bot'))!;
        await b.applyChanges([
          {
            op: 'update',
            kind: 'Agent',
            name: 'bot',
            labels: live.labels,
            annotations: live.annotations,
            spec: { ...live.spec, instructions: 'Edited by hand in production.' },
            expectedVersion: live.version,
          },
        ]);
      });

      const json = await stack.run(['plan', '--json', '--detailed-exitcode']);
      expect(json.code, json.stderr).toBe(2);
      const plan = JSON.parse(json.stdout);
      expect(plan.changes).toHaveLength(1);
      expect(plan.changes[0]).toMatchObject({
        action: 'update',
        name: 'bot',
        drift: true,
        expectedVersion: 2,
        patch: [{ op: 'replace', path: '/spec/instructions', value: 'You answer questions about billing.' }],
      });
      const text = await stack.run(['plan']);
      expect(text.stdout).toContain('(drift: changed outside Stigmer)');

      const r = await stack.run(['apply', '--auto-approve']);
      expect(r.code, r.stderr).toBe(0);
      expect(stack.row('Agent', 'bot')!.spec.instructions).toBe('You answer questions about billing.');
      expect((await stack.run(['plan', '--detailed-exitcode'])).code).toBe(0);
    });
  });
});
