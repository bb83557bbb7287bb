import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { parseKind } from '../backend/kinds.js';
import { StigmerCommand } from '../cli/base-command.js';
import { colorEnabled } from '../cli/color.js';
import { confirm } from '../cli/confirm.js';
import { ExitCode } from '../cli/errors.js';
import { compactFlag } from '../cli/manifest-input.js';
import { printApplyOutcome, printPlanOutcome } from '../cli/plan-output.js';
import { StigmerError } from '../errors.js';

export default class Rollback extends StigmerCommand {
  static override summary = 'Restore a resource to an earlier version of its history, as a reviewed plan.';
  static override description =
    'Builds an ordinary plan that restores the spec, labels and user annotations KIND/NAME had at VERSION ' +
    '(see `stigmer history`), shows it and asks for confirmation like apply; the apply is refused as stale ' +
    'if the resource changed meanwhile, and is recorded in history as "rollback of KIND/NAME to version N". ' +
    'With --out FILE the plan is only saved, for `stigmer apply FILE`. The next `stigmer plan` of the ' +
    'manifests shows the rolled-back resource as changed outside Stigmer, and restores the manifests on apply.';
  static override examples = [
    '<%= config.bin %> rollback agent support-bot --to 1',
    '<%= config.bin %> rollback agent support-bot --to 1 --out rollback.plan',
    '<%= config.bin %> rollback skill code-review-guidelines --to 3 --auto-approve',
  ];
  static override args = {
    kind: Args.string({ description: 'Kind of resource (agent, Agents, workflow, ...).', required: true }),
    name: Args.string({ description: 'Name of the resource.', required: true }),
  };
  static override flags = {
    to: Flags.integer({ description: 'The history version to restore.', required: true, min: 1 }),
    out: Flags.string({ description: 'Only save the plan to FILE; `stigmer apply FILE` executes it.' }),
    'auto-approve': Flags.boolean({
      allowNo: true,
      description: 'Apply without asking for confirmation.',
      default: false,
    }),
    json: Flags.boolean({
      allowNo: true,
      description: 'Print the plan (and the results) as JSON.',
      default: false,
    }),
    compact: compactFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rollback);
    const kind = parseKind(args.kind);
    const color = colorEnabled();
    const backend = await this.openBackend(flags);
    try {
      const { planRollback } = await import('../core/rollback.js');
      const { plan } = await planRollback(backend, { kind, name: args.name, version: flags.to });
      if (flags.out) {
        const { planFileKey, savePlanFile } = await import('../core/plan-file.js');
        savePlanFile(flags.out, plan, planFileKey({ home: this.backendConfig(flags).home }));
      }
      const shown = { color, compact: flags.compact, failureNote: 'nothing was applied' };
      if (flags.out || plan.diagnostics.some((d) => d.severity === 'error')) {
        if (await printPlanOutcome(plan, { json: flags.json, ...shown, savedTo: flags.out }))
          throw new ExitCode(1);
        return;
      }
      if (!flags.json) await printPlanOutcome(plan, { json: false, ...shown });
      if (plan.changes.length > 0 && !flags['auto-approve']) {
        const ok = await confirm(
          `Do you want to perform this rollback (project "${plan.project}")?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: `,
          'rollback',
        );
        if (!ok) throw new StigmerError('ABORTED', 'rollback cancelled; nothing was changed');
      }
      const { applyPlan } = await import('../apply/apply.js');
      // Stale-checked like a saved plan: the resource must still be at the version shown.
      const result = await applyPlan(backend, plan, {
        checkObserved: true,
        ...(flags.json ? {} : { onEvent: printApplyOutcome.eventPrinter({ color }) }),
      });
      if (flags.json) printApplyOutcome.json(plan, result);
    } finally {
      await backend.close();
    }
  }
}
