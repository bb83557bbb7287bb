import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../cli/base-command.js';
import { colorEnabled } from '../cli/color.js';
import { ExitCode } from '../cli/errors.js';
import {
  allowEmptyFlag,
  allowPlaintextSecretsFlag,
  compactFlag,
  fileFlag,
  manifestInput,
  projectFlag,
  pruneFlag,
  resealSecretsFlag,
} from '../cli/manifest-input.js';
import { printPlanFailure, printPlanOutcome } from '../cli/plan-output.js';
import type { Plan as PlanValue } from '../plan/types.js';
import type { SecretKey } from '../secrets/key.js';

export default class Plan extends StigmerCommand {
  static override summary = 'Show what apply would change: create, update or delete.';
  static override description =
    'Loads and validates the manifests (default ./manifests), reads the live state of the backend and prints ' +
    'the ordered changes that `stigmer apply` would make. Nothing is written to the backend.';
  static override examples = [
    '<%= config.bin %> plan',
    '<%= config.bin %> plan manifests --out plan.json',
    '<%= config.bin %> plan --json --no-prune',
    '<%= config.bin %> plan --compact   # one line per changed resource',
    '<%= config.bin %> plan --detailed-exitcode   # 0 no changes, 2 changes, 1 error',
  ];
  static override args = {
    dir: Args.string({ description: 'Manifest directory (default ./manifests).', ignoreStdin: true }),
  };
  static override flags = {
    file: fileFlag,
    out: Flags.string({ description: 'Save the plan to FILE; `stigmer apply FILE` executes exactly it.' }),
    json: Flags.boolean({
      allowNo: true,
      description: 'Print the plan as JSON (formatVersion 1).',
      default: false,
    }),
    compact: compactFlag,
    'detailed-exitcode': Flags.boolean({
      allowNo: true,
      description: 'Exit 0 when there are no changes, 2 when there are changes, 1 on error.',
      default: false,
    }),
    prune: pruneFlag,
    project: projectFlag,
    'allow-empty': allowEmptyFlag,
    'allow-plaintext-secrets': allowPlaintextSecretsFlag,
    'reseal-secrets': resealSecretsFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plan);
    const input = await manifestInput(args.dir, flags.file);
    const { planWithNoopMemo } = await import('../core/noop-memo.js');
    const { planManifests } = await import('../core/reconcile.js');
    const backend = await this.openBackend(flags);
    try {
      let result: { plan: PlanValue; secretKey: SecretKey | null };
      try {
        // Shown, not saved: a no-op plan of unchanged manifests and state is given again from
        // the memo (src/core/noop-memo.ts); a saved plan needs every version it looked at.
        result = await (flags.out ? planManifests : planWithNoopMemo)(backend, {
          ...input,
          ...(flags.project !== undefined ? { project: flags.project } : {}),
          prune: flags.prune,
          allowEmpty: flags['allow-empty'],
          secrets: {
            home: this.backendConfig(flags).home,
            allowPlaintextSecrets: flags['allow-plaintext-secrets'],
            resealSecrets: flags['reseal-secrets'],
          },
        });
      } catch (err) {
        throw printPlanFailure(err, { json: flags.json, backend: backend.info, project: flags.project });
      }
      const { plan } = result;
      const changes = plan.changes.length;
      if (flags.out && !plan.diagnostics.some((d) => d.severity === 'error')) {
        const { planFileKey, savePlanFile } = await import('../core/plan-file.js');
        savePlanFile(
          flags.out,
          plan,
          result.secretKey ?? planFileKey({ home: this.backendConfig(flags).home }),
        );
      }
      const failed = await printPlanOutcome(plan, {
        json: flags.json,
        color: colorEnabled(),
        compact: flags.compact,
        savedTo: flags.out,
      });
      if (failed) throw new ExitCode(1);
      if (flags['detailed-exitcode'] && changes > 0) throw new ExitCode(2);
    } finally {
      await backend.close();
    }
  }
}
