import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../../cli/base-command.js';
import { formatStatus, formatStatusJson } from '../../cli/printers/resources.js';

export default class BackendStatus extends StigmerCommand {
  static override summary = 'Show the backend in use: type, location, schema version and counts per kind.';
  static override description =
    'Resolves the backend (flag > environment variable > $STIGMER_HOME/config.yaml > default), opens it and ' +
    'reports what it holds. The local database is created if it does not exist yet.';
  static override examples = [
    '<%= config.bin %> backend status',
    '<%= config.bin %> backend status --json',
    '<%= config.bin %> backend status --db ./other.db',
  ];
  static override flags = {
    json: Flags.boolean({ allowNo: true, description: 'Print the status as JSON.', default: false }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(BackendStatus);
    const backend = await this.openBackend(flags);
    try {
      const status = await backend.status();
      this.out(flags.json ? formatStatusJson(status) : formatStatus(status));
    } finally {
      await backend.close();
    }
  }
}
