/**
 * The task graph of a workflow (`stigmer workflow graph`), as pure functions: nodes (task, the
 * agent it calls, and for an execution its phase), edges from `dependsOn` labelled with the
 * outputs each carries (`${tasks.T.outputs.Y}` in the reading task's inputs), rendered as
 * Mermaid (which GitHub renders in markdown) or Graphviz dot.
 */
import type { ExecutionPhase } from '../backend/types.js';
import { parseExpression, scanExpressions } from '../manifest/workflow.js';

export interface WorkflowTaskSpec {
  name: string;
  agent: string;
  inputs?: Record<string, string>;
  outputs?: string[];
  dependsOn?: string[];
}

export interface GraphNode {
  task: string;
  agent: string;
  phase?: ExecutionPhase;
}

export interface GraphEdge {
  from: string;
  to: string;
  /** Outputs of `from` that `to` reads; `*` when it reads all of them (`${tasks.T.outputs}`). */
  carries: string[];
}

export interface TaskGraph {
  workflow: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export function taskGraph(
  workflow: string,
  tasks: readonly WorkflowTaskSpec[],
  phases: Record<string, ExecutionPhase> = {},
): TaskGraph {
  const nodes = tasks.map((t) => ({
    task: t.name,
    agent: t.agent,
    ...(phases[t.name] ? { phase: phases[t.name] } : {}),
  }));
  const edges: GraphEdge[] = [];
  for (const task of tasks) {
    const reads = new Map<string, Set<string>>();
    for (const text of Object.values(task.inputs ?? {})) {
      for (const expr of scanExpressions(text).expressions) {
        const parsed = parseExpression(expr.body);
        if (parsed.type !== 'output') continue;
        const set = reads.get(parsed.task) ?? new Set<string>();
        set.add(parsed.output ?? '*');
        reads.set(parsed.task, set);
      }
    }
    const from = [...(task.dependsOn ?? [])];
    for (const t of reads.keys()) if (!from.includes(t)) from.push(t);
    for (const dep of from) {
      const carried = reads.get(dep);
      edges.push({
        from: dep,
        to: task.name,
        carries: carried ? (carried.has('*') ? ['*'] : [...carried]) : [],
      });
    }
  }
  return { workflow, nodes, edges };
}

const PHASE_STYLE: Record<ExecutionPhase, string> = {
  PENDING: 'fill:#eeeeee,stroke:#999999',
  RUNNING: 'fill:#dbeafe,stroke:#2563eb',
  COMPLETED: 'fill:#dcfce7,stroke:#16a34a',
  FAILED: 'fill:#fee2e2,stroke:#dc2626',
  CANCELLED: 'fill:#fef9c3,stroke:#ca8a04',
};

const label = (edge: GraphEdge) => (edge.carries[0] === '*' ? 'all outputs' : edge.carries.join(', '));

export function renderMermaid(graph: TaskGraph): string {
  const id = (task: string) => `t_${task.replace(/[^A-Za-z0-9_]/g, '_')}`;
  const text = (s: string) => s.replace(/"/g, '#quot;');
  const lines = ['flowchart TD'];
  for (const n of graph.nodes) {
    const phase = n.phase ? `<br/>${n.phase}` : '';
    lines.push(`  ${id(n.task)}["${text(n.task)}<br/><small>agent: ${text(n.agent)}</small>${phase}"]`);
  }
  for (const e of graph.edges) {
    lines.push(
      e.carries.length > 0
        ? `  ${id(e.from)} -->|"${text(label(e))}"| ${id(e.to)}`
        : `  ${id(e.from)} --> ${id(e.to)}`,
    );
  }
  const phases = [
    ...new Set(graph.nodes.map((n) => n.phase).filter((p): p is ExecutionPhase => p !== undefined)),
  ];
  for (const phase of phases) {
    lines.push(`  classDef ${phase.toLowerCase()} ${PHASE_STYLE[phase]}`);
    const members = graph.nodes.filter((n) => n.phase === phase).map((n) => id(n.task));
    lines.push(`  class ${members.join(',')} ${phase.toLowerCase()}`);
  }
  return `${lines.join('\n')}\n`;
}

export function renderDot(graph: TaskGraph): string {
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
  const lines = [
    `digraph ${q(graph.workflow)} {`,
    '  rankdir=TB;',
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff"];',
  ];
  for (const n of graph.nodes) {
    const fill = n.phase ? `, fillcolor=${q(/fill:([^,]+)/.exec(PHASE_STYLE[n.phase])![1]!)}` : '';
    lines.push(
      `  ${q(n.task)} [label=${q(`${n.task}\nagent: ${n.agent}${n.phase ? `\n${n.phase}` : ''}`)}${fill}];`,
    );
  }
  for (const e of graph.edges) {
    lines.push(`  ${q(e.from)} -> ${q(e.to)}${e.carries.length > 0 ? ` [label=${q(label(e))}]` : ''};`);
  }
  lines.push('}');
  return `${lines.join('\n')}\n`;
}
