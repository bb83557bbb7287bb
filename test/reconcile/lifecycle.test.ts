/**
 * The default stack's life as a new user lives it, through the real CLI process and a real
 * SQLite file: plan, apply, plan again (empty), edit one field (one update naming that field,
 * in the DESIGN.md §5 JSON shape), remove a manifest (one delete; none with --prune=false or
 * --no-prune), another project's resources left alone, a same-name resource of another
 * project refused, confirmation refused without a TTY, and --message kept in history —
 * on the local backend and on the cloud backend against a real `stigmer server` process.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { agentYaml, BACKENDS, DEFAULT_STACK, makeStack } from './stack.js';

describe.each(BACKENDS)('%s backend', (backend) => {
  const stack = makeStack({ withDefaultStack: true, backend });
  afterAll(() => stack.cleanup());

  const names = () =>
    stack
      .rows()
      .map((r) => `${r.kind}/${r.name}`)
      .sort();

  describe('default stack: plan, apply, plan again', () => {
    it('plans nine creates (exit 2 with --detailed-exitcode) and writes nothing', async () => {
      const r = await stack.run(['plan', '--detailed-exitcode']);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toContain('Plan: 9 to add, 0 to change, 0 to destroy.');
      expect(r.stdout).toContain('+ Agent/support-bot will be created');
      expect(stack.rows()).toEqual([]);
    });

    it('apply without --auto-approve and no TTY refuses with exit 1 and changes nothing', async () => {
      const r = await stack.run(['apply']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('standard input is not a terminal');
      expect(r.stderr).toContain('--auto-approve');
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(stack.rows()).toEqual([]);
      expect(stack.historyCount()).toBe(0);
    });

    it('apply --auto-approve creates the nine resources, annotated with project and source', async () => {
      const r = await stack.run(['apply', '--auto-approve', '--message', 'first release']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Plan: 9 to add, 0 to change, 0 to destroy.');
      expect(r.stdout).toContain('Apply complete! Resources: 9 added, 0 changed, 0 destroyed.');
      expect(names()).toEqual(DEFAULT_STACK);
      const bot = stack.row('Agent', 'support-bot')!;
      expect(bot.version).toBe(1);
      expect(bot.annotations['stigmer.ai/project']).toBe('default');
      // Relative to the manifest root: the temp directory is not in a git repository.
      expect(bot.annotations['stigmer.ai/source']).toBe('agents/support-bot.yaml:1');
      expect(bot.annotations['stigmer.ai/applied-hash']).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('plans no changes afterwards: exit 0 with --detailed-exitcode, the exact sentence', async () => {
      const r = await stack.run(['plan', '--detailed-exitcode']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('No changes. Your resources match the manifests.');
      // Nothing to apply needs no confirmation, so no terminal is needed either.
      const again = await stack.run(['apply']);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toContain('No changes. Your resources match the manifests.');
      expect(stack.row('Agent', 'support-bot')!.version).toBe(1);
    });

    it('get -o json shows what apply wrote', async () => {
      const r = await stack.run(['get', 'agent', 'support-bot', '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const agent = JSON.parse(r.stdout);
      expect(agent.metadata.name).toBe('support-bot');
      expect(agent.spec.config.temperature).toBe('0.7');
    });

    it('records --message in stigmer history', async () => {
      const r = await stack.run(['history', 'agent', 'support-bot']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^1\s+create\s+\S+\s+first release$/m);
    });
  });

  describe('editing one field', () => {
    it('plans exactly one update whose patch names that field, in the §5 JSON shape', async () => {
      const file = 'manifests/agents/support-bot.yaml';
      stack.write(file, stack.read(file).replace('temperature: "0.7"', 'temperature: "0.5"'));
      const r = await stack.run(['plan', '--json', '--detailed-exitcode']);
      expect(r.code, r.stderr).toBe(2);
      const plan = JSON.parse(r.stdout);
      expect(Object.keys(plan)).toEqual([
        'formatVersion',
        'project',
        'backend',
        'summary',
        'changes',
        'diagnostics',
      ]);
      expect(plan.formatVersion).toBe(1);
      expect(plan.project).toBe('default');
      expect(plan.backend).toEqual(await stack.backendInfo());
      expect(plan.summary).toEqual({ create: 0, update: 1, delete: 0, noop: 8 });
      expect(plan.diagnostics.filter((d: { severity: string }) => d.severity === 'error')).toEqual([]);
      expect(plan.changes).toHaveLength(1);
      const [change] = plan.changes;
      expect(Object.keys(change).sort()).toEqual(
        [
          'action',
          'after',
          'before',
          'drift',
          'expectedVersion',
          'kind',
          'name',
          'patch',
          'source',
          'usedBy',
        ].sort(),
      );
      expect(change).toMatchObject({
        action: 'update',
        kind: 'Agent',
        name: 'support-bot',
        source: 'agents/support-bot.yaml:1',
        usedBy: [],
        expectedVersion: 1,
        drift: false,
        patch: [{ op: 'replace', path: '/spec/config/temperature', value: '0.5' }],
      });
      expect(change.before.spec.config.temperature).toBe('0.7');
      expect(change.after.spec.config.temperature).toBe('0.5');
      expect(Object.keys(change.after)).toEqual(['metadata', 'spec']);
    });

    it('the text plan shows the field change and the summary line word for word', async () => {
      const r = await stack.run(['plan']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('~ Agent/support-bot will be updated in-place');
      expect(r.stdout).toMatch(/~ spec\.config\.temperature = "0\.7" -> "0\.5"/);
      expect(r.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');
    });

    it('apply changes only that resource and bumps its version', async () => {
      const before = stack.rows();
      const r = await stack.run(['apply', '--auto-approve', '-m', 'cooler']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
      const after = stack.rows();
      for (const row of after) {
        const old = before.find((b) => b.kind === row.kind && b.name === row.name)!;
        if (row.name === 'support-bot') {
          expect(row.version).toBe(2);
          expect(row.spec).toMatchObject({ config: { temperature: '0.5' } });
        } else expect(row).toEqual(old);
      }
      const history = await stack.run(['history', 'agent', 'support-bot']);
      expect(history.stdout).toMatch(/^2\s+update\s+\S+\s+cooler$/m);
    });
  });

  describe('other projects', () => {
    const other = makeStack({ home: stack.home, backend });
    afterAll(() => other.cleanup());

    it('applies a second project into the same database without touching the first', async () => {
      other.write('manifests/helper.yaml', agentYaml('helper-bot'));
      const before = stack.rows();
      const r = await other.run(['apply', '--project', 'other', '--auto-approve']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
      expect(r.stdout).not.toContain('will be destroyed');
      const helper = stack.row('Agent', 'helper-bot')!;
      expect(helper.annotations['stigmer.ai/project']).toBe('other');
      expect(stack.rows().filter((x) => x.name !== 'helper-bot')).toEqual(before);
    });

    it('a same-name resource owned by another project is an error (exit 1, file:line), nothing written', async () => {
      other.write('manifests/bot.yaml', agentYaml('support-bot'));
      const before = stack.snapshot();
      const r = await other.run(['apply', '--project', 'other', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'manifests/bot.yaml:1:1: Agent/support-bot is owned by project "default", not "other"',
      );
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(stack.snapshot()).toBe(before);
      const plan = await other.run(['plan', '--project', 'other', '--detailed-exitcode']);
      expect(plan.code).toBe(1);
      other.remove('manifests/bot.yaml');
    });
  });

  describe('removing a manifest', () => {
    it('plans one delete, and none with --prune=false or --no-prune', async () => {
      stack.remove('manifests/agents/support-bot.yaml');
      const pruning = await stack.run(['plan', '--json']);
      expect(pruning.code, pruning.stderr).toBe(0);
      const plan = JSON.parse(pruning.stdout);
      expect(plan.summary).toEqual({ create: 0, update: 0, delete: 1, noop: 8 });
      expect(plan.changes).toHaveLength(1);
      expect(plan.changes[0]).toMatchObject({
        action: 'delete',
        kind: 'Agent',
        name: 'support-bot',
        expectedVersion: 2,
        after: null,
      });
      const text = await stack.run(['plan']);
      expect(text.stdout).toContain('- Agent/support-bot will be destroyed');
      expect(text.stdout).toContain('Plan: 0 to add, 0 to change, 1 to destroy.');
      expect(text.stdout).not.toContain('helper-bot');

      for (const flag of ['--prune=false', '--no-prune']) {
        const r = await stack.run(['plan', flag, '--detailed-exitcode']);
        expect(r.code, `${flag}: ${r.stderr}`).toBe(0);
        expect(r.stdout.trim()).toBe('No changes. Your resources match the manifests.');
      }
    });

    it('refuses to prune a resource that a remaining manifest still references', async () => {
      const file = 'manifests/agents/code-reviewer.yaml';
      const text = stack.read(file);
      stack.remove(file);
      const before = stack.snapshot();
      const r = await stack.run(['apply', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /^manifests\/workflows\/pr-review\.yaml:\d+:\d+: Agent\/code-reviewer would be destroyed, but Workflow\/pr-review-workflow still references it$/m,
      );
      expect(stack.snapshot()).toBe(before);
      stack.write(file, text);
    });

    it('apply --prune=false keeps it; apply deletes only it, never the other project', async () => {
      const kept = await stack.run(['apply', '--prune=false', '--auto-approve']);
      expect(kept.code, kept.stderr).toBe(0);
      expect(stack.row('Agent', 'support-bot')).toBeDefined();

      const r = await stack.run(['apply', '--auto-approve', '--prune=true']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 0 added, 0 changed, 1 destroyed.');
      expect(stack.row('Agent', 'support-bot')).toBeUndefined();
      expect(stack.row('Agent', 'helper-bot')?.annotations['stigmer.ai/project']).toBe('other');
      expect(names()).toHaveLength(DEFAULT_STACK.length);
      const history = await stack.run(['history', 'agent', 'support-bot']);
      // A delete is recorded with the version the resource had when it was deleted.
      expect(history.stdout).toMatch(/^2\s+delete\s/m);
    });
  });
});
