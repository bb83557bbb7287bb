import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StigmerCommand } from '../cli/base-command.js';
import { colorEnabled } from '../cli/color.js';
import { confirm } from '../cli/confirm.js';
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
import { printApplyOutcome, printPlanFailure, printPlanOutcome } from '../cli/plan-output.js';
import { StigmerError } from '../errors.js';
import type { Plan } from '../plan/types.js';

export default class Apply extends StigmerCommand {
  static override summary = 'Apply manifests, or a saved plan, to the backend in one atomic batch.';
  static override description =
    'Plans like `stigmer plan`, asks for confirmation (on a terminal) and applies every change or none. ' +
    'Given a plan file saved with `stigmer plan --out`, applies exactly that plan, and refuses it as stale if ' +
    'anything it looked at has changed since.';
  static override examples = [
    '<%= config.bin %> apply',
    '<%= config.bin %> apply manifests --auto-approve --message "release 1.2"',
    '<%= config.bin %> plan --out plan.json && <%= config.bin %> apply plan.json --auto-approve',
  ];
  static override args = {
    target: Args.string({
      description: 'Manifest directory (default ./manifests) or a saved plan file.',
      ignoreStdin: true,
    }),
  };
  static override flags = {
    file: fileFlag,
    'auto-approve': Flags.boolean({
      allowNo: true,
      description: 'Apply without asking for confirmation.',
      default: false,
    }),
    json: Flags.boolean({
      allowNo: true,
      description: 'Print the plan and its results as JSON.',
      default: false,
    }),
    compact: compactFlag,
    prune: pruneFlag,
    project: projectFlag,
    'allow-empty': allowEmptyFlag,
    'allow-plaintext-secrets': allowPlaintextSecretsFlag,
    'reseal-secrets': resealSecretsFlag,
    message: Flags.string({
      char: 'm',
      description: 'Message recorded in the history of every changed resource.',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Apply);
    const { assertNoPlanningFlags, planFileKey, prepareSavedPlan, readPlanFileIfAny } = await import(
      '../core/plan-file.js'
    );
    const home = this.backendConfig(flags).home;
    const saved =
      args.target !== undefined && flags.file === undefined
        ? readPlanFileIfAny(args.target, () => planFileKey({ home }))
        : null;
    if (saved) {
      assertNoPlanningFlags({
        project: flags.project,
        prune: this.argv.some((a) => /^--(no-)?prune$/.test(a)),
        allowEmpty: flags['allow-empty'],
        allowPlaintextSecrets: flags['allow-plaintext-secrets'],
        resealSecrets: flags['reseal-secrets'],
      });
    }
    const input = saved ? null : await manifestInput(args.target, flags.file);
    const color = colorEnabled();
    const backend = await this.openBackend(flags);
    try {
      let plan: Plan;
      if (saved) {
        // What is shown and counted is rebuilt from what the plan writes, against the live state.
        plan = await prepareSavedPlan(backend, saved);
      } else {
        const { planManifests } = await import('../core/reconcile.js');
        try {
          ({ plan } = await planManifests(backend, {
            ...input!,
            ...(flags.project !== undefined ? { project: flags.project } : {}),
            prune: flags.prune,
            allowEmpty: flags['allow-empty'],
            toApply: true,
            secrets: {
              home,
              allowPlaintextSecrets: flags['allow-plaintext-secrets'],
              resealSecrets: flags['reseal-secrets'],
            },
          }));
        } catch (err) {
          throw printPlanFailure(err, { json: flags.json, backend: backend.info, project: flags.project });
        }
      }
      const shown = { color, compact: flags.compact, failureNote: 'nothing was applied' };
      if (plan.diagnostics.some((d) => d.severity === 'error')) {
        await printPlanOutcome(plan, { json: flags.json, ...shown });
        throw new ExitCode(1);
      }
      if (!flags.json) await printPlanOutcome(plan, { json: false, ...shown });
      if (plan.changes.length > 0 && !flags['auto-approve']) {
        const ok = await confirm(
          `Do you want to perform these actions (project "${plan.project}")?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `,
        );
        if (!ok) throw new StigmerError('ABORTED', 'apply cancelled; nothing was changed');
      }
      const { applyPlan } = await import('../apply/apply.js');
      const { collectBeforeLargeWrite } = await import('../heap.js');
      collectBeforeLargeWrite();
      const result = await applyPlan(backend, plan, {
        ...(flags.message !== undefined ? { message: flags.message } : {}),
        checkObserved: saved !== null,
        ...(flags.json ? {} : { onEvent: printApplyOutcome.eventPrinter({ color }) }),
      });
      if (flags.json) printApplyOutcome.json(plan, result);
    } finally {
      await backend.close();
    }
  }
}
