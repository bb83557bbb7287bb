import * as Args from '@oclif/core/args';
import { StigmerCommand } from '../../cli/base-command.js';
import { forceFlag, messageFlag, runDelete, stdio } from '../../cli/printers/resource-commands.js';

export default class AgentDelete extends StigmerCommand {
  static override summary = 'Delete one agent (same as `stigmer delete agent support-bot`).';
  static override description =
    'Deletes the stored Agent and records the deletion in its history. Refused for a resource annotated ' +
    'stigmer.ai/prevent-destroy: "true" unless --force is given.';
  static override examples = [
    '<%= config.bin %> agent delete support-bot',
    '<%= config.bin %> agent delete support-bot -m "no longer used"',
  ];
  static override args = {
    name: Args.string({ description: 'Name of the agent.', required: true }),
  };
  static override flags = {
    message: messageFlag,
    force: forceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AgentDelete);
    const backend = await this.openBackend(flags);
    try {
      await runDelete(backend, stdio, {
        kind: 'Agent',
        name: args.name,
        force: flags.force,
        ...(flags.message !== undefined ? { message: flags.message } : {}),
      });
    } finally {
      await backend.close();
    }
  }
}
