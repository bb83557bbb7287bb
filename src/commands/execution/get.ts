import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { stringify } from 'yaml';
import { StigmerCommand } from '../../cli/base-command.js';
import { formatExecutionDetail } from '../../cli/printers/execution.js';

export default class ExecutionGet extends StigmerCommand {
  static override summary =
    'Show one execution: phase, times, tokens, input and output; a task table for workflows.';
  static override examples = [
    '<%= config.bin %> execution get aex_k3x9q2m4b7c5d8f1',
    '<%= config.bin %> execution get wex_… -o json',
  ];
  static override args = {
    id: Args.string({ description: 'Execution id (aex_… or wex_…).', required: true }),
  };
  static override flags = {
    output: Flags.string({
      char: 'o',
      description: 'Output format.',
      options: ['table', 'yaml', 'json'],
      default: 'table',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ExecutionGet);
    const backend = await this.openBackend(flags);
    try {
      const execution = await backend.getExecution(args.id);
      if (flags.output === 'json') this.out(JSON.stringify(execution, null, 2));
      else if (flags.output === 'yaml') this.out(stringify(execution));
      else this.out(formatExecutionDetail(execution));
    } finally {
      await backend.close();
    }
  }
}
