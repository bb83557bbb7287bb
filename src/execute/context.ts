/**
 * The execution context of a run, resolved just in time (DESIGN.md §6b, §6c): the variables and
 * decrypted secrets of its environments, for MCP servers' environments only, plus the secret
 * values to mask wherever a tool might echo them. Nothing here is stored or printed.
 *
 * Decryption happens here, on the machine running the agent: a backend that returns secret
 * variables sealed (`secrets`: name → {environment, sealed}) has them opened with the team's key;
 * one that returns them already decrypted in `data` has them recognised by the Environments'
 * entries (sealed or `isSecret`).
 */
import type { Backend, ExecutionContext } from '../backend/types.js';
import type { SecretKey } from '../secrets/key.js';
import { openSecret } from '../secrets/seal.js';
import type { JsonObject } from '../types.js';

export interface RunContext {
  /** Variable name → value (secrets decrypted): what stdio and docker MCP servers get. */
  env: Record<string, string>;
  /** The plaintexts of the secret variables, for masking. */
  secrets: string[];
}

export const EMPTY_CONTEXT: RunContext = { env: {}, secrets: [] };

/** A context whose secret variables may come sealed. */
type SealedContext = ExecutionContext & {
  secrets?: Record<string, { environment: string; sealed: { hash: string; ciphertext: string } }>;
};

export async function resolveRunContext(
  backend: Backend,
  executionId: string,
  loadKey: () => SecretKey,
): Promise<RunContext> {
  const context = (await backend.getExecutionContext(executionId)) as SealedContext;
  const env: Record<string, string> = { ...context.data };
  const secretNames = new Set<string>();
  const sealed = Object.entries(context.secrets ?? {});
  if (sealed.length > 0) {
    const key = loadKey();
    for (const [name, variable] of sealed) {
      env[name] = openSecret(
        key,
        { kind: 'Environment', name: variable.environment, key: name },
        variable.sealed,
      );
      secretNames.add(name);
    }
  }
  // Secrets a backend returned decrypted: the entries their Environments mark as secret.
  const execution = await backend.getExecution(executionId);
  for (const name of execution.environmentRefs) {
    const data = (await backend.getResource('Environment', name))?.spec.data;
    if (!isObject(data)) continue;
    for (const [key, entry] of Object.entries(data)) {
      if (isObject(entry) && (entry.sealed !== undefined || entry.isSecret === true)) secretNames.add(key);
      else if (!Object.hasOwn(context.secrets ?? {}, key)) secretNames.delete(key);
    }
  }
  const secrets = Object.entries(env)
    .filter(([k]) => secretNames.has(k))
    .map(([, v]) => v);
  return { env, secrets };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
