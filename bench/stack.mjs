/**
 * Synthetic manifest stacks for the benchmark: N resources across N/10 files (10 documents per
 * file), in a realistic mix of kinds with references between them. Every block of 20 resources
 * holds 3 Skills, 2 Environments, 7 Agents (skillRefs, multi-line instructions, MCP servers),
 * 3 Workflows (tasks calling the block's agents, with dependsOn and expressions), 3
 * AgentInstances and 2 WorkflowInstances. References stay inside a block, so any N that is a
 * multiple of 20 makes a stack that validates; files cut across blocks, so references also
 * cross files. Output is deterministic: the same (n, revision) always writes the same bytes.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LAYOUT = [
  ...Array(3).fill('Skill'),
  ...Array(2).fill('Environment'),
  ...Array(7).fill('Agent'),
  ...Array(3).fill('Workflow'),
  ...Array(3).fill('AgentInstance'),
  ...Array(2).fill('WorkflowInstance'),
];
const BLOCK = LAYOUT.length;
const PER_FILE = 10;
const DIRS = {
  Skill: 'skills',
  Environment: 'environments',
  Agent: 'agents',
  Workflow: 'workflows',
  AgentInstance: 'instances',
  WorkflowInstance: 'instances',
};

/** A workflow expression, quoted for YAML. */
const expr = (path) => `"\${${path}}"`;

const pad = (i) => String(i).padStart(5, '0');

/** Name of the resource at `index` (its kind follows from the layout). */
function nameOf(index) {
  const kind = LAYOUT[index % BLOCK];
  const prefix = {
    Skill: 'skill',
    Environment: 'env',
    Agent: 'agent',
    Workflow: 'flow',
    AgentInstance: 'agent-inst',
    WorkflowInstance: 'flow-inst',
  }[kind];
  return `${prefix}-${pad(index)}`;
}

/** Indices of the resources of `kind` in the block that holds `index`. */
function blockMembers(index, kind) {
  const base = index - (index % BLOCK);
  const out = [];
  for (let i = 0; i < BLOCK; i++) if (LAYOUT[i] === kind) out.push(base + i);
  return out;
}

function describe(index, revisions) {
  const rev = revisions.get(index);
  return rev === undefined ? `Synthetic resource ${index}` : `Synthetic resource ${index} (revision ${rev})`;
}

function header(kind, index, team) {
  return [
    'apiVersion: agentic.stigmer.ai/v1',
    `kind: ${kind}`,
    'metadata:',
    `  name: ${nameOf(index)}`,
    '  labels:',
    `    team: ${team}`,
    '    tier: bench',
  ];
}

/** One YAML document (without the `---` separator). */
function documentFor(index, revisions) {
  const kind = LAYOUT[index % BLOCK];
  const team = ['platform', 'support', 'growth', 'security'][Math.floor(index / BLOCK) % 4];
  const lines = header(kind, index, team);
  const description = describe(index, revisions);
  switch (kind) {
    case 'Skill':
      lines.push(
        'spec:',
        `  description: ${description}`,
        '  tag: v1',
        '  skillMd: |',
        `    # Skill ${index}`,
        '',
        '    Follow these steps for every request:',
        '    1. Read the whole request before answering.',
        '    2. Ask for the missing facts instead of guessing them.',
        '    3. Cite the source of every number you quote.',
        '',
        '    ## Tone',
        '    - Plain words, short sentences.',
        '    - Say what you did not check.',
      );
      break;
    case 'Environment':
      lines.push(
        'spec:',
        `  description: ${description}`,
        '  data:',
        '    API_URL:',
        `      value: https://api.example.com/v${index % 3}`,
        '      description: Base URL of the service',
        '    REGION:',
        `      value: region-${index % 7}`,
        '    TIMEOUT_SECONDS:',
        '      value: "30"',
      );
      break;
    case 'Agent': {
      const skills = blockMembers(index, 'Skill');
      lines.push(
        'spec:',
        `  description: ${description}`,
        '  instructions: |',
        `    You are agent ${index}, part of the ${team} team's automation.`,
        '',
        '    For every task you receive:',
        '    - restate the goal in one sentence,',
        '    - list the facts you were given and the ones you still need,',
        '    - do the work step by step and show intermediate results,',
        '    - finish with a short summary and the open questions.',
        '',
        '    Never invent data. When a tool call fails, report the error and stop.',
        '  mcpServers:',
        '    - github',
        '    - filesystem',
        '  skillRefs:',
        `    - ${nameOf(skills[index % skills.length])}`,
        `    - ${nameOf(skills[(index + 1) % skills.length])}`,
        '  config:',
        '    model: claude-3-5-sonnet-20241022',
        '    temperature: "0.2"',
        '    max_tokens: "4000"',
      );
      break;
    }
    case 'Workflow': {
      const agents = blockMembers(index, 'Agent');
      const a = (k) => nameOf(agents[(index + k) % agents.length]);
      lines.push(
        'spec:',
        `  description: ${description}`,
        '  inputs:',
        '    ticket_url:',
        '      type: string',
        '      description: URL of the ticket to handle',
        '      required: true',
        '  tasks:',
        '    - name: fetch',
        `      agent: ${a(0)}`,
        '      inputs:',
        `        url: ${expr('workflow.inputs.ticket_url')}`,
        '      outputs:',
        '        - title',
        '        - body',
        '    - name: analyse',
        `      agent: ${a(1)}`,
        '      dependsOn:',
        '        - fetch',
        '      inputs:',
        `        text: ${expr('tasks.fetch.outputs.body')}`,
        '      outputs:',
        '        - findings',
        '    - name: answer',
        `      agent: ${a(2)}`,
        '      dependsOn:',
        '        - analyse',
        '      inputs:',
        `        title: ${expr('tasks.fetch.outputs.title')}`,
        `        findings: ${expr('tasks.analyse.outputs.findings')}`,
        `        url: ${expr('workflow.inputs.ticket_url')}`,
        '      outputs:',
        '        - reply',
      );
      break;
    }
    case 'AgentInstance': {
      const agents = blockMembers(index, 'Agent');
      const envs = blockMembers(index, 'Environment');
      lines.push(
        'spec:',
        `  agent: ${nameOf(agents[index % agents.length])}`,
        `  description: ${description}`,
        '  environmentRefs:',
        `    - ${nameOf(envs[index % envs.length])}`,
      );
      break;
    }
    case 'WorkflowInstance': {
      const flows = blockMembers(index, 'Workflow');
      const envs = blockMembers(index, 'Environment');
      lines.push(
        'spec:',
        `  workflow: ${nameOf(flows[index % flows.length])}`,
        `  description: ${description}`,
        '  environmentRefs:',
        `    - ${nameOf(envs[0])}`,
        `    - ${nameOf(envs[1])}`,
      );
      break;
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Relative path of file number `f` (the directory follows the kind of its first document). */
export function filePath(f) {
  return join(DIRS[LAYOUT[(f * PER_FILE) % BLOCK]], `part-${pad(f)}.yaml`);
}

/** Text of file number `f`. `revisions` maps a resource index to a revision label. */
export function fileText(f, revisions = new Map()) {
  const docs = [];
  for (let i = f * PER_FILE; i < (f + 1) * PER_FILE; i++) docs.push(documentFor(i, revisions));
  return `# Synthetic benchmark stack, file ${f}\n${docs.join('---\n')}`;
}

/** Number of files of a stack of `n` resources. */
export function fileCount(n) {
  if (n % BLOCK !== 0) throw new Error(`the stack size must be a multiple of ${BLOCK}, got ${n}`);
  return n / PER_FILE;
}

/**
 * Writes a stack of `n` resources to `dir` (emptied first), with a stigmer.yaml naming the
 * project. Returns the relative paths written.
 */
export function writeStack(dir, n, project = 'bench') {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stigmer.yaml'), `project: ${project}\n`);
  const paths = [];
  for (let f = 0; f < fileCount(n); f++) {
    const rel = filePath(f);
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), fileText(f));
    paths.push(rel);
  }
  return paths;
}

/**
 * Changes the description of `count` resources spread evenly over the stack (1% when
 * count = n/100), labelled `revision`, and rewrites the files that hold them. Returns the
 * number of files rewritten.
 */
export function reviseStack(dir, n, count, revision) {
  const step = Math.max(1, Math.floor(n / count));
  const byFile = new Map();
  for (let k = 0; k < count; k++) {
    const index = (k * step + (revision % step)) % n;
    const f = Math.floor(index / PER_FILE);
    if (!byFile.has(f)) byFile.set(f, new Map());
    byFile.get(f).set(index, revision);
  }
  for (const [f, revisions] of byFile) writeFileSync(join(dir, filePath(f)), fileText(f, revisions));
  return byFile.size;
}

/** Restores file `f` of a stack to its original text. */
export function restoreFile(dir, f) {
  writeFileSync(join(dir, filePath(f)), fileText(f));
}
