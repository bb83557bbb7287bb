import * as Args from '@oclif/core/args';
import { StigmerCommand } from '../../cli/base-command.js';
import { useBackend } from '../../core/backend-config.js';

export default class BackendUse extends StigmerCommand {
  static override summary = 'Choose the default backend: local, or cloud with --endpoint and --token.';
  static override description =
    'Writes `backend:` (and for cloud, `cloud.endpoint` and `cloud.token`) to $STIGMER_HOME/config.yaml, keeping ' +
    'its other settings. Flags and environment variables (STIGMER_BACKEND, ...) still win over the file.';
  static override examples = [
    '<%= config.bin %> backend use local',
    '<%= config.bin %> backend use cloud --endpoint https://stigmer.example.com --token "$STIGMER_TOKEN"',
  ];
  static override args = {
    type: Args.string({ description: 'Backend type.', options: ['local', 'cloud'], required: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(BackendUse);
    const result = useBackend({
      type: args.type as 'local' | 'cloud',
      ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
      ...(flags.token !== undefined ? { token: flags.token } : {}),
    });
    const where = result.type === 'cloud' ? ` at ${result.endpoint}` : '';
    this.out(`Default backend is now ${result.type}${where} (written to ${result.configPath}).`);
    if (result.overriddenBy) {
      this.err(
        `Note: ${result.overriddenBy} is set in your environment and takes precedence over config.yaml.`,
      );
    }
  }
}
