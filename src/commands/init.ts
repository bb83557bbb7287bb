import { StigmerCommand } from '../cli/base-command.js';
import { initStigmer } from '../core/init.js';

export default class Init extends StigmerCommand {
  static override summary = 'Create $STIGMER_HOME, config.yaml and the local database.';
  static override description =
    'Sets up the local backend: creates $STIGMER_HOME (default ~/.stigmer), a config.yaml that selects ' +
    '`backend: local`, and local.db with every migration applied. Running it again changes nothing and says so. ' +
    'Other commands do not need it: opening the local database creates it.';
  static override examples = [
    '<%= config.bin %> init',
    'STIGMER_HOME=/tmp/stigmer-demo <%= config.bin %> init',
    '<%= config.bin %> init --db ./state/local.db',
  ];

  async run(): Promise<void> {
    const { flags } = await this.parse(Init);
    const result = await initStigmer({
      flags: {
        ...(flags.db !== undefined ? { db: flags.db } : {}),
        ...(flags['lock-timeout'] !== undefined ? { lockTimeout: flags['lock-timeout'] } : {}),
      },
    });
    if (result.unchanged) {
      this.out(`Stigmer is already initialised in ${result.home}; nothing changed.`);
      this.out(`  config:   ${result.configPath}`);
      this.out(`  database: ${result.dbPath} (schema version ${result.schemaVersion})`);
      return;
    }
    for (const path of result.created) this.out(`Created ${path}`);
    if (result.migrationsApplied.length > 0) {
      this.out(`Upgraded ${result.dbPath}: applied ${result.migrationsApplied.join(', ')}`);
    }
    this.out(`Stigmer is ready (local backend, schema version ${result.schemaVersion}).`);
    this.out('Next: `stigmer plan` to see what your ./manifests would create, then `stigmer apply`.');
  }
}
