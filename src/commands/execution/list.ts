import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../../cli/base-command.js';
import { formatExecutionTable } from '../../cli/printers/execution.js';
import { listExecutionRecords } from '../../execute/records.js';

export default class ExecutionList extends StigmerCommand {
  static override summary = 'List agent and workflow executions, newest first.';
  static override description =
    'A run whose process died shows as FAILED ("runner lost") once its heartbeat lease has passed, never RUNNING forever.';
  static override examples = [
    '<%= config.bin %> execution list',
    '<%= config.bin %> execution list --kind agent --target support-bot -o json',
  ];
  static override flags = {
    kind: Flags.string({
      description: 'Only agent or only workflow executions.',
      options: ['agent', 'workflow'],
    }),
    target: Flags.string({ description: 'Only executions of this agent or workflow.' }),
    limit: Flags.integer({ description: 'At most this many (default 100).', min: 1, max: 5000 }),
    output: Flags.string({
      char: 'o',
      description: 'Output format.',
      options: ['table', 'json'],
      default: 'table',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ExecutionList);
    const backend = await this.openBackend(flags);
    try {
      const executions = await listExecutionRecords(backend, {
        ...(flags.kind ? { kind: flags.kind } : {}),
        ...(flags.target ? { target: flags.target } : {}),
        ...(flags.limit ? { limit: flags.limit } : {}),
      });
      if (flags.output === 'json') this.out(JSON.stringify(executions, null, 2));
      else if (executions.length === 0) this.err('No executions found.');
      else this.out(formatExecutionTable(executions));
    } finally {
      await backend.close();
    }
  }
}
