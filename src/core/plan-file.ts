/**
 * Saving, reading and preparing `plan --out` files (the format itself lives in
 * src/plan/plan-file.ts). Every file is authenticated with the secret key (see
 * `planFileKey`), so saving and reading both need it.
 */
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { stigmerHome } from '../backend/config.js';
import type { Backend, BackendInfo } from '../backend/types.js';
import { ConflictError, StigmerError } from '../errors.js';
import { looksLikePlanFile, parsePlanFile, serializePlanFile } from '../plan/plan-file.js';
import { describeSavedPlan } from '../plan/saved-plan.js';
import type { Plan } from '../plan/types.js';
import { loadSecretKey, type SecretKey } from '../secrets/key.js';
import type { SecretOptions } from './reconcile.js';
import { readLiveState } from './reconcile.js';

/**
 * The key that authenticates plan files: `STIGMER_SECRET_KEY`, else `$STIGMER_HOME/master.key`
 * (created 0600 on first use, so a fresh home works). A team whose CI plans on one machine and
 * applies on another shares `STIGMER_SECRET_KEY`.
 */
export function planFileKey(options: SecretOptions = {}): SecretKey {
  const env = options.env ?? process.env;
  return loadSecretKey({ home: options.home ?? stigmerHome(env), env });
}

/** Writes the plan file atomically (temp file + rename), readable by the owner only. */
export function savePlanFile(path: string, plan: Plan, key: SecretKey): void {
  const text = serializePlanFile(plan, { key });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (cause) {
    if (cause instanceof StigmerError) throw cause;
    throw new StigmerError('USAGE', `cannot write plan file "${path}": ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * When `target` is a saved plan file, authenticates, parses and returns it; when it is a
 * directory or a manifest, returns null so the caller loads manifests instead. `key` is only
 * called for a plan file.
 */
export function readPlanFileIfAny(target: string, key: () => SecretKey): Plan | null {
  if (!existsSync(target) || !statSync(target).isFile()) return null;
  const head = Buffer.alloc(256);
  const fd = openSync(target, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const start = head.subarray(0, n).toString('utf8').trimStart();
  if (!start.startsWith('{')) return null;
  if (!start.includes('"format"')) {
    if (isPlanJsonOutput(target)) {
      throw new StigmerError(
        'PLAN',
        `"${target}" is the JSON output of \`stigmer plan --json\`, not a saved plan`,
        {
          hint: 'save a plan that apply can execute with `stigmer plan --out FILE`, then `stigmer apply FILE`',
        },
      );
    }
    return null;
  }
  const text = readFileSync(target, 'utf8');
  if (!looksLikePlanFile(text)) {
    throw new StigmerError('PLAN', `"${target}" is not a stigmer plan file`, {
      hint: 'pass a manifest directory, -f FILE, or a file written by `stigmer plan --out`',
    });
  }
  return parsePlanFile(text, { key: key() });
}

/** True when the file is what `plan --json` prints (people redirect it and try to apply it). */
function isPlanJsonOutput(path: string): boolean {
  try {
    const value: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return (
      typeof value === 'object' &&
      value !== null &&
      'formatVersion' in value &&
      'changes' in value &&
      'summary' in value
    );
  } catch {
    return false;
  }
}

/** A saved plan only applies to the backend it was made against. */
export function assertPlanForBackend(plan: Plan, info: BackendInfo): void {
  if (plan.backend.type !== info.type || plan.backend.location !== info.location) {
    throw new StigmerError(
      'STALE_PLAN',
      `saved plan was made against the ${plan.backend.type} backend at ${plan.backend.location}, not ${info.location}`,
      { hint: 'apply it with the same --backend/--db, or run `stigmer plan` again' },
    );
  }
}

/**
 * A saved plan made ready to show and apply against `backend`: refused when made against
 * another backend, or when anything it changes moved on since (STALE_PLAN, before anything
 * is shown); otherwise the plan whose shown fields and counts are rebuilt from what it writes
 * (`describeSavedPlan`). `applyPlan(..., {checkObserved: true})` checks it all again inside
 * the transaction.
 */
export async function prepareSavedPlan(backend: Backend, plan: Plan): Promise<Plan> {
  assertPlanForBackend(plan, backend.info);
  const live = await readLiveState(backend);
  try {
    return describeSavedPlan(plan, live);
  } catch (err) {
    if (err instanceof ConflictError) {
      throw new StigmerError('STALE_PLAN', `saved plan is stale: ${err.message}; nothing was changed`, {
        hint: 'run `stigmer plan` again (and save a new plan with --out if you need one)',
        cause: err,
      });
    }
    throw err;
  }
}

/** What a command was given besides the plan file, for `savedPlanFlagConflicts`. */
export interface SavedPlanFlags {
  project?: string | undefined;
  /** True when --prune/--no-prune (or --prune=BOOL) was given explicitly. */
  prune?: boolean;
  allowEmpty?: boolean;
  allowPlaintextSecrets?: boolean;
  resealSecrets?: boolean;
}

/**
 * A saved plan is applied exactly as it was made: options that would change what a plan holds
 * are a mistake next to one.
 *
 * @throws StigmerError('USAGE') naming every such flag given
 */
export function assertNoPlanningFlags(flags: SavedPlanFlags): void {
  const given = [
    flags.project !== undefined ? '--project' : null,
    flags.prune ? '--prune/--no-prune' : null,
    flags.allowEmpty ? '--allow-empty' : null,
    flags.allowPlaintextSecrets ? '--allow-plaintext-secrets' : null,
    flags.resealSecrets ? '--reseal-secrets' : null,
  ].filter((f) => f !== null);
  if (given.length > 0) {
    throw new StigmerError(
      'USAGE',
      `${given.join(', ')} cannot be used when applying a saved plan: it is applied exactly as it was made`,
      { hint: `pass ${given.join(', ')} to \`stigmer plan --out\` instead` },
    );
  }
}
