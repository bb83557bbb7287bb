import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../../cli/base-command.js';
import { readMessage, runExecution } from '../../cli/run-execution.js';
import { StigmerError } from '../../errors.js';

export default class AgentExecute extends StigmerCommand {
  static override summary = 'Run one turn of an agent against an OpenAI-compatible model endpoint.';
  static override description =
    `Streams the reply to stdout and records the execution (see \`stigmer execution\`). The model endpoint is STIGMER_MODEL_URL (default a local Ollama, http://127.0.0.1:11434/v1) with STIGMER_MODEL_API_KEY; the model is --model, else the agent's config.model, else STIGMER_MODEL or model: in $STIGMER_HOME/config.yaml. The agent's MCP servers are started for the run and its tools offered to the model; the variables and secrets of --env environments reach only those servers. MESSAGE "-" reads stdin. Exit 0 when COMPLETED, 1 when FAILED, 130 after Ctrl-C (recorded CANCELLED).`;
  static override examples = [
    '<%= config.bin %> agent execute support-bot "How do I reset my password?"',
    '<%= config.bin %> agent execute support-bot "And on mobile?" --session ses_abc123',
    'echo "Summarise this" | <%= config.bin %> agent execute support-bot - --env github-env --json',
    '<%= config.bin %> agent execute --instance support-bot-prod "hello"',
  ];
  static override args = {
    name: Args.string({ description: 'The agent to run (with --instance: the message).' }),
    message: Args.string({ description: 'The user message; "-" reads stdin.' }),
  };
  static override flags = {
    instance: Flags.string({ description: 'Run this AgentInstance: its agent, with its environmentRefs.' }),
    session: Flags.string({ description: 'Continue this session (printed at the end of every run).' }),
    env: Flags.string({
      description:
        'Environment whose variables and secrets the MCP servers get; repeat for more (later ones win).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    model: Flags.string({ description: "Model to use instead of the agent's config.model." }),
    json: Flags.boolean({
      description: 'Print newline-delimited JSON events instead of text.',
      default: false,
      allowNo: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AgentExecute);
    let agent: string | undefined = args.name;
    let message = args.message;
    if (flags.instance !== undefined) {
      if (message !== undefined) {
        throw new StigmerError('USAGE', 'with --instance, give only the message', {
          hint: 'stigmer agent execute --instance NAME "MESSAGE"',
        });
      }
      message = agent;
      agent = undefined;
    }
    if (message === undefined) {
      throw new StigmerError('USAGE', 'missing the message', {
        hint: 'stigmer agent execute NAME "MESSAGE" (or "-" to read it from stdin)',
      });
    }
    const text = await readMessage(message);
    const backend = await this.openBackend(flags);
    try {
      const { createExecutionEnv, executeAgent } = await import('../../execute/agent.js');
      const env = createExecutionEnv({
        backend,
        env: process.env,
        home: this.backendConfig(flags).home,
        ...(flags.model ? { model: flags.model } : {}),
      });
      await runExecution(flags.json, (signal, emit) =>
        executeAgent(env, {
          ...(agent !== undefined ? { agent } : {}),
          ...(flags.instance !== undefined ? { instance: flags.instance } : {}),
          message: text,
          ...(flags.session !== undefined ? { sessionId: flags.session } : {}),
          environments: flags.env ?? [],
          signal,
          emit,
        }),
      );
    } finally {
      await backend.close();
    }
  }
}
