import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { parseKind } from '../backend/kinds.js';
import { StigmerCommand } from '../cli/base-command.js';
import { formatHistoryJson, formatHistoryTable } from '../cli/printers/resources.js';
import { resourceHistory } from '../core/resources.js';

export default class History extends StigmerCommand {
  static override summary = 'Show the version history of a resource: every create, update and delete.';
  static override description =
    'Lists the audit trail the backend keeps for KIND/NAME, oldest first: version, action, date and the message ' +
    'given to apply (--message) or delete. Earlier incarnations of a deleted and re-created name are included. ' +
    '-o json adds the snapshot of each version (Environment secrets redacted).';
  static override examples = [
    '<%= config.bin %> history agent support-bot',
    '<%= config.bin %> history workflow pr-review-workflow -o json',
  ];
  static override args = {
    kind: Args.string({ description: 'Kind of resource (agent, Agents, workflow, ...).', required: true }),
    name: Args.string({ description: 'Name of the resource.', required: true }),
  };
  static override flags = {
    output: Flags.string({
      char: 'o',
      description: 'Output format.',
      options: ['table', 'json'],
      default: 'table',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(History);
    const kind = parseKind(args.kind);
    const backend = await this.openBackend(flags);
    try {
      const entries = await resourceHistory(backend, kind, args.name);
      this.out(flags.output === 'json' ? formatHistoryJson(entries) : formatHistoryTable(entries));
    } finally {
      await backend.close();
    }
  }
}
