/**
 * Strict schema validation of one document against its kind's schema, with ajv errors turned
 * into messages a person can act on: an unknown field names the field and suggests the
 * closest allowed one, a type error says what was expected and what was found, a union
 * ("a name or an object") reports the branch that fits the value instead of every branch.
 * The validators are compiled ahead of time (schema-validators.ts, kept current by a test).
 * (`strictRequired` is off only because the "exactly one of" idiom names keys in `required`
 * inside `oneOf` branches, which ajv would otherwise reject; every other strict check is on.)
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import { closest, distance } from 'fastest-levenshtein';
import type { DeclaredKind } from '../types.js';
import { DNS_LABEL_PATTERN, IDENTIFIER_PATTERN } from './schema-constants.js';
import * as VALIDATORS from './schema-validators.js';

/** A schema problem, located by JSON pointer segments inside the document. */
export interface SchemaIssue {
  /** Segments of the JSON pointer of the offending value (or of the unknown key). */
  path: string[];
  /** True when the position is that of the key at `path` rather than its value. */
  atKey: boolean;
  message: string;
  hint?: string;
  /**
   * A number or boolean where a string is expected: the fix is to quote it. The hint here does
   * not repeat the value (it may be a secret, and the parsed value is not what was written:
   * `0x10` parses as 16); the caller words it from the source text when that is safe.
   */
  quote?: true;
}

type Target = DeclaredKind | 'stigmer.yaml';

/**
 * The options the validators are compiled with (by schema-data.test.ts, into
 * schema-validators.ts). `validateSchema: false`: our schemas are static and tested.
 */
export const AJV_OPTIONS = {
  allErrors: true,
  strict: true,
  strictRequired: false,
  verbose: true,
  validateSchema: false,
} as const;

/** The name schema-validators.ts exports the validator of `target` under. */
export function validatorExportName(target: string): string {
  return target.replace(/[^A-Za-z0-9_]/g, '_');
}

/** The precompiled validator of `target` (schema-validators.ts, generated from schema-data.ts). */
function validator(target: Target): ValidateFunction {
  const v = (VALIDATORS as unknown as Record<string, ValidateFunction | undefined>)[
    validatorExportName(target)
  ];
  if (!v) throw new Error(`no schema for ${target}`);
  return v;
}

/** Validates `value` against the schema of `target`; returns the problems found (empty when valid). */
export function checkSchema(target: Target, value: unknown): SchemaIssue[] {
  const validate = validator(target);
  if (validate(value)) return [];
  return describeErrors(reduceUnions([...(validate.errors ?? [])]));
}

/** Splits an ajv instancePath (a JSON pointer) into its decoded segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `spec.tasks[0].agent` for segments ['spec','tasks','0','agent']. */
export function displayPath(path: readonly string[]): string {
  let out = '';
  for (const seg of path) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][-A-Za-z0-9_]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** The closest of `candidates` to `word`, if it is close enough to be a likely typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0) return undefined;
  const lower = word.toLowerCase();
  const byLower = new Map(candidates.map((c) => [c.toLowerCase(), c]));
  const best = closest(lower, [...byLower.keys()]);
  const d = distance(lower, best);
  const limit = Math.max(2, Math.floor(Math.max(best.length, lower.length) / 3));
  // A short word is "close" to anything short: require part of it to survive the edit.
  return d <= limit && d < Math.min(best.length, lower.length) ? byLower.get(best) : undefined;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

interface SchemaLike {
  properties?: Record<string, unknown>;
  patternProperties?: Record<string, unknown>;
  required?: string[];
  type?: string | string[];
}

/** For `oneOf: [{required:[a]}, {required:[b]}]`: the keys, else undefined. */
function exactlyOneKeys(branches: unknown): string[] | undefined {
  if (!Array.isArray(branches)) return undefined;
  const keys: string[] = [];
  for (const b of branches as SchemaLike[]) {
    const props = Object.keys(b);
    if (props.length !== 1 || !Array.isArray(b.required) || b.required.length !== 1) return undefined;
    keys.push(b.required[0]!);
  }
  return keys;
}

function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

interface ReducedError {
  error: ErrorObject;
  /** Replacement message for a union reduced to one statement. */
  message?: string;
  hint?: string;
}

/**
 * Replaces the errors of each anyOf/oneOf by what matters to the user: for "exactly one of
 * these keys" a single sentence; for other unions the errors of the branch whose type fits
 * the value, or a single "expected X or Y" when none fits.
 */
function reduceUnions(errors: ErrorObject[]): ReducedError[] {
  const out: ReducedError[] = errors.map((error) => ({ error }));
  const unions = out
    .filter((e) => e.error.keyword === 'anyOf' || e.error.keyword === 'oneOf')
    .sort((a, b) => a.error.schemaPath.length - b.error.schemaPath.length);
  const removed = new Set<ReducedError>();
  for (const u of unions) {
    if (removed.has(u)) continue;
    const prefix = `${u.error.schemaPath}/`;
    const at = u.error.instancePath;
    const inside = out.filter(
      (e) =>
        !removed.has(e) &&
        e.error.schemaPath.startsWith(prefix) &&
        (e.error.instancePath === at || e.error.instancePath.startsWith(`${at}/`)),
    );
    const keys = exactlyOneKeys(u.error.schema);
    if (keys) {
      for (const e of inside) removed.add(e);
      const passing = (u.error.params as { passingSchemas?: number[] | null }).passingSchemas;
      const present = keys.filter((k) => isObject(u.error.data) && k in u.error.data);
      u.message =
        passing && present.length > 1
          ? `set only one of ${orList(present)}`
          : `set exactly one of ${orList(keys)}`;
      continue;
    }
    const byBranch = new Map<string, ReducedError[]>();
    for (const e of inside) {
      const branch = e.error.schemaPath.slice(prefix.length).split('/')[0]!;
      const list = byBranch.get(branch) ?? [];
      list.push(e);
      byBranch.set(branch, list);
    }
    const fitting = [...byBranch.values()].filter(
      (list) =>
        !list.some((e) => e.error.keyword === 'type' && e.error.instancePath === u.error.instancePath),
    );
    for (const e of inside) removed.add(e);
    if (fitting.length === 0) {
      const types = [...byBranch.values()].map((list) => {
        const t = list.find(
          (e) => e.error.keyword === 'type' && e.error.instancePath === u.error.instancePath,
        );
        return String((t?.error.params as { type?: string } | undefined)?.type ?? 'value');
      });
      u.message = `expected ${orList([...new Set(types)])}, got ${typeName(u.error.data)}`;
      continue;
    }
    const best = fitting.reduce((a, b) => (b.length < a.length ? b : a));
    for (const e of best) removed.delete(e);
    removed.add(u);
  }
  return out.filter((e) => !removed.has(e));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describePattern(pattern: string, value: unknown): { message: string; hint?: string } {
  const shown = JSON.stringify(value);
  if (pattern === DNS_LABEL_PATTERN) {
    return {
      message: `${shown} is not a valid name`,
      hint: 'use a lowercase DNS label: a-z, 0-9 and "-", at most 63 characters, starting and ending with a letter or digit',
    };
  }
  if (pattern === IDENTIFIER_PATTERN) {
    return {
      message: `${shown} is not a valid name`,
      hint: 'use letters, digits, "_" and "-" (no dots or spaces)',
    };
  }
  return { message: `${shown} does not match ${pattern}` };
}

function describeErrors(errors: ReducedError[]): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const seen = new Set<string>();
  for (const { error, message, hint } of errors) {
    const path = pointerSegments(error.instancePath);
    const issue = message
      ? { path, atKey: false, message: `${where(path)}${message}`, ...(hint ? { hint } : {}) }
      : describe(error, path);
    const key = `${issue.path.join('/')}\0${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

function where(path: readonly string[]): string {
  return path.length === 0 ? '' : `${displayPath(path)}: `;
}

function describe(error: ErrorObject, path: string[]): SchemaIssue {
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as SchemaLike;
  switch (error.keyword) {
    case 'additionalProperties': {
      const field = String(params.additionalProperty);
      const keyPath = [...path, field];
      const allowed = Object.keys(parent.properties ?? {});
      if (allowed.length === 0 && parent.patternProperties) {
        const patterns = Object.keys(parent.patternProperties);
        return {
          path: keyPath,
          atKey: true,
          message: `${displayPath(path)}: invalid key ${JSON.stringify(field)}`,
          hint: `keys must match ${patterns.join(' or ')}`,
        };
      }
      const near = suggest(field, allowed);
      const in_ = path.length === 0 ? '' : ` in ${displayPath(path)}`;
      return {
        path: keyPath,
        atKey: true,
        message: `unknown field ${JSON.stringify(field)}${in_}`,
        hint: near ? `did you mean \`${near}\`?` : `allowed fields: ${allowed.join(', ')}`,
      };
    }
    case 'required': {
      const field = String(params.missingProperty);
      return {
        path,
        atKey: false,
        message: `missing required field ${JSON.stringify(displayPath([...path, field]))}`,
      };
    }
    case 'type':
      return {
        path,
        atKey: false,
        message: `${where(path)}expected ${String(params.type)}, got ${typeName(error.data)}`,
        ...(params.type === 'string' && (typeof error.data === 'number' || typeof error.data === 'boolean')
          ? { hint: 'quote the value', quote: true as const }
          : {}),
      };
    case 'minLength': {
      const limit = Number(params.limit);
      return {
        path,
        atKey: false,
        message: `${where(path)}${limit <= 1 ? 'must not be empty' : `must be at least ${limit} characters`}`,
      };
    }
    case 'minItems':
      return {
        path,
        atKey: false,
        message: `${where(path)}must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}`,
      };
    case 'pattern': {
      const d = describePattern(String(params.pattern), error.data);
      return {
        path,
        atKey: false,
        message: `${where(path)}${d.message}`,
        ...(d.hint ? { hint: d.hint } : {}),
      };
    }
    case 'const':
      return {
        path,
        atKey: false,
        message: `${where(path)}must be ${JSON.stringify(params.allowedValue)}, got ${JSON.stringify(error.data)}`,
      };
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String);
      const near = typeof error.data === 'string' ? suggest(error.data, allowed) : undefined;
      return {
        path,
        atKey: false,
        message: `${where(path)}must be one of ${allowed.join(', ')}, got ${JSON.stringify(error.data)}`,
        ...(near ? { hint: `did you mean \`${near}\`?` } : {}),
      };
    }
    default:
      return { path, atKey: false, message: `${where(path)}${error.message ?? 'is invalid'}` };
  }
}
