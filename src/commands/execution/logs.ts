import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../../cli/base-command.js';
import { readTranscripts } from '../../execute/records.js';
import { renderTranscript } from '../../execute/transcript.js';

export default class ExecutionLogs extends StigmerCommand {
  static override summary =
    "Show an execution's transcript: messages, tool calls and results (each task's, for a workflow).";
  static override examples = [
    '<%= config.bin %> execution logs aex_k3x9q2m4b7c5d8f1',
    '<%= config.bin %> execution logs wex_… --json',
  ];
  static override args = {
    id: Args.string({ description: 'Execution id (aex_… or wex_…).', required: true }),
  };
  static override flags = {
    json: Flags.boolean({
      description: 'Print the stored transcripts as JSON.',
      default: false,
      allowNo: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ExecutionLogs);
    const backend = await this.openBackend(flags);
    try {
      const execution = await backend.getExecution(args.id);
      const transcripts = await readTranscripts(backend, execution);
      if (flags.json) {
        this.out(
          JSON.stringify(
            transcripts.map((t) => t.transcript),
            null,
            2,
          ),
        );
        return;
      }
      if (transcripts.length === 0) {
        this.err(`No transcript for ${execution.id} (${execution.phase}): it has not run a model turn yet.`);
        return;
      }
      this.out(transcripts.map((t) => renderTranscript(t.transcript)).join('\n'));
    } finally {
      await backend.close();
    }
  }
}
