/**
 * Plan review through the real CLI process (issue #16): the blast radius (`# used by:`,
 * `usedBy`), `--compact`, a failing plan's error printed once, `stigmer.ai/source` relative to
 * the git top level whatever the working directory, and shell completion.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentYaml, makeStack } from './stack.js';

describe('plan review on the default stack', () => {
  const stack = makeStack({ withDefaultStack: true });
  afterAll(() => stack.cleanup());

  beforeAll(async () => {
    const r = await stack.run(['apply', '--auto-approve']);
    expect(r.code, r.stderr).toBe(0);
    const file = 'manifests/agents/code-reviewer.yaml';
    stack.write(
      file,
      stack.read(file).replace('You are a senior engineer', 'You are a careful senior engineer'),
    );
  });

  it('lists who uses a changed agent in text and JSON', async () => {
    const text = await stack.run(['plan']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /~ Agent\/code-reviewer will be updated in-place\n\s+# source: \S+code-reviewer\.yaml:\d+\n\s+# used by: Workflow\/pr-review-workflow\n/,
    );
    const json = JSON.parse((await stack.run(['plan', '--json'])).stdout);
    expect(json.changes).toMatchObject([
      { kind: 'Agent', name: 'code-reviewer', usedBy: ['Workflow/pr-review-workflow'] },
    ]);
  });

  it('--compact prints one line per changed resource and the summary, for plan and apply', async () => {
    const plan = await stack.run(['plan', '--compact']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toBe(
      'Stigmer will perform the following actions:\n\n  ~ Agent/code-reviewer (1 field)\n\nPlan: 0 to add, 1 to change, 0 to destroy.\n',
    );
    const apply = await stack.run(['apply', '--compact', '--auto-approve']);
    expect(apply.code, apply.stderr).toBe(0);
    expect(apply.stdout).toContain('  ~ Agent/code-reviewer (1 field)\n');
    expect(apply.stdout).not.toContain('# source:');
    expect(apply.stdout).toContain('Apply complete! Resources: 0 added, 1 changed, 0 destroyed.');
  });

  it('prints the error of a plan that cannot be applied once, with its hint, after the plan', async () => {
    stack.remove('manifests/skills');
    for (const [args, last] of [
      [['plan'], 'Plan failed: 1 error; nothing can be applied.'],
      [['apply', '--auto-approve'], 'Plan failed: 1 error; nothing was applied.'],
    ] as const) {
      const before = stack.snapshot();
      const r = await stack.run([...args]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('- Skill/code-review-guidelines will be destroyed');
      expect(r.stdout.trimEnd().split('\n').at(-1)).toBe(last);
      const all = r.stdout + r.stderr;
      const message =
        'Skill/code-review-guidelines would be destroyed, but Agent/code-reviewer still references it';
      expect(all.split(message)).toHaveLength(2);
      expect(r.stderr).toContain('hint: keep Skill/code-review-guidelines in the manifests');
      expect(r.stdout).not.toContain('Error:');
      expect(stack.snapshot()).toBe(before);
    }
  });
});

describe('stigmer.ai/source', () => {
  it('is the path from the git top level, the same from the repository and from elsewhere', async () => {
    const stack = makeStack();
    try {
      mkdirSync(join(stack.dir, 'repo', '.git'), { recursive: true });
      stack.write('repo/deploy/manifests/stigmer.yaml', 'project: demo\n');
      stack.write('repo/deploy/manifests/agents/bot.yaml', agentYaml('bot'));
      const fromRepo = await stack.run(['plan', 'deploy/manifests', '--json'], {
        cwd: join(stack.dir, 'repo'),
      });
      expect(JSON.parse(fromRepo.stdout).changes[0].source).toBe('deploy/manifests/agents/bot.yaml:1');
      mkdirSync(join(stack.dir, 'elsewhere', 'deep'), { recursive: true });
      const r = await stack.run(['apply', '../../repo/deploy/manifests', '--auto-approve'], {
        cwd: join(stack.dir, 'elsewhere', 'deep'),
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('# source: deploy/manifests/agents/bot.yaml:1');
      expect(stack.row('Agent', 'bot')!.annotations['stigmer.ai/source']).toBe(
        'deploy/manifests/agents/bot.yaml:1',
      );
    } finally {
      stack.cleanup();
    }
  });
});

describe('shell completion', () => {
  it('generates bash and zsh completion of commands and flags', async () => {
    const stack = makeStack();
    try {
      const cache = join(stack.dir, 'cache');
      const r = await stack.run(['autocomplete', 'bash'], { env: { XDG_CACHE_HOME: cache } });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('stigmer autocomplete script bash');
      const functions = join(cache, 'stigmer', 'autocomplete', 'functions');
      const bash = readFileSync(join(functions, 'bash', 'stigmer.bash'), 'utf8');
      expect(bash).toMatch(/^rollback --backend .*--to .*--out /m);
      expect(bash).toMatch(/^plan .*--compact/m);
      const zsh = readFileSync(join(functions, 'zsh', '_stigmer'), 'utf8');
      expect(zsh).toContain(
        '"rollback[Restore a resource to an earlier version of its history, as a reviewed plan.]"',
      );
      expect(zsh).toContain('output options:(table yaml json)');
    } finally {
      stack.cleanup();
    }
  });
});
