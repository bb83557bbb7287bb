/**
 * Checks inside one Workflow spec that its schema cannot express (DESIGN.md §2): task names
 * are unique, `dependsOn` names existing tasks and forms no cycle, and every expression in a
 * task's inputs is one of `${workflow.inputs.X}` (X declared), `${tasks.T.outputs}` or
 * `${tasks.T.outputs.Y}` (T upstream of the reading task, Y declared by T). Runs on a spec
 * that already passed the schema.
 */
import { suggest } from './schema-check.js';

export interface WorkflowIssue {
  /** JSON pointer segments inside the document. */
  path: string[];
  message: string;
  hint?: string;
}

interface Task {
  name: string;
  agent: string;
  inputs?: Record<string, string>;
  outputs?: string[];
  dependsOn?: string[];
}

interface Input {
  type: string;
  default?: unknown;
}

interface WorkflowSpecShape {
  inputs?: Record<string, Input>;
  tasks: Task[];
}

/** One `${...}` occurrence in a string. */
export interface Expression {
  /** Text between `${` and `}`, trimmed. */
  body: string;
  /** Offset of `${` in the string. */
  index: number;
}

const EXPRESSION_FORMS = `\${workflow.inputs.NAME}, \${tasks.TASK.outputs} or \${tasks.TASK.outputs.NAME}`;

/** Finds the `${...}` expressions in a string; `unterminated` is the offset of an unclosed `${`. */
export function scanExpressions(text: string): { expressions: Expression[]; unterminated?: number } {
  const expressions: Expression[] = [];
  let from = 0;
  for (;;) {
    const start = text.indexOf('${', from);
    if (start < 0) return { expressions };
    const end = text.indexOf('}', start + 2);
    if (end < 0) return { expressions, unterminated: start };
    expressions.push({ body: text.slice(start + 2, end).trim(), index: start });
    from = end + 1;
  }
}

export type ParsedExpression =
  | { type: 'input'; input: string }
  | { type: 'output'; task: string; output: string | null }
  | { type: 'invalid' };

export function parseExpression(body: string): ParsedExpression {
  const input = /^workflow\.inputs\.([^.\s]+)$/.exec(body);
  if (input) return { type: 'input', input: input[1]! };
  const output = /^tasks\.([^.\s]+)\.outputs(?:\.([^.\s]+))?$/.exec(body);
  if (output) return { type: 'output', task: output[1]!, output: output[2] ?? null };
  return { type: 'invalid' };
}

/** Every problem in the task graph and expressions of a schema-valid Workflow spec. */
export function checkWorkflow(spec: unknown): WorkflowIssue[] {
  const wf = spec as WorkflowSpecShape;
  const issues: WorkflowIssue[] = [];
  const inputs = wf.inputs ?? {};
  checkInputDefaults(inputs, issues);

  const byName = new Map<string, number>();
  wf.tasks.forEach((task, i) => {
    const first = byName.get(task.name);
    if (first === undefined) byName.set(task.name, i);
    else {
      issues.push({
        path: ['spec', 'tasks', String(i), 'name'],
        message: `duplicate task name "${task.name}" (also spec.tasks[${first}])`,
        hint: 'task names must be unique within a workflow',
      });
    }
  });
  const taskNames = [...byName.keys()];

  wf.tasks.forEach((task, i) => {
    (task.dependsOn ?? []).forEach((dep, j) => {
      if (!byName.has(dep)) {
        const near = suggest(dep, taskNames);
        issues.push({
          path: ['spec', 'tasks', String(i), 'dependsOn', String(j)],
          message: `task "${task.name}" depends on unknown task "${dep}"`,
          hint: near ? `did you mean \`${near}\`?` : `tasks in this workflow: ${taskNames.join(', ')}`,
        });
      }
    });
  });

  issues.push(...findCycles(wf.tasks, byName));

  const upstreamCache = new Map<string, Set<string>>();
  const upstream = (name: string): Set<string> => {
    let set = upstreamCache.get(name);
    if (set) return set;
    set = new Set();
    const stack = [...(wf.tasks[byName.get(name)!]?.dependsOn ?? [])];
    while (stack.length > 0) {
      const dep = stack.pop()!;
      if (set.has(dep) || !byName.has(dep)) continue;
      set.add(dep);
      stack.push(...(wf.tasks[byName.get(dep)!]!.dependsOn ?? []));
    }
    upstreamCache.set(name, set);
    return set;
  };

  wf.tasks.forEach((task, i) => {
    for (const [key, text] of Object.entries(task.inputs ?? {})) {
      const path = ['spec', 'tasks', String(i), 'inputs', key];
      const { expressions, unterminated } = scanExpressions(text);
      if (unterminated !== undefined) {
        issues.push({
          path,
          message: `unterminated expression in input "${key}" of task "${task.name}": missing "}"`,
          hint: `expressions are ${EXPRESSION_FORMS}`,
        });
      }
      for (const expr of expressions) {
        const problem = checkExpression(expr.body, task, inputs, wf.tasks, byName, upstream);
        if (problem)
          issues.push({
            path,
            ...problem,
            message: `\${${expr.body}} in task "${task.name}": ${problem.message}`,
          });
      }
    }
  });
  return issues;
}

function checkExpression(
  body: string,
  task: Task,
  inputs: Record<string, Input>,
  tasks: Task[],
  byName: Map<string, number>,
  upstream: (name: string) => Set<string>,
): { message: string; hint?: string } | undefined {
  const parsed = parseExpression(body);
  if (parsed.type === 'invalid') {
    return { message: 'unsupported expression', hint: `expressions are ${EXPRESSION_FORMS}` };
  }
  if (parsed.type === 'input') {
    if (Object.hasOwn(inputs, parsed.input)) return undefined;
    const declared = Object.keys(inputs);
    const near = suggest(parsed.input, declared);
    return {
      message: `workflow input "${parsed.input}" is not declared`,
      hint: near ? `did you mean \`${near}\`?` : `declare it under spec.inputs`,
    };
  }
  const index = byName.get(parsed.task);
  if (index === undefined) {
    const near = suggest(parsed.task, [...byName.keys()]);
    return {
      message: `unknown task "${parsed.task}"`,
      hint: near ? `did you mean \`${near}\`?` : `tasks in this workflow: ${[...byName.keys()].join(', ')}`,
    };
  }
  if (parsed.task === task.name) {
    return {
      message: `a task cannot read its own outputs`,
      hint: 'read the output in a task that depends on this one',
    };
  }
  if (!upstream(task.name).has(parsed.task)) {
    return {
      message: `task "${parsed.task}" is not upstream of "${task.name}", so its outputs are not ready`,
      hint: `add "${parsed.task}" to dependsOn of "${task.name}"`,
    };
  }
  if (parsed.output !== null) {
    const outputs = tasks[index]!.outputs ?? [];
    if (!outputs.includes(parsed.output)) {
      const near = suggest(parsed.output, outputs);
      return {
        message: `task "${parsed.task}" declares no output "${parsed.output}"`,
        hint: near
          ? `did you mean \`${near}\`?`
          : outputs.length > 0
            ? `its outputs: ${outputs.join(', ')}`
            : `add "${parsed.output}" to outputs of "${parsed.task}"`,
      };
    }
  }
  return undefined;
}

/** Reports each dependsOn cycle once, at the edge that closes it, with the cycle's path. */
function findCycles(tasks: Task[], byName: Map<string, number>): WorkflowIssue[] {
  const issues: WorkflowIssue[] = [];
  const state = new Map<number, 'active' | 'done'>();
  const stack: number[] = [];
  const visit = (i: number): void => {
    state.set(i, 'active');
    stack.push(i);
    const deps = tasks[i]!.dependsOn ?? [];
    deps.forEach((dep, j) => {
      const target = byName.get(dep);
      if (target === undefined) return;
      const s = state.get(target);
      if (s === 'active') {
        const cycle = stack.slice(stack.indexOf(target)).map((k) => tasks[k]!.name);
        issues.push({
          path: ['spec', 'tasks', String(i), 'dependsOn', String(j)],
          message: `dependsOn cycle: ${[...cycle, dep].join(' → ')}`,
          hint: 'remove one of these dependencies; tasks must form a directed acyclic graph',
        });
      } else if (s === undefined) {
        visit(target);
      }
    });
    stack.pop();
    state.set(i, 'done');
  };
  for (let i = 0; i < tasks.length; i++) if (!state.has(i) && byName.get(tasks[i]!.name) === i) visit(i);
  return issues;
}

function checkInputDefaults(inputs: Record<string, Input>, issues: WorkflowIssue[]): void {
  for (const [name, input] of Object.entries(inputs)) {
    if (input.default === undefined) continue;
    const actual = Array.isArray(input.default)
      ? 'array'
      : input.default === null
        ? 'null'
        : typeof input.default;
    if (actual !== input.type) {
      issues.push({
        path: ['spec', 'inputs', name, 'default'],
        message: `default of input "${name}" is ${actual}, but the input's type is ${input.type}`,
      });
    }
  }
}
