import * as Args from '@oclif/core/args';
import { StigmerCommand } from '../../cli/base-command.js';
import { forceFlag, messageFlag, runDelete, stdio } from '../../cli/printers/resource-commands.js';

export default class WorkflowDelete extends StigmerCommand {
  static override summary = 'Delete one workflow (same as `stigmer delete workflow pr-review-workflow`).';
  static override description =
    'Deletes the stored Workflow and records the deletion in its history. Refused for a resource annotated ' +
    'stigmer.ai/prevent-destroy: "true" unless --force is given.';
  static override examples = [
    '<%= config.bin %> workflow delete pr-review-workflow',
    '<%= config.bin %> workflow delete pr-review-workflow -m "no longer used"',
  ];
  static override args = {
    name: Args.string({ description: 'Name of the workflow.', required: true }),
  };
  static override flags = {
    message: messageFlag,
    force: forceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WorkflowDelete);
    const backend = await this.openBackend(flags);
    try {
      await runDelete(backend, stdio, {
        kind: 'Workflow',
        name: args.name,
        force: flags.force,
        ...(flags.message !== undefined ? { message: flags.message } : {}),
      });
    } finally {
      await backend.close();
    }
  }
}
