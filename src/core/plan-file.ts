/** Saving and reading `plan --out` files (the format itself lives in src/plan/plan-file.ts). */
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
import type { BackendInfo } from '../backend/types.js';
import { StigmerError } from '../errors.js';
import { looksLikePlanFile, parsePlanFile, serializePlanFile } from '../plan/plan-file.js';
import type { Plan } from '../plan/types.js';

/** Writes the plan file atomically (temp file + rename), readable by the owner only. */
export function savePlanFile(path: string, plan: Plan): void {
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, serializePlanFile(plan), { mode: 0o600 });
    renameSync(tmp, path);
  } catch (cause) {
    if (cause instanceof StigmerError) throw cause;
    throw new StigmerError('USAGE', `cannot write plan file "${path}": ${(cause as Error).message}`, {
      cause,
    });
  }
}

/**
 * When `target` is a saved plan file, parses and returns it; when it is a directory or a
 * manifest, returns null so the caller loads manifests instead.
 */
export function readPlanFileIfAny(target: string): Plan | null {
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
  return parsePlanFile(text);
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
