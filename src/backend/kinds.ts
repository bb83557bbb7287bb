/**
 * Turning what a user types for KIND (`agent`, `Agents`, `AGENT`, `agent-instances`) into a
 * declared kind (DESIGN.md §5: any case, singular or plural). An unknown kind fails with
 * UNKNOWN_KIND, a "did you mean" when one is close, and the list of kinds as the hint.
 */
import { distance } from 'fastest-levenshtein';
import { StigmerError } from '../errors.js';
import { DECLARED_KINDS, type DeclaredKind, KINDS, RUNTIME_KINDS } from '../types.js';

/** Lowercase, without separators: `Agent-Instances` → `agentinstances`. */
function normalize(input: string): string {
  return input
    .trim()
    .toLowerCase()
    .replace(/[-_\s.]/g, '');
}

const SPELLINGS = new Map<string, DeclaredKind>();
for (const kind of DECLARED_KINDS) {
  SPELLINGS.set(kind.toLowerCase(), kind);
  SPELLINGS.set(KINDS[kind].plural, kind);
}

const RUNTIME_SPELLINGS = new Set<string>(RUNTIME_KINDS.flatMap((k) => [k.toLowerCase(), KINDS[k].plural]));

/** The kinds a user can name, for hints: `Agent, Skill, ...`. */
export const KIND_LIST = DECLARED_KINDS.join(', ');

/**
 * Parses a KIND argument.
 *
 * @throws StigmerError('UNKNOWN_KIND') with a suggestion and the list of kinds.
 */
export function parseKind(input: string): DeclaredKind {
  const key = normalize(input);
  const found = SPELLINGS.get(key);
  if (found) return found;
  if (RUNTIME_SPELLINGS.has(key)) {
    throw new StigmerError(
      'UNKNOWN_KIND',
      `"${input}" is a runtime record, not a resource you can get by name`,
      {
        hint: `resources are ${KIND_LIST}`,
      },
    );
  }
  const suggestion = closestKind(key);
  const didYouMean = suggestion ? `; did you mean "${suggestion.toLowerCase()}"?` : '';
  throw new StigmerError('UNKNOWN_KIND', `unknown kind "${input}"${didYouMean}`, {
    hint: `kinds are ${KIND_LIST} (any case, singular or plural)`,
  });
}

/** The declared kind whose spelling is nearest to `key`, if it is near enough to be a typo. */
function closestKind(key: string): DeclaredKind | null {
  if (key === '') return null;
  let best: DeclaredKind | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const [spelling, kind] of SPELLINGS) {
    const d = distance(key, spelling);
    if (d < bestDistance) {
      bestDistance = d;
      best = kind;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}
