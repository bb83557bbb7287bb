import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../../cli/base-command.js';
import { StigmerError } from '../../errors.js';
import { renderDot, renderMermaid, taskGraph, type WorkflowTaskSpec } from '../../execute/graph.js';

export default class WorkflowGraph extends StigmerCommand {
  static override summary = 'Print the task graph of a workflow as Mermaid or Graphviz dot.';
  static override description =
    'Nodes are tasks with the agent each calls; edges are dependencies, labelled with the outputs they carry. With --execution, each task shows its phase in that run. Mermaid renders in GitHub markdown (```mermaid).';
  static override examples = [
    '<%= config.bin %> workflow graph pr-review-workflow',
    '<%= config.bin %> workflow graph pr-review-workflow --format dot | dot -Tsvg > graph.svg',
    '<%= config.bin %> workflow graph pr-review-workflow --execution wex_k3x9q2m4b7c5d8f1',
  ];
  static override args = { name: Args.string({ description: 'The workflow (optional with --execution).' }) };
  static override flags = {
    format: Flags.string({ description: 'Output format.', options: ['mermaid', 'dot'], default: 'mermaid' }),
    execution: Flags.string({ description: 'Show the phase of each task in this workflow execution.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WorkflowGraph);
    const backend = await this.openBackend(flags);
    try {
      let name = args.name;
      let phases = {};
      if (flags.execution !== undefined) {
        const execution = await backend.getExecution(flags.execution);
        if (execution.kind !== 'WorkflowExecution')
          throw new StigmerError('USAGE', `${execution.id} is not a workflow execution`);
        if (name !== undefined && name !== execution.target) {
          throw new StigmerError(
            'USAGE',
            `execution ${execution.id} ran workflow "${execution.target}", not "${name}"`,
          );
        }
        name = execution.target;
        phases = Object.fromEntries(execution.tasks.map((t) => [t.name, t.phase]));
      }
      if (name === undefined) throw new StigmerError('USAGE', 'name the workflow (or give --execution ID)');
      const workflow = await backend.getResource('Workflow', name);
      if (!workflow) {
        const { NotFoundError } = await import('../../errors.js');
        throw new NotFoundError('Workflow', name);
      }
      const graph = taskGraph(name, (workflow.spec.tasks ?? []) as unknown as WorkflowTaskSpec[], phases);
      this.out(flags.format === 'dot' ? renderDot(graph) : renderMermaid(graph));
    } finally {
      await backend.close();
    }
  }
}
