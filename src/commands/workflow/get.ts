import * as Args from '@oclif/core/args';
import { StigmerCommand } from '../../cli/base-command.js';
import { outputFlag, runGet, stdio } from '../../cli/printers/resource-commands.js';

export default class WorkflowGet extends StigmerCommand {
  static override summary = 'Show one workflow (same as `stigmer get workflow pr-review-workflow`).';
  static override description =
    'Prints the stored Workflow: a table row by default, or the full resource with -o yaml or -o json.';
  static override examples = [
    '<%= config.bin %> workflow get pr-review-workflow',
    '<%= config.bin %> workflow get pr-review-workflow -o yaml',
  ];
  static override args = {
    name: Args.string({ description: 'Name of the workflow.', required: true }),
  };
  static override flags = {
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WorkflowGet);
    const backend = await this.openBackend(flags);
    try {
      await runGet(backend, stdio, {
        kind: 'Workflow',
        name: args.name,
        output: flags.output,
        showSecrets: false,
        home: this.backendConfig(flags).home,
      });
    } finally {
      await backend.close();
    }
  }
}
