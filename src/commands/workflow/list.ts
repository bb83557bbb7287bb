import { StigmerCommand } from '../../cli/base-command.js';
import { outputFlag, runGet, stdio } from '../../cli/printers/resource-commands.js';

export default class WorkflowList extends StigmerCommand {
  static override summary = 'List workflows (same as `stigmer get workflows`).';
  static override description =
    'Shows every stored Workflow with its version, owning project and age; -o yaml or -o json for the full resources.';
  static override examples = ['<%= config.bin %> workflow list', '<%= config.bin %> workflow list -o json'];
  static override flags = {
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(WorkflowList);
    const backend = await this.openBackend(flags);
    try {
      await runGet(backend, stdio, {
        kind: 'Workflow',
        output: flags.output,
        showSecrets: false,
        home: this.backendConfig(flags).home,
      });
    } finally {
      await backend.close();
    }
  }
}
