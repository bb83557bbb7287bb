/**
 * Secret values must never leave a run: they go only into MCP servers' environments. A tool may
 * still print one back (a server echoing its config, a stack trace), so every text that comes
 * out of a tool or a server's stderr passes through `maskSecrets` before the model, a printer,
 * the transcript or a record sees it, the way CI logs mask registered secrets.
 */
import { SENSITIVE } from '../secrets/environment.js';

/** Replaces each secret value in a text; secrets shorter than 4 characters are left alone (too common). */
export type Masker = (text: string) => string;

export function createMasker(secrets: Iterable<string>): Masker {
  const values = [...new Set([...secrets].filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  if (values.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const value of values) if (out.includes(value)) out = out.split(value).join(SENSITIVE);
    return out;
  };
}
