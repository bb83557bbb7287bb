import * as Args from '@oclif/core/args';
import { parseKind } from '../backend/kinds.js';
import { StigmerCommand } from '../cli/base-command.js';
import { outputFlag, runGet, showSecretsFlag, stdio } from '../cli/printers/resource-commands.js';

export default class Get extends StigmerCommand {
  static override summary = 'Show stored resources of one kind, or one resource by name.';
  static override description =
    'Reads the backend. KIND is any of Agent, Skill, Environment, Workflow, AgentInstance, WorkflowInstance, ' +
    'in any case, singular or plural. The table shows NAME, VERSION, PROJECT (the stigmer.ai/project annotation), ' +
    'AGE and UPDATED; -o yaml and -o json print the full resource as a manifest with its id, version and status. ' +
    'Values of Environment secrets print as "(sensitive)" unless --show-secrets is given.';
  static override examples = [
    '<%= config.bin %> get agents',
    '<%= config.bin %> get agent support-bot -o yaml',
    '<%= config.bin %> get Workflows -o json',
    '<%= config.bin %> get environment prod --show-secrets -o yaml',
  ];
  static override args = {
    kind: Args.string({ description: 'Kind of resource (agent, Agents, workflow, ...).', required: true }),
    name: Args.string({ description: 'Name of one resource (default: all of the kind).' }),
  };
  static override flags = {
    output: outputFlag,
    'show-secrets': showSecretsFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Get);
    const kind = parseKind(args.kind);
    const backend = await this.openBackend(flags);
    try {
      await runGet(backend, stdio, {
        kind,
        ...(args.name !== undefined ? { name: args.name } : {}),
        output: flags.output,
        showSecrets: flags['show-secrets'],
        home: this.backendConfig(flags).home,
      });
    } finally {
      await backend.close();
    }
  }
}
