// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are data in these tests
import { describe, expect, it } from 'vitest';
import { checkWorkflow, parseExpression, scanExpressions } from './workflow.js';

type Task = {
  name: string;
  agent?: string;
  dependsOn?: string[];
  inputs?: Record<string, string>;
  outputs?: string[];
};
const wf = (tasks: Task[], inputs: Record<string, { type: string; default?: unknown }> = {}) => ({
  inputs,
  tasks: tasks.map((t) => ({ agent: 'a', ...t })),
});
const msgs = (spec: unknown) => checkWorkflow(spec).map((i) => `${i.path.join('/')}: ${i.message}`);

describe('scanExpressions / parseExpression', () => {
  it('finds every ${...} in a string, trimmed, and an unterminated one', () => {
    expect(scanExpressions('a ${ x.y } b ${z}')).toEqual({
      expressions: [
        { body: 'x.y', index: 2 },
        { body: 'z', index: 13 },
      ],
    });
    expect(scanExpressions('plain text')).toEqual({ expressions: [] });
    expect(scanExpressions('${ok} and ${broken')).toEqual({
      expressions: [{ body: 'ok', index: 0 }],
      unterminated: 10,
    });
  });

  it('knows the three forms and nothing else', () => {
    expect(parseExpression('workflow.inputs.pr_url')).toEqual({ type: 'input', input: 'pr_url' });
    expect(parseExpression('tasks.fetch-pr.outputs.diff')).toEqual({
      type: 'output',
      task: 'fetch-pr',
      output: 'diff',
    });
    expect(parseExpression('tasks.fetch-pr.outputs')).toEqual({
      type: 'output',
      task: 'fetch-pr',
      output: null,
    });
    for (const bad of [
      'workflow.inputs',
      'tasks.t.output.x',
      'tasks.t.outputs.x.y',
      'env.HOME',
      '',
      'workflow.inputs.a b',
    ]) {
      expect(parseExpression(bad), bad).toEqual({ type: 'invalid' });
    }
  });
});

describe('checkWorkflow', () => {
  it('accepts transitive upstream reads and whole-output reads', () => {
    const spec = wf(
      [
        { name: 'a', outputs: ['x'], inputs: { in: '${workflow.inputs.url}' } },
        { name: 'b', dependsOn: ['a'] },
        {
          name: 'c',
          dependsOn: ['b'],
          inputs: { x: '${tasks.a.outputs.x}', all: 'all: ${tasks.a.outputs}' },
        },
      ],
      { url: { type: 'string' } },
    );
    expect(checkWorkflow(spec)).toEqual([]);
  });

  it('reports duplicate task names', () => {
    expect(msgs(wf([{ name: 'a' }, { name: 'a' }]))).toEqual([
      'spec/tasks/1/name: duplicate task name "a" (also spec.tasks[0])',
    ]);
  });

  it('reports a self-dependency and a longer cycle once each, with the path', () => {
    expect(msgs(wf([{ name: 'a', dependsOn: ['a'] }]))).toEqual([
      'spec/tasks/0/dependsOn/0: dependsOn cycle: a → a',
    ]);
    expect(
      msgs(
        wf([
          { name: 'a', dependsOn: ['b'] },
          { name: 'b', dependsOn: ['c'] },
          { name: 'c', dependsOn: ['a'] },
          { name: 'd', dependsOn: ['a'] },
        ]),
      ),
    ).toEqual(['spec/tasks/2/dependsOn/0: dependsOn cycle: a → b → c → a']);
  });

  it('does not confuse a diamond with a cycle', () => {
    expect(
      checkWorkflow(
        wf([
          { name: 'a' },
          { name: 'b', dependsOn: ['a'] },
          { name: 'c', dependsOn: ['a'] },
          { name: 'd', dependsOn: ['b', 'c'] },
        ]),
      ),
    ).toEqual([]);
  });

  it('checks each expression form', () => {
    const spec = wf(
      [
        { name: 'a', outputs: ['x'] },
        { name: 'b', inputs: { sibling: '${tasks.a.outputs.x}' } },
        {
          name: 'c',
          dependsOn: ['a'],
          inputs: {
            noInput: '${workflow.inputs.nope}',
            noTask: '${tasks.zz.outputs}',
            noOutput: '${tasks.a.outputs.y}',
            own: '${tasks.c.outputs}',
            other: '${secrets.TOKEN}',
          },
        },
      ],
      { url: { type: 'string' } },
    );
    expect(msgs(spec)).toEqual([
      'spec/tasks/1/inputs/sibling: ${tasks.a.outputs.x} in task "b": task "a" is not upstream of "b", so its outputs are not ready',
      'spec/tasks/2/inputs/noInput: ${workflow.inputs.nope} in task "c": workflow input "nope" is not declared',
      'spec/tasks/2/inputs/noTask: ${tasks.zz.outputs} in task "c": unknown task "zz"',
      'spec/tasks/2/inputs/noOutput: ${tasks.a.outputs.y} in task "c": task "a" declares no output "y"',
      'spec/tasks/2/inputs/own: ${tasks.c.outputs} in task "c": a task cannot read its own outputs',
      'spec/tasks/2/inputs/other: ${secrets.TOKEN} in task "c": unsupported expression',
    ]);
    const hints = checkWorkflow(spec).map((i) => i.hint);
    expect(hints[0]).toBe('add "a" to dependsOn of "b"');
    expect(hints[3]).toBe('its outputs: x');
    expect(hints[5]).toContain('${workflow.inputs.NAME}');
  });

  it('checks input defaults against their type', () => {
    expect(
      msgs(
        wf([{ name: 'a' }], {
          n: { type: 'number', default: 3 },
          l: { type: 'array', default: {} },
          b: { type: 'boolean' },
        }),
      ),
    ).toEqual([`spec/inputs/l/default: default of input "l" is object, but the input's type is array`]);
  });
});
