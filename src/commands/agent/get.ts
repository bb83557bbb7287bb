import * as Args from '@oclif/core/args';
import { StigmerCommand } from '../../cli/base-command.js';
import { outputFlag, runGet, stdio } from '../../cli/printers/resource-commands.js';

export default class AgentGet extends StigmerCommand {
  static override summary = 'Show one agent (same as `stigmer get agent support-bot`).';
  static override description =
    'Prints the stored Agent: a table row by default, or the full resource with -o yaml or -o json.';
  static override examples = [
    '<%= config.bin %> agent get support-bot',
    '<%= config.bin %> agent get support-bot -o yaml',
  ];
  static override args = {
    name: Args.string({ description: 'Name of the agent.', required: true }),
  };
  static override flags = {
    output: outputFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AgentGet);
    const backend = await this.openBackend(flags);
    try {
      await runGet(backend, stdio, {
        kind: 'Agent',
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
