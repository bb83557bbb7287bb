/**
 * Where validate/plan/apply read manifests from, through the real CLI process: ./manifests by
 * default (cwd), a DIR argument, repeatable `-f FILE`, `-f -` for standard input; a missing
 * ./manifests is one clear error. And human output carries no ANSI escapes unless forced.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ANSI, agentYaml, makeStack, STACK_FRAME } from './stack.js';

const workflowYaml = (agent: string) =>
  [
    'apiVersion: agentic.stigmer.ai/v1',
    'kind: Workflow',
    'metadata:',
    '  name: flow',
    'spec:',
    '  tasks:',
    '    - name: only',
    `      agent: ${agent}`,
    '',
  ].join('\n');

describe('manifest sources', () => {
  const stack = makeStack();
  afterAll(() => stack.cleanup());

  it('a missing ./manifests is one clear error for validate, plan and apply', async () => {
    for (const args of [['validate'], ['plan'], ['apply', '--auto-approve']]) {
      const r = await stack.run(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toContain('manifest directory "manifests" does not exist');
      expect(r.stderr).toContain('hint:');
      expect(r.stderr).not.toMatch(STACK_FRAME);
    }
    expect(stack.rows()).toEqual([]);
  });

  it('DIR defaults to ./manifests of the working directory', async () => {
    stack.write('manifests/stigmer.yaml', 'project: demo\n');
    stack.write('manifests/agents/bot.yaml', agentYaml('bot'));
    stack.write('manifests/flow.yaml', workflowYaml('bot'));
    const v = await stack.run(['validate']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('Success! 2 resources in 2 files valid.');
    const p = await stack.run(['plan', '--json']);
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout);
    expect(plan.project).toBe('demo');
    // The referenced agent is created before the workflow that calls it.
    expect(plan.changes.map((c: { kind: string; name: string }) => `${c.kind}/${c.name}`)).toEqual([
      'Agent/bot',
      'Workflow/flow',
    ]);
    // Recorded relative to the manifest root (no git repository here), not to the working directory.
    expect(plan.changes[0].source).toBe('agents/bot.yaml:1');
  });

  it('an explicit DIR is read instead', async () => {
    stack.write('elsewhere/one.yaml', agentYaml('elsewhere-bot'));
    const r = await stack.run(['plan', 'elsewhere', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.project).toBe('elsewhere');
    expect(plan.changes.map((c: { name: string }) => c.name)).toEqual(['elsewhere-bot']);
  });

  it('-f FILE is repeatable for validate and plan', async () => {
    stack.write('loose/agent.yaml', agentYaml('bot'));
    stack.write('loose/flow.yaml', workflowYaml('bot'));
    const alone = await stack.run(['validate', '-f', 'loose/flow.yaml']);
    expect(alone.code).toBe(1);
    expect(alone.stderr).toContain('loose/flow.yaml:8:14: Agent "bot" not found');

    const v = await stack.run(['validate', '-f', 'loose/agent.yaml', '-f', 'loose/flow.yaml']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('Success! 2 resources in 2 files valid.');
    const p = await stack.run([
      'plan',
      '-f',
      'loose/agent.yaml',
      '--file',
      'loose/flow.yaml',
      '--project',
      'loose',
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toContain('# source: loose/agent.yaml:1');
    expect(p.stdout).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');
  });

  it('-f - reads standard input for validate and plan, alone or with files', async () => {
    const v = await stack.run(['validate', '-f', '-'], { input: agentYaml('from-stdin') });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toContain('Success! 1 resource in 1 file valid.');

    const p = await stack.run(['plan', '-f', '-', '--project', 'piped', '--json'], {
      input: `${agentYaml('bot')}---\n${workflowYaml('bot')}`,
    });
    expect(p.code, p.stderr).toBe(0);
    const plan = JSON.parse(p.stdout);
    expect(plan.project).toBe('piped');
    expect(plan.changes.map((c: { name: string; source: string }) => `${c.name}@${c.source}`)).toEqual([
      'bot@<stdin>:1',
      'flow@<stdin>:8',
    ]);

    const mixed = await stack.run(['plan', '-f', 'loose/agent.yaml', '-f', '-', '--project', 'mixed'], {
      input: workflowYaml('bot'),
    });
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(mixed.stdout).toContain('Plan: 2 to add, 0 to change, 0 to destroy.');

    const bad = await stack.run(['plan', '-f', '-', '--project', 'piped'], { input: 'kind: [unclosed\n' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^<stdin>:\d+:\d+: /m);
  });

  it('apply reads -f files too, and a DIR together with -f is a usage error', async () => {
    const r = await stack.run(['apply', '-f', 'loose/agent.yaml', '--project', 'loose', '--auto-approve']);
    expect(r.code, r.stderr).toBe(0);
    expect(stack.row('Agent', 'bot')!.annotations['stigmer.ai/source']).toBe('loose/agent.yaml:1');
    const both = await stack.run(['plan', 'manifests', '-f', 'loose/agent.yaml']);
    expect(both.code).toBe(1);
    expect(both.stderr).toContain('give either a directory or -f files, not both');
  });
});

describe('colour', () => {
  const stack = makeStack();
  afterAll(() => stack.cleanup());
  stack.write('manifests/bot.yaml', agentYaml('bot'));

  it('no ANSI escapes when output is not a terminal, with or without NO_COLOR', async () => {
    for (const env of [{ NO_COLOR: '1' }, { NO_COLOR: '' }]) {
      const plan = await stack.run(['plan'], { env });
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
      expect(plan.stdout).not.toMatch(ANSI);
      const bad = await stack.run(['validate', '-f', '-'], { env, input: 'kind: Agnet\n' });
      expect(bad.code).toBe(1);
      expect(bad.stderr).not.toMatch(ANSI);
    }
  });

  it('FORCE_COLOR turns colour on, and NO_COLOR still wins over it', async () => {
    const forced = await stack.run(['plan'], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(forced.stdout).toMatch(ANSI);
    const both = await stack.run(['plan'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    expect(both.stdout).not.toMatch(ANSI);
  });

  it('apply output has no ANSI escapes off a terminal', async () => {
    const r = await stack.run(['apply', '--auto-approve'], { env: { NO_COLOR: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect(r.stdout + r.stderr).not.toMatch(ANSI);
  });
});
