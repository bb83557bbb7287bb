/**
 * The saved plan file (`stigmer plan --out FILE`, `stigmer apply FILE`): the whole Plan,
 * including what apply writes (`write`) and the live versions it was made against
 * (`observed`), wrapped with a format marker, the program version, the id of the secret key
 * and a MAC.
 *
 * Authentication: the MAC is HMAC-SHA256, under a subkey of the secret key
 * (`STIGMER_SECRET_KEY` or `$STIGMER_HOME/master.key`), of the canonical JSON of every other
 * member. A file edited anywhere, or made with another key, is refused as a whole; machines
 * that share `STIGMER_SECRET_KEY` (a team's CI) can plan on one and apply on another. Nothing
 * in a file is trusted before its MAC is checked.
 *
 * Secrets: a plan file never holds a plaintext secret. Sealed values (ciphertext + keyed hash)
 * are saved as they are; a plaintext `value` of a secret entry is replaced by a placeholder and
 * listed in `unsavedSecrets`, and such a file is refused by `parsePlanFile`: applying it would
 * store the placeholder instead of the secret.
 */
import { readFileSync } from 'node:fs';
import { StigmerError } from '../errors.js';
import type { SecretKey } from '../secrets/key.js';
import { planFileMac, verifyPlanFileMac } from '../secrets/seal.js';
import { DECLARED_KINDS, type JsonObject, type JsonValue } from '../types.js';
import { canonicalJson } from './hash.js';
import { planHasErrors } from './plan.js';
import { isSecretEntry, secretKeys } from './secrets.js';
import type { Plan, PlannedChange } from './types.js';

/** Value of the `format` marker of a plan file. */
export const PLAN_FILE_FORMAT = 'stigmer-plan';
/** Version of the plan file layout (2: authenticated with a keyed MAC). */
export const PLAN_FILE_VERSION = 2;
/** What replaces a plaintext secret value in a saved plan. */
export const UNSAVED_SECRET = '(sensitive: not saved in plan files)';

/** The JSON document of a plan file. */
export interface PlanFile {
  format: typeof PLAN_FILE_FORMAT;
  formatVersion: typeof PLAN_FILE_VERSION;
  /** Version of stigmer that wrote the file. */
  stigmerVersion: string;
  /** Id of the secret key the MAC was made with (never the key). */
  keyId: string;
  /** `hmac-sha256:<hex>` of the canonical JSON of every other member. */
  mac: string;
  /** `Kind/name: KEY` of each secret whose plaintext value was left out. */
  unsavedSecrets: string[];
  plan: Plan;
}

let cachedVersion: string | undefined;

/** The version in stigmer's package.json (two levels above this module in src/ and in dist/). */
export function programVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
        version?: unknown;
      };
      cachedVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
    } catch {
      cachedVersion = '0.0.0';
    }
  }
  return cachedVersion;
}

/** The text the MAC covers: the canonical JSON of every member but the MAC. */
function authenticatedText(file: Omit<PlanFile, 'mac'>): string {
  return canonicalJson({
    format: file.format,
    formatVersion: file.formatVersion,
    stigmerVersion: file.stigmerVersion,
    keyId: file.keyId,
    unsavedSecrets: file.unsavedSecrets,
    plan: file.plan,
  });
}

/** `write` with every plaintext secret value replaced by the placeholder; names what it replaced. */
function withoutPlaintextSecrets(change: PlannedChange, unsaved: string[]): PlannedChange {
  const write = change.write;
  if (!write) return change;
  const keys = secretKeys(change.kind, write.spec);
  if (keys.length === 0) return change;
  const data = { ...(write.spec.data as JsonObject) };
  let replaced = false;
  for (const key of keys) {
    const entry = data[key];
    if (isSecretEntry(entry) && typeof entry.value === 'string') {
      data[key] = { ...entry, value: UNSAVED_SECRET };
      unsaved.push(`${change.kind}/${change.name}: ${key}`);
      replaced = true;
    }
  }
  if (!replaced) return change;
  return { ...change, write: { ...write, spec: { ...write.spec, data } } };
}

/**
 * The plan file text for a plan (JSON, 2-space indented, trailing newline), authenticated
 * with `key`.
 *
 * @throws StigmerError('PLAN') when the plan has errors: such a plan can never be applied.
 */
export function serializePlanFile(plan: Plan, options: { key: SecretKey; stigmerVersion?: string }): string {
  if (planHasErrors(plan)) {
    throw new StigmerError('PLAN', 'a plan with errors cannot be saved', {
      hint: 'fix the errors reported by `stigmer plan` first',
    });
  }
  const unsavedSecrets: string[] = [];
  const saved: Plan = {
    ...plan,
    changes: plan.changes.map((c) => withoutPlaintextSecrets(c, unsavedSecrets)),
  };
  const body = {
    format: PLAN_FILE_FORMAT,
    formatVersion: PLAN_FILE_VERSION,
    stigmerVersion: options.stigmerVersion ?? programVersion(),
    keyId: options.key.keyId,
    unsavedSecrets,
    plan: saved,
  } as const;
  const file: PlanFile = { ...body, mac: planFileMac(options.key, authenticatedText(body)) };
  return `${JSON.stringify(file, null, 2)}\n`;
}

/** True when the text is a Stigmer plan file (by its marker), valid or not. */
export function looksLikePlanFile(text: string): boolean {
  if (!text.trimStart().startsWith('{')) return false;
  try {
    const doc = JSON.parse(text) as { format?: unknown };
    return doc !== null && typeof doc === 'object' && doc.format === PLAN_FILE_FORMAT;
  } catch {
    return false;
  }
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function corrupt(what: string): StigmerError {
  return new StigmerError('PLAN', `not a valid Stigmer plan file: ${what}`, {
    hint: 'save a new one with `stigmer plan --out FILE`',
  });
}

const KINDS = new Set<string>(DECLARED_KINDS);
const ACTIONS = new Set(['create', 'update', 'delete']);

function checkPlanShape(plan: unknown): asserts plan is Plan {
  if (!isObject(plan)) throw corrupt('no plan in it');
  if (plan.formatVersion !== 1 || typeof plan.project !== 'string') throw corrupt('bad plan header');
  if (
    !isObject(plan.backend) ||
    typeof plan.backend.type !== 'string' ||
    typeof plan.backend.location !== 'string'
  )
    throw corrupt('bad backend');
  if (!Array.isArray(plan.changes) || !Array.isArray(plan.observed) || !Array.isArray(plan.diagnostics))
    throw corrupt('bad plan body');
  if (plan.message !== undefined && typeof plan.message !== 'string') throw corrupt('bad message');
  for (const c of plan.changes) {
    if (
      !isObject(c) ||
      !ACTIONS.has(String(c.action)) ||
      !KINDS.has(String(c.kind)) ||
      typeof c.name !== 'string'
    )
      throw corrupt('bad change');
    const expected = c.expectedVersion;
    if (c.action === 'create' ? expected !== null : typeof expected !== 'number')
      throw corrupt('bad change version');
    if (c.action !== 'delete' && !(isObject(c.write) && isObject(c.write.spec)))
      throw corrupt('change without write');
  }
  for (const o of plan.observed) {
    if (!isObject(o) || !KINDS.has(String(o.kind)) || typeof o.name !== 'string')
      throw corrupt('bad observed entry');
    if (o.version !== null && typeof o.version !== 'number') throw corrupt('bad observed version');
  }
}

/**
 * Reads a plan file back, after checking its MAC under `key`.
 *
 * @throws StigmerError('PLAN') for text that is not a plan file, another format version, a
 *   file that fails authentication (edited, damaged, or made with another secret key), or a
 *   plan with errors; StigmerError('SECRET') for a plan that changes plaintext secrets, which
 *   plan files never hold.
 */
export function parsePlanFile(text: string, options: { key: SecretKey }): Plan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw corrupt('it is not JSON');
  }
  if (!isObject(doc) || doc.format !== PLAN_FILE_FORMAT)
    throw corrupt(`no "format": "${PLAN_FILE_FORMAT}" marker`);
  if (doc.formatVersion !== PLAN_FILE_VERSION) {
    throw new StigmerError('PLAN', `plan file format version ${String(doc.formatVersion)} is not supported`, {
      hint: `it was written by stigmer ${String(doc.stigmerVersion)}; plan again with this version`,
    });
  }
  if (
    typeof doc.stigmerVersion !== 'string' ||
    typeof doc.keyId !== 'string' ||
    !Array.isArray(doc.unsavedSecrets) ||
    typeof doc.mac !== 'string'
  )
    throw corrupt('bad header');
  const body = {
    format: PLAN_FILE_FORMAT,
    formatVersion: PLAN_FILE_VERSION,
    stigmerVersion: doc.stigmerVersion,
    keyId: doc.keyId,
    unsavedSecrets: doc.unsavedSecrets as string[],
    plan: doc.plan as unknown as Plan,
  } as const;
  if (!verifyPlanFileMac(options.key, authenticatedText(body), doc.mac)) {
    if (doc.keyId !== options.key.keyId) {
      throw new StigmerError(
        'PLAN',
        `saved plan was made with secret key ${doc.keyId}, but this machine's key is ${options.key.keyId}; nothing was applied`,
        {
          hint: 'apply it where STIGMER_SECRET_KEY is the key that made it (CI: share one STIGMER_SECRET_KEY), or plan again here',
        },
      );
    }
    throw new StigmerError(
      'PLAN',
      'saved plan failed authentication: it was changed after it was saved; nothing was applied',
      { hint: 'save a new one with `stigmer plan --out FILE`' },
    );
  }
  checkPlanShape(doc.plan);
  const plan = doc.plan;
  if (planHasErrors(plan)) throw corrupt('it holds a plan with errors');
  if (body.unsavedSecrets.length > 0) {
    throw new StigmerError(
      'SECRET',
      `saved plan cannot be applied: it sets plaintext secret values, which plan files never hold (${body.unsavedSecrets.join(', ')})`,
      {
        hint: 'give secrets with valueFrom: {env: ...} or {file: ...}, or apply the manifests directly with `stigmer apply DIR`',
      },
    );
  }
  return plan;
}
