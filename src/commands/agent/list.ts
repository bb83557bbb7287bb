import { StigmerCommand } from '../../cli/base-command.js';
import { outputFlag, runGet, stdio } from '../../cli/printers/resource-commands.js';

export default class AgentList extends StigmerCommand {
  static override summary = 'List agents (same as `stigmer get agents`).';
  static override description =
    'Shows every stored Agent with its version, owning project and age; -o yaml or -o json for the full resources.';
  static override examples = ['<%= config.bin %> agent list', '<%= config.bin %> agent list -o json'];
  static override flags = {
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AgentList);
    const backend = await this.openBackend(flags);
    try {
      await runGet(backend, stdio, {
        kind: 'Agent',
        output: flags.output,
        showSecrets: false,
        home: this.backendConfig(flags).home,
      });
    } finally {
      await backend.close();
    }
  }
}
