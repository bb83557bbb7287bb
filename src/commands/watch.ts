import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import type { Backend } from '../backend/types.js';
import { StigmerCommand } from '../cli/base-command.js';
import { colorEnabled } from '../cli/color.js';
import { allowEmptyFlag, DEFAULT_DIR, projectFlag } from '../cli/manifest-input.js';
import type { WatchPrinter } from '../watch/report.js';
import type { WatchSession } from '../watch/session.js';

export default class Watch extends StigmerCommand {
  static override summary = 'Keep a manifest directory applied: plan and apply on every change.';
  static override description =
    'Applies the directory once, then watches it and applies again after every change (debounced). ' +
    'Only changed files are re-read. A file that fails to load or validate is reported with its location and ' +
    'nothing is applied until it is fixed; the last good state stays applied. Resources whose manifests are ' +
    'removed are kept unless --prune is given. Ctrl-C lets the running apply finish, then stops.';
  static override examples = [
    '<%= config.bin %> watch',
    '<%= config.bin %> watch manifests --debounce 100',
    '<%= config.bin %> watch manifests --prune --json',
  ];
  static override args = {
    dir: Args.string({ description: 'Manifest directory to watch (default ./manifests).' }),
  };
  static override flags = {
    debounce: Flags.integer({
      description:
        'Milliseconds to wait after the last change before applying (0: at once). A steady stream of changes ' +
        'still applies within a few seconds.',
      default: 300,
      min: 0,
      max: 60_000,
    }),
    prune: Flags.boolean({
      description: 'Delete resources whose manifests are removed (off by default in watch mode).',
      allowNo: true,
      default: false,
    }),
    project: projectFlag,
    'allow-empty': allowEmptyFlag,
    'allow-plaintext-secrets': Flags.boolean({
      allowNo: true,
      description: 'Accept a plaintext `value` on a secret Environment entry (throw-away local stacks only).',
      default: false,
    }),
    message: Flags.string({
      char: 'm',
      description: 'Message recorded in the history of every changed resource.',
      default: 'stigmer watch',
    }),
    json: Flags.boolean({
      allowNo: true,
      description: 'Print one JSON object per cycle (NDJSON).',
      default: false,
    }),
  };

  async run(): Promise<void> {
    // Signals are taken over first, so that a Ctrl-C even during start-up stops cleanly (exit 0).
    // First Ctrl-C / SIGTERM: let the running cycle finish, then stop. A second one during a
    // cycle abandons it: the apply is one transaction, so nothing is left half-applied.
    let session: WatchSession | undefined;
    let printer: WatchPrinter | undefined;
    let requestStop: () => void = () => {};
    const stopRequested = new Promise<void>((resolve) => {
      requestStop = resolve;
    });
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals === 1) {
        requestStop();
      } else if (session === undefined || session.busy) {
        printer?.stopped(
          `Received ${signal} again: abandoning the running cycle (its apply is rolled back).`,
        );
        process.exit(0);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let backend: Backend | undefined;
    try {
      const { args, flags } = await this.parse(Watch);
      const { startWatch } = await import('../watch/session.js');
      const { createHumanPrinter, createJsonPrinter } = await import('../watch/report.js');
      printer = flags.json
        ? createJsonPrinter({ write: (t) => this.out(t), writeNotice: (t) => this.err(t) })
        : createHumanPrinter({ color: colorEnabled(), write: (t) => process.stdout.write(t) });
      backend = await this.openBackend(flags);
      session = await startWatch({
        backend,
        dir: args.dir ?? DEFAULT_DIR,
        ...(flags.project !== undefined ? { project: flags.project } : {}),
        prune: flags.prune,
        allowEmpty: flags['allow-empty'],
        ...(flags['allow-plaintext-secrets'] ? { secrets: { allowPlaintextSecrets: true } } : {}),
        message: flags.message,
        debounceMs: flags.debounce,
        printer,
      });
      await stopRequested;
      await session.stop();
      printer.stopped('Stopped watching.');
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await backend?.close();
    }
  }
}
