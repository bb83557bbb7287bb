/**
 * Saved plans (`plan --out FILE`, `apply FILE`) through the real CLI process: a fresh plan
 * applies exactly what it showed; a plan overtaken by someone else's apply — including one
 * made on an empty state when someone else then creates one of its resources — is refused as
 * stale with exit 1 and changes nothing.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { agentYaml, BACKENDS, makeStack } from './stack.js';

describe.each(BACKENDS)('%s backend', (backend) => {
  describe('a saved plan', () => {
    const stack = makeStack({ backend });
    afterAll(() => stack.cleanup());
    const planFile = () => join(stack.dir, 'release.plan');

    it('plan --out writes the file (owner-only) and says how to apply it; nothing is applied', async () => {
      stack.write('manifests/stigmer.yaml', 'project: demo\n');
      stack.write('manifests/a.yaml', agentYaml('alpha'));
      stack.write('manifests/b.yaml', agentYaml('beta'));
      const r = await stack.run(['plan', '--out', 'release.plan']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
      expect(r.stdout).toContain('Saved the plan to: release.plan');
      expect(r.stdout).toContain('stigmer apply release.plan');
      expect(existsSync(planFile())).toBe(true);
      expect(statSync(planFile()).mode & 0o777).toBe(0o600);
      expect(stack.rows()).toEqual([]);
    });

    it('apply PLANFILE without --auto-approve and no TTY refuses and changes nothing', async () => {
      const r = await stack.run(['apply', 'release.plan']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('standard input is not a terminal');
      expect(stack.rows()).toEqual([]);
    });

    it('apply PLANFILE --auto-approve applies it when fresh, even after the manifests changed', async () => {
      // A saved plan is what gets applied, not the manifests as they are now.
      stack.write('manifests/c.yaml', agentYaml('gamma'));
      const r = await stack.run(['apply', 'release.plan', '--auto-approve', '--message', 'from plan']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 2 added, 0 changed, 0 destroyed.');
      expect(stack.rows().map((x) => x.name)).toEqual(['alpha', 'beta']);
      const history = await stack.run(['history', 'agent', 'alpha']);
      expect(history.stdout).toMatch(/^1\s+create\s+\S+\s+from plan$/m);
      stack.remove('manifests/c.yaml');
    });

    it('is refused as stale after someone else applied, and changes nothing', async () => {
      stack.write('manifests/a.yaml', agentYaml('alpha', 'You help users with billing questions.'));
      const saved = await stack.run(['plan', '--out', 'release.plan']);
      expect(saved.stdout).toContain('Plan: 0 to add, 1 to change, 0 to destroy.');

      // A colleague applies their own edit of beta from another checkout of the same project.
      const colleague = makeStack({ home: stack.home, backend });
      try {
        colleague.write('manifests/stigmer.yaml', 'project: demo\n');
        colleague.write('manifests/a.yaml', agentYaml('alpha'));
        colleague.write('manifests/b.yaml', agentYaml('beta', 'You help users with beta features.'));
        const theirs = await colleague.run(['apply', '--auto-approve']);
        expect(theirs.code, theirs.stderr).toBe(0);
      } finally {
        await colleague.cleanup();
      }
      const before = stack.snapshot();
      const r = await stack.run(['apply', 'release.plan', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('saved plan is stale');
      expect(r.stderr).toContain('Agent/beta');
      expect(r.stderr).toContain('stigmer plan');
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stdout).not.toContain('Apply complete!');
      expect(stack.snapshot()).toBe(before);
      expect(stack.row('Agent', 'alpha')!.spec.instructions).toBe('You help users with their questions.');
    });

    it('a no-change plan is stale too once a resource it looked at moved on', async () => {
      stack.write('manifests/a.yaml', agentYaml('alpha'));
      stack.write('manifests/b.yaml', agentYaml('beta', 'You help users with beta features.'));
      const saved = await stack.run(['plan', '--out', 'release.plan', '--detailed-exitcode']);
      expect(saved.code, saved.stdout).toBe(0);
      const before = stack.snapshot();
      stack.write('manifests/b.yaml', agentYaml('beta', 'You help users with the beta programme.'));
      expect((await stack.run(['apply', '--auto-approve'])).code).toBe(0);
      const moved = stack.snapshot();
      expect(moved).not.toBe(before);
      const r = await stack.run(['apply', 'release.plan', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('saved plan is stale');
      expect(stack.snapshot()).toBe(moved);
    });
  });

  describe('a saved plan made on an empty state', () => {
    const stack = makeStack({ backend });
    afterAll(() => stack.cleanup());

    it('is refused as stale when someone else creates one of its resources, and changes nothing', async () => {
      stack.write('manifests/stigmer.yaml', 'project: demo\n');
      stack.write('manifests/a.yaml', agentYaml('alpha'));
      stack.write('manifests/b.yaml', agentYaml('beta'));
      const saved = await stack.run(['plan', '--out', 'empty.plan']);
      expect(saved.code, saved.stderr).toBe(0);
      expect(saved.stdout).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');

      // Someone else creates beta (same content, another project) before the plan is applied.
      const other = makeStack({ home: stack.home, backend });
      try {
        other.write('manifests/b.yaml', agentYaml('beta'));
        const theirs = await other.run(['apply', '--project', 'other', '--auto-approve']);
        expect(theirs.code, theirs.stderr).toBe(0);
      } finally {
        await other.cleanup();
      }
      const before = stack.snapshot();
      const r = await stack.run(['apply', 'empty.plan', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('saved plan is stale');
      expect(r.stderr).toContain('Agent/beta');
      expect(stack.snapshot()).toBe(before);
      expect(stack.row('Agent', 'alpha')).toBeUndefined();
      expect(stack.row('Agent', 'beta')!.annotations['stigmer.ai/project']).toBe('other');
    });

    it('is refused against another backend or database', async () => {
      stack.write('manifests/a.yaml', agentYaml('alpha'));
      stack.remove('manifests/b.yaml');
      expect((await stack.run(['plan', '--out', 'mine.plan'])).code).toBe(0);
      const elsewhere = join(stack.dir, 'elsewhere.db');
      const r = await stack.run([
        'apply',
        'mine.plan',
        '--auto-approve',
        '--backend',
        'local',
        '--db',
        elsewhere,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`saved plan was made against the ${backend} backend at`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });

    it('flags that would change a saved plan are refused, naming them', async () => {
      for (const flags of [['--project', 'other'], ['--no-prune'], ['--prune=false'], ['--allow-empty']]) {
        const r = await stack.run(['apply', 'mine.plan', '--auto-approve', ...flags]);
        expect(r.code, flags.join(' ')).toBe(1);
        expect(r.stderr).toContain(`${flags[0]!.replace('=false', '')}`);
        expect(r.stderr).toContain('cannot be used when applying a saved plan');
      }
      expect(stack.row('Agent', 'alpha')).toBeUndefined();
    });

    it('the output of plan --json is not a saved plan, and apply says so', async () => {
      const json = await stack.run(['plan', '--json']);
      stack.write('plan.json', json.stdout);
      const r = await stack.run(['apply', 'plan.json', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is the JSON output of `stigmer plan --json`, not a saved plan');
      expect(r.stderr).toContain('stigmer plan --out FILE');
      expect(stack.row('Agent', 'alpha')).toBeUndefined();
    });

    it('a file that is not a plan is not mistaken for one', async () => {
      stack.write('fake.plan', '{"format": "something-else"}\n');
      const r = await stack.run(['apply', 'fake.plan', '--auto-approve']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('is not a stigmer plan file');
      expect(r.stderr).not.toMatch(/^\s+at /m);
    });
  });
});
