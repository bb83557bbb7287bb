import { readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { parse } from 'yaml';
import { StigmerCommand } from '../../cli/base-command.js';
import { runExecution } from '../../cli/run-execution.js';
import { StigmerError } from '../../errors.js';
import type { JsonObject } from '../../types.js';

export default class WorkflowExecute extends StigmerCommand {
  static override summary = 'Run a workflow: its task graph, outputs flowing into inputs.';
  static override description =
    `Checks the inputs against the workflow's inputs (required, type) before anything runs, then runs each task when the tasks it depends on have completed, independent tasks concurrently (--concurrency). Each task runs its agent (tools included) and must answer with a JSON object of the outputs it declares. A failed task fails the workflow; what never ran is recorded CANCELLED, and --resume ID re-runs only what did not complete. The model endpoint and --env work as for \`stigmer agent execute\`; --model overrides every task's model. Exit 0 when COMPLETED, 1 when FAILED, 130 after Ctrl-C.`;
  static override examples = [
    '<%= config.bin %> workflow execute pr-review-workflow --input pr_url=https://github.com/acme/shop/pull/42',
    '<%= config.bin %> workflow execute pr-review-workflow --input-file inputs.yaml --env github-env --model llama3.2',
    '<%= config.bin %> workflow execute --resume wex_k3x9q2m4b7c5d8f1',
    '<%= config.bin %> workflow execute --instance pr-review-prod --input pr_url=… --json',
  ];
  static override args = {
    name: Args.string({ description: 'The workflow to run (not with --instance or --resume).' }),
  };
  static override flags = {
    input: Flags.string({
      description: 'An input as KEY=VALUE; repeat for more (one each).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'input-file': Flags.string({ description: 'Inputs from a YAML or JSON mapping (--input values win).' }),
    instance: Flags.string({
      description: 'Run this WorkflowInstance: its workflow, with its environmentRefs.',
    }),
    resume: Flags.string({
      description: 'Resume this FAILED or CANCELLED execution: re-run only what did not complete.',
    }),
    env: Flags.string({
      description:
        'Environment whose variables and secrets the MCP servers get; repeat for more (later ones win).',
      multiple: true,
      multipleNonGreedy: true,
    }),
    model: Flags.string({ description: 'Model for every task, instead of each agent’s config.model.' }),
    concurrency: Flags.integer({ description: 'How many tasks may run at once.', default: 4, min: 1 }),
    json: Flags.boolean({
      description: 'Print newline-delimited JSON events instead of text.',
      default: false,
      allowNo: true,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(WorkflowExecute);
    const given = [args.name, flags.instance, flags.resume].filter((v) => v !== undefined).length;
    if (
      given > 1 &&
      !(flags.resume !== undefined && args.name !== undefined && flags.instance === undefined)
    ) {
      throw new StigmerError('USAGE', 'give one of NAME, --instance NAME or --resume ID');
    }
    if (given === 0) {
      throw new StigmerError('USAGE', 'missing the workflow to run', {
        hint: 'stigmer workflow execute NAME --input KEY=VALUE (or --instance NAME, --resume ID)',
      });
    }
    const { parseInputFlags } = await import('../../execute/workflow-inputs.js');
    const inputs = parseInputFlags(flags.input ?? []);
    const inputFile = flags['input-file'] === undefined ? undefined : readInputFile(flags['input-file']);
    const backend = await this.openBackend(flags);
    try {
      const { createExecutionEnv } = await import('../../execute/agent.js');
      const { executeWorkflow } = await import('../../execute/workflow.js');
      const env = createExecutionEnv({
        backend,
        env: process.env,
        home: this.backendConfig(flags).home,
        ...(flags.model ? { model: flags.model } : {}),
      });
      await runExecution(flags.json, (signal, emit) =>
        executeWorkflow(env, {
          ...(args.name !== undefined ? { workflow: args.name } : {}),
          ...(flags.instance !== undefined ? { instance: flags.instance } : {}),
          ...(flags.resume !== undefined ? { resume: flags.resume } : {}),
          inputs,
          ...(inputFile !== undefined ? { inputFile } : {}),
          environments: flags.env ?? [],
          concurrency: flags.concurrency,
          signal,
          emit,
        }),
      );
    } finally {
      await backend.close();
    }
  }
}

function readInputFile(file: string): JsonObject {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new StigmerError(
      'USAGE',
      `--input-file ${file}: ${cause instanceof Error ? cause.message.split('\n')[0] : String(cause)}`,
      {
        cause,
      },
    );
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StigmerError('USAGE', `--input-file ${file}: expected a mapping of input names to values`);
  }
  return data as JsonObject;
}
