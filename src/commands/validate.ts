import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../cli/base-command.js';
import { ExitCode } from '../cli/errors.js';
import { fileFlag, manifestInput } from '../cli/manifest-input.js';
import { formatDiagnostic } from '../errors.js';

export default class Validate extends StigmerCommand {
  static override summary =
    'Check manifests offline: schema, names, duplicates, references, cycles, expressions.';
  static override description =
    'Reads a directory (default ./manifests) or files and reports every problem as file:line:col: message. ' +
    'No backend is contacted, so references must resolve within the manifests.';
  static override examples = [
    '<%= config.bin %> validate',
    '<%= config.bin %> validate examples/support-desk',
    'cat agent.yaml | <%= config.bin %> validate -f -',
  ];
  static override args = {
    dir: Args.string({ description: 'Manifest directory (default ./manifests).', ignoreStdin: true }),
  };
  static override flags = {
    file: fileFlag,
    json: Flags.boolean({ allowNo: true, description: 'Print the result as JSON.', default: false }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Validate);
    const { loadManifests } = await import('../manifest/index.js');
    const result = await loadManifests(await manifestInput(args.dir, flags.file));
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    if (flags.json) {
      this.out(
        JSON.stringify(
          {
            valid: errors.length === 0,
            resources: result.resources.map((r) => ({
              kind: r.kind,
              name: r.name,
              source: `${r.source.file}:${r.source.line}`,
            })),
            diagnostics: result.diagnostics.map(({ severity, file, line, column, message }) => ({
              severity,
              file,
              line,
              column,
              message,
            })),
          },
          null,
          2,
        ),
      );
    } else {
      for (const d of result.diagnostics) this.err(formatDiagnostic(d));
      if (errors.length === 0) {
        const n = result.resources.length;
        this.out(
          `Success! ${n} resource${n === 1 ? '' : 's'} in ${result.files.length} file${result.files.length === 1 ? '' : 's'} valid.`,
        );
      } else {
        this.err(`Error: ${errors.length} error${errors.length === 1 ? '' : 's'} in manifests`);
      }
    }
    if (errors.length > 0) throw new ExitCode(1);
  }
}
