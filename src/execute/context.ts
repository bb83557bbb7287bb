/**
 * The execution context of a run, resolved just in time (DESIGN.md §6c): the variables and
 * decrypted secrets of its environments, for MCP servers' environments only, plus the secret
 * values to mask wherever a tool might echo them. Nothing here is stored or printed.
 */
import type { Backend } from '../backend/types.js';
import type { JsonObject } from '../types.js';

export interface RunContext {
  /** Variable name → value (secrets decrypted): what stdio and docker MCP servers get. */
  env: Record<string, string>;
  /** The plaintexts of the secret variables, for masking. */
  secrets: string[];
}

export const EMPTY_CONTEXT: RunContext = { env: {}, secrets: [] };

export async function resolveRunContext(backend: Backend, executionId: string): Promise<RunContext> {
  const context = await backend.getExecutionContext(executionId);
  const execution = await backend.getExecution(executionId);
  // Which variables are secrets: the entries the environments mark (sealed or isSecret).
  const secretNames = new Set<string>();
  for (const name of execution.environmentRefs) {
    const env = await backend.getResource('Environment', name);
    const data = env?.spec.data;
    if (!isObject(data)) continue;
    for (const [key, entry] of Object.entries(data)) {
      if (isObject(entry) && (entry.sealed !== undefined || entry.isSecret === true)) secretNames.add(key);
      else secretNames.delete(key);
    }
  }
  const secrets = Object.entries(context.data)
    .filter(([k]) => secretNames.has(k))
    .map(([, v]) => v);
  return { env: { ...context.data }, secrets };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
