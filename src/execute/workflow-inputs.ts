/**
 * A workflow run's inputs, checked before anything runs (DESIGN.md §6c): `--input k=v` strings
 * and `--input-file` values against the workflow's `inputs` (declared, required, type), with
 * defaults applied. Every problem is collected into one error naming the inputs.
 */
import { StigmerError } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';

export interface WorkflowInputSpec {
  type: 'string' | 'number' | 'boolean' | 'object' | 'array';
  description?: string;
  required?: boolean;
  default?: JsonValue;
}

/** Splits `k=v` flags (the value may contain `=`). */
export function parseInputFlags(flags: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) {
      throw new StigmerError('USAGE', `--input "${flag}" is not KEY=VALUE`, {
        hint: 'e.g. --input pr_url=https://github.com/o/r/pull/1',
      });
    }
    out[flag.slice(0, eq)] = flag.slice(eq + 1);
  }
  return out;
}

/**
 * The inputs of a run: `file` values (already typed, from YAML/JSON) overridden by `flags`
 * (strings, converted to the declared type), defaults for the rest.
 */
export function checkWorkflowInputs(
  workflow: string,
  declared: Record<string, WorkflowInputSpec>,
  flags: Record<string, string>,
  file: JsonObject = {},
): JsonObject {
  const problems: string[] = [];
  const out: JsonObject = {};
  const names = Object.keys(declared);
  for (const key of new Set([...Object.keys(file), ...Object.keys(flags)])) {
    if (!Object.hasOwn(declared, key)) {
      problems.push(
        `unknown input "${key}"${names.length > 0 ? ` (inputs: ${names.join(', ')})` : ' (it declares none)'}`,
      );
    }
  }
  for (const [name, spec] of Object.entries(declared)) {
    let value: JsonValue | undefined;
    if (Object.hasOwn(flags, name)) {
      const converted = fromString(flags[name]!, spec.type);
      if (converted === undefined) {
        problems.push(`input "${name}" must be ${article(spec.type)}, got "${flags[name]}"`);
        continue;
      }
      value = converted;
    } else if (Object.hasOwn(file, name)) {
      value = file[name]!;
      if (typeOf(value) !== spec.type) {
        problems.push(`input "${name}" must be ${article(spec.type)}, got ${article(typeOf(value))}`);
        continue;
      }
    } else if (spec.default !== undefined) {
      value = spec.default;
    } else if (spec.required) {
      problems.push(`missing required input "${name}"${spec.description ? ` (${spec.description})` : ''}`);
      continue;
    }
    if (value !== undefined) out[name] = value;
  }
  if (problems.length > 0) {
    throw new StigmerError('VALIDATION', `workflow "${workflow}": ${problems.join('; ')}`, {
      hint: 'give inputs as --input KEY=VALUE (repeatable) or --input-file FILE (YAML or JSON); nothing was run',
    });
  }
  return out;
}

function fromString(raw: string, type: WorkflowInputSpec['type']): JsonValue | undefined {
  switch (type) {
    case 'string':
      return raw;
    case 'number': {
      const n = raw.trim() === '' ? Number.NaN : Number(raw);
      return Number.isFinite(n) ? n : undefined;
    }
    case 'boolean':
      return raw === 'true' ? true : raw === 'false' ? false : undefined;
    case 'object':
    case 'array': {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return undefined;
      }
      return typeOf(parsed as JsonValue) === type ? (parsed as JsonValue) : undefined;
    }
  }
}

function typeOf(value: JsonValue): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}
