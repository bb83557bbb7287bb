// biome-ignore-all lint/suspicious/noTemplateCurlyInString: workflow expressions are data in these tests
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../../test/helpers/cli.js';
import { StigmerError } from '../errors.js';
import { renderDot, renderMermaid, taskGraph, type WorkflowTaskSpec } from './graph.js';
import { graphHash, outputContract, parseTaskAnswer, renderTaskInputs, taskMessage } from './workflow.js';
import { checkWorkflowInputs, parseInputFlags } from './workflow-inputs.js';

const tasks: WorkflowTaskSpec[] = [
  { name: 'fetch', agent: 'reader', inputs: { url: '${workflow.inputs.url}' }, outputs: ['title', 'diff'] },
  {
    name: 'review',
    agent: 'reviewer',
    dependsOn: ['fetch'],
    inputs: {
      diff: 'Diff:\n${tasks.fetch.outputs.diff}',
      all: '${tasks.fetch.outputs}',
      n: '${workflow.inputs.n}',
    },
    outputs: ['issues'],
  },
  {
    name: 'post',
    agent: 'poster',
    dependsOn: ['review', 'fetch'],
    inputs: { text: '${tasks.review.outputs.issues}' },
  },
];

function error(fn: () => unknown): StigmerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('workflow inputs', () => {
  const declared = {
    url: { type: 'string' as const, required: true, description: 'PR URL' },
    n: { type: 'number' as const, default: 3 },
    strict: { type: 'boolean' as const },
    tags: { type: 'array' as const },
  };

  it('converts k=v to the declared types, takes file values typed, applies defaults', () => {
    expect(parseInputFlags(['url=https://x/y?a=b', 'n=5'])).toEqual({ url: 'https://x/y?a=b', n: '5' });
    expect(checkWorkflowInputs('wf', declared, { url: 'u', n: '5', strict: 'true', tags: '["a"]' })).toEqual({
      url: 'u',
      n: 5,
      strict: true,
      tags: ['a'],
    });
    expect(checkWorkflowInputs('wf', declared, { url: 'flag' }, { url: 'file', tags: ['b'] })).toEqual({
      url: 'flag',
      n: 3,
      tags: ['b'],
    });
  });

  it('names every missing, mistyped or unknown input in one error', () => {
    const e = error(() =>
      checkWorkflowInputs('wf', declared, { n: 'many', colour: 'red' }, { strict: 'yes' }),
    );
    expect(e.message).toBe(
      'workflow "wf": unknown input "colour" (inputs: url, n, strict, tags); missing required input "url" (PR URL); input "n" must be a number, got "many"; input "strict" must be a boolean, got a string',
    );
    expect(e.hint).toMatch(/nothing was run/);
    expect(error(() => parseInputFlags(['novalue'])).message).toMatch(/is not KEY=VALUE/);
  });
});

describe('task inputs and answers', () => {
  it('renders expressions: strings as they are, other values and whole outputs as JSON', () => {
    const rendered = renderTaskInputs(
      tasks[1]!,
      { url: 'u', n: 5 },
      { fetch: { title: 'T', diff: '+a\n-b' } },
    );
    expect(rendered).toEqual({ diff: 'Diff:\n+a\n-b', all: '{"title":"T","diff":"+a\\n-b"}', n: '5' });
    expect(taskMessage('wf', tasks[1]!, rendered)).toBe(
      'Task "review" of workflow "wf".\n\nInputs:\ndiff:\n  Diff:\n  +a\n  -b\nall: {"title":"T","diff":"+a\\n-b"}\nn: 5',
    );
    expect(outputContract(tasks[0]!)).toMatch(/exactly these keys: "title", "diff"/);
    expect(outputContract(tasks[2]!)).toBeUndefined();
  });

  it('reads a JSON answer with exactly the declared keys (fences tolerated, extra keys dropped)', () => {
    expect(
      parseTaskAnswer('```json\n{"title": "T", "diff": "d", "extra": 1}\n```', ['title', 'diff']),
    ).toEqual({
      ok: true,
      outputs: { title: 'T', diff: 'd' },
    });
    expect(parseTaskAnswer('{"title": "T"}', ['title', 'diff'])).toEqual({
      ok: false,
      problem: 'the answer has no "diff" (declared outputs: title, diff)',
    });
    expect(parseTaskAnswer('no json here', ['a'])).toEqual({
      ok: false,
      problem: 'the answer is not a JSON object',
    });
    expect(parseTaskAnswer('{"a": }', ['a']).ok).toBe(false);
  });

  it('hashes the graph, not the order of keys', () => {
    const same = tasks.map((t) => ({
      ...t,
      inputs: Object.fromEntries(Object.entries(t.inputs ?? {}).reverse()),
    }));
    expect(graphHash(same)).toBe(graphHash(tasks));
    expect(graphHash([{ ...tasks[0]!, outputs: ['title'] }, ...tasks.slice(1)])).not.toBe(graphHash(tasks));
  });
});

describe('task graph', () => {
  it('draws tasks, agents and edges with the outputs they carry, as Mermaid and dot', () => {
    const graph = taskGraph('wf', tasks, { fetch: 'COMPLETED', review: 'FAILED' });
    expect(graph.edges).toEqual([
      { from: 'fetch', to: 'review', carries: ['*'] },
      { from: 'review', to: 'post', carries: ['issues'] },
      { from: 'fetch', to: 'post', carries: [] },
    ]);
    expect(renderMermaid(taskGraph('wf', tasks))).toBe(
      [
        'flowchart TD',
        '  t_fetch["fetch<br/><small>agent: reader</small>"]',
        '  t_review["review<br/><small>agent: reviewer</small>"]',
        '  t_post["post<br/><small>agent: poster</small>"]',
        '  t_fetch -->|"all outputs"| t_review',
        '  t_review -->|"issues"| t_post',
        '  t_fetch --> t_post',
        '',
      ].join('\n'),
    );
    const withPhases = renderMermaid(graph);
    expect(withPhases).toContain('t_fetch["fetch<br/><small>agent: reader</small><br/>COMPLETED"]');
    expect(withPhases).toContain('class t_review failed');
    const dot = renderDot(graph);
    expect(dot).toContain('"fetch" -> "review" [label="all outputs"];');
    expect(dot).toContain('"fetch" -> "post";');
    expect(dot).toContain('"review" [label="review\\nagent: reviewer\\nFAILED", fillcolor="#fee2e2"];');
  });
});

describe('docs/executions.md', () => {
  it("shows the seed workflow's graph exactly as `stigmer workflow graph` prints it", () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'executions.md'), 'utf8');
    const block = /```mermaid\n([\s\S]*?)```/.exec(doc)?.[1];
    const seed = parse(readFileSync(join(repoRoot, 'manifests', 'workflows', 'pr-review.yaml'), 'utf8'));
    expect(block).toBe(renderMermaid(taskGraph('pr-review-workflow', seed.spec.tasks)));
  });
});
