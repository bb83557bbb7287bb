import * as Args from '@oclif/core/args';
import { parseKind } from '../backend/kinds.js';
import { StigmerCommand } from '../cli/base-command.js';
import { forceFlag, messageFlag, runDelete, stdio } from '../cli/printers/resource-commands.js';

export default class Delete extends StigmerCommand {
  static override summary = 'Delete one stored resource; the deletion is recorded in its history.';
  static override description =
    'Deletes KIND/NAME from the backend at the version it has now (a concurrent change makes the delete fail ' +
    'rather than remove something you have not seen). A resource annotated stigmer.ai/prevent-destroy: "true" ' +
    'is refused unless --force is given. If a project manages the resource, its next apply creates it again ' +
    'unless the manifest is removed too.';
  static override examples = [
    '<%= config.bin %> delete agent support-bot',
    '<%= config.bin %> delete Workflows pr-review-workflow -m "retired"',
  ];
  static override args = {
    kind: Args.string({ description: 'Kind of resource (agent, Agents, workflow, ...).', required: true }),
    name: Args.string({ description: 'Name of the resource.', required: true }),
  };
  static override flags = {
    message: messageFlag,
    force: forceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Delete);
    const kind = parseKind(args.kind);
    const backend = await this.openBackend(flags);
    try {
      await runDelete(backend, stdio, {
        kind,
        name: args.name,
        force: flags.force,
        ...(flags.message !== undefined ? { message: flags.message } : {}),
      });
    } finally {
      await backend.close();
    }
  }
}
