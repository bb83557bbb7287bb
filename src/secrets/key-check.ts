/**
 * One key per backend (DESIGN.md §6b). Every client of one store must seal with the same key:
 * a client holding another key would see every stored secret as changed and plan to rewrite
 * them all. Before planning, the sealed values a plan would compare are checked against the
 * client's key, and a difference is one clear error naming both key ids.
 */
import { StigmerError } from '../errors.js';
import type { DesiredResource, JsonObject, StoredResource } from '../types.js';
import { SECRET_KEY_ENV, type SecretKey } from './key.js';
import { sealedKeyId } from './seal.js';

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Keys of the secret entries of an Environment spec. */
function secretEntries(spec: JsonObject): string[] {
  const data = spec.data;
  if (!isObject(data)) return [];
  return Object.keys(data).filter((k) => {
    const e = data[k];
    return isObject(e) && (e.isSecret === true || e.sealed !== undefined);
  });
}

/**
 * The error to raise when a live Environment that the plan compares holds a secret sealed with
 * another key than `key`; null when every such secret was sealed with `key`.
 *
 * @param live the live resource of a (kind, name), or undefined.
 */
export function secretKeyMismatch(
  desired: Iterable<DesiredResource>,
  live: (kind: 'Environment', name: string) => StoredResource | undefined,
  key: SecretKey,
): StigmerError | null {
  const found: Array<{ name: string; keyId: string }> = [];
  for (const d of desired) {
    if (d.kind !== 'Environment') continue;
    const wanted = secretEntries(d.spec);
    if (wanted.length === 0) continue;
    const l = live('Environment', d.name);
    const data = l && isObject(l.spec.data) ? l.spec.data : undefined;
    if (!data) continue;
    for (const entry of wanted) {
      const e = data[entry];
      const sealed = isObject(e) ? e.sealed : undefined;
      if (!isObject(sealed) || typeof sealed.ciphertext !== 'string') continue;
      const keyId = sealedKeyId(sealed.ciphertext);
      if (keyId !== null && keyId !== key.keyId) {
        found.push({ name: d.name, keyId });
        break;
      }
    }
  }
  if (found.length === 0) return null;
  const first = found[0]!;
  const more =
    found.length > 1 ? ` (and ${found.length - 1} more Environment${found.length > 2 ? 's' : ''})` : '';
  return new StigmerError(
    'SECRET',
    `Environment/${first.name}${more} holds secrets sealed with key ${first.keyId}, but this client's key is ${key.keyId}`,
    {
      hint:
        `every client of one backend must seal with the same key: set ${SECRET_KEY_ENV} to the key with id ${first.keyId}; ` +
        'to rotate to this key, plan and apply with --reseal-secrets',
    },
  );
}
