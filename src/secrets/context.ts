/**
 * Decrypting an execution context on the client that runs the execution (DESIGN.md §6b). Every
 * backend — the local store and the gRPC server alike — returns secret variables sealed, as
 * stored; only the process holding the team's key (STIGMER_SECRET_KEY or master.key) opens them,
 * just in time, and never stores or prints the result.
 */
import type { ExecutionContext } from '../backend/types.js';
import type { SecretKey } from './key.js';
import { openSecret } from './seal.js';

/**
 * Every variable of the context with its secrets decrypted, in one map. `key` may be a function
 * that loads it: it is called only when the context holds a secret.
 *
 * @throws StigmerError('SECRET') when a value was sealed with another key, or was altered; the
 *   message names the variable and its Environment, never a value.
 */
export function revealExecutionContext(
  context: ExecutionContext,
  key: SecretKey | (() => SecretKey),
): Record<string, string> {
  const out: Record<string, string> = { ...context.data };
  const secrets = Object.entries(context.secrets);
  if (secrets.length === 0) return out;
  const k = typeof key === 'function' ? key() : key;
  for (const [name, variable] of secrets) {
    out[name] = openSecret(
      k,
      { kind: 'Environment', name: variable.environment, key: name },
      variable.sealed,
    );
  }
  return out;
}
