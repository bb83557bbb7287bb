import * as Args from '@oclif/core/args';
import { StigmerCommand } from '../../cli/base-command.js';
import { cancelExecutionRecord } from '../../execute/records.js';

export default class ExecutionCancel extends StigmerCommand {
  static override summary = 'Cancel a running execution; its runner stops at its next step.';
  static override description =
    'Records CANCELLED at once. The process running it (in this or another terminal, or on another machine sharing the backend) sees it at its next step or heartbeat, stops its model call and MCP servers, and exits 1. A finished execution is left as it is.';
  static override examples = ['<%= config.bin %> execution cancel aex_k3x9q2m4b7c5d8f1'];
  static override args = {
    id: Args.string({ description: 'Execution id (aex_… or wex_…).', required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ExecutionCancel);
    const backend = await this.openBackend(flags);
    try {
      const { execution, alreadyFinished } = await cancelExecutionRecord(backend, args.id);
      if (alreadyFinished) this.err(`execution ${execution.id} already finished: ${execution.phase}`);
      else this.err(`execution ${execution.id} CANCELLED; its runner stops at its next step`);
    } finally {
      await backend.close();
    }
  }
}
